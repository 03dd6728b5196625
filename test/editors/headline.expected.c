// The headline refactor's input for the protocol and editor tests: GFP_NOFS
// after a gfs2 transaction start (gfs2 transactions enter no scope).
#include <linux/slab.h>

static int demo_gfs2_write(struct gfs2_sbd *sdp, struct demo_buf *b)
{
	unsigned int nofs_flag;
	void *p;
	int error;

	/* No reclaim recursion into the fs while the gfs2 transaction is open. */
	nofs_flag = memalloc_nofs_save();
	error = gfs2_trans_begin(sdp, RES_DINODE, 0);
	if (error) {
		memalloc_nofs_restore(nofs_flag);
		return error;
	}
	p = kzalloc(32, GFP_KERNEL | __GFP_NOFAIL);
	b->data = kmalloc(b->len, GFP_KERNEL);
	gfs2_trans_end(sdp);
	memalloc_nofs_restore(nofs_flag);
	kfree(p);
	return 0;
}
