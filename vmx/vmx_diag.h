/* Explaining VT-x failures in words (issue: "a failed VM entry is explained,
 * not just numbered"): VM-instruction error numbers and exit reasons by
 * name, and a guest-state checker that runs the VM-entry checks of Intel SDM
 * vol. 3, 27.3.1 (26.3.1 in the 2016-2022 editions) on values passed in a
 * struct and names the first field that fails. Pure logic.
 *
 * The checker covers what depends only on register values: it does not
 * read memory (the VMCS link pointer's target, PDPTEs when EPT is off), and
 * skips model-specific MSR contents (IA32_DEBUGCTL, PERF_GLOBAL_CTRL,
 * BNDCFGS, CET, PKRS reserved bits). The SDM does not fix an order among
 * the checks; this one follows the order the SDM lists them in, except that
 * an unusable TR is reported before TR's other access-rights checks. */
#ifndef KEEL_VMX_DIAG_H
#define KEEL_VMX_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"
#include "vm/virt.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"

#define VMX_PDPTE_COUNT 4

/* "VM entry with invalid control field(s)"; "unknown VM-instruction error"
 * for a number the SDM does not define. */
const char *vmx_insn_error_str(uint32_t n);

/* "EPT violation" for a basic exit reason (bits 15:0 of the exit-reason
 * field; higher bits are ignored); "unknown exit reason" otherwise. */
const char *vmx_exit_reason_str(uint32_t reason);

/* ---- segment access rights ----
 * struct vseg (kernel/vm/virt.h) uses the SVM 12-bit layout: bits 7:0 type,
 * S, DPL, P; bits 11:8 AVL, L, D/B, G. VMX keeps bits 7:0, moves 11:8 to
 * 15:12 and adds "unusable" at bit 16.
 *
 * Unusable <=> P=0. The selector does not decide it: real-mode and
 * unrestricted guests hold usable segments with selector 0 (P=1), and a
 * loaded segment register with P=0 can never be used for an access, which
 * is what "unusable" means (SDM 25.4.1). So a null data segment loaded in
 * protected or long mode (attr 0) becomes unusable, and CS/SS/TR, which
 * must be present, are never made unusable while they are. Going back, an
 * unusable segment gives P=0 with only its DPL kept (SS.DPL is the CPL;
 * the CPU leaves the other bits of an unusable segment undefined). */
uint32_t vmx_ar_from_attr(uint16_t attr);
uint16_t vmx_attr_from_ar(uint32_t ar);

/* ---- guest-state checks ---- */

struct vmx_seg {
	uint16_t sel;
	uint32_t ar; /* VMX layout, VMX_AR_* */
	uint32_t limit;
	uint64_t base;
};

/* Everything the checks read: the VMCS guest-state fields, the controls
 * that change which checks apply, and facts about the CPU. */
struct vmx_guest_state {
	uint64_t cr0, cr3, cr4, dr7;
	uint64_t debugctl, pat, efer;
	uint64_t sysenter_esp, sysenter_eip;
	struct vmx_seg seg[VSEG_COUNT]; /* enum vseg_index order (not VMCS order) */
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint64_t rip, rflags;
	uint32_t interruptibility, activity;
	uint64_t pending_dbg;
	uint64_t vmcs_link; /* all-ones unless VMCS shadowing is used */
	uint64_t pdpte[VMX_PDPTE_COUNT];

	uint32_t pin, proc, proc2, entry; /* control words as written */
	uint32_t entry_intr_info;	  /* VM-entry interruption information */

	const struct vmx_msrs *cpu; /* CR0/CR4 fixed bits, IA32_VMX_MISC */
	unsigned maxphyaddr;	    /* CPUID 0x80000008 EAX[7:0]; 0 = 52 */
};

/* Fills the segments (attributes converted with vmx_ar_from_attr), GDTR,
 * IDTR, CR0, CR3, CR4 and EFER from the backend-neutral state; leaves the
 * other fields alone. */
void vmx_guest_state_from_sregs(struct vmx_guest_state *g, const struct vcpu_sregs *s);

/* Runs the checks; ST_OK if none fails, else ST_EINVAL with one line in
 * `why` (may be NULL) naming the field, its value and the rule, e.g.
 * "guest CS access rights 0xe09b: a 64-bit code segment (L=1) must have
 * D/B=0". */
status_t vmx_check_guest_state(const struct vmx_guest_state *g, char *why, size_t len) MUST_CHECK;

/* One line for a VM exit whose exit reason has VMX_EXIT_REASON_ENTRY_FAIL
 * set: the basic reason, the exit qualification's meaning and, for invalid
 * guest state, the first failing check on *g (g may be NULL). */
void vmx_explain_entry_failure(uint32_t exit_reason, uint64_t qual, const struct vmx_guest_state *g,
			       char *buf, size_t len);

#endif
