/* Unit tests for the multiboot v1 guest loader. Kernel images (ELF32 and
 * a.out-kludge) are assembled byte by byte in a buffer; guest RAM is a
 * malloc'd array behind bounds-checking callbacks, pre-filled with 0xAA so
 * that copied, zeroed and untouched bytes can be told apart. Expected
 * layouts and field offsets are from the Multiboot Specification 0.6.96 and
 * the ELF32 format, not from the loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/mb1.h"

#define MIB 0x100000u
#define GIB 0x40000000ull
#define RAM_SIZE (4 * MIB) /* default VM and backing size */
#define FILL 0xAA
#define IMG_CAP 0x10000u

/* Multiboot header (spec 3.1.1). */
#define F_PAGE_ALIGN (1u << 0)
#define F_MEMINFO (1u << 1)
#define F_VIDEO (1u << 2)
#define F_ADDR (1u << 16)

/* Multiboot information (spec 3.3). */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_BOOT_DEVICE 12
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_SYMS 28
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_DRIVES_LENGTH 52
#define MBI_LOADER_NAME 64
#define MBI_VBE_CONTROL 72
#define MBI_FB_ADDR 88
/* bits 0 mem, 2 cmdline, 3 mods, 6 mmap, 9 boot_loader_name */
#define MBI_EXPECTED_FLAGS ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))

/* ELF32 header and program header offsets. */
#define EH_CLASS 4
#define EH_DATA 5
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_ENTRY 24
#define EH_PHOFF 28
#define EH_PHENTSIZE 42
#define EH_PHNUM 44
#define EH_SIZE 52
#define PH_SIZE 32
#define PT_LOAD 1
#define PT_NOTE 4

#define MBHDR_ELF_OFF 0x100 /* multiboot header in ELF test images */
#define DATA_OFF 0x400	    /* first segment's file bytes */

struct fake_ram {
	uint8_t *buf;
	uint64_t size;	  /* guest RAM the callbacks accept */
	uint64_t backing; /* bytes of buf; accepted writes above it are dropped */
	unsigned writes, zeros, oob;
	bool fail_writes;  /* make every write report failure */
	bool fail_zeros;   /* make every zero report failure */
	uint64_t fail_gpa; /* nonzero: a write starting here reports failure */
};

static struct fake_ram ram;
static struct mb1_mem mem;
static struct mb1_result res;
static uint8_t img[IMG_CAP];
static uint32_t seg_off[8]; /* file offset of each ELF segment's bytes */
static char why[256];
static const uint8_t elf_magic[4] = {0x7F, 'E', 'L', 'F'};

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
	for (size_t i = 0; i < len; i++)
		if (gpa + i < ram.backing)
			ram.buf[gpa + i] = ((const uint8_t *)buf)[i];
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
	for (size_t i = 0; i < len; i++)
		if (gpa + i < ram.backing)
			ram.buf[gpa + i] = 0;
	return true;
}

static void set_ram_size(uint64_t size)
{
	ram.size = size;
	mem.ram_size = size;
}

static int setup(void **state)
{
	(void)state;
	ram = (struct fake_ram){.buf = malloc(RAM_SIZE), .backing = RAM_SIZE};
	assert_non_null(ram.buf);
	memset(ram.buf, FILL, RAM_SIZE);
	mem = (struct mb1_mem){.ctx = &ram, .write = fake_write, .zero = fake_zero};
	set_ram_size(RAM_SIZE);
	memset(&res, 0, sizeof(res));
	memset(img, 0, sizeof(img));
	memset(seg_off, 0, sizeof(seg_off));
	memset(why, 0, sizeof(why));
	return 0;
}

/* Every test: the loader never asks for bytes outside guest RAM. */
static int teardown(void **state)
{
	(void)state;
	assert_int_equal(ram.oob, 0);
	free(ram.buf);
	return 0;
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v;

	assert_true(gpa + 4 <= ram.backing);
	memcpy(&v, ram.buf + gpa, 4);
	return v;
}

static uint64_t rd64(uint64_t gpa)
{
	uint64_t v;

	assert_true(gpa + 8 <= ram.backing);
	memcpy(&v, ram.buf + gpa, 8);
	return v;
}

static const char *rdstr(uint64_t gpa)
{
	assert_true(gpa < ram.backing);
	assert_non_null(memchr(ram.buf + gpa, 0, ram.backing - gpa));
	return (const char *)ram.buf + gpa;
}

static bool ram_all(uint64_t gpa, uint64_t len, uint8_t v)
{
	for (uint64_t i = 0; i < len; i++)
		if (ram.buf[gpa + i] != v)
			return false;
	return true;
}

/* ---- image builders ---- */

static void w16(size_t off, uint16_t v)
{
	memcpy(img + off, &v, 2);
}

