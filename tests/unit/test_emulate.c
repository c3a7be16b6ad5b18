/* Unit tests for the MMIO and string port I/O instruction emulator. Every
 * instruction is built
 * by running the real decoder on bytes assembled by hand from the SDM
 * opcode tables, so decode and execute are tested together. Expected values
 * and flags are worked out by hand from the SDM instruction pages.
 *
 * The fake environment has a small RAM array at guest-physical 0, an MMIO
 * byte array at MMIO_BASE that logs every access, and an identity
 * translation with hooks to remap a page, make a page fault, or report
 * tables outside RAM. MMIO reads return junk above the access size, so any
 * missing mask shows up. The fake I/O port logs every access too; its reads
 * return a known sequence, with junk above the access size as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/emulate.h"

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64
#define MAXB 32

#define PAGE 0x1000ull
#define RAM_SIZE (3 * PAGE) /* guest-physical [0, RAM_SIZE) is RAM */
#define MMIO_BASE 0x10000ull
#define MMIO_SIZE (3 * PAGE)
#define MMIO_END (MMIO_BASE + MMIO_SIZE)
#define GPA (MMIO_BASE + 0x40) /* fault_gpa of the non-string tests */
#define START_RIP 0x401000ull
#define FIXED_FLAGS (0x2ull | RFLAGS_IF) /* bit 1 always reads 1 */
#define ALL_ARITH (FIXED_FLAGS | RFLAGS_ARITH | RFLAGS_TF)
#define READ_JUNK 0xA5A5A5A5A5A5A5A5ull
#define LOG_MAX 512
#define XLATE_MAX 16
#define HOOK_MAX 4
#define PF_VECTOR 14
#define PF_WRITE 2u
#define ONES UINT64_MAX
#define PORT 0x1F0     /* the port of the INS/OUTS tests */
#define IP16 0x1000ull /* a RIP for tests that run 16-bit code */

enum kind { MMIO_R, MMIO_W, RAM_R, RAM_W, PIO_R, PIO_W };

struct access {
	enum kind kind;
	uint64_t gpa;
	unsigned size;
	uint64_t val;
};

struct fake {
	uint8_t ram[RAM_SIZE];
	uint8_t mmio[MMIO_SIZE];
	struct access log[LOG_MAX];
	unsigned nlog;
	/* translate calls */
	uint64_t xlate_la[XLATE_MAX];
	bool xlate_write[XLATE_MAX];
	unsigned nxlate;
	/* hooks, by linear page */
	uint64_t remap_from[HOOK_MAX], remap_to[HOOK_MAX];
	unsigned nremap;
	uint64_t fault_page[HOOK_MAX];
	unsigned nfault;
	uint64_t erange_page;
	bool erange;
	/* a bus access at fail_gpa returns fail_status */
	uint64_t fail_gpa;
	status_t fail_status;
	bool fail_writes_only;
	/* port accesses so far; the one numbered pio_fail_at (from 1) returns
	 * pio_fail if that is not ST_OK */
	unsigned npio;
	unsigned pio_fail_at;
	status_t pio_fail;
};

static struct fake F;
static struct emu_env env;
static struct vcpu_regs R;
static struct emu_fault flt;
static char why[160];

/* ---- little-endian byte helpers ---- */

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t mask(unsigned n)
{
	return n >= 8 ? ONES : (1ull << (8 * n)) - 1;
}

static void mmio_put(uint64_t gpa, uint64_t v, unsigned n)
{
	assert_true(gpa >= MMIO_BASE && gpa + n <= MMIO_END);
	put_le(&F.mmio[gpa - MMIO_BASE], v, n);
}

static uint64_t mmio_get(uint64_t gpa, unsigned n)
{
	assert_true(gpa >= MMIO_BASE && gpa + n <= MMIO_END);
	return get_le(&F.mmio[gpa - MMIO_BASE], n);
}

static void log_access(enum kind k, uint64_t gpa, unsigned size, uint64_t val)
{
	assert_true(F.nlog < LOG_MAX);
	F.log[F.nlog++] = (struct access){k, gpa, size, val};
}

/* ---- the fake environment ---- */

static status_t fake_translate(void *ctx, uint64_t la, bool write, uint64_t *gpa,
			       struct emu_fault *fault)
{
	struct fake *f = ctx;
	uint64_t page = la & ~(PAGE - 1);

	assert_ptr_equal(f, &F);
	assert_true(f->nxlate < XLATE_MAX);
	f->xlate_la[f->nxlate] = la;
	f->xlate_write[f->nxlate++] = write;
	for (unsigned i = 0; i < f->nfault; i++) {
		if (page == f->fault_page[i]) {
			fault->vector = PF_VECTOR;
			fault->has_error = true;
			fault->error = write ? PF_WRITE : 0;
			fault->cr2 = la;
			return ST_ENOENT;
		}
	}
	if (f->erange && page == f->erange_page)
		return ST_ERANGE;
	*gpa = la;
	for (unsigned i = 0; i < f->nremap; i++)
		if (page == f->remap_from[i])
			*gpa = f->remap_to[i] + (la & (PAGE - 1));
	return ST_OK;
}

static bool fake_is_ram(void *ctx, uint64_t gpa, size_t len)
{
	(void)ctx;
	return gpa < RAM_SIZE && len <= RAM_SIZE - gpa;
}

static status_t fake_ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	/* The emulator must only come here for ranges is_ram accepted. */
	assert_true(fake_is_ram(ctx, gpa, len) && len <= 8);
	memcpy(buf, &F.ram[gpa], len);
	log_access(RAM_R, gpa, (unsigned)len, get_le(&F.ram[gpa], (unsigned)len));
	return ST_OK;
}

static status_t fake_ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	assert_true(fake_is_ram(ctx, gpa, len) && len <= 8);
	memcpy(&F.ram[gpa], buf, len);
	log_access(RAM_W, gpa, (unsigned)len, get_le(&F.ram[gpa], (unsigned)len));
	return ST_OK;
}

static void check_bus_access(uint64_t gpa, uint8_t size)
{
	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(gpa >= MMIO_BASE && gpa + size <= MMIO_END);
}

static status_t fake_mmio_read(void *ctx, uint64_t gpa, uint8_t size, uint64_t *val)
{
	(void)ctx;
	*val = READ_JUNK;
	if (F.fail_status != ST_OK && !F.fail_writes_only && gpa == F.fail_gpa)
		return F.fail_status;
	check_bus_access(gpa, size);
	*val = mmio_get(gpa, size);
	log_access(MMIO_R, gpa, size, *val);
	/* Junk above the access size: the emulator must ignore it. */
	*val |= READ_JUNK & ~mask(size);
	return ST_OK;
}

static status_t fake_mmio_write(void *ctx, uint64_t gpa, uint8_t size, uint64_t val)
{
	(void)ctx;
	if (F.fail_status != ST_OK && gpa == F.fail_gpa)
		return F.fail_status;
	check_bus_access(gpa, size);
	/* Log the value exactly as received: bits above size must be clear. */
	log_access(MMIO_W, gpa, size, val);
	mmio_put(gpa, val, size);
	return ST_OK;
}

/* The k-th port read (from 0) returns k + 1 in every byte of `size`. */
static uint64_t pio_value(unsigned k, unsigned size)
{
	return (0x0101010101010101ull * (k + 1)) & mask(size);
}

/* Counts a port access; true if it is the one that must fail. */
static bool pio_count(uint16_t port, uint8_t size)
{
	assert_int_equal(port, PORT);
	assert_true(size == 1 || size == 2 || size == 4);
	F.npio++;
	return F.pio_fail != ST_OK && F.npio == F.pio_fail_at;
}

static status_t fake_pio_read(void *ctx, uint16_t port, uint8_t size, uint64_t *val)
{
	unsigned k = F.npio;

	assert_ptr_equal(ctx, &F);
	*val = READ_JUNK;
	if (pio_count(port, size))
		return F.pio_fail;
	*val = pio_value(k, size);
	log_access(PIO_R, port, size, *val);
	*val |= READ_JUNK & ~mask(size);
	return ST_OK;
}

static status_t fake_pio_write(void *ctx, uint16_t port, uint8_t size, uint64_t val)
{
	assert_ptr_equal(ctx, &F);
	if (pio_count(port, size))
		return F.pio_fail;
	/* Logged as received: bits above size must be clear. */
	log_access(PIO_W, port, size, val);
	return ST_OK;
}

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	memset(&R, 0, sizeof(R));
	memset(&flt, 0xEE, sizeof(flt));
	memset(why, 0, sizeof(why));
	env = (struct emu_env){
	    .ctx = &F,
	    .mode = M64,
	    .translate = fake_translate,
	    .is_ram = fake_is_ram,
	    .ram_read = fake_ram_read,
	    .ram_write = fake_ram_write,
	    .mmio_read = fake_mmio_read,
	    .mmio_write = fake_mmio_write,
	    .pio_read = fake_pio_read,
	    .pio_write = fake_pio_write,
	};
	R.rip = START_RIP;
	R.rflags = FIXED_FLAGS;
	return 0;
}

/* ---- decoding and running ---- */

static size_t parse_hex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(n < MAXB);
		out[n++] = (uint8_t)strtoul((char[]){hex[0], hex[1], 0}, NULL, 16);
		hex += 2;
	}
	return n;
}

static void decode(const char *hex, enum insn_mode mode, struct insn *in)
{
	uint8_t b[MAXB];
	size_t n = parse_hex(hex, b);

	assert_int_equal(insn_decode(b, n, mode, in), ST_OK);
	assert_int_equal(in->len, n);
}

/* Decodes hex in env.mode and executes it with fault_gpa GPA. */
static enum emu_result run_at(const char *hex, uint64_t gpa)
{
	struct insn in;

	decode(hex, env.mode, &in);
	return emu_mmio(&in, gpa, &R, &env, &flt, why, sizeof(why));
}

static enum emu_result run(const char *hex)
{
	return run_at(hex, GPA);
}

