/* cpuid: what Keel's CPUID policy (kernel/vm/cpuid_policy.c) shows the
 * guest. The hypervisor bit and Keel's signature leaf are present; nested
 * virtualization, MONITOR, LA57, the PMU, machine checks and speculation
 * controls are hidden; the initial APIC ID is the vCPU's (0); OSXSAVE
 * follows the guest's CR4. Fails under plain QEMU, which is not Keel. */
#include "rt.h"

#define BIT(n) (1u << (n))
#define LEAF_HV 0x40000000u
#define LEAF_EXT 0x80000000u
#define HV_MIN_MAX_LEAF 0x40000001u
#define HV_SIGNATURE "KeelKeelKeel"

const char rt_name[] = "cpuid";

struct hidden_bit {
	uint32_t leaf, sub;
	char reg; /* 'a', 'b', 'c', 'd' */
	unsigned bit;
	const char *name;
};

/* Bits the guest must never see set (Intel SDM vol. 2A CPUID; AMD APM
 * vol. 3 appendix E). */
static const struct hidden_bit hidden[] = {
    {0x1, 0, 'c', 3, "MONITOR (1 ECX 3)"},
    {0x1, 0, 'c', 5, "VMX (1 ECX 5)"},
    {0x1, 0, 'c', 15, "PDCM (1 ECX 15)"},
    {0x1, 0, 'd', 7, "MCE (1 EDX 7)"},
    {0x1, 0, 'd', 14, "MCA (1 EDX 14)"},
    {0x7, 0, 'c', 16, "LA57 (7.0 ECX 16)"},
    {0x7, 0, 'd', 26, "IBRS/IBPB (7.0 EDX 26)"},
    {0x7, 0, 'd', 27, "STIBP (7.0 EDX 27)"},
    {0x7, 0, 'd', 31, "SSBD (7.0 EDX 31)"},
    {0x80000001, 0, 'c', 2, "SVM (0x80000001 ECX 2)"},
    {0x80000008, 0, 'b', 12, "IBPB (0x80000008 EBX 12)"},
    {0x80000008, 0, 'b', 14, "IBRS (0x80000008 EBX 14)"},
    {0x80000008, 0, 'b', 15, "STIBP (0x80000008 EBX 15)"},
    {0x80000008, 0, 'b', 24, "SSBD (0x80000008 EBX 24)"},
    {0x80000008, 0, 'b', 25, "VIRT_SSBD (0x80000008 EBX 25)"},
};

#define L1_ECX_XSAVE BIT(26)
#define L1_ECX_OSXSAVE BIT(27)
#define L1_ECX_HYPERVISOR BIT(31)
#define L1_EBX_APIC_ID_SHIFT 24

static uint32_t max_basic, max_ext;

/* A leaf beyond the maximum is not enumerated: on Intel it would return
 * the highest basic leaf's data, so never read it as "bits clear". */
static bool leaf_valid(uint32_t leaf)
{
	if (leaf >= LEAF_EXT)
		return leaf <= max_ext;
	return leaf <= max_basic;
}

static uint32_t reg_of(const struct cpuid_r *r, char reg)
{
	switch (reg) {
	case 'a':
		return r->a;
	case 'b':
		return r->b;
	case 'c':
		return r->c;
	default:
		return r->d;
	}
}

static void check_hidden(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++) {
		const struct hidden_bit *h = &hidden[i];
		char what[80];
		struct cpuid_r r;

		rt_snprintf(what, sizeof(what), "%s is hidden", h->name);
		if (!leaf_valid(h->leaf)) {
			checkd(true, what, NULL);
			continue;
		}
		r = cpuid(h->leaf, h->sub);
		checkd(!(reg_of(&r, h->reg) & BIT(h->bit)), what, "leaf 0x%x E%cX = 0x%08x",
		       h->leaf, h->reg - 'a' + 'A', reg_of(&r, h->reg));
	}
}

static void check_signature(void)
{
	struct cpuid_r r = cpuid(LEAF_HV, 0);
	char sig[13];

	memcpy(sig, &r.b, 4);
	memcpy(sig + 4, &r.c, 4);
	memcpy(sig + 8, &r.d, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++) {
		if (sig[i] < 0x20 || sig[i] > 0x7E)
			sig[i] = '.';
	}
	checkd(memcmp(sig, HV_SIGNATURE, 12) == 0, "leaf 0x40000000 EBX,ECX,EDX is KeelKeelKeel",
	       "got \"%s\"", sig);
	checkd(r.a >= HV_MIN_MAX_LEAF, "leaf 0x40000000 EAX >= 0x40000001", "got 0x%x", r.a);
}

static void check_leaf1(void)
{
	struct cpuid_r r = cpuid(1, 0);

	checkd(r.c & L1_ECX_HYPERVISOR, "hypervisor bit (1 ECX 31) is set", "ECX 0x%08x", r.c);
	checkd((r.b >> L1_EBX_APIC_ID_SHIFT) == 0, "initial APIC ID (1 EBX 31:24) is 0",
	       "EBX 0x%08x", r.b);
}

/* Leaf 0xA: the PMU is not offered, so the whole leaf reads zero. */
static void check_pmu(void)
{
	struct cpuid_r r;

	if (!leaf_valid(0xA)) {
		note("max basic leaf 0x%x: leaf 0xA not enumerated", max_basic);
		check(true, "PMU leaf 0xA is all zero");
		return;
	}
	r = cpuid(0xA, 0);
	checkd(!r.a && !r.b && !r.c && !r.d, "PMU leaf 0xA is all zero",
	       "EAX 0x%x EBX 0x%x ECX 0x%x EDX 0x%x", r.a, r.b, r.c, r.d);
}

/* OSXSAVE mirrors CR4.OSXSAVE (SDM vol. 2A CPUID leaf 1 ECX 27). */
static void check_osxsave(void)
{
	uint64_t cr4 = read_cr4();

	if (!(cpuid(1, 0).c & L1_ECX_XSAVE)) {
		note("XSAVE not offered: CR4.OSXSAVE cannot be set");
		checkd(!(cpuid(1, 0).c & L1_ECX_OSXSAVE), "OSXSAVE is clear without XSAVE", NULL);
		return;
	}
	write_cr4(cr4 & ~CR4_OSXSAVE);
	checkd(!(cpuid(1, 0).c & L1_ECX_OSXSAVE), "OSXSAVE is clear with CR4.OSXSAVE clear", NULL);
	write_cr4(cr4 | CR4_OSXSAVE);
	checkd(cpuid(1, 0).c & L1_ECX_OSXSAVE, "OSXSAVE is set with CR4.OSXSAVE set", NULL);
	write_cr4(cr4 & ~CR4_OSXSAVE);
	checkd(!(cpuid(1, 0).c & L1_ECX_OSXSAVE), "OSXSAVE is clear again after clearing CR4",
	       NULL);
	write_cr4(cr4);
}

void guest_main(void)
{
	struct cpuid_r r0 = cpuid(0, 0);
	char vendor[13];

	max_basic = r0.a;
	max_ext = cpuid(LEAF_EXT, 0).a;
	if (max_ext < LEAF_EXT)
		max_ext = 0;
	memcpy(vendor, &r0.b, 4);
	memcpy(vendor + 4, &r0.d, 4);
	memcpy(vendor + 8, &r0.c, 4);
	vendor[12] = '\0';
	note("vendor \"%s\", max basic leaf 0x%x, max extended leaf 0x%x", vendor, max_basic,
	     max_ext);

	check_leaf1();
	check_signature();
	check_hidden();
	check_pmu();
	check_osxsave();
}
