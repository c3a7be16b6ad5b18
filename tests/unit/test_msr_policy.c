/* Unit tests for the guest MSR policy. Expected kinds, values and reserved
 * bits are written out here from the brief, the Intel SDM (MTRRs, EFER,
 * IA32_MISC_ENABLE) and AMD's BKDG/PPR (HWCR, NB_CFG), not taken from the
 * table under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cmdline.h"
#include "vm/guest_ram.h"
#include "vm/msr_policy.h"

#define BIT(n) (1ull << (n))
#define ALL 0xFFFFFFFFFFFFFFFFull
#define PHYS 40u /* MAXPHYADDR used unless a test says otherwise */

/* ---- The table as the brief and the design decisions define it ---- */

struct expect {
	uint32_t index, count;
	enum msr_kind kind;
};

static const struct expect expected[] = {
    {0x10, 1, MSR_KIND_HOOK},	     /* TSC */
    {0x17, 1, MSR_KIND_CONST},	     /* PLATFORM_ID */
    {0x1B, 1, MSR_KIND_HOOK},	     /* APIC_BASE */
    {0x3A, 1, MSR_KIND_CONST},	     /* FEATURE_CONTROL */
    {0x3B, 1, MSR_KIND_CONST},	     /* TSC_ADJUST */
    {0x8B, 1, MSR_KIND_CONST},	     /* microcode revision */
    {0xFE, 1, MSR_KIND_CONST},	     /* MTRRcap */
    {0x174, 3, MSR_KIND_HW},	     /* SYSENTER_CS/ESP/EIP */
    {0x1A0, 1, MSR_KIND_STORE},	     /* MISC_ENABLE */
    {0x1D9, 1, MSR_KIND_CONST},	     /* DEBUGCTL */
    {0x200, 16, MSR_KIND_STORE},     /* variable MTRR pairs */
    {0x250, 1, MSR_KIND_STORE},	     /* fixed 64K */
    {0x258, 2, MSR_KIND_STORE},	     /* fixed 16K */
    {0x268, 8, MSR_KIND_STORE},	     /* fixed 4K */
    {0x277, 1, MSR_KIND_HW},	     /* PAT */
    {0x2FF, 1, MSR_KIND_STORE},	     /* MTRRdefType */
    {0x6E0, 1, MSR_KIND_HOOK},	     /* TSC_DEADLINE */
    {0x800, 0x100, MSR_KIND_HOOK},   /* x2APIC */
    {0xC0000080, 1, MSR_KIND_HOOK},  /* EFER */
    {0xC0000081, 4, MSR_KIND_HW},    /* STAR, LSTAR, CSTAR, SFMASK */
    {0xC0000100, 3, MSR_KIND_HW},    /* FS_BASE, GS_BASE, KERNEL_GS_BASE */
    {0xC0000103, 1, MSR_KIND_HOOK},  /* TSC_AUX */
    {0xC0010010, 1, MSR_KIND_CONST}, /* SYSCFG */
    {0xC0010015, 1, MSR_KIND_STORE}, /* HWCR */
    {0xC001001F, 1, MSR_KIND_STORE}, /* NB_CFG */
    {0xC0010055, 1, MSR_KIND_CONST}, /* INT_PENDING_MSG */
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

/* The brief's must-#GP list (a test guest checks these too), plus MSRs of
 * features CPUID hides. */
static const uint32_t must_gp[] = {
    0xC0010114, /* VM_CR */
    0xC0010117, /* VM_HSAVE_PA */
    0x48,	/* SPEC_CTRL */
    0x49,	/* PRED_CMD */
    0x179,	/* MCG_CAP */
    0x17A,	/* MCG_STATUS */
    0x186,	/* PERFEVTSEL0 */
    0xC0010000, /* PERF_CTL0 */
    0xC0010004, /* PERF_CTR0 */
    0x480,	/* VMX_BASIC */
    0x10A,	/* ARCH_CAPABILITIES: hidden */
    0xDA0,	/* XSS: XSAVES hidden */
    0x6E1,	/* PKRS: hidden */
    0xC1,	/* PMC0 */
    0x38F,	/* PERF_GLOBAL_CTRL */
    0x400,	/* MC0_CTL */
    0xC0010140, /* OSVW_ID_LENGTH: OSVW hidden */
    0xC0011029, /* DE_CFG */
    0xCE,	/* PLATFORM_INFO */
    0x0,	0x1, 0x7FF, 0x900, 0x1FFF, 0xC0000000, 0xC0000104, 0xC0001FFF, 0xFFFFFFFF,
};

static struct msr_state S;

static int setup(void **state)
{
	(void)state;
	msr_state_reset(&S, PHYS);
	return 0;
}

static uint64_t rd(uint32_t index)
{
	uint64_t v = 0xBADBADBADull;

	assert_int_equal(msr_read(&S, index, &v), MSR_OK);
	return v;
}

/* A write that must #GP and leave every register as it was. */
static void wr_fault(uint32_t index, uint64_t val)
{
	struct msr_state before = S;

	assert_int_equal(msr_write(&S, index, val), MSR_FAULT);
	assert_memory_equal(&before, &S, sizeof(S));
}

static void wr_ok(uint32_t index, uint64_t val)
{
	assert_int_equal(msr_write(&S, index, val), MSR_OK);
}

/* ---- Table shape ---- */

static void test_table_sorted_unique(void **state)
{
	size_t n;
	const struct msr_rule *t = msr_table(&n);
	unsigned slot_uses[MSR_STORE_SLOTS] = {0};
	(void)state;

	assert_non_null(t);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i].count >= 1);
		assert_true(t[i].index + (uint64_t)t[i].count - 1 <= 0xFFFFFFFFull);
		assert_non_null(t[i].name);
		assert_true(strlen(t[i].name) > 0);
		assert_int_not_equal(t[i].kind, MSR_KIND_GP);
		if (i > 0) /* sorted and disjoint */
			assert_true((uint64_t)t[i - 1].index + t[i - 1].count <= t[i].index);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(t[i].name, t[j].name);
		if (t[i].kind == MSR_KIND_STORE) {
			assert_int_equal(t[i].count, 1);
			assert_true(t[i].slot < MSR_STORE_SLOTS);
			slot_uses[t[i].slot]++;
			/* A read-only bit cannot also be reserved. */
			assert_int_equal(t[i].reserved & t[i].readonly, 0);
		}
		/* Lookup finds this rule for its first and last index, and not
		 * for the neighbours outside it. */
		assert_ptr_equal(msr_rule_find(t[i].index), &t[i]);
		assert_ptr_equal(msr_rule_find(t[i].index + t[i].count - 1), &t[i]);
		if (t[i].index > 0)
			assert_ptr_not_equal(msr_rule_find(t[i].index - 1), &t[i]);
		assert_ptr_not_equal(msr_rule_find(t[i].index + t[i].count), &t[i]);
	}
	/* Every slot is used by exactly one MSR: MSR_STORE_SLOTS is exact. */
	for (unsigned s = 0; s < MSR_STORE_SLOTS; s++)
		assert_int_equal(slot_uses[s], 1);
}

