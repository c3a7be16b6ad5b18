/* VT-x capability logic (Intel SDM vol. 3 appendix A and 31.5.1). Pure. */
#include "core/fmt.h"
#include "vmx/vmx_caps.h"

#define CTL_BITS 32u

/* ---- reading the MSRs in an order that never touches a missing one ---- */

static bool may1(uint64_t cap, uint32_t bits)
{
	return (VMX_CAP_MAY1(cap) & bits) == bits;
}

static void read_secondary(struct vmx_msrs *m, vmx_rdmsr_fn rd, void *ctx)
{
	/* SDM A.3.3, A.10, A.11: each MSR exists only if the control that
	 * needs it may be 1. */
	m->procbased2 = rd(ctx, MSR_IA32_VMX_PROCBASED_CTLS2);
	if (VMX_CAP_MAY1(m->procbased2) & (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID))
		m->ept_vpid_cap = rd(ctx, MSR_IA32_VMX_EPT_VPID_CAP);
	if (may1(m->procbased2, VMX_PROC2_ENABLE_VMFUNC))
		m->vmfunc = rd(ctx, MSR_IA32_VMX_VMFUNC);
}

void vmx_msrs_read(struct vmx_msrs *m, vmx_rdmsr_fn rd, void *ctx)
{
	*m = (struct vmx_msrs){0};
	m->feature_control = rd(ctx, MSR_IA32_FEATURE_CONTROL);
	m->basic = rd(ctx, MSR_IA32_VMX_BASIC);
	m->pinbased = rd(ctx, MSR_IA32_VMX_PINBASED_CTLS);
	m->procbased = rd(ctx, MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rd(ctx, MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rd(ctx, MSR_IA32_VMX_ENTRY_CTLS);
	m->misc = rd(ctx, MSR_IA32_VMX_MISC);
	m->cr0_fixed0 = rd(ctx, MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rd(ctx, MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rd(ctx, MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rd(ctx, MSR_IA32_VMX_CR4_FIXED1);
	m->vmcs_enum = rd(ctx, MSR_IA32_VMX_VMCS_ENUM);
	if (m->basic & VMX_BASIC_TRUE_CTLS) {
		m->true_pinbased = rd(ctx, MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		m->true_procbased = rd(ctx, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		m->true_exit = rd(ctx, MSR_IA32_VMX_TRUE_EXIT_CTLS);
		m->true_entry = rd(ctx, MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	if (may1(m->procbased, VMX_PROC_SECONDARY_CTLS))
		read_secondary(m, rd, ctx);
}

/* ---- names of the control bits ---- */

static const char *const pin_names[CTL_BITS] = {
    [0] = "external-interrupt exiting",
    [3] = "NMI exiting",
    [5] = "virtual NMIs",
    [6] = "VMX-preemption timer",
    [7] = "process posted interrupts",
};

static const char *const proc_names[CTL_BITS] = {
    [2] = "interrupt-window exiting",
    [3] = "use TSC offsetting",
    [7] = "HLT exiting",
    [9] = "INVLPG exiting",
    [10] = "MWAIT exiting",
    [11] = "RDPMC exiting",
    [12] = "RDTSC exiting",
    [15] = "CR3-load exiting",
    [16] = "CR3-store exiting",
    [17] = "activate tertiary controls",
    [19] = "CR8-load exiting",
    [20] = "CR8-store exiting",
    [21] = "use TPR shadow",
    [22] = "NMI-window exiting",
    [23] = "MOV-DR exiting",
    [24] = "unconditional I/O exiting",
    [25] = "use I/O bitmaps",
    [27] = "monitor trap flag",
    [28] = "use MSR bitmaps",
    [29] = "MONITOR exiting",
    [30] = "PAUSE exiting",
    [31] = "activate secondary controls",
};

static const char *const proc2_names[CTL_BITS] = {
    [0] = "virtualize APIC accesses",
    [1] = "enable EPT",
    [2] = "descriptor-table exiting",
    [3] = "enable RDTSCP",
    [4] = "virtualize x2APIC mode",
    [5] = "enable VPID",
    [6] = "WBINVD exiting",
    [7] = "unrestricted guest",
    [8] = "APIC-register virtualization",
    [9] = "virtual-interrupt delivery",
    [10] = "PAUSE-loop exiting",
    [11] = "RDRAND exiting",
    [12] = "enable INVPCID",
    [13] = "enable VM functions",
    [14] = "VMCS shadowing",
    [15] = "enable ENCLS exiting",
    [16] = "RDSEED exiting",
    [17] = "enable PML",
    [18] = "EPT-violation #VE",
    [19] = "conceal VMX from PT",
    [20] = "enable XSAVES/XRSTORS",
    [22] = "mode-based execute control for EPT",
    [23] = "sub-page write permissions for EPT",
    [24] = "Intel PT uses guest physical addresses",
    [25] = "use TSC scaling",
    [26] = "enable user wait and pause",
    [28] = "enable ENCLV exiting",
};

static const char *const exit_names[CTL_BITS] = {
    [2] = "save debug controls",
    [9] = "host address-space size",
    [12] = "load IA32_PERF_GLOBAL_CTRL",
    [15] = "acknowledge interrupt on exit",
    [18] = "save IA32_PAT",
    [19] = "load IA32_PAT",
    [20] = "save IA32_EFER",
    [21] = "load IA32_EFER",
    [22] = "save VMX-preemption timer value",
    [23] = "clear IA32_BNDCFGS",
    [24] = "conceal VMX from PT",
};

static const char *const entry_names[CTL_BITS] = {
    [2] = "load debug controls",
    [9] = "IA-32e mode guest",
    [10] = "entry to SMM",
    [11] = "deactivate dual-monitor treatment",
    [13] = "load IA32_PERF_GLOBAL_CTRL",
    [14] = "load IA32_PAT",
    [15] = "load IA32_EFER",
    [16] = "load IA32_BNDCFGS",
    [17] = "conceal VMX from PT",
};

struct ctl_kind_info {
	const char *name;
	const char *const *bits;
	uint32_t default1;
};

static const struct ctl_kind_info kinds[VMX_CTL_KIND_COUNT] = {
    [VMX_CTL_PIN] = {"pin-based controls", pin_names, VMX_PIN_DEFAULT1},
    [VMX_CTL_PROC] = {"primary processor-based controls", proc_names, VMX_PROC_DEFAULT1},
    [VMX_CTL_PROC2] = {"secondary processor-based controls", proc2_names, VMX_PROC2_DEFAULT1},
    [VMX_CTL_EXIT] = {"VM-exit controls", exit_names, VMX_EXIT_CTL_DEFAULT1},
    [VMX_CTL_ENTRY] = {"VM-entry controls", entry_names, VMX_ENTRY_CTL_DEFAULT1},
};

static bool kind_ok(enum vmx_ctl_kind kind)
{
	return (unsigned)kind < VMX_CTL_KIND_COUNT;
}

const char *vmx_ctl_kind_name(enum vmx_ctl_kind kind)
{
	return kind_ok(kind) ? kinds[kind].name : "unknown controls";
}

const char *vmx_ctl_bit_name(enum vmx_ctl_kind kind, unsigned bit)
{
	if (!kind_ok(kind) || bit >= CTL_BITS)
		return NULL;
	return kinds[kind].bits[bit];
}

uint32_t vmx_ctl_default1(enum vmx_ctl_kind kind)
{
	return kind_ok(kind) ? kinds[kind].default1 : 0;
}

uint32_t vmx_ctl_known(enum vmx_ctl_kind kind)
{
	uint32_t known = 0;

	for (unsigned bit = 0; bit < CTL_BITS; bit++)
		if (vmx_ctl_bit_name(kind, bit))
			known |= 1u << bit;
	return known;
}

/* Appends to buf at *pos like ksnprintf, keeping *pos the full length, so
 * a cut message still reports how long it wanted to be. buf may be NULL. */
static void vput(char *buf, size_t len, size_t *pos, const char *fmt, va_list ap)
{
	char *at = (buf && *pos < len) ? buf + *pos : NULL;
	int n = kvsnprintf(at, at ? len - *pos : 0, fmt, ap);

	if (n > 0)
		*pos += (size_t)n;
}

static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(buf, len, pos, fmt, ap);
	va_end(ap);
}

/* Replaces buf's content. */
static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t pos = 0;

	va_start(ap, fmt);
	vput(buf, len, &pos, fmt, ap);
	va_end(ap);
}

static void put_bits(enum vmx_ctl_kind kind, uint32_t bits, char *buf, size_t len, size_t *pos)
{
	bool first = true;

	for (unsigned bit = 0; bit < CTL_BITS; bit++) {
		if (!(bits & (1u << bit)))
			continue;
		const char *name = vmx_ctl_bit_name(kind, bit);
		const char *sep = first ? "" : ", ";

		first = false;
		if (name)
			put(buf, len, pos, "%s%s", sep, name);
		else
			put(buf, len, pos, "%sbit %u", sep, bit);
	}
}

int vmx_ctl_bits_str(enum vmx_ctl_kind kind, uint32_t bits, char *buf, size_t len)
{
	size_t pos = 0;

	if (buf && len)
		buf[0] = '\0';
	put_bits(kind, bits, buf, len, &pos);
	return (int)pos;
}

/* ---- resolving control values ---- */

uint64_t vmx_ctl_cap(const struct vmx_msrs *m, enum vmx_ctl_kind kind)
{
	bool use_true = m->basic & VMX_BASIC_TRUE_CTLS;

	switch (kind) {
	case VMX_CTL_PIN:
		return use_true ? m->true_pinbased : m->pinbased;
	case VMX_CTL_PROC:
		return use_true ? m->true_procbased : m->procbased;
	case VMX_CTL_PROC2:
		/* Without "activate secondary controls" they act as all 0. */
		return may1(m->procbased, VMX_PROC_SECONDARY_CTLS) ? m->procbased2 : 0;
	case VMX_CTL_EXIT:
		return use_true ? m->true_exit : m->exit;
	case VMX_CTL_ENTRY:
		return use_true ? m->true_entry : m->entry;
	default:
		return 0;
	}
}

status_t vmx_ctl_adjust(uint64_t cap, uint32_t default1_unknown, uint32_t required, uint32_t wanted,
			uint32_t *out, uint32_t *missing)
{
	uint32_t must1 = VMX_CAP_MUST1(cap), allowed1 = VMX_CAP_MAY1(cap);
	uint32_t lacking = required & ~allowed1;
	uint32_t flexible = allowed1 & ~must1;

	if (missing)
		*missing = lacking;
	if (must1 & ~allowed1)
		return ST_EINVAL;
	if (lacking)
		return ST_ENOTSUP;
	*out = must1 | required | (wanted & allowed1) | (default1_unknown & flexible);
	return ST_OK;
}

status_t vmx_ctl_resolve(const struct vmx_msrs *m, enum vmx_ctl_kind kind, uint32_t required,
			 uint32_t wanted, uint32_t *out, uint32_t *missing)
{
	/* SDM 31.5.1, algorithm 3: a flexible default1-class control whose
	 * meaning Keel does not know is set to 1; one it knows follows
	 * required/wanted. With the legacy MSRs these bits are must-be-1. */
	uint32_t unknown1 = vmx_ctl_default1(kind) & ~vmx_ctl_known(kind);

	if (!kind_ok(kind))
		return ST_EINVAL;
	return vmx_ctl_adjust(vmx_ctl_cap(m, kind), unknown1, required, wanted, out, missing);
}

bool vmx_ctl_flexible(uint64_t cap, uint32_t bits)
{
	return may1(cap, bits) && !(VMX_CAP_MUST1(cap) & bits);
}

/* Keel's choices, bit by bit:
 * - pin: host interrupts and NMIs must exit (Keel's scheduler tick, kicks);
 *   virtual NMIs give NMI-window exiting and exact NMI blocking when present;
 *   the preemption timer, when present, also ends each run at its deadline,
 *   whatever happens to interrupts (Bochs 2.7 let a guest spinning with
 *   IF=0 keep host interrupts masked for good).
 * - proc: HLT exits (the vCPU sleeps in Keel); port I/O and MSRs go through
 *   bitmaps (per-port, per-MSR policy as on SVM); MONITOR/MWAIT exit as on
 *   SVM (the guest's CPUID hides them); CR8 accesses exit, because without a
 *   TPR shadow a guest MOV to CR8 would write the host LAPIC's TPR.
 *   Interrupt-window exiting is switched on only while an interrupt waits.
 *   CR3-load/store exiting stay 0: with EPT and unrestricted guest, Keel has
 *   no reason to see CR3.
 * - proc2: EPT and unrestricted guest (guests start in real mode or in
 *   32-bit protected mode without paging); VPID avoids TLB flushes on every
 *   exit; RDTSCP/INVPCID/XSAVES, if the CPU has them, so the guest does not
 *   get #UD for instructions its CPUID may show; WBINVD exits as on SVM.
 * - exit: a 64-bit host; guest EFER and PAT saved and the host's loaded, so
 *   neither needs an MSR list; guest DR7/DEBUGCTL saved. No "acknowledge
 *   interrupt on exit": the interrupt stays pending in the LAPIC and the
 *   host takes it through its IDT once it enables interrupts, as on SVM.
 * - entry: guest EFER, PAT and debug controls loaded; IA-32e mode guest
 *   follows the guest's EFER.LMA. */
const struct vmx_ctl_policy vmx_keel_policy = {
    .required =
	{
	    [VMX_CTL_PIN] = VMX_PIN_EXTINT_EXITING | VMX_PIN_NMI_EXITING,
	    [VMX_CTL_PROC] = VMX_PROC_HLT_EXITING | VMX_PROC_MWAIT_EXITING |
			     VMX_PROC_CR8_LOAD_EXITING | VMX_PROC_CR8_STORE_EXITING |
			     VMX_PROC_USE_IO_BITMAPS | VMX_PROC_USE_MSR_BITMAPS |
			     VMX_PROC_MONITOR_EXITING | VMX_PROC_SECONDARY_CTLS,
	    [VMX_CTL_PROC2] = VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST,
	    [VMX_CTL_EXIT] = VMX_EXIT_CTL_SAVE_DEBUG | VMX_EXIT_CTL_HOST_ADDR64 |
			     VMX_EXIT_CTL_SAVE_PAT | VMX_EXIT_CTL_LOAD_PAT |
			     VMX_EXIT_CTL_SAVE_EFER | VMX_EXIT_CTL_LOAD_EFER,
	    [VMX_CTL_ENTRY] =
		VMX_ENTRY_CTL_LOAD_DEBUG | VMX_ENTRY_CTL_LOAD_PAT | VMX_ENTRY_CTL_LOAD_EFER,
	},
    .wanted =
	{
	    [VMX_CTL_PIN] = VMX_PIN_VIRTUAL_NMIS | VMX_PIN_PREEMPTION_TIMER,
	    [VMX_CTL_PROC2] = VMX_PROC2_ENABLE_VPID | VMX_PROC2_ENABLE_RDTSCP |
			      VMX_PROC2_ENABLE_INVPCID | VMX_PROC2_ENABLE_XSAVES |
			      VMX_PROC2_WBINVD_EXITING,
	},
    .toggled =
	{
	    [VMX_CTL_PROC] = VMX_PROC_INTR_WINDOW_EXITING,
	    [VMX_CTL_ENTRY] = VMX_ENTRY_CTL_IA32E_GUEST,
	},
};

static status_t lacking(enum vmx_ctl_kind kind, const char *what, uint32_t bits, char *why,
			size_t len)
{
	size_t pos = 0;

	put(why, len, &pos, "VT-x %s %s: ", what, vmx_ctl_kind_name(kind));
	put_bits(kind, bits, why, len, &pos);
	return ST_ENOTSUP;
}

static status_t resolve_one(const struct vmx_msrs *m, const struct vmx_ctl_policy *p,
			    enum vmx_ctl_kind kind, uint32_t *out, char *why, size_t len)
{
	uint32_t missing, toggled = p->toggled[kind];
	uint64_t cap = vmx_ctl_cap(m, kind);
	status_t st = vmx_ctl_resolve(m, kind, p->required[kind], p->wanted[kind], out, &missing);

	if (st == ST_ENOTSUP)
		return lacking(kind, "lacks required", missing, why, len);
	if (st != ST_OK) {
		say(why, len, "VT-x reports inconsistent %s (0x%llx)", vmx_ctl_kind_name(kind),
		    (unsigned long long)cap);
		return st;
	}
	for (unsigned bit = 0; bit < CTL_BITS; bit++) {
		uint32_t b = 1u << bit;

		if ((toggled & b) && !vmx_ctl_flexible(cap, b))
			return lacking(kind, "cannot switch", b, why, len);
	}
	*out &= ~toggled;
	return ST_OK;
}

status_t vmx_ctls_resolve(const struct vmx_msrs *m, const struct vmx_ctl_policy *p,
			  struct vmx_ctls *out, char *why, size_t len)
{
	uint32_t v[VMX_CTL_KIND_COUNT];

	for (unsigned k = 0; k < VMX_CTL_KIND_COUNT; k++) {
		status_t st = resolve_one(m, p, (enum vmx_ctl_kind)k, &v[k], why, len);

		if (st != ST_OK)
			return st;
	}
	*out = (struct vmx_ctls){
	    .pin = v[VMX_CTL_PIN],
	    .proc = v[VMX_CTL_PROC],
	    .proc2 = v[VMX_CTL_PROC2],
	    .exit = v[VMX_CTL_EXIT],
	    .entry = v[VMX_CTL_ENTRY],
	};
	return ST_OK;
}

/* ---- CR0 / CR4 fixed bits ---- */

static uint64_t cr0_must1(const struct vmx_msrs *m, bool unrestricted_guest)
{
	uint64_t must1 = m->cr0_fixed0;

	if (unrestricted_guest)
		must1 &= ~(VMX_CR0_PE | VMX_CR0_PG);
	return must1;
}

static uint64_t fixed_bad(uint64_t v, uint64_t must1, uint64_t may1)
{
	return (must1 & ~v) | (v & ~may1);
}

uint64_t vmx_cr0_apply_fixed(const struct vmx_msrs *m, uint64_t cr0, bool unrestricted_guest)
{
	return (cr0 | cr0_must1(m, unrestricted_guest)) & m->cr0_fixed1;
}

uint64_t vmx_cr4_apply_fixed(const struct vmx_msrs *m, uint64_t cr4)
{
	return (cr4 | m->cr4_fixed0) & m->cr4_fixed1;
}

uint64_t vmx_cr0_bad_bits(const struct vmx_msrs *m, uint64_t cr0, bool unrestricted_guest)
{
	return fixed_bad(cr0, cr0_must1(m, unrestricted_guest), m->cr0_fixed1);
}

uint64_t vmx_cr4_bad_bits(const struct vmx_msrs *m, uint64_t cr4)
{
	return fixed_bad(cr4, m->cr4_fixed0, m->cr4_fixed1);
}

/* ---- features ---- */

static void parse_basic(const struct vmx_msrs *m, struct vmx_features *f)
{
	f->revision = (uint32_t)(m->basic & VMX_BASIC_REVISION_MASK);
	f->vmcs_size = (uint32_t)((m->basic & VMX_BASIC_SIZE_MASK) >> VMX_BASIC_SIZE_SHIFT);
	f->vmcs_memtype =
	    (unsigned)((m->basic & VMX_BASIC_MEMTYPE_MASK) >> VMX_BASIC_MEMTYPE_SHIFT);
	f->pa32_only = m->basic & VMX_BASIC_PA32;
	f->true_ctls = m->basic & VMX_BASIC_TRUE_CTLS;
	f->ins_outs_info = m->basic & VMX_BASIC_INS_OUTS_INFO;
	f->fc_locked = m->feature_control & FEATURE_CONTROL_LOCK;
	f->fc_vmxon_outside_smx = m->feature_control & FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
}

static void parse_controls(const struct vmx_msrs *m, struct vmx_features *f)
{
	uint64_t pin = vmx_ctl_cap(m, VMX_CTL_PIN), proc = vmx_ctl_cap(m, VMX_CTL_PROC);
	uint64_t proc2 = vmx_ctl_cap(m, VMX_CTL_PROC2), ex = vmx_ctl_cap(m, VMX_CTL_EXIT);
	uint64_t en = vmx_ctl_cap(m, VMX_CTL_ENTRY);

	f->virtual_nmis = may1(pin, VMX_PIN_VIRTUAL_NMIS);
	f->preemption_timer = may1(pin, VMX_PIN_PREEMPTION_TIMER);
	f->tpr_shadow = may1(proc, VMX_PROC_TPR_SHADOW);
	f->msr_bitmaps = may1(proc, VMX_PROC_USE_MSR_BITMAPS);
	f->io_bitmaps = may1(proc, VMX_PROC_USE_IO_BITMAPS);
	f->mtf = may1(proc, VMX_PROC_MONITOR_TRAP_FLAG);
	/* Whether procbased2 exists is read from the legacy MSR (SDM A.3.3). */
	f->secondary = may1(m->procbased, VMX_PROC_SECONDARY_CTLS);
	f->ept = may1(proc2, VMX_PROC2_ENABLE_EPT);
	f->unrestricted = may1(proc2, VMX_PROC2_UNRESTRICTED_GUEST);
	f->vpid = may1(proc2, VMX_PROC2_ENABLE_VPID);
	f->rdtscp = may1(proc2, VMX_PROC2_ENABLE_RDTSCP);
	f->invpcid = may1(proc2, VMX_PROC2_ENABLE_INVPCID);
	f->xsaves = may1(proc2, VMX_PROC2_ENABLE_XSAVES);
	f->vmfunc = may1(proc2, VMX_PROC2_ENABLE_VMFUNC);
	f->ack_intr_on_exit = may1(ex, VMX_EXIT_CTL_ACK_INTR);
	f->save_efer = may1(ex, VMX_EXIT_CTL_SAVE_EFER);
	f->load_efer_exit = may1(ex, VMX_EXIT_CTL_LOAD_EFER);
	f->save_pat = may1(ex, VMX_EXIT_CTL_SAVE_PAT);
	f->load_pat_exit = may1(ex, VMX_EXIT_CTL_LOAD_PAT);
	f->load_efer_entry = may1(en, VMX_ENTRY_CTL_LOAD_EFER);
	f->load_pat_entry = may1(en, VMX_ENTRY_CTL_LOAD_PAT);
	f->ia32e_guest = may1(en, VMX_ENTRY_CTL_IA32E_GUEST);
}

static void parse_ept_vpid(const struct vmx_msrs *m, struct vmx_features *f)
{
	/* The capability bits mean nothing unless the control may be 1. */
	uint64_t ept = f->ept ? m->ept_vpid_cap : 0;
	uint64_t vpid = f->vpid ? m->ept_vpid_cap : 0;

	f->ept_exec_only = ept & VMX_EPT_CAP_EXEC_ONLY;
	f->ept_walk4 = ept & VMX_EPT_CAP_WALK4;
	f->ept_uc = ept & VMX_EPT_CAP_UC;
	f->ept_wb = ept & VMX_EPT_CAP_WB;
	f->ept_2m = ept & VMX_EPT_CAP_2M;
	f->ept_1g = ept & VMX_EPT_CAP_1G;
	f->ept_ad = ept & VMX_EPT_CAP_AD;
	f->invept = ept & VMX_EPT_CAP_INVEPT;
	f->invept_single = f->invept && (ept & VMX_EPT_CAP_INVEPT_SINGLE);
	f->invept_all = f->invept && (ept & VMX_EPT_CAP_INVEPT_ALL);
	f->invvpid = vpid & VMX_VPID_CAP_INVVPID;
	f->invvpid_addr = f->invvpid && (vpid & VMX_VPID_CAP_INVVPID_ADDR);
	f->invvpid_single = f->invvpid && (vpid & VMX_VPID_CAP_INVVPID_SINGLE);
	f->invvpid_all = f->invvpid && (vpid & VMX_VPID_CAP_INVVPID_ALL);
	f->invvpid_single_globals = f->invvpid && (vpid & VMX_VPID_CAP_INVVPID_SINGLE_GLOBALS);
}

static void parse_misc(const struct vmx_msrs *m, struct vmx_features *f)
{
	unsigned list = (unsigned)((m->misc & VMX_MISC_MSR_LIST_MASK) >> VMX_MISC_MSR_LIST_SHIFT);

	f->preemption_rate = (unsigned)(m->misc & VMX_MISC_PREEMPTION_RATE_MASK);
	f->act_hlt = m->misc & VMX_MISC_ACTIVITY_HLT;
	f->act_shutdown = m->misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	f->act_wait_sipi = m->misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
	f->cr3_targets =
	    (unsigned)((m->misc & VMX_MISC_CR3_TARGETS_MASK) >> VMX_MISC_CR3_TARGETS_SHIFT);
	f->max_msr_list = VMX_MISC_MSR_LIST_UNIT * (list + 1);
}

void vmx_features_parse(const struct vmx_msrs *m, struct vmx_features *f)
{
	*f = (struct vmx_features){0};
	parse_basic(m, f);
	parse_controls(m, f);
	parse_ept_vpid(m, f);
	parse_misc(m, f);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

int vmx_features_describe(const struct vmx_features *f, char *buf, size_t len)
{
	size_t pos = 0;

	if (buf && len)
		buf[0] = '\0';
	put(buf, len, &pos, "VMCS revision 0x%x (%u bytes); ", f->revision, f->vmcs_size);
	if (f->ept)
		put(buf, len, &pos, "EPT (4-level %s, WB %s, 2M %s, 1G %s, A/D %s, INVEPT%s%s); ",
		    yes_no(f->ept_walk4), yes_no(f->ept_wb), yes_no(f->ept_2m), yes_no(f->ept_1g),
		    yes_no(f->ept_ad), f->invept_single ? " single" : "",
		    f->invept_all ? " all" : "");
	else
		put(buf, len, &pos, "no EPT; ");
	put(buf, len, &pos, "unrestricted guest %s; VPID %s", yes_no(f->unrestricted),
	    yes_no(f->vpid));
	if (f->invvpid)
		put(buf, len, &pos, " (INVVPID%s%s%s)", f->invvpid_addr ? " address" : "",
		    f->invvpid_single ? " single" : "", f->invvpid_all ? " all" : "");
	put(buf, len, &pos, "; virtual NMIs %s; preemption timer %s", yes_no(f->virtual_nmis),
	    yes_no(f->preemption_timer));
	if (f->preemption_timer)
		put(buf, len, &pos, " (TSC/%u)", 1u << f->preemption_rate);
	put(buf, len, &pos, "; ack interrupt on exit %s; TRUE controls %s",
	    yes_no(f->ack_intr_on_exit), yes_no(f->true_ctls));
	return (int)pos;
}

/* ---- can Keel use it? ---- */

static bool no(char *why, size_t len, const char *msg)
{
	say(why, len, "%s", msg);
	return false;
}

static bool basic_usable(const struct vmx_features *f, char *why, size_t len)
{
	if (f->fc_locked && !f->fc_vmxon_outside_smx)
		return no(why, len,
			  "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked "
			  "without VMXON outside SMX); enable it in the firmware setup");
	if (!f->vmcs_size || f->vmcs_size > VMX_VMCS_SIZE_MAX) {
		say(why, len, "VT-x reports a VMCS region of %u bytes (1-%u expected)",
		    f->vmcs_size, VMX_VMCS_SIZE_MAX);
		return false;
	}
	if (f->vmcs_memtype != VMX_MEMTYPE_WB)
		return no(why, len, "VT-x wants VMCS regions uncached; Keel maps them write-back");
	if (f->pa32_only)
		return no(why, len,
			  "VT-x limits VMCS and bitmap addresses to 32 bits; Keel places "
			  "them anywhere in memory");
	return true;
}

static bool ept_usable(const struct vmx_features *f, char *why, size_t len)
{
	if (!f->secondary)
		return no(why, len, "VT-x without secondary controls (so no EPT) is not supported");
	if (!f->ept)
		return no(why, len, "VT-x without EPT (extended page tables) is not supported");
	if (!f->unrestricted)
		return no(why, len,
			  "VT-x without unrestricted guest is not supported (guests start in "
			  "real mode or protected mode without paging)");
	if (!f->ept_walk4)
		return no(why, len, "EPT without a 4-level page walk is not supported");
	if (!f->ept_wb)
		return no(why, len, "EPT paging structures cannot be write-back (no WB EPT type)");
	if (!f->invept || !(f->invept_single || f->invept_all))
		return no(why, len, "EPT without INVEPT (single- or all-context) is not supported");
	return true;
}

bool vmx_usable(const struct vmx_msrs *m, char *why, size_t len)
{
	struct vmx_features f;
	struct vmx_ctls ctls;

	vmx_features_parse(m, &f);
	if (!basic_usable(&f, why, len) || !ept_usable(&f, why, len))
		return false;
	if (vmx_ctls_resolve(m, &vmx_keel_policy, &ctls, why, len) != ST_OK)
		return false;
	say(why, len, "VT-x with EPT and unrestricted guest is usable");
	return true;
}
