/* Unit tests for the bitmap frame allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/frame.h"
#include "mm/memmap.h"

#define KB 1024ull
#define MB (1024ull * KB)
#define PG 4096ull

static uint64_t bitmap[4096];
static struct frame_alloc fa;

static void init(const struct mem_region *m, size_t n)
{
	memset(bitmap, 0, sizeof(bitmap));
	assert_int_equal(frame_init(&fa, m, n, bitmap, sizeof(bitmap)), ST_OK);
}

static bool in_region(const struct mem_region *m, size_t n, uint64_t pa, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].type == type && pa + PG > m[i].base && pa < m[i].base + m[i].len)
			return true;
	return false;
}

static void test_bitmap_bytes(void **state)
{
	(void)state;
	assert_int_equal(frame_bitmap_bytes(0), 0);
	assert_int_equal(frame_bitmap_bytes(1), 8);
	assert_int_equal(frame_bitmap_bytes(64 * PG), 8);
	assert_int_equal(frame_bitmap_bytes(64 * PG + 1), 16);
	assert_int_equal(frame_bitmap_bytes(4ull << 30), (4ull << 30) / PG / 8);
}

static void test_init_too_small(void **state)
{
	(void)state;
	struct mem_region m[] = {{0, 128 * PG, MEM_USABLE}};
	uint64_t small[1];

	assert_int_equal(frame_init(&fa, m, 1, small, sizeof(small)), ST_ERANGE);
	assert_int_equal(frame_init(&fa, m, 1, bitmap, 2 * sizeof(uint64_t)), ST_OK);
	assert_int_equal(frame_free_count(&fa), 127); /* frame 0 held back */
}

/* A raw firmware map, overlapping and unaligned, straight into frame_init. */
static const struct mem_region raw[] = {
    {0, 640 * KB, MEM_USABLE},
    {0x9fc00, 0x60400, MEM_RESERVED},
    {1 * MB, 7 * MB, MEM_USABLE},
    {2 * MB + 0x800, 0x1000, MEM_ACPI_RECLAIM}, /* touches two frames */
    {3 * MB, 64 * KB, MEM_ACPI_NVS},
    {4 * MB + 0x10, 8 * KB, MEM_USABLE}, /* overlaps usable; harmless */
    {6 * MB, 4 * KB, MEM_BAD},
    {8 * MB + 0x100, 1 * MB, MEM_USABLE}, /* unaligned both ends */
};

static void alloc_all_check(const struct mem_region *m, size_t n, uint64_t expect)
{
	uint64_t pa, got = 0;

	while (frame_alloc(&fa, 1, 1, 0, &pa) == ST_OK) {
		assert_int_equal(pa % PG, 0);
		assert_int_not_equal(pa, 0);
		assert_false(in_region(m, n, pa, MEM_RESERVED));
		assert_false(in_region(m, n, pa, MEM_ACPI_RECLAIM));
		assert_false(in_region(m, n, pa, MEM_ACPI_NVS));
		assert_false(in_region(m, n, pa, MEM_BAD));
		assert_true(in_region(m, n, pa, MEM_USABLE));
		got++;
	}
	assert_int_equal(got, expect);
	assert_int_equal(frame_free_count(&fa), 0);
}

static void test_raw_map(void **state)
{
	(void)state;
	/* Low: 160 - frame 0 - frame 0x9f (the reserved range starts inside it).
	 * 1-8 MiB: 1792 - 2 ACPI - 16 NVS - 1 bad. High: 255 whole frames. */
	uint64_t expect = 158 + 1792 - 2 - 16 - 1 + 255;

	init(raw, sizeof(raw) / sizeof(raw[0]));
	assert_int_equal(frame_free_count(&fa), expect);
	alloc_all_check(raw, sizeof(raw) / sizeof(raw[0]), expect);
}

static void test_normalized_map(void **state)
{
	(void)state;
	struct mem_region m[16];
	status_t st;
	size_t n = memmap_normalize(raw, sizeof(raw) / sizeof(raw[0]), m, 16, &st);

	assert_int_equal(st, ST_OK);
	init(m, n);
	assert_int_equal(frame_free_count(&fa), memmap_usable_bytes(m, n) / PG - 1);
	alloc_all_check(raw, sizeof(raw) / sizeof(raw[0]), memmap_usable_bytes(m, n) / PG - 1);
}

static const struct mem_region simple[] = {{0, 16 * MB, MEM_USABLE}};

