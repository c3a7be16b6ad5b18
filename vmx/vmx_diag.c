/* VM-instruction errors, exit reasons and the guest-state checks of Intel
 * SDM vol. 3, 27.3.1 (26.3.1 in older editions), in words. Pure. */
#include <stdarg.h>
#include <stdbool.h>

#include "core/fmt.h"
#include "vmx/vmx_diag.h"

/* Segment types (SDM 3.4.5.1, table 3-1 and 3-2) the checks name. */
#define SEG_TYPE_LDT 2u
#define SEG_TYPE_DATA_RW_ACC 3u
#define SEG_TYPE_TSS16_BUSY 3u
#define SEG_TYPE_DATA_RW_DOWN_ACC 7u
#define SEG_TYPE_CODE_X_ACC 9u
#define SEG_TYPE_CODE_RX_ACC 11u
#define SEG_TYPE_TSS_BUSY 11u
#define SEG_TYPE_CODE_CONF_X_ACC 13u
#define SEG_TYPE_CODE_CONF_RX_ACC 15u
#define SEG_TYPE_LAST_NONCONFORMING 11u /* 0-11: data or non-conforming code */

#define SEL_RPL_MASK 3u
#define SEL_TI (1u << 2)
#define LIMIT_LOW_BITS 0x00000FFFu  /* must be all 1 when G=1 */
#define LIMIT_HIGH_BITS 0xFFF00000u /* must be all 0 when G=0 */
#define V86_LIMIT 0xFFFFu
#define V86_BASE_SHIFT 4
#define DT_LIMIT_RESERVED 0xFFFF0000u
#define HIGH32_SHIFT 32
#define CANONICAL_SHIFT 47 /* 48-bit linear addresses */
#define CANONICAL_HIGH 0x1FFFFull
#define EFER_KNOWN (VMX_EFER_SCE | VMX_EFER_LME | VMX_EFER_LMA | VMX_EFER_NXE)
#define PAT_ENTRIES 8u
#define PAT_ENTRY_BITS 8u
#define PAT_ENTRY_MASK 0xFFull
#define PAT_UC_MINUS 7u
#define PDPTE_P 1ull
#define PDPTE_RESERVED 0x1E6ull /* bits 8:5 and 2:1 */
#define LINK_PTR_NONE (~0ull)
#define PAGE_OFFSET_MASK 0xFFFull
#define PA_BITS_MAX 52u
#define VEC_DB 1u
#define VEC_MC 18u
#define VEC_PENDING_MTF 0u
#define ATTR_LOW_MASK 0xFFu
#define ATTR_HIGH_MASK 0xF00u
#define ATTR_TO_AR_SHIFT 4 /* AVL/L/D-B/G: attr bits 11:8 <-> AR bits 15:12 */
#define VSEG_ATTR_DPL_MASK (3u << VMX_AR_DPL_SHIFT)
#define DIAG_LINE_MAX 200u

/* ---- names ---- */

