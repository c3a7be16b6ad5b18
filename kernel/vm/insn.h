/* MMIO and string port I/O instruction decoder: pure logic, no hardware
 * access.
 *
 * When a guest access faults on an MMIO address, or a guest INS/OUTS exits,
 * the exit handler fetches up to 15 bytes at guest RIP and decodes them here
 * to learn the access size, direction, register or immediate operand and the
 * instruction length (RIP advances by `len` on both VT-x and SVM). Only the
 * small set of instructions compilers emit for device registers is
 * supported; everything else is ST_ENOTSUP so the caller can inject #UD or
 * stop the guest.
 *
 * insn_exit_length serves SVM without NRIP-save: it finds the length of an
 * instruction whose identity the exit code already gives. */
#ifndef KEEL_VM_INSN_H
#define KEEL_VM_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"

#define INSN_MAX_LEN 15
#define INSN_REG_NONE 0xFF /* base/index slot not used */

enum insn_op {
	INSN_MOV_LOAD,	    /* reg <- mem */
	INSN_MOV_STORE,	    /* mem <- reg */
	INSN_MOV_STORE_IMM, /* mem <- imm */
	INSN_MOVZX,	    /* reg(dst_size) <- zero-extended mem(size) */
	INSN_MOVSX,	    /* reg(dst_size) <- sign-extended mem(size); includes movsxd */
	INSN_STOS,	    /* ES:[rDI] <- rAX */
	INSN_MOVS,	    /* ES:[rDI] <- seg:[rSI] */
	INSN_AND,
	INSN_OR,
	INSN_XOR,
	INSN_TEST,
	INSN_CMP,
	INSN_INS,  /* ES:[rDI] <- port DX */
	INSN_OUTS, /* port DX <- seg:[rSI] */
};

/* Guest code-segment mode: CS.L=1 -> 64, else CS.D selects 32 or 16. */
enum insn_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

struct insn {
	enum insn_op op;
	uint8_t len; /* 1..15 */
	/* Memory access size in bytes: 1, 2, 4, 8. For INS/OUTS also the port
	 * access size, 1, 2 or 4: the opcode map's "z" operand, so REX.W
	 * never makes it 8 (SDM vol. 2 appendix A.2.3: a 64-bit operand size
	 * gives a doubleword, and REX.W wins over 66h). */
	uint8_t size;
	/* Register operand (0=RAX .. 15=R15) for register forms; 0 (rAX) for
	 * moffs and stos. For AH/CH/DH/BH, reg_high8 is set and reg names the
	 * register holding the byte (AH -> 0), i.e. the byte is bits 15:8. */
	uint8_t reg;
	bool reg_high8;
	uint8_t dst_size; /* movzx/movsx: destination register size */
	bool has_imm;
	uint64_t imm; /* sign-extended as the CPU would, truncated to `size` */
	/* and/or/xor/cmp/test: memory is the first (destination) operand. For
	 * cmp the order decides the flags; for test it is always true. */
	bool mem_is_dst;
	bool rep;	   /* F3 on stos/movs/ins/outs */
	uint8_t addr_size; /* 2, 4, 8 */

	/* ModRM memory operand, enough to compute the effective address later.
	 * base/index are register numbers 0..15 or INSN_REG_NONE. In 16-bit
	 * addressing they name BX/BP (base) and SI/DI (index) per the rm table.
	 * scale is the multiplier 1, 2, 4, 8. disp is sign-extended (disp16 in
	 * 16-bit addressing is sign-extended too; the caller wraps at 16 bits).
	 * rip_relative: address = RIP of the next instruction (RIP + len) + disp. */
	bool has_modrm;
	uint8_t mod, rm, base, index, scale;
	bool has_sib;
	bool rip_relative;
	int32_t disp;

	/* A0-A3: absolute offset, addr_size bytes wide (zero-extended). */
	bool has_moffs;
	uint64_t moffs;

	/* 0 = none, else the last segment prefix byte (2E,36,3E,26,64,65). In
	 * 64-bit mode the CPU ignores all but 64/65; the caller applies that.
	 * Reported for every instruction, but string destinations (ES:[rDI] of
	 * stos/movs/ins) cannot be overridden; the caller ignores it there. */
	uint8_t seg_override;
};

