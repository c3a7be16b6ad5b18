/* Guest MSR policy: one table saying, for every MSR a guest may touch, where
 * its value lives. An MSR absent from the table raises #GP(0) in the guest;
 * the exit handler injects it and counts it. Written from Intel SDM vol. 3
 * (chapter 11, MTRRs; vol. 4, MSR lists) and AMD APM vol. 2 (MTRRs, EFER,
 * SYSCALL MSRs) and the family BKDGs/PPRs for the AMD-only registers.
 *
 * It is the MSR twin of cpuid_policy.h and agrees with it: an MSR belonging
 * to a feature CPUID hides (MCA, PMU, SPEC_CTRL, VMX, SVM, TSC_ADJUST, XSS,
 * PKRS, CET, ...) is absent, so it #GPs exactly as on a CPU without the
 * feature. The table is sized for a stock Debian Linux 6.1 guest on an
 * AMD-vendor CPU (QEMU TCG -cpu max: family 0xF) or an Intel one (Bochs
 * corei7_skylake_x) and for real AMD hosts (family 0x17/0x19, passed through
 * by CPUID); msr_policy.c says per entry why it is there.
 *
 * One table for both vendors: a few registers exist only on one vendor's
 * CPUs (MISC_ENABLE and FEATURE_CONTROL on Intel; HWCR, SYSCFG, NB_CFG on
 * AMD). Offering them on the other vendor is harmless: guests pick MSRs by
 * vendor and family before touching them.
 *
 * Kinds:
 *  HW     the guest owns the real register and the backend switches it
 *         (VMCB fields and VMLOAD/VMSAVE on SVM; VMCS guest fields on VMX,
 *         plus a manual swap of the few the VMCS lacks: KERNEL_GS_BASE, STAR,
 *         LSTAR, CSTAR, SFMASK). The backend does not intercept them; build
 *         the MSR bitmap with msr_foreach(MSR_KIND_HW, ...).
 *  HOOK   computed by the exit handler from vCPU state (EFER, TSC, APIC
 *         base, TSC_AUX, TSC deadline, x2APIC registers).
 *  STORE  a per-vCPU value in struct msr_state, validated on write as the
 *         hardware does (reserved bits and memory types #GP).
 *  CONST  reads return a fixed value; writes #GP, are ignored, or are
 *         accepted only when they write the value reads return.
 *
 * Keel is the guest's firmware (it enters the guest kernel directly), so
 * STORE reset values are what firmware leaves at hand-off, not power-on
 * values: MTRRs enabled with write-back default, the VGA window 0xA0000-
 * 0xBFFFF and the PCI hole [MSR_MTRR_HOLE_BASE, 4 GiB) uncacheable.
 *
 * Not thread-safe: one msr_state belongs to one vCPU. */
#ifndef KEEL_VM_MSR_POLICY_H
#define KEEL_VM_MSR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MSRs the exit handler computes itself (HOOK). */
#define MSR_IA32_TSC 0x10u
#define MSR_IA32_APIC_BASE 0x1Bu
#define MSR_IA32_TSC_DEADLINE 0x6E0u
#define MSR_IA32_X2APIC_FIRST 0x800u
#define MSR_IA32_X2APIC_LAST 0x8FFu
#define MSR_IA32_EFER 0xC0000080u
#define MSR_IA32_TSC_AUX 0xC0000103u

/* EFER bits (SDM vol. 4 table 2-2; APM vol. 2 section 3.1.7). */
#define GUEST_EFER_SCE (1ull << 0)
#define GUEST_EFER_LME (1ull << 8)
#define GUEST_EFER_LMA (1ull << 10)
#define GUEST_EFER_NXE (1ull << 11)
#define GUEST_EFER_SVME (1ull << 12) /* set in the VMCB, never shown */
/* The only bits a guest sees or may set. NXE is always allowed: Keel itself
 * needs NX on the host (its W^X page tables), so CPUID always offers it. */
#define GUEST_EFER_MASK (GUEST_EFER_SCE | GUEST_EFER_LME | GUEST_EFER_LMA | GUEST_EFER_NXE)

/* Guest physical base of the uncacheable PCI hole (variable MTRR pair 0
 * covers [base, 4 GiB)); low guest RAM ends there (GRAM_LOW_MAX) and the
 * rest, from 4 GiB, is write-back by the default type. */
#define MSR_MTRR_HOLE_BASE 0xC0000000ull

/* Guest MAXPHYADDR used when the caller has none (SDM: 36 with PAE and no
 * CPUID 0x80000008) and its architectural bounds. */
#define MSR_PHYS_BITS_DEFAULT 36u
#define MSR_PHYS_BITS_MIN 32u
#define MSR_PHYS_BITS_MAX 52u

