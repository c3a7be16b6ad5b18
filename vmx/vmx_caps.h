/* What this CPU's VT-x can do, from its capability MSRs (Intel SDM vol. 3
 * appendix A), and the control values Keel asks for. Pure logic: the caller
 * reads the MSRs (vmx_msrs_read does it in the order their existence rules
 * demand, through a callback) and every function here only computes. */
#ifndef KEEL_VMX_CAPS_H
#define KEEL_VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"
#include "vmx/vmcs.h"

/* Raw MSR values. A field whose MSR does not exist on this CPU is 0 (reading
 * it would #GP): the TRUE controls need IA32_VMX_BASIC bit 55, procbased2
 * needs "activate secondary controls" allowed to be 1, ept_vpid_cap needs
 * EPT or VPID allowed to be 1, vmfunc needs "enable VM functions". */
struct vmx_msrs {
	uint64_t feature_control; /* IA32_FEATURE_CONTROL */
	uint64_t basic;
	uint64_t pinbased, procbased, exit, entry;		       /* legacy */
	uint64_t true_pinbased, true_procbased, true_exit, true_entry; /* bit 55 */
	uint64_t procbased2;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t vmcs_enum;
	uint64_t ept_vpid_cap;
	uint64_t vmfunc;
};

/* Reads one MSR; the backend passes a wrapper around RDMSR, tests a fake. */
typedef uint64_t (*vmx_rdmsr_fn)(void *ctx, uint32_t msr);

/* Fills *m by calling rd for every MSR that exists, and only those; the
 * others are 0. The caller has already seen CPUID.1:ECX.VMX[bit 5] = 1. */
void vmx_msrs_read(struct vmx_msrs *m, vmx_rdmsr_fn rd, void *ctx);

/* ---- control values: allowed-0 / allowed-1 (SDM A.3-A.5, 31.5.1) ---- */

enum vmx_ctl_kind {
	VMX_CTL_PIN,
	VMX_CTL_PROC,
	VMX_CTL_PROC2,
	VMX_CTL_EXIT,
	VMX_CTL_ENTRY,
	VMX_CTL_KIND_COUNT
};

/* The capability MSR value that governs `kind`: the TRUE MSR when
 * IA32_VMX_BASIC bit 55 is 1, else the legacy one; procbased2 reads as 0
 * (nothing may be 1) when secondary controls cannot be activated. */
uint64_t vmx_ctl_cap(const struct vmx_msrs *m, enum vmx_ctl_kind kind);

/* Bits of `kind` in the default1 class (SDM A.2), and bits Keel knows by
 * name (vmcs.h). */
uint32_t vmx_ctl_default1(enum vmx_ctl_kind kind);
uint32_t vmx_ctl_known(enum vmx_ctl_kind kind);

/* The core rule. From cap (bits 31:0 must-be-1, 63:32 may-be-1): the result
 * holds every must-be-1 bit, every `required` bit, every `wanted` bit the
 * CPU allows, and every flexible bit of `default1_unknown` (default1-class
 * bits whose meaning the caller does not know: SDM 31.5.1 says set them to
 * 1). All other flexible bits are 0.
 * ST_ENOTSUP when a required bit may not be 1; *missing (may be NULL) gets
 * those bits and *out is untouched. ST_EINVAL for an inconsistent cap (a
 * must-be-1 bit that may not be 1). */
status_t vmx_ctl_adjust(uint64_t cap, uint32_t default1_unknown, uint32_t required, uint32_t wanted,
			uint32_t *out, uint32_t *missing) MUST_CHECK;

/* vmx_ctl_adjust with the MSR and default1 rule of `kind` from *m. */
status_t vmx_ctl_resolve(const struct vmx_msrs *m, enum vmx_ctl_kind kind, uint32_t required,
			 uint32_t wanted, uint32_t *out, uint32_t *missing) MUST_CHECK;

/* True when every bit of `bits` may be 1 and may be 0 in cap: controls the
 * backend switches at run time (interrupt-window exiting, IA-32e mode). */
bool vmx_ctl_flexible(uint64_t cap, uint32_t bits);

/* "secondary processor-based controls", and the name of one control bit
 * ("enable EPT"), or NULL for a bit without a name here. */
const char *vmx_ctl_kind_name(enum vmx_ctl_kind kind);
const char *vmx_ctl_bit_name(enum vmx_ctl_kind kind, unsigned bit);

