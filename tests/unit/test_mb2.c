/* Unit tests for the multiboot2 parser: MBIs are assembled tag by tag in a
 * buffer, then parsed with the exact readable length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/mb2.h"

struct mbi {
	_Alignas(8) uint8_t buf[16384];
	uint32_t len;
};

static struct mbi M;
static struct boot_info *BI;
static char ERR[160];

static void put(const void *p, uint32_t n)
{
	assert_true(M.len + n <= sizeof(M.buf));
	memcpy(M.buf + M.len, p, n);
	M.len += n;
}

static void put32(uint32_t v)
{
	put(&v, 4);
}

static void put64(uint64_t v)
{
	put(&v, 8);
}

static void mbi_init(void)
{
	memset(&M, 0, sizeof(M));
	M.len = 8;
}

/* Returns the tag's offset; tag_end() patches its size and pads to 8. */
static uint32_t tag_begin(uint32_t type)
{
	uint32_t off = M.len;

	put32(type);
	put32(0);
	return off;
}

static void tag_end(uint32_t off)
{
	uint32_t size = M.len - off;

	memcpy(M.buf + off + 4, &size, 4);
	while (M.len % 8)
		M.buf[M.len++] = 0;
}

static void set_total(uint32_t total)
{
	memcpy(M.buf, &total, 4);
}

static void mbi_finish(void)
{
	tag_end(tag_begin(0));
	set_total(M.len);
}

static void add_str(uint32_t type, const char *s)
{
	uint32_t off = tag_begin(type);

	put(s, (uint32_t)strlen(s) + 1);
	tag_end(off);
}

static void add_module(uint32_t start, uint32_t end, const char *name)
{
	uint32_t off = tag_begin(3);

	put32(start);
	put32(end);
	put(name, (uint32_t)strlen(name) + 1);
	tag_end(off);
}

struct ent {
	uint64_t base, len;
	uint32_t type;
};

static void add_mmap(const struct ent *e, unsigned n)
{
	uint32_t off = tag_begin(6);

	put32(24);
	put32(0);
	for (unsigned i = 0; i < n; i++) {
		put64(e[i].base);
		put64(e[i].len);
		put32(e[i].type);
		put32(0);
	}
	tag_end(off);
}

static void add_raw(uint32_t type, const void *p, uint32_t n)
{
	uint32_t off = tag_begin(type);

	put(p, n);
	tag_end(off);
}

static status_t parse(void)
{
	return mb2_parse(M.buf, M.len, BI, ERR, sizeof(ERR));
}

static int setup(void **state)
{
	(void)state;
	BI = malloc(sizeof(*BI));
	memset(ERR, 'x', sizeof(ERR));
	mbi_init();
	return BI ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(BI);
	return 0;
}

static uint8_t rsdp_bytes(int i, int seed)
{
	return (uint8_t)(i * 7 + seed);
}

static void add_rsdp(uint32_t type, uint32_t n, int seed)
{
	uint8_t r[40];

	for (int i = 0; i < 40; i++)
		r[i] = rsdp_bytes(i, seed);
	add_raw(type, r, n);
}

