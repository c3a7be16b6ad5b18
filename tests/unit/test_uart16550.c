/* Unit tests for the 16550A UART model (kernel/vdev/uart16550.c), driven
 * through a real PIO bus at COM1 as a guest would. Register offsets, bits
 * and reset values are spelled out from the PC16550D data sheet rather
 * than taken from the model's header, so a wrong constant there fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/console.h"
#include "vdev/uart16550.h"
#include "vm/bus.h"

#define COM1 0x3F8
#define RBR 0 /* read; DLAB=1: DLL */
#define THR 0 /* write */
#define IER 1 /* DLAB=1: DLM */
#define IIR 2 /* read */
#define FCR 2 /* write */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08

#define IIR_NONE 0x01
#define IIR_MS 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_TIMEOUT 0x0C
#define IIR_FIFO 0xC0

#define FCR_EN 0x01
#define FCR_CLR_RX 0x02
#define FCR_TRIG_1 0x00
#define FCR_TRIG_4 0x40
#define FCR_TRIG_8 0x80
#define FCR_TRIG_14 0xC0

#define LCR_8N1 0x03
#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define TSC_HZ 1000000000ull /* 1 tick = 1 ns */
/* 4 characters of 10 bits (8N1) at divisor 1: 4 * 10 * 16 / 1843200 s. */
#define TIMEOUT_8N1_DIV1 347223ull /* ns, rounded up */

static struct bus pio;
static struct console con;
static struct uart16550 uart;

static uint64_t tsc;
static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return tsc;
}
static const struct vdev_clock clk = {.ctx = NULL, .now = fake_now, .hz = TSC_HZ};

#define MAX_EVENTS 64
static bool levels[MAX_EVENTS]; /* every irq callback, in order */
static unsigned nevents;
static int irq_ctx_tag;

static void record_irq(void *ctx, unsigned line, bool level)
{
	assert_ptr_equal(ctx, &irq_ctx_tag);
	assert_int_equal(line, 0);
	assert_true(nevents < MAX_EVENTS);
	if (nevents > 0) /* the model reports changes only */
		assert_int_not_equal(levels[nevents - 1], level);
	levels[nevents++] = level;
}

static bool irq_line(void)
{
	return nevents > 0 && levels[nevents - 1];
}

static int setup_with(const struct vdev_clock *c)
{
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	console_init(&con);
	uart16550_init(&uart, &con, c, record_irq, &irq_ctx_tag);
	tsc = 1000;
	nevents = 0;
	assert_int_equal(bus_register(&pio, COM1, 8, &uart16550_ops, &uart, "com1"), ST_OK);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_with(&clk);
}

static int setup_no_clock(void **state)
{
	(void)state;
	return setup_with(NULL);
}

static uint8_t in(unsigned reg)
{
	uint64_t v = 0x5A5A;

	assert_int_equal(bus_read(&pio, COM1 + reg, 1, &v), ST_OK);
	assert_true(v <= 0xFF);
	return (uint8_t)v;
}

static void out(unsigned reg, uint8_t v)
{
	assert_int_equal(bus_write(&pio, COM1 + reg, 1, v), ST_OK);
}

static void feed(uint8_t byte)
{
	assert_true(uart16550_rx(&uart, byte));
}

static size_t printed(char *buf, size_t len)
{
	uint64_t cursor = 0;

	return console_read(&con, &cursor, buf, len, NULL);
}

/* ---- registers ---- */

static void test_reset_values(void **state)
{
	(void)state;
	assert_int_equal(in(IER), 0);
	assert_int_equal(in(IIR), IIR_NONE);
	assert_int_equal(in(LCR), 0);
	assert_int_equal(in(MCR), 0);
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(in(MSR), MSR_CTS | MSR_DSR | MSR_DCD); /* no deltas */
	assert_int_equal(in(SCR), 0);
	assert_int_equal(in(RBR), 0); /* empty */
	out(LCR, LCR_DLAB);
	assert_int_equal(in(0), 0);
	assert_int_equal(in(1), 0);
	assert_int_equal(nevents, 0);
	assert_int_equal(uart16550_rx_room(&uart), 1); /* 16450 mode */
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER);
}

