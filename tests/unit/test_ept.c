/* Unit tests for the EPT entry format: tables built through the common
 * builder (kernel/mm/pt.c) and checked bit by bit, EPTP construction, the
 * misconfiguration checker and EPT-violation decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/pt.h"
#include "vmx/ept.h"

#define KIB4 0x1000ull
#define MIB2 0x200000ull
#define GIB1 0x40000000ull
#define FAKE_TABLES 64u
#define FAKE_BASE 0x7000000000ull /* fake host-physical address of table 0 */
#define MAXPHY 40u		  /* what Bochs corei7_skylake_x reports */
/* IA32_VMX_EPT_VPID_CAP as Bochs corei7_skylake_x reports it, and without
 * execute-only, 1 GiB or 2 MiB support. */
#define CAP_SKYLAKE 0x00000F0106334141ull
#define CAP_NO_XO (CAP_SKYLAKE & ~VMX_EPT_CAP_EXEC_ONLY)
#define CAP_NO_1G (CAP_SKYLAKE & ~VMX_EPT_CAP_1G)
#define CAP_4K_ONLY (CAP_NO_1G & ~VMX_EPT_CAP_2M)
#define MT_WB ((uint64_t)VMX_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)
#define MT_UC 0ull

struct fake_mem {
	uint64_t (*tables)[PT_ENTRIES];
	bool used[FAKE_TABLES];
	unsigned live;
};

static struct fake_mem M;

static status_t fake_alloc(void *ctx, uint64_t *pa)
{
	struct fake_mem *m = ctx;

	for (unsigned i = 0; i < FAKE_TABLES; i++) {
		if (m->used[i])
			continue;
		m->used[i] = true;
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

	assert_true(m->used[i]);
	m->used[i] = false;
	m->live--;
}

static void *fake_virt(void *ctx, uint64_t pa)
{
	struct fake_mem *m = ctx;
	unsigned i = slot_of(pa);

	assert_true(m->used[i]);
	return m->tables[i];
}

static const struct pt_mem MEM = {&M, fake_alloc, fake_free, fake_virt};
static struct pt P;

static int setup(void **state)
{
	(void)state;
	if (!M.tables)
		M.tables = aligned_alloc(PT_TABLE_SIZE, FAKE_TABLES * PT_TABLE_SIZE);
	memset(M.used, 0, sizeof(M.used));
	M.live = 0;
	return M.tables ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pt_destroy(&P);
	assert_int_equal(M.live, 0);
	return 0;
}

static void init(const struct pt_format *f)
{
	assert_int_equal(pt_init(&P, f, &MEM), ST_OK);
}

/* The raw entry mapping gpa at `level` (1-4), found by walking the tables. */
static uint64_t entry_at(uint64_t gpa, int level)
{
	uint64_t table = P.root;

	for (int l = PT_LEVELS;; l--) {
		unsigned idx = (gpa >> (12 + 9 * (l - 1))) & (PT_ENTRIES - 1);
		uint64_t e = ((uint64_t *)fake_virt(&M, table))[idx];

		if (l == level)
			return e;
		assert_true(e & EPT_RWX);
		assert_false(P.fmt->is_leaf(e, l));
		table = e & EPT_ADDR_4K;
	}
}

/* Every present entry in every table passes the misconfiguration check of
 * a CPU without execute-only support. */
static unsigned check_tree(uint64_t table, int level)
{
	const uint64_t *t = fake_virt(&M, table);
	unsigned n = 0;

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		if (!(t[i] & EPT_RWX))
			continue;
		const char *why = ept_entry_problem(t[i], level, CAP_NO_XO, MAXPHY);

		if (why)
			fail_msg("entry 0x%llx at level %d: %s", (unsigned long long)t[i], level,
				 why);
		n++;
		if (level > 1 && !P.fmt->is_leaf(t[i], level))
			n += check_tree(t[i] & EPT_ADDR_4K, level - 1);
	}
	return n;
}

static void assert_maps(uint64_t gpa, uint64_t hpa, uint32_t prot, uint64_t size)
{
	uint64_t got_pa = 0, got_size = 0;
	uint32_t got_prot = 0;

	assert_true(pt_lookup(&P, gpa, &got_pa, &got_prot, &got_size));
	assert_int_equal(got_pa, hpa);
	assert_int_equal(got_prot, prot);
	assert_int_equal(got_size, size);
}

