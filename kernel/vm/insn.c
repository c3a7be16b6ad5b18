/* MMIO and string port I/O instruction decoder, written from the Intel SDM
 * vol. 2 (ch. 2 "Instruction Format", appendix A opcode map) and AMD APM
 * vol. 3 (the SVM instructions of insn_exit_length).
 *
 * Layout decoded: [legacy prefixes] [REX] opcode [ModRM [SIB] [disp]] [imm]
 * or A0-A3 moffs. All byte reads go through fetch(), which enforces both the
 * caller's `avail` and the architectural 15-byte limit. */
#include "vm/insn.h"

#include "keel/kstring.h"

/* Legacy prefix bytes. */
#define PFX_OPSIZE 0x66
#define PFX_ADDRSIZE 0x67
#define PFX_LOCK 0xF0
#define PFX_REPNE 0xF2
#define PFX_REP 0xF3
#define PFX_SEG_CS 0x2E
#define PFX_SEG_SS 0x36
#define PFX_SEG_DS 0x3E
#define PFX_SEG_ES 0x26
#define PFX_SEG_FS 0x64
#define PFX_SEG_GS 0x65

#define REX_MASK 0xF0
#define REX_BASE 0x40
#define REX_W 0x08
#define REX_R 0x04
#define REX_X 0x02
#define REX_B 0x01

#define OPC_TWO_BYTE 0x0F
#define OPC_MOV_EB_GB 0x88
#define OPC_MOV_EV_GV 0x89
#define OPC_MOV_GB_EB 0x8A
#define OPC_MOV_GV_EV 0x8B
#define OPC_TEST_EB_GB 0x84
#define OPC_TEST_EV_GV 0x85
#define OPC_MOVSXD 0x63
#define OPC_GRP1_EB_IB 0x80
#define OPC_GRP1_EV_IZ 0x81
#define OPC_GRP1_EV_IB 0x83
#define OPC_GRP11_EB_IB 0xC6
#define OPC_GRP11_EV_IZ 0xC7
#define OPC_GRP3_EB 0xF6
#define OPC_GRP3_EV 0xF7
#define OPC_MOV_AL_MOFFS 0xA0
#define OPC_MOV_AX_MOFFS 0xA1
#define OPC_MOV_MOFFS_AL 0xA2
#define OPC_MOV_MOFFS_AX 0xA3
#define OPC_MOVSB 0xA4
#define OPC_MOVSV 0xA5
#define OPC_STOSB 0xAA
#define OPC_STOSV 0xAB
#define OPC_INSB 0x6C
#define OPC_INSV 0x6D
#define OPC_OUTSB 0x6E
#define OPC_OUTSV 0x6F
#define STRING_WIDE_BIT 0x01 /* string opcodes: clear for the byte form */
#define OPC2_MOVZX_B 0xB6
#define OPC2_MOVZX_W 0xB7
#define OPC2_MOVSX_B 0xBE
#define OPC2_MOVSX_W 0xBF

/* Instructions insn_exit_length recognises. */
#define OPC_HLT 0xF4
#define OPC_NOP 0x90 /* PAUSE with F3 */
#define OPC_IN_AL_IB 0xE4
#define OPC_OUT_IB_EAX 0xE7 /* E4-E7: IN/OUT with an imm8 port */
#define OPC_IN_AL_DX 0xEC
#define OPC_OUT_DX_EAX 0xEF /* EC-EF: IN/OUT with the port in DX */
#define OPC2_INVD 0x08
#define OPC2_WBINVD 0x09
#define OPC2_WRMSR 0x30
#define OPC2_RDTSC 0x31
#define OPC2_RDMSR 0x32
#define OPC2_CPUID 0xA2
#define OPC2_GRP7 0x01 /* 0F 01: a mod=3 ModRM byte picks the instruction */
#define GRP7_VMCALL 0xC1
#define GRP7_MONITOR 0xC8
#define GRP7_MWAIT 0xC9
#define GRP7_XSETBV 0xD1
#define GRP7_VMRUN 0xD8
#define GRP7_VMMCALL 0xD9
#define GRP7_VMLOAD 0xDA
#define GRP7_VMSAVE 0xDB
#define GRP7_STGI 0xDC
#define GRP7_CLGI 0xDD
#define GRP7_SKINIT 0xDE
#define GRP7_INVLPGA 0xDF
#define GRP7_RDTSCP 0xF9
#define EXIT_OPCODE_MAX 3