static void test_full_valid(void **state)
{
	static const struct ent e[] = {
	    {0, 0x9fc00, 1},	      {0x9fc00, 0x400, 2},     {0x100000, 0, 1},
	    {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x10000, 3}, {0x7ff0000, 0x1000, 4},
	    {0x7ff1000, 0x1000, 5},   {0xfee00000, 0x1000, 9},
	};
	uint8_t odd[5] = {1, 2, 3, 4, 5};
	(void)state;

	add_str(1, "loglevel=debug console=com1");
	add_str(2, "GRUB 2.06");
	add_module(0x200000, 0x201000, "guest.bin");
	add_module(0x300000, 0x300000, "");
	add_raw(21, odd, sizeof(odd)); /* unknown, unpadded size: must be skipped */
	add_mmap(e, 8);
	add_rsdp(15, 36, 1);
	uint32_t off = tag_begin(12);
	put64(0x7fabc000);
	tag_end(off);
	mbi_finish();

	assert_int_equal(parse(), ST_OK);
	assert_string_equal(ERR, "");
	assert_int_equal(BI->firmware, FW_UEFI);
	assert_string_equal(BI->cmdline, "loglevel=debug console=com1");
	assert_string_equal(BI->loader_name, "GRUB 2.06");
	assert_int_equal(BI->module_count, 2);
	assert_int_equal(BI->modules[0].start, 0x200000);
	assert_int_equal(BI->modules[0].end, 0x201000);
	assert_string_equal(BI->modules[0].name, "guest.bin");
	assert_int_equal(BI->modules[1].start, 0x300000);
	assert_string_equal(BI->modules[1].name, "");
	assert_int_equal(BI->memmap_count, 7); /* zero-length entry dropped */
	static const uint32_t types[] = {MEM_USABLE,   MEM_RESERVED, MEM_USABLE,  MEM_ACPI_RECLAIM,
					 MEM_ACPI_NVS, MEM_BAD,	     MEM_RESERVED};
	static const int src[] = {0, 1, 3, 4, 5, 6, 7};
	for (int i = 0; i < 7; i++) {
		assert_int_equal(BI->memmap[i].base, e[src[i]].base);
		assert_int_equal(BI->memmap[i].len, e[src[i]].len);
		assert_int_equal(BI->memmap[i].type, types[i]);
	}
	assert_int_equal(BI->rsdp_len, 36);
	for (int i = 0; i < 36; i++)
		assert_int_equal(BI->rsdp[i], rsdp_bytes(i, 1));
	assert_int_equal(BI->efi_system_table, 0x7fabc000);
}

static void test_minimal_bios(void **state)
{
	(void)state;
	mbi_finish();
	assert_int_equal(M.len, 16);
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->firmware, FW_BIOS);
	assert_int_equal(BI->memmap_count, 0);
	assert_int_equal(BI->rsdp_len, 0);
	assert_string_equal(BI->cmdline, "");
}

static void test_output_zeroed_first(void **state)
{
	(void)state;
	memset(BI, 0xa5, sizeof(*BI));
	set_total(4);
	assert_int_equal(mb2_parse(M.buf, 16, BI, ERR, sizeof(ERR)), ST_EINVAL);
	assert_int_equal(BI->memmap_count, 0);
	assert_int_equal(BI->cmdline[0], 0);
}

static void test_total_size_bounds(void **state)
{
	(void)state;
	add_str(1, "abc");
	mbi_finish();
	assert_int_equal(mb2_parse(M.buf, M.len - 1, BI, ERR, sizeof(ERR)), ST_ETRUNC);
	assert_non_null(strstr(ERR, "exceeds"));
	assert_int_equal(mb2_parse(M.buf, 8, BI, ERR, sizeof(ERR)), ST_ETRUNC);
	set_total(15);
	assert_int_equal(mb2_parse(M.buf, M.len, BI, ERR, sizeof(ERR)), ST_EINVAL);
	assert_string_equal(ERR, "multiboot2: total_size 15 (< 16)");
	assert_int_equal(mb2_parse(NULL, 64, BI, ERR, sizeof(ERR)), ST_EINVAL);
}

static void test_tag_crosses_end(void **state)
{
	(void)state;
	add_str(1, "abc");
	mbi_finish();
	uint32_t big = 0x1000;
	memcpy(M.buf + 12, &big, 4);
	assert_int_equal(parse(), ST_ETRUNC);
	assert_string_equal(ERR, "multiboot2: tag 1 at offset 8 has size 4096, past total_size 32");
	/* A size near 4 GiB must not wrap the offset arithmetic either. */
	big = 0xfffffffc;
	memcpy(M.buf + 12, &big, 4);
	assert_int_equal(parse(), ST_ETRUNC);
}

static void test_tag_size_too_small(void **state)
{
	(void)state;
	uint32_t off = tag_begin(6);
	tag_end(off);
	mbi_finish();
	uint32_t four = 4;
	memcpy(M.buf + off + 4, &four, 4);
	assert_int_equal(parse(), ST_EINVAL);
	assert_string_equal(ERR, "multiboot2: tag 6 at offset 8 has size 4 (< 8)");
}

static void test_known_tag_payload_too_small(void **state)
{
	(void)state;
	add_raw(12, "\1\2\3\4", 4); /* EFI64 ST needs 8 payload bytes */
	mbi_finish();
	assert_int_equal(parse(), ST_EINVAL);
	assert_string_equal(ERR, "multiboot2: tag 12 at offset 8 has size 12 (< 16)");
}

