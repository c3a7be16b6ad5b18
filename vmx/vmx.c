/* The VT-x backend's vCPUs: VMCS set-up from the resolved controls, the run
 * call, and exit decoding into struct vm_exit (Intel SDM vol. 3 chapters
 * 24-29). A VMCS is loaded (VMPTRLD) on the CPU that runs its vCPU for a
 * slice and cleared (VMCLEAR) when the slice ends, so a vCPU can move to any
 * CPU: each load rewrites the host state that differs between CPUs. */
#include "vmx/vmx.h"

#include "core/fmt.h"
#include "core/printk.h"
#include "cpu/cpu.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "mm/kmem.h"
#include "vm/msr_policy.h"
#include "vm/vm.h"
#include "vmx/ept.h"
#include "vmx/vmx_diag.h"
#include "vmx/vmx_exit.h"
#include "vmx/vmx_hw.h"

#define IO_BITMAP_PAGES 2
#define MSR_BITMAP_BYTES 4096u
#define MSR_LOW_LAST 0x1FFFu
#define MSR_HIGH_FIRST 0xC0000000u
#define MSR_HIGH_LAST 0xC0001FFFu
#define MSRBM_READ_LOW 0u
#define MSRBM_READ_HIGH 1024u
#define MSRBM_WRITE_LOW 2048u
#define MSRBM_WRITE_HIGH 3072u
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
#define GUEST_PAT 0x0007040600070406ull
#define DR7_RESET 0x400ull
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR3_PAE_PDPT 0xFFFFFFE0ull
#define PAT_TYPE_VALID_MASK 0xF3u
#define TSS_DESC_BASE_LO_SHIFT 16
#define LOW32 0xFFFFFFFFull

extern char vmx_exit_entry[];

/* The MSRs VMX does not switch and Keel itself never uses: the guest's
 * values stay in the CPU for a whole slice. */
static const uint32_t swapped_msrs[] = {MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
					MSR_SFMASK};
#define NSWAPPED (sizeof(swapped_msrs) / sizeof(swapped_msrs[0]))

struct vmx_vcpu {
	uint64_t vmcs_pa;
	bool launched;
	int loaded_on; /* CPU whose current VMCS this is, or -1 */
	uint32_t proc; /* primary controls without the toggled bits */
	uint64_t cr0_mask, cr4_mask;
	uint64_t msr[NSWAPPED];
	uint64_t cr2;
	struct asid_vcpu vpid;
	uint64_t eptp;
};

static uint64_t io_bitmaps_pa, msr_bitmap_pa;

static struct vmx_vcpu *vx(const struct vcpu *v)
{
	return v->hw;
}

/* ---- bitmaps, shared by every vCPU ---- */

static void msrbm_clear(uint8_t *bm, uint32_t msr)
{
	uint32_t read, write, n;

	if (msr <= MSR_LOW_LAST) {
		read = MSRBM_READ_LOW, write = MSRBM_WRITE_LOW, n = msr;
	} else if (msr >= MSR_HIGH_FIRST && msr <= MSR_HIGH_LAST) {
		read = MSRBM_READ_HIGH, write = MSRBM_WRITE_HIGH, n = msr - MSR_HIGH_FIRST;
	} else {
		return; /* outside the bitmap: always exits */
	}
	bm[read + n / 8] &= (uint8_t) ~(1u << (n % 8));
	bm[write + n / 8] &= (uint8_t) ~(1u << (n % 8));
}

/* The guest owns these in the VMCS or (the swapped ones) in the CPU for
 * its slice; PAT stays intercepted so a bad memory type #GPs. */
static void pass_msr(void *ctx, uint32_t msr)
{
	if (msr != MSR_PAT)
		msrbm_clear(ctx, msr);
}