/* The classic ALU block 00-3F: opcode bits 5:3 pick the operation (the same
 * numbering as the /digit of group 1), bits 2:0 0..3 pick the form. */
#define ALU_BLOCK_END 0x40
#define ALU_FORM_MASK 0x07
#define ALU_FORM_REG_MAX 3
#define ALU_FORM_BYTE_BIT 0x01 /* clear: byte operands */
#define ALU_FORM_DIR_BIT 0x02  /* set: register is the destination */

#define MODRM_MOD(b) ((uint8_t)((b) >> 6))
#define MODRM_REG(b) ((uint8_t)(((b) >> 3) & 7))
#define MODRM_RM(b) ((uint8_t)((b)&7))
#define MOD_NO_DISP 0
#define MOD_DISP8 1
#define MOD_DISP_FULL 2
#define MOD_REGISTER 3
#define RM_SIB 4
#define RM_DISP32 5 /* with mod 0: disp32 (or RIP-relative in 64-bit mode) */
#define RM16_DISP16 6
#define SIB_NO_INDEX 4
#define SIB_NO_BASE 5 /* with mod 0 */

#define GROUP1_OR 1
#define GROUP1_AND 4
#define GROUP1_XOR 6
#define GROUP1_CMP 7
#define GROUP_DIGIT_MOV 0  /* C6/C7 /0 */
#define GROUP_DIGIT_TEST 0 /* F6/F7 /0 */

#define REG_RAX 0
#define REG_RBX 3
#define REG_RBP 5
#define REG_RSI 6
#define REG_RDI 7
#define HIGH8_FIRST 4 /* without REX, byte regs 4-7 are AH, CH, DH, BH */

struct cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
};

struct prefixes {
	bool opsize, addrsize, lock;
	uint8_t rep; /* last of F2/F3, or 0 */
	uint8_t rex; /* effective REX byte, 0 if none */
	uint8_t seg;
};

/* How the operands of an opcode are encoded. */
enum form {
	FORM_RM_REG, /* ModRM memory operand and ModRM.reg register */
	FORM_RM_IMM, /* ModRM memory operand and immediate; ModRM.reg picks op */
	FORM_MOFFS,  /* absolute offset, rAX */
	FORM_STRING, /* implicit rSI/rDI */
};

struct opdesc {
	enum form form;
	uint8_t opcode;
	bool byte;     /* operands are 8-bit regardless of prefixes */
	bool imm_byte; /* FORM_RM_IMM: ib rather than iw/id */
};

static status_t fetch(struct cursor *c, uint8_t *out)
{
	/* The length limit comes first: a 16th byte is #GP whatever follows. */
	if (c->pos >= INSN_MAX_LEN)
		return ST_EINVAL;
	if (c->pos >= c->avail)
		return ST_ETRUNC;
	*out = c->bytes[c->pos++];
	return ST_OK;
}

static status_t fetch_le(struct cursor *c, unsigned n, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t b;
		status_t st = fetch(c, &b);
		if (st != ST_OK)
			return st;
		v |= (uint64_t)b << (8 * i);
	}
	*out = v;
	return ST_OK;
}

static uint64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uint64_t truncate_to(uint64_t v, unsigned bytes)
{
	return bytes >= 8 ? v : v & ((1ull << (8 * bytes)) - 1);
}

static bool is_segment_prefix(uint8_t b)
{
	return b == PFX_SEG_CS || b == PFX_SEG_SS || b == PFX_SEG_DS || b == PFX_SEG_ES ||
	       b == PFX_SEG_FS || b == PFX_SEG_GS;
}

