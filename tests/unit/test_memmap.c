/* Unit tests for firmware memory-map normalization and free-range search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/memmap.h"

#define KB 1024ull
#define MB (1024ull * KB)
#define GB (1024ull * MB)

static struct mem_region out[64];

static size_t norm(const struct mem_region *in, size_t n)
{
	status_t st = ST_EINVAL;
	size_t r = memmap_normalize(in, n, out, 64, &st);

	assert_int_equal(st, ST_OK);
	return r;
}

static void expect(size_t i, uint64_t base, uint64_t len, uint32_t type)
{
	assert_int_equal(out[i].base, base);
	assert_int_equal(out[i].len, len);
	assert_int_equal(out[i].type, type);
}

/* Whatever the input, the output must be sorted, disjoint and merged. */
static void check_invariants(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(out[i].len > 0);
		if (out[i].type == MEM_USABLE) {
			assert_int_equal(out[i].base % 4096, 0);
			assert_int_equal(out[i].len % 4096, 0);
		}
		if (i == 0)
			continue;
		assert_true(out[i - 1].base + out[i - 1].len <= out[i].base);
		if (out[i - 1].base + out[i - 1].len == out[i].base)
			assert_int_not_equal(out[i - 1].type, out[i].type);
	}
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(norm(NULL, 0), 0);
	struct mem_region z[] = {{4096, 0, MEM_USABLE}, {0, 0, MEM_RESERVED}};
	assert_int_equal(norm(z, 2), 0);
}

static void test_sorts_and_merges(void **state)
{
	(void)state;
	struct mem_region in[] = {
	    {1 * MB, 1 * MB, MEM_USABLE},
	    {0, 640 * KB, MEM_USABLE},
	    {2 * MB, 2 * MB, MEM_USABLE},
	    {640 * KB, 384 * KB, MEM_RESERVED},
	};
	size_t n = norm(in, 4);

	assert_int_equal(n, 3);
	expect(0, 0, 640 * KB, MEM_USABLE);
	expect(1, 640 * KB, 384 * KB, MEM_RESERVED);
	expect(2, 1 * MB, 3 * MB, MEM_USABLE);
	check_invariants(n);
}

static void test_restrictive_wins(void **state)
{
	(void)state;
	struct mem_region in[] = {
	    {0, 16 * MB, MEM_USABLE},	    {4 * MB, 4 * MB, MEM_ACPI_RECLAIM},
	    {6 * MB, 4 * MB, MEM_ACPI_NVS}, {5 * MB, 1 * MB, MEM_BAD},
	    {7 * MB, 1 * MB, MEM_RESERVED},
	};
	size_t n = norm(in, 5);

	check_invariants(n);
	assert_int_equal(n, 7);
	expect(0, 0, 4 * MB, MEM_USABLE);
	expect(1, 4 * MB, 1 * MB, MEM_ACPI_RECLAIM);
	expect(2, 5 * MB, 1 * MB, MEM_BAD);
	expect(3, 6 * MB, 1 * MB, MEM_ACPI_NVS);
	expect(4, 7 * MB, 1 * MB, MEM_RESERVED);
	expect(5, 8 * MB, 2 * MB, MEM_ACPI_NVS);
	expect(6, 10 * MB, 6 * MB, MEM_USABLE);
	assert_int_equal(memmap_usable_bytes(out, n), 10 * MB);
}

static void test_unknown_type_is_reserved(void **state)
{
	(void)state;
	struct mem_region in[] = {{0, 8 * MB, MEM_USABLE}, {1 * MB, 1 * MB, 7}};
	size_t n = norm(in, 2);

	assert_int_equal(n, 3);
	expect(1, 1 * MB, 1 * MB, MEM_RESERVED);
}

static void test_usable_shrinks_inward(void **state)
{
	(void)state;
	struct mem_region in[] = {
	    {0x1100, 0x3000, MEM_USABLE},    /* -> [0x2000, 0x4000) */
	    {0x10000, 0x800, MEM_USABLE},    /* less than a page: gone */
	    {0x20000, 0x1800, MEM_RESERVED}, /* non-usable keeps its edges */
	    {0x21800, 0x2900, MEM_USABLE},   /* -> [0x22000, 0x24000) */
	    {0x30001, 0x1ffe, MEM_USABLE},   /* no whole page inside */
	};
	size_t n = norm(in, 5);

	check_invariants(n);
	assert_int_equal(n, 3);
	expect(0, 0x2000, 0x2000, MEM_USABLE);
	expect(1, 0x20000, 0x1800, MEM_RESERVED);
	expect(2, 0x22000, 0x2000, MEM_USABLE);
}

