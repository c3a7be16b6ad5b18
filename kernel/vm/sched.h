/* Which host CPU runs which vCPU. Every CPU other than the boot CPU runs
 * vCPUs round-robin in slices ended by a periodic LAPIC timer; the boot CPU
 * serves the management shell and runs vCPUs only when it is the only CPU,
 * between shell keystrokes, so the prompt stays responsive either way. */
#ifndef KEEL_VM_SCHED_H
#define KEEL_VM_SCHED_H

#include <stdbool.h>

#define SCHED_HZ 100 /* slice length: 10 ms */

/* Starts this CPU's slice timer (every CPU, after the LAPIC is calibrated). */
void sched_init_cpu(void);
/* The loop of every application processor. */
_Noreturn void sched_ap_loop(void);
/* From the boot CPU's idle loop: runs one slice when no other CPU can.
 * Returns true if it ran a vCPU. */
bool sched_poll_bsp(void);
/* Wakes idle CPUs: a VM became runnable. */
void sched_kick(void);

#endif