/* ---- leaf and table encodings ---- */

static void test_leaf_bits(void **state)
{
	(void)state;
	const struct pt_format *f = &ept_format_1g;

	assert_int_equal(f->leaf(0x5000, PT_R, 1), 0x5000 | EPT_R | MT_WB);
	assert_int_equal(f->leaf(0x5000, PT_R | PT_W, 1), 0x5000 | EPT_R | EPT_W | MT_WB);
	assert_int_equal(f->leaf(0x5000, PT_R | PT_X, 1), 0x5000 | EPT_R | EPT_X | MT_WB);
	assert_int_equal(f->leaf(0x5000, PT_R | PT_W | PT_X, 1), 0x5000 | EPT_RWX | MT_WB);
	assert_int_equal(f->leaf(0x5000, PT_R | PT_W | PT_UC, 1), 0x5000 | EPT_R | EPT_W | MT_UC);
	/* Large pages: bit 7, address masked to the page size. */
	assert_int_equal(f->leaf(0x200000, PT_R | PT_W, 2),
			 0x200000 | EPT_R | EPT_W | MT_WB | EPT_LARGE);
	assert_int_equal(f->leaf(0x40000000, PT_R | PT_X | PT_UC, 3),
			 0x40000000 | EPT_R | EPT_X | MT_UC | EPT_LARGE);
	/* Never ignore-PAT, accessed/dirty, #VE suppression or user-execute. */
	for (uint32_t p = 0; p <= PT_PROT_ALL; p++)
		for (int level = 1; level <= 3; level++)
			assert_int_equal(f->leaf(0x40000000, p, level) &
					     (EPT_IGNORE_PAT | EPT_ACCESSED | EPT_DIRTY |
					      EPT_USER_X | EPT_SUPPRESS_VE),
					 0);
}

static void test_no_read_refused(void **state)
{
	(void)state;
	const struct pt_format *f = &ept_format_2m;

	/* W without R is a misconfiguration; X alone needs execute-only
	 * support: the format produces neither, and pt_map refuses. */
	assert_int_equal(f->leaf(0x5000, PT_W, 1), 0);
	assert_int_equal(f->leaf(0x5000, PT_X, 1), 0);
	assert_int_equal(f->leaf(0x5000, PT_W | PT_X | PT_UC, 2), 0);
	assert_false(f->present(f->leaf(0x5000, PT_W, 1)));
	init(f);
	assert_int_equal(pt_map(&P, 0, 0x100000, KIB4, PT_W), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0, 0x100000, MIB2, PT_W | PT_X), ST_EINVAL);
	assert_int_equal(pt_map(&P, 0, 0x100000, KIB4, PT_X), ST_EINVAL);
	assert_false(pt_lookup(&P, 0, NULL, NULL, NULL));
	assert_int_equal(M.live, 1);
}

static void test_user_global_ignored(void **state)
{
	(void)state;
	const struct pt_format *f = &ept_format_2m;

	assert_int_equal(f->leaf(0x5000, PT_R | PT_W | PT_X | PT_USER | PT_GLOBAL, 1),
			 f->leaf(0x5000, PT_R | PT_W | PT_X, 1));
	init(f);
	assert_int_equal(pt_map(&P, 0, 0, MIB2, PT_R | PT_W | PT_X | PT_USER), ST_OK);
	assert_maps(0x1234, 0x1234, PT_R | PT_W | PT_X, MIB2);
}

static void test_table_entries(void **state)
{
	(void)state;
	const struct pt_format *f = &ept_format_1g;
	uint64_t t = f->table(0x3000);

	assert_int_equal(t, 0x3000 | EPT_RWX);
	assert_true(f->present(t));
	assert_false(f->is_leaf(t, 2));
	assert_false(f->is_leaf(t, 3));
	assert_false(f->is_leaf(t | EPT_LARGE, 4)); /* bit 7 is reserved in a PML4E */
	assert_true(f->is_leaf(0x1000 | EPT_R, 1));
	assert_int_equal(f->addr(t, 3), 0x3000);
	/* Non-leaf bits 5:3 are not a memory type: no PT_UC from a table. */
	assert_int_equal(f->prot(t, 2), PT_R | PT_W | PT_X);
	assert_int_equal(f->prot(t | EPT_ACCESSED, 4), PT_R | PT_W | PT_X);
	/* Present = any of R/W/X. */
	assert_false(f->present(0x5000 | MT_WB | EPT_LARGE | EPT_ACCESSED));
	assert_true(f->present(EPT_X));
	assert_true(f->present(EPT_W));
}