/* Returns false if b is not a legacy prefix. */
static bool apply_legacy_prefix(struct prefixes *p, uint8_t b)
{
	if (b == PFX_OPSIZE)
		p->opsize = true;
	else if (b == PFX_ADDRSIZE)
		p->addrsize = true;
	else if (b == PFX_LOCK)
		p->lock = true;
	else if (b == PFX_REP || b == PFX_REPNE)
		p->rep = b;
	else if (is_segment_prefix(b))
		p->seg = b;
	else
		return false;
	return true;
}

/* Consumes prefixes and returns the first opcode byte. The loop ends because
 * fetch() fails at the 15-byte limit. */
static status_t parse_prefixes(struct cursor *c, enum insn_mode mode, struct prefixes *p,
			       uint8_t *opcode)
{
	for (;;) {
		uint8_t b;
		status_t st = fetch(c, &b);
		if (st != ST_OK)
			return st;
		if (apply_legacy_prefix(p, b)) {
			/* REX only counts directly before the opcode (SDM 2.2.1). */
			p->rex = 0;
			continue;
		}
		if (mode == INSN_MODE_64 && (b & REX_MASK) == REX_BASE) {
			p->rex = b; /* a later REX replaces an earlier one */
			continue;
		}
		*opcode = b;
		return ST_OK;
	}
}

static uint8_t operand_size(enum insn_mode mode, const struct prefixes *p)
{
	if (mode == INSN_MODE_64 && (p->rex & REX_W))
		return 8; /* REX.W wins over 66h */
	if (mode == INSN_MODE_16)
		return p->opsize ? 4 : 2;
	return p->opsize ? 2 : 4;
}

static uint8_t address_size(enum insn_mode mode, const struct prefixes *p)
{
	switch (mode) {
	case INSN_MODE_16:
		return p->addrsize ? 4 : 2;
	case INSN_MODE_32:
		return p->addrsize ? 2 : 4;
	default:
		return p->addrsize ? 4 : 8;
	}
}

static bool alu_op_from_digit(uint8_t digit, enum insn_op *op)
{
	switch (digit) {
	case GROUP1_OR:
		*op = INSN_OR;
		return true;
	case GROUP1_AND:
		*op = INSN_AND;
		return true;
	case GROUP1_XOR:
		*op = INSN_XOR;
		return true;
	case GROUP1_CMP:
		*op = INSN_CMP;
		return true;
	default:
		return false;
	}
}

/* One-byte opcodes with a register operand in ModRM.reg. */
static status_t classify_rm_reg(uint8_t opc, enum insn_mode mode, const struct prefixes *p,
				struct insn *out)
{
	bool alu = opc < ALU_BLOCK_END && (opc & ALU_FORM_MASK) <= ALU_FORM_REG_MAX;

	if (alu) {
		if (!alu_op_from_digit(opc >> 3, &out->op))
			return ST_ENOTSUP;
		out->mem_is_dst = !(opc & ALU_FORM_DIR_BIT);
		return ST_OK;
	}
	switch (opc) {
	case OPC_MOV_EB_GB:
	case OPC_MOV_EV_GV:
		out->op = INSN_MOV_STORE;
		return ST_OK;
	case OPC_MOV_GB_EB:
	case OPC_MOV_GV_EV:
		out->op = INSN_MOV_LOAD;
		return ST_OK;
	case OPC_TEST_EB_GB:
	case OPC_TEST_EV_GV:
		out->op = INSN_TEST;
		out->mem_is_dst = true;
		return ST_OK;
	case OPC_MOVSXD:
		/* 63 is ARPL outside 64-bit mode; without REX.W it is a plain
		 * 32-bit move that compilers never emit. */
		if (mode != INSN_MODE_64 || !(p->rex & REX_W))
			return ST_ENOTSUP;
		out->op = INSN_MOVSX;
		out->size = 4;
		out->dst_size = 8;
		return ST_OK;
	default:
		return ST_ENOTSUP;
	}
}

