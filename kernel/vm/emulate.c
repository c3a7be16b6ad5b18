/* MMIO and string port I/O instruction emulator (see emulate.h), written
 * from the Intel SDM vol. 2 and AMD APM vol. 3 instruction pages. */
#include <stdarg.h>

#include "vm/emulate.h"

#include "core/fmt.h"
#include "keel/kstring.h"

#define BITS_PER_BYTE 8u
#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define PAGE_SIZE_4K 4096ull
#define PAGE_OFFSET_MASK (PAGE_SIZE_4K - 1)
#define LA_MASK_32 0xFFFFFFFFull /* linear addresses outside 64-bit mode */
#define IP_MASK_16 0xFFFFull
#define IP_MASK_32 0xFFFFFFFFull
#define HIGH8_SHIFT 8 /* AH/CH/DH/BH are bits 15:8 */
#define BYTE_MASK 0xFFull
#define AF_BIT 0x10u	  /* carry or borrow out of bit 3 */
#define ACCESS_MAX 8	  /* widest single memory access, bytes */
#define PORT_ACCESS_MAX 4 /* widest port access, bytes */

/* Segment-override prefix bytes as insn.seg_override reports them. */
#define PFX_SEG_ES 0x26
#define PFX_SEG_CS 0x2E
#define PFX_SEG_SS 0x36
#define PFX_SEG_DS 0x3E
#define PFX_SEG_FS 0x64
#define PFX_SEG_GS 0x65

/* Everything one call works on, so helpers take one pointer. */
struct emu {
	const struct insn *in;
	struct vcpu_regs *r;
	const struct emu_env *env;
	struct emu_fault *fault;
	char *why;
	size_t whylen;
	uint16_t port; /* INS/OUTS only */
};

/* The two device address spaces. A port number travels as the address. */
enum bus { BUS_MMIO, BUS_PORT };

/* Internal outcome of locating one side of a string iteration. */
enum locate_result { LOC_OK, LOC_END_BATCH, LOC_FAULT, LOC_STOP };

/* Where one side of a string iteration lives in guest-physical memory: one
 * piece, or two when the access straddles a page boundary. */
struct span {
	uint64_t gpa[2];
	uint8_t len[2];
	unsigned n;
};

/* The page a batch's first iteration touched on one side, and its
 * translation, so later iterations on that page need no new walk. */
struct side {
	bool mapped;
	uint64_t page_la, page_gpa;
};

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t size_mask(unsigned size)
{
	if (size >= sizeof(uint64_t))
		return ALL_ONES;
	return (1ull << (size * BITS_PER_BYTE)) - 1;
}

static uint64_t sign_bit(unsigned size)
{
	return 1ull << (size * BITS_PER_BYTE - 1);
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
	v &= size_mask(size);
	return (v & sign_bit(size)) ? v | ~size_mask(size) : v;
}