static void w32(size_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static uint8_t pat(unsigned seed, size_t j)
{
	return (uint8_t)(0x11 * (seed + 1) + j * 7);
}

static void fill_pattern(size_t off, size_t len, unsigned seed)
{
	for (size_t j = 0; j < len; j++)
		img[off + j] = pat(seed, j);
}

/* magic, flags and a checksum making the three sum to 0 (mod 2^32). */
static void put_mbhdr(size_t off, uint32_t flags)
{
	w32(off, MB1_HEADER_MAGIC);
	w32(off + 4, flags);
	w32(off + 8, (uint32_t)(0u - MB1_HEADER_MAGIC - flags));
}

static void put_addr_fields(size_t off, uint32_t header_addr, uint32_t load_addr, uint32_t load_end,
			    uint32_t bss_end, uint32_t entry)
{
	w32(off + 12, header_addr);
	w32(off + 16, load_addr);
	w32(off + 20, load_end);
	w32(off + 24, bss_end);
	w32(off + 28, entry);
}

struct tseg {
	uint32_t type, vaddr, paddr, filesz, memsz;
};

/* An ELF32 i386 ET_EXEC: header, n program headers at 52, a multiboot header
 * at MBHDR_ELF_OFF, and each segment's file bytes (a pattern) from DATA_OFF.
 * Returns the image length. */
static size_t build_elf(uint32_t entry, uint32_t mbflags, const struct tseg *s, unsigned n)
{
	uint32_t off = DATA_OFF;

	memcpy(img, elf_magic, sizeof(elf_magic));
	img[EH_CLASS] = 1;  /* ELFCLASS32 */
	img[EH_DATA] = 1;   /* ELFDATA2LSB */
	img[6] = 1;	    /* EV_CURRENT */
	w16(EH_TYPE, 2);    /* ET_EXEC */
	w16(EH_MACHINE, 3); /* EM_386 */
	w32(20, 1);
	w32(EH_ENTRY, entry);
	w32(EH_PHOFF, EH_SIZE);
	w16(40, EH_SIZE);
	w16(EH_PHENTSIZE, PH_SIZE);
	w16(EH_PHNUM, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		size_t ph = EH_SIZE + i * PH_SIZE;

		seg_off[i] = off;
		w32(ph, s[i].type);
		w32(ph + 4, off);
		w32(ph + 8, s[i].vaddr);
		w32(ph + 12, s[i].paddr);
		w32(ph + 16, s[i].filesz);
		w32(ph + 20, s[i].memsz);
		w32(ph + 24, 7);
		w32(ph + 28, 0x1000);
		assert_true(off + s[i].filesz <= IMG_CAP);
		fill_pattern(off, s[i].filesz, i);
		off += (s[i].filesz + 15) & ~15u;
	}
	put_mbhdr(MBHDR_ELF_OFF, mbflags);
	return off;
}

/* A one-segment ELF: 0x200 file bytes + 0x100 bss at 1 MiB, entry at +0x10. */
static size_t simple_elf(void)
{
	const struct tseg s = {PT_LOAD, MIB, MIB, 0x200, 0x300};

	return build_elf(MIB + 0x10, 0, &s, 1);
}

/* An a.out-kludge image of len pattern bytes whose file offset 0 loads at
 * load_addr; the header sits at file offset hoff. */
static void build_aout(size_t len, size_t hoff, uint32_t load_addr, uint32_t load_end,
		       uint32_t bss_end, uint32_t entry)
{
	fill_pattern(0, len, 5);
	put_mbhdr(hoff, F_ADDR);
	put_addr_fields(hoff, load_addr + (uint32_t)hoff, load_addr, load_end, bss_end, entry);
}

static status_t load(size_t len, const char *cmd, const struct mb1_module *mods, unsigned n)
{
	return mb1_load(img, len, cmd, mods, n, &mem, &res, why, sizeof(why));
}

/* A failing load: status, a phrase of the message, and no guest write. */
static void expect_fail(size_t len, status_t st, const char *phrase)
{
	assert_int_equal(load(len, "", NULL, 0), st);
	if (!strstr(why, phrase))
		fail_msg("message \"%s\" lacks \"%s\"", why, phrase);
	assert_int_equal(ram.writes, 0);
	assert_int_equal(ram.zeros, 0);
}

/* ---- ELF loading ---- */

static void test_elf_one_segment(void **state)
{
	size_t len = simple_elf();

	(void)state;
	assert_int_equal(load(len, "console=ttyS0", NULL, 0), ST_OK);
	assert_string_equal(why, "");
	assert_int_equal(res.entry, MIB + 0x10);
	assert_int_equal(res.mbi, 0x8000);
	assert_int_equal(res.kernel_start, MIB);
	assert_int_equal(res.kernel_end, MIB + 0x300);
	assert_int_equal(res.highest, MIB + 0x300);
	assert_memory_equal(ram.buf + MIB, img + seg_off[0], 0x200);
	assert_true(ram_all(MIB + 0x200, 0x100, 0));
	assert_int_equal(ram.buf[MIB - 1], FILL);
	assert_int_equal(ram.buf[MIB + 0x300], FILL);
}

static void test_elf_three_segments_bss(void **state)
{
	const struct tseg s[4] = {
	    {PT_LOAD, MIB, MIB, 0x1000, 0x1000},
	    {PT_NOTE, 0x1000, 0x1000, 0x20, 0x20}, /* not loaded: below 1 MiB is fine */
	    {PT_LOAD, 0x102000, 0x102000, 0x80, 0x2000},
	    {PT_LOAD, 2 * MIB, 2 * MIB, 0, 0x1000}, /* bss only */
	};
	size_t len = build_elf(MIB + 0x100, F_PAGE_ALIGN | F_MEMINFO, s, 4);

	(void)state;
	assert_int_equal(load(len, NULL, NULL, 0), ST_OK);
	assert_memory_equal(ram.buf + MIB, img + seg_off[0], 0x1000);
	assert_memory_equal(ram.buf + 0x102000, img + seg_off[2], 0x80);
	assert_true(ram_all(0x102080, 0x2000 - 0x80, 0));
	assert_true(ram_all(2 * MIB, 0x1000, 0));
	/* gaps between segments and the PT_NOTE target are untouched */
	assert_true(ram_all(0x101000, 0x1000, FILL));
	assert_true(ram_all(0x104000, 0x10, FILL));
	assert_true(ram_all(0x1000, 0x20, FILL));
	assert_int_equal(ram.buf[2 * MIB + 0x1000], FILL);
	assert_int_equal(res.kernel_start, MIB);
	assert_int_equal(res.kernel_end, 2 * MIB + 0x1000);
	assert_int_equal(res.entry, MIB + 0x100);
}

/* Program headers need not be sorted: the bounds are the lowest start and
 * the highest end over all segments. */
static void test_elf_unsorted_segments(void **state)
{
	const struct tseg s[2] = {
	    {PT_LOAD, 2 * MIB, 2 * MIB, 0x40, 0x800},
	    {PT_LOAD, MIB, MIB, 0x40, 0x40},
	};
	size_t len = build_elf(MIB, 0, s, 2);

	(void)state;
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(res.kernel_start, MIB);
	assert_int_equal(res.kernel_end, 2 * MIB + 0x800);
	assert_memory_equal(ram.buf + 2 * MIB, img + seg_off[0], 0x40);
	assert_memory_equal(ram.buf + MIB, img + seg_off[1], 0x40);
}

/* A kernel linked at 0xC0100000 but loaded at 1 MiB: a virtual entry is
 * translated to the physical load address, a physical one kept. */
static void test_elf_entry_translation(void **state)
{
	const struct tseg s = {PT_LOAD, 0xC0100000u, MIB, 0x100, 0x100};
	size_t len = build_elf(0xC0100020u, 0, &s, 1);

	(void)state;
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(res.entry, MIB + 0x20);
	assert_memory_equal(ram.buf + MIB, img + seg_off[0], 0x100);

	w32(EH_ENTRY, MIB + 0x40);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(res.entry, MIB + 0x40);
}

/* Flag bits 1 and 2 are accepted (no video info is given), bits 17-31 are
 * ignored. */
static void test_known_and_optional_flags(void **state)
{
	size_t len = simple_elf();

	(void)state;
	put_mbhdr(MBHDR_ELF_OFF, F_PAGE_ALIGN | F_MEMINFO | F_VIDEO | 0xFFFE0000u);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(rd32(res.mbi + MBI_FLAGS), MBI_EXPECTED_FLAGS);
	assert_int_equal(rd32(res.mbi + MBI_FLAGS) & ((1u << 11) | (1u << 12)), 0);
	assert_int_equal(rd32(res.mbi + MBI_VBE_CONTROL), 0);
	assert_int_equal(rd64(res.mbi + MBI_FB_ADDR), 0);
}

/* ---- a.out kludge (address fields) ---- */

static void test_aout_load(void **state)
{
	const uint32_t load_addr = 0x200000, len = 0x1800;

	(void)state;
	build_aout(len, 0x40, load_addr, load_addr + 0x1000, load_addr + 0x3000, load_addr + 0x80);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(res.entry, load_addr + 0x80);
	assert_int_equal(res.kernel_start, load_addr);
	assert_int_equal(res.kernel_end, load_addr + 0x3000);
	/* only load_end - load_addr bytes come from the file, then bss */
	assert_memory_equal(ram.buf + load_addr, img, 0x1000);
	assert_true(ram_all(load_addr + 0x1000, 0x2000, 0));
	assert_int_equal(ram.buf[load_addr - 1], FILL);
	assert_int_equal(ram.buf[load_addr + 0x3000], FILL);
}

/* load_end_addr 0: the rest of the file; bss_end_addr 0: no bss. */
static void test_aout_whole_file_no_bss(void **state)
{
	const uint32_t len = 0x1234;

	(void)state;
	build_aout(len, 0x20, MIB, 0, 0, MIB + len - 1);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_memory_equal(ram.buf + MIB, img, len);
	assert_int_equal(ram.buf[MIB + len], FILL);
	assert_int_equal(res.kernel_end, MIB + len);
	assert_int_equal(res.entry, MIB + len - 1);
	assert_int_equal(ram.zeros, 0);
}

/* The header at file offset 0x1000 but only 0x800 bytes above load_addr:
 * loading starts at file offset 0x800. */
static void test_aout_file_offset(void **state)
{
	const size_t hoff = 0x1000, len = 0x2000;

	(void)state;
	fill_pattern(0, len, 3);
	put_mbhdr(hoff, F_ADDR);
	put_addr_fields(hoff, MIB + 0x800, MIB, 0, 0, MIB);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_memory_equal(ram.buf + MIB, img + 0x800, len - 0x800);
	assert_int_equal(res.kernel_end, MIB + len - 0x800);
}

/* With flag 16 the address fields win even over an ELF header. */
static void test_aout_fields_win_over_elf(void **state)
{
	size_t len = simple_elf();

	(void)state;
	put_mbhdr(MBHDR_ELF_OFF, F_ADDR);
	put_addr_fields(MBHDR_ELF_OFF, 3 * MIB + MBHDR_ELF_OFF, 3 * MIB, 0, 0, 3 * MIB + 4);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(res.kernel_start, 3 * MIB);
	assert_int_equal(res.entry, 3 * MIB + 4);
	assert_memory_equal(ram.buf + 3 * MIB, img, len);
	assert_int_equal(ram.buf[MIB], FILL);
}

/* ---- the multiboot information ---- */

static void test_mbi_fields(void **state)
{
	size_t len = simple_elf();
	uint32_t mmap, mbi;

	(void)state;
	assert_int_equal(load(len, "root=/dev/vda quiet", NULL, 0), ST_OK);
	mbi = res.mbi;
	assert_true(mbi >= MB1_SCRATCH_BASE && mbi + 116 <= MB1_SCRATCH_END);
	assert_int_equal(rd32(mbi + MBI_FLAGS), MBI_EXPECTED_FLAGS);
	assert_int_equal(rd32(mbi + MBI_MEM_LOWER), 639);
	assert_int_equal(rd32(mbi + MBI_MEM_UPPER), (RAM_SIZE - MIB) / 1024);
	assert_int_equal(rd32(mbi + MBI_BOOT_DEVICE), 0);
	assert_string_equal(rdstr(rd32(mbi + MBI_CMDLINE)), "root=/dev/vda quiet");
	assert_int_equal(rd32(mbi + MBI_MODS_COUNT), 0);
	assert_int_equal(rd64(mbi + MBI_SYMS), 0);
	assert_int_equal(rd32(mbi + MBI_DRIVES_LENGTH), 0);
	assert_string_equal(rdstr(rd32(mbi + MBI_LOADER_NAME)), "Keel");

	/* three entries of 4 (size) + 20 bytes */
	assert_int_equal(rd32(mbi + MBI_MMAP_LENGTH), 72);
	mmap = rd32(mbi + MBI_MMAP_ADDR);
	assert_true(mmap >= MB1_SCRATCH_BASE && mmap + 72 <= MB1_SCRATCH_END);
	assert_int_equal(rd32(mmap), 20);
	assert_int_equal(rd64(mmap + 4), 0);
	assert_int_equal(rd64(mmap + 12), 0x9FC00);
	assert_int_equal(rd32(mmap + 20), 1);
	assert_int_equal(rd32(mmap + 24), 20);
	assert_int_equal(rd64(mmap + 28), 0x9FC00);
	assert_int_equal(rd64(mmap + 36), 0x100000 - 0x9FC00);
	assert_int_equal(rd32(mmap + 44), 2);
	assert_int_equal(rd32(mmap + 48), 20);
	assert_int_equal(rd64(mmap + 52), MIB);
	assert_int_equal(rd64(mmap + 60), RAM_SIZE - MIB);
	assert_int_equal(rd32(mmap + 68), 1);

	/* the scratch pieces do not overlap the mbi */
	assert_true(mmap >= mbi + 116 || mmap + 72 <= mbi);
}

static void test_null_cmdline_is_empty(void **state)
{
	size_t len = simple_elf();

	(void)state;
	assert_int_equal(load(len, NULL, NULL, 0), ST_OK);
	assert_true(rd32(res.mbi + MBI_FLAGS) & (1u << 2));
	assert_string_equal(rdstr(rd32(res.mbi + MBI_CMDLINE)), "");
}

/* The largest RAM allowed (4 GiB - 256 MiB), backed sparsely by the fake. */
static void test_max_ram(void **state)
{
	size_t len = simple_elf();
	uint32_t mmap;

	(void)state;
	set_ram_size(MB1_RAM_MAX);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(rd32(res.mbi + MBI_MEM_UPPER), (0xF0000000u - MIB) / 1024);
	mmap = rd32(res.mbi + MBI_MMAP_ADDR);
	assert_int_equal(rd64(mmap + 60), 0xF0000000ull - MIB);
}

/* Entry i of the memory map at mmap: size field, base, length, type. */
static void expect_mmap(uint32_t mmap, unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
	uint32_t e = mmap + i * 24;

	assert_int_equal(rd32(e), 20);
	assert_int_equal(rd64(e + 4), base);
	assert_int_equal(rd64(e + 12), len);
	assert_int_equal(rd32(e + 20), type);
}

/* A 5 GiB VM as Keel lays it out: 3 GiB at 0, 2 GiB from 4 GiB. The map
 * shows both; mem_upper only the RAM contiguous from 1 MiB. */
static void test_mmap_5gib(void **state)
{
	const struct mb1_range high = {4 * GIB, 2 * GIB};
	size_t len = simple_elf();
	uint32_t mmap;

	(void)state;
	set_ram_size(3 * GIB);
	mem.high = &high;
	mem.nhigh = 1;
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(rd32(res.mbi + MBI_FLAGS), MBI_EXPECTED_FLAGS);
	assert_int_equal(rd32(res.mbi + MBI_MEM_LOWER), 639);
	assert_int_equal(rd32(res.mbi + MBI_MEM_UPPER), (3 * GIB - MIB) / 1024);
	assert_int_equal(rd32(res.mbi + MBI_MMAP_LENGTH), 4 * 24);
	mmap = rd32(res.mbi + MBI_MMAP_ADDR);
	assert_true(mmap >= MB1_SCRATCH_BASE && mmap + 4 * 24 <= MB1_SCRATCH_END);
	expect_mmap(mmap, 0, 0, 0x9FC00, 1);
	expect_mmap(mmap, 1, 0x9FC00, MIB - 0x9FC00, 2);
	expect_mmap(mmap, 2, MIB, 3 * GIB - MIB, 1);
	expect_mmap(mmap, 3, 4 * GIB, 2 * GIB, 1);
	/* the boot loader name, after the map, is intact */
	assert_string_equal(rdstr(rd32(res.mbi + MBI_LOADER_NAME)), "Keel");
}

/* The most high ranges the map takes, each reported in order. */
static void test_mmap_high_max(void **state)
{
	struct mb1_range high[MB1_HIGH_MAX];
	size_t len = simple_elf();
	uint32_t mmap;

	(void)state;
	for (unsigned i = 0; i < MB1_HIGH_MAX; i++)
		high[i] = (struct mb1_range){(4 + 2 * (uint64_t)i) * GIB, GIB};
	mem.high = high;
	mem.nhigh = MB1_HIGH_MAX;
	assert_int_equal(load(len, "a command line", NULL, 0), ST_OK);
	assert_int_equal(rd32(res.mbi + MBI_MMAP_LENGTH), (3 + MB1_HIGH_MAX) * 24);
	mmap = rd32(res.mbi + MBI_MMAP_ADDR);
	for (unsigned i = 0; i < MB1_HIGH_MAX; i++)
		expect_mmap(mmap, 3 + i, (4 + 2 * (uint64_t)i) * GIB, GIB, 1);
	assert_string_equal(rdstr(rd32(res.mbi + MBI_LOADER_NAME)), "Keel");
	assert_string_equal(rdstr(rd32(res.mbi + MBI_CMDLINE)), "a command line");
}

static void expect_high_refused(const struct mb1_range *high, unsigned n, const char *phrase)
{
	mem.high = high;
	mem.nhigh = n;
	expect_fail(simple_elf(), ST_EINVAL, phrase);
}

static void test_high_ranges_refused(void **state)
{
	const struct mb1_range below = {RAM_SIZE - 0x1000, 0x2000}; /* overlaps RAM at 0 */
	const struct mb1_range empty = {4 * GIB, 0};
	const struct mb1_range odd = {4 * GIB + 0x800, 0x1000};
	const struct mb1_range odd_len = {4 * GIB, 0x1800};
	const struct mb1_range wraps = {UINT64_MAX - 0xFFF - 0x1000, 0x3000};
	const struct mb1_range unsorted[2] = {{8 * GIB, GIB}, {4 * GIB, GIB}};
	const struct mb1_range overlap[2] = {{4 * GIB, 2 * GIB}, {5 * GIB, GIB}};
	struct mb1_range many[MB1_HIGH_MAX + 1];

	(void)state;
	expect_high_refused(&below, 1, "high RAM range 0");
	expect_high_refused(&empty, 1, "empty, unaligned, wraps or lies below");
	expect_high_refused(&odd, 1, "high RAM range 0 [0x100000800");
	expect_high_refused(&odd_len, 1, "high RAM range 0");
	expect_high_refused(&wraps, 1, "high RAM range 0");
	expect_high_refused(unsorted, 2, "high RAM range 1 [0x100000000, +0x40000000)");
	expect_high_refused(overlap, 2, "lies below 0x180000000");
	for (unsigned i = 0; i <= MB1_HIGH_MAX; i++)
		many[i] = (struct mb1_range){(4 + (uint64_t)i) * GIB, GIB};
	expect_high_refused(many, MB1_HIGH_MAX + 1, "5 high RAM ranges, at most 4");
	expect_high_refused(NULL, 1, "NULL argument");
}

static void test_min_ram(void **state)
{
	size_t len = simple_elf();

	(void)state;
	set_ram_size(2 * MIB);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(rd32(res.mbi + MBI_MEM_UPPER), 1024);
}

/* ---- modules ---- */

static void test_modules(void **state)
{
	/* kernel ends at 0x101234 (bss included) */
	const struct tseg s = {PT_LOAD, MIB, MIB, 0x200, 0x1234};
	size_t len = build_elf(MIB, F_PAGE_ALIGN, &s, 1);
	static uint8_t m0[100], m1[5000];
	const struct mb1_module mods[3] = {
	    {m0, sizeof(m0), "mod0 arg=1"},
	    {m1, sizeof(m1), "second"},
	    {NULL, 0, NULL},
	};
	uint32_t arr;

	(void)state;
	for (size_t i = 0; i < sizeof(m0); i++)
		m0[i] = (uint8_t)(i + 1);
	for (size_t i = 0; i < sizeof(m1); i++)
		m1[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(load(len, "k", mods, 3), ST_OK);
	assert_int_equal(rd32(res.mbi + MBI_MODS_COUNT), 3);
	arr = rd32(res.mbi + MBI_MODS_ADDR);
	assert_true(arr >= MB1_SCRATCH_BASE && arr + 48 <= MB1_SCRATCH_END);

	assert_int_equal(rd32(arr + 0), 0x102000); /* first page after 0x101234 */
	assert_int_equal(rd32(arr + 4), 0x102000 + 100);
	assert_string_equal(rdstr(rd32(arr + 8)), "mod0 arg=1");
	assert_memory_equal(ram.buf + 0x102000, m0, sizeof(m0));

	assert_int_equal(rd32(arr + 16), 0x103000); /* page after 0x102064 */
	assert_int_equal(rd32(arr + 20), 0x103000 + 5000);
	assert_string_equal(rdstr(rd32(arr + 24)), "second");
	assert_memory_equal(ram.buf + 0x103000, m1, sizeof(m1));

	assert_int_equal(rd32(arr + 32), 0x105000); /* page after 0x104388 */
	assert_int_equal(rd32(arr + 36), 0x105000);
	assert_string_equal(rdstr(rd32(arr + 40)), "");

	assert_int_equal(res.kernel_end, 0x101234);
	assert_int_equal(res.highest, 0x105000);
	/* the gap between kernel and first module is left alone */
	assert_int_equal(ram.buf[0x101234], FILL);
}

/* A module that exactly fills the rest of RAM fits. */
static void test_module_fills_ram(void **state)
{
	size_t len = simple_elf(); /* ends at 0x100300 */
	size_t mlen = RAM_SIZE - 0x101000;
	uint8_t *m = malloc(mlen);
	const struct mb1_module mod = {m, mlen, "big"};

	(void)state;
	assert_non_null(m);
	memset(m, 0x5C, mlen);
	assert_int_equal(load(len, "", &mod, 1), ST_OK);
	assert_int_equal(rd32(rd32(res.mbi + MBI_MODS_ADDR) + 4), RAM_SIZE);
	assert_int_equal(res.highest, RAM_SIZE);
	assert_true(ram_all(0x101000, mlen, 0x5C));
	free(m);
}

/* ---- probe ---- */

static void test_probe(void **state)
{
	size_t len = simple_elf();

	(void)state;
	assert_true(mb1_probe(img, len));
	assert_false(mb1_probe(NULL, len));
	assert_false(mb1_probe(img, MBHDR_ELF_OFF + 11)); /* header cut off */
	w32(MBHDR_ELF_OFF + 8, 0);			  /* checksum */
	assert_false(mb1_probe(img, len));
	memset(img, 0, sizeof(img));
	assert_false(mb1_probe(img, sizeof(img)));
	put_mbhdr(8192, 0);
	assert_false(mb1_probe(img, sizeof(img)));
	put_mbhdr(8180, 0); /* last offset whose 12 bytes end at 8192 */
	assert_true(mb1_probe(img, sizeof(img)));
	assert_false(mb1_probe(img, 8191));
}

/* ---- header search failures ---- */

static void test_no_header(void **state)
{
	(void)state;
	assert_int_equal(load(4096, "", NULL, 0), ST_ENOENT);
	assert_string_equal(why, "multiboot header not found in the first 8192 bytes");
}

static void test_header_past_8192(void **state)
{
	(void)state;
	put_mbhdr(8192, 0);
	expect_fail(IMG_CAP, ST_ENOENT, "not found in the first 8192 bytes");
	memset(img, 0, sizeof(img));
	put_mbhdr(8184, 0); /* starts inside but ends past 8192 */
	expect_fail(IMG_CAP, ST_ENOENT, "not found");
}

static void test_unaligned_magic(void **state)
{
	(void)state;
	put_mbhdr(0x102, 0);
	expect_fail(0x1000, ST_ENOENT, "not found");
}

static void test_header_straddles_end(void **state)
{
	(void)state;
	put_mbhdr(8, 0);
	expect_fail(16, ST_ETRUNC, "offset 0x8 runs past the end of the image");
}

static void test_bad_checksum(void **state)
{
	size_t len = simple_elf();

	(void)state;
	w32(MBHDR_ELF_OFF + 8, 0x12345678);
	expect_fail(len, ST_ECHECKSUM, "offset 0x100 has a bad checksum");
}

/* A bad-checksum magic is skipped when a valid header follows. */
/* A bad checksum is reported ahead of a later header cut off by the end. */
static void test_bad_checksum_then_cut(void **state)
{
	(void)state;
	put_mbhdr(0, 0);
	w32(8, 7);
	put_mbhdr(0x20, 0);
	expect_fail(0x28, ST_ECHECKSUM, "offset 0x0 has a bad checksum");
}

static void test_bad_checksum_then_valid(void **state)
{
	size_t len = simple_elf();

	(void)state;
	put_mbhdr(0x80, 0);
	w32(0x80 + 8, 1);
	assert_int_equal(load(len, "", NULL, 0), ST_OK);
	assert_int_equal(res.entry, MIB + 0x10);
}

static void test_unknown_flag(void **state)
{
	size_t len = simple_elf();

	(void)state;
	put_mbhdr(MBHDR_ELF_OFF, F_PAGE_ALIGN | (1u << 3));
	expect_fail(len, ST_ENOTSUP, "bits 0x0008");
	put_mbhdr(MBHDR_ELF_OFF, 1u << 15);
	expect_fail(len, ST_ENOTSUP, "unsupported");
}

/* ---- ELF failures ---- */

static void test_not_elf(void **state)
{
	(void)state;
	put_mbhdr(0x40, 0);
	expect_fail(0x200, ST_EINVAL, "not ELF");
	memset(img, 0, sizeof(img));
	put_mbhdr(0, 0); /* 12 bytes: too short to hold an ELF identification */
	expect_fail(12, ST_EINVAL, "not ELF");
}

static void test_elf64(void **state)
{
	size_t len = simple_elf();

	(void)state;
	img[EH_CLASS] = 2;
	expect_fail(len, ST_ENOTSUP, "must be 32-bit");
	img[EH_CLASS] = 0;
	expect_fail(len, ST_ENOTSUP, "not ELFCLASS32");
}

static void test_elf_header_truncated(void **state)
{
	(void)state;
	simple_elf();
	put_mbhdr(16, 0); /* header right after e_ident */
	expect_fail(28, ST_ETRUNC, "ELF header needs 52 bytes");
}

static void test_elf_big_endian(void **state)
{
	size_t len = simple_elf();

	(void)state;
	img[EH_DATA] = 2;
	expect_fail(len, ST_ENOTSUP, "little-endian");
}

static void test_elf_not_exec(void **state)
{
	size_t len = simple_elf();

	(void)state;
	w16(EH_TYPE, 3); /* ET_DYN */
	expect_fail(len, ST_ENOTSUP, "ELF type 3 is not ET_EXEC");
}

static void test_elf_wrong_machine(void **state)
{
	size_t len = simple_elf();

	(void)state;
	w16(EH_MACHINE, 62); /* EM_X86_64 */
	expect_fail(len, ST_ENOTSUP, "ELF machine 62 is not EM_386");
}

static void test_elf_bad_phentsize(void **state)
{
	size_t len = simple_elf();

	(void)state;
	w16(EH_PHENTSIZE, 31);
	expect_fail(len, ST_EINVAL, "program header size 31");
}

static void test_elf_no_phdrs(void **state)
{
	size_t len = simple_elf();

	(void)state;
	w16(EH_PHNUM, 0);
	expect_fail(len, ST_EINVAL, "no program headers");
}

static void test_elf_phdrs_truncated(void **state)
{
	size_t len = simple_elf();

	(void)state;
	w32(EH_PHOFF, (uint32_t)len - PH_SIZE + 1);
	expect_fail(len, ST_ETRUNC, "program headers");
	w32(EH_PHOFF, 0xFFFFFFF0u);
	expect_fail(len, ST_ETRUNC, "program headers");
	w32(EH_PHOFF, EH_SIZE);
	w16(EH_PHNUM, 0xFFFF);
	expect_fail(len, ST_ETRUNC, "65535 x 32 bytes");
}

static void test_elf_segment_past_file(void **state)
{
	size_t len = simple_elf();

	(void)state;
	expect_fail(len - 1, ST_ETRUNC, "ELF segment 0: file bytes");
	w32(EH_SIZE + 4, 0xFFFFFF00u); /* p_offset */
	expect_fail(len, ST_ETRUNC, "run past the end");
}

static void test_elf_filesz_gt_memsz(void **state)
{
	const struct tseg s = {PT_LOAD, MIB, MIB, 0x200, 0x1FF};
	size_t len = build_elf(MIB, 0, &s, 1);

	(void)state;
	expect_fail(len, ST_EINVAL, "filesz 0x200 exceeds memsz 0x1ff");
}

static void test_elf_wrap(void **state)
{
	const struct tseg s = {PT_LOAD, 0xFFFFF000u, 0xFFFFF000u, 0x10, 0x2000};
	size_t len = build_elf(0xFFFFF000u, 0, &s, 1);

	(void)state;
	expect_fail(len, ST_EINVAL, "wraps past 4 GiB");
}

static void test_elf_segment_below_1mib(void **state)
{
	const struct tseg s[3] = {
	    {PT_LOAD, MIB, MIB, 0x10, 0x10},
	    {PT_LOAD, 0x110000, 0x110000, 0x10, 0x10},
	    {PT_LOAD, 0x80000, 0x80000, 0x10, 0x10},
	};
	size_t len = build_elf(MIB, 0, s, 3);

	(void)state;
	expect_fail(len, ST_ERANGE, "ELF segment 2 at 0x00080000 lies below 1 MiB");
}

/* Bss reaching past RAM counts: memsz, not filesz. */
static void test_elf_segment_past_ram(void **state)
{
	const struct tseg s = {PT_LOAD, MIB, MIB, 0x10, 0x2300000};
	size_t len = build_elf(MIB, 0, &s, 1);

	(void)state;
	set_ram_size(0x1000000);
	expect_fail(len, ST_ERANGE, "kernel needs 0x2400000 bytes of RAM, VM has 0x1000000");
}

static void test_elf_no_loadable(void **state)
{
	const struct tseg s[2] = {
	    {PT_NOTE, MIB, MIB, 0x10, 0x10},
	    {PT_LOAD, MIB, MIB, 0, 0},
	};
	size_t len = build_elf(MIB, 0, s, 2);

	(void)state;
	expect_fail(len, ST_EINVAL, "no loadable segment");
}

static void test_elf_entry_outside(void **state)
{
	size_t len = simple_elf(); /* file bytes [1 MiB, +0x200), bss to +0x300 */

	(void)state;
	w32(EH_ENTRY, MIB + 0x200); /* first bss byte */
	expect_fail(len, ST_EINVAL, "ELF entry 0x00100200 lies outside");
	w32(EH_ENTRY, MIB - 1);
	expect_fail(len, ST_EINVAL, "outside every loaded segment");
}

/* ---- a.out failures ---- */

static void test_aout_fields_truncated(void **state)
{
	(void)state;
	put_mbhdr(0x40, F_ADDR);
	expect_fail(0x40 + 31, ST_ETRUNC, "address fields run past the end");
}

static void test_aout_fields_past_8192(void **state)
{
	(void)state;
	build_aout(0x3000, 8176, MIB, 0, 0, MIB);
	expect_fail(0x3000, ST_EINVAL, "extend past the first 8192 bytes");
}

static void test_aout_load_above_header(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, 0, 0, MIB);
	put_addr_fields(0x40, MIB, MIB + 0x100, 0, 0, MIB + 0x100);
	expect_fail(0x1000, ST_EINVAL, "load_addr 0x00100100 is above header_addr 0x00100000");
}

static void test_aout_starts_before_file(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, 0, 0, MIB);
	put_addr_fields(0x40, MIB + 0x41, MIB, 0, 0, MIB);
	expect_fail(0x1000, ST_EINVAL, "file offset 0x40");
}