static void expect_log(unsigned i, enum kind k, uint64_t gpa, unsigned size, uint64_t val)
{
	assert_true(i < F.nlog);
	assert_int_equal(F.log[i].kind, k);
	assert_int_equal(F.log[i].gpa, gpa);
	assert_int_equal(F.log[i].size, size);
	assert_int_equal(F.log[i].val, val);
}

/* ---- MOV loads ---- */

struct load_row {
	const char *hex;
	unsigned size;	 /* access size the bus must see */
	uint64_t mem;	 /* device value */
	unsigned reg;	 /* destination register */
	uint64_t before; /* its value before */
	uint64_t after;	 /* and after */
};

static const struct load_row load_rows[] = {
    /* 8-bit: only the low byte (or bits 15:8) changes */
    {"8a 03", 1, 0xAB, GPR_RAX, 0x1111111111111111, 0x11111111111111AB},    /* mov (%rbx),%al */
    {"8a 23", 1, 0xAB, GPR_RAX, 0x1111111111111111, 0x111111111111AB11},    /* %ah */
    {"8a 3e", 1, 0xAB, GPR_RBX, 0x2222222222222222, 0x222222222222AB22},    /* (%rsi),%bh */
    {"8a 2e", 1, 0xCD, GPR_RCX, 0x3333333333333333, 0x333333333333CD33},    /* (%rsi),%ch */
    {"8a 36", 1, 0xEF, GPR_RDX, 0x4444444444444444, 0x444444444444EF44},    /* (%rsi),%dh */
    {"40 8a 23", 1, 0xAB, GPR_RSP, 0x1111111111111111, 0x11111111111111AB}, /* %spl */
    {"44 8a 03", 1, 0x80, GPR_R8, 0x1111111111111111, 0x1111111111111180},  /* %r8b */
    /* 16-bit merges into the low word */
    {"66 8b 03", 2, 0xBEEF, GPR_RAX, 0x1111111111111111, 0x111111111111BEEF},
    {"66 44 8b 3b", 2, 0x8000, GPR_R15, ONES, 0xFFFFFFFFFFFF8000},
    /* 32-bit zero-extends into the whole register */
    {"8b 03", 4, 0xDEADBEEF, GPR_RAX, ONES, 0x00000000DEADBEEF},
    {"44 8b 03", 4, 0x80000000, GPR_R8, ONES, 0x0000000080000000},
    /* 64-bit writes everything */
    {"48 8b 03", 8, 0x0123456789ABCDEF, GPR_RAX, ONES, 0x0123456789ABCDEF},
    {"4c 8b 3b", 8, 0xFEDCBA9876543210, GPR_R15, 0, 0xFEDCBA9876543210},
    /* moffs forms load rAX */
    {"a0 40 00 01 00 00 00 00 00", 1, 0x5A, GPR_RAX, ONES, 0xFFFFFFFFFFFFFF5A},
    {"a1 40 00 01 00 00 00 00 00", 4, 0x80000001, GPR_RAX, ONES, 0x0000000080000001},
    {"48 a1 40 00 01 00 00 00 00 00", 8, 0x8000000000000001, GPR_RAX, 0, 0x8000000000000001},
    /* movzx: zero-extend, then the register write rules of dst_size */
    {"0f b6 03", 1, 0x80, GPR_RAX, ONES, 0x80},
    {"66 0f b6 03", 1, 0x80, GPR_RAX, ONES, 0xFFFFFFFFFFFF0080},
    {"48 0f b6 03", 1, 0xFF, GPR_RAX, ONES, 0xFF},
    {"0f b7 03", 2, 0x8001, GPR_RAX, ONES, 0x8001},
    {"48 0f b7 03", 2, 0xFFFF, GPR_RAX, ONES, 0xFFFF},
    {"44 0f b6 03", 1, 0x90, GPR_R8, ONES, 0x90},
    /* 66 0F B7: movzx r16, m16, a plain 16-bit load (compilers emit it) */
    {"66 0f b7 03", 2, 0x8001, GPR_RAX, ONES, 0xFFFFFFFFFFFF8001},
    {"66 0f bf 03", 2, 0x8001, GPR_RAX, 0, 0x8001},
    /* movsx: sign-extend to dst_size; a 32-bit destination zero-extends */
    {"0f be 03", 1, 0x80, GPR_RAX, ONES, 0x00000000FFFFFF80},
    {"0f be 03", 1, 0x7F, GPR_RAX, ONES, 0x7F},
    {"66 0f be 03", 1, 0x80, GPR_RAX, 0x1111111111111111, 0x111111111111FF80},
    {"48 0f be 03", 1, 0x80, GPR_RAX, 0, 0xFFFFFFFFFFFFFF80},
    {"0f bf 03", 2, 0x8001, GPR_RAX, ONES, 0x00000000FFFF8001},
    {"48 0f bf 03", 2, 0x8001, GPR_RAX, 0, 0xFFFFFFFFFFFF8001},
    {"48 0f bf 03", 2, 0x7FFF, GPR_RAX, ONES, 0x7FFF},
    /* movsxd */
    {"48 63 03", 4, 0x80000000, GPR_RAX, 0, 0xFFFFFFFF80000000},
    {"48 63 03", 4, 0x7FFFFFFF, GPR_RAX, ONES, 0x7FFFFFFF},
    {"4c 63 0b", 4, 0xFFFFFFFF, GPR_R9, 0, ONES},
};

static void test_loads(void **state)
{
	for (size_t i = 0; i < sizeof(load_rows) / sizeof(load_rows[0]); i++) {
		const struct load_row *w = &load_rows[i];
		struct vcpu_regs want;

		print_message("load %s\n", w->hex);
		setup(state);
		for (unsigned g = 0; g < GPR_COUNT; g++)
			R.gpr[g] = 0x0101010101010101ull * g;
		R.gpr[w->reg] = w->before;
		R.rflags = ALL_ARITH;
		mmio_put(GPA, w->mem, w->size);
		want = R;
		want.gpr[w->reg] = w->after;

		assert_int_equal(run(w->hex), EMU_DONE);
		assert_int_equal(F.nlog, 1);
		expect_log(0, MMIO_R, GPA, w->size, w->mem);
		want.rip = START_RIP + (parse_hex(w->hex, (uint8_t[MAXB]){0}));
		/* Only the destination register and RIP change; no flags. */
		assert_memory_equal(&R, &want, sizeof(R));
		assert_int_equal(F.nxlate, 0);
	}
}

/* ---- MOV stores ---- */

struct store_row {
	const char *hex;
	unsigned size;
	uint64_t written; /* value the device must receive */
};

/* Registers: RAX 0x1122334455667788, RCX 0x99AABBCCDDEEFF00 | 0x77 in CH
 * etc.; see test_stores. */
static const struct store_row store_rows[] = {
    {"88 08", 1, 0x21},			     /* mov %cl,(%rax) */
    {"88 28", 1, 0x43},			     /* mov %ch,(%rax) */
    {"88 20", 1, 0x77},			     /* mov %ah,(%rax) */
    {"88 3b", 1, 0xA7},			     /* mov %bh,(%rbx) */
    {"88 30", 1, 0xD5},			     /* mov %dh,(%rax) */
    {"40 88 28", 1, 0x5B},		     /* mov %bpl,(%rax) */
    {"44 88 08", 1, 0x89},		     /* mov %r9b,(%rax) */
    {"66 89 08", 2, 0x4321},		     /* mov %cx,(%rax) */
    {"89 08", 4, 0x43214321},		     /* mov %ecx,(%rax) */
    {"48 89 08", 8, 0xCBA9876543214321ull},  /* mov %rcx,(%rax) */
    {"4c 89 08", 8, 0x0123456789ABCD89ull},  /* mov %r9,(%rax) */
    {"a2 40 00 01 00 00 00 00 00", 1, 0x88}, /* mov %al,moffs */
    {"66 a3 40 00 01 00 00 00 00 00", 2, 0x7788},
    {"48 a3 40 00 01 00 00 00 00 00", 8, 0x1122334455667788ull},
    /* immediates, sign-extended to the operand size and no further */
    {"c6 00 ab", 1, 0xAB},
    {"66 c7 00 34 92", 2, 0x9234},
    {"c7 00 78 56 34 12", 4, 0x12345678},
    {"c7 00 00 00 00 80", 4, 0x80000000},
    {"48 c7 00 ff ff ff ff", 8, ONES},
    {"48 c7 00 00 00 00 80", 8, 0xFFFFFFFF80000000ull},
    {"48 c7 00 ff ff ff 7f", 8, 0x7FFFFFFF},
};

static void test_stores(void **state)
{
	for (size_t i = 0; i < sizeof(store_rows) / sizeof(store_rows[0]); i++) {
		const struct store_row *w = &store_rows[i];
		struct vcpu_regs want;

		print_message("store %s\n", w->hex);
		setup(state);
		R.gpr[GPR_RAX] = 0x1122334455667788ull;
		R.gpr[GPR_RCX] = 0xCBA9876543214321ull;
		R.gpr[GPR_RDX] = 0x111111111111D511ull;
		R.gpr[GPR_RBX] = 0x222222222222A722ull;
		R.gpr[GPR_RBP] = 0x333333333333335Bull;
		R.gpr[GPR_R9] = 0x0123456789ABCD89ull;
		R.rflags = ALL_ARITH;
		mmio_put(GPA, ONES, 8);
		want = R;
		want.rip = START_RIP + parse_hex(w->hex, (uint8_t[MAXB]){0});

		assert_int_equal(run(w->hex), EMU_DONE);
		assert_int_equal(F.nlog, 1);
		expect_log(0, MMIO_W, GPA, w->size, w->written);
		assert_memory_equal(&R, &want, sizeof(R));
	}
}

/* ---- AND, OR, XOR, TEST, CMP ---- */

