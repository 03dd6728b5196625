// A file outside fs/ and drivers/ with no GFP_NOFS at all: it counts as
// analysed and adds nothing to the census.

void *demo_boot_buffer(void)
{
	return kmalloc(4096, GFP_KERNEL);
}