static void test_aout_load_end_below_load(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, MIB - 1, 0, MIB);
	expect_fail(0x1000, ST_EINVAL, "load_end_addr 0x000fffff is below load_addr");
}

static void test_aout_load_end_past_file(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, MIB + 0x1001, 0, MIB);
	expect_fail(0x1000, ST_ETRUNC, "needs 0x1001 bytes");
}

static void test_aout_wrap(void **state)
{
	(void)state;
	build_aout(0x2000, 0x40, 0xFFFFF000u, 0, 0, 0xFFFFF000u);
	expect_fail(0x2000, ST_EINVAL, "wraps past 4 GiB");
}

static void test_aout_bss_below_load_end(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, MIB + 0x800, MIB + 0x7FF, MIB);
	expect_fail(0x1000, ST_EINVAL, "bss_end_addr 0x001007ff");
}

static void test_aout_entry_outside(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, MIB + 0x800, MIB + 0x1000, MIB + 0x800);
	expect_fail(0x1000, ST_EINVAL, "entry_addr 0x00100800 lies outside");
	build_aout(0x1000, 0x40, MIB, 0, 0, MIB - 4);
	expect_fail(0x1000, ST_EINVAL, "entry_addr");
}

static void test_aout_below_1mib(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, 0xFF000, 0, 0, 0xFF000);
	expect_fail(0x1000, ST_ERANGE, "at 0x000ff000 lies below 1 MiB");
}