static const char *const insn_errors[VMX_ERR_LIMIT] = {
    [VMX_ERR_VMCALL_IN_ROOT] = "VMCALL executed in VMX root operation",
    [VMX_ERR_VMCLEAR_BAD_ADDR] = "VMCLEAR with invalid physical address",
    [VMX_ERR_VMCLEAR_VMXON_PTR] = "VMCLEAR with VMXON pointer",
    [VMX_ERR_VMLAUNCH_NOT_CLEAR] = "VMLAUNCH with non-clear VMCS",
    [VMX_ERR_VMRESUME_NOT_LAUNCHED] = "VMRESUME with non-launched VMCS",
    [VMX_ERR_VMRESUME_AFTER_VMXOFF] = "VMRESUME after VMXOFF",
    [VMX_ERR_ENTRY_BAD_CONTROLS] = "VM entry with invalid control field(s)",
    [VMX_ERR_ENTRY_BAD_HOST_STATE] = "VM entry with invalid host-state field(s)",
    [VMX_ERR_VMPTRLD_BAD_ADDR] = "VMPTRLD with invalid physical address",
    [VMX_ERR_VMPTRLD_VMXON_PTR] = "VMPTRLD with VMXON pointer",
    [VMX_ERR_VMPTRLD_BAD_REVISION] = "VMPTRLD with incorrect VMCS revision identifier",
    [VMX_ERR_UNSUPPORTED_FIELD] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [VMX_ERR_VMWRITE_READ_ONLY] = "VMWRITE to read-only VMCS component",
    [VMX_ERR_VMXON_IN_ROOT] = "VMXON executed in VMX root operation",
    [VMX_ERR_ENTRY_BAD_EXEC_VMCS_PTR] = "VM entry with invalid executive-VMCS pointer",
    [VMX_ERR_ENTRY_EXEC_VMCS_NOT_LAUNCHED] = "VM entry with non-launched executive VMCS",
    [VMX_ERR_ENTRY_EXEC_VMCS_NOT_VMXON] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [VMX_ERR_VMCALL_NOT_CLEAR] = "VMCALL with non-clear VMCS",
    [VMX_ERR_VMCALL_BAD_EXIT_CTLS] = "VMCALL with invalid VM-exit control fields",
    [VMX_ERR_VMCALL_BAD_MSEG_REVISION] = "VMCALL with incorrect MSEG revision identifier",
    [VMX_ERR_VMXOFF_DUAL_MONITOR] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [VMX_ERR_VMCALL_BAD_SMM_FEATURES] = "VMCALL with invalid SMM-monitor features",
    [VMX_ERR_ENTRY_BAD_EXEC_CTLS_IN_EXEC_VMCS] =
	"VM entry with invalid VM-execution control fields in executive VMCS",
    [VMX_ERR_ENTRY_MOV_SS_BLOCKING] = "VM entry with events blocked by MOV SS",
    [VMX_ERR_INVEPT_INVVPID_OPERAND] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_str(uint32_t n)
{
	if (n >= VMX_ERR_LIMIT || !insn_errors[n])
		return "unknown VM-instruction error";
	return insn_errors[n];
}

static const char *const exit_reasons[VMX_EXIT_REASON_LIMIT] = {
    [VMX_EXIT_EXCEPTION_NMI] = "exception or NMI",
    [VMX_EXIT_EXTINT] = "external interrupt",
    [VMX_EXIT_TRIPLE_FAULT] = "triple fault",
    [VMX_EXIT_INIT] = "INIT signal",
    [VMX_EXIT_SIPI] = "start-up IPI",
    [VMX_EXIT_IO_SMI] = "I/O SMI",
    [VMX_EXIT_OTHER_SMI] = "other SMI",
    [VMX_EXIT_INTR_WINDOW] = "interrupt window",
    [VMX_EXIT_NMI_WINDOW] = "NMI window",
    [VMX_EXIT_TASK_SWITCH] = "task switch",
    [VMX_EXIT_CPUID] = "CPUID",
    [VMX_EXIT_GETSEC] = "GETSEC",
    [VMX_EXIT_HLT] = "HLT",
    [VMX_EXIT_INVD] = "INVD",
    [VMX_EXIT_INVLPG] = "INVLPG",
    [VMX_EXIT_RDPMC] = "RDPMC",
    [VMX_EXIT_RDTSC] = "RDTSC",
    [VMX_EXIT_RSM] = "RSM",
    [VMX_EXIT_VMCALL] = "VMCALL",
    [VMX_EXIT_VMCLEAR] = "VMCLEAR",
    [VMX_EXIT_VMLAUNCH] = "VMLAUNCH",
    [VMX_EXIT_VMPTRLD] = "VMPTRLD",
    [VMX_EXIT_VMPTRST] = "VMPTRST",
    [VMX_EXIT_VMREAD] = "VMREAD",
    [VMX_EXIT_VMRESUME] = "VMRESUME",
    [VMX_EXIT_VMWRITE] = "VMWRITE",
    [VMX_EXIT_VMXOFF] = "VMXOFF",
    [VMX_EXIT_VMXON] = "VMXON",
    [VMX_EXIT_CR_ACCESS] = "control-register access",
    [VMX_EXIT_MOV_DR] = "MOV DR",
    [VMX_EXIT_IO] = "I/O instruction",
    [VMX_EXIT_RDMSR] = "RDMSR",
    [VMX_EXIT_WRMSR] = "WRMSR",
    [VMX_EXIT_INVALID_GUEST_STATE] = "VM-entry failure: invalid guest state",
    [VMX_EXIT_MSR_LOADING] = "VM-entry failure: MSR loading",
    [VMX_EXIT_MWAIT] = "MWAIT",
    [VMX_EXIT_MTF] = "monitor trap flag",
    [VMX_EXIT_MONITOR] = "MONITOR",
    [VMX_EXIT_PAUSE] = "PAUSE",
    [VMX_EXIT_MACHINE_CHECK] = "VM-entry failure: machine-check event",
    [VMX_EXIT_TPR_BELOW_THRESHOLD] = "TPR below threshold",
    [VMX_EXIT_APIC_ACCESS] = "APIC access",
    [VMX_EXIT_EOI_INDUCED] = "virtualized EOI",
    [VMX_EXIT_GDTR_IDTR] = "access to GDTR or IDTR",
    [VMX_EXIT_LDTR_TR] = "access to LDTR or TR",
    [VMX_EXIT_EPT_VIOLATION] = "EPT violation",
    [VMX_EXIT_EPT_MISCONFIG] = "EPT misconfiguration",
    [VMX_EXIT_INVEPT] = "INVEPT",
    [VMX_EXIT_RDTSCP] = "RDTSCP",
    [VMX_EXIT_PREEMPTION_TIMER] = "VMX-preemption timer expired",
    [VMX_EXIT_INVVPID] = "INVVPID",
    [VMX_EXIT_WBINVD] = "WBINVD or WBNOINVD",
    [VMX_EXIT_XSETBV] = "XSETBV",
    [VMX_EXIT_APIC_WRITE] = "APIC write",
    [VMX_EXIT_RDRAND] = "RDRAND",
    [VMX_EXIT_INVPCID] = "INVPCID",
    [VMX_EXIT_VMFUNC] = "VMFUNC",
    [VMX_EXIT_ENCLS] = "ENCLS",
    [VMX_EXIT_RDSEED] = "RDSEED",
    [VMX_EXIT_PML_FULL] = "page-modification log full",
    [VMX_EXIT_XSAVES] = "XSAVES",
    [VMX_EXIT_XRSTORS] = "XRSTORS",
};

const char *vmx_exit_reason_str(uint32_t reason)
{
	uint32_t basic = reason & VMX_EXIT_REASON_BASIC_MASK;

	if (basic >= VMX_EXIT_REASON_LIMIT || !exit_reasons[basic])
		return "unknown exit reason";
	return exit_reasons[basic];
}

/* ---- access rights ---- */

uint32_t vmx_ar_from_attr(uint16_t attr)
{
	uint32_t ar =
	    (attr & ATTR_LOW_MASK) | ((uint32_t)(attr & ATTR_HIGH_MASK) << ATTR_TO_AR_SHIFT);

	if (!(attr & VSEG_P))
		ar |= VMX_AR_UNUSABLE;
	return ar;
}

uint16_t vmx_attr_from_ar(uint32_t ar)
{
	if (ar & VMX_AR_UNUSABLE)
		return (uint16_t)(ar & VSEG_ATTR_DPL_MASK);
	return (uint16_t)((ar & ATTR_LOW_MASK) | ((ar >> ATTR_TO_AR_SHIFT) & ATTR_HIGH_MASK));
}

void vmx_guest_state_from_sregs(struct vmx_guest_state *g, const struct vcpu_sregs *s)
{
	for (unsigned i = 0; i < VSEG_COUNT; i++) {
		g->seg[i].sel = s->seg[i].sel;
		g->seg[i].ar = vmx_ar_from_attr(s->seg[i].attr);
		g->seg[i].limit = s->seg[i].limit;
		g->seg[i].base = s->seg[i].base;
	}
	g->gdtr_base = s->gdt_base;
	g->gdtr_limit = s->gdt_limit;
	g->idtr_base = s->idt_base;
	g->idtr_limit = s->idt_limit;
	g->cr0 = s->cr0;
	g->cr3 = s->cr3;
	g->cr4 = s->cr4;
	g->efer = s->efer;
}

/* ---- the checker's context ---- */

struct chk {
	const struct vmx_guest_state *g;
	bool ia32e, unrestricted, v86, ept;
	bool event;	/* a valid event is being injected */
	uint32_t etype; /* its interruption type and vector */
	uint32_t evector;
	char *why;
	size_t len;
};

static const char *const seg_names[VSEG_COUNT] = {
    [VSEG_ES] = "ES", [VSEG_CS] = "CS", [VSEG_SS] = "SS", [VSEG_DS] = "DS",
    [VSEG_FS] = "FS", [VSEG_GS] = "GS", [VSEG_TR] = "TR", [VSEG_LDTR] = "LDTR",
};

static unsigned long long ull(uint64_t v)
{
	return v;
}

static status_t fail(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static status_t fail(struct chk *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(c->why, c->why ? c->len : 0, fmt, ap);
	va_end(ap);
	return ST_EINVAL;
}

static const struct vmx_seg *seg(const struct chk *c, enum vseg_index i)
{
	return &c->g->seg[i];
}

static bool usable(const struct chk *c, enum vseg_index i)
{
	return !(seg(c, i)->ar & VMX_AR_UNUSABLE);
}

static uint32_t seg_type(const struct chk *c, enum vseg_index i)
{
	return seg(c, i)->ar & VMX_AR_TYPE_MASK;
}

/* "guest CS access rights 0x9b: <msg>" */
static status_t ar_fail(struct chk *c, enum vseg_index i, const char *msg)
{
	return fail(c, "guest %s access rights 0x%x: %s", seg_names[i], seg(c, i)->ar, msg);
}

static bool canonical(uint64_t a)
{
	uint64_t top = a >> CANONICAL_SHIFT;

	return top == 0 || top == CANONICAL_HIGH;
}

static uint64_t beyond_maxphyaddr(const struct chk *c)
{
	unsigned bits = c->g->maxphyaddr;

	if (!bits || bits > PA_BITS_MAX)
		bits = PA_BITS_MAX;
	return ~((1ull << bits) - 1);
}

/* ---- control registers, debug registers, MSRs (27.3.1.1) ---- */

static status_t chk_cr0(struct chk *c)
{
	uint64_t cr0 = c->g->cr0;
	/* NW and CD are never checked: VM entry does not load them. */
	uint64_t bad =
	    vmx_cr0_bad_bits(c->g->cpu, cr0, c->unrestricted) & ~(VMX_CR0_NW | VMX_CR0_CD);

	if (bad & ~cr0)
		return fail(
		    c, "guest CR0 0x%llx: bits 0x%llx must be 1 (IA32_VMX_CR0_FIXED0 0x%llx%s)",
		    ull(cr0), ull(bad & ~cr0), ull(c->g->cpu->cr0_fixed0),
		    c->unrestricted ? "; PE and PG exempt with unrestricted guest" : "");
	if (bad)
		return fail(c,
			    "guest CR0 0x%llx: bits 0x%llx must be 0 (IA32_VMX_CR0_FIXED1 0x%llx)",
			    ull(cr0), ull(bad), ull(c->g->cpu->cr0_fixed1));
	if ((cr0 & VMX_CR0_PG) && !(cr0 & VMX_CR0_PE))
		return fail(c, "guest CR0 0x%llx: PG=1 needs PE=1", ull(cr0));
	return ST_OK;
}

static status_t chk_cr4(struct chk *c)
{
	uint64_t cr4 = c->g->cr4;
	uint64_t bad = vmx_cr4_bad_bits(c->g->cpu, cr4);

	if (bad & ~cr4)
		return fail(c,
			    "guest CR4 0x%llx: bits 0x%llx must be 1 (IA32_VMX_CR4_FIXED0 0x%llx)",
			    ull(cr4), ull(bad & ~cr4), ull(c->g->cpu->cr4_fixed0));
	if (bad)
		return fail(c,
			    "guest CR4 0x%llx: bits 0x%llx must be 0 (IA32_VMX_CR4_FIXED1 0x%llx)",
			    ull(cr4), ull(bad), ull(c->g->cpu->cr4_fixed1));
	if ((cr4 & VMX_CR4_CET) && !(c->g->cr0 & VMX_CR0_WP))
		return fail(c, "guest CR4 0x%llx: CET=1 needs CR0.WP=1 (CR0 0x%llx)", ull(cr4),
			    ull(c->g->cr0));
	return ST_OK;
}

static status_t chk_paging_mode(struct chk *c)
{
	const struct vmx_guest_state *g = c->g;

	if (c->ia32e && !(g->cr0 & VMX_CR0_PG))
		return fail(c, "guest CR0 0x%llx: IA-32e mode guest needs PG=1", ull(g->cr0));
	if (c->ia32e && !(g->cr4 & VMX_CR4_PAE))
		return fail(c, "guest CR4 0x%llx: IA-32e mode guest needs PAE=1", ull(g->cr4));
	if (!c->ia32e && (g->cr4 & VMX_CR4_PCIDE))
		return fail(c, "guest CR4 0x%llx: PCIDE=1 needs IA-32e mode guest", ull(g->cr4));
	return ST_OK;
}

static status_t chk_cr3_dr7(struct chk *c)
{
	const struct vmx_guest_state *g = c->g;

	if (g->cr3 & beyond_maxphyaddr(c))
		return fail(c, "guest CR3 0x%llx: bits at or above MAXPHYADDR (%u) must be 0",
			    ull(g->cr3), g->maxphyaddr);
	if ((g->entry & VMX_ENTRY_CTL_LOAD_DEBUG) && (g->dr7 >> HIGH32_SHIFT))
		return fail(c, "guest DR7 0x%llx: bits 63:32 must be 0", ull(g->dr7));
	if (!canonical(g->sysenter_esp))
		return fail(c, "guest IA32_SYSENTER_ESP 0x%llx: not canonical",
			    ull(g->sysenter_esp));
	if (!canonical(g->sysenter_eip))
		return fail(c, "guest IA32_SYSENTER_EIP 0x%llx: not canonical",
			    ull(g->sysenter_eip));
	return ST_OK;
}

static bool pat_type_ok(unsigned t)
{
	return t == VMX_MEMTYPE_UC || t == VMX_MEMTYPE_WC || t == VMX_MEMTYPE_WT ||
	       t == VMX_MEMTYPE_WP || t == VMX_MEMTYPE_WB || t == PAT_UC_MINUS;
}

static status_t chk_pat(struct chk *c)
{
	uint64_t pat = c->g->pat;

	if (!(c->g->entry & VMX_ENTRY_CTL_LOAD_PAT))
		return ST_OK;
	for (unsigned i = 0; i < PAT_ENTRIES; i++) {
		unsigned t = (unsigned)((pat >> (i * PAT_ENTRY_BITS)) & PAT_ENTRY_MASK);

		if (!pat_type_ok(t))
			return fail(c,
				    "guest IA32_PAT 0x%llx: entry %u holds 0x%x, not a memory type",
				    ull(pat), i, t);
	}
	return ST_OK;
}

static status_t chk_efer(struct chk *c)
{
	uint64_t efer = c->g->efer;

	if (!(c->g->entry & VMX_ENTRY_CTL_LOAD_EFER))
		return ST_OK;
	if (efer & ~EFER_KNOWN)
		return fail(c, "guest IA32_EFER 0x%llx: reserved bits 0x%llx must be 0", ull(efer),
			    ull(efer & ~EFER_KNOWN));
	if (!(efer & VMX_EFER_LMA) != !c->ia32e)
		return fail(c, "guest IA32_EFER 0x%llx: LMA must equal IA-32e mode guest (%d)",
			    ull(efer), c->ia32e);
	if ((c->g->cr0 & VMX_CR0_PG) && !(efer & VMX_EFER_LME) != !c->ia32e)
		return fail(c,
			    "guest IA32_EFER 0x%llx: with CR0.PG=1, LME must equal IA-32e mode "
			    "guest (%d)",
			    ull(efer), c->ia32e);
	return ST_OK;
}

/* ---- segment registers (27.3.1.2) ---- */

static status_t chk_selectors(struct chk *c)
{
	uint16_t cs = seg(c, VSEG_CS)->sel, ss = seg(c, VSEG_SS)->sel;

	if (seg(c, VSEG_TR)->sel & SEL_TI)
		return fail(c, "guest TR selector 0x%x: TI must be 0", seg(c, VSEG_TR)->sel);
	if (usable(c, VSEG_LDTR) && (seg(c, VSEG_LDTR)->sel & SEL_TI))
		return fail(c, "guest LDTR selector 0x%x: TI must be 0", seg(c, VSEG_LDTR)->sel);
	if (!c->v86 && !c->unrestricted && (ss & SEL_RPL_MASK) != (cs & SEL_RPL_MASK))
		return fail(c, "guest SS selector 0x%x: RPL must equal CS RPL (CS selector 0x%x)",
			    ss, cs);
	return ST_OK;
}

/* The six segment registers virtual-8086 mode constrains, in SDM order. */
static const enum vseg_index v86_segs[] = {VSEG_CS, VSEG_SS, VSEG_DS, VSEG_ES, VSEG_FS, VSEG_GS};
#define V86_SEGS (sizeof(v86_segs) / sizeof(v86_segs[0]))

static status_t chk_v86_bases(struct chk *c)
{
	for (unsigned k = 0; c->v86 && k < V86_SEGS; k++) {
		const struct vmx_seg *s = seg(c, v86_segs[k]);
		uint64_t want = (uint64_t)s->sel << V86_BASE_SHIFT;

		if (s->base != want)
			return fail(c,
				    "guest %s base 0x%llx: virtual-8086 mode needs selector << 4 "
				    "(0x%llx)",
				    seg_names[v86_segs[k]], ull(s->base), ull(want));
	}
	return ST_OK;
}

static status_t base_not_canonical(struct chk *c, enum vseg_index i)
{
	return fail(c, "guest %s base 0x%llx: not canonical", seg_names[i], ull(seg(c, i)->base));
}

static status_t base_high32(struct chk *c, enum vseg_index i)
{
	return fail(c, "guest %s base 0x%llx: bits 63:32 must be 0", seg_names[i],
		    ull(seg(c, i)->base));
}

static status_t chk_bases(struct chk *c)
{
	static const enum vseg_index canon[] = {VSEG_TR, VSEG_FS, VSEG_GS};
	static const enum vseg_index low32[] = {VSEG_SS, VSEG_DS, VSEG_ES};
	status_t st = chk_v86_bases(c);

	for (unsigned k = 0; st == ST_OK && k < sizeof(canon) / sizeof(canon[0]); k++)
		if (!canonical(seg(c, canon[k])->base))
			st = base_not_canonical(c, canon[k]);
	if (st == ST_OK && usable(c, VSEG_LDTR) && !canonical(seg(c, VSEG_LDTR)->base))
		st = base_not_canonical(c, VSEG_LDTR);
	if (st == ST_OK && (seg(c, VSEG_CS)->base >> HIGH32_SHIFT))
		st = base_high32(c, VSEG_CS);
	for (unsigned k = 0; st == ST_OK && k < sizeof(low32) / sizeof(low32[0]); k++)
		if (usable(c, low32[k]) && (seg(c, low32[k])->base >> HIGH32_SHIFT))
			st = base_high32(c, low32[k]);
	return st;
}

static status_t chk_v86_limits_ar(struct chk *c)
{
	for (unsigned k = 0; c->v86 && k < V86_SEGS; k++) {
		const struct vmx_seg *s = seg(c, v86_segs[k]);

		if (s->limit != V86_LIMIT)
			return fail(c, "guest %s limit 0x%x: virtual-8086 mode needs 0xffff",
				    seg_names[v86_segs[k]], s->limit);
	}
	for (unsigned k = 0; c->v86 && k < V86_SEGS; k++)
		if (seg(c, v86_segs[k])->ar != VMX_AR_V86)
			return ar_fail(c, v86_segs[k], "virtual-8086 mode needs 0xf3");
	return ST_OK;
}

/* P, then reserved bits 11:8: every usable segment. */
static status_t chk_present(struct chk *c, enum vseg_index i)
{
	if (!(seg(c, i)->ar & VMX_AR_P))
		return ar_fail(c, i, "P must be 1");
	if (seg(c, i)->ar & VMX_AR_RESERVED_11_8)
		return ar_fail(c, i, "reserved bits 11:8 must be 0");
	return ST_OK;
}

/* G against the limit, then reserved bits 31:17: every usable segment. */
static status_t chk_granularity(struct chk *c, enum vseg_index i)
{
	const struct vmx_seg *s = seg(c, i);

	if ((s->ar & VMX_AR_G) && (s->limit & LIMIT_LOW_BITS) != LIMIT_LOW_BITS)
		return fail(
		    c, "guest %s access rights 0x%x: G=1 needs limit bits 11:0 all 1 (limit 0x%x)",
		    seg_names[i], s->ar, s->limit);
	if (!(s->ar & VMX_AR_G) && (s->limit & LIMIT_HIGH_BITS))
		return fail(
		    c, "guest %s access rights 0x%x: G=0 needs limit bits 31:20 all 0 (limit 0x%x)",
		    seg_names[i], s->ar, s->limit);
	if (s->ar & VMX_AR_RESERVED_31_17)
		return ar_fail(c, i, "reserved bits 31:17 must be 0");
	return ST_OK;
}

static status_t chk_tail(struct chk *c, enum vseg_index i)
{
	status_t st = chk_present(c, i);

	return st == ST_OK ? chk_granularity(c, i) : st;
}

static bool cs_type_ok(const struct chk *c, uint32_t type)
{
	if (type == SEG_TYPE_DATA_RW_ACC)
		return c->unrestricted;
	return type == SEG_TYPE_CODE_X_ACC || type == SEG_TYPE_CODE_RX_ACC ||
	       type == SEG_TYPE_CODE_CONF_X_ACC || type == SEG_TYPE_CODE_CONF_RX_ACC;
}

static status_t chk_cs_dpl(struct chk *c)
{
	uint32_t ar = seg(c, VSEG_CS)->ar, type = seg_type(c, VSEG_CS);
	uint32_t dpl = VMX_AR_DPL(ar), ss_dpl = VMX_AR_DPL(seg(c, VSEG_SS)->ar);

	if (type == SEG_TYPE_DATA_RW_ACC && dpl)
		return ar_fail(c, VSEG_CS, "a data-type CS (type 3) must have DPL 0");
	if ((type == SEG_TYPE_CODE_X_ACC || type == SEG_TYPE_CODE_RX_ACC) && dpl != ss_dpl)
		return fail(c,
			    "guest CS access rights 0x%x: non-conforming code DPL %u must equal "
			    "SS.DPL %u",
			    ar, dpl, ss_dpl);
	if ((type == SEG_TYPE_CODE_CONF_X_ACC || type == SEG_TYPE_CODE_CONF_RX_ACC) && dpl > ss_dpl)
		return fail(c,
			    "guest CS access rights 0x%x: conforming code DPL %u must not exceed "
			    "SS.DPL %u",
			    ar, dpl, ss_dpl);
	return ST_OK;
}

/* CS is checked whether or not its unusable bit is set. */
static status_t chk_cs_ar(struct chk *c)
{
	uint32_t ar = seg(c, VSEG_CS)->ar;
	status_t st;

	if (!cs_type_ok(c, seg_type(c, VSEG_CS)))
		return fail(
		    c, "guest CS access rights 0x%x: type %u is not an accessed code segment%s", ar,
		    seg_type(c, VSEG_CS), c->unrestricted ? " nor accessed read/write data" : "");
	if (!(ar & VMX_AR_S))
		return ar_fail(c, VSEG_CS, "S must be 1 (code or data)");
	st = chk_cs_dpl(c);
	if (st == ST_OK)
		st = chk_present(c, VSEG_CS);
	if (st == ST_OK && c->ia32e && (ar & VMX_AR_L) && (ar & VMX_AR_DB))
		st = ar_fail(c, VSEG_CS, "a 64-bit code segment (L=1) must have D/B=0");
	return st == ST_OK ? chk_granularity(c, VSEG_CS) : st;
}

static status_t chk_ss_dpl(struct chk *c)
{
	const struct vmx_seg *ss = seg(c, VSEG_SS);
	uint32_t dpl = VMX_AR_DPL(ss->ar), rpl = ss->sel & SEL_RPL_MASK;

	if (!c->unrestricted && dpl != rpl)
		return fail(c,
			    "guest SS access rights 0x%x: DPL %u must equal the selector's RPL %u",
			    ss->ar, dpl, rpl);
	if (dpl && seg_type(c, VSEG_CS) == SEG_TYPE_DATA_RW_ACC)
		return ar_fail(c, VSEG_SS, "DPL must be 0 when CS is a data segment (type 3)");
	if (dpl && !(c->g->cr0 & VMX_CR0_PE))
		return ar_fail(c, VSEG_SS, "DPL must be 0 in real mode (CR0.PE=0)");
	return ST_OK;
}

/* SS.DPL is the CPL: its checks apply even when SS is unusable. */
static status_t chk_ss_ar(struct chk *c)
{
	uint32_t type = seg_type(c, VSEG_SS);
	bool use = usable(c, VSEG_SS);

	if (use && type != SEG_TYPE_DATA_RW_ACC && type != SEG_TYPE_DATA_RW_DOWN_ACC)
		return fail(c,
			    "guest SS access rights 0x%x: type %u is not accessed read/write data",
			    seg(c, VSEG_SS)->ar, type);
	if (use && !(seg(c, VSEG_SS)->ar & VMX_AR_S))
		return ar_fail(c, VSEG_SS, "S must be 1 (code or data)");
	status_t st = chk_ss_dpl(c);

	return (st == ST_OK && use) ? chk_tail(c, VSEG_SS) : st;
}

static status_t chk_data_ar(struct chk *c, enum vseg_index i)
{
	const struct vmx_seg *s = seg(c, i);
	uint32_t type = seg_type(c, i), dpl = VMX_AR_DPL(s->ar), rpl = s->sel & SEL_RPL_MASK;

	if (!usable(c, i))
		return ST_OK;
	if (!(type & VMX_AR_TYPE_ACCESSED))
		return fail(c, "guest %s access rights 0x%x: type %u is not accessed", seg_names[i],
			    s->ar, type);
	if ((type & VMX_AR_TYPE_CODE) && !(type & VMX_AR_TYPE_RW))
		return fail(c, "guest %s access rights 0x%x: type %u is execute-only code",
			    seg_names[i], s->ar, type);
	if (!(s->ar & VMX_AR_S))
		return ar_fail(c, i, "S must be 1 (code or data)");
	if (!c->unrestricted && type <= SEG_TYPE_LAST_NONCONFORMING && dpl < rpl)
		return fail(c, "guest %s access rights 0x%x: DPL %u is below the selector's RPL %u",
			    seg_names[i], s->ar, dpl, rpl);
	return chk_tail(c, i);
}

static status_t chk_tr_ar(struct chk *c)
{
	uint32_t type = seg_type(c, VSEG_TR);
	bool busy_tss = type == SEG_TYPE_TSS_BUSY || (!c->ia32e && type == SEG_TYPE_TSS16_BUSY);

	if (!usable(c, VSEG_TR))
		return ar_fail(c, VSEG_TR, "TR must be usable");
	if (!busy_tss)
		return fail(c, "guest TR access rights 0x%x: type %u is not a busy %s",
			    seg(c, VSEG_TR)->ar, type,
			    c->ia32e ? "64-bit TSS (11) in IA-32e mode" : "TSS (3 or 11)");
	if (seg(c, VSEG_TR)->ar & VMX_AR_S)
		return ar_fail(c, VSEG_TR, "S must be 0 (system segment)");
	return chk_tail(c, VSEG_TR);
}

static status_t chk_ldtr_ar(struct chk *c)
{
	if (!usable(c, VSEG_LDTR))
		return ST_OK;
	if (seg_type(c, VSEG_LDTR) != SEG_TYPE_LDT)
		return fail(c, "guest LDTR access rights 0x%x: type %u is not an LDT (2)",
			    seg(c, VSEG_LDTR)->ar, seg_type(c, VSEG_LDTR));
	if (seg(c, VSEG_LDTR)->ar & VMX_AR_S)
		return ar_fail(c, VSEG_LDTR, "S must be 0 (system segment)");
	return chk_tail(c, VSEG_LDTR);
}

static status_t chk_access_rights(struct chk *c)
{
	static const enum vseg_index data[] = {VSEG_DS, VSEG_ES, VSEG_FS, VSEG_GS};
	status_t st;

	if (c->v86)
		return ST_OK; /* chk_v86_limits_ar fixed them all */
	st = chk_cs_ar(c);
	if (st == ST_OK)
		st = chk_ss_ar(c);
	for (unsigned k = 0; st == ST_OK && k < sizeof(data) / sizeof(data[0]); k++)
		st = chk_data_ar(c, data[k]);
	if (st == ST_OK)
		st = chk_tr_ar(c);
	return st == ST_OK ? chk_ldtr_ar(c) : st;
}

/* ---- descriptor-table registers (27.3.1.3) ---- */

static status_t chk_dtr(struct chk *c, const char *name, uint64_t base, uint32_t limit)
{
	if (!canonical(base))
		return fail(c, "guest %s base 0x%llx: not canonical", name, ull(base));
	if (limit & DT_LIMIT_RESERVED)
		return fail(c, "guest %s limit 0x%x: bits 31:16 must be 0", name, limit);
	return ST_OK;
}

static status_t chk_dtrs(struct chk *c)
{
	status_t st = chk_dtr(c, "GDTR", c->g->gdtr_base, c->g->gdtr_limit);

	return st == ST_OK ? chk_dtr(c, "IDTR", c->g->idtr_base, c->g->idtr_limit) : st;
}

/* ---- RIP and RFLAGS (27.3.1.4) ---- */

static bool injecting(const struct chk *c, uint32_t type)
{
	return c->event && c->etype == type;
}

static status_t chk_rip_rflags(struct chk *c)
{
	uint64_t rip = c->g->rip, fl = c->g->rflags;
	bool code64 = c->ia32e && (seg(c, VSEG_CS)->ar & VMX_AR_L);

	if (!code64 && (rip >> HIGH32_SHIFT))
		return fail(c, "guest RIP 0x%llx: bits 63:32 must be 0 outside 64-bit mode",
			    ull(rip));
	if (code64 && !canonical(rip))
		return fail(c, "guest RIP 0x%llx: not canonical", ull(rip));
	if (fl & VMX_RFLAGS_RESERVED)
		return fail(c, "guest RFLAGS 0x%llx: reserved bits 0x%llx must be 0", ull(fl),
			    ull(fl & VMX_RFLAGS_RESERVED));
	if (!(fl & VMX_RFLAGS_FIXED1))
		return fail(c, "guest RFLAGS 0x%llx: bit 1 must be 1", ull(fl));
	if ((fl & VMX_RFLAGS_VM) && (c->ia32e || !(c->g->cr0 & VMX_CR0_PE)))
		return fail(c, "guest RFLAGS 0x%llx: VM=1 needs CR0.PE=1 and no IA-32e mode",
			    ull(fl));
	if (!(fl & VMX_RFLAGS_IF) && injecting(c, VMX_INTR_TYPE_EXTINT))
		return fail(c, "guest RFLAGS 0x%llx: IF must be 1 to inject an external interrupt",
			    ull(fl));
	return ST_OK;
}

/* ---- non-register state (27.3.1.5) ---- */

static const char *const activity_names[] = {
    [VMX_ACTIVITY_ACTIVE] = "active",
    [VMX_ACTIVITY_HLT] = "HLT",
    [VMX_ACTIVITY_SHUTDOWN] = "shutdown",
    [VMX_ACTIVITY_WAIT_SIPI] = "wait-for-SIPI",
};

static bool activity_supported(const struct chk *c, uint32_t a)
{
	uint64_t misc = c->g->cpu->misc;

	switch (a) {
	case VMX_ACTIVITY_ACTIVE:
		return true;
	case VMX_ACTIVITY_HLT:
		return misc & VMX_MISC_ACTIVITY_HLT;
	case VMX_ACTIVITY_SHUTDOWN:
		return misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	default:
		return misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
	}
}

/* Events a CPU in that state could take (SDM 27.3.1.5). */
static bool event_allowed(const struct chk *c, uint32_t a)
{
	uint32_t t = c->etype, v = c->evector;

	switch (a) {
	case VMX_ACTIVITY_ACTIVE:
		return true;
	case VMX_ACTIVITY_HLT:
		return t == VMX_INTR_TYPE_EXTINT || t == VMX_INTR_TYPE_NMI ||
		       (t == VMX_INTR_TYPE_HW_EXCEPTION && (v == VEC_DB || v == VEC_MC)) ||
		       (t == VMX_INTR_TYPE_OTHER && v == VEC_PENDING_MTF);
	case VMX_ACTIVITY_SHUTDOWN:
		return t == VMX_INTR_TYPE_NMI || (t == VMX_INTR_TYPE_HW_EXCEPTION && v == VEC_MC);
	default:
		return false;
	}
}

static status_t chk_activity(struct chk *c)
{
	uint32_t a = c->g->activity, intr = c->g->interruptibility;

	if (a > VMX_ACTIVITY_WAIT_SIPI)
		return fail(c, "guest activity state %u: must be 0-3", a);
	if (!activity_supported(c, a))
		return fail(c,
			    "guest activity state %u (%s): not supported by this CPU "
			    "(IA32_VMX_MISC)",
			    a, activity_names[a]);
	if (a == VMX_ACTIVITY_HLT && VMX_AR_DPL(seg(c, VSEG_SS)->ar))
		return fail(c,
			    "guest activity state 1 (HLT): needs SS.DPL=0 (SS access rights 0x%x)",
			    seg(c, VSEG_SS)->ar);
	if (a != VMX_ACTIVITY_ACTIVE &&
	    (intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)))
		return fail(c,
			    "guest activity state %u (%s): blocking by STI or MOV SS "
			    "(interruptibility 0x%x) needs the active state",
			    a, activity_names[a], intr);
	if (c->event && !event_allowed(c, a))
		return fail(c,
			    "guest activity state %u (%s): cannot take the injected event "
			    "(type %u, vector %u)",
			    a, activity_names[a], c->etype, c->evector);
	if (a == VMX_ACTIVITY_WAIT_SIPI && (c->g->entry & VMX_ENTRY_CTL_SMM))
		return fail(c, "guest activity state 3 (wait-for-SIPI): not allowed with entry to "
			       "SMM");
	return ST_OK;
}

static status_t intr_fail(struct chk *c, const char *msg)
{
	return fail(c, "guest interruptibility state 0x%x: %s", c->g->interruptibility, msg);
}

static status_t chk_blocking_events(struct chk *c)
{
	uint32_t intr = c->g->interruptibility;

	if ((intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)) &&
	    injecting(c, VMX_INTR_TYPE_EXTINT))
		return intr_fail(c, "blocking by STI or MOV SS while injecting an external "
				    "interrupt");
	if ((intr & VMX_INTERRUPTIBILITY_MOV_SS) && injecting(c, VMX_INTR_TYPE_NMI))
		return intr_fail(c, "blocking by MOV SS while injecting an NMI");
	if (intr & VMX_INTERRUPTIBILITY_SMI)
		return intr_fail(c, "blocking by SMI outside SMM");
	if ((c->g->entry & VMX_ENTRY_CTL_SMM) && !(intr & VMX_INTERRUPTIBILITY_SMI))
		return intr_fail(c, "entry to SMM needs blocking by SMI");
	if ((intr & VMX_INTERRUPTIBILITY_NMI) && (c->g->pin & VMX_PIN_VIRTUAL_NMIS) &&
	    injecting(c, VMX_INTR_TYPE_NMI))
		return intr_fail(c, "blocking by NMI with virtual NMIs while injecting an NMI");
	if ((intr & VMX_INTERRUPTIBILITY_ENCLAVE) && (intr & VMX_INTERRUPTIBILITY_MOV_SS))
		return intr_fail(c, "enclave interruption together with blocking by MOV SS");
	return ST_OK;
}

