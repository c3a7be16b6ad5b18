/* Unit tests for the generic page-table builder with the x86-64 format.
 * Tables come from a fake memory that records every allocation and free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/pt.h"
#include "mm/pt_x86.h"

#define KIB4 0x1000ull
#define MIB2 0x200000ull
#define GIB1 0x40000000ull
#define FAKE_TABLES 1100u
#define FAKE_BASE 0x7000000000ull /* fake physical address of table 0 */
#define HIGH_HALF 0xffffffff80000000ull

struct fake_mem {
	uint64_t (*tables)[PT_ENTRIES];
	unsigned live, limit; /* limit: most tables alive at once */
	unsigned total_allocs, total_frees;
	unsigned allocs[FAKE_TABLES], frees[FAKE_TABLES];
	bool used[FAKE_TABLES];
};

static status_t fake_alloc(void *ctx, uint64_t *pa)
{
	struct fake_mem *m = ctx;

	if (m->live >= m->limit)
		return ST_ENOMEM;
	for (unsigned i = 0; i < FAKE_TABLES; i++) {
		if (m->used[i])
			continue;
		m->used[i] = true;
		m->allocs[i]++;
		m->total_allocs++;
		m->live++;
		memset(m->tables[i], 0, PT_TABLE_SIZE);
		*pa = FAKE_BASE + i * PT_TABLE_SIZE;
		return ST_OK;
	}
	return ST_ENOMEM;
}

static unsigned slot_of(uint64_t pa)
{
	assert_true(pa >= FAKE_BASE);
	assert_int_equal((pa - FAKE_BASE) % PT_TABLE_SIZE, 0);
	unsigned i = (pa - FAKE_BASE) / PT_TABLE_SIZE;
	assert_true(i < FAKE_TABLES);
	return i;
}

static void fake_free(void *ctx, uint64_t pa)
{
	struct fake_mem *m = ctx;
	unsigned i = slot_of(pa);

	assert_true(m->used[i]); /* no double or stray free */
	m->used[i] = false;
	m->frees[i]++;
	m->total_frees++;
	m->live--;
}

static void *fake_virt(void *ctx, uint64_t pa)
{
	struct fake_mem *m = ctx;
	unsigned i = slot_of(pa);

	assert_true(m->used[i]);
	return m->tables[i];
}

static struct fake_mem M;
static struct pt_mem MEM = {&M, fake_alloc, fake_free, fake_virt};
static struct pt P;

static void fake_reset(void)
{
	void *t = M.tables;

	memset(&M, 0, sizeof(M));
	M.tables = t;
	M.limit = FAKE_TABLES;
}

static int setup(void **state)
{
	(void)state;
	if (!M.tables)
		M.tables = aligned_alloc(PT_TABLE_SIZE, FAKE_TABLES * PT_TABLE_SIZE);
	fake_reset();
	return M.tables ? 0 : -1;
}

/* Every table ever handed out was freed exactly once. */
static void assert_all_freed(void)
{
	assert_int_equal(M.live, 0);
	assert_int_equal(M.total_allocs, M.total_frees);
	for (unsigned i = 0; i < FAKE_TABLES; i++)
		assert_int_equal(M.allocs[i], M.frees[i]);
}

static int teardown(void **state)
{
	(void)state;
	pt_destroy(&P);
	assert_all_freed();
	return 0;
}

static void init(const struct pt_format *f)
{
	assert_int_equal(pt_init(&P, f, &MEM), ST_OK);
	assert_int_equal(M.live, 1);
}

/* ---- collecting leaves through pt_walk ---- */

#define MAX_LEAVES 1100u
struct leaf {
	uint64_t va, pa, size;
	uint32_t prot;
};
struct leaves {
	unsigned n, n4k, n2m, n1g;
	struct leaf l[MAX_LEAVES];
};
static struct leaves L;

static void collect(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	struct leaves *s = arg;

	assert_true(s->n < MAX_LEAVES);
	if (s->n)
		assert_true(va > s->l[s->n - 1].va); /* va order */
	s->l[s->n++] = (struct leaf){va, pa, size, prot};
	s->n4k += size == KIB4;
	s->n2m += size == MIB2;
	s->n1g += size == GIB1;
}

