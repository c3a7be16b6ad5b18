/* Unit tests for the Linux boot protocol loader. bzImages are assembled in
 * a buffer with the setup header fields at their boot.rst offsets and a
 * patterned protected-mode kernel; guest RAM is a malloc'd array behind
 * bounds-checking callbacks, pre-filled with 0xAA so that written, zeroed
 * and untouched bytes can be told apart. Expected offsets, descriptor bits
 * and page-table formats are from boot.rst, zero-page.rst and the Intel
 * SDM, not from the loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/linux_boot.h"

#define KIB 0x400u
#define MIB 0x100000u
#define GIB 0x40000000ull
#define RAM_SIZE (128 * MIB) /* default VM size and backing */
#define FILL 0xAA
#define IMG_CAP 0x20000u

/* Setup header (boot.rst, "The real-mode kernel header"). */
#define H_SETUP_SECTS 0x1F1
#define H_ROOT_FLAGS 0x1F2
#define H_SYSSIZE 0x1F4
#define H_VID_MODE 0x1FA
#define H_BOOT_FLAG 0x1FE
#define H_JUMP 0x200
#define H_HEADER 0x202
#define H_VERSION 0x206
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_CODE32_START 0x214
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21C
#define H_HEAP_END_PTR 0x224
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_ADDR_MAX 0x22C
#define H_KERNEL_ALIGNMENT 0x230
#define H_RELOCATABLE 0x234
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_SETUP_DATA 0x250
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
#define H_KERNEL_INFO_OFFSET 0x268
#define H_END 0x26C /* protocol 2.15 header end: 0x202 + 0x6A */

#define LF_LOADED_HIGH 0x01
#define LF_QUIET 0x20
#define LF_KEEP_SEGMENTS 0x40
#define LF_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x1
#define XLF_ABOVE_4G 0x2

/* boot_params (zero-page.rst). */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_E820_ENTRY 20
#define BP_HDR_END 0x290

/* The test kernel: Debian-like fields. */
#define PREF 0x1000000u /* 16 MiB */
#define ALIGN 0x200000u
#define INIT_SIZE 0x500000u
#define SETUP_SECTS 0x1E
#define PM_LEN 0x3000u
#define TRAILER 0x100u /* bytes past syssize, like an appended signature */
#define RSDP 0xE0000u

struct fake_ram {
	uint8_t *buf;
	uint64_t size; /* guest RAM the callbacks accept (= bytes of buf) */
	unsigned writes, zeros, oob;
	bool fail_writes;
	bool fail_zeros;
	uint64_t fail_gpa; /* nonzero: a write starting here reports failure */
};

static struct fake_ram ram;
static struct lb_mem mem;
static struct lb_result res;
static uint8_t img[IMG_CAP];
static size_t img_len;
static char why[256];

static const struct lb_range plat_res[3] = {
    {0xFEE00000u, 0x1000},	/* LAPIC: given out of order on purpose */
    {0xE0000000u, 0x10000000u}, /* PCI ECAM */
    {0xFEC00000u, 0x1000},	/* IOAPIC */
};
static struct lb_platform plat;

/* ---- fake guest RAM ---- */

static bool in_ram(uint64_t gpa, size_t len)
{
	return gpa <= ram.size && len <= ram.size - gpa;
}

static bool fake_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	assert_ptr_equal(ctx, &ram);
	if (ram.fail_writes || (ram.fail_gpa && gpa == ram.fail_gpa))
		return false;
	if (!in_ram(gpa, len)) {
		ram.oob++;
		return false;
	}
	ram.writes++;
	memcpy(ram.buf + gpa, buf, len);
	return true;
}

static bool fake_zero(void *ctx, uint64_t gpa, size_t len)
{
	assert_ptr_equal(ctx, &ram);
	if (ram.fail_zeros)
		return false;
	if (!in_ram(gpa, len)) {
		ram.oob++;
		return false;
	}
	ram.zeros++;
	memset(ram.buf + gpa, 0, len);
	return true;
}

static int group_setup(void **state)
{
	(void)state;
	ram.buf = malloc(RAM_SIZE);
	return ram.buf ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(ram.buf);
	return 0;
}

static uint8_t pat(size_t j)
{
	return (uint8_t)(j * 7 + 3);
}

static void w16(size_t off, uint16_t v)
{
	memcpy(img + off, &v, 2);
}

