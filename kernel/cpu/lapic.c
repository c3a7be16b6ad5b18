/* Local APIC access, xAPIC (MMIO) or x2APIC (MSRs) as the firmware left it. */
#include "cpu/lapic.h"
#include "cpu/cpu.h"
#include "cpu/timer.h"
#include "keel/x86.h"
#include "mm/kmem.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull
#define MSR_X2APIC_FIRST 0x800

#define LAPIC_ID 0x20
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0

#define SVR_ENABLE (1u << 8)
#define SPURIOUS_VECTOR 0xFF
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_NMI (4u << 8)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_PENDING (1u << 12)
#define ICR_ALL_BUT_SELF (3u << 18)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define ICR_FIXED 0u
#define TIMER_DIV_16 0x3
#define CALIBRATION_US 10000ull
#define ICR_WAIT_US 100000ull

static int x2apic;
static uint64_t timer_hz; /* LAPIC timer ticks per second at divide 16 */
static volatile uint32_t *mmio;

static uint32_t lapic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_FIRST + (reg >> 4));
	return mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_FIRST + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

static void spurious(struct regs *r)
{
	(void)r; /* SDM 11.9: a spurious interrupt takes no EOI */
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base |= APIC_BASE_ENABLE);
	x2apic = !!(base & APIC_BASE_X2APIC);
	mmio = phys_to_virt(base & APIC_BASE_ADDR_MASK);
	irq_register(SPURIOUS_VECTOR, spurious);
	lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);

	return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static int send_ipi(uint32_t apic_id, uint32_t icr)
{
	uint64_t waited = 0;

	if (x2apic) {
		wrmsr(MSR_X2APIC_FIRST + (LAPIC_ICR_LO >> 4), ((uint64_t)apic_id << 32) | icr);
		return 0;
	}
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	while (lapic_read(LAPIC_ICR_LO) & ICR_PENDING) {
		if (waited++ > ICR_WAIT_US)
			return -1;
		udelay(1);
	}
	return 0;
}

int lapic_send_init(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

int lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
	return send_ipi(apic_id, ICR_STARTUP | page);
}

void lapic_send_nmi_all_but_self(void)
{
	(void)send_ipi(0, ICR_NMI | ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT);
}

uint64_t lapic_timer_calibrate(void)
{
	uint32_t c0, c1;
	uint64_t t0, t1;

	/* Against the TSC (timer_init() measured it), with each count read
	 * next to a TSC read: the time a wait overruns does not count. */
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | SPURIOUS_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
	c0 = lapic_read(LAPIC_TIMER_CUR);
	t0 = rdtsc();
	udelay(CALIBRATION_US);
	c1 = lapic_read(LAPIC_TIMER_CUR);
	t1 = rdtsc();
	lapic_write(LAPIC_TIMER_INIT, 0);
	timer_hz = (uint64_t)((unsigned __int128)(c0 - c1) * tsc_hz() / (t1 - t0));
	return timer_hz;
}

void lapic_timer_periodic(uint8_t vector, unsigned hz)
{
	uint64_t count = timer_hz / hz;

	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu;
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
}

/* One-shot: an interrupt on vector when `tsc` is reached (converted to the
 * LAPIC timer's rate; a deadline in the past fires at once). Counting at
 * divide 16 keeps even long deadlines within the 32-bit count. */
void lapic_timer_oneshot_at(uint8_t vector, uint64_t tsc)
{
	uint64_t now = rdtsc(), hz = tsc_hz(), count = 1;

	if (tsc > now && hz)
		count = (uint64_t)(((unsigned __int128)(tsc - now) * timer_hz) / hz) + 1;
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu;
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, vector);
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	(void)send_ipi(apic_id, ICR_FIXED | ICR_LEVEL_ASSERT | vector);
}

void lapic_send_ipi_all_but_self(uint8_t vector)
{
	(void)send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | vector);
}