static void walk(void)
{
	memset(&L, 0, sizeof(L));
	pt_walk(&P, collect, &L);
}

static void assert_maps(uint64_t va, uint64_t pa, uint32_t prot, uint64_t size)
{
	uint64_t got_pa = 0, got_size = 0;
	uint32_t got_prot = 0;

	assert_true(pt_lookup(&P, va, &got_pa, &got_prot, &got_size));
	assert_int_equal(got_pa, pa);
	assert_int_equal(got_prot, prot);
	assert_int_equal(got_size, size);
}

/* ---- tests ---- */

static void test_map_4k_lookup(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	assert_int_equal(pt_map(&P, 0x401000, 0x1234000, KIB4, PT_R | PT_W), ST_OK);
	assert_maps(0x401000, 0x1234000, PT_R | PT_W, KIB4);
	assert_maps(0x401abc, 0x1234abc, PT_R | PT_W, KIB4);
	assert_false(pt_lookup(&P, 0x400000, NULL, NULL, NULL));
	assert_false(pt_lookup(&P, 0x402000, NULL, NULL, NULL));
	assert_true(pt_lookup(&P, 0x401000, NULL, NULL, NULL));
	assert_int_equal(M.live, 4); /* root + PDPT + PD + PT */
	walk();
	assert_int_equal(L.n, 1);
	assert_int_equal(L.l[0].va, 0x401000);
	assert_int_equal(L.l[0].pa, 0x1234000);
}

static void test_page_sizes_1g(void **state)
{
	(void)state;
	init(&pt_x86_format_1g);
	/* 4K edge, one 1G, one 2M, 4K edge; va and pa equally aligned. */
	uint64_t va = GIB1 - KIB4, size = KIB4 + GIB1 + MIB2 + KIB4;
	assert_int_equal(pt_map(&P, va, va + 0x100000000ull, size, PT_R | PT_W), ST_OK);
	walk();
	assert_int_equal(L.n4k, 2);
	assert_int_equal(L.n2m, 1);
	assert_int_equal(L.n1g, 1);
	assert_int_equal(L.n, 4);
	assert_int_equal(L.l[1].va, GIB1);
	assert_int_equal(L.l[1].pa, GIB1 + 0x100000000ull);
	assert_maps(GIB1 + 0x12345, GIB1 + 0x100012345ull, PT_R | PT_W, GIB1);
	assert_maps(2 * GIB1 + 0x1000, 2 * GIB1 + 0x100001000ull, PT_R | PT_W, MIB2);
}

static void test_page_sizes_2m_format(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	/* Same layout without 1G pages: the 1G becomes 512 2M pages. */
	uint64_t va = GIB1 - KIB4, size = KIB4 + GIB1 + MIB2 + KIB4;
	assert_int_equal(pt_map(&P, va, va, size, PT_R), ST_OK);
	walk();
	assert_int_equal(L.n4k, 2);
	assert_int_equal(L.n2m, 513);
	assert_int_equal(L.n1g, 0);
}

static void test_page_sizes_misaligned_pa(void **state)
{
	(void)state;
	init(&pt_x86_format_1g);
	/* va 2M-aligned but pa only 4K-aligned: 4K pages only. */
	assert_int_equal(pt_map(&P, MIB2, MIB2 + KIB4, 2 * MIB2, PT_R), ST_OK);
	walk();
	assert_int_equal(L.n4k, 1024);
	assert_int_equal(L.n, 1024);
	/* Size too small for a 2M page at an aligned address. */
	assert_int_equal(pt_map(&P, 8 * MIB2, 8 * MIB2, MIB2 - KIB4, PT_R), ST_OK);
	assert_maps(8 * MIB2, 8 * MIB2, PT_R, KIB4);
}

