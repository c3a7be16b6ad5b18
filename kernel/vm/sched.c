/* vCPU scheduling: round-robin slices on every CPU but the boot CPU. */
#include "vm/sched.h"

#include "core/printk.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "main/platform.h"
#include "vm/exit.h"
#include "vm/vm.h"

#define VEC_SCHED_TICK 0xF0
#define VEC_SCHED_KICK 0xF1

static volatile bool resched[KEEL_MAX_CPUS];
static unsigned rotor; /* where the next search starts, so VMs take turns */

static void on_tick(struct regs *r)
{
	(void)r;
	resched[this_cpu()] = true;
	lapic_eoi();
}

static void on_kick(struct regs *r)
{
	(void)r;
	lapic_eoi();
}

void sched_init_cpu(void)
{
	if (this_cpu() == 0) {
		irq_register(VEC_SCHED_TICK, on_tick);
		irq_register(VEC_SCHED_KICK, on_kick);
	}
	lapic_timer_periodic(VEC_SCHED_TICK, SCHED_HZ);
}

void sched_kick(void)
{
	if (platform_cpus_online() > 1)
		lapic_send_ipi_all_but_self(VEC_SCHED_KICK);
}

/* A vCPU no CPU runs that has something to do. Called under the list lock. */
static bool runnable(const struct vcpu *v)
{
	if (v->cpu >= 0 || v->vm->state != VM_RUNNING)
		return false;
	if (v->wait == VCPU_HALTED)
		return vcpu_irq_deliverable(v);
	return v->wait == VCPU_READY;
}

/* Claims the next runnable vCPU after the rotor for cpu, or NULL. */
static struct vcpu *pick(int cpu)
{
	struct spinlock *l = vm_list_lock();
	uint64_t f = spin_lock_irqsave(l);
	struct vcpu *found = NULL;
	unsigned n = 0, start = rotor;

	for (int pass = 0; pass < 2 && !found; pass++) {
		n = 0;
		for (struct vm *vm = vm_first(); vm && !found; vm = vm->next) {
			for (unsigned i = 0; i < vm->nvcpus && !found; i++, n++) {
				if ((pass == 0 && n < start) || (pass == 1 && n >= start))
					continue;
				if (runnable(vm->vcpus[i]))
					found = vm->vcpus[i];
			}
		}
	}
	if (found) {
		__atomic_store_n(&found->cpu, cpu, __ATOMIC_RELEASE);
		rotor = n; /* one past the vCPU just picked */
	}
	spin_unlock_irqrestore(l, f);
	return found;
}

static void release(struct vcpu *v)
{
	__atomic_store_n(&v->cpu, -1, __ATOMIC_RELEASE);
}

static bool run_one(void)
{
	unsigned cpu = this_cpu();
	struct vcpu *v = pick((int)cpu);

	if (!v)
		return false;
	resched[cpu] = false;
	vcpu_run_slice(v, &resched[cpu]);
	release(v);
	return true;
}

_Noreturn void sched_ap_loop(void)
{
	for (;;) {
		if (run_one())
			continue;
		/* Woken by the tick or a kick; sti;hlt has no lost-wakeup window. */
		__asm__ volatile("sti; hlt; cli");
	}
}

bool sched_poll_bsp(void)
{
	if (platform_cpus_online() > 1)
		return false;
	return run_one();
}
