/* Unit tests for guest RAM: chunking, nested-table layout (2 MiB pages where
 * a chunk is whole, 4 KiB for the tail), accessors bounded by the RAM size,
 * and that every frame and table goes back on destroy or failure. Host
 * memory is a fake physical space whose addresses differ from pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/pt_x86.h"
#include "vm/guest_ram.h"

#define MIB (1ull << 20)
#define KIB4 0x1000ull
#define ARENA (24 * MIB)
#define ARENA_FRAMES (ARENA / KIB4)
#define FAKE_PHYS 0x40000000ull /* fake physical address of the arena */
#define RAM_PROT (PT_R | PT_W | PT_X | PT_USER)

struct fake_host {
	uint8_t *arena; /* 2 MiB aligned */
	bool used[ARENA_FRAMES];
	uint64_t live, allocs, fail_after; /* fail_after 0: never fail */
	unsigned double_frees;
};

static status_t fake_alloc(void *ctx, uint64_t count, uint64_t align, uint64_t *pa)
{
	struct fake_host *h = ctx;

	if (h->fail_after && h->allocs >= h->fail_after)
		return ST_ENOMEM;
	for (uint64_t f = 0; f + count <= ARENA_FRAMES; f += align) {
		uint64_t n = 0;
		while (n < count && !h->used[f + n])
			n++;
		if (n < count)
			continue;
		for (n = 0; n < count; n++)
			h->used[f + n] = true;
		memset(h->arena + f * KIB4, 0, count * KIB4);
		h->live += count;
		h->allocs++;
		*pa = FAKE_PHYS + f * KIB4;
		return ST_OK;
	}
	return ST_ENOMEM;
}

static void fake_free(void *ctx, uint64_t pa, uint64_t count)
{
	struct fake_host *h = ctx;
	uint64_t f = (pa - FAKE_PHYS) / KIB4;

	assert_true(pa >= FAKE_PHYS && f + count <= ARENA_FRAMES);
	for (uint64_t i = 0; i < count; i++) {
		if (!h->used[f + i])
			h->double_frees++;
		h->used[f + i] = false;
	}
	h->live -= count;
}

static void *fake_virt(void *ctx, uint64_t pa)
{
	struct fake_host *h = ctx;

	assert_true(pa >= FAKE_PHYS && pa < FAKE_PHYS + ARENA);
	return h->arena + (pa - FAKE_PHYS);
}

struct fixture {
	struct fake_host host;
	struct gram_alloc alloc;
	struct guest_ram ram;
	void *raw;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->raw = malloc(ARENA + 2 * MIB);
	f->host.arena = (uint8_t *)(((uintptr_t)f->raw + 2 * MIB - 1) & ~(uintptr_t)(2 * MIB - 1));
	f->alloc = (struct gram_alloc){&f->host, fake_alloc, fake_free, fake_virt};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->raw);
	free(f);
	return 0;
}

static uint64_t page_size_at(struct guest_ram *g, uint64_t gpa, uint64_t *pa)
{
	uint64_t size = 0;

	assert_true(pt_lookup(&g->npt, gpa, pa, NULL, &size));
	return size;
}

