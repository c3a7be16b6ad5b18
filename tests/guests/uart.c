/* uart: the 16550A on COM1 (the console: results of the parts that take
 * it over are kept and printed afterwards).
 *
 *  - Registers: scratch, IER (low nibble) and LCR read back; with DLAB the
 *    divisor latch reads back; IIR says "no interrupt" and, with FIFOs on,
 *    has bits 7:6 set (16550A).
 *  - Loopback (MCR bit 4): MSR's top nibble follows MCR (DTR->DSR, RTS->CTS,
 *    OUT1->RI, OUT2->DCD); 16 bytes through the FIFO come back in order and
 *    DR clears after the last; FIFOs off, a second byte overruns the first
 *    (LSR.OE, cleared by the LSR read, RBR holds the second); FIFOs on, a
 *    17th byte overruns a full FIFO (OE, 16 bytes kept).
 *  - Receive interrupts, identified through IIR in loopback (the IOAPIC pin
 *    masked): trigger level 1, one byte says "received data" (0x04) and
 *    reading RBR ends it; trigger level 4, one byte times out (0x0C), four
 *    bytes say received data; received data is reported before THRE, and
 *    THRE ends when IIR is read while it says so.
 *    Keel-only: in loopback no interrupt reaches the CPU even with OUT2
 *    set (loopback forces the modem outputs, OUT2 included, inactive, and a
 *    PC gates the IRQ with OUT2); QEMU does not model that gate.
 *    "uart rx" on the command line: prints "uart: type a line" and waits
 *    up to 30 s for a line (ended by CR or LF) typed on the console to
 *    arrive through receive interrupts (trigger level 8 with the timeout,
 *    as Linux sets it), for a harness that types; the only delivered
 *    receive-interrupt check, since loopback cannot deliver one.
 *  - THRE interrupts (normal mode, OUT2 set): setting IER.ETBEI with THR
 *    empty raises THRE at once (what Linux's console needs); a comment line
 *    is then sent one byte per THRE interrupt, each with IIR 0x02; turning
 *    ETBEI off and on again raises THRE again.
 * Passes under QEMU. Runs ~0.2 s (plus the typing with "rx"). */
#include "pc.h"

#define VEC_UART 0x34
#define IRQ_COM1 4
#define SCR_A 0x55
#define SCR_B 0xAA
#define IER_ALL 0x0F
#define IER_RDI 0x01
#define IER_THRI 0x02
#define LCR_DLAB 0x80
#define LCR_TEST 0x1B /* 8 bits, 2 stop, even parity */
#define LCR_8N1 0x03
#define DIV_TEST 0x0C
#define DIV_115200 1
#define FCR_ON 0x07	  /* enable, clear both FIFOs, trigger 1 */
#define FCR_ON_TRIG4 0x47 /* trigger level 4 */
#define FCR_ON_TRIG8 0x87 /* trigger level 8 */
#define FCR_OFF 0x00
#define IIR_NONE 0x01
#define IIR_ID_MASK 0x0F
#define IIR_FIFO_BITS 0xC0
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_TIMEOUT 0x0C
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_LINES 0xF0
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_TEMT 0x40
#define FIFO_LEN 16
#define POLLS 200000u
#define IRQ_WAIT_MS 20
#define SEND_WAIT_MS 200
#define RX_WAIT_MS 30000
#define MAX_LATER 40
#define MAX_IIR 64

const char rt_name[] = "uart";

static const char thre_line[] = "# uart: this line was sent by THRE interrupts\r\n";

struct later {
	bool ok;
	const char *what;
	uint64_t got, want;
};
static struct later results[MAX_LATER];
static unsigned n_results;

static volatile uint32_t n_irq;
static volatile uint8_t iir_seen[MAX_IIR];
static volatile uint8_t rx_seen[MAX_IIR];
static volatile unsigned n_rx;
static volatile bool thre_mode;
static volatile bool rx_line, line_done;
static volatile unsigned thre_pos;

static uint16_t reg(unsigned r)
{
	return (uint16_t)(RT_COM1 + r);
}

/* A check whose line is printed once COM1 is the console again. */
static void later_eq(uint64_t got, uint64_t want, const char *what)
{
	if (n_results < MAX_LATER)
		results[n_results++] = (struct later){got == want, what, got, want};
}

static void print_later(void)
{
	for (unsigned i = 0; i < n_results; i++)
		check_eq(results[i].got, results[i].want, results[i].what);
	n_results = 0;
}

/* Every LSR bit seen since the last lsr() call: reading LSR clears OE, so
 * polls must not lose it. */
static uint8_t lsr_seen;

static uint8_t lsr(void)
{
	uint8_t v = lsr_seen | inb(reg(UART_LSR));

	lsr_seen = 0;
	return v;
}

