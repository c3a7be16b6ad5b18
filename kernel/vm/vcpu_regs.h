/* A vCPU's general-purpose register file as common code sees it. Backends
 * copy the registers their hardware keeps elsewhere (RAX, RSP, RIP, RFLAGS
 * live in the VMCB on SVM; RSP, RIP, RFLAGS in the VMCS on VMX) in and out
 * around each run, so exit handlers read and write one struct. */
#ifndef KEEL_VM_VCPU_REGS_H
#define KEEL_VM_VCPU_REGS_H

#include <stdint.h>

/* Index = the register's number in x86 instruction encodings. */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	GPR_COUNT
};

struct vcpu_regs {
	uint64_t gpr[GPR_COUNT];
	uint64_t rip;
	uint64_t rflags;
};

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* Segment registers in x86 encoding order (as in segment-override decoding). */
enum seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

#endif
