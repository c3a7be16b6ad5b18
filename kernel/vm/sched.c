/* vCPU scheduling: round-robin slices on every CPU but the boot CPU, with
 * one-shot timers (see sched.h). */
#include "vm/sched.h"

#include "core/printk.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "cpu/timer.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "vdev/vdev.h"
#include "vm/exit.h"
#include "vm/vm.h"

#define VEC_SCHED_TIMER 0xF0
#define VEC_SCHED_KICK 0xF1
#define MS_PER_S 1000

static volatile uint64_t armed[KEEL_MAX_CPUS]; /* TSC the timer fires at, or VDEV_NEVER */
static unsigned rotor;			       /* where the next search starts, so VMs take turns */

static void on_timer(struct regs *r)
{
	(void)r;
	armed[this_cpu()] = VDEV_NEVER;
	lapic_eoi();
}

/* A kick only has to interrupt: a guest exits, a halted CPU wakes. */
static void on_kick(struct regs *r)
{
	(void)r;
	lapic_eoi();
}

void sched_init_cpu(void)
{
	if (this_cpu() == 0) {
		irq_register(VEC_SCHED_TIMER, on_timer);
		irq_register(VEC_SCHED_KICK, on_kick);
	}
	armed[this_cpu()] = VDEV_NEVER;
}

uint64_t sched_slice_tsc(void)
{
	return tsc_hz() / MS_PER_S * SCHED_SLICE_MS;
}

void sched_arm(uint64_t due)
{
	unsigned cpu = this_cpu();

	if (due >= armed[cpu])
		return;
	armed[cpu] = due;
	lapic_timer_oneshot_at(VEC_SCHED_TIMER, due);
}

void sched_watchdog(void)
{
	static uint64_t last;
	uint64_t now = rdtsc(), late = tsc_hz() / MS_PER_S * SCHED_LATE_MS;
	unsigned self = this_cpu();

	if (now - last < late)
		return;
	last = now;
	for (unsigned c = 0; c < platform_cpus_online() && c < KEEL_MAX_CPUS; c++) {
		uint64_t due = armed[c];

		if (c != self && due < now - late) /* VDEV_NEVER never is */
			lapic_send_ipi(platform_cpu_apic_id(c), VEC_SCHED_KICK);
	}
}

void sched_kick(void)
{
	if (platform_cpus_online() > 1)
		lapic_send_ipi_all_but_self(VEC_SCHED_KICK);
}

void sched_kick_vcpu(struct vcpu *v)
{
	int cpu = __atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE);

	if (cpu < 0)
		sched_kick();
	else if ((unsigned)cpu != this_cpu())
		lapic_send_ipi(platform_cpu_apic_id((unsigned)cpu), VEC_SCHED_KICK);
}

/* A vCPU no CPU runs that has something to do. Called under the list lock. */
static bool runnable(struct vcpu *v, uint64_t now)
{
	if (v->cpu >= 0 || v->vm->state != VM_RUNNING)
		return false;
	if (v->init_pending || v->sipi_pending)
		return true;
	if (v->wait == VCPU_HALTED)
		return vcpu_irq_hint(v) || vm_timers_due(v->vm) <= now;
	return v->wait == VCPU_READY;
}

/* Claims the next runnable vCPU after the rotor for cpu, or NULL; *next_due
 * gets the earliest guest timer of the VMs seen (for an idle CPU). */
static struct vcpu *pick(int cpu, uint64_t *next_due)
{
	struct spinlock *l = vm_list_lock();
	uint64_t f = spin_lock_irqsave(l), now = rdtsc();
	struct vcpu *found = NULL;
	unsigned n = 0, start = rotor;

	*next_due = VDEV_NEVER;
	for (int pass = 0; pass < 2 && !found; pass++) {
		n = 0;
		for (struct vm *vm = vm_first(); vm && !found; vm = vm->next) {
			if (vm->state == VM_RUNNING && vm_timers_due(vm) < *next_due)
				*next_due = vm_timers_due(vm);
			for (unsigned i = 0; i < vm->nvcpus && !found; i++, n++) {
				if ((pass == 0 && n < start) || (pass == 1 && n >= start))
					continue;
				if (runnable(vm->vcpus[i], now))
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

/* Runs one slice if there is a vCPU to run; else arms the timer for the
 * next guest timer due (capped) and returns false. */
static bool run_one(void)
{
	unsigned cpu = this_cpu();
	uint64_t due, cap = rdtsc() + tsc_hz() / MS_PER_S * SCHED_IDLE_MAX_MS;
	struct vcpu *v = pick((int)cpu, &due);

	if (!v) {
		sched_arm(due < cap ? due : cap);
		return false;
	}
	vcpu_run_slice(v);
	release(v);
	vm_reboot_if_pending(v->vm);
	return true;
}

_Noreturn void sched_ap_loop(void)
{
	for (;;) {
		/* Interrupts stay off from the search to the hlt, so a kick sent
		 * after the search wakes the hlt instead of being taken before. */
		__asm__ volatile("cli");
		if (run_one())
			continue;
		sched_watchdog(); /* the boot CPU halts too */
		__asm__ volatile("sti; hlt");
	}
}

void sched_idle_until(uint64_t due)
{
	__asm__ volatile("cli");
	sched_arm(due);
	__asm__ volatile("sti; hlt");
}

bool sched_poll_bsp(void)
{
	if (platform_cpus_online() > 1)
		return false;
	return run_one();
}