static void test_permissions(void **state)
{
	(void)state;
	static const uint32_t prots[] = {
	    PT_R,
	    PT_R | PT_W,
	    PT_R | PT_X,
	    PT_R | PT_W | PT_X,
	    PT_R | PT_UC | PT_W,
	    PT_R | PT_GLOBAL,
	    PT_R | PT_USER | PT_X,
	};
	init(&pt_x86_format_1g);
	for (unsigned i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
		uint64_t va4k = 0x10000000 + i * KIB4, va2m = GIB1 + i * MIB2;
		uint64_t va1g = (8 + i) * GIB1;
		assert_int_equal(pt_map(&P, va4k, va4k, KIB4, prots[i]), ST_OK);
		assert_int_equal(pt_map(&P, va2m, va2m, MIB2, prots[i]), ST_OK);
		assert_int_equal(pt_map(&P, va1g, va1g, GIB1, prots[i]), ST_OK);
		assert_maps(va4k, va4k, prots[i], KIB4);
		assert_maps(va2m, va2m, prots[i], MIB2);
		assert_maps(va1g, va1g, prots[i], GIB1);
	}
}

static void test_x86_encoding(void **state)
{
	(void)state;
	const struct pt_format *f = &pt_x86_format_1g;
	uint64_t e = f->leaf(0x200000, PT_R | PT_W, 2);

	assert_int_equal(e, 0x200000 | X86_PTE_P | X86_PTE_RW | X86_PTE_PS | X86_PTE_NX);
	e = f->leaf(0x5000, PT_R | PT_X | PT_UC | PT_GLOBAL | PT_USER, 1);
	assert_int_equal(e,
			 0x5000 | X86_PTE_P | X86_PTE_PCD | X86_PTE_PWT | X86_PTE_G | X86_PTE_US);
	assert_int_equal(f->leaf(0x6000, PT_W, 1) & X86_PTE_P, 0);
	/* Bit 12 of a large leaf is PAT, not address; bit 7 of a 4K entry is PAT. */
	e = f->leaf(0x40000000, PT_R, 3) | X86_PTE_PAT_LARGE;
	assert_int_equal(f->addr(e, 3), 0x40000000);
	assert_true(f->is_leaf(0x1000 | X86_PTE_P, 1));
	assert_false(f->is_leaf(f->table(0x3000), 2));
	assert_false(f->is_leaf(X86_PTE_P | X86_PTE_PS, 4));
	assert_int_equal(f->addr(f->table(0x3000), 2), 0x3000);
	assert_int_equal(f->table(0x3000), 0x3000 | X86_PTE_P | X86_PTE_RW | X86_PTE_US);
	assert_int_equal(pt_x86_format_2m.max_leaf_level, 2);
	assert_int_equal(pt_x86_format_1g.max_leaf_level, 3);
}

/* A non-leaf entry without RW makes everything below read-only, with NX
 * non-executable; PCD on a non-leaf shows up as UC. */
static void test_effective_prot_nonleaf(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	assert_int_equal(pt_map(&P, 0x400000, 0x400000, KIB4, PT_R | PT_W | PT_X), ST_OK);
	uint64_t *root = fake_virt(&M, P.root);
	uint64_t *pdpt = fake_virt(&M, root[0] & X86_PTE_ADDR_4K);

	root[0] &= ~X86_PTE_RW;
	assert_maps(0x400000, 0x400000, PT_R | PT_X, KIB4);
	pdpt[0] |= X86_PTE_NX;
	assert_maps(0x400000, 0x400000, PT_R, KIB4);
	pdpt[0] |= X86_PTE_PCD;
	assert_maps(0x400000, 0x400000, PT_R | PT_UC, KIB4);
	walk();
	assert_int_equal(L.n, 1);
	assert_int_equal(L.l[0].prot, PT_R | PT_UC);
}

struct wx_seen {
	unsigned n;
	uint64_t va, size;
};

static void on_wx(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	struct wx_seen *s = arg;

	(void)pa;
	assert_int_equal(prot & (PT_W | PT_X), PT_W | PT_X);
	s->n++;
	s->va = va;
	s->size = size;
}

