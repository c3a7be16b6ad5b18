/* bench: the cost of one VM-exit round trip, in TSC ticks, for the exits a
 * guest takes most: CPUID, port I/O (COM1's THR and the test device's
 * SCRATCH register) and MMIO through the instruction decoder (a write and a
 * read on the test device's MMIO page). tests/bench/run_bench.py runs it
 * under QEMU with icount, where one TSC tick is one instruction, so the
 * figures count the instructions Keel executes per exit and do not depend
 * on the host.
 *
 * Each sample is one timed window: rdtsc, save the reading, load RAX and RDX
 * (which rdtsc overwrote) with the instruction's operands, the instruction,
 * rdtscp. Every kind runs the same window around its own instruction, and
 * the baseline kind runs a nop there, so "kind minus baseline" is the cost
 * of the instruction alone. After BENCH_WARMUP untimed windows, BENCH_N
 * samples are taken and sorted; the guest prints one line per kind:
 *
 *     bench: KIND n=N min=A median=B p90=C
 *
 * (median: the lower median, sample (N-1)/2 of the sorted list; p90: the
 * nearest-rank 90th percentile, sample ceil(0.9 N) - 1), then checks that
 * the exits reached the devices and ends with PASS or FAIL through the
 * debug-exit port. Under plain QEMU the figures are those of TCG without a
 * hypervisor and the device checks fail. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define BENCH_N 10000
#define BENCH_WARMUP 100
#define LEAF_HV 0x40000000u
#define COM1_THR RT_COM1 /* the byte written is a NUL: the runner drops them */
#define SCRATCH_PORT (TESTDEV_PIO_BASE + TESTDEV_SCRATCH)
#define SCRATCH_VALUE 0x5A
#define MMIO_OFF 0x40 /* any offset in the page */
#define MMIO_VALUE 0xC0FFEE11u
#define SAMPLE_MAX 0xFFFFFFFFull

const char rt_name[] = "bench";

/* One window around insn; returns the TSC difference. a and d go to RAX and
 * RDX inside the window, c and b are in RCX and RBX when it starts (cpuid
 * reads ECX; the MMIO forms address through RBX). The early clobbers keep a
 * and d out of the registers rdtsc overwrites. */
#define DEFINE_WINDOW(fn, insn)                                                                    \
	static uint64_t fn(uint64_t a, uint64_t d, uint64_t c, uint64_t b)                         \
	{                                                                                          \
		uint32_t lo0, hi0, lo1, hi1;                                                       \
		asm volatile("lfence\n\t"                                                          \
			     "rdtsc\n\t"                                                           \
			     "lfence\n\t"                                                          \
			     "mov %%eax, %[lo0]\n\t"                                               \
			     "mov %%edx, %[hi0]\n\t"                                               \
			     "mov %[a], %%rax\n\t"                                                 \
			     "mov %[d], %%rdx\n\t" insn "\n\t"                                     \
			     "rdtscp\n\t"                                                          \
			     "lfence"                                                              \
			     : [lo0] "=&r"(lo0), [hi0] "=&r"(hi0), "=&a"(lo1), "=&d"(hi1),         \
			       "+c"(c), "+b"(b)                                                    \
			     : [a] "r"(a), [d] "r"(d)                                              \
			     : "memory");                                                          \
		return ((((uint64_t)hi1 << 32) | lo1) - (((uint64_t)hi0 << 32) | lo0));            \
	}

DEFINE_WINDOW(window_nop, "nop")
DEFINE_WINDOW(window_cpuid, "cpuid")
DEFINE_WINDOW(window_outb, "outb %%al, %%dx")
DEFINE_WINDOW(window_mmio_write, "movl %%eax, (%%rbx)")
DEFINE_WINDOW(window_mmio_read, "movl (%%rbx), %%eax")

struct kind {
	const char *name;
	uint64_t (*window)(uint64_t a, uint64_t d, uint64_t c, uint64_t b);
	uint64_t a, d, c, b;
};

static const struct kind kinds[] = {
    {"baseline", window_nop, 0, 0, 0, 0},
    {"cpuid", window_cpuid, LEAF_HV, 0, 0, 0},
    {"pio-com1", window_outb, 0, COM1_THR, 0, 0},
    {"pio-testdev", window_outb, SCRATCH_VALUE, SCRATCH_PORT, 0, 0},
    {"mmio-write", window_mmio_write, MMIO_VALUE, 0, 0, TESTDEV_MMIO_BASE + MMIO_OFF},
    {"mmio-read", window_mmio_read, 0, 0, 0, TESTDEV_MMIO_BASE + MMIO_OFF},
};

static uint32_t samples[BENCH_N];

/* Heapsort: in place, O(n log n), no recursion. */
static void sift_down(uint32_t *v, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		uint32_t t = v[root];
		v[root] = v[child];
		v[child] = t;
	}
}

static void sort(uint32_t *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		uint32_t t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

static void run(const struct kind *k)
{
	for (unsigned i = 0; i < BENCH_WARMUP; i++)
		k->window(k->a, k->d, k->c, k->b);
	for (unsigned i = 0; i < BENCH_N; i++) {
		uint64_t t = k->window(k->a, k->d, k->c, k->b);
		samples[i] = t > SAMPLE_MAX ? (uint32_t)SAMPLE_MAX : (uint32_t)t;
	}
	sort(samples, BENCH_N);
}

void guest_main(void)
{
	volatile uint32_t *mmio = (volatile uint32_t *)(uintptr_t)(TESTDEV_MMIO_BASE + MMIO_OFF);
	struct {
		unsigned min, median, p90;
	} r[ARRAY_SIZE(kinds)];
	uint32_t mmio_count = 0;

	note("%u samples per kind after %u warm-up rounds; TSC ticks per window", BENCH_N,
	     BENCH_WARMUP);
	/* Nothing is printed while the windows run, so the console output
	 * cannot interleave with them; the results follow at the end. */
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (kinds[i].window == window_mmio_write)
			outl(TESTDEV_PIO_BASE + TESTDEV_MMIO_COUNT, 0);
		run(&kinds[i]);
		if (kinds[i].window == window_mmio_write)
			mmio_count = inl(TESTDEV_PIO_BASE + TESTDEV_MMIO_COUNT);
		r[i].min = samples[0];
		r[i].median = samples[(BENCH_N - 1) / 2];
		r[i].p90 = samples[(9 * BENCH_N + 9) / 10 - 1];
	}
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		rt_printf("bench: %s n=%u min=%u median=%u p90=%u\n", kinds[i].name, BENCH_N,
			  r[i].min, r[i].median, r[i].p90);

	struct cpuid_r hv = cpuid(LEAF_HV, 0);
	char sig[13];
	memcpy(sig, &hv.b, 4);
	memcpy(sig + 4, &hv.c, 4);
	memcpy(sig + 8, &hv.d, 4);
	sig[12] = 0;
	checkd(strcmp(sig, "KeelKeelKeel") == 0, "CPUID 0x40000000 is Keel's leaf", "got '%s'",
	       sig);
	check_eq(inb(SCRATCH_PORT), SCRATCH_VALUE, "the SCRATCH writes reached the test device");
	check_eq(mmio_count, BENCH_WARMUP + BENCH_N,
		 "every timed MMIO write reached the test device once");
	check_eq(*mmio, MMIO_VALUE, "the MMIO page holds the value written");
}
