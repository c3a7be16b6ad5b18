/* Unit tests for the guest CPUID policy. Two fake hosts: one returns all-ones
 * in every register for every leaf (so any bit the policy lets leak shows up),
 * one returns values modelled on a real Intel CPU running under KVM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/cpuid_policy.h"

#define BIT(n) (1u << (n))

/* Bits the guest must never see (SDM vol. 2A / APM vol. 3 CPUID). */
#define L1_ECX_MONITOR BIT(3)
#define L1_ECX_VMX BIT(5)
#define L1_ECX_SMX BIT(6)
#define L1_ECX_PDCM BIT(15)
#define L1_ECX_X2APIC BIT(21)
#define L1_ECX_TSC_DEADLINE BIT(24)
#define L1_ECX_OSXSAVE BIT(27)
#define L1_ECX_HYPERVISOR BIT(31)
#define L1_ECX_SSE3 BIT(0)
#define L1_ECX_XSAVE BIT(26)
#define L1_EDX_MCE BIT(7)
#define L1_EDX_MCA BIT(14)
#define L1_EDX_DS BIT(21)
#define L1_EDX_ACPI BIT(22)
#define L1_EDX_HTT BIT(28)
#define L1_EDX_TM BIT(29)
#define L1_EDX_PBE BIT(31)
#define L1_EDX_FPU BIT(0)
#define L1_EDX_SSE2 BIT(26)
#define L7_EBX_SGX BIT(2)
#define L7_EBX_HLE BIT(4)
#define L7_EBX_INVPCID BIT(10)
#define L7_EBX_TSC_ADJUST BIT(1)
#define L7_EBX_RTM BIT(11)
#define L7_EBX_INTEL_PT BIT(25)
#define L7_ECX_PKU BIT(3)
#define L7_ECX_OSPKE BIT(4)
#define L7_ECX_WAITPKG BIT(5)
#define L7_ECX_LA57 BIT(16)
#define L7_EDX_SPEC_CTRL BIT(26)
#define L7_EDX_STIBP BIT(27)
#define L7_EDX_L1D_FLUSH BIT(28)
#define L7_EDX_ARCH_CAPABILITIES BIT(29)
#define L7_EDX_SSBD BIT(31)
#define L7S1_EAX_AVX_VNNI BIT(4)
#define L7S1_EAX_AVX512_BF16 BIT(5)
#define E1_ECX_SVM BIT(2)
#define E1_ECX_LWP BIT(15)
#define E1_ECX_PERFCTR_CORE BIT(23)
#define E1_ECX_MWAITX BIT(29)
#define E1_EDX_NX BIT(20)
#define E1_EDX_PAGE1GB BIT(26)
#define E1_EDX_RDTSCP BIT(27)
#define E1_EDX_LM BIT(29)
#define E7_EDX_INVARIANT_TSC BIT(8)

static const struct cpuid_guest guest = {.vcpu_id = 3, .nvcpus = 4, .tsc_hz = 2903999000ull};

static void host_ones(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *out)
{
	(void)ctx;
	(void)leaf;
	(void)sub;
	out->eax = out->ebx = out->ecx = out->edx = 0xFFFFFFFFu;
}

/* A Skylake-SP-like host under KVM. ctx (if non-NULL) points at the max
 * basic leaf to report, so a smaller CPU can be modelled. */