static void test_scratch_lcr_readback(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 256; v += 51) {
		out(SCR, (uint8_t)v);
		assert_int_equal(in(SCR), v);
	}
	out(LCR, 0x7F); /* every bit but DLAB */
	assert_int_equal(in(LCR), 0x7F);
}

static void test_divisor_latch(void **state)
{
	(void)state;
	out(IER, IER_RDA);
	out(LCR, LCR_DLAB | LCR_8N1);
	out(0, 0x0C); /* 9600 baud */
	out(1, 0x01);
	assert_int_equal(in(0), 0x0C);
	assert_int_equal(in(1), 0x01);
	out(LCR, LCR_8N1);
	assert_int_equal(in(IER), IER_RDA);	    /* untouched by the DLM write */
	assert_int_equal(console_written(&con), 0); /* DLL write printed nothing */
	out(LCR, LCR_DLAB);
	assert_int_equal(in(0), 0x0C);
	assert_int_equal(in(1), 0x01);
}

static void test_ier_mcr_masks(void **state)
{
	(void)state;
	out(IER, 0xFF);
	assert_int_equal(in(IER), 0x0F);
	out(MCR, 0xEF); /* all but loopback */
	assert_int_equal(in(MCR), 0x0F);
}

static void test_lsr_msr_writes_ignored(void **state)
{
	(void)state;
	out(LSR, 0xFF);
	out(MSR, 0x0F);
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(in(MSR), MSR_CTS | MSR_DSR | MSR_DCD);
}

