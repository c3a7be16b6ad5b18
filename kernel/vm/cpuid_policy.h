/* Guest CPUID policy: decides what a guest sees for CPUID(leaf, sub), given
 * the host's own CPUID values (read through a callback, so the logic is pure
 * and host-testable). Written from Intel SDM vol. 2A (CPUID) and AMD APM
 * vol. 3 (appendix E, CPUID).
 *
 * Design: one table of per-leaf rules. A rule names a leaf, a subleaf (or
 * CPUID_SUB_ANY) and, for each of EAX..EDX, a mask of host bits passed through
 * and a set of bits forced on. Feature words use allow-lists: a host bit the
 * table does not name is never shown, so a future CPU feature stays hidden
 * until someone decides the guest may see it. A few leaves are then computed
 * (max leaves, APIC IDs and topology, XSAVE sizes, the hypervisor leaves).
 *
 * Decisions (each also commented where it is implemented):
 *  - Max basic leaf: min(host max, 0x16). Max extended leaf:
 *    min(host max, 0x80000008).
 *  - A leaf above the guest's max basic/extended leaf returns all zeros.
 *    (Intel CPUs return the highest basic leaf's data instead; zeros are
 *    simpler and no guest we run depends on that quirk.)
 *  - A leaf in range but absent from the table returns all zeros.
 *  - Hypervisor leaves 0x40000000..0x400000FF are always Keel's, whether or
 *    not the host has any (a host hypervisor's leaves are never passed).
 *  - Topology: every vCPU is one core (one thread) of a single package; the
 *    initial/x2APIC ID is vcpu_id.
 *  - Leaves 0x15/0x16 (TSC/crystal ratio, core frequency) are computed from
 *    tsc_hz, never the host's: a TSC "crystal" at the TSC's own rate, 1/1,
 *    which is also what the virtual LAPIC timer counts.
 *
 * Duties left to the CPUID exit handler (the policy does not know guest
 * register state):
 *  - Leaf 1 ECX.OSXSAVE (bit 27) mirrors the guest's CR4.OSXSAVE: the policy
 *    always clears it; OR in CPUID_1_ECX_OSXSAVE when guest CR4.OSXSAVE is 1.
 *  - XSAVE/AVX are advertised, so XSETBV (always a VM exit on VMX) must be
 *    emulated, accepting only XCR0 values within leaf 0xD sub 0 EDX:EAX.
 *  - RDTSCP and RDPID are advertised: IA32_TSC_AUX must be per-vCPU. */
#ifndef KEEL_VM_CPUID_POLICY_H
#define KEEL_VM_CPUID_POLICY_H

#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* Executes (or fakes) CPUID(leaf, sub) on the host. */
typedef void (*cpuid_host_fn)(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *out);

struct cpuid_guest {
	uint32_t vcpu_id; /* initial APIC ID (low 8 bits in leaf 1, full in 0xB) */
	uint32_t nvcpus;  /* vCPUs in the VM; 0 is treated as 1 */
	uint64_t tsc_hz;  /* guest TSC frequency */
};

#define CPUID_SUB_ANY 0xFFFFFFFFu

/* Maximum leaves the guest sees (before clamping to the host's). */
#define CPUID_GUEST_MAX_BASIC 0x16u
#define CPUID_GUEST_MAX_EXT 0x80000008u
#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_MAX 0x40000001u /* highest Keel hypervisor leaf */
/* Leaf 0x40000001: EAX = guest TSC frequency in kHz, EBX = the virtual
 * LAPIC timer's input frequency in kHz (the same: it counts the TSC), ECX
 * bit 0 = Keel itself runs on a virtual CPU (the host's CPUID.1:ECX[31]):
 * its timer interrupts then come as late as the host below it lets them. */
#define CPUID_HV_FREQ 0x40000001u
#define CPUID_HV_FREQ_ECX_HOST_VIRTUAL (1u << 0)
#define CPUID_HV_SIG "KeelKeelKeel" /* EBX, ECX, EDX of 0x40000000 */

#define CPUID_1_ECX_OSXSAVE (1u << 27)

/* The guest's view of CPUID(leaf, sub). */
void cpuid_policy(cpuid_host_fn host, void *ctx, const struct cpuid_guest *g, uint32_t leaf,
		  uint32_t sub, struct cpuid_regs *out);

#endif
