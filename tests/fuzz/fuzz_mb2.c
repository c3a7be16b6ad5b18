/* libFuzzer target for the multiboot2 information parser: what a boot
 * loader hands Keel, tag by tag. The input is the MBI itself, in a buffer
 * of exactly its size. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/mb2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct boot_info *b)
{
	if (b->memmap_count > BOOT_MAX_MEMMAP || b->module_count > BOOT_MAX_MODULES ||
	    b->rsdp_len > BOOT_RSDP_MAX)
		abort();
	/* Strings are always terminated inside their arrays. */
	if (!memchr(b->cmdline, 0, sizeof(b->cmdline)) ||
	    !memchr(b->loader_name, 0, sizeof(b->loader_name)))
		abort();
	for (uint32_t i = 0; i < b->module_count; i++)
		if (!memchr(b->modules[i].name, 0, sizeof(b->modules[i].name)))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info info;
	char err[128] = "";
	void *mbi = malloc(size ? size : 1); /* 8-aligned, and exact: ASan sees overreads */

	memcpy(mbi, data, size);
	if (mb2_parse(mbi, size, &info, err, sizeof(err)) == ST_OK)
		check(&info);
	else if (!err[0])
		abort();
	free(mbi);
	return 0;
}