static void test_missing_end_tag(void **state)
{
	(void)state;
	add_str(1, "abc");
	set_total(M.len);
	assert_int_equal(parse(), ST_EINVAL);
	assert_non_null(strstr(ERR, "no end tag"));
	/* An end tag with the wrong size is not an end tag. */
	add_raw(0, "\0\0\0\0\0\0\0\0", 8);
	set_total(M.len);
	assert_int_equal(parse(), ST_EINVAL);
}

static void test_bad_mmap_entry_size(void **state)
{
	static const uint32_t bad[] = {0, 16, 20, 28};
	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		mbi_init();
		uint32_t off = tag_begin(6);
		put32(bad[i]);
		put32(0);
		for (int j = 0; j < 8; j++)
			put32(1);
		tag_end(off);
		mbi_finish();
		assert_int_equal(parse(), ST_EINVAL);
		assert_non_null(strstr(ERR, "entry_size"));
	}
}

static void test_mmap_larger_entries_and_partial(void **state)
{
	(void)state;
	uint32_t off = tag_begin(6);
	put32(32); /* a future, larger entry layout */
	put32(0);
	put64(0x1000);
	put64(0x2000);
	put32(1);
	put32(0);
	put64(0xdeadbeef); /* unknown trailing field */
	tag_end(off);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->memmap_count, 1);
	assert_int_equal(BI->memmap[0].base, 0x1000);
	assert_int_equal(BI->memmap[0].len, 0x2000);

	mbi_init();
	off = tag_begin(6);
	put32(24);
	put32(0);
	for (int j = 0; j < 8; j++) /* 32 bytes: one entry and a fragment */
		put32(1);
	tag_end(off);
	mbi_finish();
	assert_int_equal(parse(), ST_EINVAL);
}

static void test_memmap_limit(void **state)
{
	static struct ent e[BOOT_MAX_MEMMAP + 1];
	(void)state;
	for (unsigned i = 0; i <= BOOT_MAX_MEMMAP; i++)
		e[i] = (struct ent){(uint64_t)i << 12, 0x1000, 1};
	add_mmap(e, BOOT_MAX_MEMMAP);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->memmap_count, BOOT_MAX_MEMMAP);

	mbi_init();
	add_mmap(e, BOOT_MAX_MEMMAP + 1);
	mbi_finish();
	assert_int_equal(parse(), ST_ERANGE);
	assert_non_null(strstr(ERR, "BOOT_MAX_MEMMAP (512)"));
}

static void test_unterminated_string(void **state)
{
	(void)state;
	add_raw(1, "abcdefgh", 8); /* no NUL inside the tag; padding must not count */
	mbi_finish();
	assert_int_equal(parse(), ST_EINVAL);
	assert_string_equal(ERR, "multiboot2: tag 1 at offset 8: string not NUL-terminated");

	mbi_init();
	uint32_t off = tag_begin(3);
	put32(0x1000);
	put32(0x2000);
	put("name", 4);
	tag_end(off);
	mbi_finish();
	assert_int_equal(parse(), ST_EINVAL);
	assert_non_null(strstr(ERR, "NUL"));
}

static void test_too_many_modules(void **state)
{
	(void)state;
	for (int i = 0; i < BOOT_MAX_MODULES; i++)
		add_module(0x1000u * i, 0x1000u * i + 0x800, "m");
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->module_count, BOOT_MAX_MODULES);

	mbi_init();
	for (int i = 0; i <= BOOT_MAX_MODULES; i++)
		add_module(0x1000u * i, 0x1000u * i + 0x800, "m");
	mbi_finish();
	assert_int_equal(parse(), ST_ERANGE);
	assert_string_equal(ERR, "multiboot2: more than BOOT_MAX_MODULES (16) modules");
}