/* The table covers exactly the expected MSRs, each with the expected kind. */
static void test_every_entry_by_kind(void **state)
{
	size_t n;
	const struct msr_rule *t = msr_table(&n);
	uint64_t covered = 0, want = 0;
	(void)state;

	for (size_t i = 0; i < n; i++)
		covered += t[i].count;
	for (size_t e = 0; e < NEXPECTED; e++) {
		want += expected[e].count;
		for (uint32_t k = 0; k < expected[e].count; k++) {
			uint32_t idx = expected[e].index + k;
			const struct msr_rule *r = msr_rule_find(idx);
			enum msr_result res = MSR_FAULT;
			uint64_t v = 0;

			assert_non_null(r);
			assert_int_equal(r->kind, expected[e].kind);
			switch (expected[e].kind) {
			case MSR_KIND_HW:
				res = MSR_HW;
				break;
			case MSR_KIND_HOOK:
				res = MSR_HOOK;
				break;
			default:
				res = MSR_OK;
				break;
			}
			assert_int_equal(msr_read(&S, idx, &v), res);
			if (res != MSR_OK) /* HW and HOOK never go through the store */
				assert_int_equal(msr_write(&S, idx, 0), res);
		}
	}
	assert_int_equal(covered, want);
}

static void test_must_gp(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(must_gp) / sizeof(must_gp[0]); i++) {
		uint64_t v = 0x1234;

		assert_null(msr_rule_find(must_gp[i]));
		assert_int_equal(msr_read(&S, must_gp[i], &v), MSR_FAULT);
		assert_int_equal(v, 0x1234); /* untouched */
		wr_fault(must_gp[i], 0);
		wr_fault(must_gp[i], 1);
	}
}

