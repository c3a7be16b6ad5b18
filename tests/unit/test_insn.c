/* Unit tests for the MMIO and string port I/O instruction decoder and for
 * insn_exit_length. Encodings are assembled by hand from the SDM and APM
 * opcode tables. Every decode runs on a heap buffer of exactly `avail` bytes
 * so ASan flags any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/insn.h"

#define N INSN_REG_NONE
#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64
#define MAXB 32

/* Parses "48 89 03" into bytes; returns the count. */
static size_t parse_hex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(n < MAXB);
		out[n++] = (uint8_t)strtoul(hex, NULL, 16);
		hex += 2;
	}
	return n;
}

/* Decodes from a buffer of exactly `avail` bytes. */
static status_t decode_exact(const uint8_t *src, size_t avail, enum insn_mode mode,
			     struct insn *out)
{
	/* avail 0 passes NULL, so any read at all faults. */
	uint8_t *buf = avail ? malloc(avail) : NULL;
	status_t st;

	if (avail) {
		assert_non_null(buf);
		memcpy(buf, src, avail);
	}
	st = insn_decode(buf, avail, mode, out);
	free(buf);
	return st;
}

static status_t decode_hex(const char *hex, enum insn_mode mode, struct insn *out)
{
	uint8_t b[MAXB];
	size_t n = parse_hex(hex, b);

	return decode_exact(b, n, mode, out);
}

struct row {
	const char *hex;
	enum insn_mode mode;
	struct insn want; /* len 0 means "all the bytes" */
};

/* Shorthands for the expected memory operand. */
#define MEM(mo, r, b, i, s)                                                                        \
	.has_modrm = true, .mod = (mo), .rm = (r), .base = (b), .index = (i), .scale = (s)
#define SIB .has_sib = true
#define A8 .addr_size = 8
#define A4 .addr_size = 4
#define A2 .addr_size = 2
#define MOV_LD(sz, rg) .op = INSN_MOV_LOAD, .size = (sz), .reg = (rg)
#define MOV_ST(sz, rg) .op = INSN_MOV_STORE, .size = (sz), .reg = (rg)
#define RBX_MEM MEM(0, 3, 3, N, 1)
#define INS(sz) .op = INSN_INS, .size = (sz)
#define OUTS(sz) .op = INSN_OUTS, .size = (sz)
#define RAX_MEM MEM(0, 0, 0, N, 1)