static void w32(size_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static void w64(size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static size_t pm_off(void)
{
	return (SETUP_SECTS + 1) * 512u;
}

/* A protocol 2.15 bzImage: SETUP_SECTS setup sectors, then PM_LEN pattern
 * bytes of kernel (syssize PM_LEN / 16), then TRAILER bytes of 0xEE. */
static void build_image(void)
{
	memset(img, 0, sizeof(img));
	img[H_SETUP_SECTS] = SETUP_SECTS;
	w16(H_ROOT_FLAGS, 0x1234); /* a marker: copied as is */
	w32(H_SYSSIZE, PM_LEN / 16);
	w16(H_VID_MODE, 0x0300);
	w16(H_BOOT_FLAG, 0xAA55);
	img[H_JUMP] = 0xEB;
	img[H_JUMP + 1] = H_END - 0x202;
	memcpy(img + H_HEADER, "HdrS", 4);
	w16(H_VERSION, 0x020F);
	img[H_LOADFLAGS] = LF_LOADED_HIGH;
	w32(H_CODE32_START, MIB);
	w32(H_INITRD_ADDR_MAX, 0x7FFFFFFF);
	w32(H_KERNEL_ALIGNMENT, ALIGN);
	img[H_RELOCATABLE] = 1;
	w16(H_XLOADFLAGS, XLF_KERNEL_64 | XLF_ABOVE_4G);
	w32(H_CMDLINE_SIZE, 2047);
	w64(H_PREF_ADDRESS, PREF);
	w32(H_INIT_SIZE, INIT_SIZE);
	w32(H_KERNEL_INFO_OFFSET, 0xC0FFEE);
	memset(img + H_END, 0xCC, 0x400 - H_END); /* setup code after the header */
	for (size_t j = 0; j < PM_LEN; j++)
		img[pm_off() + j] = pat(j);
	memset(img + pm_off() + PM_LEN, 0xEE, TRAILER);
	img_len = pm_off() + PM_LEN + TRAILER;
}

static void set_ram_size(uint64_t size)
{
	assert_true(size <= RAM_SIZE);
	ram.size = size;
	mem.ram_size = size;
}

static int setup(void **state)
{
	uint8_t *buf = ram.buf;

	(void)state;
	ram = (struct fake_ram){.buf = buf};
	memset(ram.buf, FILL, RAM_SIZE);
	mem = (struct lb_mem){.ctx = &ram, .write = fake_write, .zero = fake_zero};
	set_ram_size(RAM_SIZE);
	plat = (struct lb_platform){.rsdp = RSDP, .reserved = plat_res, .nreserved = 3};
	memset(&res, 0, sizeof(res));
	memset(why, 0, sizeof(why));
	build_image();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(ram.oob, 0);
	return 0;
}

static uint8_t rd8(uint64_t gpa)
{
	assert_true(gpa < ram.size);
	return ram.buf[gpa];
}

static uint16_t rd16(uint64_t gpa)
{
	uint16_t v;

	assert_true(gpa + 2 <= ram.size);
	memcpy(&v, ram.buf + gpa, 2);
	return v;
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v;

	assert_true(gpa + 4 <= ram.size);
	memcpy(&v, ram.buf + gpa, 4);
	return v;
}

static uint64_t rd64(uint64_t gpa)
{
	uint64_t v;

	assert_true(gpa + 8 <= ram.size);
	memcpy(&v, ram.buf + gpa, 8);
	return v;
}

static const char *rdstr(uint64_t gpa)
{
	assert_true(gpa < ram.size);
	assert_non_null(memchr(ram.buf + gpa, 0, ram.size - gpa));
	return (const char *)ram.buf + gpa;
}

/* Compares a block at a time: refusals scan all of RAM. */
static bool ram_all(uint64_t gpa, uint64_t len, uint8_t v)
{
	uint8_t block[4096];

	assert_true(gpa <= ram.size && len <= RAM_SIZE - gpa);
	memset(block, v, sizeof(block));
	while (len) {
		size_t n = len < sizeof(block) ? (size_t)len : sizeof(block);

		if (memcmp(ram.buf + gpa, block, n))
			return false;
		gpa += n;
		len -= n;
	}
	return true;
}

static status_t load_rd(const uint8_t *rd, size_t rdlen, const char *cmd)
{
	return lb_load(img, img_len, rd, rdlen, cmd, &mem, &plat, &res, why, sizeof(why));
}

static status_t load(const char *cmd)
{
	return load_rd(NULL, 0, cmd);
}

static void expect_phrase(const char *phrase)
{
	if (!strstr(why, phrase))
		fail_msg("message \"%s\" lacks \"%s\"", why, phrase);
}

/* A refused load: status, a phrase of the message, guest RAM untouched. */
static void expect_refused(const uint8_t *rd, size_t rdlen, const char *cmd, status_t st,
			   const char *phrase)
{
	assert_int_equal(load_rd(rd, rdlen, cmd), st);
	expect_phrase(phrase);
	assert_int_equal(ram.writes, 0);
	assert_int_equal(ram.zeros, 0);
	assert_true(ram_all(0, RAM_SIZE, FILL));
}

static void expect_fail(status_t st, const char *phrase)
{
	expect_refused(NULL, 0, "", st, phrase);
}

static uint8_t *patterned(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed + (i >> 12));
	return p;
}

/* ---- lb_parse ---- */

static void test_parse_fields(void **state)
{
	struct lb_header h;

	(void)state;
	assert_int_equal(lb_parse(img, img_len, &h, why, sizeof(why)), ST_OK);
	assert_string_equal(why, "");
	assert_int_equal(h.version, 0x020F);
	assert_int_equal(h.setup_sects, SETUP_SECTS);
	assert_int_equal(h.loadflags, LF_LOADED_HIGH);
	assert_int_equal(h.syssize, PM_LEN / 16);
	assert_int_equal(h.code32_start, MIB);
	assert_int_equal(h.initrd_addr_max, 0x7FFFFFFF);
	assert_int_equal(h.kernel_alignment, ALIGN);
	assert_true(h.relocatable);
	assert_int_equal(h.xloadflags, XLF_KERNEL_64 | XLF_ABOVE_4G);
	assert_int_equal(h.cmdline_size, 2047);
	assert_int_equal(h.pref_address, PREF);
	assert_int_equal(h.init_size, INIT_SIZE);
	assert_int_equal(h.hdr_end, H_END);
	assert_int_equal(h.pm_offset, pm_off());
	assert_int_equal(h.pm_size, PM_LEN);
}

/* setup_sects 0 means 4: the kernel starts at 5 * 512. */
static void test_parse_setup_sects_zero(void **state)
{
	struct lb_header h;

	(void)state;
	img[H_SETUP_SECTS] = 0;
	assert_int_equal(lb_parse(img, 5 * 512 + PM_LEN, &h, why, sizeof(why)), ST_OK);
	assert_int_equal(h.setup_sects, 4);
	assert_int_equal(h.pm_offset, 5 * 512);
}

static void parse_fails(size_t len, status_t st, const char *phrase)
{
	struct lb_header h;

	assert_int_equal(lb_parse(img, len, &h, why, sizeof(why)), st);
	expect_phrase(phrase);
}

static void test_parse_too_short(void **state)
{
	(void)state;
	parse_fails(0x100, ST_ETRUNC, "image is 0x100 bytes, too short");
	parse_fails(0x207, ST_ETRUNC, "too short for a bzImage header");
	img_len = 0x207;
	expect_fail(ST_ETRUNC, "image is 0x207 bytes, too short");
}

static void test_no_boot_flag(void **state)
{
	(void)state;
	w16(H_BOOT_FLAG, 0x55AA);
	expect_fail(ST_EINVAL, "no boot flag 0xaa55 at offset 0x1fe (found 0x55aa)");
}

static void test_no_hdrs(void **state)
{
	(void)state;
	memcpy(img + H_HEADER, "HdrT", 4);
	expect_fail(ST_EINVAL, "no \"HdrS\" signature");
}

static void test_old_protocol(void **state)
{
	(void)state;
	w16(H_VERSION, 0x020B);
	expect_fail(ST_ENOTSUP, "boot protocol 2.11 is older than 2.12");
	w16(H_VERSION, 0x0100);
	expect_fail(ST_ENOTSUP, "boot protocol 1.00 is older than 2.12");
	w16(H_VERSION, 0x020C);
	assert_int_equal(load(""), ST_OK);
}

static void test_no_loaded_high(void **state)
{
	(void)state;
	img[H_LOADFLAGS] = LF_CAN_USE_HEAP;
	expect_fail(ST_ENOTSUP, "loadflags 0x80 lack LOADED_HIGH");
}

/* setup_sects pointing at or past the end of the file. */
static void test_setup_past_end(void **state)
{
	(void)state;
	img[H_SETUP_SECTS] = 0xFF; /* kernel would start at 0x20000 */
	expect_fail(ST_ETRUNC, "setup is 255 sectors, so the kernel starts at 0x20000");
	build_image();
	img_len = pm_off(); /* nothing after the setup */
	expect_fail(ST_ETRUNC, "but the image is only 0x3e00 bytes");
}

static void test_kernel_truncated(void **state)
{
	(void)state;
	img_len = pm_off() + PM_LEN - 1;
	expect_fail(ST_ETRUNC, "the kernel is 0x3000 bytes (syssize) from offset 0x3e00");
	build_image();
	w32(H_SYSSIZE, 0xFFFFFFFFu);
	expect_fail(ST_ETRUNC, "(syssize)");
	w32(H_SYSSIZE, 0);
	expect_fail(ST_EINVAL, "syssize is 0");
}

static void test_bad_jump(void **state)
{
	(void)state;
	img[H_JUMP] = 0xE9;
	expect_fail(ST_EINVAL, "no short jump (0xeb) at offset 0x200 (found 0xe9)");
	img[H_JUMP] = 0xEB;
	img[H_JUMP + 1] = 0x61; /* header would end at 0x263, inside init_size */
	expect_fail(ST_EINVAL, "setup header ends at 0x263");
	img[H_JUMP + 1] = 0xF0; /* negative */
	expect_fail(ST_EINVAL, "setup header ends at 0x1f2");
}

static void test_bad_alignment(void **state)
{
	(void)state;
	w32(H_KERNEL_ALIGNMENT, 0x300000);
	expect_fail(ST_EINVAL, "kernel_alignment 0x300000 is not a power of two");
	w32(H_KERNEL_ALIGNMENT, 0);
	expect_fail(ST_EINVAL, "kernel_alignment 0x0");
	/* a non-relocatable kernel's alignment is not used */
	img[H_RELOCATABLE] = 0;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.entry32, PREF);
}

