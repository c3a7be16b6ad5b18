/* FXSAVE/XSAVE switching of guest extended state (Intel SDM vol. 1 ch. 13,
 * AMD APM vol. 2 section 11.5). */
#include "cpu/fpu.h"

#include "keel/kstring.h"
#include "keel/x86.h"
#include "mm/kmem.h"

#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID_XSAVE_LEAF 0xD
#define FXSAVE_SIZE 512u
#define FCW_DEFAULT 0x037F
#define MXCSR_DEFAULT 0x1F80
#define FXSAVE_MXCSR_OFFSET 24
/* Components Keel saves: x87, SSE, AVX, AVX-512 and PKRU. MPX, AMX and the
 * supervisor components are never offered to guests. */
#define SWITCHED                                                                                   \
	(FPU_XCR0_X87 | FPU_XCR0_SSE | FPU_XCR0_AVX | FPU_XCR0_OPMASK | FPU_XCR0_ZMM_HI256 |       \
	 FPU_XCR0_HI16_ZMM | FPU_XCR0_PKRU)

static uint64_t host_xcr0;
static uint64_t area_bytes = FXSAVE_SIZE;

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static inline void xsetbv(uint64_t v)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Runs on every CPU; the sizes found on the boot CPU hold for all. */
void fpu_init_cpu(void)
{
	uint32_t r[4];

	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_XSAVE))
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	cpuid(CPUID_XSAVE_LEAF, 0, r);
	host_xcr0 = (((uint64_t)r[3] << 32) | r[0]) & SWITCHED;
	xsetbv(host_xcr0);
	cpuid(CPUID_XSAVE_LEAF, 0, r); /* EBX: size for the XCR0 just set */
	area_bytes = r[1];
}

uint64_t fpu_area_pages(void)
{
	return (area_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

uint64_t fpu_xcr0_host(void)
{
	return host_xcr0;
}

void fpu_area_init(void *area)
{
	uint8_t *b = area;
	uint16_t fcw = FCW_DEFAULT;
	uint32_t mxcsr = MXCSR_DEFAULT;

	/* XSTATE_BV = 0 puts every component in its init state on XRSTOR,
	 * except MXCSR, which comes from the legacy area; FXRSTOR reads all. */
	memset(area, 0, fpu_area_pages() * PAGE_SIZE);
	memcpy(b, &fcw, sizeof(fcw));
	memcpy(b + FXSAVE_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
}

/* The host's full XCR0 is loaded around XSAVE/XRSTOR so every component is
 * covered whatever the guest enabled: SSE registers are live even when a
 * guest's XCR0 leaves them out, and must not leak to the next vCPU. */
void fpu_load(const void *area, uint64_t guest_xcr0)
{
	if (!host_xcr0) {
		__asm__ volatile("fxrstor64 %0" ::"m"(*(const uint8_t(*)[FXSAVE_SIZE])area));
		return;
	}
	xsetbv(host_xcr0);
	__asm__ volatile("xrstor64 %0" ::"m"(*(const uint8_t(*)[FXSAVE_SIZE])area),
			 "a"((uint32_t)host_xcr0), "d"((uint32_t)(host_xcr0 >> 32)));
	xsetbv(guest_xcr0);
}

uint64_t fpu_save(void *area)
{
	uint32_t lo, hi;

	if (!host_xcr0) {
		__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[FXSAVE_SIZE])area));
		return 0;
	}
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	xsetbv(host_xcr0);
	__asm__ volatile("xsave64 %0"
			 : "=m"(*(uint8_t(*)[FXSAVE_SIZE])area)
			 : "a"((uint32_t)host_xcr0), "d"((uint32_t)(host_xcr0 >> 32))
			 : "memory");
	return ((uint64_t)hi << 32) | lo;
}

void fpu_set_xcr0(uint64_t xcr0)
{
	if (host_xcr0)
		xsetbv(xcr0);
}
