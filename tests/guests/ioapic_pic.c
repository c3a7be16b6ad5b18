/* ioapic_pic: the IOAPIC and the 8259 pair, the way Linux's timer check
 * and its SCI use them.
 *
 *  - IOAPIC: version 0x1x/0x2x with at least 24 pins, the ID register
 *    matches the MADT, a redirection entry reads back.
 *  - PIT IRQ0 through the IOAPIC via the MADT override (IRQ0 -> GSI 2):
 *    PIT channel 0 at 1 kHz arrives on the routed vector, 20-110 times in
 *    100 ms (the rate itself is the timers guest's; QEMU drops ticks when
 *    its host thread is starved), nothing on pin 0, nothing once masked.
 *  - A level-triggered line with Remote IRR and EOI: COM1's THRE interrupt
 *    (IER.ETBEI with THR empty: asserted until IER is cleared) on its GSI,
 *    programmed level/active-high. With IF = 0 the delivery sets LAPIC IRR
 *    and TMR and the entry's Remote IRR; no second copy while Remote IRR is
 *    set; an EOI with the line still asserted delivers again; an EOI after
 *    the line drops clears Remote IRR for good. With an IOAPIC of version
 *    0x20 or later, its EOI register clears Remote IRR too.
 *  - The SCI, level-triggered: the PM timer's TMR_STS (set each time bit
 *    23 of the counter changes, every 2.34 s) with TMR_EN raises the SCI
 *    (FADT SCI_INT, routed with the MADT override's polarity and trigger;
 *    level/active-low without one, as ACPI defines the SCI); it stays
 *    asserted through an EOI until TMR_STS is written 1 to clear. ACPI
 *    mode is entered through SMI_CMD first if SCI_EN is clear. This check
 *    waits for the next bit-23 change, up to 2.34 s, halted (woken by the
 *    LAPIC timer every 5 ms, so an emulator skips the time); "nosci" on
 *    the command line skips it.
 *  - 8259: mask registers read back; ExtINT through LINT0: with the
 *    IOAPIC pin masked and LINT0 in ExtINT mode, PIT IRQ0 arrives with the
 *    8259's vector (base + 0), 8259 ISR bit 0 set in the handler and no
 *    LAPIC ISR bit; a masked IRQ0 is latched in the 8259 IRR but not
 *    delivered; a masked LINT0 delivers nothing; the RTC's IRQ8 arrives
 *    through the slave and the cascade with the slave's vector.
 * Passes under QEMU. Keel needs the MADT override, a PM timer with TMR_STS/
 * TMR_EN, and level-triggered lines through its IOAPIC model. Runs ~0.4 s
 * plus the SCI wait under QEMU. */
#include "pc.h"

#define PIC_BASE1 0x20
#define PIC_BASE2 0x28
#define VEC_PIT 0x30
#define VEC_PIN0 0x31
#define VEC_UART 0x34
#define VEC_SCI 0x39
#define VEC_PIC_IRQ0 (PIC_BASE1 + 0)
#define VEC_PIC_IRQ7 (PIC_BASE1 + 7)
#define VEC_PIC_IRQ8 (PIC_BASE2 + 0)
#define VEC_PIC_IRQ15 (PIC_BASE2 + 7)
#define VEC_RTE_TEST 0x99
#define IRQ_PIT 0
#define IRQ_COM1 4
#define IRQ_RTC 8
#define PIT_1KHZ 1193
#define PIT_WINDOW_MS 100
#define PIT_MIN 20 /* routing, not rate: a starved TCG host drops ticks */
#define PIT_MAX 110
#define QUIET_MS 20
#define DRAIN_MS 2 /* lets in what the LAPIC accepted before a mask */
#define EXTINT_MS 50
#define SHORT_MS 5
#define MIN_PINS 24
#define IOAPIC_VER_1X 0x10
#define IOAPIC_VER_2X 0x20
#define IOAPIC_VER_FAMILY 0xF0
#define IOAPIC_ID_SHIFT 24
#define IOAPIC_ID_MASK 0xF
#define RTE_RO_BITS (RTE_PENDING | RTE_REMOTE_IRR)
#define RTE_TEST_DEST 0x0Full
#define LEVEL_POLLS 100000u
#define IRQ_MASK_ALL 0xFFFF
#define IMR_PATTERN1 0xA5
#define IMR_PATTERN2 0x5A
#define UART_IER_THRI 0x02
#define UART_MCR_OUT2 0x08
#define SCI_EXTRA_MS 300
#define PMTMR_BIT23 (1u << 23)
#define PMTMR_LOW23 (PMTMR_BIT23 - 1)
#define MS_PER_S 1000
#define RTC_RATE_1024 0x06
#define RTC_A_DIV_32K 0x20