static status_t chk_interruptibility(struct chk *c)
{
	uint32_t intr = c->g->interruptibility;
	uint32_t both = VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS;

	if (intr & VMX_INTERRUPTIBILITY_RESERVED)
		return intr_fail(c, "reserved bits 31:5 must be 0");
	if ((intr & both) == both)
		return intr_fail(c, "blocking by both STI and MOV SS");
	if ((intr & VMX_INTERRUPTIBILITY_STI) && !(c->g->rflags & VMX_RFLAGS_IF))
		return fail(c,
			    "guest interruptibility state 0x%x: blocking by STI needs RFLAGS.IF=1 "
			    "(RFLAGS 0x%llx)",
			    intr, ull(c->g->rflags));
	return chk_blocking_events(c);
}

static status_t chk_pending_dbg(struct chk *c)
{
	const struct vmx_guest_state *g = c->g;
	uint64_t pd = g->pending_dbg;
	bool blocked =
	    (g->interruptibility & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)) ||
	    g->activity == VMX_ACTIVITY_HLT;
	bool want_bs = (g->rflags & VMX_RFLAGS_TF) && !(g->debugctl & VMX_DEBUGCTL_BTF);

	if (pd & VMX_PENDING_DBG_RESERVED)
		return fail(c,
			    "guest pending debug exceptions 0x%llx: reserved bits 0x%llx must be 0",
			    ull(pd), ull(pd & VMX_PENDING_DBG_RESERVED));
	if (blocked && want_bs && !(pd & VMX_PENDING_DBG_BS))
		return fail(c,
			    "guest pending debug exceptions 0x%llx: BS must be 1 with RFLAGS.TF=1, "
			    "IA32_DEBUGCTL.BTF=0 and blocking by STI/MOV SS or HLT",
			    ull(pd));
	if (blocked && !want_bs && (pd & VMX_PENDING_DBG_BS))
		return fail(
		    c,
		    "guest pending debug exceptions 0x%llx: BS must be 0 unless RFLAGS.TF=1 "
		    "and IA32_DEBUGCTL.BTF=0",
		    ull(pd));
	return ST_OK;
}

