/* Unit tests for guest RAM: chunking, nested-table layout (2 MiB pages where
 * a chunk is whole, 4 KiB for the tail), the PC layout past 3 GiB (low RAM
 * below the hole, the rest from 4 GiB), accessors bounded by that layout,
 * and that every frame and table goes back on destroy or failure.
 *
 * Host memory is a fake physical space whose addresses differ from
 * pointers. It is as large as a 5 GiB VM needs, but backed lazily: a 2 MiB
 * block of real memory appears the first time something reaches into it,
 * so only the tables and the bytes a test touches cost anything. */
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
#define GIB (1ull << 30)
#define KIB4 0x1000ull
#define SPACE (6 * GIB) /* fake physical memory */
#define SPACE_FRAMES (SPACE / KIB4)
#define BLOCK (2 * MIB) /* unit of lazy backing */
#define BLOCK_FRAMES (BLOCK / KIB4)
#define BLOCKS (SPACE / BLOCK)
#define SMALL_HOST (24 * MIB)	/* what most tests let the host hand out */
#define FAKE_PHYS 0x40000000ull /* fake physical address of frame 0 */
#define RAM_PROT (PT_R | PT_W | PT_X | PT_USER)

struct fake_host {
	uint8_t *block[BLOCKS];			  /* NULL until touched, then zeroed memory */
	uint8_t *used;				  /* one byte per frame */
	uint64_t hint;				  /* every frame below it is in use */
	uint64_t live, limit, allocs, fail_after; /* fail_after 0: never fail */
	unsigned double_frees;
};

static bool run_free(const struct fake_host *h, uint64_t f, uint64_t count)
{
	for (uint64_t n = 0; n < count; n++)
		if (h->used[f + n])
			return false;
	return true;
}

/* Zeroes frames whose block has backing; the others read as zero already. */
static void zero_frames(struct fake_host *h, uint64_t f, uint64_t count)
{
	for (uint64_t i = f; i < f + count; i++) {
		uint8_t *b = h->block[i / BLOCK_FRAMES];

		if (b)
			memset(b + (i % BLOCK_FRAMES) * KIB4, 0, KIB4);
	}
}