static void test_merge_before_align(void **state)
{
	(void)state;
	/* Two unaligned halves of one page are usable together. */
	struct mem_region in[] = {{0x1800, 0x800, MEM_USABLE}, {0x1000, 0x800, MEM_USABLE}};
	size_t n = norm(in, 2);

	assert_int_equal(n, 1);
	expect(0, 0x1000, 0x1000, MEM_USABLE);
}

static void test_overflow_clamped(void **state)
{
	(void)state;
	struct mem_region in[] = {
	    {UINT64_MAX - 0xfff, 0x10000, MEM_RESERVED},
	    {UINT64_MAX - 0x1ffff, UINT64_MAX, MEM_USABLE},
	    {UINT64_MAX, 5, MEM_BAD},
	};
	size_t n = norm(in, 3);

	check_invariants(n);
	assert_int_equal(n, 2);
	expect(0, UINT64_MAX - 0x1ffff, 0x1f000, MEM_USABLE);
	expect(1, UINT64_MAX - 0xfff, 0xfff, MEM_RESERVED);
	assert_int_equal(memmap_top(out, n), UINT64_MAX - 0xfff);
}

static void test_out_cap(void **state)
{
	(void)state;
	struct mem_region in[] = {
	    {0, 4096, MEM_USABLE}, {4096, 4096, MEM_RESERVED}, {8192, 4096, MEM_USABLE}};
	struct mem_region small[2];
	status_t st = ST_OK;

	assert_int_equal(memmap_normalize(in, 3, small, 2, &st), 2);
	assert_int_equal(st, ST_ERANGE);
	assert_int_equal(memmap_normalize(in, 3, small, 0, &st), 0);
	assert_int_equal(st, ST_ERANGE);
	assert_int_equal(memmap_normalize(in, 2, small, 2, &st), 2);
	assert_int_equal(st, ST_OK);
}

static void test_usable_and_top(void **state)
{
	(void)state;
	struct mem_region m[] = {{0, 1 * MB, MEM_USABLE},
				 {1 * MB, 1 * MB, MEM_RESERVED},
				 {4 * GB, 2 * GB, MEM_USABLE},
				 {8 * GB, 1 * GB, MEM_RESERVED}};

	assert_int_equal(memmap_usable_bytes(m, 4), 1 * MB + 2 * GB);
	assert_int_equal(memmap_top(m, 4), 6 * GB);
	assert_int_equal(memmap_top(m, 0), 0);
	assert_int_equal(memmap_top(&m[1], 1), 0);
}

static const struct mem_region fmap[] = {
    {0, 640 * KB, MEM_USABLE},
    {1 * MB, 15 * MB, MEM_USABLE},
    {16 * MB, 1 * MB, MEM_RESERVED},
    {17 * MB, 15 * MB, MEM_USABLE},
};