static status_t make_bitmaps(void)
{
	status_t st;

	if (io_bitmaps_pa)
		return ST_OK;
	st = kmem_alloc_frames(IO_BITMAP_PAGES, &io_bitmaps_pa);
	if (st == ST_OK)
		st = kmem_alloc_frames(1, &msr_bitmap_pa);
	if (st != ST_OK)
		return st;
	memset(phys_to_virt(io_bitmaps_pa), 0xFF, IO_BITMAP_PAGES * PAGE_SIZE);
	memset(phys_to_virt(msr_bitmap_pa), 0xFF, MSR_BITMAP_BYTES);
	msr_foreach(MSR_KIND_HW, pass_msr, phys_to_virt(msr_bitmap_pa));
	return ST_OK;
}

/* Bitmap A covers ports 0-0x7FFF and B the rest, a bit per port, so one
 * bit index into both pages in a row (SDM 25.6.4). */
static status_t vmx_pio_passthrough(uint16_t port, uint16_t len)
{
	status_t st = make_bitmaps();
	uint8_t *bm = phys_to_virt(io_bitmaps_pa);

	if (st != ST_OK)
		return st;
	for (uint32_t p = port; p < (uint32_t)port + len && p <= 0xFFFF; p++)
		bm[p / 8] &= (uint8_t) ~(1u << (p % 8));
	return ST_OK;
}

/* ---- VMCS access from outside a slice ---- */

/* Makes v's VMCS current on this CPU; returns whether it had to (then the
 * caller clears it again with vmcs_release). */
static bool vmcs_acquire(struct vcpu *v)
{
	struct vmx_vcpu *h = vx(v);

	if (h->loaded_on == (int)this_cpu())
		return false;
	if (!vmptrld(h->vmcs_pa))
		panic("vmx: VMPTRLD of vCPU %u's VMCS failed", v->id);
	return true;
}

static void vmcs_release(struct vcpu *v, bool acquired)
{
	if (acquired && !vmclear(vx(v)->vmcs_pa))
		panic("vmx: VMCLEAR of vCPU %u's VMCS failed", v->id);
}

/* ---- guest state ---- */

static const uint32_t seg_sel[VSEG_COUNT] = {
    VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
    VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL, VMCS_GUEST_TR_SEL, VMCS_GUEST_LDTR_SEL};
static const uint32_t seg_limit[VSEG_COUNT] = {
    VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
    VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_LDTR_LIMIT};
static const uint32_t seg_ar[VSEG_COUNT] = {VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR,	 VMCS_GUEST_SS_AR,
					    VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR,	 VMCS_GUEST_GS_AR,
					    VMCS_GUEST_TR_AR, VMCS_GUEST_LDTR_AR};
static const uint32_t seg_base[VSEG_COUNT] = {
    VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
    VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_TR_BASE, VMCS_GUEST_LDTR_BASE};

/* What the guest reads: owned bits from the shadow, the rest live. */
static uint64_t guest_view(uint64_t real, uint64_t shadow, uint64_t mask)
{
	return (real & ~mask) | (shadow & mask);
}

/* With EPT, VM entry loads the PAE PDPTEs from the VMCS; after a CR write
 * Keel emulated, they must be read from guest memory as the CPU would. */
