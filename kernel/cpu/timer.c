/* Time: the TSC measured against a fixed-frequency reference, the ACPI PM
 * timer when the FADT names one, else PIT channel 2. */
#include "cpu/timer.h"
#include "keel/x86.h"
#include "main/platform.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define PIT_CH2_DATA 0x42
#define PIT_COMMAND 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xB0
#define PORT_61 0x61
#define PORT_61_GATE2 0x01
#define PORT_61_SPEAKER 0x02
#define PORT_61_OUT2 0x20
#define PIT_MAX_US 50000ull /* one 16-bit PIT count lasts ~54.9 ms */
#define CALIBRATION_US 10000ull
#define PM_WINDOW_US 50000ull /* well inside the 24-bit counter's 4.7 s wrap */

static uint64_t tsc_freq;
static uint32_t pm_port;
static uint32_t pm_mask;

static uint64_t pm_ticks(uint64_t us)
{
	return us * PM_TIMER_HZ / 1000000ull;
}

static void pm_delay(uint64_t us)
{
	uint64_t need = pm_ticks(us), done = 0;
	uint32_t last = inl((uint16_t)pm_port) & pm_mask;

	while (done < need) {
		uint32_t now = inl((uint16_t)pm_port) & pm_mask;
		done += (now - last) & pm_mask; /* the counter wraps at 24 or 32 bits */
		last = now;
	}
}

static void pit_delay_once(uint64_t us)
{
	uint16_t count = (uint16_t)(us * PIT_HZ / 1000000ull);
	uint8_t p61 = (inb(PORT_61) & ~PORT_61_SPEAKER) & ~PORT_61_GATE2;

	outb(PORT_61, p61);
	outb(PIT_COMMAND, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2_DATA, count & 0xFF);
	outb(PIT_CH2_DATA, count >> 8);
	outb(PORT_61, p61 | PORT_61_GATE2);
	while (!(inb(PORT_61) & PORT_61_OUT2))
		cpu_relax();
	outb(PORT_61, p61);
}

static void pit_delay(uint64_t us)
{
	while (us) {
		uint64_t step = us < PIT_MAX_US ? us : PIT_MAX_US;
		pit_delay_once(step);
		us -= step;
	}
}

/* The PM timer's count and the TSC at the middle of its read. Under an
 * emulator a port read takes tens of microseconds; taking the TSC on both
 * sides keeps that out of the measurement. */
static void pm_sample(uint32_t *pm, uint64_t *tsc)
{
	uint64_t before = rdtsc(), after;

	*pm = inl((uint16_t)pm_port) & pm_mask;
	after = rdtsc();
	*tsc = before + (after - before) / 2;
}

/* TSC ticks per second from the TSC and PM-timer counts over PM_WINDOW_US
 * (the counts actually elapsed, not the ones asked for: a 10 ms wait that
 * overran by two slow port reads was 0.4% off under QEMU). */
static uint64_t measure_against_pm(void)
{
	uint32_t pm0, pm1;
	uint64_t t0, t1, ticks;

	pm_sample(&pm0, &t0);
	pm_delay(PM_WINDOW_US);
	pm_sample(&pm1, &t1);
	ticks = (pm1 - pm0) & pm_mask;
	return ticks ? (t1 - t0) * PM_TIMER_HZ / ticks : 0;
}

void timer_init(void)
{
	const struct acpi_info *a = platform_acpi();
	uint64_t t0, t1;

	if (a && a->pm_timer_port) {
		pm_port = a->pm_timer_port;
		pm_mask = a->pm_timer_32bit ? 0xFFFFFFFFu : 0xFFFFFFu;
	}
	if (pm_port) {
		tsc_freq = measure_against_pm();
		if (tsc_freq)
			return;
		pm_port = 0; /* a PM timer that does not count: use the PIT */
	}
	t0 = rdtsc();
	pit_delay(CALIBRATION_US);
	t1 = rdtsc();
	tsc_freq = (t1 - t0) * (1000000ull / CALIBRATION_US);
}

uint64_t tsc_hz(void)
{
	return tsc_freq;
}

const char *timer_reference(void)
{
	return pm_port ? "ACPI PM timer" : "PIT";
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * (tsc_freq / 1000000ull);

	while (rdtsc() < end)
		cpu_relax();
}