static bool wait_lsr(uint8_t bits)
{
	for (uint32_t i = 0; i < POLLS; i++) {
		uint8_t v = inb(reg(UART_LSR));

		lsr_seen |= v;
		if ((v & bits) == bits)
			return true;
	}
	return false;
}

static void on_uart(struct rt_frame *f)
{
	uint8_t iir = inb(reg(UART_IIR));

	(void)f;
	if (n_irq < MAX_IIR)
		iir_seen[n_irq] = iir;
	n_irq++;
	if (thre_mode) {
		if ((iir & IIR_ID_MASK) == IIR_THRE && thre_line[thre_pos])
			outb(reg(UART_THR), (uint8_t)thre_line[thre_pos++]);
		else if ((iir & IIR_ID_MASK) == IIR_THRE)
			outb(reg(UART_IER), 0);
	} else {
		while (inb(reg(UART_LSR)) & LSR_DR) {
			uint8_t b = inb(reg(UART_RBR));
			if (n_rx < MAX_IIR)
				rx_seen[n_rx] = b;
			n_rx++;
			if (rx_line && (b == '\r' || b == '\n' || n_rx >= MAX_IIR))
				line_done = true;
		}
	}
	pc_lapic_eoi();
}

static void registers(void)
{
	uint8_t a, b;

	outb(reg(UART_SCR), SCR_A);
	a = inb(reg(UART_SCR));
	outb(reg(UART_SCR), SCR_B);
	b = inb(reg(UART_SCR));
	check(a == SCR_A && b == SCR_B, "scratch register reads back");
	outb(reg(UART_IER), IER_ALL);
	a = inb(reg(UART_IER));
	outb(reg(UART_IER), 0);
	check_eq(a, IER_ALL, "IER reads back");
	check_eq(inb(reg(UART_IIR)) & (IIR_FIFO_BITS | IIR_ID_MASK), IIR_FIFO_BITS | IIR_NONE,
		 "IIR: no interrupt, FIFOs enabled (16550A)");

	/* Console output is off while LCR and the divisor change. */
	outb(reg(UART_LCR), LCR_TEST);
	later_eq(inb(reg(UART_LCR)), LCR_TEST, "LCR reads back");
	outb(reg(UART_LCR), LCR_DLAB | LCR_8N1);
	outb(reg(UART_DLL), DIV_TEST);
	outb(reg(UART_DLM), 0);
	later_eq(inb(reg(UART_DLL)) | inb(reg(UART_DLM)) << 8, DIV_TEST,
		 "the divisor latch reads back with DLAB");
	outb(reg(UART_DLL), DIV_115200);
	outb(reg(UART_LCR), LCR_8N1);
	print_later();
}

static void msr_lines(void)
{
	static const struct {
		uint8_t mcr, msr;
		const char *what;
	} map[] = {
	    {MCR_DTR, MSR_DSR, "loopback: DTR shows as DSR"},
	    {MCR_RTS, MSR_CTS, "loopback: RTS shows as CTS"},
	    {MCR_OUT1, MSR_RI, "loopback: OUT1 shows as RI"},
	    {MCR_OUT2, MSR_DCD, "loopback: OUT2 shows as DCD"},
	    {0, 0, "loopback: no output, no input"},
	};

	wait_lsr(LSR_TEMT); /* console output out of the shift register first */
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
		outb(reg(UART_MCR), MCR_LOOP | map[i].mcr);
		later_eq(inb(reg(UART_MSR)) & MSR_LINES, map[i].msr, map[i].what);
	}
}

static unsigned drain(uint8_t *buf, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < POLLS && (inb(reg(UART_LSR)) & LSR_DR); i++) {
		uint8_t b = inb(reg(UART_RBR));
		if (n < max)
			buf[n] = b;
		n++;
	}
	return n;
}