static void load_pdptes(struct vcpu *v, uint64_t cr3)
{
	uint64_t pdpte[4] = {0};

	(void)gram_read(&v->vm->ram, cr3 & CR3_PAE_PDPT, pdpte, sizeof(pdpte));
	vmwrite(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmwrite(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmwrite(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmwrite(VMCS_GUEST_PDPTE3, pdpte[3]);
}

/* EFER.LMA and the "IA-32e mode guest" entry control must agree. The
 * control is read back from the VMCS, never from a copy: a VM exit stores
 * the guest's LMA into it. */
static void set_lma(uint64_t efer)
{
	uint64_t entry = vmread(VMCS_ENTRY_CTLS);

	vmwrite(VMCS_GUEST_EFER, efer);
	if (efer & EFER_LMA)
		entry |= VMX_ENTRY_CTL_IA32E_GUEST;
	else
		entry &= ~(uint64_t)VMX_ENTRY_CTL_IA32E_GUEST;
	vmwrite(VMCS_ENTRY_CTLS, entry);
}

static void write_crs(struct vcpu *v, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	vmwrite(VMCS_CR0_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, vmx_cr0_apply_fixed(&vmx_msrs, cr0, true));
	vmwrite(VMCS_CR4_SHADOW, cr4);
	vmwrite(VMCS_GUEST_CR4, vmx_cr4_apply_fixed(&vmx_msrs, cr4));
	vmwrite(VMCS_GUEST_CR3, cr3);
	set_lma(efer);
	if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA))
		load_pdptes(v, cr3);
}

static void vmx_set_sregs(struct vcpu *v, const struct vcpu_sregs *s)
{
	bool acquired = vmcs_acquire(v);

	for (int i = 0; i < VSEG_COUNT; i++) {
		vmwrite(seg_sel[i], s->seg[i].sel);
		vmwrite(seg_limit[i], s->seg[i].limit);
		vmwrite(seg_ar[i], vmx_ar_from_attr(s->seg[i].attr));
		vmwrite(seg_base[i], s->seg[i].base);
	}
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdt_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdt_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, s->idt_base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, s->idt_limit);
	write_crs(v, s->cr0, s->cr3, s->cr4, s->efer);
	vmwrite(VMCS_GUEST_DR7, DR7_RESET);
	vmwrite(VMCS_GUEST_PAT, GUEST_PAT);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_ACTIVE);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vx(v)->cr2 = s->cr2;
	memset(vx(v)->msr, 0, sizeof(vx(v)->msr));
	vmcs_release(v, acquired);
}

static void vmx_get_sregs(struct vcpu *v, struct vcpu_sregs *s)
{
	struct vmx_vcpu *h = vx(v);
	bool acquired = vmcs_acquire(v);

	for (int i = 0; i < VSEG_COUNT; i++) {
		s->seg[i].sel = (uint16_t)vmread(seg_sel[i]);
		s->seg[i].limit = (uint32_t)vmread(seg_limit[i]);
		s->seg[i].attr = vmx_attr_from_ar((uint32_t)vmread(seg_ar[i]));
		s->seg[i].base = vmread(seg_base[i]);
	}
	s->gdt_base = vmread(VMCS_GUEST_GDTR_BASE);
	s->gdt_limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT);
	s->idt_base = vmread(VMCS_GUEST_IDTR_BASE);
	s->idt_limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT);
	s->cr0 = guest_view(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_SHADOW), h->cr0_mask);
	s->cr3 = vmread(VMCS_GUEST_CR3);
	s->cr4 = guest_view(vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_SHADOW), h->cr4_mask);
	s->efer = vmread(VMCS_GUEST_EFER);
	s->cr2 = h->cr2;
	vmcs_release(v, acquired);
}

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
	(void)v; /* its VMCS is the current one: this runs inside its slice */
	set_lma(efer);
}

/* A MOV to CR0/CR4 that touched a bit Keel owns (CR0.NE, CR4.VMXE and
 * anything the CPU's fixed bits force): do what the CPU would. */
static void vmx_set_cr(struct vcpu *v, unsigned cr, uint64_t val)
{
	uint64_t cr0 = cr == 0 ? val : v->ctl.cr0, cr4 = cr == 4 ? val : v->ctl.cr4;
	uint64_t efer = vmread(VMCS_GUEST_EFER);

	if ((cr0 & CR0_PG) && (efer & EFER_LME))
		efer |= EFER_LMA;
	else if (!(cr0 & CR0_PG))
		efer &= ~EFER_LMA;
	write_crs(v, cr0, vmread(VMCS_GUEST_CR3), cr4, efer);
	if (vmx_feat.vpid && vmx_feat.invvpid_single)
		invvpid(VMX_INVVPID_SINGLE, (uint16_t)vx(v)->vpid.asid);
}

static bool pat_ok(uint64_t val)
{
	for (int i = 0; i < 8; i++) {
		unsigned type = (val >> (8 * i)) & 0xFF;
		if (type > 7 || !((PAT_TYPE_VALID_MASK >> type) & 1))
			return false;
	}
	return true;
}