struct collect {
	uint32_t idx[512];
	unsigned n;
};

static void collect_fn(void *ctx, uint32_t index)
{
	struct collect *c = ctx;

	assert_true(c->n < 512);
	c->idx[c->n++] = index;
}

static void test_foreach(void **state)
{
	static const uint32_t hw[] = {0x174,	  0x175,      0x176,	  0x277,
				      0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084,
				      0xC0000100, 0xC0000101, 0xC0000102};
	struct collect c = {0};
	(void)state;

	msr_foreach(MSR_KIND_HW, collect_fn, &c);
	assert_int_equal(c.n, sizeof(hw) / sizeof(hw[0]));
	for (unsigned i = 0; i < c.n; i++) {
		assert_int_equal(c.idx[i], hw[i]);
		/* Pass-through needs a bit in the MSR bitmap: VMX covers only
		 * 0-0x1FFF and 0xC0000000-0xC0001FFF (SVM covers a superset). */
		assert_true(c.idx[i] <= 0x1FFF ||
			    (c.idx[i] >= 0xC0000000 && c.idx[i] <= 0xC0001FFF));
	}

	memset(&c, 0, sizeof(c));
	msr_foreach(MSR_KIND_HOOK, collect_fn, &c);
	assert_int_equal(c.n, 5 + 0x100);
	for (unsigned i = 1; i < c.n; i++)
		assert_true(c.idx[i - 1] < c.idx[i]);
	assert_int_equal(c.idx[0], 0x10);
	assert_int_equal(c.idx[3], 0x800);
	assert_int_equal(c.idx[3 + 0xFF], 0x8FF);
	assert_int_equal(c.idx[c.n - 1], 0xC0000103);

	memset(&c, 0, sizeof(c));
	msr_foreach(MSR_KIND_STORE, collect_fn, &c);
	assert_int_equal(c.n, MSR_STORE_SLOTS);

	memset(&c, 0, sizeof(c));
	msr_foreach(MSR_KIND_CONST, collect_fn, &c);
	assert_int_equal(c.n, 8);

	memset(&c, 0, sizeof(c));
	msr_foreach(MSR_KIND_GP, collect_fn, &c);
	assert_int_equal(c.n, 0);
}

/* ---- CONST ---- */

static void test_const_values_and_writes(void **state)
{
	(void)state;
	/* MTRRcap: VCNT 8, FIX (bit 8), WC (bit 10), no SMRR (bit 11). */
	assert_int_equal(rd(0xFE), 0x508);
	wr_fault(0xFE, 0x508); /* read-only: even the same value #GPs */
	wr_fault(0xFE, 0);
	/* FEATURE_CONTROL: locked (bit 0), VMX disabled (bits 1, 2 clear). */
	assert_int_equal(rd(0x3A), 1);
	wr_fault(0x3A, 1);
	wr_fault(0x3A, 5);
	wr_fault(0x3A, 0);
	/* Microcode revision 0; Linux writes 0 before CPUID(1): accepted,
	 * dropped, any value. */
	assert_int_equal(rd(0x8B), 0);
	wr_ok(0x8B, 0);
	wr_ok(0x8B, 0x123400000000ull);
	assert_int_equal(rd(0x8B), 0);
	/* TSC_ADJUST: 0, since guest TSC writes #GP; writing 0 is fine, any
	 * other value would move the TSC and #GPs. */
	assert_int_equal(rd(0x3B), 0);
	wr_ok(0x3B, 0);
	wr_fault(0x3B, 1);
	wr_fault(0x3B, 0xFFFFFFFFFFFFFFFFull);
	assert_int_equal(rd(0x3B), 0);
	/* PLATFORM_ID: read-only. */
	assert_int_equal(rd(0x17), 0);
	wr_fault(0x17, 0);
	/* DEBUGCTL: 0; clearing is fine, LBR (bit 0) and BTF (bit 1) #GP. */
	assert_int_equal(rd(0x1D9), 0);
	wr_ok(0x1D9, 0);
	wr_fault(0x1D9, BIT(0));
	wr_fault(0x1D9, BIT(1));
	/* SYSCFG: 0, MtrrFixDramModEn (19) clear; SME enable (23) #GPs. */
	assert_int_equal(rd(0xC0010010), 0);
	wr_ok(0xC0010010, 0);
	wr_fault(0xC0010010, BIT(19));
	wr_fault(0xC0010010, BIT(23));
	/* INT_PENDING_MSG: no C1E (bits 27, 28 clear). */
	assert_int_equal(rd(0xC0010055), 0);
	wr_ok(0xC0010055, 0);
	wr_fault(0xC0010055, BIT(27));
}

