// The headline refactor's input for the protocol and editor tests: GFP_NOFS
// after a gfs2 transaction start (gfs2 transactions enter no scope).
#include <linux/slab.h>

static int demo_gfs2_write(struct gfs2_sbd *sdp, struct demo_buf *b)
{
	void *p;
	int error;

	error = gfs2_trans_begin(sdp, RES_DINODE, 0);
	if (error)
		return error;
	p = kzalloc(32, GFP_NOFS | __GFP_NOFAIL);
	b->data = kmalloc(b->len, GFP_NOFS);
	gfs2_trans_end(sdp);
	kfree(p);
	return 0;
}