const char rt_name[] = "ioapic_pic";

static volatile uint32_t n_pit, n_pin0, n_pic0, n_pic8, n_spurious7, n_uart, n_sci;
static volatile uint16_t pic_isr_seen;
static volatile bool lapic_isr_seen;

static void on_pit(struct rt_frame *f)
{
	(void)f;
	n_pit++;
	pc_lapic_eoi();
}

static void on_pin0(struct rt_frame *f)
{
	(void)f;
	n_pin0++;
	pc_lapic_eoi();
}

/* ExtINT: acknowledged by the 8259, no LAPIC ISR bit, EOI to the 8259. */
static void on_pic0(struct rt_frame *f)
{
	(void)f;
	n_pic0++;
	pic_isr_seen = pc_pic_isr();
	lapic_isr_seen = pc_lapic_bit(LAPIC_ISR, VEC_PIC_IRQ0);
	outb(PIC1_CMD, PIC_EOI);
}

static void on_pic8(struct rt_frame *f)
{
	(void)f;
	n_pic8++;
	(void)pc_cmos_read(RTC_REG_C);
	outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

/* A spurious IRQ7/IRQ15 from the 8259: no EOI on the spurious chip. */
static void on_pic_spurious(struct rt_frame *f)
{
	n_spurious7++;
	if (f->vector == VEC_PIC_IRQ15)
		outb(PIC1_CMD, PIC_EOI);
}

static void wait_ms(uint64_t ms)
{
	sti();
	pc_tsc_wait(pc_ms(ms));
	cli();
}

/* ---------------------------------------------------------------- IOAPIC */

static void ioapic_basics(void)
{
	uint32_t ver = pc_ioapic_read(IOAPIC_REG_VER);
	uint8_t madt_id = 0;
	uint32_t gsi_base;
	unsigned pins = pc_ioapic_pins();
	unsigned pin = pins - 1;
	uint64_t want =
	    VEC_RTE_TEST | RTE_LEVEL | RTE_LOW | RTE_MASKED | RTE_TEST_DEST << RTE_DEST_SHIFT;
	uint64_t got;

	note("IOAPIC at 0x%lx, version 0x%x, %u pins", pc_ioapic_base(), ver, pins);
	pc_madt_ioapic(&gsi_base, &madt_id);
	checkd((ver & IOAPIC_VER_FAMILY) == IOAPIC_VER_1X ||
		   (ver & IOAPIC_VER_FAMILY) == IOAPIC_VER_2X,
	       "IOAPIC version is 0x1x or 0x2x", "0x%x", ver & IOAPIC_VER_MASK);
	checkd(pins >= MIN_PINS, "IOAPIC has at least 24 pins", "%u", pins);
	check_eq((pc_ioapic_read(IOAPIC_REG_ID) >> IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK, madt_id,
		 "IOAPIC ID register matches the MADT");
	check_eq(gsi_base, 0, "the IOAPIC's GSI base is 0");
	pc_ioapic_set_rte(pin, want);
	got = pc_ioapic_rte(pin);
	check_eq(got & ~RTE_RO_BITS, want, "a redirection entry reads back");
	pc_ioapic_set_rte(pin, RTE_MASKED);
}

static void pit_via_ioapic(void)
{
	uint32_t gsi;
	uint16_t flags;
	unsigned pin;
	uint32_t n;

	check(pc_madt_isa_irq(IRQ_PIT, &gsi, &flags) && gsi == 2,
	      "the MADT overrides IRQ0 to GSI 2");
	note("IRQ0: GSI %u, flags 0x%x", gsi, flags);
	pc_pit_program(0, PIT_MODE2, PIT_1KHZ);
	pc_ioapic_set_rte(0, VEC_PIN0 | (uint64_t)pc_lapic_id() << RTE_DEST_SHIFT);
	pin = pc_ioapic_route_isa(IRQ_PIT, VEC_PIT, false, false);
	wait_ms(PIT_WINDOW_MS);
	pc_ioapic_set_rte(pin, RTE_MASKED);
	pc_ioapic_set_rte(0, RTE_MASKED);
	n = n_pit;
	checkd(n >= PIT_MIN && n <= PIT_MAX,
	       "PIT IRQ0 at 1 kHz through the IOAPIC: 20-110 in 100 ms", "%u", n);
	check_eq(n_pin0, 0, "nothing arrives on IOAPIC pin 0");
	/* An interrupt the LAPIC accepted before the mask write is still
	 * taken (masking does not recall it): let it in, then count. */
	wait_ms(DRAIN_MS);
	n = n_pit;
	wait_ms(QUIET_MS);
	check_eq(n_pit, n, "a masked redirection entry delivers nothing");
}

/* ---------------------------------------------------------- level: COM1 */

static volatile bool uart_hold; /* leave the line asserted on the next delivery */
static volatile bool uart_irr_again;
static volatile uint64_t uart_rte_seen;
static unsigned uart_pin;

static void on_uart(struct rt_frame *f)
{
	(void)f;
	n_uart++;
	if (uart_hold) {
		/* The line stays asserted: the EOI must deliver it again. */
		uart_hold = false;
		for (unsigned i = 0; i < 1000; i++)
			(void)pc_lapic_read(LAPIC_PPR);
		uart_irr_again = pc_lapic_bit(LAPIC_IRR, VEC_UART);
		uart_rte_seen = pc_ioapic_rte(uart_pin);
	} else {
		outb(RT_COM1 + UART_IER, 0); /* the line drops */
	}
	pc_lapic_eoi();
}

static bool poll_irr(uint8_t v)
{
	for (uint32_t i = 0; i < LEVEL_POLLS; i++)
		if (pc_lapic_bit(LAPIC_IRR, v))
			return true;
	return false;
}

/* Nothing is printed while COM1's interrupt is live: output would move
 * THRE. Results are checked afterwards. */
static void level_uart(void)
{
	uint64_t rte_before, rte_after, rte_eoi = 0;
	uint32_t n_level, n_eoi = 0;
	bool irr, tmr, eoi_reg = false;
	uint32_t ver = pc_ioapic_read(IOAPIC_REG_VER) & IOAPIC_VER_MASK;
	bool has_eoir = (ver & IOAPIC_VER_FAMILY) >= IOAPIC_VER_2X;

	pc_uart_reset();
	outb(RT_COM1 + UART_MCR, inb(RT_COM1 + UART_MCR) | UART_MCR_OUT2);
	uart_pin = pc_ioapic_route_isa(IRQ_COM1, VEC_UART, true, true);
	uart_hold = true;
	outb(RT_COM1 + UART_IER, UART_IER_THRI);
	pc_ioapic_set_rte(uart_pin, pc_ioapic_rte(uart_pin) & ~RTE_MASKED);
	irr = poll_irr(VEC_UART);
	tmr = pc_lapic_bit(LAPIC_TMR, VEC_UART);
	rte_before = pc_ioapic_rte(uart_pin);
	sti();
	pc_tsc_wait(pc_ms(SHORT_MS));
	cli();
	rte_after = pc_ioapic_rte(uart_pin);
	n_level = n_uart;

	/* The IOAPIC's own EOI register (version 0x20 and later): deliver
	 * with IF = 0, drop the line, clear Remote IRR through the register;
	 * the copy in the LAPIC IRR is then taken once. */
	if (has_eoir) {
		uint32_t before = n_uart;

		outb(RT_COM1 + UART_IER, UART_IER_THRI);
		eoi_reg = poll_irr(VEC_UART) && (pc_ioapic_rte(uart_pin) & RTE_REMOTE_IRR);
		outb(RT_COM1 + UART_IER, 0);
		*(volatile uint32_t *)(uintptr_t)(pc_ioapic_base() + IOAPIC_EOIR) = VEC_UART;
		rte_eoi = pc_ioapic_rte(uart_pin);
		sti();
		pc_tsc_wait(pc_ms(SHORT_MS));
		cli();
		n_eoi = n_uart - before;
	}
	pc_ioapic_set_rte(uart_pin, RTE_MASKED);
	pc_uart_reset();

	check(irr, "level: the THRE interrupt reaches the LAPIC IRR with IF = 0");
	check(tmr, "level: the LAPIC TMR bit is set for a level-triggered vector");
	check(rte_before & RTE_REMOTE_IRR, "level: Remote IRR is set once delivered");
	check(uart_rte_seen & RTE_REMOTE_IRR, "level: Remote IRR is still set in the handler");
	check(!uart_irr_again, "level: no second copy while Remote IRR is set");
	check_eq(n_level, 2, "level: an EOI with the line still asserted delivers it again, once");
	check(!(rte_after & RTE_REMOTE_IRR),
	      "level: an EOI after the line dropped clears Remote IRR");
	if (has_eoir) {
		check(eoi_reg, "level: delivered with Remote IRR set (EOI register test)");
		check(!(rte_eoi & RTE_REMOTE_IRR),
		      "level: the IOAPIC EOI register clears Remote IRR");
		check_eq(n_eoi, 1, "level: after that, the pending copy is taken once");
	}
}

/* ------------------------------------------------------------ level: SCI */

static struct pc_fadt fadt;
static volatile uint32_t sci_pm_seen;
static volatile uint16_t sci_sts_seen;
static volatile uint64_t sci_rte_seen;
static unsigned sci_pin;

static uint16_t pm1_en_port(void)
{
	return (uint16_t)(fadt.pm1a_evt + fadt.pm1_evt_len / 2);
}

static void on_sci(struct rt_frame *f)
{
	(void)f;
	n_sci++;
	if (n_sci == 1) {
		sci_pm_seen = inl((uint16_t)fadt.pm_tmr);
		sci_sts_seen = inw((uint16_t)fadt.pm1a_evt);
		sci_rte_seen = pc_ioapic_rte(sci_pin);
	} else {
		outw((uint16_t)fadt.pm1a_evt, PM1_STS_TMR); /* write 1 to clear */
	}
	pc_lapic_eoi();
}

static void sci(void)
{
	uint32_t gsi, pm0, left;
	uint16_t flags;
	uint64_t rte;
	bool over;

	if (!check(pc_fadt(&fadt) && fadt.pm1a_evt && fadt.pm_tmr && fadt.sci,
		   "the FADT names the SCI, PM1a_EVT and the PM timer"))
		return;
	check(pc_acpi_enable(&fadt), "ACPI mode: SCI_EN is set");
	over = pc_madt_isa_irq((uint8_t)fadt.sci, &gsi, &flags);
	note("SCI: IRQ %u -> GSI %u, flags 0x%x%s", fadt.sci, gsi, flags,
	     over ? "" : " (no override: level, active low)");
	rte = VEC_SCI | RTE_MASKED | (uint64_t)pc_lapic_id() << RTE_DEST_SHIFT;
	if (!over || (flags & MADT_ISO_TRIG_MASK) == MADT_ISO_TRIG_LEVEL)
		rte |= RTE_LEVEL;
	if (!over || (flags & MADT_ISO_POL_MASK) == MADT_ISO_POL_LOW)
		rte |= RTE_LOW;
	sci_pin = gsi;
	check(rte & RTE_LEVEL, "the SCI is level-triggered");
	pc_ioapic_set_rte(sci_pin, rte);
	outw(pm1_en_port(), 0);
	outw((uint16_t)fadt.pm1a_evt, PM1_STS_TMR);
	check_eq(inw((uint16_t)fadt.pm1a_evt) & PM1_STS_TMR, 0, "TMR_STS clears when written 1");
	pc_ioapic_set_rte(sci_pin, rte & ~RTE_MASKED);
	pm0 = inl((uint16_t)fadt.pm_tmr);
	left = PMTMR_BIT23 - (pm0 & PMTMR_LOW23);
	note("waiting %u ms for PM timer bit 23 to change",
	     (uint32_t)((uint64_t)left * MS_PER_S / PC_PMTMR_HZ));
	outw(pm1_en_port(), PM1_EN_TMR);
	pc_idle_until(&n_sci, 2, (uint64_t)left * MS_PER_S / PC_PMTMR_HZ + SCI_EXTRA_MS);
	wait_ms(SHORT_MS);
	outw(pm1_en_port(), 0);
	pc_ioapic_set_rte(sci_pin, RTE_MASKED);
	if (!check(n_sci >= 1, "the SCI arrives when PM timer bit 23 changes"))
		return;
	check((sci_pm_seen ^ pm0) & PMTMR_BIT23, "SCI: PM timer bit 23 had changed");
	check(sci_sts_seen & PM1_STS_TMR, "SCI: TMR_STS is set in the handler");
	check(sci_rte_seen & RTE_REMOTE_IRR, "SCI: Remote IRR is set in the handler");
	check_eq(n_sci, 2, "SCI: still asserted after an EOI, quiet once TMR_STS is cleared");
	check(!(pc_ioapic_rte(sci_pin) & RTE_REMOTE_IRR), "SCI: Remote IRR is clear at the end");
}

/* ------------------------------------------------------------------ 8259 */

static void pic_masks(void)
{
	outb(PIC1_DATA, IMR_PATTERN1);
	outb(PIC2_DATA, IMR_PATTERN2);
	check_eq(inb(PIC1_DATA), IMR_PATTERN1, "master 8259 mask register reads back");
	check_eq(inb(PIC2_DATA), IMR_PATTERN2, "slave 8259 mask register reads back");
	pc_pic_mask(IRQ_MASK_ALL);
}

static void extint(void)
{
	uint32_t n;

	pc_pit_program(0, PIT_MODE2, PIT_1KHZ);
	pc_lapic_write(LAPIC_LVT_LINT0, LVT_DM_EXTINT);
	pc_pic_mask((uint16_t) ~(1u << IRQ_PIT));
	wait_ms(EXTINT_MS);
	pc_pic_mask(IRQ_MASK_ALL);
	n = n_pic0;
	checkd(n >= EXTINT_MS * PIT_MIN / PIT_WINDOW_MS, "ExtINT through LINT0: PIT IRQ0 arrives",
	       "%u in 50 ms", n);
	check(pic_isr_seen & (1u << IRQ_PIT), "ExtINT: 8259 ISR bit 0 is set in the handler");
	check(!lapic_isr_seen, "ExtINT: no LAPIC ISR bit for the 8259's vector");
	check_eq(pc_pic_isr(), 0, "ExtINT: the 8259 EOI clears ISR");
	wait_ms(SHORT_MS);
	check_eq(n_pic0, n, "a masked 8259 IRQ0 is not delivered");
	check(pc_pic_irr() & (1u << IRQ_PIT), "a masked IRQ0 is latched in the 8259 IRR");

	pc_lapic_write(LAPIC_LVT_LINT0, LVT_DM_EXTINT | LVT_MASKED);
	pc_pic_mask((uint16_t) ~(1u << IRQ_PIT));
	wait_ms(SHORT_MS);
	pc_pic_mask(IRQ_MASK_ALL);
	check_eq(n_pic0, n, "a masked LINT0 delivers nothing");
	pc_pit_program(0, PIT_MODE0, 0); /* one last edge, then quiet */

	pc_lapic_write(LAPIC_LVT_LINT0, LVT_DM_EXTINT);
	pc_cmos_write(RTC_REG_A, RTC_A_DIV_32K | RTC_RATE_1024);
	pc_cmos_write(RTC_REG_B, (uint8_t)(pc_cmos_read(RTC_REG_B) | RTC_B_PIE));
	(void)pc_cmos_read(RTC_REG_C);
	pc_pic_mask((uint16_t) ~(1u << IRQ_RTC | 1u << PIC_CASCADE_IRQ));
	wait_ms(QUIET_MS);
	pc_pic_mask(IRQ_MASK_ALL);
	pc_cmos_write(RTC_REG_B, (uint8_t)(pc_cmos_read(RTC_REG_B) & ~RTC_B_PIE));
	(void)pc_cmos_read(RTC_REG_C);
	checkd(n_pic8 > 0, "RTC IRQ8 arrives through the slave 8259 and the cascade", "%u in 20 ms",
	       n_pic8);
	pc_lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	if (n_spurious7)
		note("%u spurious 8259 interrupts", n_spurious7);
}

void guest_main(void)
{
	pc_pic_init(PIC_BASE1, PIC_BASE2);
	pc_lapic_enable();
	pc_ioapic_init();
	pc_ioapic_mask_all();
	rt_set_irq(VEC_PIT, on_pit);
	rt_set_irq(VEC_PIN0, on_pin0);
	rt_set_irq(VEC_UART, on_uart);
	rt_set_irq(VEC_SCI, on_sci);
	rt_set_irq(VEC_PIC_IRQ0, on_pic0);
	rt_set_irq(VEC_PIC_IRQ8, on_pic8);
	rt_set_irq(VEC_PIC_IRQ7, on_pic_spurious);
	rt_set_irq(VEC_PIC_IRQ15, on_pic_spurious);
	if (!check(pc_tsc_hz(), "a TSC rate to time the waits"))
		return;
	ioapic_basics();
	pit_via_ioapic();
	level_uart();
	pic_masks();
	extint();
	if (rt_arg("nosci"))
		note("nosci: the SCI check is skipped");
	else
		sci();
	pc_pit_program(0, PIT_MODE0, 0);
}
