/* irq: interrupt injection through the test device's IRQ_RAISE register.
 * Nothing arrives while IF = 0; the instruction after sti completes before
 * a pending interrupt (the STI shadow); sti; hlt with one pending wakes and
 * continues; raise then hlt with IF = 1 returns; 10,000 raise/receive
 * rounds over vectors 0x40-0x4F lose and duplicate nothing, and the
 * device's DELIVERED count agrees. Every handler checks that the
 * interrupted RFLAGS.IF was 1. Interrupts are injected straight into the
 * vCPU, so no EOI is written. Fails under plain QEMU (no test device).
 *
 * With the word "lapic" on the command line the interrupts come from
 * LAPIC self-IPIs instead (with an EOI each, and no DELIVERED check): that
 * validates the guest's own logic on any machine with an xAPIC. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define PORT(reg) ((uint16_t)(TESTDEV_PIO_BASE + (reg)))
#define VEC_FIRST 0x40
#define VEC_COUNT 16
#define ROUNDS 10000
#define QUIET_ITERS (1u << 22) /* the IF = 0 loop */
#define QUIET_EXIT_EVERY 1024  /* a port read (an exit under Keel) this often */
#define WAIT_LIMIT 1000000     /* polls before a raised interrupt counts as lost */
#define WAIT_EXIT_EVERY 64
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
#define MAX_REPORTS 5 /* per kind of failure inside the loop */
#define LAPIC_BASE 0xFEE00000ull
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_SPURIOUS 0xFF
#define LAPIC_IRR 0x200
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_SELF (1u << 18) /* destination shorthand: self */

const char rt_name[] = "irq";

static volatile uint32_t per_vector[256];
static volatile uint32_t total;
static volatile uint32_t if_clear; /* interrupts taken with RFLAGS.IF = 0 */
static volatile uint8_t last_vector;
static volatile uint64_t last_rip;
static volatile uint32_t flag, flag_seen;
static volatile uint32_t hlt_skipped;
static bool lapic_mode;

static volatile uint32_t *lapic(uint32_t reg)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

/* hlt instructions the handler may find itself interrupting just before
 * they run (the interrupt beat them): it resumes after them, so the guest
 * never sleeps with nothing left to wake it. The labels are in the asm
 * statements below. */
extern const char irq_hlt_raise[], irq_hlt_raise_lapic[];
extern const char irq_hlt_sti[], irq_after_sti_hlt[];
extern const char irq_after_shadow_mov[];

static void on_irq(struct rt_frame *f)
{
	per_vector[f->vector]++;
	total++;
	last_vector = (uint8_t)f->vector;
	last_rip = f->rip;
	flag_seen = flag;
	if (!(f->rflags & RFLAGS_IF))
		if_clear++;
	if (lapic_mode)
		*lapic(LAPIC_EOI) = 0;
	if (f->rip == (uint64_t)(uintptr_t)irq_hlt_raise ||
	    f->rip == (uint64_t)(uintptr_t)irq_hlt_raise_lapic ||
	    f->rip == (uint64_t)(uintptr_t)irq_hlt_sti) {
		f->rip++; /* hlt is one byte */
		hlt_skipped++;
	}
}

static void raise_irq(uint8_t v)
{
	if (lapic_mode)
		*lapic(LAPIC_ICR_LOW) = LAPIC_ICR_SELF | v;
	else
		outb(PORT(TESTDEV_IRQ_RAISE), v);
}

/* The lowest vector 0x40-0x4F still requested, or 0 (the device's IRQ_RAISE
 * read; the LAPIC's IRR in lapic mode). */
static uint8_t pending(void)
{
	if (!lapic_mode)
		return inb(PORT(TESTDEV_IRQ_RAISE));
	for (unsigned v = VEC_FIRST; v < VEC_FIRST + VEC_COUNT; v++) {
		if (*lapic(LAPIC_IRR + 0x10 * (v / 32)) & (1u << (v % 32)))
			return (uint8_t)v;
	}
	return 0;
}

/* Waits (bounded) until total moves past `before`. */
static bool wait_for(uint32_t before)
{
	for (uint32_t i = 0; i < WAIT_LIMIT; i++) {
		if (total != before)
			return true;
		if (i % WAIT_EXIT_EVERY == WAIT_EXIT_EVERY - 1)
			(void)pending();
		pause();
	}
	return total != before;
}

static bool device_present(void)
{
	uint8_t p;

	cli();
	raise_irq(VEC_FIRST);
	p = pending();
	return checkd(p == VEC_FIRST, "IRQ_RAISE reads back the vector raised with IF = 0",
		      "read 0x%02x (is the test device there?)", p);
}

/* Vector VEC_FIRST is pending from device_present(), IF = 0. */
static void quiet_while_masked(void)
{
	uint64_t x = 1;

	for (uint32_t i = 0; i < QUIET_ITERS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		if (i % QUIET_EXIT_EVERY == 0)
			x ^= pending();
	}
	checkd(total == 0, "nothing delivered during a long IF = 0 loop", "%u delivered (x %lx)",
	       total, x);
	check_eq(pending(), VEC_FIRST, "the vector is still pending after the IF = 0 loop");
	asm volatile("sti; nop; cli" : : : "memory");
	check_eq(total, 1, "sti delivers the pending vector");
	check_eq(last_vector, VEC_FIRST, "delivered vector is the one raised");
	check_eq(pending(), 0, "IRQ_RAISE reads 0 once the vector is delivered");
}

