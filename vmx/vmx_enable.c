/* VT-x: find VMX with EPT and unrestricted guest, and enter VMX operation
 * on every CPU (Intel SDM vol. 3 chapters 24 and 31). Hardware access; the
 * decisions are in vmx_caps.c. */
#include "core/fmt.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "mm/kmem.h"
#include "vmx/vmx.h"
#include "vmx/vmx_hw.h"

#define CPUID1_ECX_VMX (1u << 5)
#define CR4_VMXE (1ull << 13)
#define VPID_FIRST 1 /* VPID 0 is the host's */
#define VPID_LIMIT 0x10000u

struct vmx_msrs vmx_msrs;
struct vmx_features vmx_feat;
struct vmx_ctls vmx_ctls;

static struct vmx_cpu cpus[KEEL_MAX_CPUS];

struct vmx_cpu *vmx_this_cpu(void)
{
	return &cpus[this_cpu()];
}

static uint64_t read_msr(void *ctx, uint32_t msr)
{
	(void)ctx;
	return rdmsr(msr);
}

bool vmx_probe(char *why, size_t len)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_VMX)) {
		ksnprintf(why, len, "the CPU does not offer Intel VT-x");
		return false;
	}
	vmx_msrs_read(&vmx_msrs, read_msr, NULL);
	if (!vmx_usable(&vmx_msrs, why, len))
		return false;
	vmx_features_parse(&vmx_msrs, &vmx_feat);
	if (!vmx_feat.ept_2m) {
		ksnprintf(why, len, "VT-x without 2 MiB EPT pages is not supported");
		return false;
	}
	return vmx_ctls_resolve(&vmx_msrs, &vmx_keel_policy, &vmx_ctls, why, len) == ST_OK;
}

void vmx_describe(char *buf, size_t len)
{
	vmx_features_describe(&vmx_feat, buf, len);
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* Firmware that left the MSR unlocked lets the OS choose; Keel enables
 * VMXON outside SMX and locks it, as the SDM asks (23.7). */
static void feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
}

status_t vmx_enable_cpu(unsigned cpu)
{
	struct vmx_cpu *c = &cpus[cpu];
	status_t st = kmem_alloc_frames(1, &c->vmxon_pa);
	uint32_t rev = vmx_feat.revision;

	if (st != ST_OK)
		return st;
	memcpy(phys_to_virt(c->vmxon_pa), &rev, sizeof(rev));
	feature_control();
	__asm__ volatile("mov %0, %%cr0" ::"r"(vmx_cr0_apply_fixed(&vmx_msrs, read_cr0(), false)));
	__asm__ volatile(
	    "mov %0, %%cr4" ::"r"(vmx_cr4_apply_fixed(&vmx_msrs, read_cr4() | CR4_VMXE)));
	if (!vmxon(c->vmxon_pa))
		return ST_ENOTSUP;
	asid_cpu_init(&c->vpid, VPID_FIRST, vmx_feat.vpid ? VPID_LIMIT : VPID_FIRST + 1);
	return ST_OK;
}
