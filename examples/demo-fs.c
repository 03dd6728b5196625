// SPDX-License-Identifier: MIT
/*
 * A small filesystem-like file for `npx gfp-lens check` to show what it finds.
 * Written for gfp-lens, modelled on patterns seen in fs/ of Linux 6.12:
 * - a transaction start that enters a NOFS scope (xfs_trans_alloc),
 * - a sysfs helper that opens a NOFS scope and has an early return,
 * - a lock-protected cache that allocates under a spinlock,
 * - a retry loop that asks for __GFP_NOFAIL together with __GFP_NORETRY.
 */
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>

struct demo_cache {
	spinlock_t lock;
	void *slots[16];
	struct kobject *kobj;
};

/* The transaction start already makes every allocation NOFS. */
static int demo_update_inode(struct xfs_mount *mp, struct xfs_inode *ip)
{
	struct xfs_trans *tp;
	void *buf;
	int error;

	error = xfs_trans_alloc(mp, &M_RES(mp)->tr_ichange, 0, 0, 0, &tp);
	if (error)
		return error;

	buf = kmalloc(256, GFP_NOFS);
	if (!buf) {
		xfs_trans_cancel(tp);
		return -ENOMEM;
	}
	ip->i_private = buf;
	return xfs_trans_commit(tp);
}

/* The early return after the race check leaves the NOFS scope open. */
static void demo_add_kobject(struct demo_cache *cache, struct kobject *parent)
{
	unsigned int nofs_flag;
	struct kobject *kobj;

	/* kobject_add() allocates with GFP_KERNEL deep down; we may hold a transaction. */
	nofs_flag = memalloc_nofs_save();
	kobj = kzalloc(sizeof(*kobj), GFP_KERNEL);
	if (!kobj) {
		memalloc_nofs_restore(nofs_flag);
		return;
	}

	spin_lock(&cache->lock);
	if (cache->kobj) {
		spin_unlock(&cache->lock);
		kfree(kobj);
		return;
	}
	cache->kobj = kobj;
	spin_unlock(&cache->lock);

	kobject_add(kobj, parent, "demo");
	memalloc_nofs_restore(nofs_flag);
}

/* Allocating a slot while holding the cache's spinlock. */
static int demo_fill_slot(struct demo_cache *cache, int i)
{
	spin_lock(&cache->lock);
	if (!cache->slots[i])
		cache->slots[i] = kmalloc(64, GFP_KERNEL);
	spin_unlock(&cache->lock);
	return cache->slots[i] ? 0 : -ENOMEM;
}

/* NOFAIL says "never fail", NORETRY says "fail early": NOFAIL wins. */
static void *demo_alloc_forever(size_t size)
{
	return kmalloc(size, GFP_NOFS | __GFP_NOFAIL | __GFP_NORETRY);
}
