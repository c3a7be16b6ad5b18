/* fpu: a guest's x87, SSE and AVX state survives Keel's exits and time
 * slices shared with another VM running the same guest with other values.
 *
 * The command line's last character seeds the values ("fpu_a", "fpu_b"),
 * so two VMs hold different register contents. The
 * guest enables SSE (and AVX through XSETBV when CPUID offers it, checking
 * XGETBV reads back what it set), fills xmm0-15 (ymm0-15 with AVX), the
 * x87 control word and MXCSR, then makes ROUNDS port exits and re-checks
 * everything every CHECK_EVERY exits. Enough rounds run to span many
 * scheduler slices, so the other VM runs in between on the same CPU. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define ROUNDS 200000u
#define CHECK_EVERY 1000u
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX (1u << 28)
#define XCR0_X87_SSE_AVX 0x7ull
#define NREGS 16

const char rt_name[] = "fpu";

void fpu_load_xmm(const void *src);
void fpu_store_xmm(void *dst);
void fpu_load_ymm(const void *src);
void fpu_store_ymm(void *dst);

static uint8_t want[NREGS * 32], got[NREGS * 32];
static bool avx;

static uint64_t read_cr0(void)
{
	uint64_t v;
	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void write_cr0(uint64_t v)
{
	asm volatile("mov %0, %%cr0" ::"r"(v));
}

static void xsetbv0(uint64_t v)
{
	asm volatile("xsetbv" ::"c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static uint16_t fstcw(void)
{
	uint16_t cw;
	asm volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static uint32_t stmxcsr(void)
{
	uint32_t v;
	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void enable_fpu(void)
{
	struct cpuid_r r = cpuid(1, 0);

	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (!(r.c & CPUID1_ECX_XSAVE) || !(r.c & CPUID1_ECX_AVX)) {
		note("no XSAVE/AVX offered: SSE and x87 only");
		return;
	}
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv0(XCR0_X87_SSE_AVX);
	check_eq(xgetbv0(), XCR0_X87_SSE_AVX, "XGETBV reads back the XCR0 set by XSETBV");
	avx = true;
}

static void load_all(uint8_t seed, uint16_t cw, uint32_t mxcsr)
{
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(seed * 37 + i * 11 + (i >> 5));
	if (avx)
		fpu_load_ymm(want);
	else
		fpu_load_xmm(want);
	asm volatile("fldcw %0" ::"m"(cw));
	asm volatile("ldmxcsr %0" ::"m"(mxcsr));
}

/* Compares the live registers with what was loaded; 0 when equal, else the
 * register number + 1. */
static unsigned compare(void)
{
	unsigned width = avx ? 32 : 16;

	if (avx)
		fpu_store_ymm(got);
	else
		fpu_store_xmm(got);
	for (unsigned r = 0; r < NREGS; r++)
		if (memcmp(got + r * width, want + r * width, width))
			return r + 1;
	return 0;
}

void guest_main(void)
{
	const char *cmd = rt_cmdline();
	size_t n = 0;
	uint8_t seed;
	uint16_t cw;
	uint32_t mxcsr;
	unsigned bad = 0, at = 0;

	n = strlen(cmd);
	while (n && cmd[n - 1] == ' ')
		n--;
	seed = n ? (uint8_t)cmd[n - 1] : 'x';
	cw = (uint16_t)(0x037Fu | ((seed & 3u) << 10)); /* rounding control */
	mxcsr = 0x1F80u | ((seed & 3u) << 13);
	note("seed '%c', FCW 0x%x, MXCSR 0x%x", seed, cw, mxcsr);
	enable_fpu();
	load_all(seed, cw, mxcsr);
	for (unsigned i = 1; i <= ROUNDS && !bad; i++) {
		outl(TESTDEV_PIO_BASE + TESTDEV_SCRATCH, i);
		if (i % CHECK_EVERY == 0 && (bad = compare()) != 0)
			at = i;
	}
	checkd(!bad, "vector registers survive exits and other VMs' slices",
	       "register %u differs after %u exits", bad ? bad - 1 : 0, at);
	check_eq(fstcw(), cw, "x87 control word survives");
	check_eq(stmxcsr(), mxcsr, "MXCSR survives");
	if (avx)
		check_eq(xgetbv0(), XCR0_X87_SSE_AVX, "XCR0 survives");
}