static const struct row ok_rows[] = {
    /* mov r/m, reg and mov reg, r/m in every size */
    {"88 03", M64, {MOV_ST(1, 0), A8, RBX_MEM}},
    {"66 89 03", M64, {MOV_ST(2, 0), A8, RBX_MEM}},
    {"89 03", M64, {MOV_ST(4, 0), A8, RBX_MEM}},
    {"48 89 03", M64, {MOV_ST(8, 0), A8, RBX_MEM}},
    {"8A 03", M64, {MOV_LD(1, 0), A8, RBX_MEM}},
    {"66 8B 0B", M64, {MOV_LD(2, 1), A8, RBX_MEM}},
    {"8B 13", M64, {MOV_LD(4, 2), A8, RBX_MEM}},
    {"48 8B 1B", M64, {MOV_LD(8, 3), A8, RBX_MEM}},
    /* REX.R / REX.B / REX.X registers */
    {"4C 8B 08", M64, {MOV_LD(8, 9), A8, RAX_MEM}},
    {"41 89 08", M64, {MOV_ST(4, 1), A8, MEM(0, 0, 8, N, 1)}},
    {"45 88 3F", M64, {MOV_ST(1, 15), A8, MEM(0, 7, 15, N, 1)}},
    {"44 8A 11", M64, {MOV_LD(1, 10), A8, MEM(0, 1, 1, N, 1)}},
    {"4B 8B 04 E3", M64, {MOV_LD(8, 0), A8, MEM(0, 4, 11, 12, 8), SIB}},
    /* high-byte registers: only without REX */
    {"8A 23", M64, {MOV_LD(1, 0), .reg_high8 = true, A8, RBX_MEM}},
    {"88 3B", M64, {MOV_ST(1, 3), .reg_high8 = true, A8, RBX_MEM}},
    {"88 2B", M32, {MOV_ST(1, 1), .reg_high8 = true, A4, RBX_MEM}},
    {"40 8A 23", M64, {MOV_LD(1, 4), A8, RBX_MEM}},
    {"66 8B 23", M64, {MOV_LD(2, 4), A8, RBX_MEM}},
    /* addressing forms */
    {"8B 04 8B", M64, {MOV_LD(4, 0), A8, MEM(0, 4, 3, 1, 4), SIB}},
    {"8B 04 24", M64, {MOV_LD(4, 0), A8, MEM(0, 4, 4, N, 1), SIB}},
    {"42 8B 04 24", M64, {MOV_LD(4, 0), A8, MEM(0, 4, 4, 12, 1), SIB}},
    {"8B 04 4D 78 56 34 12", M64, {MOV_LD(4, 0), A8, MEM(0, 4, N, 1, 2), SIB, .disp = 0x12345678}},
    {"41 8B 04 2D 78 56 34 12",
     M64,
     {MOV_LD(4, 0), A8, MEM(0, 4, N, 5, 1), SIB, .disp = 0x12345678}},
    {"41 8B 44 25 00", M64, {MOV_LD(4, 0), A8, MEM(1, 4, 13, N, 1), SIB}},
    {"8B 45 F8", M64, {MOV_LD(4, 0), A8, MEM(1, 5, 5, N, 1), .disp = -8}},
    {"8B 83 00 10 00 00", M64, {MOV_LD(4, 0), A8, MEM(2, 3, 3, N, 1), .disp = 0x1000}},
    {"8B 83 00 00 00 80", M64, {MOV_LD(4, 0), A8, MEM(2, 3, 3, N, 1), .disp = INT32_MIN}},
    {"8B 44 24 10", M64, {MOV_LD(4, 0), A8, MEM(1, 4, 4, N, 1), SIB, .disp = 0x10}},
    {"89 8C 50 44 33 22 11", M64, {MOV_ST(4, 1), A8, MEM(2, 4, 0, 2, 2), SIB, .disp = 0x11223344}},
    {"8B 84 C8 FC FF FF FF", M64, {MOV_LD(4, 0), A8, MEM(2, 4, 0, 1, 8), SIB, .disp = -4}},
    {"8B 05 00 01 00 00",
     M64,
     {MOV_LD(4, 0), A8, MEM(0, 5, N, N, 1), .rip_relative = true, .disp = 0x100}},
    {"41 8B 05 F0 FF FF FF",
     M64,
     {MOV_LD(4, 0), A8, MEM(0, 5, N, N, 1), .rip_relative = true, .disp = -16}},
    {"8B 05 00 01 00 00", M32, {MOV_LD(4, 0), A4, MEM(0, 5, N, N, 1), .disp = 0x100}},
    {"67 8B 03", M64, {MOV_LD(4, 0), A4, RBX_MEM}},
    {"67 8B 05 08 00 00 00",
     M64,
     {MOV_LD(4, 0), A4, MEM(0, 5, N, N, 1), .rip_relative = true, .disp = 8}},
    /* 16-bit addressing: default in 16-bit mode, 67h in 32-bit mode */
    {"67 8B 07", M32, {MOV_LD(4, 0), A2, MEM(0, 7, 3, N, 1)}},
    {"67 8B 04", M32, {MOV_LD(4, 0), A2, MEM(0, 4, 6, N, 1)}},
    {"8B 00", M16, {MOV_LD(2, 0), A2, MEM(0, 0, 3, 6, 1)}},
    {"8B 01", M16, {MOV_LD(2, 0), A2, MEM(0, 1, 3, 7, 1)}},
    {"8B 02", M16, {MOV_LD(2, 0), A2, MEM(0, 2, 5, 6, 1)}},
    {"8B 03", M16, {MOV_LD(2, 0), A2, MEM(0, 3, 5, 7, 1)}},
    {"8B 05", M16, {MOV_LD(2, 0), A2, MEM(0, 5, 7, N, 1)}},
    {"8B 06 34 12", M16, {MOV_LD(2, 0), A2, MEM(0, 6, N, N, 1), .disp = 0x1234}},
    {"8B 46 FE", M16, {MOV_LD(2, 0), A2, MEM(1, 6, 5, N, 1), .disp = -2}},
    {"8B 87 00 80", M16, {MOV_LD(2, 0), A2, MEM(2, 7, 3, N, 1), .disp = -32768}},
    {"66 8B 07", M16, {MOV_LD(4, 0), A2, MEM(0, 7, 3, N, 1)}},
    {"67 8B 04 8B", M16, {MOV_LD(2, 0), A4, MEM(0, 4, 3, 1, 4), SIB}},
    {"89 03", M32, {MOV_ST(4, 0), A4, RBX_MEM}},
    {"66 89 03", M32, {MOV_ST(2, 0), A4, RBX_MEM}},
    /* mov r/m, imm with sign extension */
    {"C6 00 12",
     M64,
     {.op = INSN_MOV_STORE_IMM, .size = 1, A8, RAX_MEM, .has_imm = true, .imm = 0x12}},
    {"C6 00 80",
     M64,
     {.op = INSN_MOV_STORE_IMM, .size = 1, A8, RAX_MEM, .has_imm = true, .imm = 0x80}},
    {"66 C7 00 34 92",
     M64,
     {.op = INSN_MOV_STORE_IMM, .size = 2, A8, RAX_MEM, .has_imm = true, .imm = 0x9234}},
    {"C7 00 00 00 00 80",
     M64,
     {.op = INSN_MOV_STORE_IMM, .size = 4, A8, RAX_MEM, .has_imm = true, .imm = 0x80000000}},
    {"48 C7 00 FF FF FF FF",
     M64,
     {.op = INSN_MOV_STORE_IMM, .size = 8, A8, RAX_MEM, .has_imm = true, .imm = UINT64_MAX}},
    {"48 C7 00 FF FF FF 7F",
     M64,
     {.op = INSN_MOV_STORE_IMM, .size = 8, A8, RAX_MEM, .has_imm = true, .imm = 0x7FFFFFFF}},
    {"C6 40 08 AA",
     M64,
     {.op = INSN_MOV_STORE_IMM,
      .size = 1,
      A8,
      MEM(1, 0, 0, N, 1),
      .disp = 8,
      .has_imm = true,
      .imm = 0xAA}},
    {"C7 05 10 00 00 00 01 00 00 00",
     M64,
     {.op = INSN_MOV_STORE_IMM,
      .size = 4,
      A8,
      MEM(0, 5, N, N, 1),
      .rip_relative = true,
      .disp = 0x10,
      .has_imm = true,
      .imm = 1}},
    {"C7 06 34 12 CD AB",
     M16,
     {.op = INSN_MOV_STORE_IMM,
      .size = 2,
      A2,
      MEM(0, 6, N, N, 1),
      .disp = 0x1234,
      .has_imm = true,
      .imm = 0xABCD}},
    /* moffs: address-size-wide offset */
    {"A1 88 77 66 55 44 33 22 11",
     M64,
     {MOV_LD(4, 0), A8, .has_moffs = true, .moffs = 0x1122334455667788}},
    {"48 A3 08 00 00 FE 00 00 00 00",
     M64,
     {MOV_ST(8, 0), A8, .has_moffs = true, .moffs = 0xFE000008}},
    {"A0 00 00 00 00 00 00 00 80",
     M64,
     {MOV_LD(1, 0), A8, .has_moffs = true, .moffs = 0x8000000000000000}},
    {"67 A0 78 56 34 12", M64, {MOV_LD(1, 0), A4, .has_moffs = true, .moffs = 0x12345678}},
    {"A2 78 56 34 F2", M32, {MOV_ST(1, 0), A4, .has_moffs = true, .moffs = 0xF2345678}},
    {"66 A1 78 56 34 12", M32, {MOV_LD(2, 0), A4, .has_moffs = true, .moffs = 0x12345678}},
    {"67 A3 34 12", M32, {MOV_ST(4, 0), A2, .has_moffs = true, .moffs = 0x1234}},
    {"A1 34 12", M16, {MOV_LD(2, 0), A2, .has_moffs = true, .moffs = 0x1234}},
    {"64 A1 00 00 00 00",
     M32,
     {MOV_LD(4, 0), A4, .has_moffs = true, .moffs = 0, .seg_override = 0x64}},
    /* movzx / movsx / movsxd */
    {"0F B6 03", M64, {.op = INSN_MOVZX, .size = 1, .dst_size = 4, A8, RBX_MEM}},
    {"48 0F B7 03", M64, {.op = INSN_MOVZX, .size = 2, .dst_size = 8, A8, RBX_MEM}},
    {"66 0F B6 03", M64, {.op = INSN_MOVZX, .size = 1, .dst_size = 2, A8, RBX_MEM}},
    {"0F B6 23", M64, {.op = INSN_MOVZX, .size = 1, .dst_size = 4, .reg = 4, A8, RBX_MEM}},
    {"0F B7 03", M16, {.op = INSN_MOVZX, .size = 2, .dst_size = 2, A2, MEM(0, 3, 5, 7, 1)}},
    {"44 0F BE 03", M64, {.op = INSN_MOVSX, .size = 1, .dst_size = 4, .reg = 8, A8, RBX_MEM}},
    {"48 0F BF 03", M64, {.op = INSN_MOVSX, .size = 2, .dst_size = 8, A8, RBX_MEM}},
    {"0F BF 03", M32, {.op = INSN_MOVSX, .size = 2, .dst_size = 4, A4, RBX_MEM}},
    {"48 63 03", M64, {.op = INSN_MOVSX, .size = 4, .dst_size = 8, A8, RBX_MEM}},
    {"4C 63 3D 04 00 00 00",
     M64,
     {.op = INSN_MOVSX,
      .size = 4,
      .dst_size = 8,
      .reg = 15,
      A8,
      MEM(0, 5, N, N, 1),
      .rip_relative = true,
      .disp = 4}},
    /* string ops */
    {"AA", M64, {.op = INSN_STOS, .size = 1, A8}},
    {"AB", M64, {.op = INSN_STOS, .size = 4, A8}},
    {"F3 AB", M64, {.op = INSN_STOS, .size = 4, .rep = true, A8}},
    {"F3 48 AB", M64, {.op = INSN_STOS, .size = 8, .rep = true, A8}},
    {"66 F3 AB", M64, {.op = INSN_STOS, .size = 2, .rep = true, A8}},
    {"F3 AA", M16, {.op = INSN_STOS, .size = 1, .rep = true, A2}},
    {"A4", M64, {.op = INSN_MOVS, .size = 1, A8}},
    {"F3 A5", M64, {.op = INSN_MOVS, .size = 4, .rep = true, A8}},
    {"F3 48 A5", M64, {.op = INSN_MOVS, .size = 8, .rep = true, A8}},
    {"F3 67 A5", M32, {.op = INSN_MOVS, .size = 4, .rep = true, A2}},
    {"F2 F3 A4", M64, {.op = INSN_MOVS, .size = 1, .rep = true, A8}},
    {"2E A4", M64, {.op = INSN_MOVS, .size = 1, A8, .seg_override = 0x2E}},
    {"F3 89 03", M64, {MOV_ST(4, 0), A8, RBX_MEM}},
    /* ins / outs: no ModRM; the size comes from the opcode and 66h */
    {"6C", M64, {INS(1), A8}},
    {"6D", M64, {INS(4), A8}},
    {"66 6D", M64, {INS(2), A8}},
    {"48 6D", M64, {INS(4), A8}},    /* REX.W does not make it 8 */
    {"66 48 6D", M64, {INS(4), A8}}, /* REX.W wins over 66h: still z = 4 */
    {"41 6C", M64, {INS(1), A8}},
    {"F3 6C", M64, {INS(1), .rep = true, A8}},
    {"F3 67 6D", M64, {INS(4), .rep = true, A4}},
    {"F2 F3 6C", M64, {INS(1), .rep = true, A8}},
    {"6D", M32, {INS(4), A4}},
    {"66 6D", M32, {INS(2), A4}},
    {"67 F3 66 6D", M32, {INS(2), .rep = true, A2}},
    {"26 6C", M32, {INS(1), A4, .seg_override = 0x26}},
    {"6D", M16, {INS(2), A2}},
    {"66 6D", M16, {INS(4), A2}},
    {"67 6C", M16, {INS(1), A4}},
    {"6E", M64, {OUTS(1), A8}},
    {"6F", M64, {OUTS(4), A8}},
    {"66 6F", M64, {OUTS(2), A8}},
    {"48 6F", M64, {OUTS(4), A8}},
    {"F3 6E", M64, {OUTS(1), .rep = true, A8}},
    {"F3 48 6F", M64, {OUTS(4), .rep = true, A8}},
    {"2E 6E", M64, {OUTS(1), A8, .seg_override = 0x2E}},
    {"65 67 F3 66 6F", M64, {OUTS(2), .rep = true, A4, .seg_override = 0x65}},
    {"64 F3 6F", M32, {OUTS(4), .rep = true, A4, .seg_override = 0x64}},
    {"F3 6E", M16, {OUTS(1), .rep = true, A2}},
    {"66 F3 6F", M16, {OUTS(4), .rep = true, A2}},
    {"3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E F3 6F",
     M32,
     {OUTS(4), .rep = true, A4, .seg_override = 0x3E}},
    /* and / or / xor / cmp, register forms: both directions, all sizes */
    {"20 03", M64, {.op = INSN_AND, .size = 1, .mem_is_dst = true, A8, RBX_MEM}},
    {"66 21 03", M64, {.op = INSN_AND, .size = 2, .mem_is_dst = true, A8, RBX_MEM}},
    {"21 03", M64, {.op = INSN_AND, .size = 4, .mem_is_dst = true, A8, RBX_MEM}},
    {"22 03", M64, {.op = INSN_AND, .size = 1, A8, RBX_MEM}},
    {"48 23 03", M64, {.op = INSN_AND, .size = 8, A8, RBX_MEM}},
    {"08 03", M64, {.op = INSN_OR, .size = 1, .mem_is_dst = true, A8, RBX_MEM}},
    {"48 09 03", M64, {.op = INSN_OR, .size = 8, .mem_is_dst = true, A8, RBX_MEM}},
    {"0A 23", M64, {.op = INSN_OR, .size = 1, .reg_high8 = true, A8, RBX_MEM}},
    {"66 0B 03", M64, {.op = INSN_OR, .size = 2, A8, RBX_MEM}},
    {"30 03", M64, {.op = INSN_XOR, .size = 1, .mem_is_dst = true, A8, RBX_MEM}},
    {"4C 31 03", M64, {.op = INSN_XOR, .size = 8, .reg = 8, .mem_is_dst = true, A8, RBX_MEM}},
    {"32 03", M64, {.op = INSN_XOR, .size = 1, A8, RBX_MEM}},
    {"33 03", M64, {.op = INSN_XOR, .size = 4, A8, RBX_MEM}},
    {"38 03", M64, {.op = INSN_CMP, .size = 1, .mem_is_dst = true, A8, RBX_MEM}},
    {"39 03", M64, {.op = INSN_CMP, .size = 4, .mem_is_dst = true, A8, RBX_MEM}},
    {"3A 03", M64, {.op = INSN_CMP, .size = 1, A8, RBX_MEM}},
    {"48 3B 03", M64, {.op = INSN_CMP, .size = 8, A8, RBX_MEM}},
    {"66 3B 03", M32, {.op = INSN_CMP, .size = 2, A4, RBX_MEM}},
    /* test r/m, reg and test r/m, imm */
    {"84 03", M64, {.op = INSN_TEST, .size = 1, .mem_is_dst = true, A8, RBX_MEM}},
    {"84 23",
     M64,
     {.op = INSN_TEST, .size = 1, .reg_high8 = true, .mem_is_dst = true, A8, RBX_MEM}},
    {"66 85 03", M64, {.op = INSN_TEST, .size = 2, .mem_is_dst = true, A8, RBX_MEM}},
    {"85 03", M64, {.op = INSN_TEST, .size = 4, .mem_is_dst = true, A8, RBX_MEM}},
    {"48 85 03", M64, {.op = INSN_TEST, .size = 8, .mem_is_dst = true, A8, RBX_MEM}},
    {"F6 03 80",
     M64,
     {.op = INSN_TEST, .size = 1, .mem_is_dst = true, A8, RBX_MEM, .has_imm = true, .imm = 0x80}},
    {"66 F7 03 34 92",
     M64,
     {.op = INSN_TEST, .size = 2, .mem_is_dst = true, A8, RBX_MEM, .has_imm = true, .imm = 0x9234}},
    {"F7 03 78 56 34 12",
     M64,
     {.op = INSN_TEST,
      .size = 4,
      .mem_is_dst = true,
      A8,
      RBX_MEM,
      .has_imm = true,
      .imm = 0x12345678}},
    {"48 F7 03 00 00 00 80",
     M64,
     {.op = INSN_TEST,
      .size = 8,
      .mem_is_dst = true,
      A8,
      RBX_MEM,
      .has_imm = true,
      .imm = 0xFFFFFFFF80000000}},
    /* group 1: 80 / 81 / 83 */
    {"80 08 0F",
     M64,
     {.op = INSN_OR, .size = 1, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 0x0F}},
    {"80 20 F0",
     M64,
     {.op = INSN_AND, .size = 1, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 0xF0}},
    {"80 30 01",
     M64,
     {.op = INSN_XOR, .size = 1, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 1}},
    {"80 38 7F",
     M64,
     {.op = INSN_CMP, .size = 1, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 0x7F}},
    {"81 20 78 56 34 12",
     M64,
     {.op = INSN_AND,
      .size = 4,
      .mem_is_dst = true,
      A8,
      RAX_MEM,
      .has_imm = true,
      .imm = 0x12345678}},
    {"66 81 08 34 92",
     M64,
     {.op = INSN_OR, .size = 2, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 0x9234}},
    {"48 81 30 00 00 00 80",
     M64,
     {.op = INSN_XOR,
      .size = 8,
      .mem_is_dst = true,
      A8,
      RAX_MEM,
      .has_imm = true,
      .imm = 0xFFFFFFFF80000000}},
    {"81 38 FF FF FF FF",
     M32,
     {.op = INSN_CMP,
      .size = 4,
      .mem_is_dst = true,
      A4,
      RAX_MEM,
      .has_imm = true,
      .imm = 0xFFFFFFFF}},
    {"83 20 80",
     M64,
     {.op = INSN_AND,
      .size = 4,
      .mem_is_dst = true,
      A8,
      RAX_MEM,
      .has_imm = true,
      .imm = 0xFFFFFF80}},
    {"48 83 20 80",
     M64,
     {.op = INSN_AND,
      .size = 8,
      .mem_is_dst = true,
      A8,
      RAX_MEM,
      .has_imm = true,
      .imm = 0xFFFFFFFFFFFFFF80}},
    {"66 83 20 80",
     M64,
     {.op = INSN_AND, .size = 2, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 0xFF80}},
    {"83 08 7F",
     M64,
     {.op = INSN_OR, .size = 4, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 0x7F}},
    {"83 30 FF",
     M16,
     {.op = INSN_XOR,
      .size = 2,
      .mem_is_dst = true,
      A2,
      MEM(0, 0, 3, 6, 1),
      .has_imm = true,
      .imm = 0xFFFF}},
    {"83 7D 10 01",
     M64,
     {.op = INSN_CMP,
      .size = 4,
      .mem_is_dst = true,
      A8,
      MEM(1, 5, 5, N, 1),
      .disp = 0x10,
      .has_imm = true,
      .imm = 1}},
    /* lock on memory-destination and/or/xor */
    {"F0 21 03", M64, {.op = INSN_AND, .size = 4, .mem_is_dst = true, A8, RBX_MEM}},
    {"F0 48 31 03", M64, {.op = INSN_XOR, .size = 8, .mem_is_dst = true, A8, RBX_MEM}},
    {"F0 83 08 01",
     M64,
     {.op = INSN_OR, .size = 4, .mem_is_dst = true, A8, RAX_MEM, .has_imm = true, .imm = 1}},
    /* REX must be last: one followed by a legacy prefix is ignored */
    {"48 66 89 03", M64, {MOV_ST(2, 0), A8, RBX_MEM}},
    {"66 48 89 03", M64, {MOV_ST(8, 0), A8, RBX_MEM}},
    {"41 48 89 03", M64, {MOV_ST(8, 0), A8, RBX_MEM}},
    {"40 66 88 23", M64, {MOV_ST(1, 0), .reg_high8 = true, A8, RBX_MEM}},
    /* segment overrides: each one, and the last one wins */
    {"2E 8B 03", M32, {MOV_LD(4, 0), A4, RBX_MEM, .seg_override = 0x2E}},
    {"36 8B 03", M32, {MOV_LD(4, 0), A4, RBX_MEM, .seg_override = 0x36}},
    {"3E 8B 03", M32, {MOV_LD(4, 0), A4, RBX_MEM, .seg_override = 0x3E}},
    {"26 8B 03", M32, {MOV_LD(4, 0), A4, RBX_MEM, .seg_override = 0x26}},
    {"64 8B 03", M64, {MOV_LD(4, 0), A8, RBX_MEM, .seg_override = 0x64}},
    {"64 65 8B 03", M64, {MOV_LD(4, 0), A8, RBX_MEM, .seg_override = 0x65}},
    {"65 48 8B 04 25 00 00 00 00",
     M64,
     {MOV_LD(8, 0), A8, MEM(0, 4, N, N, 1), SIB, .seg_override = 0x65}},
    /* exactly 15 bytes */
    {"3E 3E 3E 3E 3E 3E 3E 3E 3E C7 00 78 56 34 12",
     M64,
     {.op = INSN_MOV_STORE_IMM,
      .size = 4,
      A8,
      RAX_MEM,
      .seg_override = 0x3E,
      .has_imm = true,
      .imm = 0x12345678}},
    {"64 67 F0 48 81 A4 88 78 56 34 12 EF BE AD DE",
     M64,
     {.op = INSN_AND,
      .size = 8,
      .mem_is_dst = true,
      A4,
      MEM(2, 4, 0, 1, 4),
      SIB,
      .disp = 0x12345678,
      .seg_override = 0x64,
      .has_imm = true,
      .imm = 0xFFFFFFFFDEADBEEF}},
};