#define C RFLAGS_CF
#define P RFLAGS_PF
#define A RFLAGS_AF
#define Z RFLAGS_ZF
#define S RFLAGS_SF
#define O RFLAGS_OF
#define NO_WRITE 0xDEADDEADDEADDEADull

struct alu_row {
	const char *hex;
	unsigned size;
	uint64_t mem;	     /* memory before */
	unsigned reg;	     /* register operand */
	uint64_t reg_before; /* its value */
	uint64_t mem_after;  /* written back, or NO_WRITE */
	uint64_t reg_after;  /* register afterwards */
	uint64_t flags;	     /* the six arithmetic flags expected */
};

static const struct alu_row alu_rows[] = {
    /* AND, memory destination */
    {"20 08", 1, 0xF0, GPR_RCX, 0xAAAAAAAAAAAAAA3C, 0x30, 0xAAAAAAAAAAAAAA3C, P},
    {"66 21 08", 2, 0x8001, GPR_RCX, 0xFFFFFFFFFFFF8003, 0x8001, 0xFFFFFFFFFFFF8003, S},
    {"21 08", 4, 0x0F0F0F0F, GPR_RCX, 0xF0F0F0F0, 0, 0xF0F0F0F0, Z | P},
    {"48 21 08", 8, 0xFFFF000000000003, GPR_RCX, 0x8000000000000001, 0x8000000000000001,
     0x8000000000000001, S},
    {"80 20 0f", 1, 0x3C, GPR_RCX, 0, 0x0C, 0, P},
    {"83 20 f0", 4, 0x1234567F, GPR_RCX, 0, 0x12345670, 0, 0},
    {"48 83 20 f0", 8, 0xFEDCBA987654321F, GPR_RCX, 0, 0xFEDCBA9876543210, 0, S},
    {"66 81 20 00 ff", 2, 0x12FF, GPR_RCX, 0, 0x1200, 0, P},
    /* AND, register destination (opcodes 22/23): memory only read */
    {"23 08", 4, 0xFFFF00FF, GPR_RCX, 0xDEADBEEF12345678, NO_WRITE, 0x12340078, P},
    {"22 23", 1, 0x3C, GPR_RAX, 0x112233445566F0AA, NO_WRITE, 0x11223344556630AA, P},
    /* OR */
    {"08 08", 1, 0x80, GPR_RCX, 0x01, 0x81, 0x01, S | P},
    {"09 08", 4, 0x80000000, GPR_RCX, 0, 0x80000000, 0, S | P},
    {"48 09 08", 8, 0, GPR_RCX, 0, 0, 0, Z | P},
    {"81 08 00 00 00 80", 4, 1, GPR_RCX, 0, 0x80000001, 0, S},
    {"48 81 08 00 00 00 80", 8, 1, GPR_RCX, 0, 0xFFFFFFFF80000001, 0, S},
    {"48 83 08 ff", 8, 0, GPR_RCX, 0, ONES, 0, S | P},
    {"0b 08", 4, 0x100, GPR_RCX, 0xFFFFFFFF00000001, NO_WRITE, 0x101, 0},
    {"66 0b 08", 2, 0x100, GPR_RCX, 0xFFFFFFFFFFFF0001, NO_WRITE, 0xFFFFFFFFFFFF0101, 0},
    {"0a 08", 1, 0x02, GPR_RCX, 0x123456789ABCDE01, NO_WRITE, 0x123456789ABCDE03, P},
    /* XOR */
    {"80 30 ff", 1, 0xFF, GPR_RCX, 0, 0, 0, Z | P},
    {"31 08", 4, 0xFFFFFFFF, GPR_RCX, 0x7FFFFFFF, 0x80000000, 0x7FFFFFFF, S | P},
    {"66 31 08", 2, 0x00FF, GPR_RCX, 0x0F0F, 0x0FF0, 0x0F0F, P},
    {"48 31 08", 8, 0x0123456789ABCDEF, GPR_RCX, 0x0123456789ABCDEF, 0, 0x0123456789ABCDEF, Z | P},
    {"33 08", 4, 1, GPR_RCX, ONES, NO_WRITE, 0xFFFFFFFE, S},
    {"83 30 01", 4, 3, GPR_RCX, 0, 2, 0, 0},
    /* TEST: flags only */
    {"f6 00 80", 1, 0x80, GPR_RCX, 0, NO_WRITE, 0, S},
    {"85 08", 4, 0xF0F0, GPR_RCX, 0x0F0F, NO_WRITE, 0x0F0F, Z | P},
    {"66 85 08", 2, 0x8000, GPR_RCX, 0x8000, NO_WRITE, 0x8000, S | P},
    {"48 85 08", 8, 0x8000000000000000, GPR_RCX, 0x8000000000000000, NO_WRITE, 0x8000000000000000,
     S | P},
    {"f7 00 ff 00 00 00", 4, 0x10003, GPR_RCX, 0, NO_WRITE, 0, P},
    /* test %ah,(%rbx): AH = 0x01 gives 0x01 (no flag); AL = 0x80 would give SF */
    {"84 23", 1, 0x81, GPR_RAX, 0x00FF000000000180, NO_WRITE, 0x00FF000000000180, 0},
    /* CMP: flags of dst - src as SUB computes them */
    {"80 38 01", 1, 0x80, GPR_RCX, 0, NO_WRITE, 0, O | A},	      /* 0x80-1 = 0x7F */
    {"38 08", 1, 0x80, GPR_RCX, 0x01, NO_WRITE, 0x01, O | A},	      /* mem - cl */
    {"3a 08", 1, 0x80, GPR_RCX, 0x01, NO_WRITE, 0x01, C | O | S | P}, /* cl - mem = 0x81 */
    {"80 38 80", 1, 0x7F, GPR_RCX, 0, NO_WRITE, 0, C | O | S | P},    /* 0x7F-0x80 = 0xFF */
    {"83 38 ff", 4, 0, GPR_RCX, 0, NO_WRITE, 0, C | A},		      /* 0-0xFFFFFFFF = 1 */
    {"48 39 08", 8, 0x123456789ABCDEF0, GPR_RCX, 0x123456789ABCDEF0, NO_WRITE, 0x123456789ABCDEF0,
     Z | P},
    {"66 39 08", 2, 0x8000, GPR_RCX, 0xFFFF0001, NO_WRITE, 0xFFFF0001, O | A | P},
    {"48 39 08", 8, 0x8000000000000000, GPR_RCX, 1, NO_WRITE, 1, O | A | P},
    {"3b 08", 4, 5, GPR_RCX, 3, NO_WRITE, 3, C | S | A},	  /* 3-5 */
    {"3b 08", 4, 3, GPR_RCX, 5, NO_WRITE, 5, 0},		  /* 5-3 */
    {"48 83 38 80", 8, 0, GPR_RCX, 0, NO_WRITE, 0, C},		  /* 0-(-128) = 0x80 */
    {"3a 23", 1, 0x01, GPR_RAX, 0x10FF, NO_WRITE, 0x10FF, A | P}, /* ah - mem = 0x0F */
};

static void test_alu(void **state)
{
	for (size_t i = 0; i < sizeof(alu_rows) / sizeof(alu_rows[0]); i++) {
		const struct alu_row *w = &alu_rows[i];
		bool writes = w->mem_after != NO_WRITE;
		uint64_t others = RFLAGS_TF | RFLAGS_DF | FIXED_FLAGS;
		struct vcpu_regs want;

		print_message("alu %s\n", w->hex);
		for (int pass = 0; pass < 2; pass++) {
			setup(state);
			R.gpr[w->reg] = w->reg_before;
			/* Every arithmetic flag set, then every one clear: each
			 * expected flag must be set and each other one cleared,
			 * whatever came before; no other bit changes. */
			R.rflags = others | (pass ? RFLAGS_ARITH : 0);
			mmio_put(GPA, w->mem, w->size);
			mmio_put(GPA + w->size, 0x5A, 1);
			want = R;
			want.gpr[w->reg] = w->reg_after;
			want.rflags = others | w->flags;
			want.rip = START_RIP + parse_hex(w->hex, (uint8_t[MAXB]){0});

			assert_int_equal(run(w->hex), EMU_DONE);
			assert_memory_equal(&R, &want, sizeof(R));
			assert_int_equal(F.nlog, writes ? 2 : 1);
			expect_log(0, MMIO_R, GPA, w->size, w->mem);
			if (writes)
				expect_log(1, MMIO_W, GPA, w->size, w->mem_after);
			assert_int_equal(mmio_get(GPA + w->size, 1), 0x5A);
		}
	}
}

/* ---- RIP, modes ---- */

static void test_rip_advance(void **state)
{
	(void)state;
	/* 48 c7 80 00 01 00 00 01 00 00 00: movq $1,0x100(%rax) is 11 bytes */
	assert_int_equal(run("48 c7 80 00 01 00 00 01 00 00 00"), EMU_DONE);
	assert_int_equal(R.rip, START_RIP + 11);
	expect_log(0, MMIO_W, GPA, 8, 1);

	/* 64-bit mode: no wrap at 32 bits */
	setup(state);
	R.rip = 0x00000000FFFFFFFEull;
	assert_int_equal(run("89 08"), EMU_DONE);
	assert_int_equal(R.rip, 0x100000000ull);
}

static void test_rip_wrap_16(void **state)
{
	(void)state;
	env.mode = M16;
	R.rip = 0xFFFF;
	R.gpr[GPR_RAX] = 0xAAAA5678;
	/* 89 07: mov %ax,(%bx) in 16-bit code: 2 bytes, IP wraps to 1 */
	assert_int_equal(run("89 07"), EMU_DONE);
	assert_int_equal(R.rip, 0x0001);
	expect_log(0, MMIO_W, GPA, 2, 0x5678);

	/* 66 89 07: mov %eax,(%bx), 32-bit operand in 16-bit code */
	setup(state);
	env.mode = M16;
	R.rip = 0xFFFE;
	R.gpr[GPR_RAX] = 0xAAAA5678;
	assert_int_equal(run("66 89 07"), EMU_DONE);
	assert_int_equal(R.rip, 0x0001);
	expect_log(0, MMIO_W, GPA, 4, 0xAAAA5678);
}