static void loop_data(void)
{
	uint8_t buf[FIFO_LEN + 4];
	unsigned n;
	bool in_order = true;
	uint8_t v;

	outb(reg(UART_FCR), FCR_ON);
	outb(reg(UART_MCR), MCR_LOOP);
	for (unsigned i = 0; i < FIFO_LEN; i++)
		outb(reg(UART_THR), (uint8_t)('A' + i));
	wait_lsr(LSR_TEMT);
	wait_lsr(LSR_DR);
	n = drain(buf, sizeof(buf));
	for (unsigned i = 0; i < FIFO_LEN && i < n; i++)
		in_order &= buf[i] == 'A' + i;
	later_eq(n, FIFO_LEN, "loopback: 16 bytes come back");
	later_eq(in_order, 1, "loopback: in order");
	later_eq(inb(reg(UART_LSR)) & LSR_DR, 0, "loopback: DR clears after the last byte");

	outb(reg(UART_FCR), FCR_OFF);
	(void)lsr();
	outb(reg(UART_THR), 'x');
	wait_lsr(LSR_TEMT);
	outb(reg(UART_THR), 'y');
	wait_lsr(LSR_TEMT);
	v = lsr();
	later_eq(v & (LSR_OE | LSR_DR), LSR_OE | LSR_DR,
		 "FIFOs off: a second byte overruns the first (OE)");
	later_eq(inb(reg(UART_RBR)), 'y', "FIFOs off: RBR holds the second byte");
	later_eq(inb(reg(UART_LSR)) & LSR_OE, 0, "reading LSR clears OE");

	outb(reg(UART_FCR), FCR_ON);
	(void)lsr();
	for (unsigned i = 0; i <= FIFO_LEN; i++) {
		outb(reg(UART_THR), (uint8_t)('a' + i));
		wait_lsr(LSR_TEMT);
	}
	v = lsr();
	n = drain(buf, sizeof(buf));
	later_eq(v & LSR_OE, LSR_OE, "FIFOs on: a 17th byte overruns a full FIFO (OE)");
	later_eq(n, FIFO_LEN, "FIFOs on: the FIFO keeps 16 bytes");
	later_eq(buf[0] == 'a' && buf[FIFO_LEN - 1] == 'a' + FIFO_LEN - 1, 1,
		 "FIFOs on: the first 16 bytes are kept");
}

static void wait_irq(uint32_t want, uint64_t ms)
{
	uint64_t t0 = pc_rdtsc(), limit = pc_ms(ms);

	sti();
	while (n_irq < want && pc_rdtsc() - t0 < limit)
		pause();
	cli();
}

/* Polls IIR (bounded) until its identification reads `id`; returns the
 * last value read. */
static uint8_t wait_iir(uint8_t id)
{
	uint8_t v = 0;

	for (uint32_t i = 0; i < POLLS; i++) {
		v = inb(reg(UART_IIR));
		if ((v & IIR_ID_MASK) == id)
			break;
	}
	return v;
}

/* Receive interrupts identified through IIR in loopback, with the IOAPIC
 * pin masked: on a PC the IRQ line is gated off in loopback (OUT2 is forced
 * inactive), so delivery is checked elsewhere (THRE below, "uart rx"). */
static void rx_ident(void)
{
	uint8_t id, b;

	outb(reg(UART_FCR), FCR_ON);
	outb(reg(UART_MCR), MCR_LOOP);
	outb(reg(UART_IER), IER_RDI);
	later_eq(inb(reg(UART_IIR)) & IIR_ID_MASK, IIR_NONE,
		 "receive: IIR idle with ERBFI, no data");
	outb(reg(UART_THR), 'r');
	later_eq(wait_iir(IIR_RDA) & IIR_ID_MASK, IIR_RDA,
		 "receive: one byte at trigger level 1 says received data (IIR 0x04)");
	b = inb(reg(UART_RBR));
	later_eq(b, 'r', "receive: RBR has the byte");
	later_eq(inb(reg(UART_IIR)) & IIR_ID_MASK, IIR_NONE, "receive: reading RBR ends it");

	outb(reg(UART_FCR), FCR_ON_TRIG4);
	outb(reg(UART_THR), 't');
	id = wait_iir(IIR_TIMEOUT) & IIR_ID_MASK;
	later_eq(id, IIR_TIMEOUT, "receive: one byte below trigger level 4 times out (IIR 0x0C)");
	later_eq(inb(reg(UART_RBR)), 't', "receive: RBR has that byte");
	later_eq(inb(reg(UART_IIR)) & IIR_ID_MASK, IIR_NONE,
		 "receive: reading RBR ends the timeout");

	outb(reg(UART_IER), 0);
	for (unsigned i = 0; i < 4; i++)
		outb(reg(UART_THR), (uint8_t)('0' + i));
	wait_lsr(LSR_TEMT);
	outb(reg(UART_IER), IER_RDI);
	later_eq(wait_iir(IIR_RDA) & IIR_ID_MASK, IIR_RDA,
		 "receive: four bytes at trigger level 4 say received data");
	later_eq(drain((uint8_t[FIFO_LEN]){0}, FIFO_LEN), 4, "receive: the four bytes are there");

	outb(reg(UART_FCR), FCR_ON);
	outb(reg(UART_IER), IER_RDI | IER_THRI);
	outb(reg(UART_THR), 'p');
	wait_lsr(LSR_TEMT | LSR_DR);
	later_eq(inb(reg(UART_IIR)) & IIR_ID_MASK, IIR_RDA,
		 "priority: received data is reported before THRE");
	(void)inb(reg(UART_RBR));
	later_eq(inb(reg(UART_IIR)) & IIR_ID_MASK, IIR_THRE, "priority: then THRE");
	later_eq(inb(reg(UART_IIR)) & IIR_ID_MASK, IIR_NONE, "reading IIR that says THRE ends it");
	outb(reg(UART_IER), 0);
}

