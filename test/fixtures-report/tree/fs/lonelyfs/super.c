// GFP_NOFS and GFP_NOIO with no scope on any path and nothing to anchor one:
// nothing records why: unexplained.

struct demo_info *demo_alloc_inode_info(struct super_block *sb)
{
	return kmem_cache_zalloc(demo_inode_cachep, GFP_NOFS);	/* report: unexplained */
}

struct page *demo_read_page(struct demo_dev *d)
{
	return alloc_page(GFP_NOIO);				/* report: unexplained */
}