/* sti; mov: the mov completes before the pending interrupt is taken. */
static void sti_shadow(void)
{
	uint32_t before = total;

	flag = 0;
	flag_seen = 0xFFFFFFFF;
	raise_irq(VEC_FIRST + 1);
	asm volatile("sti\n\t"
		     "movl $1, %0\n"
		     ".globl irq_after_shadow_mov\n"
		     "irq_after_shadow_mov:\n\t"
		     "nop\n\t"
		     "cli"
		     : "=m"(flag)
		     :
		     : "memory");
	checkd(total == before + 1 && flag_seen == 1,
	       "STI shadow: the instruction after sti ran before the interrupt",
	       "delivered %u, handler saw flag %u", total - before, flag_seen);
	check_eq(last_rip, (uint64_t)(uintptr_t)irq_after_shadow_mov,
		 "STI shadow: interrupted RIP is right after the mov");
}

static void sti_hlt(void)
{
	uint32_t before = total, skipped = hlt_skipped;

	raise_irq(VEC_FIRST + 2);
	note("sti; hlt with vector 0x%x pending", VEC_FIRST + 2);
	asm volatile("sti\n"
		     ".globl irq_hlt_sti, irq_after_sti_hlt\n"
		     "irq_hlt_sti:\n\t"
		     "hlt\n"
		     "irq_after_sti_hlt:\n\t"
		     "cli"
		     :
		     :
		     : "memory");
	check_eq(total - before, 1, "sti; hlt with an interrupt pending wakes");
	checkd(hlt_skipped == skipped && last_rip == (uint64_t)(uintptr_t)irq_after_sti_hlt,
	       "sti; hlt: the interrupt came after hlt, not in the STI shadow",
	       "interrupted RIP 0x%lx, hlt at %p", last_rip, irq_hlt_sti);
}

static void raise_then_hlt(void)
{
	uint32_t before = total, skipped = hlt_skipped;

	note("raise vector 0x%x then hlt with IF = 1", VEC_FIRST + 3);
	/* The raise is the instruction right before hlt. */
	if (lapic_mode)
		asm volatile("sti\n\t"
			     "movl %%eax, (%%rdx)\n"
			     ".globl irq_hlt_raise_lapic\n"
			     "irq_hlt_raise_lapic:\n\t"
			     "hlt\n\t"
			     "cli"
			     :
			     : "a"(LAPIC_ICR_SELF | (VEC_FIRST + 3)), "d"(lapic(LAPIC_ICR_LOW))
			     : "memory");
	else
		asm volatile("sti\n\t"
			     "outb %%al, %%dx\n"
			     ".globl irq_hlt_raise\n"
			     "irq_hlt_raise:\n\t"
			     "hlt\n\t"
			     "cli"
			     :
			     : "a"(VEC_FIRST + 3), "d"(PORT(TESTDEV_IRQ_RAISE))
			     : "memory");
	check_eq(total - before, 1,
		 "raise then hlt with IF = 1: the interrupt arrives, hlt returns");
	note("the interrupt arrived %s", hlt_skipped != skipped ? "before hlt ran" : "during hlt");
}

static void rounds(void)
{
	uint32_t start = total, lost = 0, dup = 0, wrong = 0;
	uint32_t base_count[VEC_COUNT];
	bool per_ok = true;

	for (unsigned v = 0; v < VEC_COUNT; v++)
		base_count[v] = per_vector[VEC_FIRST + v];
	sti();
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint8_t v = (uint8_t)(VEC_FIRST + i % VEC_COUNT);
		uint32_t before = total;

		raise_irq(v);
		if (!wait_for(before)) {
			if (lost++ < MAX_REPORTS)
				note("round %u: vector 0x%x never arrived", i, v);
			continue;
		}
		if (total != before + 1 && dup++ < MAX_REPORTS)
			note("round %u: %u interrupts for one raise", i, total - before);
		if (last_vector != v && wrong++ < MAX_REPORTS)
			note("round %u: raised 0x%x, got 0x%x", i, v, last_vector);
	}
	cli();
	checkd(!lost && !dup && !wrong, "10000 raise/receive rounds over vectors 0x40-0x4F",
	       "%u lost, %u duplicated, %u wrong vector", lost, dup, wrong);
	for (unsigned v = 0; v < VEC_COUNT; v++)
		per_ok &= per_vector[VEC_FIRST + v] - base_count[v] == ROUNDS / VEC_COUNT;
	checkd(per_ok, "each vector 0x40-0x4F was received exactly 625 times in the rounds",
	       "vector 0x40 %u, 0x4F %u", per_vector[VEC_FIRST] - base_count[0],
	       per_vector[VEC_FIRST + VEC_COUNT - 1] - base_count[VEC_COUNT - 1]);
	check_eq(total - start, ROUNDS, "handler count for the rounds is 10000");
}

void guest_main(void)
{
	lapic_mode = rt_arg("lapic");
	if (lapic_mode) {
		note("lapic mode: interrupts are LAPIC self-IPIs, DELIVERED is not checked");
		*lapic(LAPIC_SVR) = LAPIC_SVR_ENABLE | LAPIC_SPURIOUS;
	}
	/* The firmware may have left the 8259s unmasked with its own vectors
	 * (SeaBIOS: timer on vector 8): mask them, only the test device
	 * should interrupt. */
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	for (unsigned v = 0; v < VEC_COUNT; v++)
		rt_set_irq(VEC_FIRST + v, on_irq);

	if (!device_present())
		return;
	quiet_while_masked();
	sti_shadow();
	sti_hlt();
	raise_then_hlt();
	rounds();
	check_eq(if_clear, 0, "no interrupt was taken with RFLAGS.IF = 0");
	if (!lapic_mode)
		check_eq(inl(PORT(TESTDEV_IRQ_DELIVERED)), total,
			 "IRQ_DELIVERED equals the interrupts the guest handled");
}
