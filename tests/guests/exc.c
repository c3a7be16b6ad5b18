/* exc: exceptions raised and handled inside the guest. #DE, #BP, #PF (error
 * code and CR2), #GP on non-canonical addresses, #UD for ud2 and for every
 * SVM instruction (EFER.SVME is clear in the guest), and VMMCALL with a
 * hypercall number Keel does not know (its ABI answers with #UD). */
#include "rt.h"

#define VEC_DE 0
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define PF_WRITE 0x2
#define MSR_EFER 0xC0000080
#define EFER_SVME (1ull << 12)
#define CPUID_SKINIT (1u << 12) /* 0x80000001 ECX */
#define UNKNOWN_HYPERCALL 0xDEADC0DEull
#define ALIGNED_RAX 0x200000ull /* guest RAM, page-aligned */
#define HC_ABI_VERSION 0	/* kernel/include/keel/hypercall.h */
#define HC_ABI 1
#define CPUID_VMX (1u << 5) /* leaf 1 ECX */

const char rt_name[] = "exc";

/* Each probe stores the address the CPU should report into *site before
 * it faults: the faulting instruction (faults) or the next one (traps). */
#define SITE_AT "lea 1f(%%rip), %%r11\n\tmov %%r11, (%[site])\n\t"

static void do_div0(void *site)
{
	asm volatile(SITE_AT "1: divl %%ecx" : : [site] "r"(site), "a"(1), "d"(0), "c"(0) : "r11");
}

/* INT_MIN / -1 overflows the quotient: #DE as well. */
static void do_idiv_overflow(void *site)
{
	asm volatile(SITE_AT "1: idivl %%ecx"
		     :
		     : [site] "r"(site), "a"(0x80000000u), "d"(0xFFFFFFFFu), "c"(-1)
		     : "r11");
}

static void do_int3(void *site)
{
	asm volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, (%[site])\n\tint3\n1:"
		     :
		     : [site] "r"(site)
		     : "r11");
}

static void do_ud2(void *site)
{
	asm volatile(SITE_AT "1: ud2" : : [site] "r"(site) : "r11");
}

struct access {
	uint64_t site;
	uint64_t addr;
};

static void do_read(void *arg)
{
	struct access *a = arg;
	asm volatile(SITE_AT "1: mov (%[addr]), %%rax"
		     :
		     : [site] "r"(&a->site), [addr] "r"(a->addr)
		     : "rax", "r11", "memory");
}

static void do_write(void *arg)
{
	struct access *a = arg;
	asm volatile(SITE_AT "1: movq $0x5a, (%[addr])"
		     :
		     : [site] "r"(&a->site), [addr] "r"(a->addr)
		     : "r11", "memory");
}

/* Compares a recorded exception with the expected one in one check. CR2
 * is compared only for #PF, where it is defined. */
static void judge(const char *what, bool trapped, const struct rt_trap *t,
		  const struct rt_trap *want)
{
	bool cr2_ok = want->vector != VEC_PF || t->cr2 == want->cr2;

	if (!trapped) {
		checkd(false, what, "no exception");
		return;
	}
	checkd(t->vector == want->vector && t->error == want->error && t->rip == want->rip &&
		   cr2_ok,
	       what, "got %s error 0x%lx rip 0x%lx cr2 0x%lx, want %s error 0x%lx rip 0x%lx%s",
	       rt_vector_name(t->vector), t->error, t->rip, t->cr2, rt_vector_name(want->vector),
	       want->error, want->rip, want->vector == VEC_PF ? " and CR2 = the address" : "");
}

/* Runs fn(site), expects exception `vector` with `error` at the site. */
static void expect(const char *what, void (*fn)(void *), uint64_t vector, uint64_t error)
{
	uint64_t site = 0;
	struct rt_trap t;
	bool trapped = rt_try(fn, &site, &t);
	struct rt_trap want = {.vector = vector, .error = error, .rip = site};

	judge(what, trapped, &t, &want);
}

/* Runs an access at addr, expects `vector` with `error` (CR2 = addr for #PF). */
static void expect_access(const char *what, void (*fn)(void *), uint64_t addr, uint64_t vector,
			  uint64_t error)
{
	struct access a = {.addr = addr};
	struct rt_trap t;
	bool trapped = rt_try(fn, &a, &t);
	struct rt_trap want = {.vector = vector, .error = error, .rip = a.site, .cr2 = addr};

	judge(what, trapped, &t, &want);
}