/* ---- STORE: reset values ---- */

static void test_store_reset(void **state)
{
	(void)state;
	/* MISC_ENABLE: fast strings, BTS and PEBS unavailable. */
	assert_int_equal(rd(0x1A0), BIT(0) | BIT(11) | BIT(12));
	/* MTRRdefType: E, FE, default WB. */
	assert_int_equal(rd(0x2FF), 0xC06);
	/* Pair 0: UC from 3 GiB, 1 GiB long (mask bits 39:30 with 40-bit
	 * MAXPHYADDR), valid. Pairs 1-7 unused. */
	assert_int_equal(rd(0x200), 0xC0000000);
	assert_int_equal(rd(0x201), 0xFFC0000000ull | BIT(11));
	for (uint32_t i = 0x202; i <= 0x20F; i++)
		assert_int_equal(rd(i), 0);
	/* Fixed: RAM WB, VGA window UC, 0xC0000-0xFFFFF WB. */
	assert_int_equal(rd(0x250), 0x0606060606060606ull);
	assert_int_equal(rd(0x258), 0x0606060606060606ull);
	assert_int_equal(rd(0x259), 0);
	for (uint32_t i = 0x268; i <= 0x26F; i++)
		assert_int_equal(rd(i), 0x0606060606060606ull);
	/* HWCR: TscFreqSel (24). NB_CFG: 0. */
	assert_int_equal(rd(0xC0010015), BIT(24));
	assert_int_equal(rd(0xC001001F), 0);
	/* The hole sits where low guest RAM ends. */
	assert_int_equal(MSR_MTRR_HOLE_BASE, GRAM_LOW_MAX);
}

static void test_reset_phys_bits(void **state)
{
	(void)state;
	msr_state_reset(&S, 0); /* unknown: 36 */
	assert_int_equal(rd(0x201), 0xFC0000000ull | BIT(11));
	msr_state_reset(&S, 36);
	assert_int_equal(rd(0x201), 0xFC0000000ull | BIT(11));
	msr_state_reset(&S, 48);
	assert_int_equal(rd(0x201), 0xFFFFC0000000ull | BIT(11));
	msr_state_reset(&S, 52);
	assert_int_equal(rd(0x201), 0xFFFFFC0000000ull | BIT(11));
	msr_state_reset(&S, 64); /* impossible: clamped to 52 */
	assert_int_equal(rd(0x201), 0xFFFFFC0000000ull | BIT(11));
	msr_state_reset(&S, 20); /* impossible: clamped to 32 */
	assert_int_equal(rd(0x201), 0xC0000000ull | BIT(11));
	/* The reset state must itself be valid: writing it back is OK. */
	for (unsigned pb = 32; pb <= 52; pb++) {
		msr_state_reset(&S, pb);
		for (uint32_t i = 0x200; i <= 0x20F; i++)
			wr_ok(i, rd(i));
	}
}

/* ---- STORE: round trips ---- */