static void test_count_wx(void **state)
{
	(void)state;
	struct wx_seen seen = {0};

	init(&pt_x86_format_2m);
	/* W^X kernel layout in the higher half. */
	assert_int_equal(pt_map(&P, HIGH_HALF, 0x100000, 4 * KIB4, PT_R | PT_X | PT_GLOBAL), ST_OK);
	assert_int_equal(pt_map(&P, HIGH_HALF + 4 * KIB4, 0x104000, 2 * KIB4, PT_R), ST_OK);
	assert_int_equal(pt_map(&P, HIGH_HALF + 6 * KIB4, 0x106000, 3 * KIB4, PT_R | PT_W), ST_OK);
	assert_int_equal(pt_map(&P, 0, 0, GIB1, PT_R | PT_W), ST_OK); /* direct-map style */
	assert_int_equal(pt_count_wx(&P, on_wx, &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(pt_count_wx(&P, NULL, NULL), 0);

	assert_int_equal(pt_map(&P, HIGH_HALF + MIB2, 0x200000, MIB2, PT_R | PT_W | PT_X), ST_OK);
	assert_int_equal(pt_count_wx(&P, on_wx, &seen), 1);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.va, HIGH_HALF + MIB2);
	assert_int_equal(seen.size, MIB2);
	assert_int_equal(pt_count_wx(&P, NULL, NULL), 1);
}

static void test_eexist_keeps_old(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	assert_int_equal(pt_map(&P, MIB2, 0x40000000, MIB2, PT_R | PT_X), ST_OK);
	assert_int_equal(pt_map(&P, 8 * MIB2 + KIB4, 0x9000, KIB4, PT_R), ST_OK);
	unsigned allocs = M.total_allocs;

	/* Starts free, runs into the 2M page: nothing of it may appear. */
	assert_int_equal(pt_map(&P, MIB2 - 2 * KIB4, 0x5000000, 3 * KIB4, PT_R | PT_W), ST_EEXIST);
	/* Exact, inside, and covering overlaps. */
	assert_int_equal(pt_map(&P, MIB2, 0, MIB2, PT_R), ST_EEXIST);
	assert_int_equal(pt_map(&P, MIB2 + KIB4, 0, KIB4, PT_R), ST_EEXIST);
	assert_int_equal(pt_map(&P, 0, 0, GIB1, PT_R), ST_EEXIST);
	/* A 2M map over a region holding one 4K page. */
	assert_int_equal(pt_map(&P, 8 * MIB2, 0x10000000, MIB2, PT_R), ST_EEXIST);
	assert_int_equal(M.total_allocs, allocs);

	assert_false(pt_lookup(&P, MIB2 - 2 * KIB4, NULL, NULL, NULL));
	assert_false(pt_lookup(&P, MIB2 - KIB4, NULL, NULL, NULL));
	assert_maps(MIB2 + 0x1234, 0x40001234, PT_R | PT_X, MIB2);
	assert_maps(8 * MIB2 + KIB4, 0x9000, PT_R, KIB4);
	walk();
	assert_int_equal(L.n, 2);
	/* Adjacent, non-overlapping maps are fine. */
	assert_int_equal(pt_map(&P, MIB2 - KIB4, 0x7000, KIB4, PT_R), ST_OK);
	assert_int_equal(pt_map(&P, 2 * MIB2, 0x7000, KIB4, PT_R), ST_OK);
}

static void test_unmap_splits_2m(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	uint32_t prot = PT_R | PT_W | PT_GLOBAL | PT_UC;

	assert_int_equal(pt_map(&P, MIB2, 0x40000000, MIB2, prot), ST_OK);
	assert_int_equal(pt_unmap(&P, MIB2 + KIB4, KIB4), ST_OK);
	assert_false(pt_lookup(&P, MIB2 + KIB4, NULL, NULL, NULL));
	assert_maps(MIB2, 0x40000000, prot, KIB4);
	assert_maps(MIB2 + 2 * KIB4 + 5, 0x40002005, prot, KIB4);
	assert_maps(2 * MIB2 - KIB4, 0x401ff000, prot, KIB4);
	walk();
	assert_int_equal(L.n4k, 511);
	assert_int_equal(L.n, 511);
	for (unsigned i = 0; i < L.n; i++)
		assert_int_equal(L.l[i].pa - 0x40000000, L.l[i].va - MIB2);
	/* Unmapping everything frees the tables again, root stays. */
	assert_int_equal(pt_unmap(&P, 0, GIB1), ST_OK);
	walk();
	assert_int_equal(L.n, 0);
	assert_int_equal(M.live, 1);
	/* Unmapping a hole is fine. */
	assert_int_equal(pt_unmap(&P, 0, MIB2), ST_OK);
}

static void test_unmap_splits_1g(void **state)
{
	(void)state;
	init(&pt_x86_format_1g);
	assert_int_equal(pt_map(&P, GIB1, 0, GIB1, PT_R | PT_X), ST_OK);
	assert_int_equal(pt_unmap(&P, GIB1 + MIB2 + 3 * KIB4, KIB4), ST_OK);
	walk();
	assert_int_equal(L.n1g, 0);
	assert_int_equal(L.n2m, 511);
	assert_int_equal(L.n4k, 511);
	assert_maps(GIB1 + MIB2 + 4 * KIB4, MIB2 + 4 * KIB4, PT_R | PT_X, KIB4);
	assert_maps(GIB1 + 5 * MIB2, 5 * MIB2, PT_R | PT_X, MIB2);
	/* Whole-page unmap across a 2M/4K mix, leaving neighbours. */
	assert_int_equal(pt_unmap(&P, GIB1 + MIB2, 2 * MIB2), ST_OK);
	assert_false(pt_lookup(&P, GIB1 + MIB2, NULL, NULL, NULL));
	assert_maps(GIB1, 0, PT_R | PT_X, MIB2);
	assert_maps(GIB1 + 3 * MIB2, 3 * MIB2, PT_R | PT_X, MIB2);
}

static void test_bad_args(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	/* Non-canonical addresses and ranges running into the hole. */
	assert_int_equal(pt_map(&P, 0x0000800000000000ull, 0, KIB4, PT_R), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0xffff7ffffffff000ull, 0, KIB4, PT_R), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x00007ffffffff000ull, 0, 2 * KIB4, PT_R), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0xfffffffffffff000ull, 0, 2 * KIB4, PT_R), ST_EINVAL);
	assert_int_equal(pt_unmap(&P, 0x0000800000000000ull, KIB4), ST_EINVAL);
	assert_false(pt_lookup(&P, 0x0000800000000000ull, NULL, NULL, NULL));
	/* Unaligned or empty. */
	assert_int_equal(pt_map(&P, 0x1001, 0, KIB4, PT_R), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x1000, 0x10, KIB4, PT_R), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x1000, 0, 0x800, PT_R), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x1000, 0, 0, PT_R), ST_EINVAL);
	assert_int_equal(pt_unmap(&P, 0x1800, KIB4), ST_EINVAL);
	assert_int_equal(pt_unmap(&P, 0x1000, 0x10), ST_EINVAL);
	/* Bad prot, physical address beyond 52 bits. */
	assert_int_equal(pt_map(&P, 0x1000, 0, KIB4, 0), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x1000, 0, KIB4, PT_W), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x1000, 0, KIB4, PT_R | 0x100), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0x1000, 1ull << 52, KIB4, PT_R), ST_ERANGE);
	assert_int_equal(pt_map(&P, 0x1000, (1ull << 52) - KIB4, 2 * KIB4, PT_R), ST_ERANGE);
	walk();
	assert_int_equal(L.n, 0);
	assert_int_equal(M.live, 1);
	/* The very last pages of each half are fine. */
	assert_int_equal(pt_map(&P, 0x00007ffffffff000ull, 0, KIB4, PT_R), ST_OK);
	assert_int_equal(pt_map(&P, 0xfffffffffffff000ull, 0, KIB4, PT_R), ST_OK);
	assert_int_equal(pt_unmap(&P, 0xffffffffffe00000ull, MIB2), ST_OK);
	assert_false(pt_lookup(&P, 0xfffffffffffff000ull, NULL, NULL, NULL));
}