static void test_long_strings(void **state)
{
	static char s[BOOT_CMDLINE_MAX + 1];
	(void)state;
	memset(s, 'a', BOOT_CMDLINE_MAX - 1);
	s[BOOT_CMDLINE_MAX - 1] = '\0';
	add_str(1, s);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(strlen(BI->cmdline), BOOT_CMDLINE_MAX - 1);

	mbi_init();
	s[BOOT_CMDLINE_MAX - 1] = 'a';
	add_str(1, s);
	mbi_finish();
	assert_int_equal(parse(), ST_ERANGE);
	assert_non_null(strstr(ERR, "BOOT_CMDLINE_MAX (1024)"));

	mbi_init();
	memset(s, 'b', BOOT_MODNAME_MAX);
	s[BOOT_MODNAME_MAX] = '\0';
	add_module(0, 1, s);
	mbi_finish();
	assert_int_equal(parse(), ST_ERANGE);
	assert_non_null(strstr(ERR, "BOOT_MODNAME_MAX"));

	mbi_init();
	memset(s, 'c', BOOT_LOADER_NAME_MAX);
	s[BOOT_LOADER_NAME_MAX] = '\0';
	add_str(2, s);
	mbi_finish();
	assert_int_equal(parse(), ST_ERANGE);
	assert_non_null(strstr(ERR, "BOOT_LOADER_NAME_MAX"));
}

static void test_module_end_before_start(void **state)
{
	(void)state;
	add_module(0x2000, 0x1fff, "bad");
	mbi_finish();
	assert_int_equal(parse(), ST_EINVAL);
	assert_string_equal(ERR,
			    "multiboot2: module at offset 8 ends (8191) before it starts (8192)");
}

static void test_rsdp_preference(void **state)
{
	(void)state;
	add_rsdp(14, 20, 3);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->rsdp_len, 20);
	assert_int_equal(BI->rsdp[19], rsdp_bytes(19, 3));
	assert_int_equal(BI->rsdp[20], 0);

	/* 15 wins whichever order the loader used. */
	for (int order = 0; order < 2; order++) {
		mbi_init();
		if (order == 0)
			add_rsdp(14, 20, 3);
		add_rsdp(15, 36, 9);
		if (order == 1)
			add_rsdp(14, 20, 3);
		mbi_finish();
		assert_int_equal(parse(), ST_OK);
		assert_int_equal(BI->rsdp_len, 36);
		for (int i = 0; i < 36; i++)
			assert_int_equal(BI->rsdp[i], rsdp_bytes(i, 9));
	}

	/* Bytes beyond 36 are not copied; fewer than 20 is malformed. */
	mbi_init();
	add_rsdp(15, 40, 5);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->rsdp_len, 36);
	mbi_init();
	add_rsdp(14, 19, 5);
	mbi_finish();
	assert_int_equal(parse(), ST_EINVAL);
}

static void test_firmware_detection(void **state)
{
	(void)state;
	add_raw(11, "\0\0\x10\0", 4);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->firmware, FW_UEFI);
	assert_int_equal(BI->efi_system_table, 0);

	mbi_init();
	add_raw(17, "\x30\0\0\0\1\0\0\0", 8);
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->firmware, FW_UEFI);

	mbi_init();
	add_str(2, "GRUB");
	mbi_finish();
	assert_int_equal(parse(), ST_OK);
	assert_int_equal(BI->firmware, FW_BIOS);
}

static void test_misaligned_and_small_err(void **state)
{
	static uint8_t shifted[64];
	char tiny[6];
	(void)state;
	add_str(1, "x");
	mbi_finish();
	memcpy(shifted + 1, M.buf, M.len);
	assert_int_equal(mb2_parse(shifted + 1, M.len, BI, NULL, 0), ST_OK);
	assert_string_equal(BI->cmdline, "x");

	set_total(8);
	assert_int_equal(mb2_parse(M.buf, M.len, BI, tiny, sizeof(tiny)), ST_EINVAL);
	assert_string_equal(tiny, "multi");
	assert_int_equal(mb2_parse(M.buf, M.len, BI, NULL, 0), ST_EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_full_valid),
	    T(test_minimal_bios),
	    T(test_output_zeroed_first),
	    T(test_total_size_bounds),
	    T(test_tag_crosses_end),
	    T(test_tag_size_too_small),
	    T(test_known_tag_payload_too_small),
	    T(test_missing_end_tag),
	    T(test_bad_mmap_entry_size),
	    T(test_mmap_larger_entries_and_partial),
	    T(test_memmap_limit),
	    T(test_unterminated_string),
	    T(test_too_many_modules),
	    T(test_long_strings),
	    T(test_module_end_before_start),
	    T(test_rsdp_preference),
	    T(test_firmware_detection),
	    T(test_misaligned_and_small_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