static int vmcs_msr_field(uint32_t index)
{
	switch (index) {
	case MSR_FS_BASE:
		return VMCS_GUEST_FS_BASE;
	case MSR_GS_BASE:
		return VMCS_GUEST_GS_BASE;
	case MSR_SYSENTER_CS:
		return VMCS_GUEST_SYSENTER_CS;
	case MSR_SYSENTER_ESP:
		return VMCS_GUEST_SYSENTER_ESP;
	case MSR_SYSENTER_EIP:
		return VMCS_GUEST_SYSENTER_EIP;
	case MSR_PAT:
		return VMCS_GUEST_PAT;
	}
	return -1;
}

static bool is_swapped(uint32_t index)
{
	for (size_t i = 0; i < NSWAPPED; i++)
		if (swapped_msrs[i] == index)
			return true;
	return false;
}

/* Called during a slice: the VMCS is current and the swapped MSRs hold
 * the guest's values in the CPU. */
static bool vmx_get_msr(struct vcpu *v, uint32_t index, uint64_t *val)
{
	int f = vmcs_msr_field(index);

	(void)v;
	if (f >= 0)
		*val = vmread((uint64_t)f);
	else if (is_swapped(index))
		*val = rdmsr(index);
	else
		return false;
	return true;
}

static bool vmx_set_msr(struct vcpu *v, uint32_t index, uint64_t val)
{
	int f = vmcs_msr_field(index);

	(void)v;
	if (index == MSR_PAT && !pat_ok(val))
		return false;
	if (f >= 0)
		vmwrite((uint64_t)f, val);
	else if (is_swapped(index))
		wrmsr(index, val);
	else
		return false;
	return true;
}

/* ---- VMCS set-up ---- */

static void write_controls(struct vcpu *v)
{
	struct vmx_vcpu *h = vx(v);

	h->proc = vmx_ctls.proc;
	vmwrite(VMCS_PIN_CTLS, vmx_ctls.pin);
	vmwrite(VMCS_PROC_CTLS, h->proc);
	vmwrite(VMCS_PROC2_CTLS, vmx_ctls.proc2);
	vmwrite(VMCS_EXIT_CTLS, vmx_ctls.exit);
	vmwrite(VMCS_ENTRY_CTLS, vmx_ctls.entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_IO_BITMAP_A, io_bitmaps_pa);
	vmwrite(VMCS_IO_BITMAP_B, io_bitmaps_pa + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, msr_bitmap_pa);
	vmwrite(VMCS_EPTP, h->eptp);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_TSC_OFFSET, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	/* Owned CR bits: those VMX operation fixes (CR0.NE, CR4.VMXE) and
	 * those the CPU cannot hold, so a guest write to them exits. */
	h->cr0_mask = (vmx_msrs.cr0_fixed0 | ~vmx_msrs.cr0_fixed1) & LOW32 & ~(CR0_PE | CR0_PG);
	h->cr4_mask = vmx_msrs.cr4_fixed0 | ~vmx_msrs.cr4_fixed1;
	vmwrite(VMCS_CR0_MASK, h->cr0_mask);
	vmwrite(VMCS_CR4_MASK, h->cr4_mask);
}

static inline uint64_t read_cr(int n)
{
	uint64_t v = 0;

	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else if (n == 3)
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	else
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* The base of the TSS whose descriptor TR selects in this CPU's GDT. */
static uint64_t tss_base(uint64_t gdt)
{
	const uint8_t *d = (const uint8_t *)(gdt + GDT_TSS);
	uint64_t base = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16;

	base |= (uint64_t)d[7] << 24;
	base |= (uint64_t)(*(const uint32_t *)(d + 8)) << 32;
	return base;
}

/* Host state: what a VM exit loads. Per-CPU parts (tables, GS base) are
 * written at every load on a CPU. */
static void write_host_state(void)
{
	struct dtr gdt, idt;

	__asm__ volatile("sgdt %0" : "=m"(gdt));
	__asm__ volatile("sidt %0" : "=m"(idt));
	vmwrite(VMCS_HOST_CR0, read_cr(0));
	vmwrite(VMCS_HOST_CR3, read_cr(3));
	vmwrite(VMCS_HOST_CR4, read_cr(4));
	vmwrite(VMCS_HOST_CS_SEL, GDT_KCODE);
	vmwrite(VMCS_HOST_SS_SEL, GDT_KDATA);
	vmwrite(VMCS_HOST_DS_SEL, GDT_KDATA);
	vmwrite(VMCS_HOST_ES_SEL, GDT_KDATA);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, GDT_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, tss_base(gdt.base));
	vmwrite(VMCS_HOST_GDTR_BASE, gdt.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idt.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_PAT));
	vmwrite(VMCS_HOST_RIP, (uint64_t)vmx_exit_entry);
}