static void test_init_size_below_kernel(void **state)
{
	(void)state;
	w32(H_INIT_SIZE, PM_LEN - 16);
	expect_fail(ST_EINVAL, "init_size 0x2ff0 is smaller than the 0x3000-byte kernel");
}

/* ---- a valid load ---- */

static void test_load_kernel(void **state)
{
	(void)state;
	assert_int_equal(load("console=ttyS0"), ST_OK);
	assert_string_equal(why, "");
	assert_int_equal(res.entry32, PREF);
	assert_true(res.has_entry64);
	assert_int_equal(res.entry64, PREF + 0x200);
	assert_int_equal(res.kernel_start, PREF);
	assert_int_equal(res.kernel_end, PREF + INIT_SIZE);
	assert_int_equal(res.boot_params, LB_BOOT_PARAMS);
	assert_memory_equal(ram.buf + PREF, img + pm_off(), PM_LEN);
	/* neither the trailer nor the rest of init_size is written */
	assert_true(ram_all(PREF + PM_LEN, INIT_SIZE - PM_LEN, FILL));
	assert_int_equal(ram.buf[PREF - 1], FILL);
}

static void test_boot_params(void **state)
{
	const uint64_t bp = LB_BOOT_PARAMS;

	(void)state;
	img[H_LOADFLAGS] = LF_LOADED_HIGH | LF_QUIET | LF_KEEP_SEGMENTS | LF_CAN_USE_HEAP;
	w16(H_HEAP_END_PTR, 0x9000);
	w64(H_SETUP_DATA, 0x123456);
	assert_int_equal(load("root=/dev/vda ro"), ST_OK);
	/* the header copied from the image */
	assert_memory_equal(ram.buf + bp + H_HEADER, "HdrS", 4);
	assert_int_equal(rd16(bp + H_VERSION), 0x020F);
	assert_int_equal(rd16(bp + H_ROOT_FLAGS), 0x1234);
	assert_int_equal(rd8(bp + H_SETUP_SECTS), SETUP_SECTS);
	assert_int_equal(rd32(bp + H_INIT_SIZE), INIT_SIZE);
	assert_int_equal(rd32(bp + H_KERNEL_INFO_OFFSET), 0xC0FFEE);
	assert_int_equal(rd16(bp + H_XLOADFLAGS), XLF_KERNEL_64 | XLF_ABOVE_4G);
	/* ... and not past its end, nor the setup code after it */
	assert_true(ram_all(bp + H_END, BP_HDR_END - H_END, 0));
	/* the fields the loader owns */
	assert_int_equal(rd8(bp + H_TYPE_OF_LOADER), 0xFF);
	assert_int_equal(rd8(bp + H_LOADFLAGS), LF_LOADED_HIGH | LF_QUIET);
	assert_int_equal(rd16(bp + H_VID_MODE), 0xFFFF);
	assert_int_equal(rd16(bp + H_HEAP_END_PTR), 0);
	assert_int_equal(rd64(bp + H_SETUP_DATA), 0);
	assert_int_equal(rd32(bp + H_CODE32_START), PREF);
	assert_string_equal(rdstr(rd32(bp + H_CMD_LINE_PTR)), "root=/dev/vda ro");
	assert_int_equal(rd32(bp + H_CMD_LINE_PTR), res.cmdline);
	assert_int_equal(rd32(bp + BP_EXT_CMD_LINE_PTR), 0);
	assert_int_equal(rd64(bp + BP_ACPI_RSDP), RSDP);
	/* no initrd */
	assert_int_equal(rd32(bp + H_RAMDISK_IMAGE), 0);
	assert_int_equal(rd32(bp + H_RAMDISK_SIZE), 0);
	assert_int_equal(rd32(bp + BP_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(rd32(bp + BP_EXT_RAMDISK_SIZE), 0);
	assert_int_equal(res.initrd_start, 0);
	assert_int_equal(res.initrd_end, 0);
	/* the rest of the page is zero: e.g. screen_info and the sentinel */
	assert_true(ram_all(bp, BP_ACPI_RSDP, 0));
	assert_int_equal(rd8(bp + 0x1EF), 0);
	assert_true(ram_all(bp + 0xCD0, 0x1000 - 0xCD0, 0));
	/* the low-memory pieces stay in [4 KiB, 0x9D000) and off 1 MiB */
	assert_true(res.boot_params >= 0x1000 && res.boot_params + 0x1000 <= 0x9D000);
	assert_true(res.cmdline >= 0x1000 && res.cmdline + 2048 <= 0x9D000);
}

/* E820 entry i of the zero page. */
static void expect_e820(unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	uint64_t e = LB_BOOT_PARAMS + BP_E820_TABLE + i * BP_E820_ENTRY;

	assert_int_equal(rd64(e), addr);
	assert_int_equal(rd64(e + 8), size);
	assert_int_equal(rd32(e + 16), type);
}

static void test_boot_params_e820(void **state)
{
	(void)state;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(rd8(LB_BOOT_PARAMS + BP_E820_ENTRIES), 6);
	expect_e820(0, 0, 0xA0000, 1);
	expect_e820(1, 0xA0000, 0x60000, 2);
	expect_e820(2, MIB, RAM_SIZE - MIB, 1);
	expect_e820(3, 0xE0000000u, 0x10000000u, 2);
	expect_e820(4, 0xFEC00000u, 0x1000, 2);
	expect_e820(5, 0xFEE00000u, 0x1000, 2);
	assert_true(ram_all(LB_BOOT_PARAMS + BP_E820_TABLE + 6 * BP_E820_ENTRY, BP_E820_ENTRY, 0));
}

/* A 5 GiB VM as Keel lays it out: 3 GiB at 0 (the loader writes only its
 * low part here, which the fake backs), 2 GiB from 4 GiB. */
static void test_boot_params_e820_5gib(void **state)
{
	const struct lb_range high = {4 * GIB, 2 * GIB};

	(void)state;
	mem.ram_size = 3 * GIB;
	mem.high = &high;
	mem.nhigh = 1;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(rd8(LB_BOOT_PARAMS + BP_E820_ENTRIES), 7);
	expect_e820(0, 0, 0xA0000, 1);
	expect_e820(1, 0xA0000, 0x60000, 2);
	expect_e820(2, MIB, 3 * GIB - MIB, 1);
	expect_e820(3, 0xE0000000u, 0x10000000u, 2);
	expect_e820(4, 0xFEC00000u, 0x1000, 2);
	expect_e820(5, 0xFEE00000u, 0x1000, 2);
	expect_e820(6, 4 * GIB, 2 * GIB, 1);
	assert_true(ram_all(LB_BOOT_PARAMS + BP_E820_TABLE + 7 * BP_E820_ENTRY, BP_E820_ENTRY, 0));
}

static void test_high_ram_refused(void **state)
{
	const struct lb_range low = {RAM_SIZE - 0x1000, 0x2000}; /* overlaps RAM at 0 */
	const struct lb_range ecam = {0xE0000000u, 0x1000};	 /* overlaps reserved */
	const struct lb_range empty = {4 * GIB, 0};
	const struct lb_range wraps = {UINT64_MAX - 0xFFF, 0x2000};
	struct lb_range many[LB_HIGH_MAX + 1];

	(void)state;
	mem.nhigh = 1;
	mem.high = &low;
	expect_fail(ST_EINVAL, "overlaps");
	mem.high = &ecam;
	expect_fail(ST_EINVAL, "overlaps");
	mem.high = &empty;
	expect_fail(ST_EINVAL, "E820");
	mem.high = &wraps;
	expect_fail(ST_EINVAL, "E820");
	for (unsigned i = 0; i <= LB_HIGH_MAX; i++)
		many[i] = (struct lb_range){(4 + (uint64_t)i) * GIB, GIB};
	mem.high = many;
	mem.nhigh = LB_HIGH_MAX + 1;
	expect_fail(ST_EINVAL, "5 high RAM ranges, at most 4");
	mem.high = NULL;
	mem.nhigh = 1;
	expect_fail(ST_EINVAL, "NULL argument");
	/* the most it takes, alongside the most reserved ranges */
	mem.high = many;
	mem.nhigh = LB_HIGH_MAX;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(rd8(LB_BOOT_PARAMS + BP_E820_ENTRIES), 6 + LB_HIGH_MAX);
	expect_e820(6 + LB_HIGH_MAX - 1, (4 + LB_HIGH_MAX - 1) * GIB, GIB, 1);
}

static uint64_t gdt_base(uint64_t d)
{
	return ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
}

static uint64_t gdt_limit(uint64_t d)
{
	return (d & 0xFFFF) | (((d >> 48) & 0xF) << 16);
}

/* Access byte: P(7) DPL(6:5) S(4) type(3:0); flags: G(3) D/B(2) L(1). */
static void expect_seg(uint64_t d, bool code, unsigned flags)
{
	unsigned access = (unsigned)(d >> 40) & 0xFF;

	assert_int_equal(gdt_base(d), 0);
	assert_int_equal(gdt_limit(d), 0xFFFFF);
	assert_int_equal((d >> 52) & 0xF, flags);
	assert_int_equal(access & 0xF0, 0x90); /* present, DPL 0, code/data */
	assert_int_equal(!!(access & 0x8), code);
	assert_int_equal(access & 0x4, 0);   /* not conforming / not expand-down */
	assert_int_equal(access & 0x2, 0x2); /* readable code / writable data */
}

static void test_gdts(void **state)
{
	(void)state;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.gdt_limit, 4 * 8 - 1);
	assert_int_equal(rd64(res.gdt_base), 0);
	assert_int_equal(rd64(res.gdt_base + 8), 0);
	expect_seg(rd64(res.gdt_base + 0x10), true, 0xC);  /* __BOOT_CS: G, D */
	expect_seg(rd64(res.gdt_base + 0x18), false, 0xC); /* __BOOT_DS: G, B */
	assert_int_equal(rd64(res.gdt64_base), 0);
	expect_seg(rd64(res.gdt64_base + 0x10), true, 0xA); /* G, L */
	expect_seg(rd64(res.gdt64_base + 0x18), false, 0xC);
	assert_true(res.gdt64_base >= res.gdt_base + 32 || res.gdt64_base + 32 <= res.gdt_base);
	assert_int_equal(LB_BOOT_CS, 0x10);
	assert_int_equal(LB_BOOT_DS, 0x18);
}

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define PDE_2M_ADDR 0x000FFFFFFFE00000ull

/* Walks the 4-level tables at cr3 for va; false when not mapped writable
 * through 2 MiB pages. */
static bool walk(uint64_t cr3, uint64_t va, uint64_t *pa)
{
	uint64_t e = rd64(cr3 + ((va >> 39) & 511) * 8);

	if ((e & (PTE_P | PTE_RW)) != (PTE_P | PTE_RW))
		return false;
	e = rd64((e & PTE_ADDR) + ((va >> 30) & 511) * 8);
	if ((e & (PTE_P | PTE_RW | PTE_PS)) != (PTE_P | PTE_RW))
		return false;
	e = rd64((e & PTE_ADDR) + ((va >> 21) & 511) * 8);
	if ((e & (PTE_P | PTE_RW | PTE_PS)) != (PTE_P | PTE_RW | PTE_PS))
		return false;
	*pa = (e & PDE_2M_ADDR) | (va & 0x1FFFFF);
	return true;
}

static void test_page_tables(void **state)
{
	uint64_t pa;

	(void)state;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.cr3 & 0xFFF, 0);
	for (uint64_t va = 0; va < 4 * GIB; va += 2 * MIB) {
		assert_true(walk(res.cr3, va, &pa));
		assert_int_equal(pa, va);
	}
	assert_true(walk(res.cr3, 0x12345678, &pa));
	assert_int_equal(pa, 0x12345678);
	assert_true(walk(res.cr3, 0xFFFFFFFFu, &pa));
	assert_int_equal(pa, 0xFFFFFFFFu);
	assert_false(walk(res.cr3, 4 * GIB, &pa));
	assert_false(walk(res.cr3, 1ull << 39, &pa));
	/* the tables themselves lie in low memory, below the decompressor's area */
	assert_true(res.cr3 >= 0x1000 && res.cr3 < 0x9D000);
}