static void host_real(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *o)
{
	uint32_t max_basic = ctx ? *(uint32_t *)ctx : 0x16;
	*o = (struct cpuid_regs){0};
	switch (leaf) {
	case 0x0:
		*o = (struct cpuid_regs){max_basic, 0x756e6547, 0x6c65746e, 0x49656e69};
		break;
	case 0x1: /* APIC ID 0x0A, 16 logical processors, CLFLUSH 8 qwords */
		*o = (struct cpuid_regs){0x00050654, 0x0A100800, 0xFFFAFBFF, 0xBFEBFBFF};
		break;
	case 0x4:
		if (sub == 0) /* L1d, 8 sharing, 16 cores */
			*o = (struct cpuid_regs){0x3C004121, 0x01C0003F, 0x3F, 0};
		else if (sub == 1) /* L3 */
			*o = (struct cpuid_regs){0x3C07C163, 0x0280003F, 0x6FFF, 0x4};
		break;
	case 0x6:
		*o = (struct cpuid_regs){0x77, 2, 9, 0};
		break;
	case 0x7:
		if (sub == 0)
			*o = (struct cpuid_regs){1, 0xD19FFFFB, 0x0040001E, 0xBC000400};
		else if (sub == 1)
			*o = (struct cpuid_regs){L7S1_EAX_AVX512_BF16 | BIT(22) | BIT(26), 0, 0, 0};
		break;
	case 0xB:
		*o = (struct cpuid_regs){1, 2, 0x100 | sub, 0x0A};
		break;
	case 0xD:
		if (sub == 0) /* x87 SSE AVX MPX(2) AVX-512(3) PKRU */
			*o = (struct cpuid_regs){0x2FF, 0xA88, 0xA88, 0};
		else if (sub == 1)
			*o = (struct cpuid_regs){0xF, 0xA88, 0x100, 0};
		else if (sub == 2)
			*o = (struct cpuid_regs){256, 576, 0, 0};
		else if (sub == 3 || sub == 4)
			*o = (struct cpuid_regs){64, sub == 3 ? 960 : 1024, 0, 0};
		else if (sub == 5)
			*o = (struct cpuid_regs){64, 1088, 0, 0};
		else if (sub == 6)
			*o = (struct cpuid_regs){512, 1152, 0, 0};
		else if (sub == 7)
			*o = (struct cpuid_regs){1024, 1664, 0, 0};
		else if (sub == 9)
			*o = (struct cpuid_regs){8, 2688, 0, 0};
		break;
	case 0x15:
		*o = (struct cpuid_regs){2, 0xF0, 0, 0};
		break;
	case 0x16:
		*o = (struct cpuid_regs){3500, 3500, 100, 0};
		break;
	case 0x40000000: /* "KVMKVMKVM\0\0\0" */
		*o = (struct cpuid_regs){0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d};
		break;
	case 0x40000001:
		*o = (struct cpuid_regs){0x01007AFB, 0, 0, 0};
		break;
	case 0x80000000:
		*o = (struct cpuid_regs){0x80000008, 0, 0, 0};
		break;
	case 0x80000001:
		*o = (struct cpuid_regs){0, 0, 0x121, 0x2C100800};
		break;
	case 0x80000007:
		*o = (struct cpuid_regs){0, 0, 0, 0x100};
		break;
	case 0x80000008:
		*o = (struct cpuid_regs){0x302E, 0x100D000, 0, 0};
		break;
	}
}

static struct cpuid_regs q(cpuid_host_fn h, void *ctx, uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;
	memset(&r, 0xA5, sizeof(r)); /* the policy must write every register */
	cpuid_policy(h, ctx, &guest, leaf, sub, &r);
	return r;
}

static void assert_zero(struct cpuid_regs r)
{
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
}

static void test_leaf1_ones(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_ones, NULL, 1, 0);
	uint32_t ecx_hidden =
	    L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_PDCM | L1_ECX_OSXSAVE;
	uint32_t edx_hidden =
	    L1_EDX_MCE | L1_EDX_MCA | L1_EDX_DS | L1_EDX_ACPI | L1_EDX_TM | L1_EDX_PBE;
	assert_int_equal(r.ecx & ecx_hidden, 0);
	assert_int_equal(r.edx & edx_hidden, 0);
	assert_true(r.ecx & L1_ECX_HYPERVISOR);
	assert_true(r.ecx & L1_ECX_X2APIC); /* the vLAPIC's, whatever the host has */
	assert_true(r.ecx & L1_ECX_TSC_DEADLINE);
	assert_true(r.ecx & L1_ECX_SSE3);
	assert_true(r.edx & L1_EDX_HTT);
	assert_true(r.edx & L1_EDX_FPU);
	assert_int_equal(r.eax, 0xFFFFFFFFu);
	assert_int_equal(r.ebx >> 24, 3);	   /* initial APIC ID */
	assert_int_equal((r.ebx >> 16) & 0xFF, 4); /* logical processors */
	assert_int_equal(r.ebx & 0xFFFF, 0xFFFF);  /* brand index, CLFLUSH size */
}

static void test_leaf1_real(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_real, NULL, 1, 0);
	assert_int_equal(r.eax, 0x00050654);
	assert_int_equal(r.ebx, 0x03040800);
	assert_true(r.ecx & L1_ECX_XSAVE);
	assert_false(r.ecx & (L1_ECX_VMX | L1_ECX_PDCM));
	assert_true(r.ecx & (L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE));
	assert_true(r.ecx & L1_ECX_HYPERVISOR);
	assert_true(r.edx & L1_EDX_SSE2);
	assert_false(r.edx & (L1_EDX_MCE | L1_EDX_MCA | L1_EDX_PBE));
}