static bool check_field(const char *hex, const char *field, uint64_t got, uint64_t want)
{
	if (got == want)
		return true;
	print_error("row \"%s\": %s = %#llx, want %#llx\n", hex, field, (unsigned long long)got,
		    (unsigned long long)want);
	return false;
}

#define CHK(f) ok &= check_field(r->hex, #f, (uint64_t)got->f, (uint64_t)w.f)

static void check_insn(const struct row *r, const struct insn *got, size_t n)
{
	struct insn w = r->want;
	bool ok = true;

	w.len = (uint8_t)n;
	if (!w.has_modrm) {
		w.base = N;
		w.index = N;
	}
	CHK(op);
	CHK(len);
	CHK(size);
	CHK(reg);
	CHK(reg_high8);
	CHK(dst_size);
	CHK(has_imm);
	CHK(imm);
	CHK(mem_is_dst);
	CHK(rep);
	CHK(addr_size);
	CHK(has_modrm);
	CHK(base);
	CHK(index);
	CHK(has_moffs);
	CHK(moffs);
	CHK(seg_override);
	if (w.has_modrm) {
		CHK(mod);
		CHK(rm);
		CHK(scale);
		CHK(has_sib);
		CHK(rip_relative);
		CHK(disp);
	}
	assert_true(ok);
}

