// An ext4-like helper that is handed the caller's journal handle: the caller
// may be inside the handle's NOFS scope (when the filesystem has a journal),
// so the GFP_NOFS here is neither redundant nor unexplained: other.

int demo_ext4_xattr_set(handle_t *handle, struct inode *inode, size_t len)
{
	void *buf = kmalloc(len, GFP_NOFS);			/* report: other */

	if (!buf)
		return -ENOMEM;
	demo_xattr_write(handle, inode, buf, len);
	kfree(buf);
	return 0;
}