static void test_null_cmdline(void **state)
{
	(void)state;
	assert_int_equal(load(NULL), ST_OK);
	assert_string_equal(rdstr(rd32(LB_BOOT_PARAMS + H_CMD_LINE_PTR)), "");
}

static void test_no_entry64(void **state)
{
	(void)state;
	w16(H_XLOADFLAGS, 0);
	assert_int_equal(load(""), ST_OK);
	assert_false(res.has_entry64);
	assert_int_equal(res.entry32, PREF);
}

/* A relocatable kernel is moved up to kernel_alignment; a non-relocatable
 * one goes at pref_address as it is. */
static void test_load_address(void **state)
{
	(void)state;
	w64(H_PREF_ADDRESS, PREF + 0x1000);
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.entry32, PREF + ALIGN);
	assert_int_equal(rd32(LB_BOOT_PARAMS + H_CODE32_START), PREF + ALIGN);
	assert_memory_equal(ram.buf + PREF + ALIGN, img + pm_off(), PM_LEN);

	img[H_RELOCATABLE] = 0;
	w64(H_PREF_ADDRESS, 3 * MIB + 0x1000);
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.entry32, 3 * MIB + 0x1000);
	assert_int_equal(res.kernel_end, 3 * MIB + 0x1000 + INIT_SIZE);

	w64(H_PREF_ADDRESS, 0); /* none given: the traditional 1 MiB */
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.entry32, MIB);
}