static void test_ok_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		const struct row *r = &ok_rows[i];
		uint8_t b[MAXB];
		size_t n = parse_hex(r->hex, b);
		struct insn got;
		status_t st = decode_exact(b, n, r->mode, &got);

		if (st != ST_OK)
			print_error("row \"%s\": status %d\n", r->hex, st);
		assert_int_equal(st, ST_OK);
		check_insn(r, &got, n);
	}
}

/* Trailing bytes beyond the instruction must not change the result. */
static void test_ok_rows_with_trailing_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		const struct row *r = &ok_rows[i];
		uint8_t b[MAXB];
		size_t n = parse_hex(r->hex, b);
		struct insn got;

		memset(b + n, 0x89, sizeof(b) - n);
		assert_int_equal(decode_exact(b, sizeof(b), r->mode, &got), ST_OK);
		check_insn(r, &got, n);
	}
}

/* Every proper prefix of every valid instruction is ST_ETRUNC, with a buffer
 * of exactly that many bytes. */
static void test_truncation_every_cut(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		const struct row *r = &ok_rows[i];
		uint8_t b[MAXB];
		size_t n = parse_hex(r->hex, b);

		for (size_t cut = 0; cut < n; cut++) {
			struct insn got;
			status_t st = decode_exact(b, cut, r->mode, &got);
			if (st != ST_ETRUNC)
				print_error("row \"%s\" cut %zu: status %d\n", r->hex, cut, st);
			assert_int_equal(st, ST_ETRUNC);
		}
	}
}

