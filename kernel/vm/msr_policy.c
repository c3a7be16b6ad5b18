/* Guest MSR policy; see msr_policy.h for the design. Register layouts: Intel
 * SDM vol. 3 chapter "Memory Cache Control" (MTRRs) and vol. 4 (MSR lists);
 * AMD APM vol. 2 (MTRRs, EFER); AMD BKDG/PPR (HWCR, SYSCFG, NB_CFG). */
#include "vm/msr_policy.h"

#include "keel/kstring.h"

#define BIT(n) (1ull << (n))
#define ALL 0xFFFFFFFFFFFFFFFFull

/* Memory types valid in an MTRR (SDM "MTRR Memory Types and Their
 * Properties"): UC 0, WC 1, WT 4, WP 5, WB 6. 2, 3 and 7+ #GP. */
#define MT_UC 0x00u
#define MT_WC 0x01u
#define MT_WT 0x04u
#define MT_WP 0x05u
#define MT_WB 0x06u
#define MT_BYTE_MASK 0xFFull
#define MT_ALL_WB 0x0606060606060606ull /* 8 fixed ranges, all WB */
#define MT_ALL_UC 0x0000000000000000ull

/* MTRRcap: VCNT [7:0], FIX bit 8, WC bit 10 (SMRR bit 11 clear). */
#define MTRR_VCNT 8u
#define MTRRCAP_FIX BIT(8)
#define MTRRCAP_WC BIT(10)
/* MTRRdefType: type [7:0], FE bit 10, E bit 11. */
#define MTRR_DEF_FE BIT(10)
#define MTRR_DEF_E BIT(11)
/* MTRRphysMaskN: V bit 11; address fields are bits [MAXPHYADDR-1:12]. */
#define MTRR_MASK_V BIT(11)
#define MTRR_ADDR_LOW_BITS 12u
#define MTRR_HOLE_SIZE (BIT(32) - MSR_MTRR_HOLE_BASE)

/* IA32_MISC_ENABLE bits we define (SDM vol. 4). */
#define MISC_FAST_STRING BIT(0)
#define MISC_PERFMON_AVAIL BIT(7) /* read-only; 0: no PMU (CPUID leaf 0xA is 0) */
#define MISC_BTS_UNAVAIL BIT(11)  /* read-only; 1: no debug store */
#define MISC_PEBS_UNAVAIL BIT(12) /* read-only; 1: no debug store */
#define MISC_RO (MISC_PERFMON_AVAIL | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL)

/* AMD HWCR bits we define (BKDG/PPR MSRC001_0015). */
#define HWCR_TLB_CACHE_DIS BIT(3)
#define HWCR_FFDIS BIT(6)	  /* TLB flush filter disable */
#define HWCR_TSC_FREQ_SEL BIT(24) /* read-only 1: TSC counts at P0 rate */

/* AMD NB_CFG (MSRC001_001F): EnableCf8ExtCfg. */
#define NB_CFG_CF8_EXT_CFG BIT(46)

/* IA32_FEATURE_CONTROL: lock bit; both VMXON enables clear. */
#define FEAT_CTL_LOCKED BIT(0)

/* Slots of struct msr_state, one per STORE MSR. */
enum {
	S_MISC_ENABLE,
	S_MTRR_VAR, /* base0, mask0, base1, ... mask7 */
	S_MTRR_FIX64K = S_MTRR_VAR + 2 * MTRR_VCNT,
	S_MTRR_FIX16K_80000,
	S_MTRR_FIX16K_A0000,
	S_MTRR_FIX4K, /* C0000 .. F8000 */
	S_MTRR_DEF = S_MTRR_FIX4K + 8,
	S_HWCR,
	S_NB_CFG,
	S_COUNT
};
_Static_assert(S_COUNT == MSR_STORE_SLOTS, "MSR_STORE_SLOTS must match the slot list");

/* clang-format off */
#define HW(i, n) {.index = (i), .count = 1, .name = (n), .kind = MSR_KIND_HW}
#define HOOK(i, n) {.index = (i), .count = 1, .name = (n), .kind = MSR_KIND_HOOK}
#define CONSTV(i, n, v, w)                                                                         \
	{.index = (i), .count = 1, .name = (n), .kind = MSR_KIND_CONST, .value = (v), .wr = (w)}
#define STORE_BITS(i, n, v, rsvd, ro, s)                                                           \
	{.index = (i), .count = 1, .name = (n), .kind = MSR_KIND_STORE, .value = (v),              \
	 .check = MSR_CHECK_BITS, .reserved = (rsvd), .readonly = (ro), .slot = (s)}