static void test_load_below_1mib(void **state)
{
	(void)state;
	img[H_RELOCATABLE] = 0;
	w64(H_PREF_ADDRESS, 0x80000);
	expect_fail(ST_ERANGE, "kernel load address 0x80000 lies below 1 MiB");
	w64(H_PREF_ADDRESS, 0x100000000ull + ALIGN);
	expect_fail(ST_ERANGE, "pref_address 0x100200000 lies above 4 GiB");
}

/* The brief's case: 80 MiB of init_size from 16 MiB fits in 128 MiB, not in
 * 64 MiB. */
static void test_init_size_vs_ram(void **state)
{
	(void)state;
	w32(H_INIT_SIZE, 80 * MIB);
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(res.kernel_end, PREF + 80 * MIB);

	memset(ram.buf, FILL, RAM_SIZE);
	ram.writes = ram.zeros = 0;
	set_ram_size(64 * MIB);
	expect_fail(
	    ST_ENOMEM,
	    "the kernel needs 80 MiB of RAM from 0x1000000 (96 MiB in all), the VM has 64 MiB");
}

/* ---- the command line ---- */

static void test_cmdline_limit(void **state)
{
	char *cmd = malloc(2049);

	(void)state;
	assert_non_null(cmd);
	memset(cmd, 'c', 2048);
	cmd[2048] = '\0';
	expect_refused(NULL, 0, cmd, ST_ERANGE,
		       "command line is 2048 bytes, the kernel accepts at most 2047");
	cmd[2047] = '\0'; /* exactly cmdline_size characters: accepted whole */
	assert_int_equal(load(cmd), ST_OK);
	assert_int_equal(strlen(rdstr(res.cmdline)), 2047);
	free(cmd);
}

