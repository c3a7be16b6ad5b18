/* The exit dispatcher: the one place where a struct vm_exit from either
 * backend is handled, and the run loop around it. */
#ifndef KEEL_VM_EXIT_H
#define KEEL_VM_EXIT_H

#include <stdbool.h>

#include "vm/vm.h"

/* Runs v on the calling CPU for one slice, or until its VM leaves the
 * running state or v halts or waits. The caller has claimed v (v->cpu is
 * this CPU). */
void vcpu_run_slice(struct vcpu *v);

/* Handles one exit (exposed for the run loop and for tests of the rules). */
void vm_exit_dispatch(struct vcpu *v, struct vm_exit *e);

/* Could an interrupt be delivered to v now (one pending, RFLAGS.IF set, or
 * an NMI)? Takes the VM's lock. */
bool vcpu_irq_deliverable(struct vcpu *v);
/* The same without the lock, as a scheduling hint (see exit.c). */
bool vcpu_irq_hint(struct vcpu *v);

#endif
