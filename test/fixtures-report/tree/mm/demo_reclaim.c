// A scope opened on one path only: the context of the GFP_NOFS below differs
// between paths, so it is neither redundant nor unexplained: other.

void demo_shrink(struct demo_pool *pool, bool from_fs)
{
	unsigned int flags = 0;

	if (from_fs)
		flags = memalloc_nofs_save();
	pool->tmp = kmalloc(64, GFP_NOFS);			/* report: other */
	if (from_fs)
		memalloc_nofs_restore(flags);
}