static void test_apic_id_fields(void **state)
{
	(void)state;
	struct cpuid_guest g = {.vcpu_id = 0x1FF, .nvcpus = 0, .tsc_hz = 0};
	struct cpuid_regs r;
	cpuid_policy(host_real, NULL, &g, 1, 0, &r);
	assert_int_equal(r.ebx >> 24, 0xFF);	   /* 8-bit field: low bits */
	assert_int_equal((r.ebx >> 16) & 0xFF, 1); /* nvcpus 0 means 1 */
	cpuid_policy(host_real, NULL, &g, 0xB, 0, &r);
	assert_int_equal(r.edx, 0x1FF); /* full x2APIC ID */
	g.nvcpus = 300;
	cpuid_policy(host_real, NULL, &g, 1, 0, &r);
	assert_int_equal((r.ebx >> 16) & 0xFF, 0xFF); /* clamped, not wrapped */
}

static void test_zeroed_leaves(void **state)
{
	(void)state;
	static const uint32_t leaves[] = {0x3, 0x5, 0x6,  0xA,	0x8,  0x9,  0xC,
					  0xE, 0xF, 0x10, 0x11, 0x12, 0x13, 0x14};
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		for (uint32_t sub = 0; sub < 3; sub++) {
			assert_zero(q(host_ones, NULL, leaves[i], sub));
			assert_zero(q(host_real, NULL, leaves[i], sub));
		}
	}
}

/* 0x15/0x16 carry Keel's measured TSC rate, whatever the host says there
 * (host_real has a 2/0xF0 ratio and a 3500 MHz core). */
static void test_tsc_leaves(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_real, NULL, 0x15, 0);
	assert_int_equal(r.eax, 1);	      /* denominator */
	assert_int_equal(r.ebx, 1);	      /* numerator */
	assert_int_equal(r.ecx, 2903999000u); /* crystal Hz: the TSC's own rate */
	assert_int_equal(r.edx, 0);
	assert_true(q(host_ones, NULL, 0x15, 2).ecx == 2903999000u);
	r = q(host_real, NULL, 0x16, 0);
	assert_int_equal(r.eax, 2904); /* base MHz, rounded */
	assert_int_equal(r.ebx, 2904); /* max MHz */
	assert_int_equal(r.ecx, 0);    /* bus MHz: not said */
	assert_int_equal(r.edx, 0);

	/* Not measured, or too fast for the 32-bit crystal field: zeros, and
	 * the guest calibrates on its own. */
	struct cpuid_guest g = {.vcpu_id = 0, .nvcpus = 1, .tsc_hz = 0};
	cpuid_policy(host_ones, NULL, &g, 0x15, 0, &r);
	assert_zero(r);
	cpuid_policy(host_ones, NULL, &g, 0x16, 0, &r);
	assert_zero(r);
	g.tsc_hz = 4294967296ull;
	cpuid_policy(host_ones, NULL, &g, 0x15, 0, &r);
	assert_zero(r);
	g.tsc_hz = 4294967295ull;
	cpuid_policy(host_ones, NULL, &g, 0x15, 0, &r);
	assert_int_equal(r.ecx, 4294967295u);
	cpuid_policy(host_ones, NULL, &g, 0x16, 0, &r);
	assert_int_equal(r.eax, 4295);

	/* Beyond the host's max basic leaf they are not there at all. */
	uint32_t low = 0x14;
	assert_zero(q(host_real, &low, 0x15, 0));
	assert_zero(q(host_real, &low, 0x16, 0));
}

static void test_max_leaves(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_ones, NULL, 0, 0);
	assert_int_equal(r.eax, 0x16);
	assert_int_equal(r.ebx, 0xFFFFFFFFu);
	uint32_t low = 0x0D;
	r = q(host_real, &low, 0, 0);
	assert_int_equal(r.eax, 0x0D);
	assert_int_equal(r.ebx, 0x756e6547); /* "Genu" */
	assert_int_equal(r.edx, 0x49656e69); /* "ineI" */
	assert_int_equal(r.ecx, 0x6c65746e); /* "ntel" */
	r = q(host_real, NULL, 0, 0);
	assert_int_equal(r.eax, 0x16);
	r = q(host_ones, NULL, 0x80000000, 0);
	assert_int_equal(r.eax, 0x80000008);
	r = q(host_real, NULL, 0x80000000, 0);
	assert_int_equal(r.eax, 0x80000008);
}