static status_t chk_link_pointer(struct chk *c)
{
	uint64_t link = c->g->vmcs_link;

	if (link == LINK_PTR_NONE)
		return ST_OK;
	if (link & PAGE_OFFSET_MASK)
		return fail(c, "guest VMCS link pointer 0x%llx: must be all-ones or 4 KiB aligned",
			    ull(link));
	if (link & beyond_maxphyaddr(c))
		return fail(c, "guest VMCS link pointer 0x%llx: beyond MAXPHYADDR (%u)", ull(link),
			    c->g->maxphyaddr);
	return ST_OK;
}

/* ---- PDPTEs (27.3.1.6): only the VMCS copies, which EPT makes VM entry
 * use; without EPT they come from guest memory. ---- */

static status_t chk_pdptes(struct chk *c)
{
	const struct vmx_guest_state *g = c->g;
	uint64_t reserved = PDPTE_RESERVED | beyond_maxphyaddr(c);
	bool pae = (g->cr0 & VMX_CR0_PG) && (g->cr4 & VMX_CR4_PAE) && !c->ia32e;

	for (unsigned i = 0; c->ept && pae && i < VMX_PDPTE_COUNT; i++)
		if ((g->pdpte[i] & PDPTE_P) && (g->pdpte[i] & reserved))
			return fail(c, "guest PDPTE%u 0x%llx: reserved bits 0x%llx must be 0", i,
				    ull(g->pdpte[i]), ull(g->pdpte[i] & reserved));
	return ST_OK;
}

