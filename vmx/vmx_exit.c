/* VMX exit decoding (Intel SDM vol. 3 chapter 28 and appendix C). */
#include "vmx/vmx_exit.h"

#include "keel/kstring.h"
#include "vmx/ept.h"
#include "vmx/vmcs.h"

#define VEC_GP 13

enum guest_event_type vmx_event_type(uint32_t vmx_type)
{
	switch (vmx_type) {
	case VMX_INTR_TYPE_EXTINT:
		return GEV_EXTINT;
	case VMX_INTR_TYPE_NMI:
		return GEV_NMI;
	case VMX_INTR_TYPE_HW_EXCEPTION:
		return GEV_EXCEPTION;
	case VMX_INTR_TYPE_SW_INTR:
		return GEV_SOFTINT;
	case VMX_INTR_TYPE_PRIV_SW_EXCEPTION:
		return GEV_PRIVSOFT;
	case VMX_INTR_TYPE_SW_EXCEPTION:
		return GEV_SOFTEXC;
	}
	return GEV_NONE;
}

uint32_t vmx_intr_type(enum guest_event_type t)
{
	switch (t) {
	case GEV_NMI:
		return VMX_INTR_TYPE_NMI;
	case GEV_EXCEPTION:
		return VMX_INTR_TYPE_HW_EXCEPTION;
	case GEV_SOFTINT:
		return VMX_INTR_TYPE_SW_INTR;
	case GEV_PRIVSOFT:
		return VMX_INTR_TYPE_PRIV_SW_EXCEPTION;
	case GEV_SOFTEXC:
		return VMX_INTR_TYPE_SW_EXCEPTION;
	default:
		return VMX_INTR_TYPE_EXTINT;
	}
}

/* An event in the VM-exit or IDT-vectoring information format. For the
 * software types the exit instruction length is the instruction's, which
 * re-injection needs (SDM 28.2.5). */
static struct guest_event event_of(uint32_t info, uint32_t error, uint32_t insn_len)
{
	struct guest_event ev = {0};

	if (!(info & VMX_INTR_VALID))
		return ev;
	ev.type = vmx_event_type(VMX_INTR_TYPE(info));
	ev.vector = (uint8_t)(info & VMX_INTR_VECTOR_MASK);
	ev.has_error = (info & VMX_INTR_ERROR_VALID) != 0;
	ev.error = error;
	if (ev.type == GEV_SOFTINT || ev.type == GEV_SOFTEXC || ev.type == GEV_PRIVSOFT)
		ev.insn_len = (uint8_t)insn_len;
	return ev;
}

/* Exits caused by executing one instruction: the only ones whose
 * instruction length the SDM defines (28.2.5). */
struct insn_exit {
	uint32_t reason;
	enum vm_exit_reason kind;
	enum insn_exit_kind insn;
};

static const struct insn_exit insn_exits[] = {
    {VMX_EXIT_CPUID, VMEXIT_CPUID, INSN_EXIT_CPUID},
    {VMX_EXIT_HLT, VMEXIT_HLT, INSN_EXIT_HLT},
    {VMX_EXIT_INVD, VMEXIT_NOP, INSN_EXIT_INVD},
    {VMX_EXIT_WBINVD, VMEXIT_NOP, INSN_EXIT_WBINVD},
    {VMX_EXIT_VMCALL, VMEXIT_HYPERCALL, INSN_EXIT_VMCALL},
    {VMX_EXIT_XSETBV, VMEXIT_XSETBV, INSN_EXIT_XSETBV},
    {VMX_EXIT_RDMSR, VMEXIT_MSR_READ, INSN_EXIT_RDMSR},
    {VMX_EXIT_WRMSR, VMEXIT_MSR_WRITE, INSN_EXIT_WRMSR},
    /* The guest sees no VMX: every VMX instruction is #UD, as on a CPU
     * without it, and so are MONITOR/MWAIT, which CPUID hides. */
    {VMX_EXIT_VMCLEAR, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMLAUNCH, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMPTRLD, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMPTRST, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMREAD, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMRESUME, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMWRITE, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMXOFF, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMXON, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_INVEPT, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_INVVPID, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_VMFUNC, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_GETSEC, VMEXIT_UD, INSN_EXIT_KIND_COUNT},
    {VMX_EXIT_MONITOR, VMEXIT_UD, INSN_EXIT_MONITOR},
    {VMX_EXIT_MWAIT, VMEXIT_UD, INSN_EXIT_MWAIT},
};

static bool decode_insn_exit(const struct vmx_exit_raw *raw, uint32_t basic, struct vm_exit *e)
{
	for (size_t i = 0; i < sizeof(insn_exits) / sizeof(insn_exits[0]); i++) {
		if (insn_exits[i].reason != basic)
			continue;
		e->reason = insn_exits[i].kind;
		e->insn = insn_exits[i].insn;
		e->next_rip_known = true;
		e->next_rip = raw->rip + raw->insn_len;
		return true;
	}
	return false;
}

