/* The SVM backend's vCPUs: VMCB set-up, the run call and exit decoding into
 * struct vm_exit (AMD APM vol. 2, chapter 15). */
#include "svm/svm.h"

#include "core/printk.h"
#include "keel/kstring.h"
#include "main/platform.h"
#include "mm/kmem.h"
#include "mm/pt_x86.h"
#include "svm/vmcb.h"
#include "vm/msr_policy.h"
#include "vm/vm.h"

#define EFER_SVME (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_LME (1ull << 8)
#define CR0_PG (1ull << 31)
#define CR0_PE (1ull << 0)
#define GUEST_PAT 0x0007040600070406ull /* the power-on PAT */
#define DR6_RESET 0xFFFF0FF0ull
#define DR7_RESET 0x400ull
#define IOPM_PAGES 3
#define MSRPM_PAGES 2
#define MSRPM_RANGE 0x2000u /* MSRs per bitmap range */
#define MSR_PAT 0x277u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define SVM_VEC_GP 13
#define PAT_TYPE_VALID_MASK 0xF3u /* memory types 0, 1, 4, 5, 6, 7 */

struct svm_cpu {
	uint64_t host_save_pa;
	struct asid_cpu asid;
};

static struct svm_cpu cpus[KEEL_MAX_CPUS];
static uint64_t iopm_pa, msrpm_pa;

/* ---- bitmaps, shared by every vCPU ---- */

/* Byte offset of an MSR's two bits in the permission map, or -1 when the
 * MSR is outside the three ranges the map covers (always intercepted). */
static long msrpm_offset(uint32_t msr, unsigned *bit)
{
	static const uint32_t base[] = {0, 0xC0000000u, 0xC0010000u};

	for (unsigned r = 0; r < 3; r++) {
		if (msr - base[r] < MSRPM_RANGE) {
			uint32_t n = msr - base[r];
			*bit = (n % 4) * 2;
			return (long)(r * (MSRPM_RANGE / 4) + n / 4);
		}
	}
	return -1;
}

/* The guest owns these registers in its VMCB (VMLOAD/VMSAVE): reads and
 * writes need no exit. PAT stays intercepted so a bad memory type #GPs. */
static void pass_msr(void *ctx, uint32_t msr)
{
	uint8_t *map = ctx;
	unsigned bit;
	long off = msrpm_offset(msr, &bit);

	if (off >= 0 && msr != MSR_PAT)
		map[off] &= (uint8_t) ~(3u << bit);
}

static status_t make_bitmaps(void)
{
	status_t st;

	if (iopm_pa)
		return ST_OK;
	st = kmem_alloc_frames(IOPM_PAGES, &iopm_pa);
	if (st == ST_OK)
		st = kmem_alloc_frames(MSRPM_PAGES, &msrpm_pa);
	if (st != ST_OK)
		return st;
	memset(phys_to_virt(iopm_pa), 0xFF, IOPM_PAGES * PAGE_SIZE);
	memset(phys_to_virt(msrpm_pa), 0xFF, MSRPM_PAGES * PAGE_SIZE);
	msr_foreach(MSR_KIND_HW, pass_msr, phys_to_virt(msrpm_pa));
	return ST_OK;
}

static status_t svm_pio_passthrough(uint16_t port, uint16_t len)
{
	status_t st = make_bitmaps();
	uint8_t *bm = phys_to_virt(iopm_pa);

	if (st != ST_OK)
		return st;
	for (uint32_t p = port; p < (uint32_t)port + len; p++)
		bm[p / 8] &= (uint8_t) ~(1u << (p % 8));
	return ST_OK;
}

void svm_cpu_ready(unsigned cpu, uint64_t host_save_pa)
{
	uint32_t n = svm_asid_count();

	cpus[cpu].host_save_pa = host_save_pa;
	asid_cpu_init(&cpus[cpu].asid, 1, n > 1 ? n : 2);
}

/* ---- state ---- */