static void test_rip_wrap_32(void **state)
{
	(void)state;
	env.mode = M32;
	R.rip = 0xFFFFFFFE;
	R.gpr[GPR_RAX] = 0x1122334455667788ull;
	/* 66 89 03: mov %ax,(%ebx), 3 bytes */
	assert_int_equal(run("66 89 03"), EMU_DONE);
	assert_int_equal(R.rip, 0x00000001);
	expect_log(0, MMIO_W, GPA, 2, 0x7788);
}

static void test_modes_register_rules(void **state)
{
	(void)state;
	/* 16-bit code: 8b 07 = mov (%bx),%ax merges the low word */
	env.mode = M16;
	R.gpr[GPR_RAX] = 0x1111111111111111ull;
	mmio_put(GPA, 0xBEEF, 2);
	assert_int_equal(run("8b 07"), EMU_DONE);
	assert_int_equal(R.gpr[GPR_RAX], 0x111111111111BEEFull);
	expect_log(0, MMIO_R, GPA, 2, 0xBEEF);

	/* 66 8b 07 = mov (%bx),%eax: a 32-bit write zero-extends in any mode */
	setup(state);
	env.mode = M16;
	R.gpr[GPR_RAX] = ONES;
	mmio_put(GPA, 0xDEADBEEF, 4);
	assert_int_equal(run("66 8b 07"), EMU_DONE);
	assert_int_equal(R.gpr[GPR_RAX], 0xDEADBEEFull);

	/* 32-bit code: 8b 03 = mov (%ebx),%eax */
	setup(state);
	env.mode = M32;
	R.gpr[GPR_RAX] = ONES;
	mmio_put(GPA, 0x12345678, 4);
	assert_int_equal(run("8b 03"), EMU_DONE);
	assert_int_equal(R.gpr[GPR_RAX], 0x12345678ull);
	assert_int_equal(R.rip, START_RIP + 2);
}

/* ---- STOS ---- */

static void test_stos_sizes(void **state)
{
	static const struct {
		const char *hex;
		unsigned size;
		uint64_t val;
	} rows[] = {
	    {"aa", 1, 0x88},
	    {"66 ab", 2, 0x7788},
	    {"ab", 4, 0x55667788},
	    {"48 ab", 8, 0x1122334455667788ull},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int df = 0; df < 2; df++) {
			uint64_t dst = MMIO_BASE + 0x100;

			setup(state);
			/* ES base is ignored in 64-bit mode */
			env.seg_base[SEG_ES] = 0x5000;
			R.gpr[GPR_RAX] = 0x1122334455667788ull;
			R.gpr[GPR_RDI] = dst;
			R.gpr[GPR_RCX] = 7; /* no rep: untouched */
			R.rflags = FIXED_FLAGS | (df ? RFLAGS_DF : 0);
			assert_int_equal(run_at(rows[i].hex, 0), EMU_DONE);
			assert_int_equal(F.nlog, 1);
			expect_log(0, MMIO_W, dst, rows[i].size, rows[i].val);
			assert_int_equal(R.gpr[GPR_RDI],
					 df ? dst - rows[i].size : dst + rows[i].size);
			assert_int_equal(R.gpr[GPR_RCX], 7);
			assert_int_equal(R.rip,
					 START_RIP + parse_hex(rows[i].hex, (uint8_t[MAXB]){0}));
			assert_int_equal(R.rflags, FIXED_FLAGS | (df ? RFLAGS_DF : 0));
			assert_int_equal(F.nxlate, 1);
			assert_int_equal(F.xlate_la[0], dst);
			assert_true(F.xlate_write[0]);
		}
	}
}

static void test_rep_stos_zero_count(void **state)
{
	(void)state;
	R.gpr[GPR_RDI] = MMIO_BASE;
	R.gpr[GPR_RCX] = 0;
	assert_int_equal(run_at("f3 aa", 0), EMU_DONE);
	assert_int_equal(F.nlog, 0);
	assert_int_equal(F.nxlate, 0);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE);
	assert_int_equal(R.rip, START_RIP + 2);

	/* 67: ECX counts, so upper bits of RCX do not make it non-zero */
	setup(state);
	R.gpr[GPR_RDI] = MMIO_BASE;
	R.gpr[GPR_RCX] = 0x500000000ull;
	assert_int_equal(run_at("67 f3 aa", 0), EMU_DONE);
	assert_int_equal(F.nlog, 0);
	assert_int_equal(R.gpr[GPR_RCX], 0x500000000ull);
	assert_int_equal(R.rip, START_RIP + 3);
}

/* 100 qwords from a page start: 64 in the first batch, then 36. */
static void test_rep_stos_batches(void **state)
{
	(void)state;
	R.gpr[GPR_RAX] = 0xA1A2A3A4A5A6A7A8ull;
	R.gpr[GPR_RDI] = MMIO_BASE;
	R.gpr[GPR_RCX] = 100;
	assert_int_equal(run_at("f3 48 ab", 0), EMU_AGAIN);
	assert_int_equal(EMU_REP_BATCH, 64);
	assert_int_equal(F.nlog, 64);
	for (unsigned i = 0; i < 64; i++)
		expect_log(i, MMIO_W, MMIO_BASE + 8 * i, 8, 0xA1A2A3A4A5A6A7A8ull);
	assert_int_equal(R.gpr[GPR_RCX], 36);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 512);
	assert_int_equal(R.rip, START_RIP);
	assert_int_equal(F.nxlate, 1); /* one translation per batch */

	F.nlog = 0;
	F.nxlate = 0;
	assert_int_equal(run_at("f3 48 ab", 0), EMU_DONE);
	assert_int_equal(F.nlog, 36);
	expect_log(35, MMIO_W, MMIO_BASE + 8 * 99, 8, 0xA1A2A3A4A5A6A7A8ull);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 800);
	assert_int_equal(R.rip, START_RIP + 3);
	assert_int_equal(F.nxlate, 1);
}

/* A batch ends before the iteration that would enter the next page. */
static void test_rep_stos_page_stop(void **state)
{
	(void)state;
	R.gpr[GPR_RAX] = 0x11223344;
	R.gpr[GPR_RDI] = MMIO_BASE + 0xFF0;
	R.gpr[GPR_RCX] = 10;
	assert_int_equal(run_at("f3 ab", 0), EMU_AGAIN);
	assert_int_equal(F.nlog, 4);
	expect_log(3, MMIO_W, MMIO_BASE + 0xFFC, 4, 0x11223344);
	assert_int_equal(R.gpr[GPR_RCX], 6);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x1000);
	assert_int_equal(R.rip, START_RIP);

	/* The next page is mapped somewhere else: the new batch translates it. */
	F.remap_from[0] = MMIO_BASE + 0x1000;
	F.remap_to[0] = MMIO_BASE + 0x2000;
	F.nremap = 1;
	F.nlog = 0;
	assert_int_equal(run_at("f3 ab", 0), EMU_DONE);
	assert_int_equal(F.nlog, 6);
	expect_log(0, MMIO_W, MMIO_BASE + 0x2000, 4, 0x11223344);
	expect_log(5, MMIO_W, MMIO_BASE + 0x2014, 4, 0x11223344);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x1018);
	assert_int_equal(R.rip, START_RIP + 2);
}

/* DF=1 walks down; the batch stops before leaving the page downwards. */
static void test_rep_stos_backward(void **state)
{
	(void)state;
	R.gpr[GPR_RAX] = 0xCAFE;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x1004;
	R.gpr[GPR_RCX] = 5;
	R.rflags = FIXED_FLAGS | RFLAGS_DF;
	assert_int_equal(run_at("f3 66 ab", 0), EMU_AGAIN);
	assert_int_equal(F.nlog, 3);
	expect_log(0, MMIO_W, MMIO_BASE + 0x1004, 2, 0xCAFE);
	expect_log(1, MMIO_W, MMIO_BASE + 0x1002, 2, 0xCAFE);
	expect_log(2, MMIO_W, MMIO_BASE + 0x1000, 2, 0xCAFE);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0xFFE);
	assert_int_equal(R.gpr[GPR_RCX], 2);

	F.nlog = 0;
	assert_int_equal(run_at("f3 66 ab", 0), EMU_DONE);
	assert_int_equal(F.nlog, 2);
	expect_log(1, MMIO_W, MMIO_BASE + 0xFFC, 2, 0xCAFE);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0xFFA);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rflags, FIXED_FLAGS | RFLAGS_DF);
}

/* 67 in 64-bit mode: EDI/ECX, wrapping at 2^32, upper halves cleared. */
static void test_stos_addr32_wrap(void **state)
{
	(void)state;
	F.remap_from[0] = 0xFFFFF000;
	F.remap_to[0] = MMIO_BASE;
	F.nremap = 1;
	R.gpr[GPR_RAX] = 0x42;
	R.gpr[GPR_RDI] = 0x00000001FFFFFFFFull; /* EDI = 0xFFFFFFFF */
	R.gpr[GPR_RCX] = 0x0000AAAA00000001ull; /* ECX = 1 */
	assert_int_equal(run_at("67 f3 aa", 0), EMU_DONE);
	assert_int_equal(F.xlate_la[0], 0xFFFFFFFFull);
	expect_log(0, MMIO_W, MMIO_BASE + 0xFFF, 1, 0x42);
	assert_int_equal(R.gpr[GPR_RDI], 0);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rip, START_RIP + 3);
}

