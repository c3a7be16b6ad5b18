/* mmio: every MMIO instruction form Keel's decoder supports
 * (kernel/vm/insn.h), against the test device's MMIO page, which behaves
 * like RAM and logs each access in TESTDEV_MMIO_LAST_SIZE/DIR/OFF and
 * TESTDEV_MMIO_COUNT. The 64-bit forms run twice: through the identity map
 * (a 2 MiB page) and through the 4 KiB alias at RT_ALIAS_VA; the 32-bit
 * and 16-bit-operand forms run in the 32-bit hook (mmio32.S).
 *
 * With the word "ram" on the command line the same checks run against a
 * RAM page and skip the device log: that validates every expected value
 * and flag on any CPU, e.g. under plain QEMU, where the MMIO page is
 * unassigned and this guest fails. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"
#include "mmio32.h"

#define PORT(reg) ((uint16_t)(TESTDEV_PIO_BASE + (reg)))
#define PAGE 4096
#define FILL 0x1111111111111111ull /* around every operand: no stray bytes */
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define LOGIC_FLAGS (RFLAGS_CF | RFLAGS_PF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define SUB_FLAGS (LOGIC_FLAGS | RFLAGS_AF)
#define STR_(x) #x
#define STR(x) STR_(x)

enum { RD = 0, WR = 1 };

const char rt_name[] = "mmio";

/* The page the checks use in ram mode (mmio32.S uses it too). */
uint8_t mmio_ram_page[PAGE] __attribute__((aligned(PAGE)));
extern struct pm32_rec pm32_records[PM32_NREC];
extern uint32_t pm32_ran, pm32_ram;

/* Constants for mmio32.S, and the alias address as a symbol so that
 * RIP-relative operands can name it. %p prints a constant without the
 * '$'; constants go through uint64_t so none prints sign-extended. */
__attribute__((used)) static void export_symbols(void)
{
	asm volatile(".globl pm32_mmio_base, pm32_port_count, pm32_port_last_size\n\t"
		     ".globl pm32_port_last_dir, pm32_port_last_off\n\t"
		     ".set pm32_mmio_base, %p0\n\t"
		     ".set pm32_port_count, %p1\n\t"
		     ".set pm32_port_last_size, %p2\n\t"
		     ".set pm32_port_last_dir, %p3\n\t"
		     ".set pm32_port_last_off, %p4\n\t"
		     ".set mmio_alias_va, " STR(RT_ALIAS_VA)
		     :
		     : "i"((uint64_t)TESTDEV_MMIO_BASE), "i"(PORT(TESTDEV_MMIO_COUNT)),
		       "i"(PORT(TESTDEV_MMIO_LAST_SIZE)), "i"(PORT(TESTDEV_MMIO_LAST_DIR)),
		       "i"(PORT(TESTDEV_MMIO_LAST_OFF)));
}

static bool ram_mode;
static uint64_t ident; /* identity-mapped page: the device, or mmio_ram_page */
static uint64_t base;  /* the page of the current pass */
static const char *pass;

/* ------------------------------------------------------------ arithmetic */

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t msb_of(unsigned size)
{
	return 1ull << (8 * size - 1);
}

/* Keeps FILL outside the low `size` bytes. */
static uint64_t merge(uint64_t fill, uint64_t v, unsigned size)
{
	return (fill & ~mask_of(size)) | (v & mask_of(size));
}

/* PF: set when the low byte of the result has an even number of ones. */
static uint64_t parity_flag(uint64_t r)
{
	unsigned ones = 0;

	for (unsigned i = 0; i < 8; i++)
		ones += (r >> i) & 1;
	return ones % 2 ? 0 : RFLAGS_PF;
}

/* and/or/xor/test: CF = OF = 0, ZF, SF and PF from the result (SDM vol. 2). */
static uint64_t logic_flags(uint64_t r, unsigned size)
{
	r &= mask_of(size);
	return (r ? 0 : RFLAGS_ZF) | ((r & msb_of(size)) ? RFLAGS_SF : 0) | parity_flag(r);
}

/* cmp a, b: the flags of a - b. */
static uint64_t sub_flags(uint64_t a, uint64_t b, unsigned size)
{
	uint64_t m = mask_of(size), msb = msb_of(size);
	uint64_t r;

	a &= m;
	b &= m;
	r = (a - b) & m;
	return (a < b ? RFLAGS_CF : 0) | (r ? 0 : RFLAGS_ZF) | ((r & msb) ? RFLAGS_SF : 0) |
	       (((a ^ b) & (a ^ r) & msb) ? RFLAGS_OF : 0) | ((a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0) |
	       parity_flag(r);
}

/* Flags preset before an instruction: the opposite of what it must leave,
 * so a result that keeps stale flags cannot pass. */
static uint64_t preset(uint64_t want, uint64_t mask)
{
	return (~want & mask) | RFLAGS_RES1;
}

/* ----------------------------------------------------------- page access */

static uint64_t peek(uint32_t off)
{
	return *(volatile uint64_t *)(uintptr_t)(base + off);
}

static void poke(uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)(base + off) = v;
}

static void count_reset(void)
{
	outl(PORT(TESTDEV_MMIO_COUNT), 0);
}

/* ------------------------------------------------------------ one check */

/* A check collects its mismatches and prints one line. */
static struct {
	bool ok;
	char why[240];
	size_t len;
} cur;

static void fail(const char *fmt, uint64_t a, uint64_t b, const char *name)
{
	if (cur.len < sizeof(cur.why))
		cur.len +=
		    rt_snprintf(cur.why + cur.len, sizeof(cur.why) - cur.len, fmt, name, a, b);
	cur.ok = false;
}

static void begin(void)
{
	cur.ok = true;
	cur.len = 0;
	cur.why[0] = '\0';
}

static void val(const char *name, uint64_t got, uint64_t want)
{
	if (got != want)
		fail("%s 0x%lx want 0x%lx; ", got, want, name);
}

/* The device log for the access under test; `count` accesses since the
 * last count_reset() (a read-modify-write is two). Skipped in ram mode. */
static void logged(unsigned size, unsigned dir, uint32_t off, uint32_t count)
{
	uint8_t s, d;
	uint32_t o, n;

	if (ram_mode)
		return;
	s = inb(PORT(TESTDEV_MMIO_LAST_SIZE));
	d = inb(PORT(TESTDEV_MMIO_LAST_DIR));
	o = inl(PORT(TESTDEV_MMIO_LAST_OFF));
	n = inl(PORT(TESTDEV_MMIO_COUNT));
	val("LAST_SIZE", s, size);
	val("LAST_DIR", d, dir);
	val("LAST_OFF", o, off);
	val("COUNT", n, count);
}

static void flags(uint64_t got, uint64_t want, uint64_t mask)
{
	if ((got & mask) != (want & mask))
		fail("%s 0x%lx want 0x%lx; ", got & mask, want & mask, "flags");
}

static void end(const char *what)
{
	char name[120];

	rt_snprintf(name, sizeof(name), "%s: %s", pass, what);
	checkd(cur.ok, name, "%s", cur.why);
}

/* ------------------------------------------------------- ALU, test, cmp */

/* Runs `insn` with flags preset to `pre`. In the instruction text %[b] is
 * the page, %[r] the register operand (updated), %[i] a second register. */
#define EXEC(insn, reg, pre)                                                                       \
	({                                                                                         \
		uint64_t fl_;                                                                      \
		asm volatile("push %[p]\n\tpopfq\n\t" insn "\n\tpushfq\n\tpop %[f]"                \
			     : [f] "=&r"(fl_), [r] "+r"(reg)                                       \
			     : [p] "r"(pre), [b] "r"(base)                                         \
			     : "memory", "cc");                                                    \
		fl_;                                                                               \
	})

/* Memory destination: mem = mem op src; a read and a write. */
#define ALU_M(what, insn, size, off, init, src, result)                                            \
	do {                                                                                       \
		uint64_t r_ = (src), want_ = (result), wf_ = logic_flags(want_, size);             \
		poke(off, merge(FILL, init, size));                                                \
		count_reset();                                                                     \
		uint64_t f_ = EXEC(insn, r_, preset(wf_, LOGIC_FLAGS));                            \
		begin();                                                                           \
		logged(size, WR, off, 2);                                                          \
		val("memory", peek(off), merge(FILL, want_, size));                                \
		flags(f_, wf_, LOGIC_FLAGS);                                                       \
		end(what);                                                                         \
	} while (0)

/* Register destination: reg = reg op mem; the memory is only read. */
#define ALU_R(what, insn, size, off, mem, reg, want_reg, result)                                   \
	do {                                                                                       \
		uint64_t r_ = (reg), wf_ = logic_flags(result, size);                              \
		poke(off, merge(FILL, mem, size));                                                 \
		count_reset();                                                                     \
		uint64_t f_ = EXEC(insn, r_, preset(wf_, LOGIC_FLAGS));                            \
		begin();                                                                           \
		logged(size, RD, off, 1);                                                          \
		val("register", r_, want_reg);                                                     \
		val("memory", peek(off), merge(FILL, mem, size));                                  \
		flags(f_, wf_, LOGIC_FLAGS);                                                       \
		end(what);                                                                         \
	} while (0)

/* test/cmp: flags only; neither operand changes. */
#define COMPARE(what, insn, size, off, mem, reg, wflags, mask)                                     \
	do {                                                                                       \
		uint64_t r_ = (reg), wf_ = (wflags);                                               \
		poke(off, merge(FILL, mem, size));                                                 \
		count_reset();                                                                     \
		uint64_t f_ = EXEC(insn, r_, preset(wf_, mask));                                   \
		begin();                                                                           \
		logged(size, RD, off, 1);                                                          \
		val("register", r_, reg);                                                          \
		val("memory", peek(off), merge(FILL, mem, size));                                  \
		flags(f_, wf_, mask);                                                              \
		end(what);                                                                         \
	} while (0)

static void alu_memory_destination(void)
{
	ALU_M("20 and m8, r8", "and %b[r], 0x100(%[b])", 1, 0x100, 0xF0, 0x3C, 0x30);
	ALU_M("66 21 and m16, r16", "and %w[r], 0x108(%[b])", 2, 0x108, 0x1234, 0x4321, 0x0220);
	ALU_M("21 and m32, r32", "and %k[r], 0x110(%[b])", 4, 0x110, 0xF0F0F0F0, 0x0FF00FF0,
	      0x00F000F0);
	ALU_M("REX.W 21 and m64, r64", "and %q[r], 0x118(%[b])", 8, 0x118, 0x8000000000000001ull,
	      0xF000000000000000ull, 0x8000000000000000ull);
	ALU_M("08 or m8, r8 (zero result)", "or %b[r], 0x120(%[b])", 1, 0x120, 0, 0, 0);
	ALU_M("09 or m32, r32", "or %k[r], 0x128(%[b])", 4, 0x128, 0x80000000, 1, 0x80000001);
	ALU_M("REX.W 09 or m64, r64", "or %q[r], 0x130(%[b])", 8, 0x130, 0x0123456700000000ull,
	      0x89ABCDEFull, 0x0123456789ABCDEFull);
	ALU_M("30 xor m8, r8", "xor %b[r], 0x138(%[b])", 1, 0x138, 0xFF, 0x0F, 0xF0);
	ALU_M("31 xor m32, r32 (x ^ x = 0)", "xor %k[r], 0x140(%[b])", 4, 0x140, 0xDEADBEEF,
	      0xDEADBEEF, 0);
	ALU_M("REX.W 31 xor m64, r64", "xor %q[r], 0x148(%[b])", 8, 0x148, 0xFFFF0000FFFF0000ull,
	      0x0F0F0F0F0F0F0F0Full, 0xF0F00F0FF0F00F0Full);
	ALU_M("F0 09 lock or m32, r32", "lock or %k[r], 0x150(%[b])", 4, 0x150, 0x00FF0000,
	      0x000000FF, 0x00FF00FF);
	ALU_M("F0 66 31 lock xor m16, r16", "lock xor %w[r], 0x158(%[b])", 2, 0x158, 0xAAAA, 0x5555,
	      0xFFFF);
}

static void alu_register_destination(void)
{
	ALU_R("22 and r8, m8", "and 0x160(%[b]), %b[r]", 1, 0x160, 0x0F, 0xFFFFFFFFFFFFFF3Cull,
	      0xFFFFFFFFFFFFFF0Cull, 0x0C);
	ALU_R("66 23 and r16, m16", "and 0x168(%[b]), %w[r]", 2, 0x168, 0x00FF,
	      0x5555555555551234ull, 0x5555555555550034ull, 0x34);
	/* A 32-bit result clears bits 63:32 of the register. */
	ALU_R("0B or r32, m32", "or 0x170(%[b]), %k[r]", 4, 0x170, 0x80000000,
	      0xFFFFFFFF00000001ull, 0x80000001ull, 0x80000001);
	ALU_R("REX.W 33 xor r64, m64", "xor 0x178(%[b]), %q[r]", 8, 0x178, 0x5555555555555555ull,
	      0x5555555555555555ull, 0, 0);
	ALU_R("0A or r8, m8", "or 0x180(%[b]), %b[r]", 1, 0x180, 0x80, 0x01, 0x81, 0x81);
}

static void alu_immediate(void)
{
	ALU_M("80 /4 and m8, imm8", "andb $0x0F, 0x188(%[b])", 1, 0x188, 0xA5, 0, 0x05);
	ALU_M("80 /1 or m8, imm8", "orb $0x80, 0x190(%[b])", 1, 0x190, 0x01, 0, 0x81);
	ALU_M("80 /6 xor m8, imm8", "xorb $0xFF, 0x198(%[b])", 1, 0x198, 0xFF, 0, 0);
	ALU_M("81 /1 or m32, imm32", "orl $0x80000000, 0x1A0(%[b])", 4, 0x1A0, 0x1234, 0,
	      0x80001234);
	ALU_M("66 81 /4 and m16, imm16", "andw $0xFF00, 0x1A8(%[b])", 2, 0x1A8, 0x1234, 0, 0x1200);
	ALU_M("81 /6 xor m32, imm32", "xorl $0x12345678, 0x1B0(%[b])", 4, 0x1B0, 0x12345678, 0, 0);
	/* The imm32 is sign-extended to 64 bits. */
	ALU_M("REX.W 81 /4 and m64, imm32 (negative)", "andq $-0x10000, 0x1B8(%[b])", 8, 0x1B8,
	      0x123456789ABCDEF0ull, 0, 0x123456789ABC0000ull);
	/* imm8 sign-extended to the operand size. */
	ALU_M("83 /6 xor m32, imm8 (-1)", "xorl $-1, 0x1C0(%[b])", 4, 0x1C0, 0x0000FFFF, 0,
	      0xFFFF0000);
	ALU_M("REX.W 83 /1 or m64, imm8 (-2)", "orq $-2, 0x1C8(%[b])", 8, 0x1C8, 0x1, 0,
	      0xFFFFFFFFFFFFFFFFull);
	ALU_M("66 83 /4 and m16, imm8", "andw $0x7F, 0x1D0(%[b])", 2, 0x1D0, 0xFFFF, 0, 0x7F);
}

static void test_forms(void)
{
	COMPARE("84 test m8, r8 (zero)", "test %b[r], 0x1D8(%[b])", 1, 0x1D8, 0xA5, 0x5A,
		logic_flags(0, 1), LOGIC_FLAGS);
	COMPARE("66 85 test m16, r16", "test %w[r], 0x1E0(%[b])", 2, 0x1E0, 0x8001, 0xFFFF,
		logic_flags(0x8001, 2), LOGIC_FLAGS);
	COMPARE("85 test m32, r32", "test %k[r], 0x1E8(%[b])", 4, 0x1E8, 0x80000000, 0xFFFFFFFF,
		logic_flags(0x80000000, 4), LOGIC_FLAGS);
	COMPARE("REX.W 85 test m64, r64", "test %q[r], 0x1F0(%[b])", 8, 0x1F0,
		0x0300000000000000ull, 0x0100000000000000ull, logic_flags(0x0100000000000000ull, 8),
		LOGIC_FLAGS);
	COMPARE("F6 /0 test m8, imm8", "testb $0x81, 0x1F8(%[b])", 1, 0x1F8, 0x03, 0,
		logic_flags(0x01, 1), LOGIC_FLAGS);
	COMPARE("66 F7 /0 test m16, imm16", "testw $0x8000, 0x200(%[b])", 2, 0x200, 0xC000, 0,
		logic_flags(0x8000, 2), LOGIC_FLAGS);
	COMPARE("F7 /0 test m32, imm32", "testl $0x00010000, 0x208(%[b])", 4, 0x208, 0xFFFEFFFF, 0,
		logic_flags(0, 4), LOGIC_FLAGS);
	COMPARE("REX.W F7 /0 test m64, imm32 (sign-extended)", "testq $-0x80000000, 0x210(%[b])", 8,
		0x210, 0x8000000000000000ull, 0, logic_flags(0x8000000000000000ull, 8),
		LOGIC_FLAGS);
}

static void cmp_forms(void)
{
	COMPARE("38 cmp m8, r8 (below)", "cmp %b[r], 0x218(%[b])", 1, 0x218, 0x10, 0x20,
		sub_flags(0x10, 0x20, 1), SUB_FLAGS);
	COMPARE("66 39 cmp m16, r16", "cmp %w[r], 0x220(%[b])", 2, 0x220, 0x8000, 0x0001,
		sub_flags(0x8000, 0x0001, 2), SUB_FLAGS);
	COMPARE("39 cmp m32, r32 (equal)", "cmp %k[r], 0x228(%[b])", 4, 0x228, 0xCAFEF00D,
		0xCAFEF00D, sub_flags(0xCAFEF00D, 0xCAFEF00D, 4), SUB_FLAGS);
	COMPARE("REX.W 39 cmp m64, r64 (overflow)", "cmp %q[r], 0x230(%[b])", 8, 0x230,
		0x8000000000000000ull, 1, sub_flags(0x8000000000000000ull, 1, 8), SUB_FLAGS);
	/* Memory as the second operand: flags of reg - mem. */
	COMPARE("3A cmp r8, m8 (memory second)", "cmp 0x238(%[b]), %b[r]", 1, 0x238, 0x10, 0x20,
		sub_flags(0x20, 0x10, 1), SUB_FLAGS);
	COMPARE("3B cmp r32, m32 (memory second)", "cmp 0x240(%[b]), %k[r]", 4, 0x240, 2, 1,
		sub_flags(1, 2, 4), SUB_FLAGS);
	COMPARE("REX.W 3B cmp r64, m64 (memory second, overflow)", "cmp 0x248(%[b]), %q[r]", 8,
		0x248, 0xFFFFFFFFFFFFFFFFull, 0x7FFFFFFFFFFFFFFFull,
		sub_flags(0x7FFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull, 8), SUB_FLAGS);
	COMPARE("80 /7 cmp m8, imm8", "cmpb $0x80, 0x250(%[b])", 1, 0x250, 0x7F, 0,
		sub_flags(0x7F, 0x80, 1), SUB_FLAGS);
	COMPARE("81 /7 cmp m32, imm32", "cmpl $0x12345678, 0x258(%[b])", 4, 0x258, 0x12345679, 0,
		sub_flags(0x12345679, 0x12345678, 4), SUB_FLAGS);
	COMPARE("66 81 /7 cmp m16, imm16", "cmpw $0x1234, 0x260(%[b])", 2, 0x260, 0xFF80, 0,
		sub_flags(0xFF80, 0x1234, 2), SUB_FLAGS);
	COMPARE("83 /7 cmp m32, imm8 (-1)", "cmpl $-1, 0x268(%[b])", 4, 0x268, 0xFFFFFFFF, 0,
		sub_flags(0xFFFFFFFF, 0xFFFFFFFF, 4), SUB_FLAGS);
	COMPARE("REX.W 83 /7 cmp m64, imm8", "cmpq $1, 0x270(%[b])", 8, 0x270, 0, 0,
		sub_flags(0, 1, 8), SUB_FLAGS);
	COMPARE("REX.W 81 /7 cmp m64, imm32 (sign-extended)", "cmpq $-0x12345678, 0x278(%[b])", 8,
		0x278, 0xFFFFFFFFEDCBA988ull, 0,
		sub_flags(0xFFFFFFFFEDCBA988ull, 0xFFFFFFFFEDCBA988ull, 8), SUB_FLAGS);
}

/* ------------------------------------------------------------------ mov */

static void store_prep(uint32_t off)
{
	poke(off, FILL);
	count_reset();
}

static void store_done(const char *what, unsigned size, uint32_t off, uint64_t want)
{
	begin();
	logged(size, WR, off, 1);
	val("memory", peek(off), merge(FILL, want, size));
	end(what);
}

static void load_prep(uint32_t off, uint64_t v)
{
	poke(off, v);
	count_reset();
}

static void load_done(const char *what, unsigned size, uint32_t off, uint64_t got, uint64_t want)
{
	begin();
	logged(size, RD, off, 1);
	val("register", got, want);
	end(what);
}

static void mov_stores(void)
{
	register uint64_t r9 asm("r9");
	register uint64_t r12 asm("r12");
	register uint64_t r13 asm("r13");
	register uint64_t r8 asm("r8");
	register uint64_t r15 asm("r15");

	store_prep(0x10);
	asm volatile("mov %%al, 0x10(%0)" : : "r"(base), "a"(0x12345678A5ull) : "memory");
	store_done("88 mov m8, al", 1, 0x10, 0xA5);

	/* High-byte registers exist only without REX: keep the base legacy. */
	store_prep(0x18);
	asm volatile("mov %%ah, 0x18(%0)" : : "S"(base), "a"(0xC3A5ull) : "memory");
	store_done("88 mov m8, ah", 1, 0x18, 0xC3);
	store_prep(0x20);
	asm volatile("mov %%bh, 0x20(%0)" : : "S"(base), "b"(0x7E01ull) : "memory");
	store_done("88 mov m8, bh", 1, 0x20, 0x7E);
	store_prep(0x28);
	asm volatile("mov %%ch, 0x28(%0)" : : "D"(base), "c"(0x9C02ull) : "memory");
	store_done("88 mov m8, ch", 1, 0x28, 0x9C);
	store_prep(0x30);
	asm volatile("mov %%dh, 0x30(%0)" : : "D"(base), "d"(0x4403ull) : "memory");
	store_done("88 mov m8, dh", 1, 0x30, 0x44);

	/* With any REX, byte register 6 is SIL, not DH. */
	store_prep(0x38);
	asm volatile("mov %%sil, 0x38(%0)" : : "b"(base), "S"(0x5Aull), "d"(0x6600ull) : "memory");
	store_done("REX 88 mov m8, sil (not dh)", 1, 0x38, 0x5A);

	/* Local register variables must be set right before the asm: a call
	 * in between may clobber them. */
	store_prep(0x40);
	r9 = 0x1122334455667799ull;
	asm volatile("mov %%r9b, 0x40(%0)" : : "r"(base), "r"(r9) : "memory");
	store_done("REX.R 88 mov m8, r9b", 1, 0x40, 0x99);

	store_prep(0x48);
	asm volatile("mov %%cx, 0x48(%0)" : : "r"(base), "c"(0xFFFFBEEFull) : "memory");
	store_done("66 89 mov m16, cx", 2, 0x48, 0xBEEF);
	store_prep(0x50);
	asm volatile("mov %%edx, 0x50(%0)" : : "r"(base), "d"(0xFFFFFFFFDEADBEEFull) : "memory");
	store_done("89 mov m32, edx", 4, 0x50, 0xDEADBEEF);
	store_prep(0x58);
	asm volatile("mov %%rsi, 0x58(%0)" : : "r"(base), "S"(0x0123456789ABCDEFull) : "memory");
	store_done("REX.W 89 mov m64, rsi", 8, 0x58, 0x0123456789ABCDEFull);

	/* R13 as a base always takes a displacement (mod 01). */
	store_prep(0x60);
	r12 = 0xFEDCBA9876543210ull;
	r13 = base;
	asm volatile("mov %%r12, 0x60(%%r13)" : : "r"(r12), "r"(r13) : "memory");
	store_done("REX.WRB 89 mov m64, r12 via [r13+disp8]", 8, 0x60, 0xFEDCBA9876543210ull);

	store_prep(0x68);
	r15 = 0x0000000000007777ull;
	r8 = base + 0x68;
	asm volatile("mov %%r15w, (%%r8)" : : "r"(r15), "r"(r8) : "memory");
	store_done("66 REX.RB 89 mov m16, r15w via [r8]", 2, 0x68, 0x7777);

	store_prep(0x400);
	asm volatile("mov %%eax, 0x400(%0)" : : "r"(base), "a"(0x13579BDF) : "memory");
	store_done("89 mov m32, eax with disp32", 4, 0x400, 0x13579BDF);

	store_prep(0xFF8);
	asm volatile("mov %%rax, 0xFF8(%0)" : : "r"(base), "a"(0xA5A5A5A55A5A5A5Aull) : "memory");
	store_done("REX.W 89 mov m64 at the last qword of the page", 8, 0xFF8,
		   0xA5A5A5A55A5A5A5Aull);
}

static void mov_loads(void)
{
	register uint64_t r10 asm("r10");
	register uint64_t r11 asm("r11");
	register uint64_t r14 asm("r14");
	register uint64_t r9 asm("r9");
	uint64_t a, b, s, d;

	load_prep(0x80, 0x8877665544332211ull);
	a = ~0ull;
	asm volatile("mov 0x80(%1), %%al" : "+a"(a) : "r"(base) : "memory");
	load_done("8A mov al, m8", 1, 0x80, a, 0xFFFFFFFFFFFFFF11ull);

	count_reset();
	a = 0xAAAAAAAAAAAAAAAAull;
	asm volatile("mov 0x81(%1), %%ah" : "+a"(a) : "S"(base) : "memory");
	load_done("8A mov ah, m8", 1, 0x81, a, 0xAAAAAAAAAAAA22AAull);

	count_reset();
	b = 0xBBBBBBBBBBBBBBBBull;
	asm volatile("mov 0x82(%1), %%bh" : "+b"(b) : "D"(base) : "memory");
	load_done("8A mov bh, m8", 1, 0x82, b, 0xBBBBBBBBBBBB33BBull);

	count_reset();
	s = 0xCCCCCCCCCCCCCCCCull;
	d = 0xDDDDDDDDDDDDDDDDull;
	asm volatile("mov 0x83(%2), %%sil" : "+S"(s), "+d"(d) : "b"(base) : "memory");
	begin();
	logged(1, RD, 0x83, 1);
	val("RSI", s, 0xCCCCCCCCCCCCCC44ull);
	val("RDX", d, 0xDDDDDDDDDDDDDDDDull);
	end("REX 8A mov sil, m8 (not dh)");

	count_reset();
	r10 = 0;
	asm volatile("mov 0x84(%1), %%r10b" : "+r"(r10) : "r"(base) : "memory");
	load_done("REX.R 8A mov r10b, m8", 1, 0x84, r10, 0x55);

	count_reset();
	r11 = 0x9999999999999999ull;
	asm volatile("mov 0x86(%1), %%r11w" : "+r"(r11) : "r"(base) : "memory");
	load_done("66 REX.R 8B mov r11w, m16", 2, 0x86, r11, 0x9999999999998877ull);

	count_reset();
	a = ~0ull;
	asm volatile("mov 0x80(%1), %%eax" : "+a"(a) : "r"(base) : "memory");
	load_done("8B mov eax, m32 (clears bits 63:32)", 4, 0x80, a, 0x44332211ull);

	count_reset();
	r14 = 0;
	asm volatile("mov 0x80(%1), %%r14" : "+r"(r14) : "r"(base) : "memory");
	load_done("REX.WR 8B mov r14, m64", 8, 0x80, r14, 0x8877665544332211ull);

	load_prep(0x500, 0x0102030405060708ull);
	a = 0;
	r9 = base;
	asm volatile("mov 0x500(%%r9), %%rax" : "+a"(a) : "r"(r9) : "memory");
	load_done("REX.WB 8B mov rax, [r9+disp32]", 8, 0x500, a, 0x0102030405060708ull);
}

static void mov_immediates(void)
{
	register uint64_t r9 asm("r9");

	store_prep(0x90);
	asm volatile("movb $0xA5, 0x90(%0)" : : "r"(base) : "memory");
	store_done("C6 /0 mov m8, imm8", 1, 0x90, 0xA5);
	store_prep(0x98);
	asm volatile("movw $0xBEEF, 0x98(%0)" : : "r"(base) : "memory");
	store_done("66 C7 /0 mov m16, imm16", 2, 0x98, 0xBEEF);
	store_prep(0xA0);
	asm volatile("movl $0xDEADBEEF, 0xA0(%0)" : : "r"(base) : "memory");
	store_done("C7 /0 mov m32, imm32", 4, 0xA0, 0xDEADBEEF);
	store_prep(0xA8);
	asm volatile("movq $-0x7B, 0xA8(%0)" : : "r"(base) : "memory");
	store_done("REX.W C7 /0 mov m64, imm32 -0x7B (sign-extended)", 8, 0xA8,
		   0xFFFFFFFFFFFFFF85ull);
	store_prep(0xB0);
	asm volatile("movq $-0x12345678, 0xB0(%0)" : : "r"(base) : "memory");
	store_done("REX.W C7 /0 mov m64, imm32 -0x12345678", 8, 0xB0, 0xFFFFFFFFEDCBA988ull);
	store_prep(0xB8);
	asm volatile("movq $0x7FFFFFFF, 0xB8(%0)" : : "r"(base) : "memory");
	store_done("REX.W C7 /0 mov m64, imm32 0x7FFFFFFF", 8, 0xB8, 0x7FFFFFFFull);
	store_prep(0xC0);
	r9 = base;
	asm volatile("movl $0x0BADF00D, 0xC0(%%r9)" : : "r"(r9) : "memory");
	store_done("REX.B C7 /0 mov m32, imm32 via [r9+disp8]", 4, 0xC0, 0x0BADF00D);
	store_prep(0x7F0);
	asm volatile("movl $0x01020304, 0x7F0(%0)" : : "r"(base) : "memory");
	store_done("C7 /0 mov m32, imm32 with disp32", 4, 0x7F0, 0x01020304);
}

/* ------------------------------------------------------- movzx / movsx */

#define EXTEND(what, insn, size, off, init, want)                                                  \
	do {                                                                                       \
		uint64_t r_ = (init);                                                              \
		count_reset();                                                                     \
		asm volatile(insn : [r] "+r"(r_) : [b] "r"(base) : "memory");                      \
		load_done(what, size, off, r_, want);                                              \
	} while (0)

static void extensions(void)
{
	uint64_t si = 0x2222222222222222ull, di = 0x3333333333333333ull;

	poke(0xD0, 0x7FFFFFFE80000001ull);
	poke(0xD8, 0x000000000080019Cull); /* byte 0x9C at 0xD8, word 0x8001 at 0xD9 */
	EXTEND("66 0F B6 movzx r16, m8", "movzbw 0xD8(%[b]), %w[r]", 1, 0xD8, FILL,
	       0x111111111111009Cull);
	EXTEND("0F B6 movzx r32, m8", "movzbl 0xD8(%[b]), %k[r]", 1, 0xD8, ~0ull, 0x9C);
	EXTEND("REX.W 0F B6 movzx r64, m8", "movzbq 0xD8(%[b]), %q[r]", 1, 0xD8, ~0ull, 0x9C);
	EXTEND("0F B7 movzx r32, m16", "movzwl 0xD9(%[b]), %k[r]", 2, 0xD9, ~0ull, 0x8001);
	EXTEND("REX.W 0F B7 movzx r64, m16", "movzwq 0xD9(%[b]), %q[r]", 2, 0xD9, ~0ull, 0x8001);
	EXTEND("66 0F BE movsx r16, m8", "movsbw 0xD8(%[b]), %w[r]", 1, 0xD8, FILL,
	       0x111111111111FF9Cull);
	EXTEND("0F BE movsx r32, m8", "movsbl 0xD8(%[b]), %k[r]", 1, 0xD8, ~0ull, 0xFFFFFF9Cull);
	EXTEND("REX.W 0F BE movsx r64, m8", "movsbq 0xD8(%[b]), %q[r]", 1, 0xD8, 0,
	       0xFFFFFFFFFFFFFF9Cull);
	EXTEND("0F BF movsx r32, m16", "movswl 0xD9(%[b]), %k[r]", 2, 0xD9, 0, 0xFFFF8001ull);
	EXTEND("REX.W 0F BF movsx r64, m16", "movswq 0xD9(%[b]), %q[r]", 2, 0xD9, 0,
	       0xFFFFFFFFFFFF8001ull);
	EXTEND("REX.W 63 movsxd r64, m32 (negative)", "movslq 0xD0(%[b]), %q[r]", 4, 0xD0, 0,
	       0xFFFFFFFF80000001ull);
	EXTEND("REX.W 63 movsxd r64, m32 (positive)", "movslq 0xD4(%[b]), %q[r]", 4, 0xD4, ~0ull,
	       0x7FFFFFFEull);

	/* 16-bit destinations from a 16-bit source: the assembler has no
	 * mnemonic, so the bytes are spelled out ([rbx+disp32] = 0x83 | reg). */
	count_reset();
	asm volatile(".byte 0x66, 0x0F, 0xB7, 0xB3\n\t.long 0xD9" /* movzx si, [rbx+0xD9] */
		     : "+S"(si)
		     : "b"(base)
		     : "memory");
	load_done("66 0F B7 movzx r16, m16", 2, 0xD9, si, 0x2222222222228001ull);
	count_reset();
	asm volatile(".byte 0x66, 0x0F, 0xBF, 0xBB\n\t.long 0xD9" /* movsx di, [rbx+0xD9] */
		     : "+D"(di)
		     : "b"(base)
		     : "memory");
	load_done("66 0F BF movsx r16, m16", 2, 0xD9, di, 0x3333333333338001ull);
}

/* ----------------------------------------------------------------- moffs */

/* A0-A3 carry the address in the instruction, so each page has its own
 * copy; loads read 0xE0, stores write 0xE8. The 67-prefixed (moffs32)
 * forms only exist for pages below 4 GiB. */
struct moffs_set {
	uint64_t (*ld8)(uint64_t), (*ld16)(uint64_t), (*ld32)(uint64_t), (*ld64)(uint64_t);
	void (*st8)(uint64_t), (*st16)(uint64_t), (*st32)(uint64_t), (*st64)(uint64_t);
	uint64_t (*ld32_a32)(uint64_t);
	void (*st8_a32)(uint64_t);
};

#define MOFFS_LD(name, reg, addr)                                                                  \
	static uint64_t name(uint64_t a)                                                           \
	{                                                                                          \
		asm volatile("movabs %p[m], %%" reg : "+a"(a) : [m] "i"(addr) : "memory");         \
		return a;                                                                          \
	}
#define MOFFS_ST(name, reg, addr)                                                                  \
	static void name(uint64_t a)                                                               \
	{                                                                                          \
		asm volatile("movabs %%" reg ", %p[m]" : : "a"(a), [m] "i"(addr) : "memory");      \
	}
#define MOFFS_SET(tag, page)                                                                       \
	MOFFS_LD(tag##_ld8, "al", (page) + 0xE0)                                                   \
	MOFFS_LD(tag##_ld16, "ax", (page) + 0xE0)                                                  \
	MOFFS_LD(tag##_ld32, "eax", (page) + 0xE0)                                                 \
	MOFFS_LD(tag##_ld64, "rax", (page) + 0xE0)                                                 \
	MOFFS_ST(tag##_st8, "al", (page) + 0xE8)                                                   \
	MOFFS_ST(tag##_st16, "ax", (page) + 0xE8)                                                  \
	MOFFS_ST(tag##_st32, "eax", (page) + 0xE8)                                                 \
	MOFFS_ST(tag##_st64, "rax", (page) + 0xE8)
#define MOFFS32_SET(tag, page)                                                                     \
	static uint64_t tag##_ld32_a32(uint64_t a)                                                 \
	{                                                                                          \
		asm volatile(".byte 0x67, 0xA1\n\t.long %p[m]"                                     \
			     : "+a"(a)                                                             \
			     : [m] "i"((page) + 0xE0)                                              \
			     : "memory");                                                          \
		return a;                                                                          \
	}                                                                                          \
	static void tag##_st8_a32(uint64_t a)                                                      \
	{                                                                                          \
		asm volatile(".byte 0x67, 0xA2\n\t.long %p[m]"                                     \
			     :                                                                     \
			     : "a"(a), [m] "i"((page) + 0xE8)                                      \
			     : "memory");                                                          \
	}

MOFFS_SET(dev, (uint64_t)TESTDEV_MMIO_BASE)
MOFFS32_SET(dev, (uint64_t)TESTDEV_MMIO_BASE)
MOFFS_SET(ram, (uint64_t)(uintptr_t)mmio_ram_page)
MOFFS32_SET(ram, (uint64_t)(uintptr_t)mmio_ram_page)
MOFFS_SET(alias, (uint64_t)RT_ALIAS_VA)

#define MOFFS_FNS(tag)                                                                             \
	tag##_ld8, tag##_ld16, tag##_ld32, tag##_ld64, tag##_st8, tag##_st16, tag##_st32, tag##_st64
static const struct moffs_set moffs_dev = {MOFFS_FNS(dev), dev_ld32_a32, dev_st8_a32};
static const struct moffs_set moffs_ram = {MOFFS_FNS(ram), ram_ld32_a32, ram_st8_a32};
static const struct moffs_set moffs_alias = {MOFFS_FNS(alias), NULL, NULL};

static void moffs_forms(const struct moffs_set *m)
{
	poke(0xE0, 0xF1E2D3C4B5A69788ull);
	count_reset();
	load_done("A0 mov al, moffs64", 1, 0xE0, m->ld8(~0ull), 0xFFFFFFFFFFFFFF88ull);
	count_reset();
	load_done("66 A1 mov ax, moffs64", 2, 0xE0, m->ld16(~0ull), 0xFFFFFFFFFFFF9788ull);
	count_reset();
	load_done("A1 mov eax, moffs64", 4, 0xE0, m->ld32(~0ull), 0xB5A69788ull);
	count_reset();
	load_done("REX.W A1 mov rax, moffs64", 8, 0xE0, m->ld64(0), 0xF1E2D3C4B5A69788ull);
	store_prep(0xE8);
	m->st8(0x123456789ABCDE5Aull);
	store_done("A2 mov moffs64, al", 1, 0xE8, 0x5A);
	store_prep(0xE8);
	m->st16(0x123456789ABCBEEFull);
	store_done("66 A3 mov moffs64, ax", 2, 0xE8, 0xBEEF);
	store_prep(0xE8);
	m->st32(0x12345678DEADBEEFull);
	store_done("A3 mov moffs64, eax", 4, 0xE8, 0xDEADBEEF);
	store_prep(0xE8);
	m->st64(0x0123456789ABCDEFull);
	store_done("REX.W A3 mov moffs64, rax", 8, 0xE8, 0x0123456789ABCDEFull);
	if (!m->ld32_a32)
		return;
	count_reset();
	load_done("67 A1 mov eax, moffs32", 4, 0xE0, m->ld32_a32(~0ull), 0xB5A69788ull);
	store_prep(0xE8);
	m->st8_a32(0xC3);
	store_done("67 A2 mov moffs32, al", 1, 0xE8, 0xC3);
}

/* ------------------------------------------------------------ stos, movs */

static uint64_t repeat(uint64_t v, unsigned size)
{
	uint64_t r = 0;

	for (unsigned i = 0; i < 8; i += size)
		r |= (v & mask_of(size)) << (8 * i);
	return r;
}

#define STOS1(what, insn, size, off, v)                                                            \
	do {                                                                                       \
		uint64_t di_ = base + (off);                                                       \
		store_prep(off);                                                                   \
		asm volatile(insn : "+D"(di_) : "a"(v) : "memory");                                \
		begin();                                                                           \
		logged(size, WR, off, 1);                                                          \
		val("memory", peek(off), merge(FILL, v, size));                                    \
		val("RDI - page", di_ - base, (off) + (size));                                     \
		end(what);                                                                         \
	} while (0)

/* FILL over [lo - 8, hi + 8), a whole number of qwords. */
static void fill_region(uint32_t lo, uint32_t hi)
{
	for (uint32_t o = lo - 8; o < hi + 8; o += 8)
		poke(o, FILL);
	count_reset();
}

/* [lo, hi) holds `pattern` in every qword and the guards are intact. */
static void region_is(uint32_t lo, uint32_t hi, uint64_t pattern)
{
	for (uint32_t o = lo; o < hi; o += 8)
		val("memory", peek(o), pattern);
	val("guard below", peek(lo - 8), FILL);
	val("guard above", peek(hi), FILL);
}

/* rep stos of n elements of `size` from page offset `start`, DF as given. */
#define REP_STOS(what, insn, size, n, lo, v, backwards)                                            \
	do {                                                                                       \
		uint32_t hi_ = (lo) + (n) * (size);                                                \
		uint32_t start_ = (backwards) ? hi_ - (size) : (lo);                               \
		uint32_t last_ = (backwards) ? (lo) : hi_ - (size);                                \
		uint64_t di_ = base + start_, cx_ = (n);                                           \
		fill_region(lo, hi_);                                                              \
		if (backwards)                                                                     \
			asm volatile("std\n\t" insn "\n\tcld"                                      \
				     : "+D"(di_), "+c"(cx_)                                        \
				     : "a"(v)                                                      \
				     : "memory");                                                  \
		else                                                                               \
			asm volatile(insn : "+D"(di_), "+c"(cx_) : "a"(v) : "memory");             \
		begin();                                                                           \
		logged(size, WR, last_, n);                                                        \
		region_is(lo, hi_, repeat(v, size));                                               \
		val("RCX", cx_, 0);                                                                \
		val("RDI - page", di_ - base, (backwards) ? (uint64_t)(lo) - (size) : hi_);        \
		end(what);                                                                         \
	} while (0)

static void stos_forms(void)
{
	uint64_t di, cx;

	STOS1("AA stosb", "stosb", 1, 0x2A0, 0x5A);
	STOS1("66 AB stosw", "stosw", 2, 0x2A8, 0xA55A);
	STOS1("AB stosl", "stosl", 4, 0x2B0, 0xDEADBEEF);
	STOS1("REX.W AB stosq", "stosq", 8, 0x2B8, 0x0123456789ABCDEFull);
	REP_STOS("F3 AA rep stosb x16", "rep stosb", 1, 16, 0x310, 0x5A, false);
	REP_STOS("F3 66 AB rep stosw x8", "rep stosw", 2, 8, 0x330, 0xA55A, false);
	REP_STOS("F3 AB rep stosl x8", "rep stosl", 4, 8, 0x350, 0xDEADBEEF, false);
	REP_STOS("F3 REX.W AB rep stosq x4", "rep stosq", 8, 4, 0x380, 0x0123456789ABCDEFull,
		 false);
	REP_STOS("F3 AB rep stosl x4 with DF=1", "rep stosl", 4, 4, 0x3B0, 0xCAFEF00D, true);

	fill_region(0x3D0, 0x3D8);
	di = base + 0x3D0;
	cx = 0;
	asm volatile("rep stosb" : "+D"(di), "+c"(cx) : "a"(0x77) : "memory");
	begin();
	if (!ram_mode)
		val("COUNT", inl(PORT(TESTDEV_MMIO_COUNT)), 0);
	region_is(0x3D0, 0x3D8, FILL);
	val("RDI - page", di - base, 0x3D0);
	end("F3 AA rep stosb with RCX = 0 touches nothing");
}

static const uint64_t movs_src[4] = {0x8877665544332211ull, 0x00FFEEDDCCBBAA99ull,
				     0x0F1E2D3C4B5A6978ull, 0x1021324354657687ull};

#define MOVS1_TO(what, insn, size, off)                                                            \
	do {                                                                                       \
		uint64_t si_ = (uint64_t)(uintptr_t)movs_src, di_ = base + (off);                  \
		store_prep(off);                                                                   \
		asm volatile(insn : "+S"(si_), "+D"(di_) : : "memory");                            \
		begin();                                                                           \
		logged(size, WR, off, 1);                                                          \
		val("memory", peek(off), merge(FILL, movs_src[0], size));                          \
		val("RSI advance", si_ - (uint64_t)(uintptr_t)movs_src, size);                     \
		val("RDI - page", di_ - base, (off) + (size));                                     \
		end(what);                                                                         \
	} while (0)

static void movs_forms(void)
{
	uint64_t dst[4], si, di, cx;

	MOVS1_TO("A4 movsb RAM to MMIO", "movsb", 1, 0x600);
	MOVS1_TO("66 A5 movsw RAM to MMIO", "movsw", 2, 0x608);
	MOVS1_TO("A5 movsl RAM to MMIO", "movsl", 4, 0x610);
	MOVS1_TO("REX.W A5 movsq RAM to MMIO", "movsq", 8, 0x618);

	fill_region(0x630, 0x650);
	si = (uint64_t)(uintptr_t)movs_src;
	di = base + 0x630;
	cx = 4;
	asm volatile("rep movsq" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	begin();
	logged(8, WR, 0x648, 4);
	for (unsigned i = 0; i < 4; i++)
		val("memory", peek(0x630 + 8 * i), movs_src[i]);
	val("guard above", peek(0x650), FILL);
	val("RCX", cx, 0);
	val("RDI - page", di - base, 0x650);
	end("F3 REX.W A5 rep movsq x4 RAM to MMIO");

	/* The page now holds movs_src at 0x630: copy it back out. */
	memset(dst, 0xEE, sizeof(dst));
	count_reset();
	si = base + 0x630;
	di = (uint64_t)(uintptr_t)dst;
	cx = 16;
	asm volatile("rep movsb" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	begin();
	logged(1, RD, 0x63F, 16);
	val("RAM qword 0", dst[0], movs_src[0]);
	val("RAM qword 1", dst[1], movs_src[1]);
	val("RAM after", dst[2], 0xEEEEEEEEEEEEEEEEull);
	val("RCX", cx, 0);
	val("RSI - page", si - base, 0x640);
	end("F3 A4 rep movsb x16 MMIO to RAM");

	memset(dst, 0xEE, sizeof(dst));
	count_reset();
	si = base + 0x640;
	di = (uint64_t)(uintptr_t)dst;
	cx = 4;
	asm volatile("rep movsl" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	begin();
	logged(4, RD, 0x64C, 4);
	val("RAM qword 0", dst[0], movs_src[2]);
	val("RAM qword 1", dst[1], movs_src[3]);
	val("RCX", cx, 0);
	end("F3 A5 rep movsl x4 MMIO to RAM");

	memset(dst, 0xEE, sizeof(dst));
	count_reset();
	si = base + 0x630;
	di = (uint64_t)(uintptr_t)dst;
	asm volatile("movsl" : "+S"(si), "+D"(di) : : "memory");
	begin();
	logged(4, RD, 0x630, 1);
	val("RAM qword 0", dst[0], 0xEEEEEEEE00000000ull | (movs_src[0] & 0xFFFFFFFF));
	val("RSI - page", si - base, 0x634);
	end("A5 movsl MMIO to RAM");

	/* DF = 1: from the last byte down; same bytes, same places. */
	fill_region(0x668, 0x670);
	si = (uint64_t)(uintptr_t)movs_src + 7;
	di = base + 0x66F;
	cx = 8;
	asm volatile("std; rep movsb; cld" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	begin();
	logged(1, WR, 0x668, 8);
	region_is(0x668, 0x670, movs_src[0]);
	val("RSI", si, (uint64_t)(uintptr_t)movs_src - 1);
	val("RDI - page", di - base, 0x667);
	end("F3 A4 rep movsb x8 RAM to MMIO with DF=1");
}

/* --------------------------------------------------------- addressing */

static void sib_forms(void)
{
	register uint64_t r12 asm("r12");
	register uint64_t r13 asm("r13");
	uint64_t a;

	store_prep(0x718);
	asm volatile("movl %%eax, 0x700(%0, %1, 4)"
		     :
		     : "r"(base), "r"(6ull), "a"(0xFACEB00C)
		     : "memory");
	store_done("SIB [base + index*4 + disp32]", 4, 0x718, 0xFACEB00C);

	load_prep(0x730, 0x1122334455667788ull);
	a = 0;
	r13 = base + 0x700;
	r12 = 5;
	asm volatile("mov 0x8(%%r13, %%r12, 8), %%rax" : "+a"(a) : "r"(r12), "r"(r13) : "memory");
	load_done("SIB REX.XB [r13 + r12*8 + disp8]", 8, 0x730, a, 0x1122334455667788ull);

	/* No base register: disp32 + index*8, the page address in the index. */
	store_prep(0x740);
	asm volatile("movq %%rax, 0x740(, %0, 8)"
		     :
		     : "r"(base / 8), "a"(0x0F0E0D0C0B0A0908ull)
		     : "memory");
	store_done("SIB without base [index*8 + disp32]", 8, 0x740, 0x0F0E0D0C0B0A0908ull);

	store_prep(0x750);
	asm volatile("mov %%cx, -0x10(%0, %1, 2)"
		     :
		     : "r"(base), "r"(0x3B0ull), "c"(0x4321)
		     : "memory");
	store_done("SIB [base + index*2 - disp8]", 2, 0x750, 0x4321);

	load_prep(0x758, 0xA0B0C0D0E0F00010ull);
	a = 0;
	asm volatile("mov (%1, %2, 1), %%rax" : "+a"(a) : "r"(base), "r"(0x758ull) : "memory");
	load_done("SIB [base + index*1]", 8, 0x758, a, 0xA0B0C0D0E0F00010ull);
}

/* RIP-relative operands reach the page only through the alias, which
 * lies within 2 GiB of the code. The immediate forms check that the
 * operand is relative to the end of the whole instruction. */
static void rip_relative(void)
{
	uint64_t a, f;

	load_prep(0x800, 0x99AABBCCDDEEFF00ull);
	a = ~0ull;
	asm volatile("mov mmio_alias_va+0x800(%%rip), %%eax" : "+a"(a) : : "memory");
	load_done("8B mov eax, [rip+disp32]", 4, 0x800, a, 0xDDEEFF00ull);

	store_prep(0x808);
	asm volatile("mov %%eax, mmio_alias_va+0x808(%%rip)" : : "a"(0x76543210) : "memory");
	store_done("89 mov [rip+disp32], eax", 4, 0x808, 0x76543210);

	store_prep(0x810);
	asm volatile("movl $0xA1B2C3D4, mmio_alias_va+0x810(%%rip)" : : : "memory");
	store_done("C7 /0 mov [rip+disp32], imm32", 4, 0x810, 0xA1B2C3D4);

	store_prep(0x818);
	asm volatile("movw $0x5AA5, mmio_alias_va+0x818(%%rip)" : : : "memory");
	store_done("66 C7 /0 mov [rip+disp32], imm16", 2, 0x818, 0x5AA5);

	poke(0x820, merge(FILL, 0x01, 1));
	count_reset();
	asm volatile("push %1; popfq; orb $0x80, mmio_alias_va+0x820(%%rip); pushfq; pop %0"
		     : "=r"(f)
		     : "r"(preset(logic_flags(0x81, 1), LOGIC_FLAGS))
		     : "memory", "cc");
	begin();
	logged(1, WR, 0x820, 2);
	val("memory", peek(0x820), merge(FILL, 0x81, 1));
	flags(f, logic_flags(0x81, 1), LOGIC_FLAGS);
	end("80 /1 or [rip+disp32], imm8");

	poke(0x828, 5);
	count_reset();
	asm volatile("push %1; popfq; cmpq $-1, mmio_alias_va+0x828(%%rip); pushfq; pop %0"
		     : "=r"(f)
		     : "r"(preset(sub_flags(5, ~0ull, 8), SUB_FLAGS))
		     : "memory", "cc");
	begin();
	logged(8, RD, 0x828, 1);
	flags(f, sub_flags(5, ~0ull, 8), SUB_FLAGS);
	end("REX.W 83 /7 cmp [rip+disp32], imm8");
}

/* FS and GS bases come from their MSRs; ES, CS, SS and DS overrides are
 * ignored in 64-bit mode. */
static void segment_forms(void)
{
	uint64_t a, si, di, cx, dst = 0;

	wrmsr(MSR_FS_BASE, base);
	wrmsr(MSR_GS_BASE, base + 0x100);

	store_prep(0x900);
	asm volatile("mov %%eax, %%fs:0x900" : : "a"(0x0DDBA11) : "memory");
	store_done("64 mov fs:[disp32], eax (FS base = page)", 4, 0x900, 0x0DDBA11);

	load_prep(0x910, 0x0123456789ABCDEFull);
	a = 0;
	asm volatile("mov %%gs:0x8(%1), %%rax" : "+a"(a) : "d"(0x808ull) : "memory");
	load_done("65 mov rax, gs:[rdx+disp8] (GS base = page + 0x100)", 8, 0x910, a,
		  0x0123456789ABCDEFull);

	store_prep(0x918);
	asm volatile("movb $0x77, %%gs:0x818" : : : "memory");
	store_done("65 C6 mov gs:[disp32], imm8", 1, 0x918, 0x77);

	store_prep(0x920);
	asm volatile("mov %%eax, %%es:0x920(%0)" : : "r"(base), "a"(0xE5E5E5E5) : "memory");
	store_done("26 mov es:[base+disp32], eax (override ignored)", 4, 0x920, 0xE5E5E5E5);

	load_prep(0x928, 0x00000000C5C5C5C5ull);
	a = 0;
	asm volatile("mov %%cs:0x928(%1), %%eax" : "+a"(a) : "r"(base) : "memory");
	load_done("2E mov eax, cs:[base+disp32] (override ignored)", 4, 0x928, a, 0xC5C5C5C5);

	/* movs reads through an overridable segment: fs:[rsi]. */
	poke(0x930, movs_src[0]);
	count_reset();
	si = 0x930;
	di = (uint64_t)(uintptr_t)&dst;
	cx = 8;
	asm volatile(".byte 0x64, 0xF3, 0xA4" /* rep movsb fs:[rsi] -> es:[rdi] */
		     : "+S"(si), "+D"(di), "+c"(cx)
		     :
		     : "memory");
	begin();
	logged(1, RD, 0x937, 8);
	val("RAM", dst, movs_src[0]);
	val("RSI", si, 0x938);
	end("64 F3 A4 rep movsb fs:[rsi] MMIO to RAM");

	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_GS_BASE, 0);
}

/* 67: 32-bit addresses in 64-bit mode; only for a page below 4 GiB. The
 * upper halves of the registers are set and must be ignored. */
static void address_size_forms(void)
{
	uint64_t di, cx;

	store_prep(0xA00);
	asm volatile("mov %%eax, 0xA00(%%ebx)"
		     :
		     : "b"(0xFFFFFFFF00000000ull | base), "a"(0xABCD1234)
		     : "memory");
	store_done("67 89 mov [ebx+disp32], eax (upper RBX ignored)", 4, 0xA00, 0xABCD1234);

	fill_region(0xA10, 0xA18);
	di = base + 0xA10;
	cx = 0xFFFFFFFF00000008ull;
	asm volatile(".byte 0x67, 0xF3, 0xAA" /* rep stosb with ECX and EDI */
		     : "+D"(di), "+c"(cx)
		     : "a"(0x3C)
		     : "memory");
	begin();
	logged(1, WR, 0xA17, 8);
	region_is(0xA10, 0xA18, repeat(0x3C, 1));
	val("ECX", cx & 0xFFFFFFFF, 0);
	val("EDI - page", (uint32_t)di - (uint32_t)base, 0xA18);
	end("67 F3 AA rep stosb counts ECX (upper RCX ignored)");
}

/* --------------------------------------------------------- 32-bit hook */

static void pm32_check(unsigned n, uint32_t value, unsigned size, unsigned dir, uint32_t off,
		       uint32_t count)
{
	const struct pm32_rec *r = &pm32_records[n];

	begin();
	val("value", r->value, value);
	if (!ram_mode) {
		val("LAST_SIZE", r->size, size);
		val("LAST_DIR", r->dir, dir);
		val("LAST_OFF", r->off, off);
		val("COUNT", r->count, count);
	}
}

static void pm32_flags(unsigned n, uint64_t want, uint64_t mask)
{
	flags(pm32_records[n].flags, want, mask);
}

static void pm32_judge(void)
{
	pass = "32-bit";
	if (!checkd(pm32_ran == 1, "32-bit hook ran before long mode", "pm32_ran %u", pm32_ran))
		return;
	check_eq(pm32_ram, ram_mode, "32-bit hook used the same page as the 64-bit checks");

	pm32_check(0, 0xCAFEF00D, 4, WR, 0x10, 1);
	end("89 mov m32, r32");
	pm32_check(1, 0xCAFEF00D, 4, RD, 0x10, 1);
	end("8B mov r32, m32");
	pm32_check(2, 0x1111F00D, 2, WR, 0x20, 1);
	end("66 89 mov m16, r16");
	pm32_check(3, 0xAAAAF00D, 2, RD, 0x20, 1);
	end("66 8B mov r16, m16 (upper half kept)");
	pm32_check(4, 0x5A, 1, WR, 0x30, 1);
	end("C6 mov m8, imm8");
	pm32_check(5, 0xBEEF005A, 2, WR, 0x32, 1);
	end("66 C7 mov m16, imm16");
	pm32_check(6, 0xBE, 1, RD, 0x33, 1);
	end("0F B6 movzx r32, m8");
	pm32_check(7, 0xFFFFBEEF, 2, RD, 0x32, 1);
	end("0F BF movsx r32, m16");
	pm32_check(8, 0xCAFEF00D, 4, RD, 0x10, 1);
	end("A1 mov eax, moffs32");
	pm32_check(9, 0x2222F00D, 2, WR, 0x40, 1);
	end("66 A3 mov moffs32, ax");
	pm32_check(10, 0x01020304, 4, WR, 0x44, 1);
	end("C7 05 mov [disp32], imm32 (absolute, not RIP-relative)");
	pm32_check(11, 0x60, 4, WR, 0x5C, 4);
	val("ECX", pm32_records[11].value2, 0);
	end("F3 AB rep stosl x4 (value: EDI - page)");
	pm32_check(12, 0xFFFFFF80, 4, WR, 0x60, 2);
	pm32_flags(12, logic_flags(0xFFFFFF80, 4), LOGIC_FLAGS);
	end("83 /1 or m32, imm8 (sign-extended)");
	pm32_check(13, pm32_records[13].value, 2, RD, 0x60, 1);
	pm32_flags(13, sub_flags(0xFF80, 0x1234, 2), SUB_FLAGS);
	end("66 81 /7 cmp m16, imm16");
	pm32_check(14, 0x0BADCAFE, 4, WR, 0x70, 1);
	end("64 A3 mov fs:moffs32, eax (FS base = page)");
	pm32_check(15, 0x600DF00D, 4, WR, 0x74, 1);
	end("64 89 mov fs:[disp32], r32");
	pm32_check(16, 0x12345678, 4, WR, 0x88, 1);
	end("64 67 89 mov fs:[bx+si+disp8], r32 (16-bit addressing)");
	pm32_check(17, 0xCAFEF00D, 1, RD, 0x13, 4);
	end("F3 A4 rep movsb x4 MMIO to RAM");
	pm32_check(18, pm32_records[18].value, 4, RD, 0x10, 1);
	pm32_flags(18, logic_flags(0x80000000, 4), LOGIC_FLAGS);
	end("F7 /0 test m32, imm32");
	pm32_check(19, 0, 4, WR, 0x10, 2);
	pm32_flags(19, logic_flags(0, 4), LOGIC_FLAGS);
	end("31 xor m32, r32 (x ^ x = 0)");
}

/* ------------------------------------------------------------------ main */

static void run_pass(const char *name, uint64_t page, const struct moffs_set *m, bool alias)
{
	pass = name;
	base = page;
	note("%s pass: page at 0x%lx", name, page);
	mov_stores();
	mov_loads();
	mov_immediates();
	extensions();
	moffs_forms(m);
	stos_forms();
	movs_forms();
	alu_memory_destination();
	alu_register_destination();
	alu_immediate();
	test_forms();
	cmp_forms();
	sib_forms();
	segment_forms();
	if (alias)
		rip_relative();
	else
		address_size_forms();
}

void guest_main(void)
{
	ram_mode = rt_arg("ram");
	if (ram_mode) {
		note("ram mode: checks run on a RAM page, the device log is not checked");
		ident = (uint64_t)(uintptr_t)mmio_ram_page;
		rt_map_alias(ident, false);
	} else {
		ident = TESTDEV_MMIO_BASE;
	}
	pm32_judge();
	run_pass("identity", ident, ram_mode ? &moffs_ram : &moffs_dev, false);
	run_pass("alias", RT_ALIAS_VA, &moffs_alias, true);
}