static void test_aout_past_ram(void **state)
{
	(void)state;
	build_aout(0x1000, 0x40, MIB, 0, RAM_SIZE + 1, MIB);
	expect_fail(0x1000, ST_ERANGE, "kernel needs 0x400001 bytes of RAM, VM has 0x400000");
}

/* ---- RAM size ---- */

static void test_ram_too_small(void **state)
{
	size_t len = simple_elf();

	(void)state;
	set_ram_size(2 * MIB - 0x1000);
	expect_fail(len, ST_ERANGE, "below the 2 MiB minimum");
}

static void test_ram_too_large(void **state)
{
	size_t len = simple_elf();

	(void)state;
	set_ram_size(MB1_RAM_MAX + 0x1000);
	expect_fail(len, ST_ERANGE, "PCI hole");
}

static void test_ram_unaligned(void **state)
{
	size_t len = simple_elf();

	(void)state;
	set_ram_size(2 * MIB + 0x800);
	expect_fail(len, ST_EINVAL, "multiple of 4 KiB");
}

/* ---- modules and scratch area failures ---- */

static void test_module_does_not_fit(void **state)
{
	size_t len = simple_elf(); /* ends at 0x100300 */
	static uint8_t small[16];
	const struct mb1_module mods[2] = {
	    {small, sizeof(small), "a"},
	    {small, RAM_SIZE - 0x102000 + 1, "b"}, /* starts at 0x102000 */
	};

	(void)state;
	assert_int_equal(load(len, "", mods, 2), ST_ENOMEM);
	assert_non_null(strstr(why, "module 1"));
	assert_non_null(strstr(why, "at 0x102000) does not fit in RAM"));
	/* nothing at all was written, kernel included */
	assert_int_equal(ram.writes + ram.zeros, 0);
	assert_true(ram_all(MIB, 0x300, FILL));
}