static void test_decode(void **state)
{
	(void)state;
	const struct pt_format *f = &ept_format_1g;
	uint64_t e = f->leaf(0x40000000, PT_R | PT_W, 3) | EPT_ACCESSED | EPT_DIRTY;

	assert_int_equal(f->addr(e, 3), 0x40000000);
	assert_int_equal(f->prot(e, 3), PT_R | PT_W);
	assert_int_equal(f->addr(f->leaf(0x1ff000, PT_R, 1), 1), 0x1ff000);
	/* A WT or WC leaf written by someone else reads as not write-back. */
	e = 0x5000 | EPT_R | ((uint64_t)VMX_MEMTYPE_WT << EPT_MEMTYPE_SHIFT);
	assert_int_equal(f->prot(e, 1), PT_R | PT_UC);
}

static void test_formats(void **state)
{
	(void)state;
	assert_int_equal(ept_format_4k.max_leaf_level, 1);
	assert_int_equal(ept_format_2m.max_leaf_level, 2);
	assert_int_equal(ept_format_1g.max_leaf_level, 3);
	assert_ptr_equal(ept_format_for(CAP_SKYLAKE), &ept_format_1g);
	assert_ptr_equal(ept_format_for(CAP_NO_1G), &ept_format_2m);
	assert_ptr_equal(ept_format_for(CAP_4K_ONLY), &ept_format_4k);
	/* 1 GiB without 2 MiB: the 1g format would also write 2 MiB leaves. */
	assert_ptr_equal(ept_format_for(CAP_SKYLAKE & ~VMX_EPT_CAP_2M), &ept_format_4k);
}

/* ---- building tables ---- */

static void test_build_1g(void **state)
{
	(void)state;
	init(&ept_format_1g);
	/* 4 KiB edge, a 1 GiB page, a 2 MiB page, a 4 KiB edge. */
	uint64_t gpa = GIB1 - KIB4, size = KIB4 + GIB1 + MIB2 + KIB4, hpa = gpa + 4 * GIB1;

	assert_int_equal(pt_map(&P, gpa, hpa, size, PT_R | PT_W | PT_X), ST_OK);
	assert_int_equal(entry_at(gpa, 1), (hpa & EPT_ADDR_4K) | EPT_RWX | MT_WB);
	assert_int_equal(entry_at(GIB1, 3), (5 * GIB1) | EPT_RWX | MT_WB | EPT_LARGE);
	assert_int_equal(entry_at(2 * GIB1, 2), (6 * GIB1) | EPT_RWX | MT_WB | EPT_LARGE);
	assert_int_equal(entry_at(2 * GIB1 + MIB2, 1), (6 * GIB1 + MIB2) | EPT_RWX | MT_WB);
	/* The tables above point down with R|W|X and nothing else. */
	uint64_t pml4e = entry_at(0, 4), pdpte = entry_at(0, 3);

	assert_int_equal(pml4e & ~EPT_ADDR_4K, EPT_RWX);
	assert_int_equal(pdpte & ~EPT_ADDR_4K, EPT_RWX);
	assert_int_equal(check_tree(P.root, PT_LEVELS), 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1);
	assert_maps(GIB1 + 0x12345, 5 * GIB1 + 0x12345, PT_R | PT_W | PT_X, GIB1);
	assert_maps(2 * GIB1 + 0x1000, 6 * GIB1 + 0x1000, PT_R | PT_W | PT_X, MIB2);
	assert_maps(gpa + 0x10, hpa + 0x10, PT_R | PT_W | PT_X, KIB4);
}

