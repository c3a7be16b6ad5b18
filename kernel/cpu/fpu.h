/* Guest x87/SSE/AVX state. Keel itself never touches these registers (it is
 * built with -mgeneral-regs-only), so a guest's state stays loaded while
 * Keel handles its exits; it is saved and restored only when a host CPU
 * switches from one vCPU to another. Hardware access only. */
#ifndef KEEL_CPU_FPU_H
#define KEEL_CPU_FPU_H

#include <stdint.h>

#define FPU_XCR0_X87 (1ull << 0)
#define FPU_XCR0_SSE (1ull << 1)
#define FPU_XCR0_AVX (1ull << 2)
#define FPU_XCR0_OPMASK (1ull << 5)
#define FPU_XCR0_ZMM_HI256 (1ull << 6)
#define FPU_XCR0_HI16_ZMM (1ull << 7)
#define FPU_XCR0_PKRU (1ull << 9)

/* Enables FXSR and, when the CPU has it, XSAVE on the calling CPU, with
 * XCR0 holding every user state component Keel switches. */
void fpu_init_cpu(void);
/* Pages one save area takes (XSAVE size for those components, or 512
 * bytes for FXSAVE). */
uint64_t fpu_area_pages(void);
/* The XCR0 components Keel switches (0 without XSAVE). */
uint64_t fpu_xcr0_host(void);
/* A power-on state: x87 and SSE defaults, everything else in init state. */
void fpu_area_init(void *area);
/* Loads a vCPU's state and its XCR0 on this CPU. */
void fpu_load(const void *area, uint64_t guest_xcr0);
/* Saves the loaded state (the vCPU leaves this CPU) and returns the XCR0
 * that was live, which the caller keeps for the vCPU (0 without XSAVE). */
uint64_t fpu_save(void *area);
/* Sets XCR0 for the guest whose state is loaded (after XSETBV). */
void fpu_set_xcr0(uint64_t xcr0);

#endif