static void decode_io(const struct vmx_exit_raw *raw, struct vm_exit *e)
{
	uint64_t q = raw->qual;

	e->reason = VMEXIT_IO;
	e->io.port = (uint16_t)((q & VMX_IOQ_PORT_MASK) >> VMX_IOQ_PORT_SHIFT);
	e->io.size = (uint8_t)((q & VMX_IOQ_SIZE_MASK) + 1); /* 0, 1, 3 mean 1, 2, 4 */
	e->io.in = (q & VMX_IOQ_IN) != 0;
	e->io.string = (q & VMX_IOQ_STRING) != 0;
	e->io.rep = (q & VMX_IOQ_REP) != 0;
	e->insn = INSN_EXIT_IN_OUT;
	e->next_rip_known = true;
	e->next_rip = raw->rip + raw->insn_len;
}

static void decode_cr(const struct vmx_exit_raw *raw, struct vm_exit *e)
{
	uint64_t q = raw->qual;
	uint32_t type = (uint32_t)((q & VMX_CRQ_TYPE_MASK) >> VMX_CRQ_TYPE_SHIFT);

	if (type != VMX_CRQ_TYPE_MOV_TO_CR && type != VMX_CRQ_TYPE_MOV_FROM_CR) {
		e->reason = VMEXIT_UNKNOWN; /* CLTS/LMSW never exit: no mask covers their bits */
		return;
	}
	e->reason = VMEXIT_CR_ACCESS;
	e->cr.cr = (uint8_t)(q & VMX_CRQ_CR_MASK);
	e->cr.gpr = (uint8_t)((q & VMX_CRQ_GPR_MASK) >> VMX_CRQ_GPR_SHIFT);
	e->cr.write = type == VMX_CRQ_TYPE_MOV_TO_CR;
	e->next_rip_known = true;
	e->next_rip = raw->rip + raw->insn_len;
}

/* EPT violation: never next_rip_known, whatever insn_len holds. */
static void decode_ept(const struct vmx_exit_raw *raw, struct vm_exit *e)
{
	struct ept_violation v;

	ept_violation_decode(raw->qual, &v);
	e->reason = VMEXIT_MMIO;
	e->mmio.gpa = raw->gpa;
	e->mmio.write = v.write;
	e->mmio.fetch = v.fetch;
	e->mmio.walk = v.walk;
}

static void decode_exception(const struct vmx_exit_raw *raw, struct vm_exit *e)
{
	struct guest_event ev = event_of(raw->intr_info, raw->intr_error, raw->insn_len);

	if (ev.type == GEV_NMI) {
		e->reason = VMEXIT_NMI;
		return;
	}
	e->reason = VMEXIT_EXCEPTION;
	e->exc = ev;
}

void vmx_decode_exit(const struct vmx_exit_raw *raw, struct vm_exit *e)
{
	uint32_t basic = raw->reason & VMX_EXIT_REASON_BASIC_MASK;

	/* Field by field, not a memset: this runs on every exit and the
	 * struct carries a message buffer. */
	e->next_rip_known = false;
	e->next_rip = 0;
	e->insn = INSN_EXIT_KIND_COUNT;
	e->detail[0] = '\0';
	e->hw_code = raw->reason;
	e->hw_info1 = raw->qual;
	e->hw_info2 = raw->gpa;
	if (raw->reason & VMX_EXIT_REASON_ENTRY_FAIL) {
		e->reason = VMEXIT_INVALID_STATE;
		e->vectoring = (struct guest_event){0};
		return;
	}
	e->vectoring = event_of(raw->idt_info, raw->idt_error, raw->insn_len);
	if (decode_insn_exit(raw, basic, e)) {
		if (e->reason == VMEXIT_MSR_READ || e->reason == VMEXIT_MSR_WRITE)
			e->msr.index = (uint32_t)raw->rcx;
		return;
	}
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI:
		decode_exception(raw, e);
		return;
	case VMX_EXIT_EXTINT:
		e->reason = VMEXIT_EXTINT;
		return;
	case VMX_EXIT_PREEMPTION_TIMER:
		e->reason = VMEXIT_PREEMPT;
		return;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = VMEXIT_SHUTDOWN;
		return;
	case VMX_EXIT_INTR_WINDOW:
		e->reason = VMEXIT_IRQ_WINDOW;
		return;
	case VMX_EXIT_IO:
		decode_io(raw, e);
		return;
	case VMX_EXIT_CR_ACCESS:
		decode_cr(raw, e);
		return;
	case VMX_EXIT_EPT_VIOLATION:
		decode_ept(raw, e);
		return;
	}
	e->reason = VMEXIT_UNKNOWN;
}