static void test_tx_to_console(void **state)
{
	(void)state;
	char buf[8];

	out(LCR, LCR_8N1);
	out(THR, 'o');
	out(THR, 'k');
	out(THR, 0xFF);
	assert_int_equal(printed(buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "ok\xFF", 3);
	/* Transmission is instant: THR and the shift register stay empty. */
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	/* The console is a byte stream: LCR's word length does not cut bytes
	 * (a guest printing before it programs LCR has 5-bit words). */
	out(LCR, 0x00);
	out(THR, 0xFF);
	assert_int_equal(printed(buf, sizeof(buf)), 4);
	assert_int_equal((uint8_t)buf[3], 0xFF);
}

static void test_wide_access_splits_into_bytes(void **state)
{
	(void)state;
	uint64_t v;

	out(LCR, LCR_DLAB);
	assert_int_equal(bus_write(&pio, COM1, 2, 0x0201), ST_OK);
	assert_int_equal(in(0), 0x01);
	assert_int_equal(in(1), 0x02);
	assert_int_equal(bus_read(&pio, COM1, 2, &v), ST_OK);
	assert_int_equal(v, 0x0201);
	out(LCR, LCR_8N1);
	out(SCR, 0x77);
	/* MCR, LSR, MSR, SCR in one dword. */
	assert_int_equal(bus_read(&pio, COM1 + 4, 4, &v), ST_OK);
	assert_int_equal(v, 0x77B06000u);
}

/* ---- THRE ---- */

static void test_thre_on_enable(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(IER, IER_THRE); /* THR is empty: interrupt at once */
	assert_true(irq_line());
	assert_int_equal(in(IIR), IIR_THRE);
	/* Reading IIR with THRE the source acknowledged it. */
	assert_false(irq_line());
	assert_int_equal(in(IIR), IIR_NONE);
	/* Rewriting IER with ETBEI already set is not an enable. */
	out(IER, IER_THRE);
	assert_int_equal(in(IIR), IIR_NONE);
	/* Off and on again: a fresh THRE (Linux's THRE test does this). */
	out(IER, 0);
	out(IER, IER_THRE);
	assert_true(irq_line());
	assert_int_equal(in(IIR), IIR_THRE);
	assert_int_equal(nevents, 4);
}

static void test_thre_after_each_write(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(IER, IER_THRE);
	assert_true(irq_line());
	nevents = 0;
	/* The write clears THRE, the byte leaves, THR empties: a new edge. */
	out(THR, 'x');
	assert_int_equal(nevents, 2);
	assert_false(levels[0]);
	assert_true(levels[1]);
	out(THR, 'y');
	assert_int_equal(nevents, 4);
	assert_int_equal(in(IIR), IIR_THRE);
	assert_false(irq_line());
	/* Acknowledged: the next write only raises the line. */
	out(THR, 'z');
	assert_int_equal(nevents, 6);
	assert_true(irq_line());
}

static void test_thre_latched_while_disabled(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(THR, 'a'); /* ETBEI off: no interrupt, but THR became empty */
	assert_int_equal(in(IIR), IIR_NONE);
	assert_int_equal(nevents, 0);
	out(IER, IER_THRE);
	assert_int_equal(in(IIR), IIR_THRE);
}

/* ---- priorities ---- */

/* Every source at once, made in loopback (where the line is gated but IIR
 * still reports), then peeled off one by one in priority order. */
static void test_iir_priorities(void **state)
{
	(void)state;
	out(LCR, LCR_8N1);
	out(MCR, MCR_LOOP);
	out(THR, 'a');
	out(THR, 'b');		      /* 16450 mode: overruns 'a' */
	out(MCR, MCR_LOOP | MCR_RTS); /* CTS, DSR, DCD changed: deltas */
	out(IER, 0x0F);
	assert_int_equal(in(IIR), IIR_RLS);
	assert_int_equal(in(IIR), IIR_RLS); /* reading IIR does not clear it */
	assert_int_equal(in(LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	assert_int_equal(in(IIR), IIR_RDA);
	assert_int_equal(in(RBR), 'b');
	assert_int_equal(in(IIR), IIR_THRE);
	assert_int_equal(in(IIR), IIR_MS);
	assert_int_equal(in(MSR), MSR_CTS | MSR_DCTS | MSR_DDSR | MSR_DDCD);
	assert_int_equal(in(IIR), IIR_NONE);
	assert_int_equal(nevents, 0); /* loopback gates the line */
}

static void test_disabled_sources_do_not_show(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	feed('x');
	uart16550_set_modem_inputs(&uart, 0);
	assert_int_equal(in(IIR), IIR_NONE);
	assert_false(irq_line());
	out(IER, IER_MS);
	assert_int_equal(in(IIR), IIR_MS);
	out(IER, IER_MS | IER_RDA);
	assert_int_equal(in(IIR), IIR_RDA);
}

/* ---- receiver ---- */

static void test_rx_16450_mode(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(IER, IER_RDA);
	assert_int_equal(in(IIR), IIR_NONE);
	feed('h');
	assert_true(irq_line());
	assert_int_equal(in(IIR), IIR_RDA); /* no FIFO bits */
	assert_int_equal(in(LSR)&LSR_DR, LSR_DR);
	assert_int_equal(uart16550_rx_room(&uart), 0);
	assert_false(uart16550_rx(&uart, 'i')); /* the caller keeps it */
	assert_int_equal(in(RBR), 'h');
	assert_false(irq_line());
	assert_int_equal(in(LSR) & (LSR_DR | LSR_OE), 0);
	assert_int_equal(in(RBR), 0); /* empty reads 0 */
	feed('i');
	assert_int_equal(in(RBR), 'i');
}

static void check_trigger(uint8_t fcr, unsigned level)
{
	out(FCR, FCR_EN | FCR_CLR_RX | fcr);
	assert_int_equal(in(IIR), IIR_FIFO | IIR_NONE);
	for (unsigned i = 0; i + 1 < level; i++)
		feed((uint8_t)('a' + i));
	assert_int_equal(in(IIR), IIR_FIFO | IIR_NONE); /* no time has passed */
	assert_false(irq_line());
	feed('!');
	assert_int_equal(in(IIR), IIR_FIFO | IIR_RDA);
	assert_true(irq_line());
	assert_int_equal(in(RBR), level == 1 ? '!' : 'a');
	assert_int_equal(in(IIR), IIR_FIFO | IIR_NONE); /* below the level again */
	assert_false(irq_line());
}

static void test_rx_trigger_levels(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(IER, IER_RDA);
	check_trigger(FCR_TRIG_1, 1);
	check_trigger(FCR_TRIG_4, 4);
	check_trigger(FCR_TRIG_8, 8);
	check_trigger(FCR_TRIG_14, 14);
}

static void test_rx_fifo_full_and_order(void **state)
{
	(void)state;
	out(FCR, FCR_EN);
	assert_int_equal(uart16550_rx_room(&uart), 16);
	for (unsigned i = 0; i < 16; i++)
		feed((uint8_t)i);
	assert_int_equal(uart16550_rx_room(&uart), 0);
	assert_false(uart16550_rx(&uart, 99));
	assert_int_equal(in(LSR)&LSR_OE, 0); /* refused, not overrun */
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(in(LSR)&LSR_DR, LSR_DR);
		assert_int_equal(in(RBR), i);
	}
	assert_int_equal(in(LSR)&LSR_DR, 0);
	/* Wrap around the ring. */
	feed(100);
	feed(101);
	assert_int_equal(in(RBR), 100);
	assert_int_equal(in(RBR), 101);
}

static void test_fcr_clear_and_toggle(void **state)
{
	(void)state;
	out(FCR, FCR_EN);
	feed(1);
	feed(2);
	out(FCR, FCR_EN | FCR_CLR_RX);
	assert_int_equal(in(LSR)&LSR_DR, 0);
	assert_int_equal(uart16550_rx_room(&uart), 16);
	feed(3);
	/* Turning the FIFOs off empties them and the IIR bits go. */
	out(FCR, 0);
	assert_int_equal(in(LSR)&LSR_DR, 0);
	assert_int_equal(in(IIR), IIR_NONE);
	assert_int_equal(uart16550_rx_room(&uart), 1);
	/* With bit 0 clear, the trigger bits are not programmed. */
	out(FCR, FCR_TRIG_14);
	out(FCR, FCR_EN); /* trigger 1 still */
	out(IER, IER_RDA);
	feed(4);
	assert_int_equal(in(IIR), IIR_FIFO | IIR_RDA);
	/* Rewriting FCR with bit 0 set keeps the data. */
	out(FCR, FCR_EN | FCR_TRIG_1);
	assert_int_equal(in(RBR), 4);
}

static void test_rx_word_length(void **state)
{
	(void)state;
	out(LCR, 0x00); /* 5 data bits: still a whole byte (see the header) */
	feed(0xFF);
	assert_int_equal(in(RBR), 0xFF);
}

/* ---- character timeout ---- */

static void test_rx_timeout(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(LCR, LCR_DLAB | LCR_8N1);
	out(0, 1); /* 115200 baud */
	out(1, 0);
	out(LCR, LCR_8N1);
	out(FCR, FCR_EN | FCR_TRIG_8);
	out(IER, IER_RDA);

	feed('a');
	feed('b');
	assert_int_equal(uart16550_next_event(&uart), 1000 + TIMEOUT_8N1_DIV1);
	tsc = 1000 + TIMEOUT_8N1_DIV1 - 1;
	uart16550_tick(&uart);
	assert_false(irq_line());
	assert_int_equal(in(IIR), IIR_FIFO | IIR_NONE);
	tsc++;
	assert_false(irq_line()); /* nothing happens until the core ticks */
	uart16550_tick(&uart);
	assert_true(irq_line());
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER); /* fired */
	assert_int_equal(in(IIR), IIR_FIFO | IIR_TIMEOUT);
	assert_int_equal(in(IIR), IIR_FIFO | IIR_TIMEOUT); /* not cleared by IIR */

	/* Reading RBR clears the timeout and restarts the timer. */
	assert_int_equal(in(RBR), 'a');
	assert_false(irq_line());
	assert_int_equal(uart16550_next_event(&uart), tsc + TIMEOUT_8N1_DIV1);
	tsc += TIMEOUT_8N1_DIV1;
	uart16550_tick(&uart);
	assert_int_equal(in(IIR), IIR_FIFO | IIR_TIMEOUT);
	assert_int_equal(in(RBR), 'b');
	assert_int_equal(in(IIR), IIR_FIFO | IIR_NONE);
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER); /* empty */
}