enum msr_kind {
	MSR_KIND_GP = 0, /* not in the table: #GP(0) */
	MSR_KIND_HW,
	MSR_KIND_HOOK,
	MSR_KIND_STORE,
	MSR_KIND_CONST,
};

/* CONST only: what a guest write does. */
enum msr_write {
	MSR_WR_GP,     /* read-only or locked register: every write #GPs */
	MSR_WR_IGNORE, /* every write is accepted and dropped */
	MSR_WR_SAME,   /* writing the value reads return is accepted, else #GP */
};

/* STORE only: how a written value is validated. */
enum msr_check {
	MSR_CHECK_BITS,	      /* rule->reserved bits must be 0 */
	MSR_CHECK_MTRR_DEF,   /* MTRRdefType: type field and reserved bits */
	MSR_CHECK_MTRR_BASE,  /* MTRRphysBaseN: type, bits above MAXPHYADDR */
	MSR_CHECK_MTRR_MASK,  /* MTRRphysMaskN: bits above MAXPHYADDR */
	MSR_CHECK_MTRR_FIXED, /* fixed-range MTRR: every byte a valid type */
};

struct msr_rule {
	uint32_t index;
	uint32_t count; /* consecutive MSRs covered: index .. index+count-1 */
	const char *name;
	enum msr_kind kind;
	uint64_t value;	      /* CONST: what reads return; STORE: reset value */
	enum msr_write wr;    /* CONST */
	enum msr_check check; /* STORE */
	uint64_t reserved;    /* STORE, MSR_CHECK_BITS: writing 1 here #GPs */
	uint64_t readonly;    /* STORE, MSR_CHECK_BITS: writes leave these bits alone */
	uint8_t slot;	      /* STORE: index into msr_state.val */
};

#define MSR_STORE_SLOTS 31u

/* Per-vCPU values of the STORE MSRs. */
struct msr_state {
	uint64_t val[MSR_STORE_SLOTS];
	uint8_t phys_bits; /* guest MAXPHYADDR: bounds the MTRR address fields */
};

enum msr_result {
	MSR_OK,	   /* done: *val holds the value (read) or it was stored (write) */
	MSR_FAULT, /* inject #GP(0); the register is unchanged */
	MSR_HOOK,  /* HOOK kind: the exit handler computes it */
	MSR_HW,	   /* HW kind: the value is in the backend's guest state; seen
		    * only if the backend chose to intercept this MSR */
};

/* The rule covering index, or NULL (#GP). Binary search of a sorted table. */
const struct msr_rule *msr_rule_find(uint32_t index);

/* The whole table, sorted by index, ranges disjoint; *count gets its length. */
const struct msr_rule *msr_table(size_t *count);

/* Reset values for a vCPU whose CPUID reports MAXPHYADDR = phys_bits
 * (CPUID 0x80000008 EAX[7:0]). 0 means "unknown" (MSR_PHYS_BITS_DEFAULT);
 * other values are clamped to MSR_PHYS_BITS_MIN..MSR_PHYS_BITS_MAX. */
void msr_state_reset(struct msr_state *s, unsigned phys_bits);

/* Guest RDMSR. *val is written only on MSR_OK. */
enum msr_result msr_read(const struct msr_state *s, uint32_t index, uint64_t *val);

/* Guest WRMSR of the 64-bit value EDX:EAX. */
enum msr_result msr_write(struct msr_state *s, uint32_t index, uint64_t val);

/* Calls fn for every MSR index of the given kind, in ascending order (ranges
 * are expanded). MSR_KIND_GP calls nothing. */
void msr_foreach(enum msr_kind kind, void (*fn)(void *ctx, uint32_t index), void *ctx);

/* EFER, for the HOOK handler. The hardware EFER of an SVM guest has SVME set
 * (VMRUN requires it); the guest must never see it. */
uint64_t msr_efer_guest_view(uint64_t hw_efer);

/* True if a guest may write val to EFER as far as the bits go: only SCE, LME,
 * LMA and NXE may be 1 (SVME and every other bit #GP). */
bool msr_efer_write_ok(uint64_t val);

/* The whole EFER write rule. old is the guest-visible EFER, paging is guest
 * CR0.PG. MSR_FAULT when !msr_efer_write_ok(val) or when LME would change
 * while paging is on (#GP: SDM vol. 3, "Initializing IA-32e Mode"; APM
 * vol. 2, "Enabling and Activating Long Mode"). Otherwise MSR_OK and *out = the new guest-visible
 * EFER; LMA is a status bit, so *out keeps old's LMA whatever val says. */
enum msr_result msr_efer_write(uint64_t old, uint64_t val, bool paging, uint64_t *out);

#endif