static enum insn_op string_op(uint8_t opc)
{
	switch (opc & ~STRING_WIDE_BIT) {
	case OPC_MOVSB:
		return INSN_MOVS;
	case OPC_STOSB:
		return INSN_STOS;
	case OPC_INSB:
		return INSN_INS;
	default:
		return INSN_OUTS;
	}
}

/* The string instructions that take a REP prefix. */
static bool is_rep_string(enum insn_op op)
{
	return op == INSN_MOVS || op == INSN_STOS || op == INSN_INS || op == INSN_OUTS;
}

/* Byte forms have bit 0 clear in the ALU block and in 84/88/8A. */
static bool rm_reg_is_byte(uint8_t opc)
{
	return !(opc & ALU_FORM_BYTE_BIT) && opc != OPC_MOVSXD;
}

static status_t classify(uint8_t opc, enum insn_mode mode, const struct prefixes *p,
			 struct opdesc *d, struct insn *out)
{
	d->opcode = opc;
	switch (opc) {
	case OPC_GRP1_EB_IB:
	case OPC_GRP11_EB_IB:
	case OPC_GRP3_EB:
		d->form = FORM_RM_IMM;
		d->byte = true;
		d->imm_byte = true;
		return ST_OK;
	case OPC_GRP1_EV_IB:
		d->form = FORM_RM_IMM;
		d->imm_byte = true;
		return ST_OK;
	case OPC_GRP1_EV_IZ:
	case OPC_GRP11_EV_IZ:
	case OPC_GRP3_EV:
		d->form = FORM_RM_IMM;
		return ST_OK;
	case OPC_MOV_AL_MOFFS:
	case OPC_MOV_AX_MOFFS:
	case OPC_MOV_MOFFS_AL:
	case OPC_MOV_MOFFS_AX:
		d->form = FORM_MOFFS;
		d->byte = !(opc & 1);
		out->op = opc <= OPC_MOV_AX_MOFFS ? INSN_MOV_LOAD : INSN_MOV_STORE;
		return ST_OK;
	case OPC_MOVSB:
	case OPC_MOVSV:
	case OPC_STOSB:
	case OPC_STOSV:
	case OPC_INSB:
	case OPC_INSV:
	case OPC_OUTSB:
	case OPC_OUTSV:
		/* No ModRM: the operands are rSI/rDI (and DX for the port). */
		d->form = FORM_STRING;
		d->byte = !(opc & STRING_WIDE_BIT);
		out->op = string_op(opc);
		return ST_OK;
	default:
		d->form = FORM_RM_REG;
		d->byte = rm_reg_is_byte(opc);
		return classify_rm_reg(opc, mode, p, out);
	}
}

/* 0F-prefixed opcodes: only movzx/movsx. */
static status_t classify_two_byte(uint8_t opc, struct opdesc *d, struct insn *out)
{
	d->form = FORM_RM_REG;
	d->opcode = opc;
	switch (opc) {
	case OPC2_MOVZX_B:
	case OPC2_MOVZX_W:
		out->op = INSN_MOVZX;
		break;
	case OPC2_MOVSX_B:
	case OPC2_MOVSX_W:
		out->op = INSN_MOVSX;
		break;
	default:
		return ST_ENOTSUP;
	}
	/* dst_size is filled in from the operand size by the caller. */
	out->size = (opc == OPC2_MOVZX_B || opc == OPC2_MOVSX_B) ? 1 : 2;
	return ST_OK;
}

/* Resolves the operation of a group opcode from ModRM.reg. */
static status_t resolve_group(const struct opdesc *d, uint8_t digit, struct insn *out)
{
	out->mem_is_dst = true;
	switch (d->opcode) {
	case OPC_GRP11_EB_IB:
	case OPC_GRP11_EV_IZ:
		out->op = INSN_MOV_STORE_IMM;
		out->mem_is_dst = false;
		return digit == GROUP_DIGIT_MOV ? ST_OK : ST_ENOTSUP;
	case OPC_GRP3_EB:
	case OPC_GRP3_EV:
		out->op = INSN_TEST;
		return digit == GROUP_DIGIT_TEST ? ST_OK : ST_ENOTSUP;
	default:
		return alu_op_from_digit(digit, &out->op) ? ST_OK : ST_ENOTSUP;
	}
}