static void test_rx_timeout_new_byte_restarts(void **state)
{
	(void)state;
	out(LCR, LCR_DLAB | LCR_8N1);
	out(0, 1);
	out(LCR, LCR_8N1);
	out(FCR, FCR_EN | FCR_TRIG_8);
	out(IER, IER_RDA);
	feed('a');
	tsc += TIMEOUT_8N1_DIV1 - 10;
	feed('b');
	assert_int_equal(uart16550_next_event(&uart), tsc + TIMEOUT_8N1_DIV1);
	tsc += 10;
	assert_int_equal(in(IIR), IIR_FIFO | IIR_NONE);
}

/* Character time follows LCR and the divisor. */
static void test_rx_timeout_frame_and_baud(void **state)
{
	(void)state;
	out(FCR, FCR_EN | FCR_TRIG_4);
	out(IER, IER_RDA);
	/* 7 data bits, even parity, 2 stop bits: 11 bits; divisor 12 (9600). */
	out(LCR, LCR_DLAB | 0x1E);
	out(0, 12);
	out(LCR, 0x1E);
	feed('a');
	/* 4 * 11 * 16 * 12 / 1843200 s = 4583333.3 ns */
	assert_int_equal(uart16550_next_event(&uart), 1000 + 4583334);
	out(FCR, FCR_EN | FCR_CLR_RX | FCR_TRIG_4);
	/* 5 data bits, 1.5 stop bits, no parity: 7.5 bits; divisor 0 as 1. */
	out(LCR, LCR_DLAB | 0x04);
	out(0, 0);
	out(LCR, 0x04);
	feed('a');
	/* 4 * 7.5 * 16 / 1843200 s = 260416.7 ns */
	assert_int_equal(uart16550_next_event(&uart), 1000 + 260417);
}