/* Keel-only: loopback keeps the IRQ line low even with OUT2 set and a
 * receive interrupt pending (16550 data sheet: loopback forces the modem
 * outputs inactive; a PC gates the IRQ with OUT2). QEMU delivers it. */
static void loop_gate(unsigned pin)
{
	n_irq = n_rx = 0;
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) & ~RTE_MASKED);
	outb(reg(UART_FCR), FCR_ON);
	outb(reg(UART_MCR), MCR_LOOP | MCR_OUT2);
	outb(reg(UART_IER), IER_RDI);
	outb(reg(UART_THR), 'g');
	wait_irq(1, IRQ_WAIT_MS);
	later_eq(n_irq, 0, "on Keel: no interrupt reaches the CPU in loopback (OUT2 forced off)");
	outb(reg(UART_IER), 0);
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) | RTE_MASKED);
	(void)drain((uint8_t[FIFO_LEN]){0}, FIFO_LEN);
}

/* "uart rx": a line typed on the console arrives through receive
 * interrupts (trigger level 8 with the character timeout, like Linux). */
static void rx_console(unsigned pin)
{
	uint64_t t0;
	bool done;

	pc_uart_reset();
	outb(reg(UART_FCR), FCR_ON_TRIG8);
	outb(reg(UART_MCR), MCR_DTR | MCR_RTS | MCR_OUT2);
	n_irq = n_rx = 0;
	rx_line = true;
	rt_puts("uart: type a line\n");
	wait_lsr(LSR_TEMT);
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) & ~RTE_MASKED);
	outb(reg(UART_IER), IER_RDI);
	t0 = pc_rdtsc();
	sti();
	while (!line_done && pc_rdtsc() - t0 < pc_ms(RX_WAIT_MS))
		pause();
	cli();
	done = line_done;
	outb(reg(UART_IER), 0);
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) | RTE_MASKED);
	rx_line = false;
	note("received %u bytes in %u interrupts", n_rx, n_irq);
	if (!check(done, "rx: a line arrives through receive interrupts within 30 s"))
		return;
	rx_seen[n_rx < MAX_IIR ? n_rx - 1 : MAX_IIR - 1] = 0;
	note("the line: \"%s\"", (const char *)rx_seen);
	check(n_irq >= 1 && n_irq <= n_rx, "rx: at most one interrupt per byte, at least one");
}

static void thre_irqs(void)
{
	uint64_t t0 = pc_rdtsc();
	unsigned len = sizeof(thre_line) - 1;
	bool all_thre = true;
	uint32_t n;

	outb(reg(UART_FCR), FCR_ON);
	outb(reg(UART_MCR), MCR_DTR | MCR_RTS | MCR_OUT2);
	wait_lsr(LSR_TEMT);
	n_irq = 0;
	thre_pos = 0;
	thre_mode = true;
	outb(reg(UART_IER), IER_THRI);
	sti();
	while (inb(reg(UART_IER)) && pc_rdtsc() - t0 < pc_ms(SEND_WAIT_MS))
		pause();
	cli();
	n = n_irq;
	for (unsigned i = 0; i < n && i < MAX_IIR; i++)
		all_thre &= (iir_seen[i] & IIR_ID_MASK) == IIR_THRE;
	wait_lsr(LSR_TEMT);
	later_eq(n >= 1, 1, "THRE: setting ETBEI with THR empty interrupts at once");
	later_eq(thre_pos, len, "THRE: a whole line sent one byte per interrupt");
	later_eq(n, len + 1, "THRE: one interrupt per byte, one more when done");
	later_eq(all_thre, 1, "THRE: IIR says THR empty (0x02) each time");

	outb(reg(UART_IER), IER_THRI);
	wait_irq(n + 1, IRQ_WAIT_MS);
	later_eq(n_irq, n + 1, "THRE: turning ETBEI off and on again interrupts again");
	thre_mode = false;
	outb(reg(UART_IER), 0);
}

void guest_main(void)
{
	unsigned pin;

	pc_pic_init(0x20, 0x28);
	pc_lapic_enable();
	pc_ioapic_init();
	pc_ioapic_mask_all();
	rt_set_irq(VEC_UART, on_uart);
	if (!check(pc_tsc_hz(), "a TSC rate to time the waits"))
		return;
	registers();
	pin = pc_ioapic_route_isa(IRQ_COM1, VEC_UART, false, true);
	msr_lines();
	loop_data();
	rx_ident();
	if (pc_on_keel())
		loop_gate(pin);
	pc_uart_reset();
	print_later();
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) & ~RTE_MASKED);
	thre_irqs();
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) | RTE_MASKED);
	pc_uart_reset();
	print_later();
	if (rt_arg("rx"))
		rx_console(pin);
}