static status_t read_disp(struct cursor *c, unsigned bytes, struct insn *out)
{
	uint64_t v;
	status_t st = fetch_le(c, bytes, &v);

	if (st == ST_OK)
		out->disp = (int32_t)sign_extend(v, bytes);
	return st;
}

/* 16-bit addressing, SDM table 2-1. */
static status_t decode_mem16(struct cursor *c, struct insn *out)
{
	static const uint8_t base16[8] = {REG_RBX, REG_RBX, REG_RBP, REG_RBP,
					  REG_RSI, REG_RDI, REG_RBP, REG_RBX};
	static const uint8_t index16[8] = {REG_RSI,	  REG_RDI,	 REG_RSI,
					   REG_RDI,	  INSN_REG_NONE, INSN_REG_NONE,
					   INSN_REG_NONE, INSN_REG_NONE};

	out->base = base16[out->rm];
	out->index = index16[out->rm];
	if (out->mod == MOD_NO_DISP && out->rm == RM16_DISP16) {
		out->base = INSN_REG_NONE;
		return read_disp(c, 2, out);
	}
	if (out->mod == MOD_DISP8)
		return read_disp(c, 1, out);
	if (out->mod == MOD_DISP_FULL)
		return read_disp(c, 2, out);
	return ST_OK;
}

static status_t decode_sib(struct cursor *c, uint8_t rex, struct insn *out)
{
	uint8_t sib;
	status_t st = fetch(c, &sib);

	if (st != ST_OK)
		return st;
	out->has_sib = true;
	out->scale = (uint8_t)(1u << MODRM_MOD(sib));
	out->index = MODRM_REG(sib) | ((rex & REX_X) ? 8 : 0);
	/* Index 4 means "none" only without REX.X; R12 is a valid index. */
	if (out->index == SIB_NO_INDEX)
		out->index = INSN_REG_NONE;
	out->base = MODRM_RM(sib) | ((rex & REX_B) ? 8 : 0);
	/* The no-base check ignores REX.B, so R13 with mod 0 also has none. */
	if (MODRM_RM(sib) == SIB_NO_BASE && out->mod == MOD_NO_DISP) {
		out->base = INSN_REG_NONE;
		return read_disp(c, 4, out);
	}
	return ST_OK;
}

/* 32/64-bit addressing, SDM tables 2-2 and 2-3. */
static status_t decode_mem32(struct cursor *c, enum insn_mode mode, uint8_t rex, struct insn *out)
{
	status_t st;

	out->base = out->rm | ((rex & REX_B) ? 8 : 0);
	if (out->rm == RM_SIB) {
		st = decode_sib(c, rex, out);
		if (st != ST_OK)
			return st;
	} else if (out->mod == MOD_NO_DISP && out->rm == RM_DISP32) {
		out->base = INSN_REG_NONE;
		out->rip_relative = mode == INSN_MODE_64;
		return read_disp(c, 4, out);
	}
	if (out->mod == MOD_DISP8)
		return read_disp(c, 1, out);
	if (out->mod == MOD_DISP_FULL)
		return read_disp(c, 4, out);
	return ST_OK;
}