static void test_module_without_data(void **state)
{
	size_t len = simple_elf();
	const struct mb1_module mod = {NULL, 10, "x"};

	(void)state;
	assert_int_equal(load(len, "", &mod, 1), ST_EINVAL);
	assert_non_null(strstr(why, "module 0 has 0xa bytes but no data"));
	assert_int_equal(ram.writes, 0);
}

/* The scratch area [0x8000, 0x9F000) holds 0x97000 bytes in all. */
static void test_cmdline_too_long(void **state)
{
	size_t len = simple_elf();
	size_t n = MB1_SCRATCH_END - MB1_SCRATCH_BASE;
	char *cmd = malloc(n + 1);

	(void)state;
	assert_non_null(cmd);
	memset(cmd, 'x', n);
	cmd[n] = '\0';
	assert_int_equal(load(len, cmd, NULL, 0), ST_ENOMEM);
	assert_non_null(strstr(why, "the command line (0x97001 bytes) does not fit"));
	assert_non_null(strstr(why, "scratch area"));
	assert_int_equal(ram.writes, 0);

	/* a long one that does fit is passed whole */
	cmd[0x80000] = '\0';
	assert_int_equal(load(len, cmd, NULL, 0), ST_OK);
	assert_int_equal(strlen(rdstr(rd32(res.mbi + MBI_CMDLINE))), 0x80000);
	free(cmd);
}