static status_t vmx_vcpu_create(struct vcpu *v, const struct vcpu_sregs *s)
{
	uint64_t pa;
	struct vmx_vcpu *h;
	uint32_t rev = vmx_feat.revision;
	status_t st = make_bitmaps();

	if (st == ST_OK)
		st = kmem_alloc_frames(2, &pa); /* the VMCS, then our state */
	if (st != ST_OK)
		return st;
	h = phys_to_virt(pa + PAGE_SIZE);
	h->vmcs_pa = pa;
	h->loaded_on = -1;
	h->vpid.cpu = -1;
	st = ept_make_eptp(gram_root(&v->vm->ram), false, &h->eptp);
	if (st != ST_OK) {
		kmem_free_frames(pa, 2);
		return st;
	}
	memcpy(phys_to_virt(pa), &rev, sizeof(rev));
	v->hw = h;
	v->hw_pa = pa;
	if (!vmclear(pa) || !vmptrld(pa))
		panic("vmx: a fresh VMCS could not be loaded");
	write_controls(v);
	write_host_state();
	vmcs_release(v, true);
	vmx_set_sregs(v, s);
	return ST_OK;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	if (!v->hw)
		return;
	kmem_free_frames(vx(v)->vmcs_pa, 2);
	v->hw = NULL;
}

/* ---- slices ---- */

static void vmx_vcpu_load(struct vcpu *v)
{
	struct vmx_vcpu *h = vx(v);
	struct vmx_cpu *c = vmx_this_cpu();
	int cpu = (int)this_cpu();

	if (!vmptrld(h->vmcs_pa))
		panic("vmx: VMPTRLD of vCPU %u's VMCS failed", v->id);
	h->loaded_on = cpu;
	h->launched = false;
	write_host_state();
	if (!asid_current(&c->vpid, cpu, &h->vpid)) {
		if (asid_assign(&c->vpid, cpu, &h->vpid) && vmx_feat.invvpid_all)
			invvpid(VMX_INVVPID_ALL, 0);
		vmwrite(VMCS_VPID, h->vpid.asid);
	}
	/* The tables may have been another VM's at this address before. */
	invept(vmx_feat.invept_single ? VMX_INVEPT_SINGLE : VMX_INVEPT_ALL, h->eptp);
	for (size_t i = 0; i < NSWAPPED; i++)
		wrmsr(swapped_msrs[i], h->msr[i]);
	__asm__ volatile("mov %0, %%cr2" ::"r"(h->cr2));
}

static void vmx_vcpu_put(struct vcpu *v)
{
	struct vmx_vcpu *h = vx(v);

	for (size_t i = 0; i < NSWAPPED; i++)
		h->msr[i] = rdmsr(swapped_msrs[i]);
	__asm__ volatile("mov %%cr2, %0" : "=r"(h->cr2));
	vmcs_release(v, true);
	h->loaded_on = -1;
	h->launched = false;
}

/* ---- entry ---- */