static void test_cmdline_area_limit(void **state)
{
	size_t area = LB_CMDLINE_END - LB_CMDLINE;
	char *cmd = malloc(area + 1);

	(void)state;
	assert_non_null(cmd);
	w32(H_CMDLINE_SIZE, 0x100000);
	memset(cmd, 'x', area);
	cmd[area] = '\0';
	expect_refused(NULL, 0, cmd, ST_ERANGE, "Keel's command line area holds");
	cmd[area - 1] = '\0';
	assert_int_equal(load(cmd), ST_OK);
	assert_int_equal(strlen(rdstr(res.cmdline)), area - 1);
	assert_true(res.cmdline + area <= 0x9D000);
	free(cmd);
}

/* ---- the initrd ---- */

static void expect_initrd(const uint8_t *rd, size_t len, uint64_t start)
{
	const uint64_t bp = LB_BOOT_PARAMS;

	assert_int_equal(res.initrd_start, start);
	assert_int_equal(res.initrd_end, start + len);
	assert_int_equal(rd32(bp + H_RAMDISK_IMAGE), (uint32_t)start);
	assert_int_equal(rd32(bp + BP_EXT_RAMDISK_IMAGE), (uint32_t)(start >> 32));
	assert_int_equal(rd32(bp + H_RAMDISK_SIZE), (uint32_t)len);
	assert_int_equal(rd32(bp + BP_EXT_RAMDISK_SIZE), 0);
	assert_memory_equal(ram.buf + start, rd, len);
}

static void test_initrd_at_top(void **state)
{
	size_t len = 0x1234;
	uint8_t *rd = patterned(len, 1);
	uint64_t start = (RAM_SIZE - len) & ~0xFFFull;

	(void)state;
	assert_int_equal(load_rd(rd, len, ""), ST_OK);
	expect_initrd(rd, len, start);
	assert_int_equal(start, RAM_SIZE - 0x2000);
	assert_true(ram_all(start + len, RAM_SIZE - start - len, FILL));
	free(rd);
}

/* A Debian-sized load into 128 MiB: 80 MiB kernel span and a 30 MiB initrd. */
static void test_initrd_debian_sized(void **state)
{
	size_t len = 30 * MIB + 0x345;
	uint8_t *rd = patterned(len, 2);
	uint64_t start = (RAM_SIZE - len) & ~0xFFFull;

	(void)state;
	w32(H_INIT_SIZE, 80 * MIB);
	assert_int_equal(load_rd(rd, len, "quiet"), ST_OK);
	expect_initrd(rd, len, start);
	assert_true(start >= PREF + 80 * MIB);
	free(rd);
}

/* Without XLF_CAN_BE_LOADED_ABOVE_4G, initrd_addr_max is the last byte the
 * initrd may use; with it, the field does not bind. */
static void test_initrd_addr_max(void **state)
{
	size_t len = 0x3000;
	uint8_t *rd = patterned(len, 3);

	(void)state;
	w16(H_XLOADFLAGS, XLF_KERNEL_64);
	w32(H_INITRD_ADDR_MAX, 64 * MIB - 1);
	assert_int_equal(load_rd(rd, len, ""), ST_OK);
	expect_initrd(rd, len, 64 * MIB - len);

	w32(H_INITRD_ADDR_MAX, 64 * MIB + 0x800 - 1); /* unaligned: round down */
	assert_int_equal(load_rd(rd, len, ""), ST_OK);
	expect_initrd(rd, len, 64 * MIB - 0x3000);

	w16(H_XLOADFLAGS, XLF_KERNEL_64 | XLF_ABOVE_4G);
	assert_int_equal(load_rd(rd, len, ""), ST_OK);
	expect_initrd(rd, len, RAM_SIZE - len);
	free(rd);
}

/* No room above the kernel's init_size span: the initrd goes below it. */
static void test_initrd_below_kernel(void **state)
{
	size_t len = 3 * MIB + 5;
	uint8_t *rd = patterned(len, 4);

	(void)state;
	w32(H_INIT_SIZE, RAM_SIZE - PREF - 0x1000);
	assert_int_equal(load_rd(rd, len, ""), ST_OK);
	expect_initrd(rd, len, (PREF - len) & ~0xFFFull);
	assert_true(res.initrd_end <= PREF);
	assert_true(res.initrd_start >= MIB);
	free(rd);
}

static void test_initrd_does_not_fit(void **state)
{
	size_t len = 16 * MIB;
	uint8_t *rd = patterned(len, 5);

	(void)state;
	/* above: 128 - 16 - 100 = 12 MiB; below: 16 - 1 = 15 MiB */
	w32(H_INIT_SIZE, 100 * MIB);
	expect_refused(rd, len, "", ST_ENOMEM,
		       "initrd of 0x1000000 bytes (16 MiB) does not fit below 0x8000000 beside the "
		       "kernel at [0x1000000, 0x7400000)");
	/* initrd_addr_max below the kernel leaves only [1 MiB, 8 MiB) */
	w32(H_INIT_SIZE, INIT_SIZE);
	w16(H_XLOADFLAGS, XLF_KERNEL_64);
	w32(H_INITRD_ADDR_MAX, 8 * MIB - 1);
	expect_refused(rd, len, "", ST_ENOMEM, "does not fit below 0x800000");
	free(rd);
}

/* High RAM is only reported: even a kernel that takes an initrd above
 * 4 GiB gets it at the top of the RAM at 0, and nothing is written above. */
static void test_initrd_stays_below_high_ram(void **state)
{
	const struct lb_range high = {4 * GIB, 2 * GIB};
	size_t len = 0x2345;
	uint8_t *rd = patterned(len, 6);

	(void)state;
	mem.high = &high;
	mem.nhigh = 1;
	assert_int_equal(load_rd(rd, len, ""), ST_OK);
	expect_initrd(rd, len, (RAM_SIZE - len) & ~0xFFFull);
	assert_int_equal(rd8(LB_BOOT_PARAMS + BP_E820_ENTRIES), 7);
	expect_e820(6, 4 * GIB, 2 * GIB, 1);
	free(rd);
}

static void test_initrd_without_data(void **state)
{
	(void)state;
	expect_refused(NULL, 10, "", ST_EINVAL, "NULL argument");
}