static void test_module_string_too_long(void **state)
{
	size_t len = simple_elf();
	size_t n = MB1_SCRATCH_END - MB1_SCRATCH_BASE;
	char *s = malloc(n);
	struct mb1_module mods[2] = {{NULL, 0, "ok"}, {NULL, 0, s}};

	(void)state;
	assert_non_null(s);
	memset(s, 'm', n - 1);
	s[n - 1] = '\0';
	assert_int_equal(load(len, "", mods, 2), ST_ENOMEM);
	assert_non_null(strstr(why, "module 1's string"));
	assert_int_equal(ram.writes, 0);
	free(s);
}

static void test_too_many_modules(void **state)
{
	size_t len = simple_elf();
	unsigned n = 40000; /* 40000 * 16 bytes > 0x97000 */
	struct mb1_module *mods = calloc(n, sizeof(*mods));

	(void)state;
	assert_non_null(mods);
	assert_int_equal(load(len, "", mods, n), ST_ENOMEM);
	assert_non_null(strstr(why, "list of 40000 modules"));
	assert_int_equal(ram.writes, 0);
	free(mods);
}

/* ---- arguments and callbacks ---- */

static void test_null_arguments(void **state)
{
	size_t len = simple_elf();
	struct mb1_mem bad = mem;

	(void)state;
	assert_int_equal(mb1_load(NULL, len, "", NULL, 0, &mem, &res, why, sizeof(why)), ST_EINVAL);
	assert_int_equal(mb1_load(img, len, "", NULL, 0, NULL, &res, why, sizeof(why)), ST_EINVAL);
	assert_int_equal(mb1_load(img, len, "", NULL, 0, &mem, NULL, why, sizeof(why)), ST_EINVAL);
	assert_int_equal(mb1_load(img, len, "", NULL, 1, &mem, &res, why, sizeof(why)), ST_EINVAL);
	bad.write = NULL;
	assert_int_equal(mb1_load(img, len, "", NULL, 0, &bad, &res, why, sizeof(why)), ST_EINVAL);
	bad = mem;
	bad.zero = NULL;
	assert_int_equal(mb1_load(img, len, "", NULL, 0, &bad, &res, why, sizeof(why)), ST_EINVAL);
	assert_int_equal(ram.writes, 0);
}