static void test_build_2m_and_4k(void **state)
{
	(void)state;
	init(&ept_format_2m);
	/* Guest RAM as Keel maps it: 2 MiB chunks, then a partial chunk. */
	assert_int_equal(pt_map(&P, 0, 0x40000000, 2 * MIB2 + 3 * KIB4, PT_R | PT_W | PT_X), ST_OK);
	assert_int_equal(entry_at(MIB2, 2), (0x40000000 + MIB2) | EPT_RWX | MT_WB | EPT_LARGE);
	assert_int_equal(entry_at(2 * MIB2 + 2 * KIB4, 1),
			 (0x40000000 + 2 * MIB2 + 2 * KIB4) | EPT_RWX | MT_WB);
	assert_false(pt_lookup(&P, 2 * MIB2 + 3 * KIB4, NULL, NULL, NULL));
	/* An uncached read-only window, e.g. a passed-through ROM. */
	assert_int_equal(pt_map(&P, 0xFEC00000, 0xFEC00000, KIB4, PT_R | PT_UC), ST_OK);
	assert_int_equal(entry_at(0xFEC00000, 1), 0xFEC00000 | EPT_R | MT_UC);
	assert_maps(0xFEC00010, 0xFEC00010, PT_R | PT_UC, KIB4);
	check_tree(P.root, PT_LEVELS);
	/* The 4k format never writes large pages. */
	pt_destroy(&P);
	init(&ept_format_4k);
	assert_int_equal(pt_map(&P, 0, 0, MIB2, PT_R | PT_W), ST_OK);
	assert_int_equal(entry_at(0, 2) & EPT_LARGE, 0);
	assert_maps(MIB2 - KIB4, MIB2 - KIB4, PT_R | PT_W, KIB4);
}

static void test_split_keeps_bits(void **state)
{
	(void)state;
	init(&ept_format_1g);
	assert_int_equal(pt_map(&P, GIB1, 0, GIB1, PT_R | PT_X | PT_UC), ST_OK);
	/* Unmapping one 4 KiB page splits 1G -> 2M -> 4K with the same bits. */
	assert_int_equal(pt_unmap(&P, GIB1 + MIB2 + KIB4, KIB4), ST_OK);
	assert_int_equal(entry_at(GIB1, 2), 0 | EPT_R | EPT_X | MT_UC | EPT_LARGE);
	assert_int_equal(entry_at(GIB1 + MIB2, 1), MIB2 | EPT_R | EPT_X | MT_UC);
	assert_int_equal(entry_at(GIB1 + MIB2 + KIB4, 1), 0);
	assert_maps(GIB1 + 5 * MIB2, 5 * MIB2, PT_R | PT_X | PT_UC, MIB2);
	check_tree(P.root, PT_LEVELS);
}

static void test_permissions_roundtrip(void **state)
{
	(void)state;
	static const uint32_t prots[] = {
	    PT_R,	  PT_R | PT_W,
	    PT_R | PT_X,  PT_R | PT_W | PT_X,
	    PT_R | PT_UC, PT_R | PT_W | PT_X | PT_UC,
	};
	init(&ept_format_1g);
	for (unsigned i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
		uint64_t a4 = 0x10000000 + i * KIB4, a2 = GIB1 + i * MIB2, a1 = (8 + i) * GIB1;

		assert_int_equal(pt_map(&P, a4, a4, KIB4, prots[i]), ST_OK);
		assert_int_equal(pt_map(&P, a2, a2, MIB2, prots[i]), ST_OK);
		assert_int_equal(pt_map(&P, a1, a1, GIB1, prots[i]), ST_OK);
		assert_maps(a4, a4, prots[i], KIB4);
		assert_maps(a2, a2, prots[i], MIB2);
		assert_maps(a1, a1, prots[i], GIB1);
	}
	check_tree(P.root, PT_LEVELS);
	/* The W+X walk sees EPT leaves too: the two R|W|X protections. */
	assert_int_equal(pt_count_wx(&P, NULL, NULL), 6);
}

/* ---- EPTP ---- */