static void test_find_lowest_aligned(void **state)
{
	(void)state;
	uint64_t at = 1;

	assert_int_equal(memmap_find_free(fmap, 4, 4096, 4096, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 0);
	assert_int_equal(memmap_find_free(fmap, 4, 1 * MB, 4096, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 1 * MB);
	assert_int_equal(memmap_find_free(fmap, 4, 4096, 2 * MB, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 0);
	assert_int_equal(memmap_find_free(fmap, 4, 14 * MB, 2 * MB, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 2 * MB);
	assert_int_equal(memmap_find_free(fmap, 4, 15 * MB, 1 * MB, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 1 * MB);
	assert_int_equal(memmap_find_free(fmap, 4, 15 * MB, 2 * MB, 0, NULL, 0, &at), ST_ENOMEM);
	assert_int_equal(memmap_find_free(fmap, 4, 12 * MB, 4 * MB, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 4 * MB);
	assert_int_equal(memmap_find_free(fmap, 4, 8 * MB, 8 * MB, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 8 * MB);
	assert_int_equal(memmap_find_free(fmap, 4, 9 * MB, 8 * MB, 0, NULL, 0, &at), ST_ENOMEM);
	assert_int_equal(memmap_find_free(fmap, 4, 13 * MB, 4 * MB, 0, NULL, 0, &at), ST_ENOMEM);
	assert_int_equal(memmap_find_free(fmap, 4, 16 * MB, 4096, 0, NULL, 0, &at), ST_ENOMEM);
}

static void test_find_avoid(void **state)
{
	(void)state;
	struct mem_range avoid[] = {
	    {0, 1 * MB},       /* low memory */
	    {1 * MB, 0x1234},  /* unaligned end */
	    {3 * MB, 0},       /* empty: ignored */
	    {2 * MB, 12 * MB}, /* kernel */
	};
	uint64_t at;

	assert_int_equal(memmap_find_free(fmap, 4, 4096, 4096, 0, avoid, 4, &at), ST_OK);
	assert_int_equal(at, 1 * MB + 0x2000);
	assert_int_equal(memmap_find_free(fmap, 4, 1 * MB, 4096, 0, avoid, 4, &at), ST_OK);
	assert_int_equal(at, 14 * MB);
	assert_int_equal(memmap_find_free(fmap, 4, 3 * MB, 4096, 0, avoid, 4, &at), ST_OK);
	assert_int_equal(at, 17 * MB);
}

static void test_find_below(void **state)
{
	(void)state;
	uint64_t at;

	assert_int_equal(memmap_find_free(fmap, 4, 2 * MB, 4096, 3 * MB, NULL, 0, &at), ST_OK);
	assert_int_equal(at, 1 * MB);
	/* Ends exactly at the limit: allowed. */
	assert_int_equal(memmap_find_free(fmap, 4, 2 * MB, 4096, 3 * MB, NULL, 0, &at), ST_OK);
	assert_int_equal(memmap_find_free(fmap, 4, 4 * MB, 4096, 3 * MB, NULL, 0, &at), ST_ENOMEM);
	assert_int_equal(memmap_find_free(fmap, 4, 4096, 4096, 4095, NULL, 0, &at), ST_ENOMEM);
}

static void test_find_args(void **state)
{
	(void)state;
	uint64_t at;
	struct mem_region reserved_only[] = {{0, 1 * GB, MEM_RESERVED}};
	struct mem_region high[] = {{UINT64_MAX - 0x1fff, 0x1000, MEM_USABLE}};

	assert_int_equal(memmap_find_free(fmap, 4, 0, 4096, 0, NULL, 0, &at), ST_EINVAL);
	assert_int_equal(memmap_find_free(fmap, 4, 4096, 0, 0, NULL, 0, &at), ST_EINVAL);
	assert_int_equal(memmap_find_free(fmap, 4, 4096, 3000, 0, NULL, 0, &at), ST_EINVAL);
	assert_int_equal(memmap_find_free(reserved_only, 1, 4096, 4096, 0, NULL, 0, &at),
			 ST_ENOMEM);
	/* Alignment rounding past 2^64 must fail cleanly, not wrap. */
	assert_int_equal(memmap_find_free(high, 1, 4096, 1ull << 63, 0, NULL, 0, &at), ST_ENOMEM);
	assert_int_equal(memmap_find_free(high, 1, 4096, 4096, 0, NULL, 0, &at), ST_OK);
	assert_int_equal(at, UINT64_MAX - 0x1fff);
}

/* Deterministic pseudo-random maps: invariants hold and usable bytes never
 * exceed what the input called usable. */
static void test_random_maps(void **state)
{
	(void)state;
	uint64_t seed = 12345;
	struct mem_region in[24];

	for (int iter = 0; iter < 300; iter++) {
		for (int i = 0; i < 24; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			in[i].base = (seed >> 20) % (64 * MB);
			in[i].len = (seed >> 8) % (8 * MB);
			in[i].type = 1 + (uint32_t)((seed >> 4) % 5);
		}
		size_t n = norm(in, 24);

		check_invariants(n);
		for (size_t i = 0; i < n; i++) {
			uint64_t probe = out[i].base;
			unsigned rank_best = 0;

			for (int k = 0; k < 24; k++) {
				static const unsigned rank[] = {0, 1, 4, 2, 3, 5};

				if (probe >= in[k].base && probe < in[k].base + in[k].len &&
				    rank[in[k].type] > rank_best)
					rank_best = rank[in[k].type];
			}
			static const uint32_t type_of[] = {0, 1, 3, 4, 2, 5};
			assert_int_equal(out[i].type, type_of[rank_best]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_sorts_and_merges),
	    cmocka_unit_test(test_restrictive_wins),
	    cmocka_unit_test(test_unknown_type_is_reserved),
	    cmocka_unit_test(test_usable_shrinks_inward),
	    cmocka_unit_test(test_merge_before_align),
	    cmocka_unit_test(test_overflow_clamped),
	    cmocka_unit_test(test_out_cap),
	    cmocka_unit_test(test_usable_and_top),
	    cmocka_unit_test(test_find_lowest_aligned),
	    cmocka_unit_test(test_find_avoid),
	    cmocka_unit_test(test_find_below),
	    cmocka_unit_test(test_find_args),
	    cmocka_unit_test(test_random_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
