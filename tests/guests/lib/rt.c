/* Test-guest runtime: start-up in long mode, descriptor tables, exception
 * and interrupt dispatch, the report API and the verdict. */
#include "rt.h"

#include "../../../kernel/vdev/testdev_abi.h"

#define IDT_VECTORS 256
#define EXC_VECTORS 32
#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate */
#define IST_ABORTS 1	    /* TSS IST slot for NMI, #DF, #MC */
#define TSS_TYPE_AVAIL 0x89 /* present, DPL 0, available 64-bit TSS */
#define TSS_IOPB_NONE 0xFFFF
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PAGE_MASK 0xFFFull
#define VEC_NMI 2
#define VEC_DF 8
#define VEC_MC 18
#define UART_LSR 5
#define LSR_THRE 0x20
#define UART_SPIN_LIMIT 100000

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

struct tss64 {
	uint32_t res0;
	uint64_t rsp[3];
	uint64_t res1;
	uint64_t ist[7];
	uint64_t res2;
	uint16_t res3;
	uint16_t iopb;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* From lib/entry.S and lib/isr.S. */
extern uint64_t rt_gdt[RT_GDT_ENTRIES];
extern uint64_t rt_pt_alias[512];
extern const uint64_t rt_isr_stubs[IDT_VECTORS];
extern uint8_t rt_ist_stack_top[];
extern uint64_t rt_try_rsp;
extern struct rt_trap *rt_try_trap;
extern void rt_try_resume(void);
void rt_main(uint32_t mbi_phys);
void rt_isr(struct rt_frame *f);

const struct mb_info *rt_mbi;

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static rt_irq_fn irq_handlers[IDT_VECTORS];
static unsigned failures, checks;
static unsigned isr_depth;

/* ---------------------------------------------------------------- output */

void rt_putc(char c)
{
	/* Bounded wait: a UART model that never reports THRE must not hang
	 * the guest; the byte is written anyway. */
	for (unsigned i = 0; i < UART_SPIN_LIMIT; i++) {
		if (inb(RT_COM1 + UART_LSR) & LSR_THRE)
			break;
		pause();
	}
	outb(RT_COM1, (uint8_t)c);
}

void rt_puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			rt_putc('\r');
		rt_putc(*s++);
	}
}

static void serial_init(void)
{
	outb(RT_COM1 + 1, 0x00); /* IER: no interrupts */
	outb(RT_COM1 + 3, 0x80); /* LCR: DLAB */
	outb(RT_COM1 + 0, 0x01); /* DLL: 115200 baud */
	outb(RT_COM1 + 1, 0x00); /* DLM */
	outb(RT_COM1 + 3, 0x03); /* LCR: 8N1 */
	outb(RT_COM1 + 2, 0x07); /* FCR: enable and clear FIFOs */
	outb(RT_COM1 + 4, 0x03); /* MCR: DTR, RTS */
}

/* ---------------------------------------------------------------- report */

bool check(bool cond, const char *what)
{
	return checkd(cond, what, NULL);
}

bool checkd(bool cond, const char *what, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (cond) {
		rt_printf("ok - %s\n", what);
		return true;
	}
	failures++;
	rt_printf("not ok - %s", what);
	if (fmt) {
		rt_puts(": ");
		va_start(ap, fmt);
		rt_vprintf(fmt, ap);
		va_end(ap);
	}
	rt_puts("\n");
	return false;
}

bool check_eq(uint64_t got, uint64_t want, const char *what)
{
	return checkd(got == want, what, "got 0x%lx, want 0x%lx", got, want);
}

void note(const char *fmt, ...)
{
	va_list ap;

	rt_puts("# ");
	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
	rt_puts("\n");
}

unsigned rt_failures(void)
{
	return failures;
}

void rt_exit(uint32_t code)
{
	/* imm8 port form on purpose: every guest exercises it. */
	asm volatile("outl %0, %1" : : "a"(code), "i"(DEBUG_EXIT_PORT));
	for (;;)
		asm volatile("cli; hlt");
}

void rt_finish(void)
{
	if (failures == 0) {
		rt_printf("PASS %s (%u checks)\n", rt_name, checks);
		rt_exit(0);
	}
	rt_printf("FAIL %s (%u failed)\n", rt_name, failures);
	rt_exit(1);
}

/* ---------------------------------------------------------------- tables */

static void set_gate(unsigned v, uint64_t handler, uint8_t ist)
{
	idt[v] = (struct idt_gate){
	    .off_lo = (uint16_t)handler,
	    .sel = SEL_CODE64,
	    .ist = ist,
	    .type = GATE_INTERRUPT,
	    .off_mid = (uint16_t)(handler >> 16),
	    .off_hi = (uint32_t)(handler >> 32),
	};
}

static void load_idt(uint16_t limit)
{
	struct desc_ptr p = {.limit = limit, .base = (uint64_t)(uintptr_t)idt};

	asm volatile("lidt %0" : : "m"(p) : "memory");
}

void rt_load_idt_limit(uint16_t limit)
{
	load_idt(limit);
}

/* A long-mode TSS only to give NMI, #DF and #MC a known-good stack. */
static void load_tss(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	unsigned slot = SEL_TSS / 8;

	tss.ist[IST_ABORTS - 1] = (uint64_t)(uintptr_t)rt_ist_stack_top;
	tss.iopb = TSS_IOPB_NONE;
	rt_gdt[slot] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		       ((uint64_t)TSS_TYPE_AVAIL << 40) | (((limit >> 16) & 0xF) << 48) |
		       (((base >> 24) & 0xFF) << 56);
	rt_gdt[slot + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
}

static void init_idt(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		bool abort = v == VEC_NMI || v == VEC_DF || v == VEC_MC;
		set_gate(v, rt_isr_stubs[v], abort ? IST_ABORTS : 0);
	}
	load_idt(sizeof(idt) - 1);
}