static void test_eptp(void **state)
{
	(void)state;
	uint64_t eptp = 0;

	assert_int_equal(ept_make_eptp(0x12345000, false, &eptp), ST_OK);
	assert_int_equal(eptp, 0x12345000 | VMX_MEMTYPE_WB | (3ull << 3));
	assert_int_equal(eptp & EPTP_MEMTYPE_MASK, 6);
	assert_int_equal((eptp & EPTP_WALK_MASK) >> EPTP_WALK_SHIFT, 3); /* 4 levels - 1 */
	assert_int_equal(eptp & EPTP_AD, 0);
	assert_int_equal(eptp & EPTP_ADDR_MASK, 0x12345000);
	assert_int_equal(ept_make_eptp(0xFF12345000ull, true, &eptp), ST_OK);
	assert_int_equal(eptp, 0xFF12345000ull | 0x5E);
	eptp = 42;
	assert_int_equal(ept_make_eptp(0x12345800, false, &eptp), ST_EINVAL);
	assert_int_equal(ept_make_eptp(1ull << 52, false, &eptp), ST_EINVAL);
	assert_int_equal(eptp, 42);
}

static void test_eptp_problem(void **state)
{
	(void)state;
	uint64_t eptp;

	assert_int_equal(ept_make_eptp(0x1000, true, &eptp), ST_OK);
	assert_null(ept_eptp_problem(eptp, CAP_SKYLAKE, MAXPHY));
	assert_non_null(strstr(ept_eptp_problem(eptp, CAP_SKYLAKE & ~VMX_EPT_CAP_AD, MAXPHY),
			       "accessed/dirty"));
	assert_non_null(strstr(ept_eptp_problem(eptp, CAP_SKYLAKE & ~VMX_EPT_CAP_WB, MAXPHY),
			       "WB not supported"));
	assert_non_null(
	    strstr(ept_eptp_problem(eptp, CAP_SKYLAKE & ~VMX_EPT_CAP_WALK4, MAXPHY), "4-level"));
	assert_non_null(strstr(
	    ept_eptp_problem((eptp & ~EPTP_MEMTYPE_MASK) | VMX_MEMTYPE_WT, CAP_SKYLAKE, MAXPHY),
	    "neither UC nor WB"));
	assert_null(ept_eptp_problem(eptp & ~EPTP_MEMTYPE_MASK, CAP_SKYLAKE, MAXPHY)); /* UC */
	assert_non_null(
	    strstr(ept_eptp_problem((eptp & ~EPTP_WALK_MASK) | (1ull << 3), CAP_SKYLAKE, MAXPHY),
		   "page-walk length"));
	assert_non_null(ept_eptp_problem(eptp | EPTP_WALK_5, CAP_SKYLAKE, MAXPHY));
	assert_non_null(strstr(ept_eptp_problem(eptp | EPTP_SSS, CAP_SKYLAKE, MAXPHY), "shadow"));
	assert_non_null(strstr(ept_eptp_problem(eptp | 0x100, CAP_SKYLAKE, MAXPHY), "11:8"));
	assert_non_null(
	    strstr(ept_eptp_problem(eptp | (1ull << MAXPHY), CAP_SKYLAKE, MAXPHY), "MAXPHYADDR"));
	assert_null(ept_eptp_problem(eptp | (1ull << MAXPHY), CAP_SKYLAKE, 46));
}

/* ---- misconfigurations ---- */

static void assert_problem(uint64_t e, int level, uint64_t cap, const char *expect)
{
	const char *why = ept_entry_problem(e, level, cap, MAXPHY);

	assert_non_null(why);
	if (!strstr(why, expect))
		fail_msg("\"%s\" does not contain \"%s\"", why, expect);
}