/* Above the guest's max leaf, and outside every range: zeros. */
static void test_out_of_range(void **state)
{
	(void)state;
	static const uint32_t leaves[] = {0x17,	      0x18,	  0x1F,	      0x20,
					  0x3FFFFFFF, 0x40000002, 0x400000FF, 0x40000100,
					  0x7FFFFFFF, 0x80000009, 0x8000000A, 0x8000001E,
					  0x8000001F, 0x80010000, 0xC0000000, 0xFFFFFFFF};
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		assert_zero(q(host_ones, NULL, leaves[i], 0));
		assert_zero(q(host_real, NULL, leaves[i], 0));
	}
	uint32_t low = 0x0D; /* 0x10..0x16 are beyond this host's max */
	assert_zero(q(host_real, &low, 0x0E, 0));
	assert_zero(q(host_real, &low, 0x16, 0));
}

static void test_leaf7_ones(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_ones, NULL, 7, 0);
	assert_int_equal(r.eax, 1); /* subleaves 0..1 only */
	assert_int_equal(r.ebx & (L7_EBX_SGX | L7_EBX_INTEL_PT | L7_EBX_HLE | L7_EBX_RTM), 0);
	assert_true(r.ebx & L7_EBX_INVPCID);
	assert_int_equal(r.ecx & (L7_ECX_LA57 | L7_ECX_PKU | L7_ECX_OSPKE | L7_ECX_WAITPKG), 0);
	assert_int_equal(r.edx & (L7_EDX_SPEC_CTRL | L7_EDX_STIBP | L7_EDX_L1D_FLUSH |
				  L7_EDX_ARCH_CAPABILITIES | L7_EDX_SSBD),
			 0);
	r = q(host_ones, NULL, 7, 1);
	assert_int_equal(
	    r.eax & ~(L7S1_EAX_AVX_VNNI | L7S1_EAX_AVX512_BF16 | BIT(10) | BIT(11) | BIT(12)), 0);
	assert_true(r.eax & L7S1_EAX_AVX_VNNI);
	assert_int_equal(r.ebx | r.ecx | r.edx, 0);
	assert_zero(q(host_ones, NULL, 7, 2));
	assert_zero(q(host_ones, NULL, 7, 0xFFFFFFFF));
}

static void test_leaf7_real(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_real, NULL, 7, 0);
	assert_int_equal(r.eax, 1);
	assert_true(r.ebx & L7_EBX_INVPCID);
	assert_false(r.ebx & (L7_EBX_HLE | L7_EBX_RTM | L7_EBX_INTEL_PT));
	assert_false(r.ecx & (L7_ECX_PKU | L7_ECX_OSPKE));
	assert_int_equal(r.edx & 0xBC000000u, 0); /* host speculation bits */
	r = q(host_real, NULL, 7, 1);
	assert_int_equal(r.eax, L7S1_EAX_AVX512_BF16); /* HRESET, LAM dropped */
}

/* IA32_TSC_ADJUST is Keel's own MSR (it reads 0): offered whether or not
 * the host has one. With an invariant TSC it lets Linux trust the TSC. */
static void host_no_tsc_adjust(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *o)
{
	host_real(ctx, leaf, sub, o);
	if (leaf == 7 && sub == 0)
		o->ebx &= ~L7_EBX_TSC_ADJUST;
}

static void test_leaf7_tsc_adjust(void **state)
{
	(void)state;
	assert_true(q(host_real, NULL, 7, 0).ebx & L7_EBX_TSC_ADJUST);
	assert_true(q(host_no_tsc_adjust, NULL, 7, 0).ebx & L7_EBX_TSC_ADJUST);
	assert_true(q(host_ones, NULL, 7, 0).ebx & L7_EBX_TSC_ADJUST);
	assert_int_equal(q(host_no_tsc_adjust, NULL, 0x80000007, 0).edx & BIT(8), BIT(8));
}

/* Host reports max subleaf 0 but (wrongly) answers subleaf 1: still zeros. */
static void host_sub0_only(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *o)
{
	host_ones(ctx, leaf, sub, o);
	if (leaf == 7 && sub == 0)
		o->eax = 0;
}

