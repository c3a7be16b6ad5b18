/* MMIO instruction decoder: pure logic, no hardware access.
 *
 * When a guest access faults on an MMIO address, the exit handler fetches up
 * to 15 bytes at guest RIP and decodes them here to learn the access size,
 * direction, register or immediate operand and the instruction length (RIP
 * advances by `len` on both VT-x and SVM). Only the small set of instructions
 * compilers emit for device registers is supported; everything else is
 * ST_ENOTSUP so the caller can inject #UD or stop the guest. */
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
};

/* Guest code-segment mode: CS.L=1 -> 64, else CS.D selects 32 or 16. */
enum insn_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

struct insn {
	enum insn_op op;
	uint8_t len;  /* 1..15 */
	uint8_t size; /* memory access size in bytes: 1, 2, 4, 8 */
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
	bool rep;	   /* F3 on stos/movs */
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
	 * 64-bit mode the CPU ignores all but 64/65; the caller applies that. */
	uint8_t seg_override;
};

/* ST_OK; ST_ETRUNC if the bytes end before the instruction does; ST_ENOTSUP
 * for anything outside the supported set (including mod==3 forms, which
 * cannot touch memory, and prefixes that would make the CPU raise #UD);
 * ST_EINVAL if the instruction would exceed 15 bytes. Never reads
 * bytes[i] for i >= avail. `out` is only meaningful on ST_OK. */
status_t insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode,
		     struct insn *out) MUST_CHECK;

const char *insn_op_name(enum insn_op op);

#endif