/* A vCPU's hardware state is its VMCB page. */
static struct vmcb *vmcb_of(const struct vcpu *v)
{
	return v->hw;
}

static struct vmcb_seg to_vmcb(const struct vseg *s)
{
	return (struct vmcb_seg){s->sel, s->attr, s->limit, s->base};
}

static struct vseg from_vmcb(const struct vmcb_seg *s)
{
	return (struct vseg){s->sel, s->attr, s->limit, s->base};
}

static void svm_set_sregs(struct vcpu *v, const struct vcpu_sregs *s)
{
	struct vmcb *c = vmcb_of(v);
	struct vmcb_seg *segs[VSEG_COUNT] = {&c->es, &c->cs, &c->ss, &c->ds,
					     &c->fs, &c->gs, &c->tr, &c->ldtr};

	for (int i = 0; i < VSEG_COUNT; i++)
		*segs[i] = to_vmcb(&s->seg[i]);
	c->gdtr = (struct vmcb_seg){0, 0, s->gdt_limit, s->gdt_base};
	c->idtr = (struct vmcb_seg){0, 0, s->idt_limit, s->idt_base};
	c->cr0 = s->cr0;
	c->cr2 = s->cr2;
	c->cr3 = s->cr3;
	c->cr4 = s->cr4;
	c->efer = s->efer | EFER_SVME;
	c->cpl = (uint8_t)((s->seg[VSEG_SS].attr >> 5) & 3);
	c->dr6 = DR6_RESET;
	c->dr7 = DR7_RESET;
	c->g_pat = GUEST_PAT;
	c->star = c->lstar = c->cstar = c->sfmask = c->kernel_gs_base = 0;
	c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
	c->int_state = 0;
	c->event_inj = 0;
}

static void svm_get_sregs(struct vcpu *v, struct vcpu_sregs *s)
{
	struct vmcb *c = vmcb_of(v);
	const struct vmcb_seg *segs[VSEG_COUNT] = {&c->es, &c->cs, &c->ss, &c->ds,
						   &c->fs, &c->gs, &c->tr, &c->ldtr};

	for (int i = 0; i < VSEG_COUNT; i++)
		s->seg[i] = from_vmcb(segs[i]);
	s->gdt_base = c->gdtr.base;
	s->gdt_limit = c->gdtr.limit;
	s->idt_base = c->idtr.base;
	s->idt_limit = c->idtr.limit;
	s->cr0 = c->cr0;
	s->cr2 = c->cr2;
	s->cr3 = c->cr3;
	s->cr4 = c->cr4;
	s->efer = c->efer & ~EFER_SVME;
}

static void svm_set_efer(struct vcpu *v, uint64_t efer)
{
	vmcb_of(v)->efer = efer | EFER_SVME;
}

/* SVM intercepts no CR write, so this runs only if a future intercept asks
 * for it; it does what the CPU does on MOV to CR0/CR4. */
static void svm_set_cr(struct vcpu *v, unsigned cr, uint64_t val)
{
	struct vmcb *c = vmcb_of(v);

	if (cr == 4) {
		c->cr4 = val;
		return;
	}
	c->cr0 = val;
	if ((val & CR0_PG) && (c->efer & EFER_LME))
		c->efer |= EFER_LMA;
	else if (!(val & CR0_PG))
		c->efer &= ~EFER_LMA;
	c->tlb_control = TLB_CONTROL_FLUSH_ALL;
}

static uint64_t *hw_msr(struct vmcb *c, uint32_t index)
{
	switch (index) {
	case MSR_STAR:
		return &c->star;
	case MSR_LSTAR:
		return &c->lstar;
	case MSR_CSTAR:
		return &c->cstar;
	case MSR_SFMASK:
		return &c->sfmask;
	case MSR_FS_BASE:
		return &c->fs.base;
	case MSR_GS_BASE:
		return &c->gs.base;
	case MSR_KERNEL_GS_BASE:
		return &c->kernel_gs_base;
	case MSR_SYSENTER_CS:
		return &c->sysenter_cs;
	case MSR_SYSENTER_ESP:
		return &c->sysenter_esp;
	case MSR_SYSENTER_EIP:
		return &c->sysenter_eip;
	case MSR_PAT:
		return &c->g_pat;
	}
	return NULL;
}