static void test_leaf7_sub1_absent(void **state)
{
	(void)state;
	assert_int_equal(q(host_sub0_only, NULL, 7, 0).eax, 0);
	assert_zero(q(host_sub0_only, NULL, 7, 1));
}

static void check_signature(struct cpuid_regs r)
{
	char sig[12];
	assert_int_equal(r.eax, 0x40000001);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_memory_equal(sig, "KeelKeelKeel", 12);
	assert_int_equal(r.ebx, 0x6c65654b); /* 'K' 'e' 'e' 'l' little-endian */
}

static void host_none(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *o)
{
	(void)ctx;
	(void)sub;
	*o = (struct cpuid_regs){0};
	if (leaf == 0)
		o->eax = 1; /* a bare CPU: basic leaves 0..1 and nothing else */
}

static void test_hypervisor_leaves(void **state)
{
	(void)state;
	check_signature(q(host_ones, NULL, 0x40000000, 0));
	check_signature(q(host_real, NULL, 0x40000000, 0)); /* not KVM's */
	check_signature(q(host_none, NULL, 0x40000000, 0));
	check_signature(q(host_none, NULL, 0x40000000, 7));
	struct cpuid_regs r = q(host_real, NULL, 0x40000001, 0);
	assert_int_equal(r.eax, 2903999); /* TSC kHz */
	assert_int_equal(r.ebx, 2903999); /* LAPIC timer kHz: it counts the TSC */
	assert_int_equal(r.ecx, 1);	  /* this host runs under KVM */
	assert_int_equal(r.edx, 0);
	r = q(host_none, NULL, 0x40000001, 0);
	assert_int_equal(r.eax, 2903999);
	assert_int_equal(r.ecx, 0); /* bare metal */
	struct cpuid_guest g = {.vcpu_id = 0, .nvcpus = 1, .tsc_hz = 1ull << 60};
	cpuid_policy(host_ones, NULL, &g, 0x40000001, 0, &r);
	assert_int_equal(r.eax, 0xFFFFFFFFu); /* saturates */
	assert_zero(q(host_real, NULL, 0x40000002, 0));
	/* A bare host has no extended leaves at all. */
	assert_zero(q(host_none, NULL, 0x80000001, 0));
	assert_zero(q(host_none, NULL, 0x80000007, 0));
}

static void test_ext_leaves(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_ones, NULL, 0x80000001, 0);
	assert_int_equal(r.ecx & (E1_ECX_SVM | E1_ECX_LWP | E1_ECX_PERFCTR_CORE | E1_ECX_MWAITX),
			 0);
	assert_int_equal(r.edx & (E1_EDX_LM | E1_EDX_NX | E1_EDX_RDTSCP | E1_EDX_PAGE1GB),
			 E1_EDX_LM | E1_EDX_NX | E1_EDX_RDTSCP | E1_EDX_PAGE1GB);
	assert_int_equal(r.edx & (L1_EDX_MCE | L1_EDX_MCA), 0);
	r = q(host_real, NULL, 0x80000001, 0);
	assert_int_equal(r.ecx, 0x121);
	assert_int_equal(r.edx, 0x2C100800);

	r = q(host_ones, NULL, 0x80000007, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx, 0);
	assert_int_equal(r.edx, E7_EDX_INVARIANT_TSC);
	r = q(host_real, NULL, 0x80000007, 0);
	assert_int_equal(r.edx, E7_EDX_INVARIANT_TSC);

	r = q(host_real, NULL, 0x80000008, 0);
	assert_int_equal(r.eax, 0x302E);
	assert_int_equal(r.ebx, 0);	      /* host IBPB/IBRS hidden... */
	assert_int_equal(r.ecx, 3 | 2 << 12); /* 4 cores, 2 APIC ID bits */
	assert_int_equal(r.edx, 0);
	r = q(host_ones, NULL, 0x80000008, 0);
	assert_int_equal(r.eax, 0xFFFF);
	assert_int_equal(r.ebx, BIT(0) | BIT(2) | BIT(9)); /* CLZERO, RstrFpErrPtrs, WBNOINVD */

	/* Brand string passes unchanged. */
	assert_int_equal(q(host_ones, NULL, 0x80000003, 0).edx, 0xFFFFFFFFu);
	assert_zero(q(host_ones, NULL, 0x8000000A, 0));
}