static void test_null_avail_zero(void **state)
{
	struct insn got;

	(void)state;
	assert_int_equal(insn_decode(NULL, 0, M64, &got), ST_ETRUNC);
}

struct bad_row {
	const char *hex;
	enum insn_mode mode;
	status_t want;
};

static const struct bad_row bad_rows[] = {
    /* register-only ModRM forms cannot be MMIO */
    {"89 C0", M64, ST_ENOTSUP},
    {"8B C3", M64, ST_ENOTSUP},
    {"88 E0", M32, ST_ENOTSUP},
    {"C6 C0 01", M64, ST_ENOTSUP},
    {"48 C7 C0 01 00 00 00", M64, ST_ENOTSUP},
    {"0F B6 C0", M64, ST_ENOTSUP},
    {"48 63 C0", M64, ST_ENOTSUP},
    {"83 E0 01", M64, ST_ENOTSUP},
    {"F7 C0 01 00 00 00", M64, ST_ENOTSUP},
    {"85 C0", M64, ST_ENOTSUP},
    {"31 C0", M16, ST_ENOTSUP},
    /* unsupported opcodes and group digits */
    {"90", M64, ST_ENOTSUP},
    {"00 03", M64, ST_ENOTSUP},
    {"01 03", M64, ST_ENOTSUP},
    {"29 03", M64, ST_ENOTSUP},
    {"8D 03", M64, ST_ENOTSUP},
    {"FF 03", M64, ST_ENOTSUP},
    {"0F 0B", M64, ST_ENOTSUP},
    {"0F B8 03", M64, ST_ENOTSUP},
    {"0F 0F", M64, ST_ENOTSUP},
    {"82 20 01", M32, ST_ENOTSUP},
    {"80 00 01", M64, ST_ENOTSUP},
    {"81 10 01 00 00 00", M64, ST_ENOTSUP},
    {"83 28 01", M64, ST_ENOTSUP},
    {"C6 08 00", M64, ST_ENOTSUP},
    {"C7 38 00 00 00 00", M64, ST_ENOTSUP},
    {"F6 13", M64, ST_ENOTSUP},
    {"F7 08 00 00 00 00", M64, ST_ENOTSUP},
    {"63 03", M64, ST_ENOTSUP},
    {"48 63 03", M32, ST_ENOTSUP}, /* dec eax; arpl */
    {"A6", M64, ST_ENOTSUP},
    {"AC", M64, ST_ENOTSUP},
    /* lock outside memory-destination and/or/xor is #UD */
    {"F0 89 03", M64, ST_ENOTSUP},
    {"F0 8B 03", M64, ST_ENOTSUP},
    {"F0 39 03", M64, ST_ENOTSUP},
    {"F0 23 03", M64, ST_ENOTSUP},
    {"F0 85 03", M64, ST_ENOTSUP},
    {"F0 83 38 01", M64, ST_ENOTSUP},
    {"F0 C7 00 01 00 00 00", M64, ST_ENOTSUP},
    {"F0 AB", M64, ST_ENOTSUP},
    /* REPNE on stos/movs/ins/outs is reserved */
    {"F2 AB", M64, ST_ENOTSUP},
    {"F3 F2 A4", M64, ST_ENOTSUP},
    {"F2 6C", M64, ST_ENOTSUP},
    {"F2 6F", M32, ST_ENOTSUP},
    {"F3 F2 6D", M16, ST_ENOTSUP},
    /* lock on ins/outs is #UD */
    {"F0 6C", M64, ST_ENOTSUP},
    {"F0 F3 6E", M32, ST_ENOTSUP},
    /* 16 bytes: over the architectural limit */
    {"3E 3E 3E 3E 3E 3E 3E 3E 3E 3E C7 00 78 56 34 12", M64, ST_EINVAL},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", M64, ST_EINVAL},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", M32, ST_EINVAL},
    {"48 48 48 48 48 48 48 48 48 48 48 48 48 48 48", M64, ST_EINVAL},
    {"64 67 F0 66 48 81 A4 88 78 56 34 12 EF BE AD DE", M64, ST_EINVAL},
    {"3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E 3E F3 6F", M32, ST_EINVAL},
    /* truncated: a lone prefix, a lone escape byte */
    {"66", M64, ST_ETRUNC},
    {"0F", M64, ST_ETRUNC},
    {"48", M64, ST_ETRUNC},
};