static void test_store_round_trip(void **state)
{
	static const struct {
		uint32_t index;
		uint64_t val;
	} trips[] = {
	    {0x1A0, BIT(11) | BIT(12)},		     /* fast strings off */
	    {0x1A0, BIT(0) | BIT(11) | BIT(12)},     /* and on again */
	    {0x200, 0x80000000ull | 0x01},	     /* base, WC */
	    {0x201, 0xFFF0000000ull | BIT(11)},	     /* 256 MiB, valid */
	    {0x20E, 0xFFFFFFF000ull | 0x05},	     /* highest base, WP */
	    {0x20F, 0xFFFFFFF000ull},		     /* mask, not valid */
	    {0x250, 0x0605040100060504ull},	     /* every valid type */
	    {0x258, 0},				     /* all UC */
	    {0x259, 0x0101010101010101ull},	     /* all WC */
	    {0x26B, 0x0505050505050505ull},	     /* all WP */
	    {0x26F, 0x0404040404040404ull},	     /* all WT */
	    {0x2FF, 0},				     /* MTRRs off, UC */
	    {0x2FF, BIT(11) | 0x06},		     /* on, no fixed, WB */
	    {0x2FF, BIT(11) | BIT(10) | 0x00},	     /* on, fixed, UC */
	    {0xC0010015, BIT(24) | BIT(6)},	     /* FFDIS (Linux on K8) */
	    {0xC0010015, BIT(24) | BIT(6) | BIT(3)}, /* TlbCacheDis */
	    {0xC001001F, BIT(46)},		     /* EnableCf8ExtCfg */
	    {0xC001001F, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(trips) / sizeof(trips[0]); i++) {
		wr_ok(trips[i].index, trips[i].val);
		assert_int_equal(rd(trips[i].index), trips[i].val);
	}
}

static void test_store_readonly_bits(void **state)
{
	(void)state;
	/* MISC_ENABLE: bit 7 (PMU available) stays 0, bits 11/12 stay 1. */
	wr_ok(0x1A0, BIT(7));
	assert_int_equal(rd(0x1A0), BIT(11) | BIT(12));
	wr_ok(0x1A0, BIT(0));
	assert_int_equal(rd(0x1A0), BIT(0) | BIT(11) | BIT(12));
	/* HWCR: TscFreqSel stays 1. */
	wr_ok(0xC0010015, BIT(6));
	assert_int_equal(rd(0xC0010015), BIT(24) | BIT(6));
}

/* vCPUs do not share values. */
static void test_store_per_vcpu(void **state)
{
	struct msr_state other;
	uint64_t v;
	(void)state;

	msr_state_reset(&other, PHYS);
	wr_ok(0x2FF, 0);
	assert_int_equal(msr_read(&other, 0x2FF, &v), MSR_OK);
	assert_int_equal(v, 0xC06);
}

/* ---- STORE: reserved bits ---- */

/* Writes good | BIT(b) for every bit b: #GP exactly for the reserved ones
 * (register unchanged), accepted for the others. good must leave the type
 * fields valid whatever non-reserved bit is added, so callers exclude type
 * bits from `skip`. */
static void check_reserved(uint32_t index, uint64_t good, uint64_t reserved, uint64_t skip)
{
	for (unsigned b = 0; b < 64; b++) {
		if (skip & BIT(b))
			continue;
		if (reserved & BIT(b)) {
			wr_fault(index, good | BIT(b));
		} else {
			wr_ok(index, good | BIT(b));
			wr_ok(index, good);
		}
	}
}

static void test_store_reserved_bits(void **state)
{
	(void)state;
	/* MISC_ENABLE: only 0 (R/W), 7, 11, 12 (read-only) are defined. */
	check_reserved(0x1A0, 0, ~(BIT(0) | BIT(7) | BIT(11) | BIT(12)), 0);
	/* MTRRdefType: type [7:0], FE 10, E 11; the rest reserved. */
	check_reserved(0x2FF, 0x06, ~(0xFFull | BIT(10) | BIT(11)), 0xFF);
	/* physBase: type [7:0], base [39:12]; 11:8 and 63:40 reserved. */
	for (uint32_t i = 0x200; i <= 0x20E; i += 2)
		check_reserved(i, 0x06, 0xFFFFFF0000000F00ull, 0xFF);
	/* physMask: V 11, mask [39:12]; 10:0 and 63:40 reserved. */
	for (uint32_t i = 0x201; i <= 0x20F; i += 2)
		check_reserved(i, 0, 0xFFFFFF00000007FFull, 0);
	/* HWCR: only TlbCacheDis 3, FFDIS 6, TscFreqSel 24. */
	check_reserved(0xC0010015, BIT(24), ~(BIT(3) | BIT(6) | BIT(24)), 0);
	/* NB_CFG: only EnableCf8ExtCfg 46. */
	check_reserved(0xC001001F, 0, ~BIT(46), 0);
}

static void test_mtrr_addr_width(void **state)
{
	(void)state;
	msr_state_reset(&S, 36);
	wr_ok(0x200, BIT(35) | 0x06);
	wr_fault(0x200, BIT(36) | 0x06);
	wr_ok(0x201, BIT(35) | BIT(11));
	wr_fault(0x201, BIT(36) | BIT(11));
	msr_state_reset(&S, 52);
	wr_ok(0x202, BIT(51) | 0x06);
	wr_fault(0x202, BIT(52) | 0x06);
	wr_ok(0x203, BIT(51) | BIT(11));
	wr_fault(0x203, BIT(52) | BIT(11));
}

/* The memory type the variable MTRRs and the default give addr, as the
 * guest works it out (SDM "Precedences of Cache Types": UC wins). */
static unsigned mtrr_type_at(uint64_t addr)
{
	uint64_t def = rd(0x2FF);
	unsigned type = 0xFF;

	assert_true(def & BIT(11)); /* MTRRs enabled */
	for (uint32_t i = 0x200; i < 0x210; i += 2) {
		uint64_t base = rd(i), mask = rd(i + 1);

		if (!(mask & BIT(11)) || (addr & mask & ~0xFFFull) != (base & mask & ~0xFFFull))
			continue;
		if ((base & 0xFF) == 0 || type == 0xFF)
			type = (unsigned)(base & 0xFF);
	}
	return type == 0xFF ? (unsigned)(def & 0xFF) : type;
}

/* RAM above 4 GiB is write-back: the default type is WB and the UC range
 * for the PCI hole matches nothing else, provided its mask spans the
 * guest's MAXPHYADDR. With a 36-bit mask on a 48-bit guest it would repeat
 * every 64 GiB, which is why vCPUs reset with the CPU's width. */
static void test_mtrr_ram_above_4g(void **state)
{
	static const uint64_t wb[] = {0, GRAM_LOW_MAX - 1, 4 * 0x40000000ull, 67 * 0x40000000ull,
				      (1ull << 40) + (1ull << 30) - 1};
	static const unsigned widths[] = {41, 48, 52};

	(void)state;
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		msr_state_reset(&S, widths[w]);
		for (size_t i = 0; i < sizeof(wb) / sizeof(wb[0]); i++)
			assert_int_equal(mtrr_type_at(wb[i]), 6);
		assert_int_equal(mtrr_type_at(GRAM_LOW_MAX), 0);
		assert_int_equal(mtrr_type_at(GRAM_HIGH_BASE - 1), 0);
	}
	msr_state_reset(&S, 36);
	assert_int_equal(mtrr_type_at(67 * 0x40000000ull), 0); /* the alias */
}