/* ---- RAM, platform and callbacks ---- */

static void test_ram_bounds(void **state)
{
	(void)state;
	set_ram_size(RAM_SIZE - 0x800);
	expect_fail(ST_EINVAL, "not a multiple of 4 KiB");
	set_ram_size(MIB - 0x1000);
	expect_fail(ST_ERANGE, "below 1 MiB");
	mem.ram_size = 4 * GIB + 0x1000; /* refused before any access */
	expect_fail(ST_ERANGE, "above 4 GiB");
}

static void test_reserved_overlaps_ram(void **state)
{
	const struct lb_range bad = {RAM_SIZE - 0x1000, 0x2000};

	(void)state;
	plat.reserved = &bad;
	plat.nreserved = 1;
	expect_fail(ST_EINVAL, "overlaps [0x7fff000, 0x8001000) type 2");
}

static void test_too_many_reserved(void **state)
{
	struct lb_range r[LB_PLAT_RESERVED_MAX + 1];

	(void)state;
	for (unsigned i = 0; i <= LB_PLAT_RESERVED_MAX; i++)
		r[i] = (struct lb_range){0xF0000000u + i * 0x1000ull, 0x1000};
	plat.reserved = r;
	plat.nreserved = LB_PLAT_RESERVED_MAX + 1;
	expect_fail(ST_EINVAL, "platform has 17 reserved ranges, at most 16");
	plat.nreserved = LB_PLAT_RESERVED_MAX;
	assert_int_equal(load(""), ST_OK);
	assert_int_equal(rd8(LB_BOOT_PARAMS + BP_E820_ENTRIES), 3 + LB_PLAT_RESERVED_MAX);
}

static void test_null_arguments(void **state)
{
	struct lb_mem bad = mem;
	struct lb_platform p = plat;

	(void)state;
	assert_int_equal(lb_load(NULL, img_len, NULL, 0, "", &mem, &plat, &res, why, sizeof(why)),
			 ST_EINVAL);
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", NULL, &plat, &res, why, sizeof(why)),
			 ST_EINVAL);
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &mem, NULL, &res, why, sizeof(why)),
			 ST_EINVAL);
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &mem, &plat, NULL, why, sizeof(why)),
			 ST_EINVAL);
	bad.write = NULL;
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &bad, &plat, &res, why, sizeof(why)),
			 ST_EINVAL);
	bad = mem;
	bad.zero = NULL;
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &bad, &plat, &res, why, sizeof(why)),
			 ST_EINVAL);
	p.reserved = NULL;
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &mem, &p, &res, why, sizeof(why)),
			 ST_EINVAL);
	assert_int_equal(ram.writes + ram.zeros, 0);
}

static void test_write_failure(void **state)
{
	(void)state;
	ram.fail_writes = true;
	assert_int_equal(load(""), ST_ERANGE);
	expect_phrase("guest memory write of");
	expect_phrase("failed");
}

static void test_zero_failure(void **state)
{
	(void)state;
	ram.fail_zeros = true;
	assert_int_equal(load(""), ST_ERANGE);
	expect_phrase("zeroing of the zero page at 0x7000 failed");
}

static void test_initrd_write_failure(void **state)
{
	size_t len = 0x800;
	uint8_t *rd = patterned(len, 6);

	(void)state;
	ram.fail_gpa = RAM_SIZE - 0x1000;
	assert_int_equal(load_rd(rd, len, ""), ST_ERANGE);
	expect_phrase("write of 0x800 bytes at 0x7fff000 failed");
	free(rd);
}

/* No why buffer, or a tiny one: the right status, no overrun. */
static void test_why_optional(void **state)
{
	char tiny[8];

	(void)state;
	w16(H_BOOT_FLAG, 0);
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &mem, &plat, &res, NULL, 0), ST_EINVAL);
	memset(tiny, 'Z', sizeof(tiny));
	assert_int_equal(lb_load(img, img_len, NULL, 0, "", &mem, &plat, &res, tiny, sizeof(tiny)),
			 ST_EINVAL);
	assert_string_equal(tiny, "no boot");
}

/* ---- lb_e820_build ---- */

static struct lb_e820 map[LB_E820_MAX];
static unsigned nmap;

static void expect_entry(unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_true(i < nmap);
	assert_int_equal(map[i].addr, addr);
	assert_int_equal(map[i].size, size);
	assert_int_equal(map[i].type, type);
}

static status_t build(const struct lb_range *r, unsigned nr, const struct lb_range *res_,
		      unsigned nres, unsigned max)
{
	return lb_e820_build(r, nr, res_, nres, map, max, &nmap, why, sizeof(why));
}

static void test_e820_128mib(void **state)
{
	const struct lb_range r = {0, 128 * MIB};

	(void)state;
	assert_int_equal(build(&r, 1, plat_res, 3, LB_E820_MAX), ST_OK);
	assert_int_equal(nmap, 6);
	expect_entry(0, 0, 0xA0000, LB_E820_RAM);
	expect_entry(1, 0xA0000, 0x60000, LB_E820_RESERVED);
	expect_entry(2, MIB, 127 * MIB, LB_E820_RAM);
	expect_entry(3, 0xE0000000u, 0x10000000u, LB_E820_RESERVED);
	expect_entry(4, 0xFEC00000u, 0x1000, LB_E820_RESERVED);
	expect_entry(5, 0xFEE00000u, 0x1000, LB_E820_RESERVED);
	assert_int_equal(LB_E820_RAM, 1);
	assert_int_equal(LB_E820_RESERVED, 2);
}

/* RAM split around the PCI hole with a piece above 4 GiB, given unsorted. */
static void test_e820_ram_list(void **state)
{
	const struct lb_range r[2] = {{4 * GIB, 2 * GIB}, {0, 3 * GIB}};
	const struct lb_range rs[1] = {{0xE0000000u, 0x10000000u}};

	(void)state;
	assert_int_equal(build(r, 2, rs, 1, LB_E820_MAX), ST_OK);
	assert_int_equal(nmap, 5);
	expect_entry(0, 0, 0xA0000, LB_E820_RAM);
	expect_entry(1, 0xA0000, 0x60000, LB_E820_RESERVED);
	expect_entry(2, MIB, 3 * GIB - MIB, LB_E820_RAM);
	expect_entry(3, 0xE0000000u, 0x10000000u, LB_E820_RESERVED);
	expect_entry(4, 4 * GIB, 2 * GIB, LB_E820_RAM);
}