/* SVM instructions, AMD APM vol. 3: all 0F 01 with ModRM D8-DF. */
#define SVM_PROBE(name, bytes)                                                                     \
	static void do_##name(void *site)                                                          \
	{                                                                                          \
		asm volatile(SITE_AT "1: .byte " bytes                                             \
			     :                                                                     \
			     : [site] "r"(site), "a"(UNKNOWN_HYPERCALL), "c"(0)                    \
			     : "r11", "memory");                                                   \
	}
SVM_PROBE(vmrun, "0x0f, 0x01, 0xd8")

/* The same with a page-aligned rAX, which passes the CPU's own rAX check,
 * so the intercept itself is what must turn them into #UD. */
#define SVM_PROBE_ALIGNED(name, bytes)                                                             \
	static void do_##name(void *site)                                                          \
	{                                                                                          \
		asm volatile(SITE_AT "1: .byte " bytes                                             \
			     :                                                                     \
			     : [site] "r"(site), "a"(ALIGNED_RAX), "c"(0)                          \
			     : "r11", "memory");                                                   \
	}
SVM_PROBE_ALIGNED(vmrun_aligned, "0x0f, 0x01, 0xd8")
SVM_PROBE_ALIGNED(vmload_aligned, "0x0f, 0x01, 0xda")
SVM_PROBE_ALIGNED(vmsave_aligned, "0x0f, 0x01, 0xdb")
SVM_PROBE(vmmcall, "0x0f, 0x01, 0xd9")
SVM_PROBE(vmload, "0x0f, 0x01, 0xda")
SVM_PROBE(vmsave, "0x0f, 0x01, 0xdb")
SVM_PROBE(stgi, "0x0f, 0x01, 0xdc")
SVM_PROBE(clgi, "0x0f, 0x01, 0xdd")
SVM_PROBE(skinit, "0x0f, 0x01, 0xde")
SVM_PROBE(invlpga, "0x0f, 0x01, 0xdf")

/* VMX instructions (Intel SDM vol. 2C), with memory operands at a scratch
 * variable: [rax] for VMXON/VMCLEAR/VMPTRLD/VMPTRST, [rcx] for the others.
 * A CPU without VMX, and Keel's guests on VT-x, must raise #UD for each. */
static uint64_t vmx_scratch[2];
#define VMX_PROBE(name, bytes)                                                                     \
	static void do_##name(void *site)                                                          \
	{                                                                                          \
		asm volatile(SITE_AT "1: .byte " bytes                                             \
			     :                                                                     \
			     : [site] "r"(site), "a"(vmx_scratch), "c"(vmx_scratch)                \
			     : "r11", "memory");                                                   \
	}
VMX_PROBE(vmxon, "0xf3, 0x0f, 0xc7, 0x30")
VMX_PROBE(vmclear, "0x66, 0x0f, 0xc7, 0x30")
VMX_PROBE(vmptrld, "0x0f, 0xc7, 0x30")
VMX_PROBE(vmptrst, "0x0f, 0xc7, 0x38")
VMX_PROBE(vmread, "0x0f, 0x78, 0x01")
VMX_PROBE(vmwrite, "0x0f, 0x79, 0x01")
VMX_PROBE(vmlaunch, "0x0f, 0x01, 0xc2")
VMX_PROBE(vmresume, "0x0f, 0x01, 0xc3")
VMX_PROBE(vmxoff, "0x0f, 0x01, 0xc4")
VMX_PROBE(invept, "0x66, 0x0f, 0x38, 0x80, 0x01")
VMX_PROBE(invvpid, "0x66, 0x0f, 0x38, 0x81, 0x01")
SVM_PROBE(vmcall, "0x0f, 0x01, 0xc1") /* rAX = the unknown hypercall number */

static void vmx_instructions(void)
{
	static const struct {
		const char *what;
		void (*fn)(void *);
	} probes[] = {
	    {"VMXON is #UD", do_vmxon},
	    {"VMCLEAR is #UD", do_vmclear},
	    {"VMPTRLD is #UD", do_vmptrld},
	    {"VMPTRST is #UD", do_vmptrst},
	    {"VMREAD is #UD", do_vmread},
	    {"VMWRITE is #UD", do_vmwrite},
	    {"VMLAUNCH is #UD", do_vmlaunch},
	    {"VMRESUME is #UD", do_vmresume},
	    {"VMXOFF is #UD", do_vmxoff},
	    {"INVEPT is #UD", do_invept},
	    {"INVVPID is #UD", do_invvpid},
	    {"VMCALL with an unknown hypercall number is #UD", do_vmcall},
	};

	check(!(cpuid(1, 0).c & CPUID_VMX), "CPUID hides VMX");
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
		expect(probes[i].what, probes[i].fn, VEC_UD, 0);
}