/* Writes the names of `bits`, comma-separated ("enable EPT, unrestricted
 * guest"; unnamed ones as "bit N"). Returns the full length (ksnprintf). */
int vmx_ctl_bits_str(enum vmx_ctl_kind kind, uint32_t bits, char *buf, size_t len);

/* What a VMM asks of each control word. `toggled` bits are set and cleared
 * at run time, so they must be flexible; they are 0 in the resolved value. */
struct vmx_ctl_policy {
	uint32_t required[VMX_CTL_KIND_COUNT];
	uint32_t wanted[VMX_CTL_KIND_COUNT];
	uint32_t toggled[VMX_CTL_KIND_COUNT];
};

/* Keel's policy (see vmx_caps.c for why each bit is there). */
extern const struct vmx_ctl_policy vmx_keel_policy;

struct vmx_ctls {
	uint32_t pin, proc, proc2, exit, entry;
};

/* Resolves all five control words. On ST_ENOTSUP `why` (may be NULL) names
 * the word and the bits ("VT-x lacks required secondary processor-based
 * controls: unrestricted guest") and *out is untouched. */
status_t vmx_ctls_resolve(const struct vmx_msrs *m, const struct vmx_ctl_policy *p,
			  struct vmx_ctls *out, char *why, size_t len) MUST_CHECK;

/* ---- CR0 / CR4 in VMX operation (SDM A.7, A.8, 27.3.1.1) ----
 * A bit that is 1 in FIXED0 must be 1; a bit that is 0 in FIXED1 must be 0.
 * With unrestricted guest, CR0.PE and CR0.PG are exempt from FIXED0 for the
 * guest (they may be 0); everything else applies to guest and host alike. */
uint64_t vmx_cr0_apply_fixed(const struct vmx_msrs *m, uint64_t cr0, bool unrestricted_guest);
uint64_t vmx_cr4_apply_fixed(const struct vmx_msrs *m, uint64_t cr4);
/* Bits of the value that break the fixed rules (0: valid). */
uint64_t vmx_cr0_bad_bits(const struct vmx_msrs *m, uint64_t cr0, bool unrestricted_guest);
uint64_t vmx_cr4_bad_bits(const struct vmx_msrs *m, uint64_t cr4);

/* ---- feature summary ---- */

struct vmx_features {
	uint32_t revision;     /* VMCS revision identifier */
	uint32_t vmcs_size;    /* bytes of a VMCS / VMXON region */
	unsigned vmcs_memtype; /* VMX_MEMTYPE_* */
	bool pa32_only;	       /* VMX structures must lie below 4 GiB */
	bool true_ctls, ins_outs_info;
	bool fc_locked, fc_vmxon_outside_smx; /* IA32_FEATURE_CONTROL */
	bool secondary, ept, unrestricted, vpid, rdtscp, invpcid, xsaves, vmfunc;
	bool ept_exec_only, ept_walk4, ept_uc, ept_wb, ept_2m, ept_1g, ept_ad;
	bool invept, invept_single, invept_all;
	bool invvpid, invvpid_addr, invvpid_single, invvpid_all, invvpid_single_globals;
	bool virtual_nmis, preemption_timer, tpr_shadow, msr_bitmaps, io_bitmaps, mtf;
	bool ack_intr_on_exit, save_efer, load_efer_exit, load_efer_entry, save_pat, load_pat_exit,
	    load_pat_entry, ia32e_guest;
	unsigned preemption_rate; /* the timer ticks every 2^rate TSC cycles */
	bool act_hlt, act_shutdown, act_wait_sipi;
	unsigned cr3_targets;
	unsigned max_msr_list; /* recommended entries per MSR load/store list */
};

void vmx_features_parse(const struct vmx_msrs *m, struct vmx_features *f);

/* One line of what was found, for the boot log (virt_ops.describe). */
int vmx_features_describe(const struct vmx_features *f, char *buf, size_t len);

/* Can Keel run guests with this VT-x? If not, `why` (may be NULL) says in
 * one line what is missing (virt_ops.probe). Checks IA32_FEATURE_CONTROL
 * (locked without VMXON outside SMX: disabled by firmware; unlocked is fine,
 * the backend sets and locks it), the VMCS region, EPT with a 4-level walk,
 * WB paging structures and INVEPT, unrestricted guest, and that
 * vmx_keel_policy resolves. */
bool vmx_usable(const struct vmx_msrs *m, char *why, size_t len);

#endif
