// Inlay hint fixture: GFP_KERNEL inside a NOFS scope is effectively GFP_NOFS.
#include <linux/sched/mm.h>
#include <linux/slab.h>

static void *demo_scoped(size_t n)
{
	unsigned int flags = memalloc_nofs_save();
	void *p = kmalloc(n, GFP_KERNEL);

	memalloc_nofs_restore(flags);
	return p;
}
