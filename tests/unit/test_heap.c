/* Unit tests for the kernel heap, over a host page provider that counts
 * pages and refuses more than a fixed budget (like a real frame pool). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/heap.h"

#define BUDGET 4096u

struct provider {
	size_t pages; /* outstanding */
	size_t gets, puts;
};

static void *get_pages(void *ctx, size_t n)
{
	struct provider *pr = ctx;

	if (n > BUDGET - pr->pages)
		return NULL;
	void *p = aligned_alloc(HEAP_PAGE, n * HEAP_PAGE);
	assert_non_null(p);
	memset(p, 0xa5, n * HEAP_PAGE); /* garbage, like fresh frames */
	pr->pages += n;
	pr->gets++;
	return p;
}

static void put_pages(void *ctx, void *p, size_t n)
{
	struct provider *pr = ctx;

	assert_true(n <= pr->pages);
	assert_int_equal((uintptr_t)p % HEAP_PAGE, 0);
	pr->pages -= n;
	pr->puts++;
	free(p);
}

static struct provider P;
static const struct heap_pages pages = {&P, get_pages, put_pages};
static struct heap H;

static int setup(void **state)
{
	(void)state;
	memset(&P, 0, sizeof(P));
	heap_init(&H, &pages);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(heap_in_use(&H), 0);
	assert_int_equal(P.pages, 0);
	assert_int_equal(H.bad_frees, 0);
	return 0;
}

static void test_zero_and_huge(void **state)
{
	(void)state;
	assert_null(heap_alloc(&H, 0));
	assert_null(heap_zalloc(&H, 0));
	assert_null(heap_alloc(&H, SIZE_MAX));
	assert_null(heap_alloc(&H, SIZE_MAX - 10));
	assert_null(heap_alloc(&H, (size_t)BUDGET * HEAP_PAGE));
	assert_int_equal(P.pages, 0);
	heap_free(&H, NULL);
}

static void test_alignment_and_sizes(void **state)
{
	(void)state;
	static const size_t sizes[] = {1,    15,   16,	 17,   31,   100,  255,	 256,  257,  1000,
				       2047, 2048, 2049, 4000, 4080, 4081, 4096, 8192, 65536};
	void *p[sizeof(sizes) / sizeof(sizes[0])];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = heap_alloc(&H, sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % HEAP_ALIGN, 0);
		memset(p[i], (int)i, sizes[i]); /* ASan checks the bounds */
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(((unsigned char *)p[i])[sizes[i] - 1], i);
		heap_free(&H, p[i]);
	}
}

static void test_in_use_accounting(void **state)
{
	(void)state;
	void *a = heap_alloc(&H, 10);
	void *b = heap_alloc(&H, 100);
	void *c = heap_alloc(&H, 5000);

	assert_int_equal(heap_in_use(&H), 16 + 128 + 2 * HEAP_PAGE);
	assert_int_equal(P.pages, 4);
	heap_free(&H, b);
	assert_int_equal(heap_in_use(&H), 16 + 2 * HEAP_PAGE);
	heap_free(&H, c);
	heap_free(&H, a);
}

static void test_reuse_after_free(void **state)
{
	(void)state;
	void *a = heap_alloc(&H, 64);
	void *b = heap_alloc(&H, 64);

	assert_ptr_not_equal(a, b);
	heap_free(&H, a);
	assert_ptr_equal(heap_alloc(&H, 50), a);
	assert_int_equal(P.gets, 1);
	heap_free(&H, a);
	heap_free(&H, b);
	assert_int_equal(P.puts, 1);
}

static void test_zalloc(void **state)
{
	(void)state;
	unsigned char *p = heap_alloc(&H, 200);

	memset(p, 0xff, 200);
	heap_free(&H, p);
	p = heap_zalloc(&H, 200);
	for (int i = 0; i < 200; i++)
		assert_int_equal(p[i], 0);
	heap_free(&H, p);
	p = heap_zalloc(&H, 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(p[i], 0);
	heap_free(&H, p);
}

/* Fill several pages of every class, free in an interleaved order. */
static void test_many_per_class(void **state)
{
	(void)state;
	enum { N = 600 };
	static void *p[HEAP_NCLASSES][N];

	for (int c = 0; c < HEAP_NCLASSES; c++)
		for (int i = 0; i < N; i++) {
			p[c][i] = heap_alloc(&H, (size_t)HEAP_MIN_CLASS << c);
			assert_non_null(p[c][i]);
			memset(p[c][i], c, (size_t)HEAP_MIN_CLASS << c);
		}
	for (int c = 0; c < HEAP_NCLASSES; c++)
		for (int i = 0; i < N; i++)
			for (int j = 0; j < i && j < 4; j++)
				assert_ptr_not_equal(p[c][i], p[c][j]);
	for (int c = 0; c < HEAP_NCLASSES; c++) {
		for (int i = 0; i < N; i += 2)
			heap_free(&H, p[c][i]);
		for (int i = N - 1; i > 0; i -= 2)
			heap_free(&H, p[c][i]);
	}
}

static void test_exhaustion(void **state)
{
	(void)state;
	static void *p[BUDGET + 1];
	size_t n = 0;

	while ((p[n] = heap_alloc(&H, 3000)) != NULL)
		n++;
	assert_int_equal(n, BUDGET);
	assert_null(heap_alloc(&H, 16));
	heap_free(&H, p[0]);
	void *q = heap_alloc(&H, 16);
	assert_non_null(q);
	heap_free(&H, q);
	for (size_t i = 1; i < n; i++)
		heap_free(&H, p[i]);
}

static void test_bad_free_counted(void **state)
{
	(void)state;
	char *a = heap_alloc(&H, 64);

	heap_free(&H, a + 16); /* not a slot start */
	assert_int_equal(H.bad_frees, 1);
	H.bad_frees = 0;
	heap_free(&H, a);
}

/* Random churn against a shadow table; contents must survive. */
static void test_random_churn(void **state)
{
	(void)state;
	enum { SLOTS = 256 };
	static unsigned char *p[SLOTS];
	static size_t len[SLOTS];
	uint64_t seed = 7;

	memset(p, 0, sizeof(p));
	for (int it = 0; it < 20000; it++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		unsigned s = (seed >> 40) % SLOTS;

		if (p[s]) {
			for (size_t k = 0; k < len[s]; k++)
				assert_int_equal(p[s][k], (unsigned char)s);
			heap_free(&H, p[s]);
			p[s] = NULL;
			continue;
		}
		len[s] = 1 + (seed >> 8) % ((seed >> 60) ? 2048 : 20000);
		p[s] = heap_alloc(&H, len[s]);
		assert_non_null(p[s]);
		memset(p[s], (int)s, len[s]);
	}
	for (int s = 0; s < SLOTS; s++)
		heap_free(&H, p[s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_zero_and_huge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alignment_and_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_use_accounting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reuse_after_free, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zalloc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_per_class, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_free_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_churn, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