static status_t fake_alloc(void *ctx, uint64_t count, uint64_t align, uint64_t *pa)
{
	struct fake_host *h = ctx;
	uint64_t f = (h->hint + align - 1) / align * align;

	if ((h->fail_after && h->allocs >= h->fail_after) || count > h->limit - h->live)
		return ST_ENOMEM;
	for (; f + count <= SPACE_FRAMES; f += align) {
		if (!run_free(h, f, count))
			continue;
		memset(h->used + f, 1, count);
		zero_frames(h, f, count);
		if (f == h->hint)
			h->hint = f + count;
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

	assert_true(pa >= FAKE_PHYS && f + count <= SPACE_FRAMES);
	for (uint64_t i = 0; i < count; i++) {
		if (!h->used[f + i])
			h->double_frees++;
		h->used[f + i] = 0;
	}
	if (f < h->hint)
		h->hint = f;
	h->live -= count;
}

static void *fake_virt(void *ctx, uint64_t pa)
{
	struct fake_host *h = ctx;
	uint64_t off = pa - FAKE_PHYS, b = off / BLOCK;

	assert_true(pa >= FAKE_PHYS && off < SPACE);
	if (!h->block[b]) {
		h->block[b] = calloc(1, BLOCK);
		assert_non_null(h->block[b]);
	}
	return h->block[b] + off % BLOCK;
}

struct fixture {
	struct fake_host host;
	struct gram_alloc alloc;
	struct guest_ram ram;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->host.used = calloc(SPACE_FRAMES, 1);
	f->host.limit = SMALL_HOST / KIB4;
	f->alloc = (struct gram_alloc){&f->host, fake_alloc, fake_free, fake_virt};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (uint64_t b = 0; b < BLOCKS; b++)
		free(f->host.block[b]);
	free(f->host.used);
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
	/* RAM plus tables: PML4, PDPT, PD, one 4 KiB table for the tail and
	 * the page holding the 4-entry chunk table */
	assert_int_equal(gram_footprint(g), size + 5 * KIB4);
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

	/* allocations: chunk table, PML4, chunk 0, PDPT, PD, chunk 1, chunk 2 */
	f->host.limit = 0;
	assert_int_equal(gram_init(&f->ram, 6 * MIB, &pt_x86_format_2m, RAM_PROT, &f->alloc),
			 ST_ENOMEM);
	assert_int_equal(f->host.live, 0);
	f->host.limit = SMALL_HOST / KIB4;
	for (uint64_t n = 1; n < 7; n++) {
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
	assert_int_equal(
	    gram_init(&f->ram, GRAM_MAX + GRAM_PAGE, &pt_x86_format_2m, RAM_PROT, &f->alloc),
	    ST_EINVAL);
	assert_int_equal(f->host.live, 0);
	/* 1 TiB is a size gram_init takes: this host just lacks the frames */
	assert_int_equal(GRAM_MAX, 1ull << 40);
	assert_int_equal(gram_init(&f->ram, GRAM_MAX, &pt_x86_format_2m, RAM_PROT, &f->alloc),
			 ST_ENOMEM);
	assert_int_equal(f->host.live, 0);
	assert_int_equal(f->host.double_frees, 0);
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

/* ---- the layout past 3 GiB ---- */

/* Lets the host hand out all of its fake space, for the large VMs. */
static struct guest_ram *big_vm(struct fixture *f, uint64_t size)
{
	f->host.limit = SPACE_FRAMES;
	assert_int_equal(gram_init(&f->ram, size, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_OK);
	return &f->ram;
}

static void expect_ranges(uint64_t size, unsigned n, uint64_t b0, uint64_t l0, uint64_t b1,
			  uint64_t l1)
{
	struct gram_range r[GRAM_RANGES_MAX] = {{1, 1}, {1, 1}};

	assert_int_equal(gram_layout(size, r), n);
	if (n > 0) {
		assert_int_equal(r[0].base, b0);
		assert_int_equal(r[0].len, l0);
	}
	if (n > 1) {
		assert_int_equal(r[1].base, b1);
		assert_int_equal(r[1].len, l1);
	}
}

static void test_layout_ranges(void **state)
{
	(void)state;
	expect_ranges(0, 0, 0, 0, 0, 0);
	expect_ranges(2 * MIB, 1, 0, 2 * MIB, 0, 0);
	expect_ranges(3 * GIB, 1, 0, 3 * GIB, 0, 0);
	expect_ranges(3 * GIB + KIB4, 2, 0, 3 * GIB, 4 * GIB, KIB4);
	expect_ranges(3 * GIB + 2 * MIB, 2, 0, 3 * GIB, 4 * GIB, 2 * MIB);
	expect_ranges(5 * GIB, 2, 0, 3 * GIB, 4 * GIB, 2 * GIB);
	expect_ranges(1ull << 40, 2, 0, 3 * GIB, 4 * GIB, (1ull << 40) - 3 * GIB);
	assert_int_equal(GRAM_LOW_MAX, 3 * GIB);
	assert_int_equal(GRAM_HIGH_BASE, 4 * GIB);
}

struct mapped {
	uint64_t bytes, in_hole, top;
};

static void count_leaf(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	struct mapped *m = arg;

	(void)pa;
	(void)prot;
	m->bytes += size;
	if (va < 4 * GIB && va + size > 3 * GIB)
		m->in_hole++;
	if (va + size > m->top)
		m->top = va + size;
}

/* One chunk past 3 GiB: it is mapped at 4 GiB, nothing in the hole. */
static void test_layout_3g_plus_2m(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = big_vm(f, 3 * GIB + 2 * MIB);
	struct gram_range r[GRAM_RANGES_MAX];
	struct mapped m = {0};
	uint64_t pa;

	assert_int_equal(g->nchunks, 1537);
	assert_int_equal(gram_ranges(g, r), 2);
	assert_int_equal(r[1].base, 4 * GIB);
	assert_int_equal(r[1].len, 2 * MIB);
	assert_int_equal(page_size_at(g, 3 * GIB - 1, &pa), 2 * MIB);
	assert_int_equal(pa, g->chunk_pa[1535] + 2 * MIB - 1);
	assert_int_equal(page_size_at(g, 4 * GIB + 0x1234, &pa), 2 * MIB);
	assert_int_equal(pa, g->chunk_pa[1536] + 0x1234);
	assert_false(pt_lookup(&g->npt, 3 * GIB, NULL, NULL, NULL));
	assert_false(pt_lookup(&g->npt, 4 * GIB - KIB4, NULL, NULL, NULL));
	assert_false(pt_lookup(&g->npt, 4 * GIB + 2 * MIB, NULL, NULL, NULL));
	pt_walk(&g->npt, count_leaf, &m);
	assert_int_equal(m.bytes, g->size);
	assert_int_equal(m.in_hole, 0);
	assert_int_equal(m.top, 4 * GIB + 2 * MIB);
	/* PML4, PDPT, 4 PDs (0-1, 1-2, 2-3 and 4-5 GiB), and a chunk table of
	 * 1537 * 8 bytes: 4 pages */
	assert_int_equal(gram_footprint(g), g->size + (6 + 4) * KIB4);
	assert_int_equal(f->host.live * KIB4, gram_footprint(g));
	gram_destroy(g);
	assert_int_equal(f->host.live, 0);

	/* a partial last chunk above 4 GiB gets 4 KiB pages there */
	g = big_vm(f, 3 * GIB + 2 * MIB + 3 * KIB4);
	assert_int_equal(page_size_at(g, 4 * GIB + 2 * MIB + 2 * KIB4, &pa), KIB4);
	assert_int_equal(pa, g->chunk_pa[1537] + 2 * KIB4);
	assert_false(pt_lookup(&g->npt, 4 * GIB + 2 * MIB + 3 * KIB4, NULL, NULL, NULL));
	assert_true(gram_contains(g, 4 * GIB + 2 * MIB + 3 * KIB4 - 1, 1));
	assert_false(gram_contains(g, 4 * GIB + 2 * MIB + 3 * KIB4, 1));
	gram_destroy(g);
	assert_int_equal(f->host.live, 0);
	assert_int_equal(f->host.double_frees, 0);
}

/* 5 GiB: 3 below the hole, 2 from 4 GiB. RAM at 4 GiB is chunk 1536, not
 * chunk 2048 (which a 5 GiB VM also has): addresses are translated. */
static void test_access_5g(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = big_vm(f, 5 * GIB);
	uint8_t in[16], out[16];
	struct mapped m = {0};
	uint64_t at = 4 * GIB + 2 * MIB - 6, pa;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x40 + i);
	assert_int_equal(g->nchunks, 2560);
	assert_true(gram_write(g, 4 * GIB, in, 4));
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[1536]), in, 4);
	assert_ptr_equal(gram_ptr(g, 4 * GIB, 4), fake_virt(&f->host, g->chunk_pa[1536]));
	/* across two chunks of high RAM */
	assert_true(gram_write(g, at, in, sizeof(in)));
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[1536] + 2 * MIB - 6), in, 6);
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[1537]), in + 6, 10);
	assert_null(gram_ptr(g, at, sizeof(in)));
	memset(out, 0, sizeof(out));
	assert_true(gram_read(g, at, out, sizeof(out)));
	assert_memory_equal(in, out, sizeof(out));
	assert_true(gram_zero(g, at, sizeof(in)));
	assert_true(gram_read(g, at, out, sizeof(out)));
	for (unsigned i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	/* the last bytes of each range */
	assert_true(gram_write(g, 3 * GIB - 16, in, 16));
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[1535] + 2 * MIB - 16), in, 16);
	assert_true(gram_write(g, 6 * GIB - 16, in, 16));
	assert_memory_equal(fake_virt(&f->host, g->chunk_pa[2559] + 2 * MIB - 16), in, 16);
	assert_int_equal(page_size_at(g, 6 * GIB - 1, &pa), 2 * MIB);
	assert_int_equal(pa, g->chunk_pa[2559] + 2 * MIB - 1);
	pt_walk(&g->npt, count_leaf, &m);
	assert_int_equal(m.bytes, 5 * GIB);
	assert_int_equal(m.in_hole, 0);
	assert_int_equal(m.top, 6 * GIB);
	/* PML4, PDPT, 5 PDs; 2560 * 8 bytes of chunk table: 5 pages */
	assert_int_equal(gram_footprint(g), 5 * GIB + (7 + 5) * KIB4);
	assert_int_equal(f->host.live * KIB4, gram_footprint(g));
	gram_destroy(g);
	assert_int_equal(f->host.live, 0);
	assert_int_equal(f->host.double_frees, 0);
}

