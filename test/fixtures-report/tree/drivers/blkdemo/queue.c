// A block driver: allocations under a spinlock (under atomic, whatever the
// mask says) and a NOIO scope around a reset that makes GFP_NOIO redundant.

void demo_queue_add(struct demo_queue *q)
{
	spin_lock(&q->lock);
	q->req = kmalloc(sizeof(*q->req), GFP_NOFS);		/* report: under-atomic */
	spin_unlock(&q->lock);
}

void demo_queue_reset(struct demo_queue *q)
{
	unsigned int noio_flag;

	noio_flag = memalloc_noio_save();
	q->map = kmalloc(256, GFP_NOIO);			/* report: redundant */
	demo_hw_reset(q);
	memalloc_noio_restore(noio_flag);
}