/* 16-bit addressing: only DI's low 16 bits move; ES base applies. */
static void test_stos_addr16(void **state)
{
	(void)state;
	env.mode = M16;
	env.seg_base[SEG_ES] = 0x20000;
	F.remap_from[0] = 0x2F000;
	F.remap_to[0] = MMIO_BASE;
	F.nremap = 1;
	R.gpr[GPR_RAX] = 0x99;
	R.gpr[GPR_RDI] = 0x1234FFFFull;
	R.gpr[GPR_RCX] = 0xABCD0001ull; /* CX = 1 */
	assert_int_equal(run_at("f3 aa", 0), EMU_DONE);
	assert_int_equal(F.xlate_la[0], 0x2FFFF);
	expect_log(0, MMIO_W, MMIO_BASE + 0xFFF, 1, 0x99);
	assert_int_equal(R.gpr[GPR_RDI], 0x12340000ull);
	assert_int_equal(R.gpr[GPR_RCX], 0xABCD0000ull);
}

/* 32-bit code: ES base + EDI wraps at 2^32; here onto RAM at 0x10. */
static void test_stos_linear_wrap_32(void **state)
{
	(void)state;
	env.mode = M32;
	env.seg_base[SEG_ES] = 0xFFFFF000;
	R.gpr[GPR_RAX] = 0xDEADBEEF;
	R.gpr[GPR_RDI] = 0x1010;
	assert_int_equal(run_at("ab", 0), EMU_DONE);
	assert_int_equal(F.xlate_la[0], 0x10);
	assert_int_equal(F.nlog, 1);
	expect_log(0, RAM_W, 0x10, 4, 0xDEADBEEF);
	assert_int_equal(R.gpr[GPR_RDI], 0x1014);
}

/* An element that straddles a page is split where the page ends. */
static void test_stos_straddle(void **state)
{
	(void)state;
	/* RAM page 0 end, then a linear page mapped to MMIO */
	F.remap_from[0] = 0x1000;
	F.remap_to[0] = MMIO_BASE;
	F.nremap = 1;
	R.gpr[GPR_RAX] = 0x44332211;
	R.gpr[GPR_RDI] = 0xFFE;
	assert_int_equal(run_at("ab", 0), EMU_DONE);
	assert_int_equal(F.nxlate, 2);
	assert_int_equal(F.nlog, 2);
	expect_log(0, RAM_W, 0xFFE, 2, 0x2211);
	expect_log(1, MMIO_W, MMIO_BASE, 2, 0x4433);

	/* 3 + 1 bytes on the bus: sizes 2 and 1, then 1, never 3 */
	setup(state);
	F.remap_from[0] = MMIO_BASE + 0x1000;
	F.remap_to[0] = MMIO_BASE + 0x2000;
	F.nremap = 1;
	R.gpr[GPR_RAX] = 0x44332211;
	R.gpr[GPR_RDI] = MMIO_BASE + 0xFFD;
	assert_int_equal(run_at("ab", 0), EMU_DONE);
	assert_int_equal(F.nlog, 3);
	expect_log(0, MMIO_W, MMIO_BASE + 0xFFD, 2, 0x2211);
	expect_log(1, MMIO_W, MMIO_BASE + 0xFFF, 1, 0x33);
	expect_log(2, MMIO_W, MMIO_BASE + 0x2000, 1, 0x44);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x1001);
}

/* ---- MOVS ---- */

static void test_movs_ram_to_mmio(void **state)
{
	(void)state;
	put_le(&F.ram[0x100], 0x8877665544332211ull, 8);
	R.gpr[GPR_RSI] = 0x100;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x20;
	assert_int_equal(run_at("a4", 0), EMU_DONE);
	assert_int_equal(F.nlog, 2);
	expect_log(0, RAM_R, 0x100, 1, 0x11);
	expect_log(1, MMIO_W, MMIO_BASE + 0x20, 1, 0x11);
	assert_int_equal(R.gpr[GPR_RSI], 0x101);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x21);
	assert_int_equal(R.rip, START_RIP + 1);
	/* source translated as a read, destination as a write */
	assert_int_equal(F.nxlate, 2);
	assert_int_equal(F.xlate_la[0], 0x100);
	assert_false(F.xlate_write[0]);
	assert_int_equal(F.xlate_la[1], MMIO_BASE + 0x20);
	assert_true(F.xlate_write[1]);

	setup(state);
	put_le(&F.ram[0x100], 0x8877665544332211ull, 8);
	R.gpr[GPR_RSI] = 0x100;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x20;
	assert_int_equal(run_at("48 a5", 0), EMU_DONE);
	expect_log(1, MMIO_W, MMIO_BASE + 0x20, 8, 0x8877665544332211ull);
	assert_int_equal(R.gpr[GPR_RSI], 0x108);
}

static void test_movs_mmio_to_ram(void **state)
{
	(void)state;
	mmio_put(MMIO_BASE + 0x80, 0xCAFEBABE, 4);
	R.gpr[GPR_RSI] = MMIO_BASE + 0x80;
	R.gpr[GPR_RDI] = 0x200;
	assert_int_equal(run_at("a5", 0), EMU_DONE);
	assert_int_equal(F.nlog, 2);
	expect_log(0, MMIO_R, MMIO_BASE + 0x80, 4, 0xCAFEBABE);
	expect_log(1, RAM_W, 0x200, 4, 0xCAFEBABE);
	assert_int_equal(get_le(&F.ram[0x200], 4), 0xCAFEBABE);
	assert_int_equal(F.ram[0x204], 0); /* junk above the size never lands */
	assert_int_equal(R.gpr[GPR_RSI], MMIO_BASE + 0x84);
	assert_int_equal(R.gpr[GPR_RDI], 0x204);
}

static void test_movs_mmio_to_mmio(void **state)
{
	(void)state;
	mmio_put(MMIO_BASE + 0x10, 0x0102030405060708ull, 8);
	mmio_put(MMIO_BASE + 0x18, 0x1112131415161718ull, 8);
	R.gpr[GPR_RSI] = MMIO_BASE + 0x10;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x1000;
	R.gpr[GPR_RCX] = 2;
	assert_int_equal(run_at("f3 48 a5", 0), EMU_DONE);
	assert_int_equal(F.nlog, 4);
	expect_log(0, MMIO_R, MMIO_BASE + 0x10, 8, 0x0102030405060708ull);
	expect_log(1, MMIO_W, MMIO_BASE + 0x1000, 8, 0x0102030405060708ull);
	expect_log(2, MMIO_R, MMIO_BASE + 0x18, 8, 0x1112131415161718ull);
	expect_log(3, MMIO_W, MMIO_BASE + 0x1008, 8, 0x1112131415161718ull);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rip, START_RIP + 3);
}

static void test_movs_backward(void **state)
{
	(void)state;
	put_le(&F.ram[0x300], 0x11111111, 4);
	put_le(&F.ram[0x304], 0x22222222, 4);
	put_le(&F.ram[0x308], 0x33333333, 4);
	R.gpr[GPR_RSI] = 0x308;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x48;
	R.gpr[GPR_RCX] = 3;
	R.rflags = FIXED_FLAGS | RFLAGS_DF;
	assert_int_equal(run_at("f3 a5", 0), EMU_DONE);
	assert_int_equal(F.nlog, 6);
	expect_log(0, RAM_R, 0x308, 4, 0x33333333);
	expect_log(1, MMIO_W, MMIO_BASE + 0x48, 4, 0x33333333);
	expect_log(2, RAM_R, 0x304, 4, 0x22222222);
	expect_log(3, MMIO_W, MMIO_BASE + 0x44, 4, 0x22222222);
	expect_log(4, RAM_R, 0x300, 4, 0x11111111);
	expect_log(5, MMIO_W, MMIO_BASE + 0x40, 4, 0x11111111);
	assert_int_equal(R.gpr[GPR_RSI], 0x2FC);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x3C);
	assert_int_equal(R.gpr[GPR_RCX], 0);
}

/* 70 bytes MMIO -> RAM: a full batch (AGAIN), then the remaining 6. */
static void test_rep_movs_batches(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 70; i++)
		mmio_put(MMIO_BASE + i, i + 1, 1);
	R.gpr[GPR_RSI] = MMIO_BASE;
	R.gpr[GPR_RDI] = 0x1000;
	R.gpr[GPR_RCX] = 70;
	assert_int_equal(run_at("f3 a4", 0), EMU_AGAIN);
	assert_int_equal(R.gpr[GPR_RCX], 6);
	assert_int_equal(R.gpr[GPR_RSI], MMIO_BASE + 64);
	assert_int_equal(R.gpr[GPR_RDI], 0x1040);
	assert_int_equal(R.rip, START_RIP);
	assert_int_equal(F.nxlate, 2);
	assert_int_equal(F.ram[0x103F], 64);
	assert_int_equal(F.ram[0x1040], 0);

	assert_int_equal(run_at("f3 a4", 0), EMU_DONE);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rip, START_RIP + 2);
	for (unsigned i = 0; i < 70; i++)
		assert_int_equal(F.ram[0x1000 + i], i + 1);
	assert_int_equal(F.ram[0x1046], 0);
}

/* A batch ends when the source leaves its page, even if the destination
 * does not. */
static void test_rep_movs_source_page_stop(void **state)
{
	(void)state;
	R.gpr[GPR_RSI] = MMIO_BASE + 0xFFE;
	R.gpr[GPR_RDI] = 0x100;
	R.gpr[GPR_RCX] = 4;
	assert_int_equal(run_at("f3 a4", 0), EMU_AGAIN);
	assert_int_equal(R.gpr[GPR_RCX], 2);
	assert_int_equal(R.gpr[GPR_RSI], MMIO_BASE + 0x1000);
}

