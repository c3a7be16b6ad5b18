/* libFuzzer target for the Linux boot-protocol loader (lb_parse, lb_load)
 * and the E820 builder: the image, initrd and command line come from a
 * guest's owner, so none of them may make the loader write outside guest
 * RAM, into the first page, or report a layout that does not fit.
 *
 * Input: byte 0 picks the case. Case 0 feeds the rest as the whole image.
 * Case 1 patches (offset, value) byte pairs into the setup header of a
 * well-formed small bzImage, then cuts the image to a length taken from the
 * input, so the fuzzer starts past the magic numbers. Case 2 reads ranges
 * for lb_e820_build. Built and run by `make fuzz` (see the README). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/linux_boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (32u << 20)
#define IMAGE_MAX 8192u
#define SETUP_SECTS 1u
#define PM_OFFSET ((SETUP_SECTS + 1u) * 512u)
#define HDR_START 0x1F1u
#define HDR_END 0x26Cu /* protocol 2.15 ends after kernel_info_offset */

static uint8_t ram[RAM_SIZE];
static uint64_t written_low, written_high; /* span the loader wrote */

static void fail_if(int bad)
{
	if (bad)
		abort();
}

static bool in_ram(uint64_t gpa, size_t len)
{
	return gpa >= LB_PAGE && gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

static void note(uint64_t gpa, size_t len)
{
	if (!len)
		return;
	if (gpa < written_low)
		written_low = gpa;
	if (gpa + len > written_high)
		written_high = gpa + len;
}

static bool ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (!in_ram(gpa, len))
		return false;
	memcpy(ram + gpa, buf, len);
	note(gpa, len);
	return true;
}

static bool ram_zero(void *ctx, uint64_t gpa, size_t len)
{
	(void)ctx;
	if (!in_ram(gpa, len))
		return false;
	memset(ram + gpa, 0, len);
	note(gpa, len);
	return true;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A bzImage as lb_parse wants it (boot protocol 2.15, 64-bit entry). */
static void template_image(uint8_t *img)
{
	memset(img, 0, IMAGE_MAX);
	img[0x1F1] = SETUP_SECTS;
	put32(img + 0x1F4, (IMAGE_MAX - PM_OFFSET) / 16); /* syssize */
	put16(img + 0x1FE, 0xAA55);
	img[0x200] = 0xEB; /* jump over the header, as the real one does */
	img[0x201] = (uint8_t)(HDR_END - 0x202);
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020F);
	img[0x211] = LB_LOADED_HIGH;
	put32(img + 0x214, 0x100000);	/* code32_start */
	put32(img + 0x22C, 0x7FFFFFFF); /* initrd_addr_max */
	put32(img + 0x230, 0x200000);	/* kernel_alignment */
	img[0x234] = 1;			/* relocatable */
	put16(img + 0x236, LB_XLF_KERNEL_64);
	put32(img + 0x238, 2048);      /* cmdline_size */
	put32(img + 0x258, 0x1000000); /* pref_address, low half */
	put32(img + 0x260, 0x20000);   /* init_size */
}

static void check_result(const struct lb_result *r, size_t initrd_len)
{
	fail_if(r->boot_params != LB_BOOT_PARAMS);
	fail_if(r->kernel_start < LB_KERNEL_MIN || r->kernel_end > RAM_SIZE);
	fail_if(r->kernel_end <= r->kernel_start);
	if (initrd_len) {
		fail_if(r->initrd_end - r->initrd_start != initrd_len);
		fail_if(r->initrd_end > RAM_SIZE || r->initrd_start < LB_KERNEL_MIN);
		fail_if(r->initrd_start < r->kernel_end && r->initrd_end > r->kernel_start);
	}
	fail_if(written_low < LB_PAGE || written_high > RAM_SIZE);
}

static void load(const uint8_t *img, size_t len, const uint8_t *rest, size_t nrest)
{
	static const struct lb_range reserved[] = {{0xFEC00000, 0x1000}, {0xFEE00000, 0x1000}};
	struct lb_mem mem = {NULL, RAM_SIZE, ram_write, ram_zero, NULL, 0};
	struct lb_platform plat = {0xE0000, reserved, 2};
	struct lb_header h;
	struct lb_result r;
	char why[160] = "";
	char cmdline[64];
	size_t n = nrest < sizeof(cmdline) - 1 ? nrest : sizeof(cmdline) - 1;
	status_t st = lb_parse(img, len, &h, why, sizeof(why));

	if (st != ST_OK) {
		fail_if(!why[0]);
		fail_if(st != ST_EINVAL && st != ST_ENOTSUP && st != ST_ETRUNC);
		return;
	}
	fail_if(h.pm_offset > len || h.pm_size > len - h.pm_offset);
	memcpy(cmdline, rest, n);
	cmdline[n] = '\0';
	written_low = UINT64_MAX;
	written_high = 0;
	why[0] = '\0';
	st = lb_load(img, len, rest, nrest, cmdline, &mem, &plat, &r, why, sizeof(why));
	if (st != ST_OK) {
		fail_if(!why[0]);
		return;
	}
	check_result(&r, nrest);
}

static void patched(const uint8_t *data, size_t size)
{
	static uint8_t img[IMAGE_MAX];
	size_t len = IMAGE_MAX, i = 0;
	uint8_t *cut;

	template_image(img);
	if (size >= 2) {
		len = ((size_t)data[0] | (size_t)data[1] << 8) % (IMAGE_MAX + 1);
		i = 2;
	}
	for (; i + 1 < size && i < 2 + 2 * 32; i += 2)
		img[HDR_START + data[i] % (HDR_END - HDR_START)] = data[i + 1];
	cut = malloc(len ? len : 1); /* exact size: ASan sees overreads */
	memcpy(cut, img, len);
	load(cut, len, data + i, size - i);
	free(cut);
}

static void e820(const uint8_t *data, size_t size)
{
	struct lb_range ranges[8];
	struct lb_e820 out[LB_E820_MAX];
	unsigned n = (unsigned)(size / 16 < 8 ? size / 16 : 8), nram = n / 2, count = 0;
	char why[160] = "";

	for (unsigned i = 0; i < n; i++) {
		memcpy(&ranges[i].base, data + 16 * i, 8);
		memcpy(&ranges[i].len, data + 16 * i + 8, 8);
	}
	if (lb_e820_build(ranges, nram, ranges + nram, n - nram, out, LB_E820_MAX, &count, why,
			  sizeof(why)) != ST_OK) {
		fail_if(!why[0]);
		return;
	}
	fail_if(count > LB_E820_MAX);
	for (unsigned i = 0; i < count; i++) {
		fail_if(!out[i].size || out[i].addr + out[i].size < out[i].addr);
		fail_if(out[i].type != LB_E820_RAM && out[i].type != LB_E820_RESERVED);
		/* sorted, and no two entries overlap */
		fail_if(i && out[i].addr < out[i - 1].addr + out[i - 1].size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		uint8_t *img =
		    malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees overreads */

		memcpy(img, data + 1, size - 1);
		load(img, size - 1, NULL, 0);
		free(img);
		break;
	}
	case 1:
		patched(data + 1, size - 1);
		break;
	default:
		e820(data + 1, size - 1);
		break;
	}
	return 0;
}