/* Reads ModRM and the memory operand; resolves group opcodes. */
static status_t decode_modrm(struct cursor *c, enum insn_mode mode, const struct prefixes *p,
			     const struct opdesc *d, struct insn *out)
{
	uint8_t modrm;
	status_t st = fetch(c, &modrm);

	if (st != ST_OK)
		return st;
	out->has_modrm = true;
	out->mod = MODRM_MOD(modrm);
	out->rm = MODRM_RM(modrm);
	out->scale = 1;
	out->index = INSN_REG_NONE;
	/* A register operand cannot be the MMIO access that caused the exit. */
	if (out->mod == MOD_REGISTER)
		return ST_ENOTSUP;
	if (d->form == FORM_RM_IMM) {
		st = resolve_group(d, MODRM_REG(modrm), out);
		if (st != ST_OK)
			return st;
	} else {
		out->reg = MODRM_REG(modrm) | ((p->rex & REX_R) ? 8 : 0);
	}
	if (out->addr_size == 2)
		return decode_mem16(c, out);
	return decode_mem32(c, mode, p->rex, out);
}

static status_t read_imm(struct cursor *c, const struct opdesc *d, struct insn *out)
{
	unsigned n = d->imm_byte ? 1 : (out->size == 2 ? 2 : 4);
	uint64_t v;
	status_t st = fetch_le(c, n, &v);

	if (st != ST_OK)
		return st;
	out->has_imm = true;
	out->imm = truncate_to(sign_extend(v, n), out->size);
	return ST_OK;
}

static status_t read_moffs(struct cursor *c, struct insn *out)
{
	status_t st = fetch_le(c, out->addr_size, &out->moffs);

	if (st == ST_OK)
		out->has_moffs = true;
	return st;
}

/* Prefix combinations the CPU rejects with #UD, or whose effect we cannot
 * emulate faithfully. */
static status_t check_prefixes(const struct prefixes *p, const struct insn *out)
{
	bool lockable =
	    (out->op == INSN_AND || out->op == INSN_OR || out->op == INSN_XOR) && out->mem_is_dst;

	if (p->lock && !lockable)
		return ST_ENOTSUP;
	/* F2 on movs/stos/ins/outs is reserved (see insn.h). */
	if (is_rep_string(out->op) && p->rep == PFX_REPNE)
		return ST_ENOTSUP;
	return ST_OK;
}

/* Sizes and the high-byte register quirk, once op and reg are known. */
static void finish_operands(const struct opdesc *d, uint8_t opsize, const struct prefixes *p,
			    struct insn *out)
{
	if (out->op == INSN_MOVZX || out->op == INSN_MOVSX) {
		if (!out->dst_size)
			out->dst_size = opsize;
		return;
	}
	out->size = d->byte ? 1 : opsize;
	/* INS/OUTS operands are "z": a 64-bit operand size gives 32 bits. */
	if ((out->op == INSN_INS || out->op == INSN_OUTS) && out->size == 8)
		out->size = 4;
	out->reg_high8 =
	    d->form == FORM_RM_REG && out->size == 1 && !p->rex && out->reg >= HIGH8_FIRST;
	if (out->reg_high8)
		out->reg -= HIGH8_FIRST;
	out->rep = is_rep_string(out->op) && p->rep == PFX_REP;
}

static status_t decode_operands(struct cursor *c, enum insn_mode mode, const struct prefixes *p,
				const struct opdesc *d, struct insn *out)
{
	status_t st;

	if (d->form == FORM_RM_REG || d->form == FORM_RM_IMM) {
		st = decode_modrm(c, mode, p, d, out);
		if (st != ST_OK)
			return st;
	}
	finish_operands(d, operand_size(mode, p), p, out);
	st = check_prefixes(p, out);
	if (st != ST_OK)
		return st;
	if (d->form == FORM_RM_IMM)
		return read_imm(c, d, out);
	if (d->form == FORM_MOFFS)
		return read_moffs(c, out);
	return ST_OK;
}

status_t insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct insn *out)
{
	struct cursor c = {.bytes = bytes, .avail = avail, .pos = 0};
	struct prefixes p;
	struct opdesc d;
	uint8_t opc;
	status_t st;

	memset(&p, 0, sizeof(p));
	memset(&d, 0, sizeof(d));
	memset(out, 0, sizeof(*out));
	out->base = INSN_REG_NONE;
	out->index = INSN_REG_NONE;

	st = parse_prefixes(&c, mode, &p, &opc);
	if (st != ST_OK)
		return st;
	out->addr_size = address_size(mode, &p);
	out->seg_override = p.seg;
	if (opc == OPC_TWO_BYTE) {
		st = fetch(&c, &opc);
		if (st == ST_OK)
			st = classify_two_byte(opc, &d, out);
	} else {
		st = classify(opc, mode, &p, &d, out);
	}
	if (st == ST_OK)
		st = decode_operands(&c, mode, &p, &d, out);
	if (st != ST_OK)
		return st;
	out->len = (uint8_t)c.pos;
	return ST_OK;
}