/* ST_OK; ST_ETRUNC if the bytes end before the instruction does; ST_ENOTSUP
 * for anything outside the supported set (including mod==3 forms, which
 * cannot touch memory, and prefixes that would make the CPU raise #UD);
 * ST_EINVAL if the instruction would exceed 15 bytes. Never reads
 * bytes[i] for i >= avail. `out` is only meaningful on ST_OK.
 *
 * F2 (REPNE) on stos/movs/ins/outs is ST_ENOTSUP: the SDM defines only F3
 * for them and reserves other uses of the repeat prefixes (vol. 2 2.1.1).
 * Current CPUs happen to repeat on F2 too, but Keel does not emulate a
 * reserved encoding on a guess; no compiler or assembler idiom emits it. */
status_t insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode,
		     struct insn *out) MUST_CHECK;

const char *insn_op_name(enum insn_op op);

/* Instructions that exit unconditionally or by intercept, for
 * insn_exit_length. The opcode bytes follow each name. */
enum insn_exit_kind {
	INSN_EXIT_CPUID,   /* 0F A2 */
	INSN_EXIT_RDMSR,   /* 0F 32 */
	INSN_EXIT_WRMSR,   /* 0F 30 */
	INSN_EXIT_HLT,	   /* F4 */
	INSN_EXIT_VMMCALL, /* 0F 01 D9 */
	INSN_EXIT_VMCALL,  /* 0F 01 C1 */
	INSN_EXIT_XSETBV,  /* 0F 01 D1 */
	INSN_EXIT_RDTSC,   /* 0F 31 */
	INSN_EXIT_RDTSCP,  /* 0F 01 F9 */
	INSN_EXIT_INVD,	   /* 0F 08 */
	INSN_EXIT_WBINVD,  /* 0F 09 */
	INSN_EXIT_PAUSE,   /* F3 90 */
	INSN_EXIT_IN_OUT,  /* E4-E7 ib, EC-EF */
	INSN_EXIT_VMRUN,   /* 0F 01 D8 */
	INSN_EXIT_VMLOAD,  /* 0F 01 DA */
	INSN_EXIT_VMSAVE,  /* 0F 01 DB */
	INSN_EXIT_STGI,	   /* 0F 01 DC */
	INSN_EXIT_CLGI,	   /* 0F 01 DD */
	INSN_EXIT_SKINIT,  /* 0F 01 DE */
	INSN_EXIT_INVLPGA, /* 0F 01 DF */
	INSN_EXIT_MONITOR, /* 0F 01 C8 */
	INSN_EXIT_MWAIT,   /* 0F 01 C9 */
	INSN_EXIT_KIND_COUNT,
};

/* Length of the instruction of kind `kind` at bytes, for advancing RIP
 * after an intercept on SVM without NRIP-save. Skips the legacy prefixes
 * 66 67 F2 F3 2E 36 3E 26 64 65 F0 and, in 64-bit mode, REX prefixes; as in
 * insn_decode, a REX that a legacy prefix follows is ignored by the CPU (SDM
 * vol. 2 2.2.1) but still counts towards the length. Then the opcode bytes
 * must be those of `kind` (PAUSE: the last F2/F3 prefix is F3, and no
 * REX.B, which would make 90 XCHG r8).
 *   ST_OK      *len set, 1..15.
 *   ST_ETRUNC  the bytes end before the instruction does.
 *   ST_EINVAL  the bytes are not that instruction (the guest changed them
 *              after the exit: stop the VM), it would exceed 15 bytes, or
 *              kind is out of range.
 * Never reads bytes[i] for i >= avail. *len is only written on ST_OK. */
status_t insn_exit_length(const uint8_t *bytes, size_t avail, enum insn_mode mode,
			  enum insn_exit_kind kind, uint8_t *len) MUST_CHECK;

/* MOV to or from a control register: 0F 22 /r (write), 0F 20 /r (read).
 * An SVM CR intercept without decode assists names neither the general
 * register nor the length. ModRM.mod is ignored (always a register form,
 * SDM vol. 2 MOV CRn); cr = ModRM.reg + 8 with REX.R or a LOCK prefix
 * (AMD's alternate encoding of CR8); gpr = ModRM.rm + 8 with REX.B.
 *   ST_OK      *out set.
 *   ST_ETRUNC  the bytes end before the instruction does.
 *   ST_EINVAL  not a MOV CR, or longer than 15 bytes.
 * Never reads bytes[i] for i >= avail. */
struct insn_mov_cr {
	uint8_t cr, gpr, len;
	bool write;
};

status_t insn_decode_mov_cr(const uint8_t *bytes, size_t avail, enum insn_mode mode,
			    struct insn_mov_cr *out) MUST_CHECK;

#endif
