/* AMD-V: find SVM and nested paging, and switch SVM on per CPU. Hardware
 * access only. Bits from the AMD APM vol. 2, ch. 15 and vol. 3 (CPUID). */
#include "core/fmt.h"
#include "keel/x86.h"
#include "mm/kmem.h"
#include "svm/svm.h"

#define CPUID_EXT_MAX 0x80000000u
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_ECX_SVM (1u << 2)
#define CPUID_SVM_FEATURES 0x8000000Au
#define SVM_EDX_NP (1u << 0)
#define SVM_EDX_NRIPS (1u << 3)
#define SVM_EDX_VMCB_CLEAN (1u << 5)
#define SVM_EDX_FLUSH_BY_ASID (1u << 6)
#define SVM_EDX_DECODE_ASSISTS (1u << 7)
#define MSR_VM_CR 0xC0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xC0010117u
#define EFER_SVME (1ull << 12)

static uint32_t svm_edx, svm_asids;

bool svm_has_nrips(void)
{
	return svm_edx & SVM_EDX_NRIPS;
}

uint32_t svm_asid_count(void)
{
	return svm_asids;
}

bool svm_probe(char *why, size_t len)
{
	uint32_t r[4];

	cpuid(CPUID_EXT_MAX, 0, r);
	uint32_t max_ext = r[0];
	cpuid(CPUID_EXT_FEATURES, 0, r);
	if (max_ext < CPUID_EXT_FEATURES || !(r[2] & CPUID_ECX_SVM)) {
		ksnprintf(why, len, "the CPU does not offer AMD SVM");
		return false;
	}
	if (max_ext < CPUID_SVM_FEATURES) {
		ksnprintf(why, len, "the CPU has no SVM feature leaf (0x8000000A)");
		return false;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		ksnprintf(why, len,
			  "SVM is disabled by the firmware (VM_CR.SVMDIS); "
			  "enable virtualization in the BIOS setup");
		return false;
	}
	cpuid(CPUID_SVM_FEATURES, 0, r);
	svm_asids = r[1];
	svm_edx = r[3];
	if (!(svm_edx & SVM_EDX_NP)) {
		ksnprintf(why, len, "SVM without nested paging (NPT) is not supported");
		return false;
	}
	return true;
}

static const char *yes_no(uint32_t bit)
{
	return (svm_edx & bit) ? "yes" : "no";
}

void svm_describe(char *buf, size_t len)
{
	ksnprintf(buf, len,
		  "nested paging; %u ASIDs; NRIP save %s, VMCB clean bits %s, "
		  "flush by ASID %s, decode assists %s",
		  svm_asids, yes_no(SVM_EDX_NRIPS), yes_no(SVM_EDX_VMCB_CLEAN),
		  yes_no(SVM_EDX_FLUSH_BY_ASID), yes_no(SVM_EDX_DECODE_ASSISTS));
}

/* VMRUN saves host state into this CPU's host-save area; VMSAVE keeps the
 * rest of the host's state in a second page (svm_entry.S). */
status_t svm_enable_cpu(unsigned cpu)
{
	uint64_t hsave, vmsave_area;
	status_t st = kmem_alloc_frames(1, &hsave);

	if (st != ST_OK)
		return st;
	st = kmem_alloc_frames(1, &vmsave_area);
	if (st != ST_OK)
		return st;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	svm_cpu_ready(cpu, vmsave_area);
	return ST_OK;
}