static void load_events(struct vcpu *v)
{
	struct vmx_vcpu *h = vx(v);
	uint32_t proc = h->proc | (v->want_irq_window ? VMX_PROC_INTR_WINDOW_EXITING : 0);
	const struct guest_event *ev = &v->inject;
	uint32_t info;

	vmwrite(VMCS_PROC_CTLS, proc);
	if (ev->type == GEV_NONE)
		return;
	info = VMX_INTR_VALID | (vmx_intr_type(ev->type) << VMX_INTR_TYPE_SHIFT) | ev->vector;
	if (ev->has_error) {
		info |= VMX_INTR_ERROR_VALID;
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, ev->error);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	vmwrite(VMCS_ENTRY_INSN_LEN, ev->insn_len);
	if (ev->set_cr2)
		__asm__ volatile("mov %0, %%cr2" ::"r"(ev->cr2));
	v->inject.type = GEV_NONE;
}

static void load_regs(struct vcpu *v)
{
	vmwrite(VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
	if (!v->ctl.intr_shadow) {
		uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
		if (intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS))
			vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
				intr & ~(uint64_t)(VMX_INTERRUPTIBILITY_STI |
						   VMX_INTERRUPTIBILITY_MOV_SS));
	}
}

static enum insn_mode cs_mode(uint64_t cr0, uint64_t efer, uint32_t cs_ar)
{
	if (!(cr0 & CR0_PE))
		return INSN_MODE_16;
	if ((efer & EFER_LMA) && (cs_ar & VMX_AR_L))
		return INSN_MODE_64;
	return (cs_ar & VMX_AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

static void save_regs(struct vcpu *v)
{
	struct vmx_vcpu *h = vx(v);
	uint64_t cr0 = vmread(VMCS_GUEST_CR0);

	v->regs.gpr[GPR_RSP] = vmread(VMCS_GUEST_RSP);
	v->regs.rip = vmread(VMCS_GUEST_RIP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
	v->ctl.cr0 = guest_view(cr0, vmread(VMCS_CR0_SHADOW), h->cr0_mask);
	v->ctl.cr3 = vmread(VMCS_GUEST_CR3);
	v->ctl.cr4 = guest_view(vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_SHADOW), h->cr4_mask);
	v->ctl.efer = vmread(VMCS_GUEST_EFER);
	v->ctl.cs_base = vmread(VMCS_GUEST_CS_BASE);
	v->ctl.mode = cs_mode(cr0, v->ctl.efer, (uint32_t)vmread(VMCS_GUEST_CS_AR));
	v->ctl.cpl = (uint8_t)VMX_AR_DPL((uint32_t)vmread(VMCS_GUEST_SS_AR));
	v->ctl.intr_shadow = (vmread(VMCS_GUEST_INTERRUPTIBILITY) &
			      (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)) != 0;
}

static void read_exit(struct vcpu *v, struct vmx_exit_raw *raw)
{
	raw->reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	raw->qual = vmread(VMCS_EXIT_QUAL);
	raw->insn_len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);
	raw->intr_info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	raw->intr_error = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
	raw->idt_info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	raw->idt_error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR);
	raw->gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	raw->rip = v->regs.rip;
	raw->rcx = v->regs.gpr[GPR_RCX];
}

/* Everything the guest-state checker needs, read back from the VMCS. */
static void read_guest_state(struct vcpu *v, struct vmx_guest_state *g)
{
	struct vcpu_sregs s;

	memset(g, 0, sizeof(*g));
	vmx_get_sregs(v, &s);
	vmx_guest_state_from_sregs(g, &s);
	for (int i = 0; i < VSEG_COUNT; i++)
		g->seg[i].ar = (uint32_t)vmread(seg_ar[i]);
	g->cr0 = vmread(VMCS_GUEST_CR0);
	g->cr4 = vmread(VMCS_GUEST_CR4);
	g->dr7 = vmread(VMCS_GUEST_DR7);
	g->pat = vmread(VMCS_GUEST_PAT);
	g->rip = vmread(VMCS_GUEST_RIP);
	g->rflags = vmread(VMCS_GUEST_RFLAGS);
	g->interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	g->activity = (uint32_t)vmread(VMCS_GUEST_ACTIVITY);
	g->pending_dbg = vmread(VMCS_GUEST_PENDING_DBG);
	g->vmcs_link = vmread(VMCS_LINK_POINTER);
	g->pin = (uint32_t)vmread(VMCS_PIN_CTLS);
	g->proc = (uint32_t)vmread(VMCS_PROC_CTLS);
	g->proc2 = (uint32_t)vmread(VMCS_PROC2_CTLS);
	g->entry = (uint32_t)vmread(VMCS_ENTRY_CTLS);
	g->entry_intr_info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO);
	g->cpu = &vmx_msrs;
}