/* ---- driver ---- */

typedef status_t (*check_fn)(struct chk *c);

static const check_fn checks[] = {
    chk_cr0,	      chk_cr4,	      chk_paging_mode, chk_cr3_dr7,	     chk_pat,
    chk_efer,	      chk_selectors,  chk_bases,       chk_v86_limits_ar,    chk_access_rights,
    chk_dtrs,	      chk_rip_rflags, chk_activity,    chk_interruptibility, chk_pending_dbg,
    chk_link_pointer, chk_pdptes,
};

static void chk_init(struct chk *c, const struct vmx_guest_state *g, char *why, size_t len)
{
	/* Secondary controls count only when the primary word activates them. */
	uint32_t proc2 = (g->proc & VMX_PROC_SECONDARY_CTLS) ? g->proc2 : 0;

	*c = (struct chk){
	    .g = g,
	    .ia32e = g->entry & VMX_ENTRY_CTL_IA32E_GUEST,
	    .unrestricted = proc2 & VMX_PROC2_UNRESTRICTED_GUEST,
	    .ept = proc2 & VMX_PROC2_ENABLE_EPT,
	    .event = g->entry_intr_info & VMX_INTR_VALID,
	    .etype = VMX_INTR_TYPE(g->entry_intr_info),
	    .evector = g->entry_intr_info & VMX_INTR_VECTOR_MASK,
	    .why = why,
	    .len = len,
	};
	/* VM=1 with IA-32e mode or CR0.PE=0 fails at RFLAGS, which names the
	 * real problem; the segments are then checked as outside v8086 mode. */
	c->v86 = (g->rflags & VMX_RFLAGS_VM) && !c->ia32e && (g->cr0 & VMX_CR0_PE);
}