static void test_movs_segments(void **state)
{
	(void)state;
	/* 64-bit: FS override adds the FS base; DS/ES bases count as 0 */
	env.seg_base[SEG_FS] = MMIO_BASE;
	env.seg_base[SEG_DS] = 0x7000;
	env.seg_base[SEG_ES] = 0x7000;
	mmio_put(MMIO_BASE + 0x30, 0x5C, 1);
	R.gpr[GPR_RSI] = 0x30;
	R.gpr[GPR_RDI] = 0x40;
	assert_int_equal(run_at("64 a4", 0), EMU_DONE);
	assert_int_equal(F.xlate_la[0], MMIO_BASE + 0x30);
	assert_int_equal(F.xlate_la[1], 0x40);
	expect_log(0, MMIO_R, MMIO_BASE + 0x30, 1, 0x5C);
	expect_log(1, RAM_W, 0x40, 1, 0x5C);

	/* 32-bit: the default source is DS; ES for the destination */
	setup(state);
	env.mode = M32;
	env.seg_base[SEG_DS] = MMIO_BASE;
	env.seg_base[SEG_ES] = 0x1000;
	env.seg_base[SEG_FS] = 0x2000;
	R.gpr[GPR_RSI] = 0x10;
	R.gpr[GPR_RDI] = 0x20;
	assert_int_equal(run_at("a4", 0), EMU_DONE);
	assert_int_equal(F.xlate_la[0], MMIO_BASE + 0x10);
	assert_int_equal(F.xlate_la[1], 0x1020);

	/* an override changes the source only: ES cannot be overridden */
	static const struct {
		const char *hex;
		enum seg seg;
	} ov[] = {{"26 a4", SEG_ES}, {"2e a4", SEG_CS}, {"36 a4", SEG_SS},
		  {"3e a4", SEG_DS}, {"64 a4", SEG_FS}, {"65 a4", SEG_GS}};
	for (size_t i = 0; i < sizeof(ov) / sizeof(ov[0]); i++) {
		setup(state);
		env.mode = M32;
		for (unsigned s = 0; s < SEG_COUNT; s++)
			env.seg_base[s] = 0x100 * (s + 1);
		R.gpr[GPR_RSI] = 0x10;
		R.gpr[GPR_RDI] = 0x20;
		assert_int_equal(run_at(ov[i].hex, 0), EMU_DONE);
		assert_int_equal(F.xlate_la[0], 0x100 * (ov[i].seg + 1) + 0x10);
		assert_int_equal(F.xlate_la[1], 0x100 * (SEG_ES + 1) + 0x20);
	}
}

/* ---- INS / OUTS ---- */

static enum emu_result run_pio(const char *hex)
{
	struct insn in;

	decode(hex, env.mode, &in);
	return emu_pio_string(&in, PORT, &R, &env, &flt, why, sizeof(why));
}

/* rep insb, DF=0: port bytes land upwards in RAM, each read before its
 * write; the ES base counts for nothing in 64-bit mode. */
static void test_rep_insb_forward(void **state)
{
	(void)state;
	env.seg_base[SEG_ES] = 0x5000;
	R.gpr[GPR_RDI] = 0x200;
	R.gpr[GPR_RSI] = 0x777;
	R.gpr[GPR_RCX] = 10;
	assert_int_equal(run_pio("f3 6c"), EMU_DONE);
	assert_int_equal(F.nlog, 20);
	for (unsigned i = 0; i < 10; i++) {
		expect_log(2 * i, PIO_R, PORT, 1, pio_value(i, 1));
		expect_log(2 * i + 1, RAM_W, 0x200 + i, 1, pio_value(i, 1));
	}
	assert_int_equal(F.ram[0x1FF], 0);
	assert_int_equal(F.ram[0x20A], 0);
	assert_int_equal(R.gpr[GPR_RDI], 0x20A);
	assert_int_equal(R.gpr[GPR_RSI], 0x777);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rip, START_RIP + 2);
	assert_int_equal(F.nxlate, 1);
	assert_int_equal(F.xlate_la[0], 0x200);
	assert_true(F.xlate_write[0]);
}

static void test_rep_insb_backward(void **state)
{
	(void)state;
	R.gpr[GPR_RDI] = 0x209;
	R.gpr[GPR_RCX] = 10;
	R.rflags = FIXED_FLAGS | RFLAGS_DF;
	assert_int_equal(run_pio("f3 6c"), EMU_DONE);
	for (unsigned i = 0; i < 10; i++)
		expect_log(2 * i + 1, RAM_W, 0x209 - i, 1, pio_value(i, 1));
	assert_int_equal(F.ram[0x1FF], 0);
	assert_int_equal(F.ram[0x20A], 0);
	assert_int_equal(R.gpr[GPR_RDI], 0x1FF);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rflags, FIXED_FLAGS | RFLAGS_DF);
	assert_int_equal(R.rip, START_RIP + 2);
}

/* Element sizes: 66h picks 16 bits, REX.W leaves 32. The port read comes
 * with junk above its size that must never reach memory. */
static void test_ins_sizes(void **state)
{
	static const struct {
		const char *hex;
		enum insn_mode mode;
		unsigned size;
	} rows[] = {
	    {"6c", M64, 1},    {"66 6d", M64, 2}, {"6d", M64, 4},
	    {"48 6d", M64, 4}, {"6d", M16, 2},	  {"66 6d", M16, 4},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned n = rows[i].size;

		print_message("ins %s\n", rows[i].hex);
		setup(state);
		env.mode = rows[i].mode;
		R.rip = IP16; /* fits 16-bit code too */
		R.gpr[GPR_RDI] = 0x300;
		R.gpr[GPR_RCX] = 7; /* no rep: untouched */
		assert_int_equal(run_pio(rows[i].hex), EMU_DONE);
		assert_int_equal(F.nlog, 2);
		expect_log(0, PIO_R, PORT, n, pio_value(0, n));
		expect_log(1, RAM_W, 0x300, n, pio_value(0, n));
		assert_int_equal(F.ram[0x300 + n], 0);
		assert_int_equal(R.gpr[GPR_RDI], 0x300 + n);
		assert_int_equal(R.gpr[GPR_RCX], 7);
		assert_int_equal(R.rip, IP16 + parse_hex(rows[i].hex, (uint8_t[MAXB]){0}));
	}
}

/* INS always writes ES:[rDI]: a segment override changes nothing. */
static void test_ins_ignores_override(void **state)
{
	(void)state;
	env.mode = M32;
	env.seg_base[SEG_ES] = 0x100;
	env.seg_base[SEG_FS] = 0x800;
	env.seg_base[SEG_DS] = 0x900;
	R.gpr[GPR_RDI] = 0x10;
	assert_int_equal(run_pio("64 6c"), EMU_DONE);
	assert_int_equal(F.xlate_la[0], 0x110);
	expect_log(1, RAM_W, 0x110, 1, pio_value(0, 1));
}

/* rep outsb in 32-bit code: DS:[ESI] by default, FS:[ESI] with 64h. */
static void test_rep_outsb_segments(void **state)
{
	static const struct {
		const char *hex;
		enum seg seg;
	} rows[] = {
	    {"f3 6e", SEG_DS}, {"64 f3 6e", SEG_FS}, {"2e f3 6e", SEG_CS}, {"26 f3 6e", SEG_ES}};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t la;

		print_message("outs %s\n", rows[i].hex);
		setup(state);
		env.mode = M32;
		for (unsigned s = 0; s < SEG_COUNT; s++)
			env.seg_base[s] = 0x400 * (s + 1);
		la = env.seg_base[rows[i].seg] + 0x10;
		for (unsigned k = 0; k < 4; k++)
			F.ram[la + k] = (uint8_t)(0xC0 + k);
		R.gpr[GPR_RSI] = 0x10;
		R.gpr[GPR_RDI] = 0x55;
		R.gpr[GPR_RCX] = 4;
		assert_int_equal(run_pio(rows[i].hex), EMU_DONE);
		assert_int_equal(F.nxlate, 1);
		assert_int_equal(F.xlate_la[0], la);
		assert_false(F.xlate_write[0]);
		assert_int_equal(F.nlog, 8);
		for (unsigned k = 0; k < 4; k++) {
			expect_log(2 * k, RAM_R, la + k, 1, 0xC0 + k);
			expect_log(2 * k + 1, PIO_W, PORT, 1, 0xC0 + k);
		}
		assert_int_equal(R.gpr[GPR_RSI], 0x14);
		assert_int_equal(R.gpr[GPR_RDI], 0x55);
		assert_int_equal(R.gpr[GPR_RCX], 0);
		assert_int_equal(R.rip, START_RIP + parse_hex(rows[i].hex, (uint8_t[MAXB]){0}));
	}
}

/* 64-bit code: the DS base is ignored, an FS override's base applies. */
static void test_outs_segments_64(void **state)
{
	(void)state;
	env.seg_base[SEG_DS] = 0x800;
	env.seg_base[SEG_FS] = 0x1000;
	put_le(&F.ram[0x1010], 0x8899AABB, 4);
	put_le(&F.ram[0x10], 0x11223344, 4);
	R.gpr[GPR_RSI] = 0x10;
	assert_int_equal(run_pio("64 6f"), EMU_DONE);
	expect_log(1, PIO_W, PORT, 4, 0x8899AABB);
	R.gpr[GPR_RSI] = 0x10;
	assert_int_equal(run_pio("3e 6f"), EMU_DONE);
	expect_log(3, PIO_W, PORT, 4, 0x11223344);
	assert_int_equal(F.xlate_la[0], 0x1010);
	assert_int_equal(F.xlate_la[1], 0x10);
}

/* 16-bit addressing: SI wraps from FFFF to 0 inside DS and the upper bits
 * of RSI and RCX stay. The wrap leaves the page, so it takes two calls. */