/* VMLAUNCH/VMRESUME refused the VMCS (a VM-instruction error) or VM entry
 * failed on guest state: say which field, not just a number. */
static void explain_failure(struct vcpu *v, struct vm_exit *e, bool insn_failed)
{
	struct vmx_guest_state g;
	uint32_t err;

	if (insn_failed) {
		err = (uint32_t)vmread(VMCS_INSN_ERROR);
		memset(e, 0, sizeof(*e));
		e->reason = VMEXIT_INVALID_STATE;
		e->hw_code = err;
		ksnprintf(e->detail, sizeof(e->detail),
			  "VM entry refused: VM-instruction error %u (%s)", err,
			  vmx_insn_error_str(err));
		return;
	}
	read_guest_state(v, &g);
	vmx_explain_entry_failure((uint32_t)e->hw_code, e->hw_info1, &g, e->detail,
				  sizeof(e->detail));
}

/* The preemption timer counts down every 2^rate TSC ticks in the guest and
 * exits at 0: v->run_until holds even if host interrupts never reach the
 * guest. It gives the guest at least PREEMPT_MIN_TSC: a device deadline
 * that is due again at every entry (the hostile guest's random timer
 * periods made one) would otherwise exit before any guest instruction, a
 * million times over under Bochs. */
#define PREEMPT_MIN_TSC 1000u

static void arm_preemption(const struct vcpu *v)
{
	uint64_t now = rdtsc(), ticks = PREEMPT_MIN_TSC;

	if (!(vmx_ctls.pin & VMX_PIN_PREEMPTION_TIMER))
		return;
	if (v->run_until > now + PREEMPT_MIN_TSC)
		ticks = v->run_until - now;
	ticks >>= vmx_feat.preemption_rate;
	if (!ticks) /* a coarse rate (2^rate > PREEMPT_MIN_TSC): one count */
		ticks = 1;
	vmwrite(VMCS_PREEMPTION_TIMER, ticks > UINT32_MAX ? UINT32_MAX : ticks);
}

static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_vcpu *h = vx(v);
	struct vmx_exit_raw raw;
	int failed;

	load_regs(v);
	load_events(v);
	arm_preemption(v);
	failed = vmx_enter(v->regs.gpr, h->launched); /* IF=0: exits clear it too */
	if (failed) {
		explain_failure(v, e, true);
		return;
	}
	h->launched = true;
	save_regs(v);
	read_exit(v, &raw);
	vmx_decode_exit(&raw, e);
	if (e->reason == VMEXIT_NMI)
		__asm__ volatile("int $2"); /* the NMI was Keel's: run its handler */
	if (e->reason == VMEXIT_INVALID_STATE)
		explain_failure(v, e, false);
}

const struct virt_ops vmx_ops = {
    .name = "Intel VT-x",
    .probe = vmx_probe,
    .describe = vmx_describe,
    .enable_cpu = vmx_enable_cpu,
    .npt_format = &ept_format_2m,
    .npt_ram_prot = PT_R | PT_W | PT_X,
    .vcpu_bytes = 2 * PAGE_SIZE, /* the VMCS and the backend's state */
    .vcpu_create = vmx_vcpu_create,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_run = vmx_vcpu_run,
    .get_sregs = vmx_get_sregs,
    .set_sregs = vmx_set_sregs,
    .set_efer = vmx_set_efer,
    .set_cr = vmx_set_cr,
    .get_msr = vmx_get_msr,
    .set_msr = vmx_set_msr,
    .vcpu_load = vmx_vcpu_load,
    .vcpu_put = vmx_vcpu_put,
    .pio_passthrough = vmx_pio_passthrough,
};