static void test_exhaustion_and_refill(void **state)
{
	(void)state;
	uint64_t pa, total;

	init(simple, 1);
	total = frame_free_count(&fa);
	assert_int_equal(total, 4095);
	assert_int_equal(frame_alloc(&fa, 4096, 1, 0, &pa), ST_ENOMEM);
	assert_int_equal(frame_alloc(&fa, 4095, 1, 0, &pa), ST_OK);
	assert_int_equal(pa, PG);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &pa), ST_ENOMEM);
	assert_int_equal(frame_free(&fa, PG, 4095), ST_OK);
	assert_int_equal(frame_free_count(&fa), total);
}

static void test_lowest_first_and_reuse(void **state)
{
	(void)state;
	uint64_t a, b, c;

	init(simple, 1);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &a), ST_OK);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &b), ST_OK);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &c), ST_OK);
	assert_int_equal(a, 1 * PG);
	assert_int_equal(b, 2 * PG);
	assert_int_equal(c, 3 * PG);
	assert_int_equal(frame_free(&fa, b, 1), ST_OK);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &b), ST_OK);
	assert_int_equal(b, 2 * PG);
	/* A run that does not fit the hole is placed after it. */
	assert_int_equal(frame_free(&fa, b, 1), ST_OK);
	assert_int_equal(frame_alloc(&fa, 2, 1, 0, &b), ST_OK);
	assert_int_equal(b, 4 * PG);
}

static void test_alignment_2m(void **state)
{
	(void)state;
	uint64_t pa, one;

	init(simple, 1);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &one), ST_OK);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(frame_alloc(&fa, 512, 512, 0, &pa), ST_OK);
		assert_int_equal(pa % (2 * MB), 0);
		assert_int_equal(pa, (uint64_t)(i + 1) * 2 * MB);
	}
	/* Frame 0 is held back, so [0, 2 MiB) never forms an aligned run. */
	assert_int_equal(frame_alloc(&fa, 512, 512, 0, &pa), ST_ENOMEM);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0, &pa), ST_OK);
	assert_int_equal(pa, 2 * PG);
	assert_int_equal(frame_alloc(&fa, 1, 3, 0, &pa), ST_EINVAL);
	assert_int_equal(frame_alloc(&fa, 0, 1, 0, &pa), ST_EINVAL);
}

static void test_alignment_skips_used(void **state)
{
	(void)state;
	uint64_t pa;

	init(simple, 1);
	frame_reserve(&fa, 2 * MB + 5 * PG, 1);
	assert_int_equal(frame_alloc(&fa, 512, 512, 0, &pa), ST_OK);
	assert_int_equal(pa, 4 * MB);
	assert_int_equal(frame_alloc(&fa, 4, 4, 0, &pa), ST_OK);
	assert_int_equal(pa, 4 * PG);
}

static void test_below(void **state)
{
	(void)state;
	uint64_t pa;

	init(simple, 1);
	assert_int_equal(frame_alloc(&fa, 3, 1, 4 * PG, &pa), ST_OK);
	assert_int_equal(pa, PG);
	assert_int_equal(frame_alloc(&fa, 1, 1, 4 * PG, &pa), ST_ENOMEM);
	/* A run may end exactly at the limit but not cross it. */
	assert_int_equal(frame_alloc(&fa, 2, 1, 6 * PG + 100, &pa), ST_OK);
	assert_int_equal(pa, 4 * PG);
	assert_int_equal(frame_alloc(&fa, 2, 1, 7 * PG, &pa), ST_ENOMEM);
	assert_int_equal(frame_alloc(&fa, 1, 1, 1ull << 60, &pa), ST_OK);
	assert_int_equal(pa, 6 * PG);
}

static void test_double_free_and_bad_free(void **state)
{
	(void)state;
	uint64_t pa, before;

	init(simple, 1);
	assert_int_equal(frame_alloc(&fa, 4, 1, 0, &pa), ST_OK);
	assert_int_equal(frame_free(&fa, pa + PG, 1), ST_OK);
	before = frame_free_count(&fa);
	/* The run includes a free frame: rejected whole, nothing changes. */
	assert_int_equal(frame_free(&fa, pa, 4), ST_EINVAL);
	assert_int_equal(frame_free_count(&fa), before);
	assert_int_equal(frame_free(&fa, pa + PG, 1), ST_EINVAL);
	assert_int_equal(frame_free(&fa, pa + 1, 1), ST_EINVAL);
	assert_int_equal(frame_free(&fa, 16 * MB, 1), ST_EINVAL);
	assert_int_equal(frame_free(&fa, 16 * MB - PG, 2), ST_EINVAL);
	assert_int_equal(frame_free(&fa, 16 * MB - PG, UINT64_MAX), ST_EINVAL);
	assert_int_equal(frame_free(&fa, pa, 0), ST_EINVAL);
	assert_int_equal(frame_free_count(&fa), before);
	assert_int_equal(frame_free(&fa, pa, 1), ST_OK);
	assert_int_equal(frame_free(&fa, pa + 2 * PG, 2), ST_OK);
	assert_int_equal(frame_free_count(&fa), 4095);
}