status_t vmx_check_guest_state(const struct vmx_guest_state *g, char *why, size_t len)
{
	struct chk c;

	if (why && len)
		why[0] = '\0';
	if (!g || !g->cpu)
		return ST_EINVAL;
	chk_init(&c, g, why, len);
	for (unsigned i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		status_t st = checks[i](&c);

		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* ---- failed VM entries ---- */

static const char *guest_state_qual(uint64_t qual)
{
	switch (qual) {
	case VMX_ENTRY_FAIL_QUAL_PDPTE:
		return " (loading PDPTEs)";
	case VMX_ENTRY_FAIL_QUAL_NMI_STI:
		return " (NMI injected while blocking by STI)";
	case VMX_ENTRY_FAIL_QUAL_LINK_PTR:
		return " (VMCS link pointer)";
	default:
		return "";
	}
}

static void explain_guest_state(uint64_t qual, const struct vmx_guest_state *g, char *buf,
				size_t len)
{
	char line[DIAG_LINE_MAX];
	const char *q = guest_state_qual(qual);

	if (!g) {
		ksnprintf(buf, len, "VM entry failed: invalid guest state%s", q);
		return;
	}
	if (vmx_check_guest_state(g, line, sizeof(line)) == ST_OK)
		ksnprintf(buf, len,
			  "VM entry failed: invalid guest state%s; no check Keel knows fails", q);
	else
		ksnprintf(buf, len, "VM entry failed: invalid guest state%s: %s", q, line);
}

void vmx_explain_entry_failure(uint32_t exit_reason, uint64_t qual, const struct vmx_guest_state *g,
			       char *buf, size_t len)
{
	uint32_t basic = exit_reason & VMX_EXIT_REASON_BASIC_MASK;

	if (!buf || !len)
		return;
	switch (basic) {
	case VMX_EXIT_INVALID_GUEST_STATE:
		explain_guest_state(qual, g, buf, len);
		break;
	case VMX_EXIT_MSR_LOADING:
		ksnprintf(
		    buf, len,
		    "VM entry failed loading entry %llu (from 1) of the VM-entry MSR-load list",
		    ull(qual));
		break;
	case VMX_EXIT_MACHINE_CHECK:
		ksnprintf(buf, len, "VM entry failed: machine-check event during VM entry");
		break;
	default:
		ksnprintf(buf, len, "VM entry failed with exit reason %u (%s)", basic,
			  vmx_exit_reason_str(basic));
		break;
	}
}