void rt_set_irq(uint8_t vector, rt_irq_fn fn)
{
	irq_handlers[vector] = fn;
}

void rt_map_alias(uint64_t phys, bool uncached)
{
	rt_pt_alias[0] = (phys & ~PAGE_MASK) | PTE_P | PTE_RW | (uncached ? PTE_PCD | PTE_PWT : 0);
	invlpg(RT_ALIAS_VA);
}

/* ------------------------------------------------------------ exceptions */

const char *rt_vector_name(uint64_t v)
{
	static const char *const names[EXC_VECTORS] = {
	    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	    "#NP", "#SS", "#GP", "#PF", "v15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	    "v22", "v23", "v24", "v25", "v26", "v27", "#HV", "#VC", "#SX", "v31",
	};

	return v < EXC_VECTORS ? names[v] : "IRQ";
}

static void dump_frame(const struct rt_frame *f, uint64_t cr2)
{
	rt_printf("# vector %lu (%s) error 0x%lx rip 0x%lx cs 0x%lx rflags 0x%lx\n", f->vector,
		  rt_vector_name(f->vector), f->error, f->rip, f->cs, f->rflags);
	rt_printf("# rsp 0x%lx ss 0x%lx cr2 0x%lx\n", f->rsp, f->ss, cr2);
	rt_printf("# rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx,
		  f->rdx);
	rt_printf("# rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	rt_printf("# r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
	rt_printf("# r13 %016lx r14 %016lx r15 %016lx\n", f->r13, f->r14, f->r15);
}

static bool recoverable(uint64_t v)
{
	return v < EXC_VECTORS && v != VEC_NMI && v != VEC_DF && v != VEC_MC;
}

void rt_isr(struct rt_frame *f)
{
	uint64_t cr2 = read_cr2();
	rt_irq_fn fn = f->vector < IDT_VECTORS ? irq_handlers[f->vector] : NULL;

	if (f->vector >= EXC_VECTORS && fn) {
		fn(f);
		return;
	}
	if (recoverable(f->vector) && rt_try_trap) {
		*rt_try_trap = (struct rt_trap){
		    .vector = f->vector, .error = f->error, .rip = f->rip, .cr2 = cr2};
		rt_try_trap = NULL;
		f->rip = (uint64_t)(uintptr_t)rt_try_resume;
		f->rsp = rt_try_rsp;
		return;
	}
	/* A fault while reporting a fault: report nothing more, just stop. */
	if (isr_depth++) {
		rt_puts("FAIL: exception while handling an exception\n");
		rt_exit(1);
	}
	failures++;
	rt_printf("not ok - unexpected %s %s (vector %lu) at rip 0x%lx\n",
		  f->vector < EXC_VECTORS ? "exception" : "interrupt", rt_vector_name(f->vector),
		  f->vector, f->rip);
	dump_frame(f, cr2);
	rt_finish();
}

/* ---------------------------------------------------------------- fw_cfg */

void rt_fwcfg_read(uint16_t key, void *buf, size_t len)
{
	uint8_t *p = buf;

	outw(FW_CFG_PORT_SEL, key);
	for (size_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_PORT_DATA);
}

/* ------------------------------------------------------------------- MSRs */

struct msr_op {
	uint32_t msr;
	uint64_t val;
};

static void do_rdmsr(void *arg)
{
	struct msr_op *op = arg;

	op->val = rdmsr(op->msr);
}

static void do_wrmsr(void *arg)
{
	struct msr_op *op = arg;

	wrmsr(op->msr, op->val);
}

bool rdmsr_safe(uint32_t msr, uint64_t *val, struct rt_trap *trap)
{
	struct msr_op op = {.msr = msr};
	struct rt_trap t;

	if (rt_try(do_rdmsr, &op, &t)) {
		if (trap)
			*trap = t;
		return false;
	}
	*val = op.val;
	return true;
}

bool wrmsr_safe(uint32_t msr, uint64_t val, struct rt_trap *trap)
{
	struct msr_op op = {.msr = msr, .val = val};
	struct rt_trap t;

	if (rt_try(do_wrmsr, &op, &t)) {
		if (trap)
			*trap = t;
		return false;
	}
	return true;
}

/* --------------------------------------------------------------- cmdline */

/* The mbi is the loader's: only trust what the flags promise, and never
 * walk more than a bounded number of bytes. */
#define CMDLINE_MAX 4096

const char *rt_cmdline(void)
{
	if (!rt_mbi || !(rt_mbi->flags & MBI_FLAG_CMDLINE) || !rt_mbi->cmdline)
		return "";
	return (const char *)(uintptr_t)rt_mbi->cmdline;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

bool rt_arg(const char *word)
{
	const char *s = rt_cmdline();
	size_t n = strlen(word);
	size_t i = 0;

	while (i < CMDLINE_MAX && s[i]) {
		size_t start;
		while (i < CMDLINE_MAX && is_space(s[i]))
			i++;
		start = i;
		while (i < CMDLINE_MAX && s[i] && !is_space(s[i]))
			i++;
		if (i - start == n && memcmp(s + start, word, n) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ start */

void rt_main(uint32_t mbi_phys)
{
	rt_mbi = (const struct mb_info *)(uintptr_t)mbi_phys;
	serial_init();
	load_tss();
	init_idt();
	rt_map_alias(TESTDEV_MMIO_BASE, true);
	rt_printf("# guest %s: start\n", rt_name);
	guest_main();
	rt_finish();
}