/* RAM inside the legacy area is reported only as the reserved entry. */
static void test_e820_legacy_area(void **state)
{
	const struct lb_range r[3] = {{0, 0x80000}, {0xC0000, 0x20000}, {0x90000, 0x200000}};

	(void)state;
	assert_int_equal(build(r, 1, NULL, 0, LB_E820_MAX), ST_OK);
	assert_int_equal(nmap, 2);
	expect_entry(0, 0, 0x80000, LB_E820_RAM);
	expect_entry(1, 0xA0000, 0x60000, LB_E820_RESERVED);

	assert_int_equal(build(&r[1], 1, NULL, 0, LB_E820_MAX), ST_OK);
	assert_int_equal(nmap, 1);
	expect_entry(0, 0xA0000, 0x60000, LB_E820_RESERVED);

	assert_int_equal(build(&r[2], 1, NULL, 0, LB_E820_MAX), ST_OK);
	assert_int_equal(nmap, 3);
	expect_entry(0, 0x90000, 0x10000, LB_E820_RAM);
	expect_entry(1, 0xA0000, 0x60000, LB_E820_RESERVED);
	expect_entry(2, MIB, 0x290000 - MIB, LB_E820_RAM);
}

static void test_e820_overflow(void **state)
{
	const struct lb_range r = {0, 128 * MIB};

	(void)state;
	assert_int_equal(build(&r, 1, plat_res, 3, 6), ST_OK);
	assert_int_equal(nmap, 6);
	memset(map, 0x5A, sizeof(map));
	nmap = 99;
	assert_int_equal(build(&r, 1, plat_res, 3, 5), ST_ERANGE);
	expect_phrase("E820 map needs 6 entries, the table holds 5");
	/* nothing was written */
	assert_int_equal(nmap, 99);
	assert_int_equal(map[0].addr, 0x5A5A5A5A5A5A5A5Aull);
}

static void test_e820_overlaps(void **state)
{
	const struct lb_range r = {0, 128 * MIB};
	const struct lb_range two[2] = {{0xE0000000u, 0x10000000u}, {0xEFFFF000u, 0x2000}};
	const struct lb_range legacy = {0xE0000, 0x20000};
	const struct lb_range touch[2] = {{128 * MIB, 0x1000}, {0xE0000000u, 0x1000}};

	(void)state;
	assert_int_equal(build(&r, 1, two, 2, LB_E820_MAX), ST_EINVAL);
	expect_phrase("[0xe0000000, 0xf0000000) type 2 overlaps [0xeffff000, 0xf0001000) type 2");
	assert_int_equal(build(&r, 1, &legacy, 1, LB_E820_MAX), ST_EINVAL);
	expect_phrase("[0xa0000, 0x100000) type 2 overlaps [0xe0000, 0x100000) type 2");
	/* ranges that only touch are fine */
	assert_int_equal(build(&r, 1, touch, 2, LB_E820_MAX), ST_OK);
	assert_int_equal(nmap, 5);
	expect_entry(3, 128 * MIB, 0x1000, LB_E820_RESERVED);
}

static void test_e820_bad_ranges(void **state)
{
	const struct lb_range r = {0, 128 * MIB};
	const struct lb_range empty = {0xE0000000u, 0};
	const struct lb_range wrap = {0xFFFFFFFFFFFFF000ull, 0x2000};

	(void)state;
	assert_int_equal(build(&r, 1, &empty, 1, LB_E820_MAX), ST_EINVAL);
	expect_phrase("reserved range 0 at 0xe0000000 is empty");
	assert_int_equal(build(&wrap, 1, NULL, 0, LB_E820_MAX), ST_EINVAL);
	expect_phrase("RAM range 0 at 0xfffffffffffff000 + 0x2000 wraps");
	assert_int_equal(lb_e820_build(&r, 1, NULL, 1, map, LB_E820_MAX, &nmap, why, sizeof(why)),
			 ST_EINVAL);
	assert_int_equal(lb_e820_build(&r, 1, NULL, 0, NULL, LB_E820_MAX, &nmap, why, sizeof(why)),
			 ST_EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_parse_fields),
	    T(test_parse_setup_sects_zero),
	    T(test_parse_too_short),
	    T(test_no_boot_flag),
	    T(test_no_hdrs),
	    T(test_old_protocol),
	    T(test_no_loaded_high),
	    T(test_setup_past_end),
	    T(test_kernel_truncated),
	    T(test_bad_jump),
	    T(test_bad_alignment),
	    T(test_init_size_below_kernel),
	    T(test_load_kernel),
	    T(test_boot_params),
	    T(test_boot_params_e820),
	    T(test_boot_params_e820_5gib),
	    T(test_initrd_stays_below_high_ram),
	    T(test_high_ram_refused),
	    T(test_gdts),
	    T(test_page_tables),
	    T(test_null_cmdline),
	    T(test_no_entry64),
	    T(test_load_address),
	    T(test_load_below_1mib),
	    T(test_init_size_vs_ram),
	    T(test_cmdline_limit),
	    T(test_cmdline_area_limit),
	    T(test_initrd_at_top),
	    T(test_initrd_debian_sized),
	    T(test_initrd_addr_max),
	    T(test_initrd_below_kernel),
	    T(test_initrd_does_not_fit),
	    T(test_initrd_without_data),
	    T(test_ram_bounds),
	    T(test_reserved_overlaps_ram),
	    T(test_too_many_reserved),
	    T(test_null_arguments),
	    T(test_write_failure),
	    T(test_zero_failure),
	    T(test_initrd_write_failure),
	    T(test_why_optional),
	    T(test_e820_128mib),
	    T(test_e820_ram_list),
	    T(test_e820_legacy_area),
	    T(test_e820_overflow),
	    T(test_e820_overlaps),
	    T(test_e820_bad_ranges),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