static void test_outs_addr16_wrap(void **state)
{
	(void)state;
	env.mode = M16;
	R.rip = IP16;
	env.seg_base[SEG_DS] = 0x1000;
	F.remap_from[0] = 0x10000; /* DS:FFFF = linear 0x10FFF */
	F.remap_to[0] = 0x2000;
	F.nremap = 1;
	F.ram[0x2FFF] = 0x5A;
	F.ram[0x1000] = 0xA5;
	R.gpr[GPR_RSI] = 0x1234FFFFull;
	R.gpr[GPR_RCX] = 0xABCD0002ull;
	assert_int_equal(run_pio("f3 6e"), EMU_AGAIN);
	assert_int_equal(F.xlate_la[0], 0x10FFF);
	expect_log(1, PIO_W, PORT, 1, 0x5A);
	assert_int_equal(R.gpr[GPR_RSI], 0x12340000ull);
	assert_int_equal(R.gpr[GPR_RCX], 0xABCD0001ull);
	assert_int_equal(R.rip, IP16);

	assert_int_equal(run_pio("f3 6e"), EMU_DONE);
	assert_int_equal(F.xlate_la[1], 0x1000);
	expect_log(3, PIO_W, PORT, 1, 0xA5);
	assert_int_equal(R.gpr[GPR_RSI], 0x12340001ull);
	assert_int_equal(R.gpr[GPR_RCX], 0xABCD0000ull);
	assert_int_equal(R.rip, IP16 + 2);
}

/* 67h in 32-bit code: DI and CX, DI wrapping at 16 bits. */
static void test_ins_addr16_prefix(void **state)
{
	(void)state;
	env.mode = M32;
	env.seg_base[SEG_ES] = 0x2000;
	R.gpr[GPR_RDI] = 0x7777FFFFull;
	R.gpr[GPR_RCX] = 0x99990001ull;
	assert_int_equal(run_pio("67 f3 6c"), EMU_DONE);
	assert_int_equal(F.xlate_la[0], 0x11FFF);
	assert_int_equal(F.nlog, 2);
	assert_int_equal(R.gpr[GPR_RDI], 0x77770000ull);
	assert_int_equal(R.gpr[GPR_RCX], 0x99990000ull);
	assert_int_equal(R.rip, START_RIP + 3);
}

static void test_rep_ins_zero_count(void **state)
{
	(void)state;
	R.gpr[GPR_RDI] = 0x200;
	R.gpr[GPR_RCX] = 0;
	assert_int_equal(run_pio("f3 6d"), EMU_DONE);
	assert_int_equal(F.nlog, 0);
	assert_int_equal(F.nxlate, 0);
	assert_int_equal(F.npio, 0);
	assert_int_equal(R.gpr[GPR_RDI], 0x200);
	assert_int_equal(R.rip, START_RIP + 2);

	/* 67: ECX counts, so upper bits of RCX do not make it non-zero */
	setup(state);
	R.gpr[GPR_RSI] = 0x200;
	R.gpr[GPR_RCX] = 0x500000000ull;
	assert_int_equal(run_pio("67 f3 6e"), EMU_DONE);
	assert_int_equal(F.nlog, 0);
	assert_int_equal(R.gpr[GPR_RCX], 0x500000000ull);
	assert_int_equal(R.rip, START_RIP + 3);
}

/* 70 bytes from a page start: a full batch (AGAIN, RIP unchanged), then 6. */
static void test_rep_ins_batches(void **state)
{
	(void)state;
	R.gpr[GPR_RDI] = 0x1000;
	R.gpr[GPR_RCX] = 70;
	assert_int_equal(run_pio("f3 6c"), EMU_AGAIN);
	assert_int_equal(F.npio, EMU_REP_BATCH);
	assert_int_equal(R.gpr[GPR_RCX], 70 - EMU_REP_BATCH);
	assert_int_equal(R.gpr[GPR_RDI], 0x1000 + EMU_REP_BATCH);
	assert_int_equal(R.rip, START_RIP);
	assert_int_equal(F.nxlate, 1);
	assert_int_equal(F.ram[0x1000 + EMU_REP_BATCH], 0);

	assert_int_equal(run_pio("f3 6c"), EMU_DONE);
	assert_int_equal(F.npio, 70);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.gpr[GPR_RDI], 0x1000 + 70);
	assert_int_equal(R.rip, START_RIP + 2);
	for (unsigned i = 0; i < 70; i++)
		assert_int_equal(F.ram[0x1000 + i], pio_value(i, 1));
	assert_int_equal(F.ram[0x1000 + 70], 0);
}

/* A #PF on the next page: the batch before it stays done, and the faulting
 * iteration reads nothing from the port, so no device data is lost. */
static void test_rep_ins_fault(void **state)
{
	struct vcpu_regs before;

	(void)state;
	F.fault_page[0] = 0x1000;
	F.nfault = 1;
	R.gpr[GPR_RDI] = 0xFFC;
	R.gpr[GPR_RCX] = 5;
	assert_int_equal(run_pio("f3 66 6d"), EMU_AGAIN);
	assert_int_equal(F.npio, 2);
	assert_int_equal(R.gpr[GPR_RCX], 3);
	assert_int_equal(R.gpr[GPR_RDI], 0x1000);
	before = R;
	assert_int_equal(run_pio("f3 66 6d"), EMU_FAULT);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(F.npio, 2);
	assert_int_equal(F.nlog, 4);
	assert_int_equal(flt.vector, PF_VECTOR);
	assert_int_equal(flt.error, PF_WRITE);
	assert_int_equal(flt.cr2, 0x1000);

	/* a dword straddling into the faulting page: no port read either */
	setup(state);
	F.fault_page[0] = 0x1000;
	F.nfault = 1;
	R.gpr[GPR_RDI] = 0xFFE;
	before = R;
	assert_int_equal(run_pio("6d"), EMU_FAULT);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(F.npio, 0);
	assert_int_equal(F.nlog, 0);
	assert_int_equal(flt.cr2, 0x1000);
}

/* OUTS from MMIO: each element is one device read, then one port write. */
static void test_outs_from_mmio(void **state)
{
	(void)state;
	mmio_put(MMIO_BASE + 0x20, 0x1111, 2);
	mmio_put(MMIO_BASE + 0x22, 0x2222, 2);
	mmio_put(MMIO_BASE + 0x24, 0x3333, 2);
	R.gpr[GPR_RSI] = MMIO_BASE + 0x20;
	R.gpr[GPR_RCX] = 3;
	assert_int_equal(run_pio("f3 66 6f"), EMU_DONE);
	assert_int_equal(F.nlog, 6);
	expect_log(0, MMIO_R, MMIO_BASE + 0x20, 2, 0x1111);
	expect_log(1, PIO_W, PORT, 2, 0x1111);
	expect_log(2, MMIO_R, MMIO_BASE + 0x22, 2, 0x2222);
	expect_log(3, PIO_W, PORT, 2, 0x2222);
	expect_log(4, MMIO_R, MMIO_BASE + 0x24, 2, 0x3333);
	expect_log(5, PIO_W, PORT, 2, 0x3333);
	assert_int_equal(R.gpr[GPR_RSI], MMIO_BASE + 0x26);
	assert_int_equal(R.gpr[GPR_RCX], 0);
	assert_int_equal(R.rip, START_RIP + 3);
}

static void test_ins_to_mmio(void **state)
{
	(void)state;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x40;
	assert_int_equal(run_pio("6d"), EMU_DONE);
	assert_int_equal(F.nlog, 2);
	expect_log(0, PIO_R, PORT, 4, pio_value(0, 4));
	expect_log(1, MMIO_W, MMIO_BASE + 0x40, 4, pio_value(0, 4));
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x44);
}

/* A failing port access stops the VM; earlier iterations stay done. */
static void test_pio_errors(void **state)
{
	(void)state;
	F.pio_fail_at = 3;
	F.pio_fail = ST_EBUSY;
	R.gpr[GPR_RDI] = 0x200;
	R.gpr[GPR_RCX] = 10;
	assert_int_equal(run_pio("f3 6c"), EMU_STOP);
	assert_int_equal(R.gpr[GPR_RCX], 8);
	assert_int_equal(R.gpr[GPR_RDI], 0x202);
	assert_int_equal(R.rip, START_RIP);
	assert_int_equal(F.nlog, 4);
	assert_non_null(strstr(why, "port read of 1 bytes at 0x1f0"));
	assert_non_null(strstr(why, "busy"));

	setup(state);
	F.pio_fail_at = 2;
	F.pio_fail = ST_EINVAL;
	R.gpr[GPR_RSI] = 0x200;
	R.gpr[GPR_RCX] = 10;
	assert_int_equal(run_pio("f3 6f"), EMU_STOP);
	assert_int_equal(R.gpr[GPR_RCX], 9);
	assert_int_equal(R.gpr[GPR_RSI], 0x204);
	assert_non_null(strstr(why, "port write of 4 bytes at 0x1f0"));
}