static void test_reserve_after_init(void **state)
{
	(void)state;
	uint64_t pa;

	init(simple, 1);
	frame_reserve(&fa, PG + 0x10, 2 * PG); /* touches frames 1, 2 and 3 */
	frame_reserve(&fa, 8 * MB, 0);	       /* empty: nothing */
	frame_reserve(&fa, 15 * MB, 4 * MB);   /* runs past the map: clipped */
	frame_reserve(&fa, UINT64_MAX - 10, 100);
	assert_int_equal(frame_free_count(&fa), 4095 - 3 - 256);
	/* Reserving twice does not count twice. */
	frame_reserve(&fa, PG, PG);
	assert_int_equal(frame_free_count(&fa), 4095 - 3 - 256);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &pa), ST_OK);
	assert_int_equal(pa, 4 * PG);
	while (frame_alloc(&fa, 1, 1, 0, &pa) == ST_OK)
		assert_true(pa >= 4 * PG && pa < 15 * MB);
	assert_int_equal(frame_free_count(&fa), 0);
}

static void test_frame_zero(void **state)
{
	(void)state;
	struct mem_region tiny[] = {{0, 2 * PG, MEM_USABLE}};
	uint64_t pa;

	init(tiny, 1);
	assert_int_equal(frame_free_count(&fa), 1);
	assert_int_equal(frame_free(&fa, 0, 1), ST_EINVAL);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &pa), ST_OK);
	assert_int_equal(pa, PG);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &pa), ST_ENOMEM);
	assert_int_equal(frame_free(&fa, 0, 2), ST_EINVAL);
	assert_int_equal(frame_free(&fa, PG, 1), ST_OK);
}

static void test_no_usable_memory(void **state)
{
	(void)state;
	struct mem_region m[] = {{0, 1 * MB, MEM_RESERVED}};
	uint64_t pa;

	assert_int_equal(frame_init(&fa, m, 1, NULL, 0), ST_OK);
	assert_int_equal(frame_free_count(&fa), 0);
	assert_int_equal(frame_alloc(&fa, 1, 1, 0, &pa), ST_ENOMEM);
	assert_int_equal(frame_free(&fa, PG, 1), ST_EINVAL);
}

/* Random alloc/free churn against a shadow array. */
static void test_churn(void **state)
{
	(void)state;
	static uint8_t owned[4096];
	uint64_t seed = 99, pa;

	memset(owned, 0, sizeof(owned));
	init(simple, 1);
	for (int i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t f = 1 + (seed >> 33) % 4095;

		if (owned[f]) {
			assert_int_equal(frame_free(&fa, f * PG, 1), ST_OK);
			owned[f] = 0;
		} else if (frame_alloc(&fa, 1 + (seed >> 8) % 8, 1, 0, &pa) == ST_OK) {
			for (uint64_t k = 0; k < 1 + (seed >> 8) % 8; k++) {
				assert_int_equal(owned[pa / PG + k], 0);
				owned[pa / PG + k] = 1;
			}
		}
	}
	uint64_t used = 0;
	for (int f = 0; f < 4096; f++)
		used += owned[f];
	assert_int_equal(frame_free_count(&fa), 4095 - used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bitmap_bytes),
	    cmocka_unit_test(test_init_too_small),
	    cmocka_unit_test(test_raw_map),
	    cmocka_unit_test(test_normalized_map),
	    cmocka_unit_test(test_exhaustion_and_refill),
	    cmocka_unit_test(test_lowest_first_and_reuse),
	    cmocka_unit_test(test_alignment_2m),
	    cmocka_unit_test(test_alignment_skips_used),
	    cmocka_unit_test(test_below),
	    cmocka_unit_test(test_double_free_and_bad_free),
	    cmocka_unit_test(test_reserve_after_init),
	    cmocka_unit_test(test_frame_zero),
	    cmocka_unit_test(test_no_usable_memory),
	    cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