static int valid_type(unsigned t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Memory types: UC 0, WC 1, WT 4, WP 5, WB 6 only (SDM); 2, 3, 7 (UC-,
 * PAT only) and everything above #GP, in every type field. */
static void test_mtrr_types(void **state)
{
	static const uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26A,
					 0x26B, 0x26C, 0x26D, 0x26E, 0x26F};
	(void)state;
	for (unsigned t = 0; t < 256; t++) {
		if (valid_type(t)) {
			wr_ok(0x2FF, BIT(11) | t);
			wr_ok(0x204, 0x100000ull | t);
		} else {
			wr_fault(0x2FF, BIT(11) | t);
			wr_fault(0x204, 0x100000ull | t);
		}
		/* Every byte of every fixed-range MTRR. */
		for (unsigned byte = 0; byte < 8; byte++) {
			uint64_t v = 0x0606060606060606ull;

			v &= ~(0xFFull << (8 * byte));
			v |= (uint64_t)t << (8 * byte);
			for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
				if (valid_type(t))
					wr_ok(fixed[i], v);
				else
					wr_fault(fixed[i], v);
			}
		}
	}
}

/* ---- EFER ---- */

#define SCE BIT(0)
#define LME BIT(8)
#define LMA BIT(10)
#define NXE BIT(11)
#define SVME BIT(12)