static enum emu_result stop(struct emu *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum emu_result stop(struct emu *e, const char *fmt, ...)
{
	va_list ap;

	if (e->why && e->whylen) {
		va_start(ap, fmt);
		kvsnprintf(e->why, e->whylen, fmt, ap);
		va_end(ap);
	}
	return EMU_STOP;
}

/* ---- registers ---- */

/* The low `size` bytes of a register, or bits 15:8 for AH/CH/DH/BH. */
static uint64_t reg_read(const struct vcpu_regs *r, unsigned reg, bool high8, unsigned size)
{
	if (high8)
		return (r->gpr[reg] >> HIGH8_SHIFT) & BYTE_MASK;
	return r->gpr[reg] & size_mask(size);
}

/* The CPU's register write rules: 8- and 16-bit writes merge into the old
 * value, a 32-bit write zero-extends into the whole register, 64-bit writes
 * all of it. */
static void reg_write(struct vcpu_regs *r, unsigned reg, bool high8, unsigned size, uint64_t v)
{
	uint64_t *g = &r->gpr[reg];

	if (high8)
		*g = (*g & ~(BYTE_MASK << HIGH8_SHIFT)) | ((v & BYTE_MASK) << HIGH8_SHIFT);
	else if (size == 1 || size == 2)
		*g = (*g & ~size_mask(size)) | (v & size_mask(size));
	else
		*g = v & size_mask(size);
}

static void advance_rip(struct vcpu_regs *r, enum insn_mode mode, unsigned len)
{
	uint64_t next = r->rip + len;

	/* The instruction pointer is as wide as the code segment's mode. */
	if (mode == INSN_MODE_16)
		next &= IP_MASK_16;
	else if (mode == INSN_MODE_32)
		next &= IP_MASK_32;
	r->rip = next;
}

/* ---- flags ---- */

static bool parity_even(uint64_t v)
{
	uint8_t b = (uint8_t)v;

	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

/* SF, ZF and PF of a result; the part every ALU op shares. */
static uint64_t result_flags(uint64_t res, unsigned size)
{
	uint64_t f = 0;

	res &= size_mask(size);
	if (res & sign_bit(size))
		f |= RFLAGS_SF;
	if (res == 0)
		f |= RFLAGS_ZF;
	if (parity_even(res))
		f |= RFLAGS_PF;
	return f;
}

/* Flags of dst - src as SUB computes them (SDM vol. 1 appendix A). */
static uint64_t sub_flags(uint64_t dst, uint64_t src, unsigned size)
{
	uint64_t m = size_mask(size);
	uint64_t res = (dst - src) & m;
	uint64_t f = result_flags(res, size);

	dst &= m;
	src &= m;
	if (dst < src)
		f |= RFLAGS_CF;
	/* Signed overflow: the operands' signs differ and the result's sign
	 * differs from the minuend's. */
	if ((dst ^ src) & (dst ^ res) & sign_bit(size))
		f |= RFLAGS_OF;
	if ((dst ^ src ^ res) & AF_BIT)
		f |= RFLAGS_AF;
	return f;
}

static void set_arith_flags(struct vcpu_regs *r, uint64_t f)
{
	r->rflags = (r->rflags & ~RFLAGS_ARITH) | (f & RFLAGS_ARITH);
}

/* ---- the device bus and the I/O ports ---- */

static const char *bus_name(enum bus b)
{
	return b == BUS_PORT ? "port" : "MMIO";
}

static enum emu_result bus_load(struct emu *e, enum bus b, uint64_t addr, unsigned size,
				uint64_t *val)
{
	const struct emu_env *env = e->env;
	status_t st = b == BUS_PORT ? env->pio_read(env->ctx, (uint16_t)addr, (uint8_t)size, val)
				    : env->mmio_read(env->ctx, addr, (uint8_t)size, val);

	if (st != ST_OK)
		return stop(e, "%s read of %u bytes at 0x%llx failed: %s", bus_name(b), size,
			    (unsigned long long)addr, status_str(st));
	*val &= size_mask(size);
	return EMU_DONE;
}

static enum emu_result bus_store(struct emu *e, enum bus b, uint64_t addr, unsigned size,
				 uint64_t val)
{
	const struct emu_env *env = e->env;
	status_t st;

	val &= size_mask(size);
	st = b == BUS_PORT ? env->pio_write(env->ctx, (uint16_t)addr, (uint8_t)size, val)
			   : env->mmio_write(env->ctx, addr, (uint8_t)size, val);
	if (st != ST_OK)
		return stop(e, "%s write of %u bytes at 0x%llx failed: %s", bus_name(b), size,
			    (unsigned long long)addr, status_str(st));
	return EMU_DONE;
}

/* ---- non-string instructions: the bus at fault_gpa ---- */

static enum emu_result exec_mov(struct emu *e, uint64_t gpa)
{
	const struct insn *in = e->in;
	uint64_t v;
	enum emu_result res;

	switch (in->op) {
	case INSN_MOV_LOAD:
		res = bus_load(e, BUS_MMIO, gpa, in->size, &v);
		if (res == EMU_DONE)
			reg_write(e->r, in->reg, in->reg_high8, in->size, v);
		return res;
	case INSN_MOV_STORE:
		return bus_store(e, BUS_MMIO, gpa, in->size,
				 reg_read(e->r, in->reg, in->reg_high8, in->size));
	default: /* INSN_MOV_STORE_IMM */
		return bus_store(e, BUS_MMIO, gpa, in->size, in->imm);
	}
}

/* MOVZX, MOVSX, MOVSXD: read `size`, extend to dst_size, write the register. */
static enum emu_result exec_extend(struct emu *e, uint64_t gpa)
{
	const struct insn *in = e->in;
	uint64_t v;
	enum emu_result res = bus_load(e, BUS_MMIO, gpa, in->size, &v);

	if (res != EMU_DONE)
		return res;
	if (in->op == INSN_MOVSX)
		v = sign_extend(v, in->size);
	reg_write(e->r, in->reg, false, in->dst_size, v & size_mask(in->dst_size));
	return EMU_DONE;
}

/* AND, OR, XOR, TEST, CMP with memory as one operand and a register or
 * immediate as the other; mem_is_dst says which is the destination. */
static enum emu_result exec_alu(struct emu *e, uint64_t gpa)
{
	const struct insn *in = e->in;
	unsigned size = in->size;
	uint64_t mem, other, dst, src, res, flags;
	enum emu_result st = bus_load(e, BUS_MMIO, gpa, size, &mem);

	if (st != EMU_DONE)
		return st;
	other = in->has_imm ? in->imm : reg_read(e->r, in->reg, in->reg_high8, size);
	other &= size_mask(size);
	dst = in->mem_is_dst ? mem : other;
	src = in->mem_is_dst ? other : mem;

	if (in->op == INSN_CMP) {
		set_arith_flags(e->r, sub_flags(dst, src, size));
		return EMU_DONE;
	}
	if (in->op == INSN_OR)
		res = dst | src;
	else if (in->op == INSN_XOR)
		res = dst ^ src;
	else
		res = dst & src;	 /* AND, TEST */
	flags = result_flags(res, size); /* CF = OF = 0, AF cleared */

	if (in->op != INSN_TEST) {
		if (in->mem_is_dst) {
			st = bus_store(e, BUS_MMIO, gpa, size, res);
			if (st != EMU_DONE)
				return st;
		} else {
			reg_write(e->r, in->reg, in->reg_high8, size, res);
		}
	}
	set_arith_flags(e->r, flags);
	return EMU_DONE;
}

/* ---- string instructions ---- */

static uint64_t la_mask(const struct emu *e)
{
	return e->env->mode == INSN_MODE_64 ? ALL_ONES : LA_MASK_32;
}

static uint64_t seg_base(const struct emu *e, enum seg s)
{
	if (e->env->mode == INSN_MODE_64 && s != SEG_FS && s != SEG_GS)
		return 0;
	return e->env->seg_base[s];
}

/* MOVS/OUTS source segment: DS unless overridden (SDM: only the source can
 * be; the ES:[rDI] destination of STOS/MOVS/INS never). */
static enum seg source_seg(uint8_t prefix)
{
	switch (prefix) {
	case PFX_SEG_ES:
		return SEG_ES;
	case PFX_SEG_CS:
		return SEG_CS;
	case PFX_SEG_SS:
		return SEG_SS;
	case PFX_SEG_FS:
		return SEG_FS;
	case PFX_SEG_GS:
		return SEG_GS;
	default: /* none or 3E */
		return SEG_DS;
	}
}

/* seg:[reg], with the register's offset taken at the address size. */
static uint64_t string_la(const struct emu *e, enum seg s, enum gpr reg)
{
	uint64_t off = e->r->gpr[reg] & size_mask(e->in->addr_size);

	return (seg_base(e, s) + off) & la_mask(e);
}

/* Translates la; LOC_FAULT (fault filled by translate) or LOC_STOP. */
static enum locate_result translate(struct emu *e, uint64_t la, bool write, uint64_t *gpa)
{
	status_t st = e->env->translate(e->env->ctx, la, write, gpa, e->fault);

	if (st == ST_OK)
		return LOC_OK;
	if (st == ST_ENOENT)
		return LOC_FAULT;
	if (st == ST_ERANGE)
		stop(e, "guest page tables map linear 0x%llx outside guest RAM",
		     (unsigned long long)la);
	else
		stop(e, "translating linear 0x%llx failed: %s", (unsigned long long)la,
		     status_str(st));
	return LOC_STOP;
}

static bool same_page(uint64_t a, uint64_t b)
{
	return (a & ~PAGE_OFFSET_MASK) == (b & ~PAGE_OFFSET_MASK);
}

/* Finds where `size` bytes at la live. Iterations after the first reuse the
 * batch's translation and end the batch (LOC_END_BATCH) if they would leave
 * its page; the first iteration translates, splitting at a page boundary. */
static enum locate_result locate(struct emu *e, struct side *sd, uint64_t la, bool write,
				 bool first, struct span *sp)
{
	unsigned size = e->in->size;
	uint64_t last = (la + size - 1) & la_mask(e);
	unsigned room = (unsigned)(PAGE_SIZE_4K - (la & PAGE_OFFSET_MASK));
	enum locate_result res;

	if (sd->mapped && same_page(la, sd->page_la) && same_page(last, sd->page_la)) {
		sp->n = 1;
		sp->gpa[0] = sd->page_gpa + (la & PAGE_OFFSET_MASK);
		sp->len[0] = (uint8_t)size;
		return LOC_OK;
	}
	if (!first)
		return LOC_END_BATCH;

	res = translate(e, la, write, &sp->gpa[0]);
	if (res != LOC_OK)
		return res;
	sd->mapped = true;
	sd->page_la = la & ~PAGE_OFFSET_MASK;
	sd->page_gpa = sp->gpa[0] - (la & PAGE_OFFSET_MASK);
	sp->n = 1;
	sp->len[0] = (uint8_t)size;
	if (room >= size)
		return LOC_OK;

	/* Straddles a page boundary: the second page is translated on its own. */
	sp->n = 2;
	sp->len[0] = (uint8_t)room;
	sp->len[1] = (uint8_t)(size - room);
	return translate(e, (la + room) & la_mask(e), write, &sp->gpa[1]);
}

static uint64_t bytes_to_u64(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (i * BITS_PER_BYTE);
	return v;
}

static void u64_to_bytes(uint64_t v, uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (i * BITS_PER_BYTE));
}

/* Largest access size (1, 2, 4, 8) that fits in n bytes. */
static unsigned chunk_size(unsigned n)
{
	unsigned c = ACCESS_MAX;

	while (c > n)
		c /= 2;
	return c;
}

/* One piece on the bus. A whole element is one access of its size; a piece
 * of a page-straddling element is split into the largest sizes that fit,
 * since devices only take 1, 2, 4 or 8 bytes. A port element (1, 2 or 4
 * bytes, never split) is always one access. */
static enum emu_result bus_piece(struct emu *e, enum bus b, uint64_t addr, uint8_t *buf,
				 unsigned len, bool write)
{
	for (unsigned off = 0; off < len;) {
		unsigned n = chunk_size(len - off);
		uint64_t v;
		enum emu_result res;

		if (write) {
			res = bus_store(e, b, addr + off, n, bytes_to_u64(buf + off, n));
		} else {
			res = bus_load(e, b, addr + off, n, &v);
			u64_to_bytes(v, buf + off, n);
		}
		if (res != EMU_DONE)
			return res;
		off += n;
	}
	return EMU_DONE;
}

static enum emu_result ram_piece(struct emu *e, uint64_t gpa, uint8_t *buf, unsigned len,
				 bool write)
{
	const struct emu_env *env = e->env;
	status_t st = write ? env->ram_write(env->ctx, gpa, buf, len)
			    : env->ram_read(env->ctx, gpa, buf, len);

	if (st != ST_OK)
		return stop(e, "RAM %s of %u bytes at 0x%llx failed: %s", write ? "write" : "read",
			    len, (unsigned long long)gpa, status_str(st));
	return EMU_DONE;
}

/* Reads or writes a located element; buf holds e->in->size bytes. */
static enum emu_result span_access(struct emu *e, const struct span *sp, uint8_t *buf, bool write)
{
	unsigned off = 0;

	for (unsigned i = 0; i < sp->n; i++) {
		enum emu_result res;

		if (e->env->is_ram(e->env->ctx, sp->gpa[i], sp->len[i]))
			res = ram_piece(e, sp->gpa[i], buf + off, sp->len[i], write);
		else
			res = bus_piece(e, BUS_MMIO, sp->gpa[i], buf + off, sp->len[i], write);
		if (res != EMU_DONE)
			return res;
		off += sp->len[i];
	}
	return EMU_DONE;
}

/* rSI/rDI += or -= size by DF, with address-size arithmetic. */
static void step_index(struct emu *e, enum gpr reg)
{
	const struct insn *in = e->in;
	uint64_t v = e->r->gpr[reg];

	v = (e->r->rflags & RFLAGS_DF) ? v - in->size : v + in->size;
	reg_write(e->r, reg, false, in->addr_size, v);
}

static enum emu_result result_of(enum locate_result l)
{
	return l == LOC_FAULT ? EMU_FAULT : EMU_STOP;
}

static bool source_in_memory(enum insn_op op)
{
	return op == INSN_MOVS || op == INSN_OUTS;
}

static bool dest_in_memory(enum insn_op op)
{
	return op == INSN_MOVS || op == INSN_STOS || op == INSN_INS;
}

/* Locates the memory sides of one iteration: seg:[rSI] read, ES:[rDI]
 * written. */
static enum locate_result locate_sides(struct emu *e, struct side *src, struct side *dst,
				       bool first, struct span *ssp, struct span *dsp)
{
	const struct insn *in = e->in;
	enum locate_result l = LOC_OK;

	if (source_in_memory(in->op))
		l = locate(e, src, string_la(e, source_seg(in->seg_override), GPR_RSI), false,
			   first, ssp);
	if (l == LOC_OK && dest_in_memory(in->op))
		l = locate(e, dst, string_la(e, SEG_ES, GPR_RDI), true, first, dsp);
	return l;
}

/* The element one iteration moves: from memory, rAX or the port. */
static enum emu_result load_element(struct emu *e, const struct span *ssp, uint8_t *buf)
{
	const struct insn *in = e->in;

	if (in->op == INSN_STOS) {
		u64_to_bytes(reg_read(e->r, GPR_RAX, false, in->size), buf, in->size);
		return EMU_DONE;
	}
	if (in->op == INSN_INS)
		return bus_piece(e, BUS_PORT, e->port, buf, in->size, false);
	return span_access(e, ssp, buf, false);
}

static enum emu_result store_element(struct emu *e, const struct span *dsp, uint8_t *buf)
{
	if (e->in->op == INSN_OUTS)
		return bus_piece(e, BUS_PORT, e->port, buf, e->in->size, true);
	return span_access(e, dsp, buf, true);
}

/* One STOS, MOVS, INS or OUTS iteration. Both sides are located (and
 * translated) before any access, so a fault leaves no device or port side
 * effect behind. */
static enum emu_result string_iteration(struct emu *e, struct side *src, struct side *dst,
					bool first, bool *end_batch)
{
	enum insn_op op = e->in->op;
	struct span ssp = {0}, dsp = {0};
	uint8_t buf[ACCESS_MAX];
	enum locate_result l = locate_sides(e, src, dst, first, &ssp, &dsp);
	enum emu_result res;

	if (l == LOC_END_BATCH) {
		*end_batch = true;
		return EMU_DONE;
	}
	if (l != LOC_OK)
		return result_of(l);
	res = load_element(e, &ssp, buf);
	if (res == EMU_DONE)
		res = store_element(e, &dsp, buf);
	if (res != EMU_DONE)
		return res;

	if (source_in_memory(op))
		step_index(e, GPR_RSI);
	if (dest_in_memory(op))
		step_index(e, GPR_RDI);
	return EMU_DONE;
}

/* STOS/MOVS/INS/OUTS, with or without REP (see the batching rule in emulate.h). */
static enum emu_result exec_string(struct emu *e)
{
	const struct insn *in = e->in;
	struct side src = {0}, dst = {0};
	unsigned limit = in->rep ? EMU_REP_BATCH : 1;

	for (unsigned i = 0; i < limit; i++) {
		bool end_batch = false;
		uint64_t count = reg_read(e->r, GPR_RCX, false, in->addr_size);
		enum emu_result res;

		if (in->rep && count == 0)
			break;
		res = string_iteration(e, &src, &dst, i == 0, &end_batch);
		if (res != EMU_DONE)
			return res;
		if (end_batch)
			break;
		if (in->rep)
			reg_write(e->r, GPR_RCX, false, in->addr_size, count - 1);
	}
	if (in->rep && reg_read(e->r, GPR_RCX, false, in->addr_size) != 0)
		return EMU_AGAIN;
	return EMU_DONE;
}

/* ---- entry ---- */

static bool is_string(enum insn_op op)
{
	return op == INSN_STOS || op == INSN_MOVS || op == INSN_INS || op == INSN_OUTS;
}

static bool is_pio(enum insn_op op)
{
	return op == INSN_INS || op == INSN_OUTS;
}

/* The decoder already guarantees all of this; checking again keeps a decoder
 * bug from turning into an out-of-bounds register access here. */
static bool insn_sane(const struct insn *in)
{
	if (in->op > INSN_OUTS || in->len == 0 || in->len > INSN_MAX_LEN)
		return false;
	if (!valid_size(in->size) || in->reg >= GPR_COUNT)
		return false;
	if (is_pio(in->op) && in->size > PORT_ACCESS_MAX)
		return false;
	if (in->reg_high8 && (in->size != 1 || in->reg > GPR_RBX))
		return false;
	if (in->addr_size != 2 && in->addr_size != 4 && in->addr_size != 8)
		return false;
	if (in->rep && !is_string(in->op))
		return false;
	if (in->op == INSN_MOVZX || in->op == INSN_MOVSX)
		return valid_size(in->dst_size) && in->dst_size >= in->size && !in->reg_high8;
	return true;
}

/* emu_mmio needs the memory callbacks; emu_pio_string the port ones too,
 * since its memory side may be RAM or MMIO. */
static bool env_complete(const struct emu_env *env, bool pio)
{
	if (pio && (!env->pio_read || !env->pio_write))
		return false;
	return env->translate && env->is_ram && env->ram_read && env->ram_write && env->mmio_read &&
	       env->mmio_write &&
	       (env->mode == INSN_MODE_16 || env->mode == INSN_MODE_32 ||
		env->mode == INSN_MODE_64);
}

/* EMU_DONE if the call can go ahead, else EMU_STOP with the reason. */
static enum emu_result check_call(struct emu *e, bool pio)
{
	if (e->why && e->whylen)
		e->why[0] = '\0';
	if (!e->in || !e->r || !e->env || !e->fault)
		return stop(e, "emulator called without instruction, registers or environment");
	memset(e->fault, 0, sizeof(*e->fault));
	if (!env_complete(e->env, pio))
		return stop(e, "emulator environment incomplete");
	if (!insn_sane(e->in))
		return stop(e, "malformed decoded instruction (%s)", insn_op_name(e->in->op));
	if (is_pio(e->in->op) != pio)
		return stop(e, "%s cannot be emulated by %s", insn_op_name(e->in->op),
			    pio ? "emu_pio_string" : "emu_mmio");
	return EMU_DONE;
}

static enum emu_result execute(struct emu *e, uint64_t fault_gpa)
{
	switch (e->in->op) {
	case INSN_MOV_LOAD:
	case INSN_MOV_STORE:
	case INSN_MOV_STORE_IMM:
		return exec_mov(e, fault_gpa);
	case INSN_MOVZX:
	case INSN_MOVSX:
		return exec_extend(e, fault_gpa);
	case INSN_STOS:
	case INSN_MOVS:
	case INSN_INS:
	case INSN_OUTS:
		return exec_string(e);
	default:
		return exec_alu(e, fault_gpa);
	}
}

/* What both entry points share: checks, execution, and RIP on success. */
static enum emu_result emulate(struct emu *e, bool pio, uint64_t fault_gpa)
{
	enum emu_result res = check_call(e, pio);

	if (res != EMU_DONE)
		return res;
	res = execute(e, fault_gpa);
	if (res == EMU_DONE)
		advance_rip(e->r, e->env->mode, e->in->len);
	return res;
}

enum emu_result emu_mmio(const struct insn *in, uint64_t fault_gpa, struct vcpu_regs *r,
			 const struct emu_env *env, struct emu_fault *fault, char *why,
			 size_t whylen)
{
	struct emu e = {.in = in, .r = r, .env = env, .fault = fault, .why = why, .whylen = whylen};

	return emulate(&e, false, fault_gpa);
}

enum emu_result emu_pio_string(const struct insn *in, uint16_t port, struct vcpu_regs *r,
			       const struct emu_env *env, struct emu_fault *fault, char *why,
			       size_t whylen)
{
	struct emu e = {.in = in, .r = r, .env = env, .fault = fault, .why = why, .whylen = whylen};

	/* The port is the only operand the exit gives; fault_gpa is unused. */
	e.port = port;
	return emulate(&e, true, 0);
}