#define STORE_MTRR(i, n, v, chk, s)                                                                \
	{.index = (i), .count = 1, .name = (n), .kind = MSR_KIND_STORE, .value = (v),              \
	 .check = (chk), .slot = (s)}
/* clang-format on */
/* Variable pair k: physBase at 0x200+2k, physMask at 0x201+2k. The base of
 * pair 0 is the PCI hole; its mask depends on MAXPHYADDR (msr_state_reset). */
#define MTRR_PAIR(k, base)                                                                         \
	STORE_MTRR(0x200 + 2 * (k), "MTRR_PHYS_BASE" #k, (base), MSR_CHECK_MTRR_BASE,              \
		   S_MTRR_VAR + 2 * (k)),                                                          \
	    STORE_MTRR(0x201 + 2 * (k), "MTRR_PHYS_MASK" #k, 0, MSR_CHECK_MTRR_MASK,               \
		       S_MTRR_VAR + 2 * (k) + 1)
#define MTRR_FIX4K(k, name, v)                                                                     \
	STORE_MTRR(0x268 + (k), (name), (v), MSR_CHECK_MTRR_FIXED, S_MTRR_FIX4K + (k))

/* Sorted by index, disjoint. "Plain rdmsr" below means Linux uses the
 * accessor that does not expect a fault: a #GP there costs an "unchecked MSR
 * access error" warning, so those MSRs are in the table.
 *
 * Every MSR not here #GPs; in particular (a test guest checks these): VM_CR
 * and VM_HSAVE_PA (SVM hidden), SPEC_CTRL and PRED_CMD (hidden in CPUID 7
 * EDX and 0x80000008 EBX), MCG_CAP and MCG_STATUS (MCE/MCA hidden),
 * PERFEVTSEL0, PERF_CTL0 and PERF_CTR0 (no PMU: Linux probes them with
 * rdmsr_safe and reports "PMU not available due to virtualization"),
 * VMX_BASIC (VMX hidden). Also left out on purpose, because Linux 6.1 reads
 * them only with the fault-tolerant accessors and copes with #GP:
 * PLATFORM_INFO 0xCE and MISC_FEATURES_ENABLES 0x140 (CPUID faulting is not
 * offered), PPIN_CTL 0x4E, AMD DE_CFG 0xC0011029 and LS_CFG 0xC0011020. */