static void test_efer_bits(void **state)
{
	(void)state;
	assert_true(msr_efer_write_ok(0));
	assert_true(msr_efer_write_ok(SCE | LME | LMA | NXE));
	assert_false(msr_efer_write_ok(SVME));
	assert_false(msr_efer_write_ok(SCE | LME | LMA | NXE | SVME));
	for (unsigned b = 0; b < 64; b++) {
		bool allowed = b == 0 || b == 8 || b == 10 || b == 11;

		assert_int_equal(msr_efer_write_ok(BIT(b)), allowed);
	}
	/* The guest never sees SVME (or anything but the four bits). */
	assert_int_equal(msr_efer_guest_view(SCE | LME | LMA | NXE | SVME), SCE | LME | LMA | NXE);
	assert_int_equal(msr_efer_guest_view(ALL), SCE | LME | LMA | NXE);
}

static void test_efer_write(void **state)
{
	uint64_t out = 0x5555;
	(void)state;

	/* Paging off: LME may change; LMA in val is ignored. */
	assert_int_equal(msr_efer_write(0, LME, false, &out), MSR_OK);
	assert_int_equal(out, LME);
	assert_int_equal(msr_efer_write(0, LME | LMA | SCE, false, &out), MSR_OK);
	assert_int_equal(out, LME | SCE);
	assert_int_equal(msr_efer_write(LME, 0, false, &out), MSR_OK);
	assert_int_equal(out, 0);
	/* Paging on, long mode active: SCE/NXE change, LMA kept. */
	assert_int_equal(msr_efer_write(LME | LMA, LME | SCE | NXE, true, &out), MSR_OK);
	assert_int_equal(out, LME | LMA | SCE | NXE);
	assert_int_equal(msr_efer_write(LME | LMA | SCE, LME | LMA, true, &out), MSR_OK);
	assert_int_equal(out, LME | LMA);
	/* Paging on: changing LME #GPs, either way. */
	out = 0x5555;
	assert_int_equal(msr_efer_write(LME | LMA, LMA, true, &out), MSR_FAULT);
	assert_int_equal(msr_efer_write(0, LME, true, &out), MSR_FAULT);
	/* SVME or any unknown bit #GPs. */
	assert_int_equal(msr_efer_write(0, SVME, false, &out), MSR_FAULT);
	assert_int_equal(msr_efer_write(LME | LMA, LME | LMA | SVME, true, &out), MSR_FAULT);
	assert_int_equal(msr_efer_write(0, BIT(14), false, &out), MSR_FAULT); /* FFXSR */
	assert_int_equal(msr_efer_write(0, BIT(63), false, &out), MSR_FAULT);
	assert_int_equal(out, 0x5555); /* untouched on #GP */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_table_sorted_unique, setup),
	    cmocka_unit_test_setup(test_every_entry_by_kind, setup),
	    cmocka_unit_test_setup(test_must_gp, setup),
	    cmocka_unit_test_setup(test_foreach, setup),
	    cmocka_unit_test_setup(test_const_values_and_writes, setup),
	    cmocka_unit_test_setup(test_store_reset, setup),
	    cmocka_unit_test_setup(test_reset_phys_bits, setup),
	    cmocka_unit_test_setup(test_store_round_trip, setup),
	    cmocka_unit_test_setup(test_store_readonly_bits, setup),
	    cmocka_unit_test_setup(test_store_per_vcpu, setup),
	    cmocka_unit_test_setup(test_store_reserved_bits, setup),
	    cmocka_unit_test_setup(test_mtrr_addr_width, setup),
	    cmocka_unit_test_setup(test_mtrr_types, setup),
	    cmocka_unit_test_setup(test_mtrr_ram_above_4g, setup),
	    cmocka_unit_test_setup(test_efer_bits, setup),
	    cmocka_unit_test_setup(test_efer_write, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
