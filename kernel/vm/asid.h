/* Address-space tags for guest TLB entries (SVM ASIDs, VMX VPIDs), handed out
 * per host CPU with a generation count, so no tag is ever shared by two vCPUs
 * on one CPU and nothing needs flushing on a vCPU switch.
 *
 * Each host CPU gives tags first..max-1 in turn. A vCPU keeps its tag while it
 * stays on the CPU that gave it and that CPU's generation has not moved. A
 * vCPU arriving from another CPU, or from an older generation, gets the next
 * tag; when a CPU runs out, its generation moves on and the caller must flush
 * every tag on that CPU before entering the guest (stale translations of the
 * previous generation could otherwise match a re-used tag).
 *
 * Pure logic; each struct asid_cpu belongs to one host CPU. */
#ifndef KEEL_VM_ASID_H
#define KEEL_VM_ASID_H

#include <stdbool.h>
#include <stdint.h>

struct asid_cpu {
	uint64_t gen; /* starts at 1: a zeroed vCPU never matches */
	uint32_t next, first, max;
};

struct asid_vcpu {
	uint64_t gen;
	uint32_t asid;
	int cpu; /* host CPU that gave the tag */
};

/* Tags first..max-1 (first >= 1: tag 0 is the host's); max > first. */
void asid_cpu_init(struct asid_cpu *c, uint32_t first, uint32_t max);

/* Makes sure v has a valid tag for entering on this cpu. Returns true when
 * every tag on this CPU must be flushed first. */
bool asid_assign(struct asid_cpu *c, int cpu, struct asid_vcpu *v);

/* The check asid_assign starts with, for the entry path: v's tag is still
 * good on this cpu. */
static inline bool asid_current(const struct asid_cpu *c, int cpu, const struct asid_vcpu *v)
{
	return v->cpu == cpu && v->gen == c->gen;
}

#endif