static void svm_instructions(void)
{
	bool svme = rdmsr(MSR_EFER) & EFER_SVME;
	struct cpuid_r max = cpuid(0x80000000, 0);
	/* STGI and SKINIT are also legal with SVME clear when CPUID offers
	 * SKINIT (APM vol. 3, STGI/SKINIT). Keel hides SKINIT. */
	bool skinit = max.a >= 0x80000001 && (cpuid(0x80000001, 0).c & CPUID_SKINIT);

	check(!svme, "EFER.SVME is clear in the guest");
	expect("VMRUN is #UD", do_vmrun, VEC_UD, 0);
	expect("VMLOAD is #UD", do_vmload, VEC_UD, 0);
	expect("VMSAVE is #UD", do_vmsave, VEC_UD, 0);
	expect("CLGI is #UD", do_clgi, VEC_UD, 0);
	expect("INVLPGA is #UD", do_invlpga, VEC_UD, 0);
	if (skinit) {
		/* Executing SKINIT for real would be a secure re-init. */
		note("CPUID offers SKINIT: STGI and SKINIT are legal, not probed");
	} else {
		expect("STGI is #UD", do_stgi, VEC_UD, 0);
		expect("SKINIT is #UD", do_skinit, VEC_UD, 0);
	}
	expect("VMRUN with a page-aligned rAX is #UD", do_vmrun_aligned, VEC_UD, 0);
	expect("VMLOAD with a page-aligned rAX is #UD", do_vmload_aligned, VEC_UD, 0);
	expect("VMSAVE with a page-aligned rAX is #UD", do_vmsave_aligned, VEC_UD, 0);
	expect("VMMCALL with an unknown hypercall number is #UD", do_vmmcall, VEC_UD, 0);
}

static bool on_keel(void)
{
	struct cpuid_r r = cpuid(0x40000000, 0);

	return !memcmp(&r.b, "Keel", 4) && !memcmp(&r.c, "Keel", 4) && !memcmp(&r.d, "Keel", 4);
}

static bool vendor_intel(void)
{
	struct cpuid_r r = cpuid(0, 0);

	return !memcmp(&r.b, "Genu", 4) && !memcmp(&r.d, "ineI", 4) && !memcmp(&r.c, "ntel", 4);
}

/* The same ABI on both vendors, through each vendor's instruction. */
static void hypercall_abi(void)
{
	uint64_t rax = HC_ABI_VERSION;

	if (!on_keel()) {
		note("not on Keel: hypercall ABI not probed");
		return;
	}
	if (vendor_intel())
		asm volatile("vmcall" : "+a"(rax)::"memory");
	else
		asm volatile("vmmcall" : "+a"(rax)::"memory");
	check_eq(rax, HC_ABI, "hypercall ABI_VERSION returns the ABI version");
}

void guest_main(void)
{
	expect("div by zero is #DE", do_div0, VEC_DE, 0);
	expect("idiv INT_MIN / -1 is #DE", do_idiv_overflow, VEC_DE, 0);
	expect("int3 is #BP after the instruction", do_int3, VEC_BP, 0);
	expect("ud2 is #UD", do_ud2, VEC_UD, 0);
	/* Not present, supervisor, data: error code 0, plus W for writes. */
	expect_access("read above the identity map is #PF", do_read, RT_IDENTITY_END, VEC_PF, 0);
	expect_access("write above the identity map is #PF", do_write, RT_IDENTITY_END + 0x1238,
		      VEC_PF, PF_WRITE);
	expect_access("read through a not-present 4 KiB PTE is #PF", do_read, RT_ALIAS_VA + 0x1000,
		      VEC_PF, 0);
	expect_access("read at the lowest non-canonical address is #GP(0)", do_read,
		      RT_NONCANONICAL, VEC_GP, 0);
	expect_access("write at the highest non-canonical address is #GP(0)", do_write,
		      ~RT_NONCANONICAL, VEC_GP, 0);
	svm_instructions();
	vmx_instructions();
	hypercall_abi();
}