/* Which callbacks each entry point needs, and which instructions it takes. */
static void test_pio_entry_checks(void **state)
{
	struct insn in;
	struct vcpu_regs before;

	(void)state;
	/* emu_mmio works without the port callbacks */
	env.pio_read = NULL;
	env.pio_write = NULL;
	R.gpr[GPR_RAX] = 0x12345678;
	assert_int_equal(run("89 03"), EMU_DONE);
	expect_log(0, MMIO_W, GPA, 4, 0x12345678);

	/* emu_pio_string needs them, and the memory ones */
	setup(state);
	before = R;
	decode("6c", M64, &in);
	env.pio_read = NULL;
	assert_int_equal(emu_pio_string(&in, PORT, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	assert_non_null(strstr(why, "incomplete"));
	setup(state);
	env.pio_write = NULL;
	assert_int_equal(emu_pio_string(&in, PORT, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	setup(state);
	env.mmio_read = NULL;
	assert_int_equal(emu_pio_string(&in, PORT, &R, &env, &flt, why, sizeof(why)), EMU_STOP);

	/* each entry point refuses the other's instructions */
	setup(state);
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	assert_non_null(strstr(why, "ins"));
	decode("a4", M64, &in);
	assert_int_equal(emu_pio_string(&in, PORT, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	assert_non_null(strstr(why, "movs"));

	/* a port element wider than 4 bytes is malformed */
	decode("6d", M64, &in);
	in.size = 8;
	assert_int_equal(emu_pio_string(&in, PORT, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	assert_non_null(strstr(why, "malformed"));
	assert_int_equal(emu_pio_string(NULL, PORT, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(F.nlog, 0);
	assert_int_equal(F.npio, 0);
}

/* ---- faults and stops ---- */

static void test_fault_leaves_state(void **state)
{
	struct vcpu_regs before;

	(void)state;
	F.fault_page[0] = MMIO_BASE + 0x1000;
	F.nfault = 1;
	mmio_put(MMIO_BASE + 0x10, 0x77, 1);
	R.gpr[GPR_RSI] = MMIO_BASE + 0x10;
	R.gpr[GPR_RDI] = MMIO_BASE + 0x1008;
	R.gpr[GPR_RCX] = 3;
	R.rflags = ALL_ARITH;
	before = R;
	assert_int_equal(run_at("f3 a4", 0), EMU_FAULT);
	assert_memory_equal(&R, &before, sizeof(R));
	/* the destination faulted before the source was read: no side effect */
	assert_int_equal(F.nlog, 0);
	assert_int_equal(flt.vector, PF_VECTOR);
	assert_true(flt.has_error);
	assert_int_equal(flt.error, PF_WRITE);
	assert_int_equal(flt.cr2, MMIO_BASE + 0x1008);

	/* source fault: a read */
	setup(state);
	F.fault_page[0] = 0x2000;
	F.nfault = 1;
	R.gpr[GPR_RSI] = 0x2010;
	R.gpr[GPR_RDI] = MMIO_BASE;
	before = R;
	assert_int_equal(run_at("a5", 0), EMU_FAULT);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(flt.error, 0);
	assert_int_equal(flt.cr2, 0x2010);
	assert_int_equal(F.nlog, 0);
}

/* The second half of a straddling element faults: nothing is written. */
static void test_fault_straddle(void **state)
{
	struct vcpu_regs before;

	(void)state;
	F.fault_page[0] = MMIO_BASE + 0x1000;
	F.nfault = 1;
	R.gpr[GPR_RDI] = MMIO_BASE + 0xFFE;
	before = R;
	assert_int_equal(run_at("ab", 0), EMU_FAULT);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(F.nlog, 0);
	assert_int_equal(flt.cr2, MMIO_BASE + 0x1000);
}

/* A rep batch ends at the page; the next batch faults with the registers
 * as the completed iterations left them. */
static void test_fault_after_batch(void **state)
{
	(void)state;
	F.fault_page[0] = MMIO_BASE + 0x1000;
	F.nfault = 1;
	R.gpr[GPR_RDI] = MMIO_BASE + 0xFFE;
	R.gpr[GPR_RCX] = 5;
	assert_int_equal(run_at("f3 aa", 0), EMU_AGAIN);
	assert_int_equal(R.gpr[GPR_RCX], 3);
	assert_int_equal(run_at("f3 aa", 0), EMU_FAULT);
	assert_int_equal(R.gpr[GPR_RCX], 3);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 0x1000);
	assert_int_equal(R.rip, START_RIP);
	assert_int_equal(F.nlog, 2);
}

static void test_translate_erange(void **state)
{
	(void)state;
	F.erange = true;
	F.erange_page = 0x4000;
	R.gpr[GPR_RDI] = 0x4008;
	R.gpr[GPR_RCX] = 1;
	assert_int_equal(run_at("f3 aa", 0), EMU_STOP);
	assert_non_null(strstr(why, "0x4008"));
	assert_non_null(strstr(why, "outside guest RAM"));
	assert_int_equal(R.gpr[GPR_RCX], 1);
	assert_int_equal(R.rip, START_RIP);
}

static void test_bus_error_stops(void **state)
{
	struct vcpu_regs before;

	(void)state;
	/* read fails: the register keeps its value */
	F.fail_gpa = GPA;
	F.fail_status = ST_EBUSY;
	R.gpr[GPR_RAX] = 0x1234;
	before = R;
	assert_int_equal(run("8b 03"), EMU_STOP);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_non_null(strstr(why, "MMIO read"));
	assert_non_null(strstr(why, "0x10040"));
	assert_non_null(strstr(why, "busy"));
	assert_null(strchr(why, '\n'));

	/* the write-back of an AND fails after its read: flags unchanged */
	setup(state);
	F.fail_gpa = GPA;
	F.fail_status = ST_EINVAL;
	F.fail_writes_only = true;
	mmio_put(GPA, 0xFF, 1);
	R.rflags = ALL_ARITH;
	before = R;
	assert_int_equal(run("80 20 0f"), EMU_STOP);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(F.nlog, 1);
	expect_log(0, MMIO_R, GPA, 1, 0xFF);
	assert_non_null(strstr(why, "MMIO write of 1 bytes at 0x10040"));
	assert_non_null(strstr(why, "malformed input"));

	/* why may be omitted */
	setup(state);
	F.fail_gpa = GPA;
	F.fail_status = ST_EBUSY;
	struct insn in;
	decode("8b 03", M64, &in);
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, NULL, 0), EMU_STOP);
}

/* A bus error on the third iteration: the first two stay done. */
static void test_bus_error_mid_batch(void **state)
{
	(void)state;
	F.fail_gpa = MMIO_BASE + 8;
	F.fail_status = ST_EBUSY;
	R.gpr[GPR_RDI] = MMIO_BASE;
	R.gpr[GPR_RCX] = 10;
	assert_int_equal(run_at("f3 ab", 0), EMU_STOP);
	assert_int_equal(F.nlog, 2);
	assert_int_equal(R.gpr[GPR_RCX], 8);
	assert_int_equal(R.gpr[GPR_RDI], MMIO_BASE + 8);
	assert_int_equal(R.rip, START_RIP);
	assert_non_null(strstr(why, "0x10008"));
}

static void test_malformed(void **state)
{
	struct insn in;
	struct vcpu_regs before;

	(void)state;
	R.gpr[GPR_RAX] = 5;
	before = R;
	decode("8b 03", M64, &in);
	in.size = 3;
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	decode("8a 23", M64, &in);
	in.reg = 5; /* no such high-byte register */
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	decode("8b 03", M64, &in);
	in.reg = GPR_COUNT;
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	decode("8b 03", M64, &in);
	in.rep = true;
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	decode("aa", M64, &in);
	in.addr_size = 3;
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	decode("0f b7 03", M64, &in);
	in.dst_size = 1; /* narrower than the source */
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	decode("8b 03", M64, &in);
	env.mmio_read = NULL;
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, why, sizeof(why)), EMU_STOP);
	assert_memory_equal(&R, &before, sizeof(R));
	assert_int_equal(F.nlog, 0);
	/* a small why buffer is cut, never overrun, and terminated */
	char small[8];
	memset(small, 'x', sizeof(small));
	assert_int_equal(emu_mmio(&in, GPA, &R, &env, &flt, small, 4), EMU_STOP);
	assert_int_equal(strlen(small), 3);
	assert_int_equal(small[4], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_loads, setup),
	    cmocka_unit_test_setup(test_stores, setup),
	    cmocka_unit_test_setup(test_alu, setup),
	    cmocka_unit_test_setup(test_rip_advance, setup),
	    cmocka_unit_test_setup(test_rip_wrap_16, setup),
	    cmocka_unit_test_setup(test_rip_wrap_32, setup),
	    cmocka_unit_test_setup(test_modes_register_rules, setup),
	    cmocka_unit_test_setup(test_stos_sizes, setup),
	    cmocka_unit_test_setup(test_rep_stos_zero_count, setup),
	    cmocka_unit_test_setup(test_rep_stos_batches, setup),
	    cmocka_unit_test_setup(test_rep_stos_page_stop, setup),
	    cmocka_unit_test_setup(test_rep_stos_backward, setup),
	    cmocka_unit_test_setup(test_stos_addr32_wrap, setup),
	    cmocka_unit_test_setup(test_stos_addr16, setup),
	    cmocka_unit_test_setup(test_stos_linear_wrap_32, setup),
	    cmocka_unit_test_setup(test_stos_straddle, setup),
	    cmocka_unit_test_setup(test_movs_ram_to_mmio, setup),
	    cmocka_unit_test_setup(test_movs_mmio_to_ram, setup),
	    cmocka_unit_test_setup(test_movs_mmio_to_mmio, setup),
	    cmocka_unit_test_setup(test_movs_backward, setup),
	    cmocka_unit_test_setup(test_rep_movs_batches, setup),
	    cmocka_unit_test_setup(test_rep_movs_source_page_stop, setup),
	    cmocka_unit_test_setup(test_movs_segments, setup),
	    cmocka_unit_test_setup(test_rep_insb_forward, setup),
	    cmocka_unit_test_setup(test_rep_insb_backward, setup),
	    cmocka_unit_test_setup(test_ins_sizes, setup),
	    cmocka_unit_test_setup(test_ins_ignores_override, setup),
	    cmocka_unit_test_setup(test_rep_outsb_segments, setup),
	    cmocka_unit_test_setup(test_outs_segments_64, setup),
	    cmocka_unit_test_setup(test_outs_addr16_wrap, setup),
	    cmocka_unit_test_setup(test_ins_addr16_prefix, setup),
	    cmocka_unit_test_setup(test_rep_ins_zero_count, setup),
	    cmocka_unit_test_setup(test_rep_ins_batches, setup),
	    cmocka_unit_test_setup(test_rep_ins_fault, setup),
	    cmocka_unit_test_setup(test_outs_from_mmio, setup),
	    cmocka_unit_test_setup(test_ins_to_mmio, setup),
	    cmocka_unit_test_setup(test_pio_errors, setup),
	    cmocka_unit_test_setup(test_pio_entry_checks, setup),
	    cmocka_unit_test_setup(test_fault_leaves_state, setup),
	    cmocka_unit_test_setup(test_fault_straddle, setup),
	    cmocka_unit_test_setup(test_fault_after_batch, setup),
	    cmocka_unit_test_setup(test_translate_erange, setup),
	    cmocka_unit_test_setup(test_bus_error_stops, setup),
	    cmocka_unit_test_setup(test_bus_error_mid_batch, setup),
	    cmocka_unit_test_setup(test_malformed, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