static void test_write_callback_failure(void **state)
{
	size_t len = simple_elf();

	(void)state;
	ram.fail_writes = true;
	assert_int_equal(load(len, "", NULL, 0), ST_ERANGE);
	assert_non_null(strstr(why, "guest memory write of 0x200 bytes at 0x100000 failed"));
}

static void test_zero_callback_failure(void **state)
{
	size_t len = simple_elf(); /* bss: 0x100 bytes at 0x100200 */

	(void)state;
	ram.fail_zeros = true;
	assert_int_equal(load(len, "", NULL, 0), ST_ERANGE);
	assert_non_null(strstr(why, "zeroing of 0x100 bytes at 0x100200 failed"));
}

static void test_module_write_failure(void **state)
{
	size_t len = simple_elf();
	static const uint8_t m[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	const struct mb1_module mod = {m, sizeof(m), "m"};

	(void)state;
	ram.fail_gpa = 0x101000; /* where the module goes */
	assert_int_equal(load(len, "", &mod, 1), ST_ERANGE);
	assert_non_null(strstr(why, "write of 0x8 bytes at 0x101000 failed"));
}

/* No why buffer, or a tiny one: still the right status, no overrun. */
static void test_why_optional(void **state)
{
	char tiny[8];

	(void)state;
	assert_int_equal(mb1_load(img, 64, "", NULL, 0, &mem, &res, NULL, 0), ST_ENOENT);
	memset(tiny, 'Z', sizeof(tiny));
	assert_int_equal(mb1_load(img, 64, "", NULL, 0, &mem, &res, tiny, sizeof(tiny)), ST_ENOENT);
	assert_string_equal(tiny, "multibo");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_elf_one_segment),
	    T(test_elf_three_segments_bss),
	    T(test_elf_unsorted_segments),
	    T(test_elf_entry_translation),
	    T(test_known_and_optional_flags),
	    T(test_aout_load),
	    T(test_aout_whole_file_no_bss),
	    T(test_aout_file_offset),
	    T(test_aout_fields_win_over_elf),
	    T(test_mbi_fields),
	    T(test_null_cmdline_is_empty),
	    T(test_max_ram),
	    T(test_mmap_5gib),
	    T(test_mmap_high_max),
	    T(test_high_ranges_refused),
	    T(test_min_ram),
	    T(test_modules),
	    T(test_module_fills_ram),
	    T(test_probe),
	    T(test_no_header),
	    T(test_header_past_8192),
	    T(test_unaligned_magic),
	    T(test_header_straddles_end),
	    T(test_bad_checksum),
	    T(test_bad_checksum_then_valid),
	    T(test_bad_checksum_then_cut),
	    T(test_unknown_flag),
	    T(test_not_elf),
	    T(test_elf64),
	    T(test_elf_header_truncated),
	    T(test_elf_big_endian),
	    T(test_elf_not_exec),
	    T(test_elf_wrong_machine),
	    T(test_elf_bad_phentsize),
	    T(test_elf_no_phdrs),
	    T(test_elf_phdrs_truncated),
	    T(test_elf_segment_past_file),
	    T(test_elf_filesz_gt_memsz),
	    T(test_elf_wrap),
	    T(test_elf_segment_below_1mib),
	    T(test_elf_segment_past_ram),
	    T(test_elf_no_loadable),
	    T(test_elf_entry_outside),
	    T(test_aout_fields_truncated),
	    T(test_aout_fields_past_8192),
	    T(test_aout_load_above_header),
	    T(test_aout_starts_before_file),
	    T(test_aout_load_end_below_load),
	    T(test_aout_load_end_past_file),
	    T(test_aout_wrap),
	    T(test_aout_bss_below_load_end),
	    T(test_aout_entry_outside),
	    T(test_aout_below_1mib),
	    T(test_aout_past_ram),
	    T(test_ram_too_small),
	    T(test_ram_too_large),
	    T(test_ram_unaligned),
	    T(test_module_does_not_fit),
	    T(test_module_without_data),
	    T(test_cmdline_too_long),
	    T(test_module_string_too_long),
	    T(test_too_many_modules),
	    T(test_null_arguments),
	    T(test_write_callback_failure),
	    T(test_zero_callback_failure),
	    T(test_module_write_failure),
	    T(test_why_optional),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