static bool svm_get_msr(struct vcpu *v, uint32_t index, uint64_t *val)
{
	uint64_t *p = hw_msr(vmcb_of(v), index);

	if (!p)
		return false;
	*val = *p;
	return true;
}

/* PAT: every byte a valid memory type (SDM vol. 3 11.12.2), else #GP. */
static bool pat_ok(uint64_t val)
{
	for (int i = 0; i < 8; i++) {
		unsigned type = (val >> (8 * i)) & 0xFF;
		if (type > 7 || !((PAT_TYPE_VALID_MASK >> type) & 1))
			return false;
	}
	return true;
}

static bool svm_set_msr(struct vcpu *v, uint32_t index, uint64_t val)
{
	uint64_t *p = hw_msr(vmcb_of(v), index);

	if (!p || (index == MSR_PAT && !pat_ok(val)))
		return false;
	*p = val;
	return true;
}

/* ---- vCPU lifetime ---- */

static void set_intercepts(struct vmcb *c)
{
	c->intercept3 = ICPT3_INTR | ICPT3_NMI | ICPT3_CPUID | ICPT3_INVD | ICPT3_HLT |
			ICPT3_INVLPGA | ICPT3_IOIO_PROT | ICPT3_MSR_PROT | ICPT3_SHUTDOWN;
	c->intercept4 = ICPT4_VMRUN | ICPT4_VMMCALL | ICPT4_VMLOAD | ICPT4_VMSAVE | ICPT4_STGI |
			ICPT4_CLGI | ICPT4_SKINIT | ICPT4_WBINVD | ICPT4_MONITOR | ICPT4_MWAIT |
			ICPT4_MWAIT_COND | ICPT4_XSETBV | ICPT4_RDPRU;
	/* SVM instructions check rAX before their intercept (APM vol. 3,
	 * VMRUN/VMLOAD/VMSAVE exceptions), so a guest can see #GP where a CPU
	 * without SVM gives #UD: #GP exits, and the dispatcher sorts it out. */
	c->exceptions = 1u << SVM_VEC_GP;
	c->iopm_pa = iopm_pa;
	c->msrpm_pa = msrpm_pa;
	c->int_ctl = INTCTL_V_INTR_MASKING;
	c->np_ctl = NP_ENABLE;
}

static status_t svm_vcpu_create(struct vcpu *v, const struct vcpu_sregs *s)
{
	uint64_t pa;
	status_t st = make_bitmaps();

	if (st == ST_OK)
		st = kmem_alloc_frames(1, &pa);
	if (st != ST_OK)
		return st;
	v->hw = phys_to_virt(pa);
	v->hw_pa = pa;
	set_intercepts(v->hw);
	vmcb_of(v)->n_cr3 = gram_root(&v->vm->ram);
	svm_set_sregs(v, s);
	return ST_OK;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	if (!v->hw)
		return;
	kmem_free_frames(kernel_virt_to_phys(v->hw), 1);
	v->hw = NULL;
}

/* ---- entry ---- */

static uint64_t event_bits(const struct guest_event *ev)
{
	static const uint32_t types[] = {
	    [GEV_EXTINT] = EVT_TYPE_INTR,
	    [GEV_NMI] = EVT_TYPE_NMI,
	    [GEV_EXCEPTION] = EVT_TYPE_EXCEPTION,
	    [GEV_SOFTINT] = EVT_TYPE_SOFTINT,
	};
	uint64_t e = EVT_VALID | (types[ev->type] << EVT_TYPE_SHIFT) | ev->vector;

	if (ev->has_error)
		e |= EVT_ERROR_VALID | ((uint64_t)ev->error << 32);
	return e;
}

