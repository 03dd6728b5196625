// An xfs-like filesystem: its transactions enter a NOFS scope, so the GFP_NOFS
// written inside them is redundant. The start is the model's xfs_trans_alloc()
// and a file-local helper whose cookie goes into the transaction (as
// xfs_trans_set_context() does).

struct demo_trans {
	unsigned int t_pflags;
	void *t_buf;
};

static int demo_trans_start(struct demo_mount *mp, struct demo_trans *tp)
{
	tp->t_pflags = memalloc_nofs_save();
	return 0;
}

static void demo_trans_finish(struct demo_trans *tp)
{
	memalloc_nofs_restore(tp->t_pflags);
}

int demo_inode_update(struct demo_mount *mp, struct demo_inode *ip)
{
	struct demo_trans tp;
	int error;

	error = demo_trans_start(mp, &tp);
	if (error)
		return error;
	ip->i_ext = kmalloc(ip->i_nex * 16, GFP_NOFS);		/* report: redundant */
	tp.t_buf = kzalloc(64, GFP_NOFS | __GFP_NOFAIL);	/* report: redundant */
	demo_trans_finish(&tp);
	return 0;
}

int demo_inode_create(struct xfs_mount *mp, struct demo_inode *ip)
{
	struct xfs_trans *tp;
	int error;

	error = xfs_trans_alloc(mp, &M_RES(mp)->tr_create, 0, 0, 0, &tp);
	if (error)
		return error;
	ip->i_attr = kmalloc(128, GFP_NOFS);			/* report: redundant */
	return xfs_trans_commit(tp);
}

/* A local scope around a reclaim-sensitive section: it covers three allocations. */
void demo_inode_grow(struct demo_inode *ip, bool zero)
{
	unsigned int nofs_flag;

	nofs_flag = memalloc_nofs_save();
	ip->i_a = kmalloc(32, GFP_NOFS);			/* report: redundant */
	ip->i_b = kmalloc(32, GFP_KERNEL);
	if (zero)
		ip->i_c = kvzalloc(4096, GFP_KERNEL);
	memalloc_nofs_restore(nofs_flag);
}

/* Not a NOFS site: the OR brings __GFP_FS back, and a variable mask is not written here. */
void *demo_debug_copy(size_t n, gfp_t gfp)
{
	void *a = kzalloc(n, GFP_KERNEL | GFP_NOFS);

	return a ? a : kmalloc(n, gfp);
}
