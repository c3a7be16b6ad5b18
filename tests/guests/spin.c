/* spin: never ends. Prints "spin: alive", then loops: each iteration does
 * some arithmetic and writes the result to the test device's SCRATCH
 * register (one port exit under Keel). It prints "spin: tick N" at most once
 * per 2^20 iterations, and only when the TSC has also moved 2^31 cycles
 * (about a second) or 2^24 iterations have passed (a TSC that stands still
 * must not silence it). It is the witness that a second VM keeps running
 * while another one fails, so it keeps its output small.
 *
 * "spin paced" (needs a LAPIC): after each port write it halts until the
 * next tick of the LAPIC timer (periodic, about 1 kHz), so it still shows
 * progress (about 1000 exits a second) without taking a whole CPU from
 * guests that time things beside it.
 *
 * "spin hog": a hostile guest. After "spin: hogging" it spins with
 * interrupts off and never exits on its own (no port, MMIO or HLT), so only
 * Keel's own timer takes the CPU back from it; the VMs sharing that CPU
 * must still finish. */
#include "pc.h"

#include "../../kernel/vdev/testdev_abi.h"

#define TICK_MIN_ITERS (1ull << 20)
#define TICK_MAX_ITERS (1ull << 24)
#define TICK_TSC (1ull << 31)
#define VEC_PACE 0x40
#define PACE_HZ 1000
#define DCR_DIV1 0xB

const char rt_name[] = "spin";

static void on_pace(struct rt_frame *f)
{
	(void)f;
	pc_lapic_eoi();
}

static void pace_start(void)
{
	const char *how;

	pc_lapic_enable();
	rt_set_irq(VEC_PACE, on_pace);
	pc_lapic_write(LAPIC_TIMER_DIV, DCR_DIV1);
	pc_lapic_write(LAPIC_LVT_TIMER, VEC_PACE | LVT_TIMER_PERIODIC);
	pc_lapic_write(LAPIC_TIMER_INIT, (uint32_t)(pc_lapic_bus_hz(&how) / PACE_HZ));
}

static _Noreturn void hog(void)
{
	volatile uint64_t n = 0;

	rt_puts("spin: hogging\n");
	__asm__ volatile("cli");
	for (;;)
		n++;
}

void guest_main(void)
{
	bool paced = rt_arg("paced");

	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint64_t tick = 0, since = 0, last_tsc = rdtsc();

	if (rt_arg("hog"))
		hog();
	if (paced)
		pace_start();
	rt_puts("spin: alive\n");
	for (uint64_t i = 1;; i++) {
		/* xorshift64: cheap work the compiler cannot fold away. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		outl(TESTDEV_PIO_BASE + TESTDEV_SCRATCH, (uint32_t)(x ^ i));
		if (paced)
			__asm__ volatile("sti; hlt; cli");
		if (++since < (paced ? PACE_HZ : TICK_MIN_ITERS))
			continue;
		if (rdtsc() - last_tsc >= TICK_TSC || since >= TICK_MAX_ITERS || paced) {
			rt_printf("spin: tick %lu\n", ++tick);
			since = 0;
			last_tsc = rdtsc();
		}
	}
}