const char *insn_op_name(enum insn_op op)
{
	static const char *const names[] = {
	    [INSN_MOV_LOAD] = "mov_load",
	    [INSN_MOV_STORE] = "mov_store",
	    [INSN_MOV_STORE_IMM] = "mov_store_imm",
	    [INSN_MOVZX] = "movzx",
	    [INSN_MOVSX] = "movsx",
	    [INSN_STOS] = "stos",
	    [INSN_MOVS] = "movs",
	    [INSN_AND] = "and",
	    [INSN_OR] = "or",
	    [INSN_XOR] = "xor",
	    [INSN_TEST] = "test",
	    [INSN_CMP] = "cmp",
	    [INSN_INS] = "ins",
	    [INSN_OUTS] = "outs",
	};

	if ((unsigned)op >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[op];
}

/* ---- instruction length after an intercept ---- */

/* The bytes that follow the prefixes, per exit kind. IN/OUT, which has two
 * opcode ranges and an optional imm8, is matched by match_in_out. */
struct exit_opcode {
	uint8_t n;
	uint8_t b[EXIT_OPCODE_MAX];
};

static const struct exit_opcode exit_opcodes[INSN_EXIT_KIND_COUNT] = {
    [INSN_EXIT_CPUID] = {2, {OPC_TWO_BYTE, OPC2_CPUID}},
    [INSN_EXIT_RDMSR] = {2, {OPC_TWO_BYTE, OPC2_RDMSR}},
    [INSN_EXIT_WRMSR] = {2, {OPC_TWO_BYTE, OPC2_WRMSR}},
    [INSN_EXIT_HLT] = {1, {OPC_HLT}},
    [INSN_EXIT_VMMCALL] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_VMMCALL}},
    [INSN_EXIT_VMCALL] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_VMCALL}},
    [INSN_EXIT_XSETBV] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_XSETBV}},
    [INSN_EXIT_RDTSC] = {2, {OPC_TWO_BYTE, OPC2_RDTSC}},
    [INSN_EXIT_RDTSCP] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_RDTSCP}},
    [INSN_EXIT_INVD] = {2, {OPC_TWO_BYTE, OPC2_INVD}},
    [INSN_EXIT_WBINVD] = {2, {OPC_TWO_BYTE, OPC2_WBINVD}},
    [INSN_EXIT_PAUSE] = {1, {OPC_NOP}},
    [INSN_EXIT_VMRUN] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_VMRUN}},
    [INSN_EXIT_VMLOAD] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_VMLOAD}},
    [INSN_EXIT_VMSAVE] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_VMSAVE}},
    [INSN_EXIT_STGI] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_STGI}},
    [INSN_EXIT_CLGI] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_CLGI}},
    [INSN_EXIT_SKINIT] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_SKINIT}},
    [INSN_EXIT_INVLPGA] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_INVLPGA}},
    [INSN_EXIT_MONITOR] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_MONITOR}},
    [INSN_EXIT_MWAIT] = {3, {OPC_TWO_BYTE, OPC2_GRP7, GRP7_MWAIT}},
};

/* E4-E7 carry the port as an imm8; EC-EF take it from DX. */
static status_t match_in_out(struct cursor *c, uint8_t opc)
{
	uint8_t port;

	if (opc >= OPC_IN_AL_DX && opc <= OPC_OUT_DX_EAX)
		return ST_OK;
	if (opc < OPC_IN_AL_IB || opc > OPC_OUT_IB_EAX)
		return ST_EINVAL;
	return fetch(c, &port);
}

