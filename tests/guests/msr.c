/* msr: Keel's MSR policy as the guest sees it. MSRs a guest OS needs read
 * back what was written; the TSC advances; EFER and APIC_BASE hold what
 * long mode and a BSP imply; MSRs for features Keel hides (nested SVM,
 * VMX, speculation controls, machine checks, the PMU) and unknown MSRs
 * raise #GP(0) on read and on write; setting EFER.SVME raises #GP. */
#include "rt.h"

#define VEC_GP 13
#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_EFER 0xC0000080
#define MSR_TSC_AUX 0xC0000103
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_SVME (1ull << 12)
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ull
#define APIC_DEFAULT_BASE 0xFEE00000ull
#define TSC_AUX_VALUE 0x1234ull
#define CPUID_RDTSCP (1u << 27) /* 0x80000001 EDX */

const char rt_name[] = "msr";

/* Written, read back, then restored. Values respect each MSR's reserved
 * bits and canonical-address rules (SDM vol. 4; APM vol. 2 app. A). */
static const struct {
	uint32_t msr;
	const char *name;
	uint64_t value;
} allowed[] = {
    {0xC0000081, "STAR", 0x0023001012345678ull},
    {0xC0000082, "LSTAR", 0xFFFFFFFF81234560ull},
    {0xC0000083, "CSTAR", 0xFFFFFFFF81000040ull},
    {0xC0000084, "SFMASK", 0x0000000000047700ull},
    {0xC0000102, "KERNEL_GS_BASE", 0xFFFF888012345000ull},
    {0xC0000100, "FS_BASE", 0x0000000012345000ull},
    {0xC0000101, "GS_BASE", 0x00007FFF00001000ull},
    {0x174, "SYSENTER_CS", 0x10},
    {0x175, "SYSENTER_ESP", 0x00812000ull},
    {0x176, "SYSENTER_EIP", 0x00813000ull},
    /* PA0 stays WB (06): the guest's own mappings use PAT entry 0. */
    {0x277, "PAT", 0x0007010600070106ull},
    /* Enabled, fixed ranges off, default type WB. */
    {0x2FF, "MTRR_DEF_TYPE", 0x0000000000000806ull},
    {MSR_TSC_AUX, "TSC_AUX", TSC_AUX_VALUE},
};

/* Each must raise #GP(0): on read (if `read`) and on a write of 0. */
static const struct {
	uint32_t msr;
	const char *name;
	bool read;
} forbidden[] = {
    {0xC0010114, "VM_CR", true},
    {0xC0010117, "VM_HSAVE_PA", true},
    {0x48, "SPEC_CTRL", true},
    {0x49, "PRED_CMD", false}, /* write-only */
    {0x179, "MCG_CAP", true},
    {0x17A, "MCG_STATUS", true},
    {0x186, "PERFEVTSEL0", true},
    {0xC0010000, "PERF_CTL0", true},
    {0xC0010004, "PERF_CTR0", true},
    {0x480, "VMX_BASIC", true},
    {0x12345678, "unknown 0x12345678", true},
};

static void check_allowed(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		uint64_t old = 0, got = 0;
		struct rt_trap t = {0};
		char what[80];
		bool ok;

		rt_snprintf(what, sizeof(what), "%s (0x%x) reads back what was written",
			    allowed[i].name, allowed[i].msr);
		if (!rdmsr_safe(allowed[i].msr, &old, &t)) {
			checkd(false, what, "read raised %s(0x%lx)", rt_vector_name(t.vector),
			       t.error);
			continue;
		}
		if (!wrmsr_safe(allowed[i].msr, allowed[i].value, &t)) {
			checkd(false, what, "write of 0x%lx raised %s(0x%lx)", allowed[i].value,
			       rt_vector_name(t.vector), t.error);
			continue;
		}
		ok = rdmsr_safe(allowed[i].msr, &got, &t);
		checkd(ok && got == allowed[i].value, what, "wrote 0x%lx, read 0x%lx%s",
		       allowed[i].value, got, ok ? "" : " (read raised an exception)");
		if (!wrmsr_safe(allowed[i].msr, old, NULL))
			checkd(false, what, "restoring 0x%lx raised an exception", old);
	}
}

static void expect_gp(bool ok, const struct rt_trap *t, const char *what)
{
	if (ok)
		checkd(false, what, "no exception");
	else
		checkd(t->vector == VEC_GP && t->error == 0, what, "got %s error 0x%lx",
		       rt_vector_name(t->vector), t->error);
}

static void check_forbidden(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(forbidden); i++) {
		struct rt_trap t = {0};
		uint64_t v = 0;
		char what[80];

		if (forbidden[i].read) {
			rt_snprintf(what, sizeof(what), "rdmsr %s (0x%x) raises #GP(0)",
				    forbidden[i].name, forbidden[i].msr);
			expect_gp(rdmsr_safe(forbidden[i].msr, &v, &t), &t, what);
		}
		rt_snprintf(what, sizeof(what), "wrmsr %s (0x%x) raises #GP(0)", forbidden[i].name,
			    forbidden[i].msr);
		expect_gp(wrmsr_safe(forbidden[i].msr, 0, &t), &t, what);
	}
}

static void check_tsc(void)
{
	uint64_t a = rdmsr(MSR_TSC);
	uint64_t b = rdmsr(MSR_TSC);
	uint32_t aux;

	checkd(b > a, "TSC (0x10) read twice increases", "0x%lx then 0x%lx", a, b);
	if (!(cpuid(0x80000000, 0).a >= 0x80000001 && (cpuid(0x80000001, 0).d & CPUID_RDTSCP))) {
		checkd(false, "rdtscp returns TSC_AUX in ECX", "RDTSCP not offered");
		return;
	}
	if (!wrmsr_safe(MSR_TSC_AUX, TSC_AUX_VALUE, NULL)) {
		checkd(false, "rdtscp returns TSC_AUX in ECX", "TSC_AUX write raised");
		return;
	}
	asm volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
	check_eq(aux, TSC_AUX_VALUE, "rdtscp returns TSC_AUX in ECX");
}

static void check_efer(void)
{
	uint64_t efer = rdmsr(MSR_EFER);
	struct rt_trap t = {0};
	bool ok;

	checkd((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	       "EFER (0xC0000080) has LME and LMA set", "EFER 0x%lx", efer);
	checkd(!(efer & EFER_SVME), "EFER.SVME (bit 12) reads clear", "EFER 0x%lx", efer);
	ok = wrmsr_safe(MSR_EFER, efer | EFER_SVME, &t);
	expect_gp(ok, &t, "wrmsr EFER with SVME set raises #GP(0)");
	if (ok)
		wrmsr(MSR_EFER, efer); /* plain QEMU accepts it: undo */
	check_eq(rdmsr(MSR_EFER), efer, "EFER unchanged after the refused write");
}

static void check_apic_base(void)
{
	uint64_t v = rdmsr(MSR_APIC_BASE);

	checkd((v & APIC_BASE_ADDR_MASK) == APIC_DEFAULT_BASE && (v & APIC_BASE_BSP) &&
		   (v & APIC_BASE_ENABLE),
	       "APIC_BASE (0x1B) is 0xFEE00000 with BSP and enable set", "got 0x%lx", v);
}

void guest_main(void)
{
	check_allowed();
	check_tsc();
	check_efer();
	check_apic_base();
	check_forbidden();
}