static void test_init_bad(void **state)
{
	(void)state;
	struct pt_format f = pt_x86_format_2m;
	struct pt q;

	f.max_leaf_level = 4;
	assert_int_equal(pt_init(&q, &f, &MEM), ST_EINVAL);
	f = pt_x86_format_2m;
	f.leaf = NULL;
	assert_int_equal(pt_init(&q, &f, &MEM), ST_EINVAL);
	M.limit = 0;
	assert_int_equal(pt_init(&q, &pt_x86_format_2m, &MEM), ST_ENOMEM);
	pt_destroy(&q); /* no-op */
	assert_int_equal(M.total_allocs, 0);
}

static void test_enomem(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	M.limit = 3; /* root + 2: a 4K map needs 3 more */
	assert_int_equal(pt_map(&P, 0x1000, 0x1000, KIB4, PT_R), ST_ENOMEM);
	assert_false(pt_lookup(&P, 0x1000, NULL, NULL, NULL));
	assert_int_equal(M.live, 1); /* the partial tables were given back */
	/* 2M fits in the budget. */
	assert_int_equal(pt_map(&P, 0, 0, MIB2, PT_R), ST_OK);
	/* Spanning into a new 1G region: the first, mappable part must not stay. */
	assert_int_equal(pt_map(&P, GIB1 - MIB2, 0, 2 * MIB2 + KIB4, PT_R), ST_ENOMEM);
	assert_false(pt_lookup(&P, GIB1 - MIB2, NULL, NULL, NULL));
	walk();
	assert_int_equal(L.n, 1);
	/* Splitting on unmap runs out: translation unchanged. */
	M.limit = M.live;
	assert_int_equal(pt_unmap(&P, KIB4, KIB4), ST_ENOMEM);
	assert_maps(KIB4, KIB4, PT_R, MIB2);
	M.limit = FAKE_TABLES;
	assert_int_equal(pt_map(&P, 0x40000000, 0x1000, KIB4, PT_R), ST_OK);
	assert_int_equal(pt_unmap(&P, KIB4, KIB4), ST_OK);
	assert_maps(2 * KIB4, 2 * KIB4, PT_R, KIB4);
}