/* opc is the first byte after the prefixes; the rest are fetched. */
static status_t match_opcode(struct cursor *c, const struct prefixes *p, enum insn_exit_kind kind,
			     uint8_t opc)
{
	const struct exit_opcode *want = &exit_opcodes[kind];

	/* F3 90 is PAUSE, but REX.B turns 90 into XCHG r8, rAX. */
	if (kind == INSN_EXIT_PAUSE && (p->rep != PFX_REP || (p->rex & REX_B)))
		return ST_EINVAL;
	if (want->n == 0 || opc != want->b[0])
		return ST_EINVAL;
	for (unsigned i = 1; i < want->n; i++) {
		uint8_t b;
		status_t st = fetch(c, &b);
		if (st != ST_OK)
			return st;
		if (b != want->b[i])
			return ST_EINVAL;
	}
	return ST_OK;
}

/* The common case, checked first because it is on every exit without NRIP
 * save: the opcode bytes with nothing in front (no byte of any opcode in
 * exit_opcodes is a prefix, so this never misreads a prefixed form). */
static bool unprefixed(const uint8_t *bytes, size_t avail, enum insn_exit_kind kind, uint8_t *len)
{
	const struct exit_opcode *want = &exit_opcodes[kind];

	if (want->n == 0 || kind == INSN_EXIT_PAUSE || avail < want->n)
		return false;
	for (unsigned i = 0; i < want->n; i++)
		if (bytes[i] != want->b[i])
			return false;
	*len = want->n;
	return true;
}

status_t insn_exit_length(const uint8_t *bytes, size_t avail, enum insn_mode mode,
			  enum insn_exit_kind kind, uint8_t *len)
{
	struct cursor c = {.bytes = bytes, .avail = avail, .pos = 0};
	struct prefixes p;
	uint8_t opc;
	status_t st;

	if ((unsigned)kind >= INSN_EXIT_KIND_COUNT)
		return ST_EINVAL;
	if (unprefixed(bytes, avail, kind, len))
		return ST_OK;
	memset(&p, 0, sizeof(p));
	/* The same prefix rules as insn_decode, including the 15-byte limit. */
	st = parse_prefixes(&c, mode, &p, &opc);
	if (st != ST_OK)
		return st;
	if (kind == INSN_EXIT_IN_OUT)
		st = match_in_out(&c, opc);
	else
		st = match_opcode(&c, &p, kind, opc);
	if (st != ST_OK)
		return st;
	*len = (uint8_t)c.pos;
	return ST_OK;
}

/* ---- MOV CRn ---- */

#define OPC2_MOV_FROM_CR 0x20
#define OPC2_MOV_TO_CR 0x22

status_t insn_decode_mov_cr(const uint8_t *bytes, size_t avail, enum insn_mode mode,
			    struct insn_mov_cr *out)
{
	struct cursor c = {.bytes = bytes, .avail = avail, .pos = 0};
	struct prefixes p;
	uint8_t opc, opc2, modrm;
	status_t st;

	memset(&p, 0, sizeof(p));
	st = parse_prefixes(&c, mode, &p, &opc);
	if (st == ST_OK && opc != OPC_TWO_BYTE)
		st = ST_EINVAL;
	if (st == ST_OK)
		st = fetch(&c, &opc2);
	if (st == ST_OK && opc2 != OPC2_MOV_TO_CR && opc2 != OPC2_MOV_FROM_CR)
		st = ST_EINVAL;
	if (st == ST_OK)
		st = fetch(&c, &modrm);
	if (st != ST_OK)
		return st;
	out->write = opc2 == OPC2_MOV_TO_CR;
	out->cr = MODRM_REG(modrm) | (((p.rex & REX_R) || p.lock) ? 8 : 0);
	out->gpr = MODRM_RM(modrm) | ((p.rex & REX_B) ? 8 : 0);
	out->len = (uint8_t)c.pos;
	return ST_OK;
}
