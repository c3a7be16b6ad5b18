/* Which host CPU runs which vCPU, and when. Every CPU other than the boot
 * CPU runs vCPUs round-robin in slices; the boot CPU serves the management
 * shell and runs vCPUs only when it is the only CPU, between keystrokes, so
 * the prompt stays responsive either way.
 *
 * Each CPU has one one-shot LAPIC timer, armed for the earliest of: the end
 * of the running slice, the next guest timer of the running VM, or (idle)
 * the next guest timer of any VM. A CPU with nothing to run halts until that
 * timer or a kick. */
#ifndef KEEL_VM_SCHED_H
#define KEEL_VM_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_SLICE_MS 10
#define SCHED_IDLE_MAX_MS 100 /* an idle CPU looks again at least this often */

struct vcpu;

/* Sets up this CPU's timer and interrupt handlers (every CPU, after the
 * LAPIC is calibrated). */
void sched_init_cpu(void);
/* The loop of every application processor. */
_Noreturn void sched_ap_loop(void);
/* From the boot CPU's idle loop: runs one slice when no other CPU can.
 * Returns true if it ran a vCPU. */
bool sched_poll_bsp(void);
/* Wakes idle CPUs: something became runnable. */
void sched_kick(void);
/* Something for v arrived: make sure it is seen soon (an IPI to the CPU
 * running it, or a wake-up for the idle ones). */
void sched_kick_vcpu(struct vcpu *v);
/* From the idle loops: kicks a CPU whose timer interrupt has not been
 * taken SCHED_LATE_MS after it was due. A lost wake-up would otherwise
 * leave that CPU halted, and the vCPUs waiting for it (or the shell), until
 * the next kick; QEMU 7.2's TCG lost one now and then. Looks at most every
 * SCHED_LATE_MS. */
#define SCHED_LATE_MS 20
void sched_watchdog(void);
/* Halts this CPU until its timer, armed no later than the TSC time `due`,
 * or another interrupt (the boot CPU's idle loop: an idle shell must not
 * keep a CPU busy, which under an emulator also starves the emulator's
 * own timer thread of a host CPU). */
void sched_idle_until(uint64_t due);
/* Makes this CPU's timer fire no later than the guest-TSC time `due`. */
void sched_arm(uint64_t due);
/* The TSC length of a slice. */
uint64_t sched_slice_tsc(void);

#endif