static void test_destroy_frees_all(void **state)
{
	(void)state;
	init(&pt_x86_format_1g);
	assert_int_equal(pt_map(&P, 0, 0, 4 * GIB1 + 3 * MIB2 + 5 * KIB4, PT_R | PT_W), ST_OK);
	assert_int_equal(pt_map(&P, HIGH_HALF, 0x100000, 7 * KIB4, PT_R | PT_X), ST_OK);
	assert_int_equal(pt_map(&P, 0xffff800000000000ull, 0, 2 * GIB1, PT_R | PT_W), ST_OK);
	assert_int_equal(pt_unmap(&P, GIB1 + KIB4, KIB4), ST_OK);
	assert_true(M.total_allocs > 8);
	pt_destroy(&P);
	assert_all_freed();
	pt_destroy(&P); /* second call is a no-op */
	assert_all_freed();
}

static void test_higher_half_walk(void **state)
{
	(void)state;
	init(&pt_x86_format_2m);
	assert_int_equal(pt_map(&P, 0x1000, 0x1000, KIB4, PT_R), ST_OK);
	assert_int_equal(pt_map(&P, HIGH_HALF, 0x200000, MIB2 + KIB4, PT_R | PT_X), ST_OK);
	assert_int_equal(pt_map(&P, 0xffff800000000000ull, 0, KIB4, PT_R), ST_OK);
	walk();
	assert_int_equal(L.n, 4);
	assert_int_equal(L.l[0].va, 0x1000);
	assert_int_equal(L.l[1].va, 0xffff800000000000ull);
	assert_int_equal(L.l[2].va, HIGH_HALF);
	assert_int_equal(L.l[2].pa, 0x200000);
	assert_int_equal(L.l[2].size, MIB2);
	assert_int_equal(L.l[2].prot, PT_R | PT_X);
	assert_int_equal(L.l[3].va, HIGH_HALF + MIB2);
	assert_int_equal(L.l[3].size, KIB4);
	assert_maps(HIGH_HALF + 0x1234, 0x201234, PT_R | PT_X, MIB2);
	/* The same low 48 bits without sign extension are not canonical. */
	assert_false(pt_lookup(&P, HIGH_HALF & 0xffffffffffffull, NULL, NULL, NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_map_4k_lookup),
	    T(test_page_sizes_1g),
	    T(test_page_sizes_2m_format),
	    T(test_page_sizes_misaligned_pa),
	    T(test_permissions),
	    T(test_x86_encoding),
	    T(test_effective_prot_nonleaf),
	    T(test_count_wx),
	    T(test_eexist_keeps_old),
	    T(test_unmap_splits_2m),
	    T(test_unmap_splits_1g),
	    T(test_bad_args),
	    T(test_init_bad),
	    T(test_enomem),
	    T(test_destroy_frees_all),
	    T(test_higher_half_walk),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(M.tables);
	return rc;
}
