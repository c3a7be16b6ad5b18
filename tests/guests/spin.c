/* spin: never ends. Prints "spin: alive", then loops: each iteration does
 * some arithmetic and writes the result to the test device's SCRATCH
 * register (one port exit under Keel). It prints "spin: tick N" at most once
 * per 2^20 iterations, and only when the TSC has also moved 2^31 cycles
 * (about a second) or 2^24 iterations have passed (a TSC that stands still
 * must not silence it). It is the witness that a second VM keeps running
 * while another one fails, so it keeps its output small. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define TICK_MIN_ITERS (1ull << 20)
#define TICK_MAX_ITERS (1ull << 24)
#define TICK_TSC (1ull << 31)

const char rt_name[] = "spin";

void guest_main(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint64_t tick = 0, since = 0, last_tsc = rdtsc();

	rt_puts("spin: alive\n");
	for (uint64_t i = 1;; i++) {
		/* xorshift64: cheap work the compiler cannot fold away. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		outl(TESTDEV_PIO_BASE + TESTDEV_SCRATCH, (uint32_t)(x ^ i));
		if (++since < TICK_MIN_ITERS)
			continue;
		if (rdtsc() - last_tsc >= TICK_TSC || since >= TICK_MAX_ITERS) {
			rt_printf("spin: tick %lu\n", ++tick);
			since = 0;
			last_tsc = rdtsc();
		}
	}
}