/* Every accessor refuses [gpa, gpa+len) and changes nothing. */
static void refused(struct guest_ram *g, uint64_t gpa, uint64_t len)
{
	uint8_t b[32];

	assert_false(gram_contains(g, gpa, len));
	assert_null(gram_ptr(g, gpa, len));
	if (len <= sizeof(b)) {
		memset(b, 0x5A, sizeof(b));
		assert_false(gram_read(g, gpa, b, (size_t)len));
		assert_int_equal(b[0], 0x5A);
		assert_false(gram_write(g, gpa, b, (size_t)len));
	}
	assert_false(gram_zero(g, gpa, len));
}

static void test_hostile_ranges_5g(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = big_vm(f, 5 * GIB);
	uint8_t ones[4] = {1, 1, 1, 1}, b[4];

	assert_true(gram_write(g, 3 * GIB - 4, ones, 4));
	assert_true(gram_write(g, 4 * GIB, ones, 4));
	refused(g, 3 * GIB, 1);	       /* the first byte past low RAM */
	refused(g, 3 * GIB - 2, 4);    /* from low RAM into the hole */
	refused(g, 0xC0000000ull, 16); /* the PCI window */
	refused(g, 0xE0000000ull, 4);  /* ECAM */
	refused(g, 0xFEC00000ull, 4);  /* IOAPIC */
	refused(g, 0xFEE00000ull, 4);  /* LAPIC */
	refused(g, 4 * GIB - 1, 1);    /* the last byte of the hole */
	refused(g, 4 * GIB - 1, 2);    /* crossing into 4 GiB */
	refused(g, 4 * GIB - KIB4, 2 * KIB4);
	refused(g, 3 * GIB - KIB4, GIB + 2 * KIB4); /* across the whole hole */
	refused(g, 6 * GIB, 1);			    /* the end */
	refused(g, 6 * GIB - 1, 2);
	refused(g, 6 * GIB - 16, 32);
	refused(g, 0, 6 * GIB);
	refused(g, 0, 3 * GIB + 1);
	/* sums that would wrap 2^64 */
	refused(g, UINT64_MAX, 1);
	refused(g, UINT64_MAX - 7, 16);
	refused(g, UINT64_MAX - 4 * GIB + 1, 4 * GIB + 16);
	refused(g, 4 * GIB, UINT64_MAX);
	refused(g, 4 * GIB + 1, UINT64_MAX - 4 * GIB);
	refused(g, 3 * GIB - 4, UINT64_MAX - 3 * GIB + 8);
	refused(g, 0, UINT64_MAX);
	refused(g, 16, 0); /* empty */
	/* nothing around the refusals was touched */
	assert_true(gram_read(g, 3 * GIB - 4, b, 4));
	assert_memory_equal(b, ones, 4);
	assert_true(gram_read(g, 4 * GIB, b, 4));
	assert_memory_equal(b, ones, 4);
	/* the edges themselves are RAM */
	assert_true(gram_contains(g, 0, 3 * GIB));
	assert_true(gram_contains(g, 4 * GIB, 2 * GIB));
	assert_true(gram_contains(g, 6 * GIB - 1, 1));
	gram_destroy(g);
}

/* Without high RAM nothing at or above 4 GiB is RAM either. */
static void test_hostile_ranges_small(void **state)
{
	struct fixture *f = *state;
	struct guest_ram *g = &f->ram;

	assert_int_equal(gram_init(g, 2 * MIB, &pt_x86_format_2m, RAM_PROT, &f->alloc), ST_OK);
	refused(g, 4 * GIB, 1);
	refused(g, 4 * GIB + 2 * MIB - 1, 1);
	refused(g, 3 * GIB - 1, 1);
	refused(g, UINT64_MAX - 2 * MIB + 1, 2 * MIB);
	gram_destroy(g);
	g = big_vm(f, 3 * GIB);
	refused(g, 3 * GIB, 1);
	refused(g, 4 * GIB, 1);
	assert_true(gram_contains(g, 3 * GIB - 1, 1));
	gram_destroy(g);
	refused(g, 0, 1); /* destroyed: nothing is RAM */
	assert_int_equal(f->host.live, 0);
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
	    cmocka_unit_test(test_layout_ranges),
	    cmocka_unit_test_setup_teardown(test_layout_3g_plus_2m, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_access_5g, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_ranges_5g, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_ranges_small, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