static void test_layout_and_translation(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = &f->ram;
	uint64_t size = 4 * MIB + 3 * KIB4, pa;

	assert_int_equal(gram_init(g, size, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_OK);
	assert_int_equal(g->nchunks, 3);
	assert_int_equal(page_size_at(g, 0, &pa), 2 * MIB);
	assert_int_equal(pa, g->chunk_pa[0]);
	assert_int_equal(page_size_at(g, 2 * MIB + 0x1234, &pa), 2 * MIB);
	assert_int_equal(pa, g->chunk_pa[1] + 0x1234);
	/* the 12 KiB tail: 4 KiB pages, nothing mapped past the end */
	assert_int_equal(page_size_at(g, 4 * MIB + 2 * KIB4, &pa), KIB4);
	assert_int_equal(pa, g->chunk_pa[2] + 2 * KIB4);
	assert_false(pt_lookup(&g->npt, size, NULL, NULL, NULL));
	/* full chunks are 2 MiB aligned on the host */
	assert_int_equal(g->chunk_pa[0] % (2 * MIB), 0);
	assert_int_equal(g->chunk_pa[1] % (2 * MIB), 0);
	gram_destroy(g);
}

static void test_footprint_returned(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = &f->ram;
	uint64_t size = 6 * MIB + KIB4;

	assert_int_equal(gram_init(g, size, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_OK);
	/* RAM plus tables: PML4, PDPT, PD and one 4 KiB table for the tail */
	assert_int_equal(gram_footprint(g), size + 4 * KIB4);
	assert_int_equal(f->host.live * KIB4, gram_footprint(g));
	gram_destroy(g);
	assert_int_equal(f->host.live, 0);
	assert_int_equal(f->host.double_frees, 0);
	gram_destroy(g); /* twice is harmless */
	assert_int_equal(f->host.double_frees, 0);
}

static void test_failure_gives_everything_back(void **state)
{
	struct fixture *f = *state;

	/* allocations: PML4, chunk 0, PDPT, PD, chunk 1, chunk 2 */
	for (uint64_t n = 1; n < 6; n++) {
		f->host.allocs = 0;
		f->host.fail_after = n;
		assert_int_equal(
		    gram_init(&f->ram, 6 * MIB, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_ENOMEM);
		assert_int_equal(f->host.live, 0);
	}
	/* more than the host has */
	f->host.fail_after = 0;
	assert_int_equal(gram_init(&f->ram, 32 * MIB, &pt_x86_format_2m, RAM_PROT, &f->alloc),
			 ST_ENOMEM);
	assert_int_equal(f->host.live, 0);
	assert_int_equal(f->host.double_frees, 0);
}

static void test_bad_sizes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(gram_init(&f->ram, 0, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_EINVAL);
	assert_int_equal(gram_init(&f->ram, MIB + 1, &pt_x86_format_2m, RAM_PROT, &f->alloc),
			 ST_EINVAL);
	assert_int_equal(
	    gram_init(&f->ram, GRAM_MAX + GRAM_CHUNK, &pt_x86_format_2m, RAM_PROT, &f->alloc),
	    ST_EINVAL);
	assert_int_equal(f->host.live, 0);
}

static void test_access_across_chunks(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = &f->ram;
	uint8_t in[64], out[64];
	uint64_t at = 2 * MIB - 20;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(gram_init(g, 4 * MIB, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_OK);
	assert_true(gram_write(g, at, in, sizeof(in)));
	/* bytes landed in the two host chunks the tables point at */
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[0] + at), in, 20);
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[1]), in + 20, 44);
	memset(out, 0, sizeof(out));
	assert_true(gram_read(g, at, out, sizeof(out)));
	assert_memory_equal(in, out, sizeof(out));
	assert_null(gram_ptr(g, at, sizeof(in))); /* not host-contiguous */
	assert_non_null(gram_ptr(g, at, 20));
	assert_true(gram_zero(g, at, sizeof(in)));
	assert_true(gram_read(g, at, out, sizeof(out)));
	for (unsigned i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	gram_destroy(g);
}

static void test_hostile_ranges(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = &f->ram;
	uint8_t b[16] = {0};

	assert_int_equal(gram_init(g, 2 * MIB, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_OK);
	assert_true(gram_read(g, 2 * MIB - 16, b, 16));
	assert_false(gram_read(g, 2 * MIB - 15, b, 16));
	assert_false(gram_write(g, 2 * MIB, b, 1));
	assert_false(gram_read(g, UINT64_MAX - 7, b, 16)); /* wraps */
	assert_false(gram_contains(g, 0, 0));
	assert_false(gram_zero(g, 1, 2 * MIB));
	assert_null(gram_ptr(g, 2 * MIB, 1));
	gram_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_layout_and_translation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_footprint_returned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_gives_everything_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_access_across_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_ranges, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