static void test_topology(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_real, NULL, 0xB, 0);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(r.ecx, 0x100);
	assert_int_equal(r.edx, 3);
	r = q(host_ones, NULL, 0xB, 1);
	assert_int_equal(r.eax, 2); /* 4 vCPUs: 2 bits */
	assert_int_equal(r.ebx, 4);
	assert_int_equal(r.ecx, 0x201);
	assert_int_equal(r.edx, 3);
	r = q(host_ones, NULL, 0xB, 2);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 2);
	assert_int_equal(r.edx, 3);

	/* Leaf 4: L1 private, L3 shared by all 4 vCPUs; 4 cores per package. */
	r = q(host_real, NULL, 4, 0);
	assert_int_equal(r.eax, 0x0C000121);
	assert_int_equal(r.ebx, 0x01C0003F);
	r = q(host_real, NULL, 4, 1);
	assert_int_equal(r.eax, 0x0C00C163);
	assert_int_equal(r.edx, 0x4);
	assert_zero(q(host_real, NULL, 4, 2)); /* no more caches */
}

static void test_xsave(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_real, NULL, 0xD, 0);
	assert_int_equal(r.eax, 0xE7); /* MPX and PKRU dropped */
	assert_int_equal(r.ebx, 2688);
	assert_int_equal(r.ecx, 2688);
	assert_int_equal(r.edx, 0);
	r = q(host_real, NULL, 0xD, 1);
	assert_int_equal(r.eax, 0x7); /* XSAVES dropped */
	assert_int_equal(r.ebx, 576 + 256 + 64 + 512 + 1024);
	assert_int_equal(r.ecx | r.edx, 0);
	r = q(host_real, NULL, 0xD, 2);
	assert_int_equal(r.eax, 256);
	assert_int_equal(r.ebx, 576);
	assert_zero(q(host_real, NULL, 0xD, 3)); /* MPX */
	assert_zero(q(host_real, NULL, 0xD, 9)); /* PKRU */
	assert_int_equal(q(host_real, NULL, 0xD, 7).ebx, 1664);
	assert_zero(q(host_real, NULL, 0xD, 63));

	r = q(host_ones, NULL, 0xD, 0);
	assert_int_equal(r.eax, 0xE7);
	assert_int_equal(r.edx, 0);
	r = q(host_ones, NULL, 0xD, 1);
	assert_int_equal(r.eax, 0x7);
	assert_int_equal(r.ecx | r.edx, 0);
	r = q(host_ones, NULL, 0xD, 6);
	assert_int_equal(r.ecx, BIT(1)); /* supervisor bit never shown */
	assert_zero(q(host_ones, NULL, 0xD, 8));
	assert_zero(q(host_ones, NULL, 0xD, 0xFFFFFFFF));
}

/* Compacted size honours the 64-byte alignment flag. */
static void host_xsave_align(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *o)
{
	host_real(ctx, leaf, sub, o);
	if (leaf == 0xD && sub == 5)
		*o = (struct cpuid_regs){8, 1088, 0, 0};
	else if (leaf == 0xD && sub == 6)
		*o = (struct cpuid_regs){512, 1152, 2, 0};
}

static void test_xsave_align(void **state)
{
	(void)state;
	struct cpuid_regs r = q(host_xsave_align, NULL, 0xD, 1);
	/* 576 + 256 (AVX) + 8 (opmask) -> 840, aligned to 896, + 512 + 1024. */
	assert_int_equal(r.ebx, 896 + 512 + 1024);
	assert_int_equal(q(host_xsave_align, NULL, 0xD, 6).ecx, BIT(1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leaf1_ones),	      cmocka_unit_test(test_leaf1_real),
	    cmocka_unit_test(test_apic_id_fields),    cmocka_unit_test(test_zeroed_leaves),
	    cmocka_unit_test(test_max_leaves),	      cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_leaf7_ones),	      cmocka_unit_test(test_leaf7_tsc_adjust),
	    cmocka_unit_test(test_leaf7_real),	      cmocka_unit_test(test_leaf7_sub1_absent),
	    cmocka_unit_test(test_hypervisor_leaves), cmocka_unit_test(test_ext_leaves),
	    cmocka_unit_test(test_topology),	      cmocka_unit_test(test_xsave),
	    cmocka_unit_test(test_xsave_align),	      cmocka_unit_test(test_tsc_leaves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