static void test_no_timeout_event_when_not_needed(void **state)
{
	(void)state;
	out(FCR, FCR_EN | FCR_TRIG_4);
	feed('a');
	/* ERBFI off: nobody would see the timeout. */
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER);
	out(IER, IER_RDA);
	assert_true(uart16550_next_event(&uart) != VDEV_NEVER);
	feed('b');
	feed('c');
	feed('d'); /* at the trigger level: RDA, not the timeout */
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER);
	assert_int_equal(in(IIR), IIR_FIFO | IIR_RDA);
	/* 16450 mode has no timeout. */
	out(FCR, 0);
	feed('e');
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER);
}

static void test_timeout_without_clock(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(FCR, FCR_EN | FCR_TRIG_8);
	out(IER, IER_RDA);
	feed('a'); /* no clock: due at once */
	assert_true(irq_line());
	assert_int_equal(in(IIR), IIR_FIFO | IIR_TIMEOUT);
	assert_int_equal(uart16550_next_event(&uart), VDEV_NEVER);
	assert_int_equal(in(RBR), 'a');
	assert_false(irq_line());
}

/* ---- loopback ---- */

static void test_loopback(void **state)
{
	(void)state;
	out(FCR, FCR_EN);
	out(MCR, MCR_LOOP | MCR_OUT2);
	out(IER, IER_RDA | IER_THRE);
	out(THR, 'L');
	out(THR, 'B');
	assert_int_equal(console_written(&con), 0); /* nothing reaches the console */
	assert_int_equal(in(LSR)&LSR_DR, LSR_DR);
	assert_int_equal(in(IIR), IIR_FIFO | IIR_RDA);
	assert_int_equal(nevents, 0); /* OUT2 is forced inactive in loopback */
	assert_int_equal(uart16550_rx_room(&uart), 0);
	assert_false(uart16550_rx(&uart, 'X')); /* input disconnected */
	assert_int_equal(in(RBR), 'L');
	assert_int_equal(in(RBR), 'B');
	/* Leaving loopback reconnects the line: THRE is still pending. */
	out(MCR, MCR_OUT2);
	assert_true(irq_line());
	assert_int_equal(in(IIR), IIR_FIFO | IIR_THRE);
	assert_false(irq_line());
	out(THR, 'k');
	assert_int_equal(console_written(&con), 1);
}

