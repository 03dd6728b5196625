// A gfs2-like filesystem: its transactions enter no scope, so the GFP_NOFS
// inside them is its only protection, and the transaction start is where a
// memalloc_nofs_save() belongs: convertible. One site is anchored by a mutex
// instead (no transaction dominates it).

int demo_gfs2_write(struct gfs2_sbd *sdp, struct demo_buf *b)
{
	void *p;
	int error;

	error = gfs2_trans_begin(sdp, RES_DINODE, 0);
	if (error)
		return error;
	p = kzalloc(32, GFP_NOFS | __GFP_NOFAIL);		/* report: convertible */
	b->data = kmalloc(b->len, GFP_NOFS);			/* report: convertible */
	gfs2_trans_end(sdp);
	kfree(p);
	return 0;
}

int demo_gfs2_rgrp(struct demo_sbd *sdp, size_t n)
{
	void *buf;

	mutex_lock(&sdp->sd_rindex_mutex);
	buf = kcalloc(n, 8, GFP_NOFS);				/* report: convertible */
	if (!buf) {
		mutex_unlock(&sdp->sd_rindex_mutex);
		return -ENOMEM;
	}
	sdp->sd_rgrps = buf;
	mutex_unlock(&sdp->sd_rindex_mutex);
	return 0;
}