static void test_bad_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct insn got;
		status_t st = decode_hex(bad_rows[i].hex, bad_rows[i].mode, &got);

		if (st != bad_rows[i].want)
			print_error("row \"%s\": status %d, want %d\n", bad_rows[i].hex, st,
				    bad_rows[i].want);
		assert_int_equal(st, bad_rows[i].want);
	}
}

/* The 15-byte limit applies even when more bytes are available. */
static void test_limit_with_long_buffer(void **state)
{
	uint8_t b[MAXB];
	struct insn got;

	(void)state;
	memset(b, 0x2E, sizeof(b));
	assert_int_equal(decode_exact(b, sizeof(b), M64, &got), ST_EINVAL);
	/* 14 prefixes + a 1-byte instruction is exactly 15. */
	b[14] = 0xAA;
	assert_int_equal(decode_exact(b, sizeof(b), M64, &got), ST_OK);
	assert_int_equal(got.len, 15);
	assert_int_equal(got.op, INSN_STOS);
}

static void test_op_names(void **state)
{
	(void)state;
	assert_string_equal(insn_op_name(INSN_MOV_LOAD), "mov_load");
	assert_string_equal(insn_op_name(INSN_MOV_STORE_IMM), "mov_store_imm");
	assert_string_equal(insn_op_name(INSN_MOVSX), "movsx");
	assert_string_equal(insn_op_name(INSN_CMP), "cmp");
	assert_string_equal(insn_op_name(INSN_INS), "ins");
	assert_string_equal(insn_op_name(INSN_OUTS), "outs");
	assert_string_equal(insn_op_name((enum insn_op)(INSN_OUTS + 1)), "?");
	assert_string_equal(insn_op_name((enum insn_op)99), "?");
	for (int op = INSN_MOV_LOAD; op <= INSN_OUTS; op++)
		assert_string_not_equal(insn_op_name((enum insn_op)op), "?");
}

/* ---- insn_exit_length ---- */

#define X(k) INSN_EXIT_##k

/* Runs insn_exit_length on a buffer of exactly `avail` bytes. *len is set to
 * a canary first: it must only change on ST_OK. */
static status_t exit_len_exact(const uint8_t *src, size_t avail, enum insn_mode mode,
			       enum insn_exit_kind kind, uint8_t *len)
{
	uint8_t *buf = avail ? malloc(avail) : NULL;
	status_t st;

	if (avail) {
		assert_non_null(buf);
		memcpy(buf, src, avail);
	}
	*len = 0xAA;
	st = insn_exit_length(buf, avail, mode, kind, len);
	free(buf);
	if (st != ST_OK)
		assert_int_equal(*len, 0xAA);
	return st;
}

/* Every kind in its plain encoding (no prefixes), valid in every mode. */
static const struct {
	const char *hex;
	enum insn_exit_kind kind;
} exit_plain[] = {
    {"0F A2", X(CPUID)},      {"0F 32", X(RDMSR)},	{"0F 30", X(WRMSR)},
    {"F4", X(HLT)},	      {"0F 01 D9", X(VMMCALL)}, {"0F 01 C1", X(VMCALL)},
    {"0F 01 D1", X(XSETBV)},  {"0F 31", X(RDTSC)},	{"0F 01 F9", X(RDTSCP)},
    {"0F 08", X(INVD)},	      {"0F 09", X(WBINVD)},	{"F3 90", X(PAUSE)},
    {"E4 60", X(IN_OUT)},     {"E5 60", X(IN_OUT)},	{"E6 80", X(IN_OUT)},
    {"E7 80", X(IN_OUT)},     {"EC", X(IN_OUT)},	{"ED", X(IN_OUT)},
    {"EE", X(IN_OUT)},	      {"EF", X(IN_OUT)},	{"0F 01 D8", X(VMRUN)},
    {"0F 01 DA", X(VMLOAD)},  {"0F 01 DB", X(VMSAVE)},	{"0F 01 DC", X(STGI)},
    {"0F 01 DD", X(CLGI)},    {"0F 01 DE", X(SKINIT)},	{"0F 01 DF", X(INVLPGA)},
    {"0F 01 C8", X(MONITOR)}, {"0F 01 C9", X(MWAIT)},
};

static void test_exit_every_kind_every_mode(void **state)
{
	bool seen[INSN_EXIT_KIND_COUNT] = {false};

	(void)state;
	for (size_t i = 0; i < sizeof(exit_plain) / sizeof(exit_plain[0]); i++) {
		uint8_t b[MAXB];
		size_t n = parse_hex(exit_plain[i].hex, b);

		for (int mode = M16; mode <= M64; mode++) {
			uint8_t len;
			status_t st =
			    exit_len_exact(b, n, (enum insn_mode)mode, exit_plain[i].kind, &len);
			if (st != ST_OK || len != n)
				print_error("\"%s\" mode %d: status %d len %u\n", exit_plain[i].hex,
					    mode, st, len);
			assert_int_equal(st, ST_OK);
			assert_int_equal(len, n);
		}
		seen[exit_plain[i].kind] = true;
	}
	for (int k = 0; k < INSN_EXIT_KIND_COUNT; k++)
		assert_true(seen[k]);
}

struct exit_row {
	const char *hex;
	enum insn_mode mode;
	enum insn_exit_kind kind;
	status_t want; /* on ST_OK, the length is all the bytes */
};