static void test_loopback_modem_lines(void **state)
{
	(void)state;
	/* Entering loopback with all outputs off: CTS, DSR, DCD drop. */
	out(MCR, MCR_LOOP);
	assert_int_equal(in(MSR), MSR_DCTS | MSR_DDSR | MSR_DDCD);
	assert_int_equal(in(MSR), 0);
	out(MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(in(MSR), MSR_DSR | MSR_DDSR);
	out(MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
	assert_int_equal(in(MSR), MSR_DSR | MSR_CTS | MSR_DCTS);
	out(MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1);
	assert_int_equal(in(MSR), MSR_DSR | MSR_CTS | MSR_RI); /* RI rising: no TERI */
	out(MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(in(MSR), MSR_DSR | MSR_CTS | MSR_DCD | MSR_TERI | MSR_DDCD);
	/* The external inputs are disconnected meanwhile. */
	uart16550_set_modem_inputs(&uart, 0);
	assert_int_equal(in(MSR), MSR_DSR | MSR_CTS | MSR_DCD);
	/* Leaving loopback: back to the external inputs (all off now). */
	out(MCR, 0);
	assert_int_equal(in(MSR), MSR_DCTS | MSR_DDSR | MSR_DDCD);
}

static void test_loopback_overrun_fifo(void **state)
{
	(void)state;
	out(FCR, FCR_EN);
	out(MCR, MCR_LOOP);
	for (unsigned i = 0; i < 17; i++)
		out(THR, (uint8_t)i);
	assert_int_equal(in(LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	assert_int_equal(in(LSR), LSR_DR | LSR_THRE | LSR_TEMT); /* OE read-cleared */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(in(RBR), i); /* the FIFO kept its bytes */
	assert_int_equal(in(LSR)&LSR_DR, 0);
}

/* ---- modem status ---- */

static void test_modem_deltas(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(IER, IER_MS);
	assert_false(irq_line());
	uart16550_set_modem_inputs(&uart, MSR_DSR | MSR_DCD); /* CTS drops */
	assert_true(irq_line());
	assert_int_equal(in(IIR), IIR_MS);
	assert_int_equal(in(MSR), MSR_DSR | MSR_DCD | MSR_DCTS);
	assert_false(irq_line());
	assert_int_equal(in(IIR), IIR_NONE);
	uart16550_set_modem_inputs(&uart, MSR_DSR | MSR_DCD | MSR_RI);
	assert_int_equal(in(IIR), IIR_NONE); /* RI rising: no delta */
	uart16550_set_modem_inputs(&uart, MSR_DSR);
	assert_int_equal(in(MSR), MSR_DSR | MSR_TERI | MSR_DDCD);
	uart16550_set_modem_inputs(&uart, MSR_DSR | 0x0F); /* low bits ignored */
	assert_int_equal(in(MSR), MSR_DSR);
	uart16550_set_modem_inputs(&uart, MSR_CTS | MSR_DSR | MSR_DCD);
	assert_int_equal(in(MSR), MSR_CTS | MSR_DSR | MSR_DCD | MSR_DCTS | MSR_DDCD);
}

/* ---- the interrupt line ---- */

static void test_out2_gates_the_line(void **state)
{
	(void)state;
	out(IER, IER_THRE);
	assert_int_equal(nevents, 0); /* pending, but OUT2 is off */
	out(MCR, MCR_OUT2);
	assert_int_equal(nevents, 1);
	assert_true(irq_line());
	out(MCR, MCR_DTR | MCR_RTS);
	assert_false(irq_line());
	assert_int_equal(in(IIR), IIR_THRE); /* still pending inside the UART */
	out(MCR, MCR_OUT2);
	assert_int_equal(nevents, 2); /* the IIR read acknowledged it meanwhile */
}

static void test_irq_transitions_only(void **state)
{
	(void)state;
	out(MCR, MCR_OUT2);
	out(IER, IER_RDA);
	feed('a');
	assert_int_equal(nevents, 1);
	out(SCR, 1);
	(void)in(LSR);
	(void)in(MSR);
	uart16550_tick(&uart);
	assert_int_equal(nevents, 1); /* no repeated raise */
	assert_int_equal(in(RBR), 'a');
	assert_int_equal(nevents, 2);
	assert_false(irq_line());
}

static void test_no_irq_callback(void **state)
{
	(void)state;
	uart16550_init(&uart, &con, &clk, NULL, NULL);
	out(MCR, MCR_OUT2);
	out(IER, 0x0F);
	feed('a');
	assert_int_equal(in(IIR), IIR_RDA);
	assert_int_equal(nevents, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_reset_values, setup),
	    cmocka_unit_test_setup(test_scratch_lcr_readback, setup),
	    cmocka_unit_test_setup(test_divisor_latch, setup),
	    cmocka_unit_test_setup(test_ier_mcr_masks, setup),
	    cmocka_unit_test_setup(test_lsr_msr_writes_ignored, setup),
	    cmocka_unit_test_setup(test_tx_to_console, setup),
	    cmocka_unit_test_setup(test_wide_access_splits_into_bytes, setup),
	    cmocka_unit_test_setup(test_thre_on_enable, setup),
	    cmocka_unit_test_setup(test_thre_after_each_write, setup),
	    cmocka_unit_test_setup(test_thre_latched_while_disabled, setup),
	    cmocka_unit_test_setup(test_iir_priorities, setup),
	    cmocka_unit_test_setup(test_disabled_sources_do_not_show, setup),
	    cmocka_unit_test_setup(test_rx_16450_mode, setup),
	    cmocka_unit_test_setup(test_rx_trigger_levels, setup),
	    cmocka_unit_test_setup(test_rx_fifo_full_and_order, setup),
	    cmocka_unit_test_setup(test_fcr_clear_and_toggle, setup),
	    cmocka_unit_test_setup(test_rx_word_length, setup),
	    cmocka_unit_test_setup(test_rx_timeout, setup),
	    cmocka_unit_test_setup(test_rx_timeout_new_byte_restarts, setup),
	    cmocka_unit_test_setup(test_rx_timeout_frame_and_baud, setup),
	    cmocka_unit_test_setup(test_no_timeout_event_when_not_needed, setup),
	    cmocka_unit_test_setup(test_timeout_without_clock, setup_no_clock),
	    cmocka_unit_test_setup(test_loopback, setup),
	    cmocka_unit_test_setup(test_loopback_modem_lines, setup),
	    cmocka_unit_test_setup(test_loopback_overrun_fifo, setup),
	    cmocka_unit_test_setup(test_modem_deltas, setup),
	    cmocka_unit_test_setup(test_out2_gates_the_line, setup),
	    cmocka_unit_test_setup(test_irq_transitions_only, setup),
	    cmocka_unit_test_setup(test_no_irq_callback, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
