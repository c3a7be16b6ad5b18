/* CPU bring-up: time references, the BSP's LAPIC, and every application
 * processor started with INIT-SIPI-SIPI into its own idle loop. */
#include "core/printk.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "cpu/timer.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "mm/kmem.h"
#include "cpu/fpu.h"
#include "drivers/pic/pic8259.h"
#include "drivers/rtc/cmos.h"
#include "vm/sched.h"
#include "vm/virt.h"

#define MAX_CPUS KEEL_MAX_CPUS
#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
#define AP_ONLINE_TIMEOUT_US 500000
#define STOP_TIMEOUT_US 1000000 /* as long as a loaded emulator host may need */
#define STOP_RESEND_US 100000
#define MSR_GS_BASE 0xC0000101

struct percpu {
	struct percpu *self;
	unsigned index;
	uint32_t apic_id;
	volatile int online;
	volatile int stopped; /* halted for good by another CPU's panic */
};

extern char trampoline_start[], trampoline_end[];
extern char trampoline_cr3[], trampoline_stack[], trampoline_entry[], trampoline_cpu[],
    trampoline_kcr3[];
extern char boot_pml4[], ap_entry_asm[];

static struct percpu cpus[MAX_CPUS];
static unsigned ncpus = 1;
static volatile unsigned cpus_online = 1;

unsigned platform_cpus_online(void)
{
	return cpus_online;
}

bool platform_cpu_online(uint32_t apic_id)
{
	for (unsigned i = 0; i < ncpus; i++)
		if (cpus[i].apic_id == apic_id && (i == 0 || cpus[i].online))
			return true;
	return false;
}

uint32_t platform_cpu_apic_id(unsigned index)
{
	return cpus[index].apic_id;
}

unsigned this_cpu(void)
{
	unsigned index;

	__asm__ volatile("movl %%gs:%c1, %0"
			 : "=r"(index)
			 : "i"(__builtin_offsetof(struct percpu, index)));
	return index;
}

static void percpu_setup(unsigned index, uint32_t apic_id)
{
	struct percpu *p = &cpus[index];

	p->self = p;
	p->index = index;
	p->apic_id = apic_id;
	wrmsr(MSR_GS_BASE, (uint64_t)p);
}

_Noreturn void platform_stop_this_cpu(void)
{
	/* Interrupts are off here (NMI gates are interrupt gates, and a
	 * panicking CPU has cleared IF), so once the flag is up this CPU can
	 * do nothing more; a repeated NMI is blocked and changes nothing. */
	__asm__ volatile("cli");
	cpus[this_cpu()].stopped = 1;
	halt_forever();
}

static void nmi_stop(struct regs *r)
{
	(void)r;
	platform_stop_this_cpu(); /* another CPU panicked */
}

static unsigned others_running(void)
{
	unsigned n = 0, self = this_cpu();

	for (unsigned i = 0; i < ncpus; i++)
		if (i != self && (i == 0 || cpus[i].online) && !cpus[i].stopped)
			n++;
	return n;
}

void ap_main(unsigned index)
{
	percpu_setup(index, 0); /* first: a panic from here on needs this_cpu() */
	cpu_init_tables(index);
	lapic_init();
	cpus[index].apic_id = lapic_id();
	fpu_init_cpu();
	virt_enable_this_cpu(index);
	sched_init_cpu();
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_SEQ_CST);
	cpus[index].online = 1;
	sched_ap_loop();
}

static void set_param(char *field, uint64_t v)
{
	uint64_t pa = kmem_trampoline_page() + (uint64_t)(field - trampoline_start);

	*(volatile uint64_t *)phys_to_virt(pa) = v;
}

static int start_ap(unsigned index, uint32_t apic_id)
{
	uint64_t top;
	uint8_t page = (uint8_t)(kmem_trampoline_page() >> 12);

	if (kmem_alloc_stack(&top) != ST_OK) {
		pr_err("smp: no memory for CPU %u's stack\n", index);
		return -1;
	}
	set_param(trampoline_cr3, kernel_virt_to_phys(boot_pml4));
	set_param(trampoline_kcr3, read_cr3());
	set_param(trampoline_stack, top);
	set_param(trampoline_entry, (uint64_t)ap_entry_asm);
	set_param(trampoline_cpu, index);
	if (lapic_send_init(apic_id) < 0)
		return -1;
	udelay(INIT_DELAY_US);
	for (int i = 0; i < 2 && !cpus[index].online; i++) {
		if (lapic_send_sipi(apic_id, page) < 0)
			return -1;
		udelay(SIPI_DELAY_US);
	}
	for (unsigned us = 0; !cpus[index].online && us < AP_ONLINE_TIMEOUT_US; us += 100)
		udelay(100);
	return cpus[index].online ? 0 : -1;
}

static void start_aps(const struct acpi_info *a, uint32_t bsp_id, unsigned limit)
{
	memcpy(phys_to_virt(kmem_trampoline_page()), trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	for (uint32_t i = 0; i < a->ncpus; i++) {
		uint32_t id = a->cpus[i].apic_id;
		if (id == bsp_id || !a->cpus[i].enabled)
			continue;
		if (ncpus >= limit || ncpus >= MAX_CPUS) {
			pr_info("smp: CPU with APIC ID %u left offline (limit %u)\n", id, limit);
			continue;
		}
		cpus[ncpus].apic_id = id;
		if (start_ap(ncpus, id) < 0) {
			pr_err("smp: CPU with APIC ID %u did not come online\n", id);
			continue;
		}
		ncpus++;
	}
}

void platform_init_cpus(void)
{
	const struct acpi_info *a = platform_acpi();
	const struct keel_config *c = platform_config();
	unsigned limit = c->maxcpus ? c->maxcpus : MAX_CPUS;
	uint64_t lapic_hz;

	timer_init();
	cmos_init();
	pic_disable();
	lapic_init();
	percpu_setup(0, lapic_id());
	fpu_init_cpu();
	irq_register(VEC_NMI, nmi_stop);
	lapic_hz = lapic_timer_calibrate();
	pr_info("timer: TSC %lu.%03lu MHz (measured against the %s), LAPIC timer %lu.%03lu MHz "
		"(against the TSC)\n",
		tsc_hz() / 1000000, (tsc_hz() / 1000) % 1000, timer_reference(), lapic_hz / 1000000,
		(lapic_hz / 1000) % 1000);
	virt_init();
	virt_enable_this_cpu(0);
	sched_init_cpu();
	if (a && kmem_trampoline_page())
		start_aps(a, cpus[0].apic_id, limit);
	pr_info("%u CPUs online\n", cpus_online);
	if (virt_backend())
		pr_info("virt: %s enabled on %u of %u CPUs\n", virt_backend(), virt_cpus_enabled(),
			cpus_online);
}

/* Waits until every other CPU sits in nmi_stop(): the panic report is then
 * the last thing the machine does, not mixed with other CPUs' output. */
unsigned platform_stop_others(void)
{
	unsigned running = cpus_online > 1 ? others_running() : 0;

	for (unsigned us = 0; running && us < STOP_TIMEOUT_US; us += 10) {
		/* Sent again now and then in case one went astray; a stopped
		 * CPU blocks further NMIs, so a repeat does nothing there. */
		if (us % STOP_RESEND_US == 0)
			lapic_send_nmi_all_but_self();
		udelay(10);
		running = others_running();
	}
	return running;
}