static const struct exit_row exit_ok_rows[] = {
    /* legacy prefixes count towards the length */
    {"66 0F A2", M32, X(CPUID), ST_OK},
    {"2E 3E 0F 32", M16, X(RDMSR), ST_OK},
    {"F0 0F 30", M64, X(WRMSR), ST_OK},
    {"64 65 26 F4", M16, X(HLT), ST_OK},
    {"F3 0F 01 D9", M64, X(VMMCALL), ST_OK}, /* VMGEXIT outside SEV-ES */
    {"F2 0F 01 D9", M32, X(VMMCALL), ST_OK},
    {"67 0F 01 DA", M64, X(VMLOAD), ST_OK},
    {"66 67 0F 01 D8", M32, X(VMRUN), ST_OK},
    {"36 0F 01 C8", M64, X(MONITOR), ST_OK},
    {"66 0F 01 F9", M64, X(RDTSCP), ST_OK},
    {"66 E5 60", M32, X(IN_OUT), ST_OK},
    {"66 ED", M16, X(IN_OUT), ST_OK},
    {"F3 EC", M64, X(IN_OUT), ST_OK},
    /* PAUSE: F3 last among F2/F3, anywhere in the prefixes */
    {"F3 F3 90", M64, X(PAUSE), ST_OK},
    {"66 F3 90", M32, X(PAUSE), ST_OK},
    {"F3 66 90", M64, X(PAUSE), ST_OK},
    {"F2 F3 90", M16, X(PAUSE), ST_OK},
    /* REX: REX.W and REX.R/X mean nothing to these; one that a legacy
     * prefix follows is ignored, yet still part of the instruction */
    {"48 0F 01 DF", M64, X(INVLPGA), ST_OK},
    {"48 EF", M64, X(IN_OUT), ST_OK},
    {"4F E4 60", M64, X(IN_OUT), ST_OK},
    {"F3 48 90", M64, X(PAUSE), ST_OK},
    {"41 F3 90", M64, X(PAUSE), ST_OK}, /* REX.B ignored: a prefix follows it */
    {"48 66 0F A2", M64, X(CPUID), ST_OK},
    {"66 48 0F A2", M64, X(CPUID), ST_OK},
    {"41 48 0F A2", M64, X(CPUID), ST_OK},
    {"40 0F 01 C9", M64, X(MWAIT), ST_OK},
    /* exactly 15 bytes */
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 0F A2", M64, X(CPUID), ST_OK},
    {"2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 0F 01 D9", M64, X(VMMCALL), ST_OK},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 E4 60", M32, X(IN_OUT), ST_OK},
    {"F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 48 90", M64, X(PAUSE), ST_OK},
    {"48 48 48 48 48 48 48 48 48 48 48 48 48 48 F4", M64, X(HLT), ST_OK},
};

static void check_exit_ok(const struct exit_row *r, const uint8_t *b, size_t avail, size_t n)
{
	uint8_t len;
	status_t st = exit_len_exact(b, avail, r->mode, r->kind, &len);

	if (st != ST_OK || len != n)
		print_error("row \"%s\": status %d len %u, want %zu\n", r->hex, st, len, n);
	assert_int_equal(st, ST_OK);
	assert_int_equal(len, n);
}

static void test_exit_ok_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_ok_rows) / sizeof(exit_ok_rows[0]); i++) {
		uint8_t b[MAXB];
		size_t n = parse_hex(exit_ok_rows[i].hex, b);

		check_exit_ok(&exit_ok_rows[i], b, n, n);
	}
}

/* Bytes after the instruction never change its length. */
static void test_exit_ok_rows_with_trailing_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_ok_rows) / sizeof(exit_ok_rows[0]); i++) {
		uint8_t b[MAXB];
		size_t n = parse_hex(exit_ok_rows[i].hex, b);

		memset(b + n, 0x0F, sizeof(b) - n);
		check_exit_ok(&exit_ok_rows[i], b, sizeof(b), n);
	}
}

/* Every proper prefix of every row, plain or prefixed, is ST_ETRUNC with a
 * buffer of exactly that many bytes. */
static void check_exit_cuts(const char *hex, enum insn_mode mode, enum insn_exit_kind kind)
{
	uint8_t b[MAXB];
	size_t n = parse_hex(hex, b);

	for (size_t cut = 0; cut < n; cut++) {
		uint8_t len;
		status_t st = exit_len_exact(b, cut, mode, kind, &len);

		if (st != ST_ETRUNC)
			print_error("row \"%s\" cut %zu: status %d\n", hex, cut, st);
		assert_int_equal(st, ST_ETRUNC);
	}
}

static void test_exit_truncation_every_cut(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_plain) / sizeof(exit_plain[0]); i++)
		check_exit_cuts(exit_plain[i].hex, M64, exit_plain[i].kind);
	for (size_t i = 0; i < sizeof(exit_ok_rows) / sizeof(exit_ok_rows[0]); i++)
		check_exit_cuts(exit_ok_rows[i].hex, exit_ok_rows[i].mode, exit_ok_rows[i].kind);
}

static const struct exit_row exit_bad_rows[] = {
    /* the bytes are another instruction */
    {"0F A3", M64, X(CPUID), ST_EINVAL},
    {"0F A2", M64, X(RDMSR), ST_EINVAL},
    {"0F 32", M64, X(WRMSR), ST_EINVAL},
    {"0F 31", M64, X(RDTSCP), ST_EINVAL},
    {"0F 01 F8", M64, X(RDTSCP), ST_EINVAL}, /* swapgs */
    {"0F 01 D9", M64, X(VMCALL), ST_EINVAL},
    {"0F 01 C1", M64, X(VMMCALL), ST_EINVAL},
    {"0F 01 D8", M64, X(VMLOAD), ST_EINVAL},
    {"0F 01 C9", M64, X(MONITOR), ST_EINVAL},
    {"0F 01 D0", M64, X(XSETBV), ST_EINVAL}, /* xgetbv */
    {"0F 09", M64, X(INVD), ST_EINVAL},
    {"0F 08", M64, X(WBINVD), ST_EINVAL},
    {"F4", M64, X(CPUID), ST_EINVAL},
    {"0F 0B", M64, X(HLT), ST_EINVAL},
    {"90", M64, X(PAUSE), ST_EINVAL},
    {"F2 90", M64, X(PAUSE), ST_EINVAL},
    {"F3 F2 90", M64, X(PAUSE), ST_EINVAL},
    {"F3 41 90", M64, X(PAUSE), ST_EINVAL}, /* xchg r8, rax */
    {"F3 49 90", M64, X(PAUSE), ST_EINVAL},
    {"F3 0F 90", M64, X(PAUSE), ST_EINVAL},
    {"E8 00 00 00 00", M64, X(IN_OUT), ST_EINVAL},
    {"E3 00", M64, X(IN_OUT), ST_EINVAL},
    {"E0 00", M64, X(IN_OUT), ST_EINVAL},
    {"EB 00", M64, X(IN_OUT), ST_EINVAL},
    {"F0", M64, X(IN_OUT), ST_ETRUNC},
    {"6C", M64, X(IN_OUT), ST_EINVAL},
    /* 40-4F are INC/DEC outside 64-bit mode, not REX */
    {"48 0F A2", M32, X(CPUID), ST_EINVAL},
    {"40 F4", M16, X(HLT), ST_EINVAL},
    /* a mismatch is known before the bytes run out */
    {"0F 01 C1", M64, X(VMRUN), ST_EINVAL},
    {"0F", M64, X(HLT), ST_EINVAL},
    /* truncated */
    {"0F 01", M64, X(VMMCALL), ST_ETRUNC},
    {"F3", M64, X(PAUSE), ST_ETRUNC},
    {"E4", M64, X(IN_OUT), ST_ETRUNC},
    {"66 48", M64, X(CPUID), ST_ETRUNC},
    /* over 15 bytes, with or without more available */
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 0F A2", M64, X(CPUID), ST_EINVAL},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 0F", M64, X(CPUID), ST_EINVAL},
    {"2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 0F 01 D9", M64, X(VMMCALL), ST_EINVAL},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 E4 60", M32, X(IN_OUT), ST_EINVAL},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 F4", M16, X(HLT), ST_EINVAL},
    {"48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 F4", M64, X(HLT), ST_EINVAL},
    {"F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3", M64, X(PAUSE), ST_EINVAL},
};