static void test_entry_problems(void **state)
{
	(void)state;
	assert_null(ept_entry_problem(0, 1, CAP_SKYLAKE, MAXPHY));
	assert_null(ept_entry_problem(0x5000 | MT_WB, 1, CAP_SKYLAKE, MAXPHY)); /* not present */
	assert_problem(0x5000 | EPT_W | MT_WB, 1, CAP_SKYLAKE, "writable but not readable");
	assert_problem(0x5000 | EPT_W | EPT_X | MT_WB, 2, CAP_SKYLAKE, "writable but not readable");
	assert_problem(0x5000 | EPT_X | MT_WB, 1, CAP_NO_XO, "execute-only");
	assert_null(ept_entry_problem(0x5000 | EPT_X | MT_WB, 1, CAP_SKYLAKE, MAXPHY));
	for (unsigned t = 0; t < 8; t++) {
		uint64_t e = 0x5000 | EPT_R | ((uint64_t)t << EPT_MEMTYPE_SHIFT);
		bool reserved = t == 2 || t == 3 || t == 7;

		if (reserved)
			assert_problem(e, 1, CAP_SKYLAKE, "reserved memory type");
		else
			assert_null(ept_entry_problem(e, 1, CAP_SKYLAKE, MAXPHY));
	}
	assert_problem((1ull << MAXPHY) | EPT_R | MT_WB, 1, CAP_SKYLAKE, "MAXPHYADDR");
	assert_problem(0x5000 | EPT_RWX | EPT_LARGE, 4, CAP_SKYLAKE, "PML4E");
	assert_problem(0x5000 | EPT_RWX | MT_WB, 4, CAP_SKYLAKE, "PML4E");
	assert_problem(0x5000 | EPT_RWX | (1ull << 3), 2, CAP_SKYLAKE, "table pointer");
	assert_null(ept_entry_problem(0x5000 | EPT_RWX | EPT_ACCESSED, 3, CAP_SKYLAKE, MAXPHY));
	assert_problem(0x201000 | EPT_R | MT_WB | EPT_LARGE, 2, CAP_SKYLAKE, "low address bits");
	assert_problem(0x40200000 | EPT_R | MT_WB | EPT_LARGE, 3, CAP_SKYLAKE, "low address bits");
	assert_problem(0x40000000 | EPT_R | MT_WB | EPT_LARGE, 3, CAP_NO_1G, "1 GiB");
	assert_problem(0x200000 | EPT_R | MT_WB | EPT_LARGE, 2, CAP_4K_ONLY, "2 MiB");
	assert_null(
	    ept_entry_problem(0x40000000 | EPT_R | MT_WB | EPT_LARGE | EPT_ACCESSED | EPT_DIRTY, 3,
			      CAP_SKYLAKE, MAXPHY));
}

/* ---- EPT violations ---- */

static void test_violation(void **state)
{
	(void)state;
	struct ept_violation v;

	/* A guest's data write to an unmapped (MMIO) address. */
	ept_violation_decode(VMX_EPTQ_WRITE | VMX_EPTQ_GLA_VALID | VMX_EPTQ_TRANSLATION, &v);
	assert_true(v.write && !v.read && !v.fetch);
	assert_false(v.readable || v.writable || v.executable);
	assert_true(v.gla_valid && !v.walk && !v.nmi_unblocking);
	/* A read of a read-only page, reported with what was allowed. */
	ept_violation_decode(VMX_EPTQ_READ | VMX_EPTQ_READABLE | VMX_EPTQ_EXECUTABLE |
				 VMX_EPTQ_GLA_VALID | VMX_EPTQ_TRANSLATION |
				 VMX_EPTQ_NMI_UNBLOCKING,
			     &v);
	assert_true(v.read && v.readable && !v.writable && v.executable && v.nmi_unblocking);
	/* The guest's page walk touched the address (A/D update is a write). */
	ept_violation_decode(VMX_EPTQ_READ | VMX_EPTQ_WRITE | VMX_EPTQ_GLA_VALID, &v);
	assert_true(v.walk);
	/* No linear address at all (e.g. PAE PDPTE load): not emulatable. */
	ept_violation_decode(VMX_EPTQ_READ | VMX_EPTQ_TRANSLATION, &v);
	assert_true(!v.gla_valid && v.walk);
	ept_violation_decode(VMX_EPTQ_FETCH | VMX_EPTQ_GLA_VALID | VMX_EPTQ_TRANSLATION, &v);
	assert_true(v.fetch && !v.walk);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_leaf_bits),
	    T(test_no_read_refused),
	    T(test_user_global_ignored),
	    T(test_table_entries),
	    T(test_decode),
	    T(test_formats),
	    T(test_build_1g),
	    T(test_build_2m_and_4k),
	    T(test_split_keeps_bits),
	    T(test_permissions_roundtrip),
	    T(test_eptp),
	    T(test_eptp_problem),
	    T(test_entry_problems),
	    T(test_violation),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(M.tables);
	return rc;
}