static const struct msr_rule rules[] = {
    /* Guest TSC = host TSC + per-vCPU offset: the handler knows the offset. */
    HOOK(MSR_IA32_TSC, "TSC"),
    /* Read-only platform ID (Intel microcode loader; disabled by Linux under
     * a hypervisor, but read-only on hardware, so reads work and writes #GP).
     * 0: platform bits [52:50] = 0. */
    CONSTV(0x17, "PLATFORM_ID", 0, MSR_WR_GP),
    /* The vLAPIC owns it (base address, enable, x2APIC mode). */
    HOOK(MSR_IA32_APIC_BASE, "APIC_BASE"),
    /* Locked with VMX off inside and outside SMX, as firmware leaves it on a
     * machine without VMX (CPUID hides VMX). Linux reads it and, seeing the
     * lock, never writes; a write to a locked register #GPs on hardware. */
    CONSTV(0x3A, "FEATURE_CONTROL", FEAT_CTL_LOCKED, MSR_WR_GP),
    /* IA32_TSC_ADJUST (CPUID 7 EBX bit 1, offered): the amount software
     * moved this CPU's TSC by. Guest TSC writes #GP (the hook), so it stays
     * 0 on every vCPU; writing 0 back is fine, any other value would move
     * the TSC and #GPs the same way. Linux 6.1 trusts a TSC that is
     * invariant and has this register on <= 2 NUMA nodes and then runs no
     * clocksource watchdog over it (check_system_tsc_reliable()); it reads
     * the register at boot and about once a second on idle. */
    CONSTV(0x3B, "TSC_ADJUST", 0, MSR_WR_SAME),
    /* Intel BIOS_SIGN_ID / AMD PATCH_LEVEL: microcode revision 0. Linux on
     * Intel writes 0 here (plain wrmsr) before CPUID(1) and reads it
     * back, so writes must be accepted: they are dropped. */
    CONSTV(0x8B, "UCODE_REV", 0, MSR_WR_IGNORE),
    /* 8 variable ranges, fixed ranges and WC supported, no SMRR. Read-only. */
    CONSTV(0xFE, "MTRRCAP", MTRR_VCNT | MTRRCAP_FIX | MTRRCAP_WC, MSR_WR_GP),
    /* SEP is offered; Linux writes all three for 32-bit compat entry. */
    HW(0x174, "SYSENTER_CS"),
    HW(0x175, "SYSENTER_ESP"),
    HW(0x176, "SYSENTER_EIP"),
    /* Linux on Intel reads it with a plain rdmsr and drops ERMS/REP_GOOD
     * unless fast strings are on; it clears LIMIT_CPUID with a safe rmw. Only
     * fast strings is writable; the DS and PMU status bits are read-only and
     * match CPUID; every feature-enable bit (EIST, MONITOR, limit CPUID, xTPR,
     * XD disable, thermal) is reserved, since CPUID hides those features or
     * cannot change with them. */
    STORE_BITS(0x1A0, "MISC_ENABLE", MISC_FAST_STRING | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL,
	       ~(MISC_FAST_STRING | MISC_RO), MISC_RO, S_MISC_ENABLE),
    /* LBR and BTF are not virtualized, so DEBUGCTL reads 0 and only a write
     * of 0 (what kernels do to clear it) is accepted; setting BTF or LBR
     * #GPs instead of silently not working. */
    CONSTV(0x1D9, "DEBUGCTL", 0, MSR_WR_SAME),
    /* MTRRs: Linux reads them all at boot (MTRR is offered in CPUID) and
     * rewrites them on every AP to match the BSP. Values only inform the
     * guest: nested paging decides the real memory type. */
    MTRR_PAIR(0, MSR_MTRR_HOLE_BASE | MT_UC),
    MTRR_PAIR(1, 0),
    MTRR_PAIR(2, 0),
    MTRR_PAIR(3, 0),
    MTRR_PAIR(4, 0),
    MTRR_PAIR(5, 0),
    MTRR_PAIR(6, 0),
    MTRR_PAIR(7, 0),
    STORE_MTRR(0x250, "MTRR_FIX64K_00000", MT_ALL_WB, MSR_CHECK_MTRR_FIXED, S_MTRR_FIX64K),
    STORE_MTRR(0x258, "MTRR_FIX16K_80000", MT_ALL_WB, MSR_CHECK_MTRR_FIXED, S_MTRR_FIX16K_80000),
    /* The legacy VGA window is uncacheable, as on any PC. */
    STORE_MTRR(0x259, "MTRR_FIX16K_A0000", MT_ALL_UC, MSR_CHECK_MTRR_FIXED, S_MTRR_FIX16K_A0000),
    /* 0xC0000-0xFFFFF is RAM marked reserved in the guest (PLATFORM.md): WB. */
    MTRR_FIX4K(0, "MTRR_FIX4K_C0000", MT_ALL_WB),
    MTRR_FIX4K(1, "MTRR_FIX4K_C8000", MT_ALL_WB),
    MTRR_FIX4K(2, "MTRR_FIX4K_D0000", MT_ALL_WB),
    MTRR_FIX4K(3, "MTRR_FIX4K_D8000", MT_ALL_WB),
    MTRR_FIX4K(4, "MTRR_FIX4K_E0000", MT_ALL_WB),
    MTRR_FIX4K(5, "MTRR_FIX4K_E8000", MT_ALL_WB),
    MTRR_FIX4K(6, "MTRR_FIX4K_F0000", MT_ALL_WB),
    MTRR_FIX4K(7, "MTRR_FIX4K_F8000", MT_ALL_WB),
    /* PAT is offered; G_PAT (SVM with NPT) or the VMCS PAT field. */
    HW(0x277, "PAT"),
    /* MTRRs and fixed ranges enabled, default WB: with a UC default Linux
     * would trim RAM to the highest WB range, and with E clear it disables
     * PAT as well. */
    STORE_MTRR(0x2FF, "MTRR_DEF_TYPE", MTRR_DEF_E | MTRR_DEF_FE | MT_WB, MSR_CHECK_MTRR_DEF,
	       S_MTRR_DEF),
    /* CPUID hides TSC-deadline and x2APIC for now: until the vLAPIC owns
     * these, the handler should #GP them, as hardware without the feature. */
    HOOK(MSR_IA32_TSC_DEADLINE, "TSC_DEADLINE"),
    {.index = MSR_IA32_X2APIC_FIRST,
     .count = MSR_IA32_X2APIC_LAST - MSR_IA32_X2APIC_FIRST + 1,
     .name = "X2APIC",
     .kind = MSR_KIND_HOOK},
    /* SVME must stay set in the VMCB but hidden: see msr_efer_write. */
    HOOK(MSR_IA32_EFER, "EFER"),
    /* SYSCALL/SYSRET and the segment bases: the guest's own. */
    HW(0xC0000081, "STAR"),
    HW(0xC0000082, "LSTAR"),
    HW(0xC0000083, "CSTAR"),
    HW(0xC0000084, "SFMASK"),
    HW(0xC0000100, "FS_BASE"),
    HW(0xC0000101, "GS_BASE"),
    HW(0xC0000102, "KERNEL_GS_BASE"),
    /* RDTSCP/RDPID are offered: per-vCPU, loaded into the real MSR by the
     * backend before entry (neither VMRUN nor VM entry switches it). */
    HOOK(MSR_IA32_TSC_AUX, "TSC_AUX"),
    /* Linux on AMD family >= 0xF reads SYSCFG with a plain rdmsr before
     * reading the fixed MTRRs (MtrrFixDramModEn check). 0: no TOM2, no SME,
     * no fixed-range RdDram/WrDram. Writing 0 is fine; setting a bit (SME,
     * TOM2 forcing) #GPs rather than pretend. */
    CONSTV(0xC0010010, "SYSCFG", 0, MSR_WR_SAME),
    /* Linux reads HWCR (plain rdmsr) on AMD family > 0x10 with the
     * invariant TSC we offer, and warns unless TscFreqSel is 1; on K8 it sets
     * FFDIS. Writable: FFDIS and TlbCacheDis (performance knobs with no
     * architectural effect); TscFreqSel read-only 1; the rest (SMM lock,
     * IRPerfEn, McStatusWrEn, Wrap32Dis, ...) reserved. */
    STORE_BITS(0xC0010015, "HWCR", HWCR_TSC_FREQ_SEL,
	       ~(HWCR_TLB_CACHE_DIS | HWCR_FFDIS | HWCR_TSC_FREQ_SEL), HWCR_TSC_FREQ_SEL, S_HWCR),
    /* Linux on AMD family >= 0x10 reads NB_CFG on every CPU brought online
     * and sets EnableCf8ExtCfg, with plain rdmsr/wrmsr. The bit reads back;
     * the PCI host bridge may consult it for CF8 bits [27:24]. */
    STORE_BITS(0xC001001F, "NB_CFG", 0, ~NB_CFG_CF8_EXT_CFG, 0, S_NB_CFG),
    /* AMD interrupt pending / C1E: Linux reads it with a plain rdmsr on CPUs with erratum 400,
     * which includes QEMU's family 0xF model 0x6B. 0: C1E not active, so Linux needs no broadcast
     * timer workaround. */
    CONSTV(0xC0010055, "INT_PENDING_MSG", 0, MSR_WR_SAME),
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

const struct msr_rule *msr_table(size_t *count)
{
	*count = NRULES;
	return rules;
}

const struct msr_rule *msr_rule_find(uint32_t index)
{
	size_t lo = 0, hi = NRULES;

	/* Find the last rule starting at or below index. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rules[mid].index <= index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || index - rules[lo - 1].index >= rules[lo - 1].count)
		return NULL;
	return &rules[lo - 1];
}

static unsigned clamp_phys_bits(unsigned bits)
{
	if (bits == 0)
		return MSR_PHYS_BITS_DEFAULT;
	if (bits < MSR_PHYS_BITS_MIN)
		return MSR_PHYS_BITS_MIN;
	if (bits > MSR_PHYS_BITS_MAX)
		return MSR_PHYS_BITS_MAX;
	return bits;
}

/* Bits [phys_bits-1:12]: the address field of physBase and physMask. */
static uint64_t mtrr_addr_bits(const struct msr_state *s)
{
	return (BIT(s->phys_bits) - 1) & ~(BIT(MTRR_ADDR_LOW_BITS) - 1);
}

void msr_state_reset(struct msr_state *s, unsigned phys_bits)
{
	memset(s, 0, sizeof(*s));
	s->phys_bits = (uint8_t)clamp_phys_bits(phys_bits);
	for (size_t i = 0; i < NRULES; i++) {
		if (rules[i].kind == MSR_KIND_STORE)
			s->val[rules[i].slot] = rules[i].value;
	}
	/* Pair 0 covers the PCI hole up to 4 GiB; the base is in the table. */
	s->val[S_MTRR_VAR + 1] = (mtrr_addr_bits(s) & ~(MTRR_HOLE_SIZE - 1)) | MTRR_MASK_V;
}

static bool mtrr_type_ok(uint64_t type)
{
	return type == MT_UC || type == MT_WC || type == MT_WT || type == MT_WP || type == MT_WB;
}

static bool mtrr_fixed_ok(uint64_t val)
{
	for (unsigned i = 0; i < 8; i++) {
		if (!mtrr_type_ok((val >> (8 * i)) & MT_BYTE_MASK))
			return false;
	}
	return true;
}

/* True if val is a legal value for the STORE rule r (SDM: a reserved bit
 * set or an undefined memory type #GPs). */
static bool store_value_ok(const struct msr_state *s, const struct msr_rule *r, uint64_t val)
{
	uint64_t addr = mtrr_addr_bits(s);

	switch (r->check) {
	case MSR_CHECK_BITS:
		return (val & r->reserved) == 0;
	case MSR_CHECK_MTRR_DEF:
		return (val & ~(MT_BYTE_MASK | MTRR_DEF_FE | MTRR_DEF_E)) == 0 &&
		       mtrr_type_ok(val & MT_BYTE_MASK);
	case MSR_CHECK_MTRR_BASE:
		return (val & ~(addr | MT_BYTE_MASK)) == 0 && mtrr_type_ok(val & MT_BYTE_MASK);
	case MSR_CHECK_MTRR_MASK:
		return (val & ~(addr | MTRR_MASK_V)) == 0;
	case MSR_CHECK_MTRR_FIXED:
		return mtrr_fixed_ok(val);
	}
	return false;
}

enum msr_result msr_read(const struct msr_state *s, uint32_t index, uint64_t *val)
{
	const struct msr_rule *r = msr_rule_find(index);

	if (!r)
		return MSR_FAULT;
	switch (r->kind) {
	case MSR_KIND_HW:
		return MSR_HW;
	case MSR_KIND_HOOK:
		return MSR_HOOK;
	case MSR_KIND_CONST:
		*val = r->value;
		return MSR_OK;
	case MSR_KIND_STORE:
		*val = s->val[r->slot];
		return MSR_OK;
	case MSR_KIND_GP:
		break;
	}
	return MSR_FAULT;
}

static enum msr_result const_write(const struct msr_rule *r, uint64_t val)
{
	switch (r->wr) {
	case MSR_WR_IGNORE:
		return MSR_OK;
	case MSR_WR_SAME:
		return val == r->value ? MSR_OK : MSR_FAULT;
	case MSR_WR_GP:
		break;
	}
	return MSR_FAULT;
}

enum msr_result msr_write(struct msr_state *s, uint32_t index, uint64_t val)
{
	const struct msr_rule *r = msr_rule_find(index);

	if (!r)
		return MSR_FAULT;
	switch (r->kind) {
	case MSR_KIND_HW:
		return MSR_HW;
	case MSR_KIND_HOOK:
		return MSR_HOOK;
	case MSR_KIND_CONST:
		return const_write(r, val);
	case MSR_KIND_STORE:
		if (!store_value_ok(s, r, val))
			return MSR_FAULT;
		/* Read-only bits keep their value whatever was written. */
		s->val[r->slot] = (val & ~r->readonly) | (s->val[r->slot] & r->readonly);
		return MSR_OK;
	case MSR_KIND_GP:
		break;
	}
	return MSR_FAULT;
}

void msr_foreach(enum msr_kind kind, void (*fn)(void *ctx, uint32_t index), void *ctx)
{
	for (size_t i = 0; i < NRULES; i++) {
		if (rules[i].kind != kind)
			continue;
		for (uint32_t k = 0; k < rules[i].count; k++)
			fn(ctx, rules[i].index + k);
	}
}

uint64_t msr_efer_guest_view(uint64_t hw_efer)
{
	return hw_efer & GUEST_EFER_MASK;
}

bool msr_efer_write_ok(uint64_t val)
{
	return (val & ~GUEST_EFER_MASK) == 0;
}

enum msr_result msr_efer_write(uint64_t old, uint64_t val, bool paging, uint64_t *out)
{
	if (!msr_efer_write_ok(val))
		return MSR_FAULT;
	if (paging && ((old ^ val) & GUEST_EFER_LME))
		return MSR_FAULT;
	*out = (val & ~GUEST_EFER_LMA) | (old & GUEST_EFER_LMA);
	return MSR_OK;
}