static void test_exit_bad_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_bad_rows) / sizeof(exit_bad_rows[0]); i++) {
		const struct exit_row *r = &exit_bad_rows[i];
		uint8_t b[MAXB];
		size_t n = parse_hex(r->hex, b);
		uint8_t len;
		status_t st = exit_len_exact(b, n, r->mode, r->kind, &len);

		if (st != r->want)
			print_error("row \"%s\": status %d, want %d\n", r->hex, st, r->want);
		assert_int_equal(st, r->want);
	}
}

/* The limit applies whatever is available; 14 prefixes + HLT is exactly 15. */
static void test_exit_limit_with_long_buffer(void **state)
{
	uint8_t b[MAXB];
	uint8_t len;

	(void)state;
	memset(b, 0x3E, sizeof(b));
	assert_int_equal(exit_len_exact(b, sizeof(b), M64, X(HLT), &len), ST_EINVAL);
	b[14] = 0xF4;
	assert_int_equal(exit_len_exact(b, sizeof(b), M64, X(HLT), &len), ST_OK);
	assert_int_equal(len, 15);
	b[14] = 0x3E;
	b[15] = 0xF4;
	assert_int_equal(exit_len_exact(b, sizeof(b), M64, X(HLT), &len), ST_EINVAL);
}

static void test_exit_bad_kind(void **state)
{
	const uint8_t b[] = {0x0F, 0xA2};
	uint8_t len = 0xAA;

	(void)state;
	assert_int_equal(insn_exit_length(b, sizeof(b), M64, INSN_EXIT_KIND_COUNT, &len),
			 ST_EINVAL);
	assert_int_equal(insn_exit_length(b, sizeof(b), M64, (enum insn_exit_kind) - 1, &len),
			 ST_EINVAL);
	assert_int_equal(len, 0xAA);
	assert_int_equal(insn_exit_length(NULL, 0, M64, X(CPUID), &len), ST_ETRUNC);
}

/* ---- insn_decode_mov_cr ---- */

struct mov_cr_row {
	enum insn_mode mode;
	uint8_t bytes[8];
	uint8_t n;
	uint8_t cr, gpr, len;
	bool write;
};

static void test_mov_cr_rows(void **state)
{
	static const struct mov_cr_row rows[] = {
	    {M64, {0x44, 0x0F, 0x22, 0xC0}, 4, 8, 0, 4, true},	/* mov cr8, rax */
	    {M64, {0x44, 0x0F, 0x20, 0xC1}, 4, 8, 1, 4, false}, /* mov rcx, cr8 */
	    {M64, {0x45, 0x0F, 0x22, 0xC7}, 4, 8, 15, 4, true}, /* mov cr8, r15 */
	    {M64, {0x0F, 0x22, 0xD8}, 3, 3, 0, 3, true},	/* mov cr3, rax */
	    {M64, {0x0F, 0x22, 0x18}, 3, 3, 0, 3, true},	/* mod ignored */
	    {M64, {0x66, 0x44, 0x0F, 0x22, 0xC3}, 5, 8, 3, 5, true},
	    {M32, {0xF0, 0x0F, 0x22, 0xC2}, 4, 8, 2, 4, true},	/* AMD alternate CR8 */
	    {M32, {0x0F, 0x20, 0xE6}, 3, 4, 6, 3, false},	/* mov esi, cr4 */
	    {M32, {0x44, 0x0F, 0x22, 0xC0}, 4, 0, 0, 0, false}, /* 44 is INC ESP: not MOV CR */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct mov_cr_row *r = &rows[i];
		struct insn_mov_cr out = {0};
		status_t st = insn_decode_mov_cr(r->bytes, r->n, r->mode, &out);

		if (!r->len) {
			assert_int_equal(st, ST_EINVAL);
			continue;
		}
		assert_int_equal(st, ST_OK);
		assert_int_equal(out.cr, r->cr);
		assert_int_equal(out.gpr, r->gpr);
		assert_int_equal(out.len, r->len);
		assert_int_equal(out.write, r->write);
	}
}

static void test_mov_cr_bad(void **state)
{
	const uint8_t cut[] = {0x44, 0x0F, 0x22, 0xC0};
	const uint8_t other[] = {0x0F, 0x21, 0xC0}; /* mov rax, dr0 */
	uint8_t longest[INSN_MAX_LEN + 3];
	struct insn_mov_cr out;

	(void)state;
	for (size_t n = 0; n < sizeof(cut); n++)
		assert_int_equal(insn_decode_mov_cr(cut, n, M64, &out), ST_ETRUNC);
	assert_int_equal(insn_decode_mov_cr(other, sizeof(other), M64, &out), ST_EINVAL);
	memset(longest, 0x66, sizeof(longest));
	longest[INSN_MAX_LEN] = 0x0F;
	longest[INSN_MAX_LEN + 1] = 0x22;
	longest[INSN_MAX_LEN + 2] = 0xC0;
	assert_int_equal(insn_decode_mov_cr(longest, sizeof(longest), M64, &out), ST_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_rows),
	    cmocka_unit_test(test_ok_rows_with_trailing_bytes),
	    cmocka_unit_test(test_truncation_every_cut),
	    cmocka_unit_test(test_null_avail_zero),
	    cmocka_unit_test(test_bad_rows),
	    cmocka_unit_test(test_limit_with_long_buffer),
	    cmocka_unit_test(test_op_names),
	    cmocka_unit_test(test_exit_every_kind_every_mode),
	    cmocka_unit_test(test_exit_ok_rows),
	    cmocka_unit_test(test_exit_ok_rows_with_trailing_bytes),
	    cmocka_unit_test(test_exit_truncation_every_cut),
	    cmocka_unit_test(test_exit_bad_rows),
	    cmocka_unit_test(test_exit_limit_with_long_buffer),
	    cmocka_unit_test(test_exit_bad_kind),
	    cmocka_unit_test(test_mov_cr_rows),
	    cmocka_unit_test(test_mov_cr_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