static void load_events(struct vcpu *v, struct vmcb *c)
{
	c->event_inj = 0;
	if (v->inject.type != GEV_NONE) {
		c->event_inj = event_bits(&v->inject);
		if (v->inject.set_cr2)
			c->cr2 = v->inject.cr2;
		v->inject.type = GEV_NONE;
	}
	/* A virtual interrupt the guest never takes: when it could, the VINTR
	 * intercept fires first, and Keel injects the real one. */
	c->int_ctl &= ~(INTCTL_V_IRQ | INTCTL_V_IGN_TPR);
	c->intercept3 &= ~ICPT3_VINTR;
	c->cr_write &= (uint16_t)~CR8_BIT;
	if (v->want_irq_window) {
		c->int_ctl |= INTCTL_V_IRQ | INTCTL_V_IGN_TPR;
		c->intercept3 |= ICPT3_VINTR;
	}
	/* A guest lowering CR8 below a waiting interrupt must get it at once,
	 * so CR8 writes exit while one waits (V_INTR_PRIO could say it too,
	 * but QEMU's TCG compares it with >= where the APM says >). They also
	 * exit while V_IRQ is set: QEMU 7.2 asserts (aborting the emulator)
	 * when a CR8 write finds a virtual interrupt it can take. */
	if (v->want_irq_window || v->tpr_window)
		c->cr_write |= CR8_BIT;
}

static void load_regs(struct vcpu *v, struct vmcb *c)
{
	c->rax = v->regs.gpr[GPR_RAX];
	c->rsp = v->regs.gpr[GPR_RSP];
	c->rip = v->regs.rip;
	c->rflags = v->regs.rflags;
	c->int_state = v->ctl.intr_shadow ? INTSTATE_SHADOW : 0;
	c->int_ctl = (c->int_ctl & ~INTCTL_V_TPR_MASK) | v->ctl.cr8;
}

static enum insn_mode cs_mode(const struct vmcb *c)
{
	if (!(c->cr0 & CR0_PE))
		return INSN_MODE_16;
	if ((c->efer & EFER_LMA) && (c->cs.attr & VSEG_L))
		return INSN_MODE_64;
	return (c->cs.attr & VSEG_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

static void save_regs(struct vcpu *v, const struct vmcb *c)
{
	v->regs.gpr[GPR_RAX] = c->rax;
	v->regs.gpr[GPR_RSP] = c->rsp;
	v->regs.rip = c->rip;
	v->regs.rflags = c->rflags;
	v->ctl.cr0 = c->cr0;
	v->ctl.cr3 = c->cr3;
	v->ctl.cr4 = c->cr4;
	v->ctl.efer = c->efer & ~EFER_SVME;
	v->ctl.cs_base = c->cs.base;
	v->ctl.mode = cs_mode(c);
	v->ctl.cpl = c->cpl;
	v->ctl.intr_shadow = c->int_state & INTSTATE_SHADOW;
	v->ctl.cr8 = (uint8_t)(c->int_ctl & INTCTL_V_TPR_MASK);
}

/* ---- exit decoding ---- */

static struct guest_event from_exitintinfo(uint64_t info)
{
	static const enum guest_event_type types[8] = {
	    [EVT_TYPE_INTR] = GEV_EXTINT,
	    [EVT_TYPE_NMI] = GEV_NMI,
	    [EVT_TYPE_EXCEPTION] = GEV_EXCEPTION,
	    [EVT_TYPE_SOFTINT] = GEV_SOFTINT,
	};
	struct guest_event ev = {0};

	if (!(info & EVT_VALID))
		return ev;
	ev.type = types[(info & EVT_TYPE_MASK) >> EVT_TYPE_SHIFT];
	ev.vector = (uint8_t)(info & EVT_VECTOR_MASK);
	ev.has_error = info & EVT_ERROR_VALID;
	ev.error = (uint32_t)(info >> 32);
	return ev;
}

static void decode_io(struct vm_exit *e, uint64_t info1, uint64_t info2)
{
	e->reason = VMEXIT_IO;
	e->io.port = (uint16_t)(info1 >> IOIO_PORT_SHIFT);
	e->io.size = (info1 & IOIO_SZ32) ? 4 : (info1 & IOIO_SZ16) ? 2 : 1;
	e->io.in = info1 & IOIO_IN;
	e->io.string = info1 & IOIO_STR;
	e->io.rep = info1 & IOIO_REP;
	e->next_rip_known = true; /* EXITINFO2 holds it, with or without NRIPS */
	e->next_rip = info2;
	e->insn = INSN_EXIT_IN_OUT;
}

/* Without decode assists (QEMU's TCG) EXITINFO1 is 0: common code decodes
 * the instruction for its register and length. */
static void decode_cr8_write(struct vm_exit *e, const struct vmcb *c)
{
	e->reason = VMEXIT_CR_ACCESS;
	e->cr.cr = 8;
	e->cr.write = true;
	e->cr.gpr = VMEXIT_GPR_UNKNOWN;
	if (c->exit_info1 & CRX_MOV) {
		e->cr.gpr = (uint8_t)(c->exit_info1 & CRX_GPR_MASK);
		e->next_rip_known = svm_has_nrips();
		e->next_rip = c->next_rip;
	}
}

static void decode_npf(struct vm_exit *e, uint64_t info1, uint64_t info2)
{
	e->reason = VMEXIT_MMIO;
	e->mmio.gpa = info2;
	e->mmio.write = info1 & NPF_WRITE;
	e->mmio.fetch = info1 & NPF_FETCH;
	e->mmio.walk = info1 & NPF_WALK;
}

struct insn_exit {
	uint64_t code;
	enum vm_exit_reason reason;
	enum insn_exit_kind insn;
};

/* Exits caused by one instruction, whose length NRIP gives when present. */
static const struct insn_exit insn_exits[] = {
    {SVM_EXIT_CPUID, VMEXIT_CPUID, INSN_EXIT_CPUID},
    {SVM_EXIT_HLT, VMEXIT_HLT, INSN_EXIT_HLT},
    {SVM_EXIT_VMMCALL, VMEXIT_HYPERCALL, INSN_EXIT_VMMCALL},
    {SVM_EXIT_XSETBV, VMEXIT_XSETBV, INSN_EXIT_XSETBV},
    {SVM_EXIT_INVD, VMEXIT_NOP, INSN_EXIT_INVD},
    {SVM_EXIT_WBINVD, VMEXIT_NOP, INSN_EXIT_WBINVD},
    {SVM_EXIT_VMRUN, VMEXIT_UD, INSN_EXIT_VMRUN},
    {SVM_EXIT_VMLOAD, VMEXIT_UD, INSN_EXIT_VMLOAD},
    {SVM_EXIT_VMSAVE, VMEXIT_UD, INSN_EXIT_VMSAVE},
    {SVM_EXIT_STGI, VMEXIT_UD, INSN_EXIT_STGI},
    {SVM_EXIT_CLGI, VMEXIT_UD, INSN_EXIT_CLGI},
    {SVM_EXIT_SKINIT, VMEXIT_UD, INSN_EXIT_SKINIT},
    {SVM_EXIT_INVLPGA, VMEXIT_UD, INSN_EXIT_INVLPGA},
    {SVM_EXIT_MONITOR, VMEXIT_UD, INSN_EXIT_MONITOR},
    {SVM_EXIT_MWAIT, VMEXIT_UD, INSN_EXIT_MWAIT},
    {SVM_EXIT_MWAIT_COND, VMEXIT_UD, INSN_EXIT_MWAIT},
    {SVM_EXIT_RDPRU, VMEXIT_UD, INSN_EXIT_RDTSCP},
};

static bool decode_insn_exit(struct vm_exit *e, const struct vmcb *c)
{
	for (size_t i = 0; i < sizeof(insn_exits) / sizeof(insn_exits[0]); i++) {
		if (insn_exits[i].code != c->exit_code)
			continue;
		e->reason = insn_exits[i].reason;
		e->insn = insn_exits[i].insn;
		e->next_rip_known = svm_has_nrips();
		e->next_rip = c->next_rip;
		return true;
	}
	return false;
}

static void decode_exit(struct vcpu *v, const struct vmcb *c, struct vm_exit *e)
{
	e->hw_code = c->exit_code;
	e->hw_info1 = c->exit_info1;
	e->hw_info2 = c->exit_info2;
	e->vectoring = from_exitintinfo(c->exit_int_info);
	e->next_rip_known = false;
	switch (c->exit_code) {
	case SVM_EXIT_INTR:
		e->reason = VMEXIT_EXTINT;
		return;
	case SVM_EXIT_NMI:
		e->reason = VMEXIT_NMI;
		return;
	case SVM_EXIT_VINTR:
		e->reason = VMEXIT_IRQ_WINDOW;
		return;
	case SVM_EXIT_SHUTDOWN:
		e->reason = VMEXIT_SHUTDOWN;
		return;
	case SVM_EXIT_IOIO:
		decode_io(e, c->exit_info1, c->exit_info2);
		return;
	case SVM_EXIT_MSR:
		e->reason = c->exit_info1 ? VMEXIT_MSR_WRITE : VMEXIT_MSR_READ;
		e->insn = c->exit_info1 ? INSN_EXIT_WRMSR : INSN_EXIT_RDMSR;
		e->msr.index = (uint32_t)v->regs.gpr[GPR_RCX];
		e->next_rip_known = svm_has_nrips();
		e->next_rip = c->next_rip;
		return;
	case SVM_EXIT_NPF:
		decode_npf(e, c->exit_info1, c->exit_info2);
		return;
	case SVM_EXIT_WRITE_CR8:
		decode_cr8_write(e, c);
		return;
	case SVM_EXIT_INVALID:
		e->reason = VMEXIT_INVALID_STATE;
		e->detail[0] = '\0'; /* VMRUN names no field; the exit code is shown */
		return;
	case SVM_EXIT_EXCP_BASE + SVM_VEC_GP:
		e->reason = VMEXIT_EXCEPTION;
		e->exc = (struct guest_event){.type = GEV_EXCEPTION,
					      .vector = SVM_VEC_GP,
					      .has_error = true,
					      .error = (uint32_t)c->exit_info1};
		return;
	}
	if (!decode_insn_exit(e, c))
		e->reason = VMEXIT_UNKNOWN;
}

static void svm_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmcb *c = vmcb_of(v);
	unsigned cpu = this_cpu();

	if (!asid_current(&cpus[cpu].asid, (int)cpu, &v->asid)) {
		if (asid_assign(&cpus[cpu].asid, (int)cpu, &v->asid))
			c->tlb_control = TLB_CONTROL_FLUSH_ALL;
		c->asid = v->asid.asid;
	}
	load_regs(v, c);
	load_events(v, c);
	svm_enter(v->hw_pa, v->regs.gpr, cpus[cpu].host_save_pa);
	c->tlb_control = TLB_CONTROL_NONE; /* a flush is asked for once */
	save_regs(v, c);
	decode_exit(v, c, e);
}

const struct virt_ops svm_ops = {
    .name = "AMD SVM",
    .probe = svm_probe,
    .describe = svm_describe,
    .enable_cpu = svm_enable_cpu,
    .npt_format = &pt_x86_format_2m,
    /* Nested tables treat every guest access as a user access. */
    .npt_ram_prot = PT_R | PT_W | PT_X | PT_USER,
    .vcpu_bytes = PAGE_SIZE, /* the VMCB; the bitmaps are shared */
    .vcpu_create = svm_vcpu_create,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_run = svm_vcpu_run,
    .get_sregs = svm_get_sregs,
    .set_sregs = svm_set_sregs,
    .set_efer = svm_set_efer,
    .set_cr = svm_set_cr,
    .get_msr = svm_get_msr,
    .set_msr = svm_set_msr,
    .pio_passthrough = svm_pio_passthrough,
};
