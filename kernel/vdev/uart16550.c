/* 16550A UART model (see uart16550.h). Register numbers, bits and reset
 * values are from the PC16550D data sheet. */
#include "vdev/uart16550.h"
#include "keel/kstring.h"

#define REG_RBR_THR 0 /* DLAB=1: divisor latch low */
#define REG_IER 1     /* DLAB=1: divisor latch high */
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define IER_ERBFI 0x01 /* received data available (and timeout) */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_DEFINED 0x0F

#define IIR_NO_INT 0x01
#define IIR_MODEM 0x00
#define IIR_THRE 0x02
#define IIR_RX_DATA 0x04
#define IIR_LINE 0x06
#define IIR_TIMEOUT 0x0C
#define IIR_FIFOS 0xC0 /* both bits set while FCR bit 0 is */

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA_MODE 0x08
#define FCR_TRIGGER_SHIFT 6
#define FCR_KEPT (FCR_ENABLE | FCR_DMA_MODE | (3u << FCR_TRIGGER_SHIFT))

#define LCR_WORD_LEN 0x03 /* 0-3: 5-8 data bits */
#define LCR_STOP2 0x04	  /* 1.5 stop bits with 5 data bits, else 2 */
#define LCR_PARITY 0x08
#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_DEFINED 0x1F

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1E /* OE, PE, FE, BI */

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_INPUTS 0xF0

#define BAUD_CLOCK_HZ 1843200u /* the PC's UART crystal */
#define BAUD_OVERSAMPLE 16u    /* clocks per bit */
#define TIMEOUT_CHARS 4u       /* data sheet: 4 character times */
#define BYTE_MASK 0xFFu

static const uint8_t rx_trigger[4] = {1, 4, 8, 14};

/* ---- state helpers ---- */

static bool dlab(const struct uart16550 *u)
{
	return u->lcr & LCR_DLAB;
}

static bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

static bool loopback(const struct uart16550 *u)
{
	return u->mcr & MCR_LOOP;
}

static unsigned rx_capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART16550_FIFO_SIZE : 1;
}

static unsigned trigger_level(const struct uart16550 *u)
{
	return fifo_on(u) ? rx_trigger[u->fcr >> FCR_TRIGGER_SHIFT] : 1;
}

static uint64_t now(const struct uart16550 *u)
{
	return u->clock ? vdev_now(u->clock) : 0;
}

/* ---- character timeout ---- */

/* One character in half bit times: start, data, parity, stop (1, 1.5 or 2). */
static uint64_t char_half_bits(const struct uart16550 *u)
{
	unsigned data = 5 + (u->lcr & LCR_WORD_LEN);
	unsigned stop = 2;

	if (u->lcr & LCR_STOP2)
		stop = data == 5 ? 3 : 4;
	return 2u * (1 + data + ((u->lcr & LCR_PARITY) ? 1 : 0)) + stop;
}

static uint64_t timeout_tsc(const struct uart16550 *u)
{
	uint64_t divisor = (uint64_t)u->dlm << 8 | u->dll;
	uint64_t half_bit_clocks = TIMEOUT_CHARS * char_half_bits(u) * BAUD_OVERSAMPLE;

	if (divisor == 0)
		divisor = 1;
	return vdev_ticks_to_tsc(u->clock, half_bit_clocks * divisor, 2ull * BAUD_CLOCK_HZ);
}

static uint64_t timeout_deadline(const struct uart16550 *u)
{
	uint64_t d = timeout_tsc(u);

	return u->rx_stamp > UINT64_MAX - d ? UINT64_MAX : u->rx_stamp + d;
}

/* Data waits below the trigger level, so only the timeout can report it. */
static bool timeout_armed(const struct uart16550 *u)
{
	return fifo_on(u) && u->rx_count > 0 && u->rx_count < trigger_level(u);
}

static bool timed_out(const struct uart16550 *u)
{
	if (!timeout_armed(u))
		return false;
	return !u->clock || vdev_now(u->clock) >= timeout_deadline(u);
}

/* ---- interrupts ---- */

/* The pending source of highest priority, in IIR bits 3-0. */
static uint8_t int_id(const struct uart16550 *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr_err & LSR_ERRORS))
		return IIR_LINE;
	if ((u->ier & IER_ERBFI) && u->rx_count >= trigger_level(u))
		return IIR_RX_DATA;
	if ((u->ier & IER_ERBFI) && timed_out(u))
		return IIR_TIMEOUT;
	if ((u->ier & IER_ETBEI) && u->thre_latch)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && u->msr_delta)
		return IIR_MODEM;
	return IIR_NO_INT;
}

/* OUT2 enables the PC's IRQ driver; loopback forces OUT2 inactive. */
static bool line_level(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_OUT2) || loopback(u))
		return false;
	return int_id(u) != IIR_NO_INT;
}

static void update_irq(struct uart16550 *u)
{
	bool level = line_level(u);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq)
		u->irq(u->irq_ctx, UART16550_IRQ_PIN, level);
}

/* ---- receiver ---- */

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->rx_stamp = now(u);
}

static void rx_push(struct uart16550 *u, uint8_t byte)
{
	u->rx[(u->rx_head + u->rx_count) % UART16550_FIFO_SIZE] = byte;
	u->rx_count++;
	u->rx_stamp = now(u);
}

static uint8_t rx_pop(struct uart16550 *u)
{
	uint8_t byte = 0; /* an empty RBR reads 0 */

	if (u->rx_count > 0) {
		byte = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART16550_FIFO_SIZE;
		u->rx_count--;
	}
	u->rx_stamp = now(u); /* a read restarts the timeout */
	return byte;
}

/* A looped-back byte cannot be refused: a full receiver overruns. */
static void rx_loop(struct uart16550 *u, uint8_t byte)
{
	if (u->rx_count < rx_capacity(u)) {
		rx_push(u, byte);
		return;
	}
	u->lsr_err |= LSR_OE;
	if (!fifo_on(u)) /* 16450 mode: the new byte replaces the RBR */
		u->rx[u->rx_head] = byte;
}

/* ---- modem status ---- */

static uint8_t modem_inputs(const struct uart16550 *u)
{
	uint8_t in = 0;

	if (!loopback(u))
		return u->modem_in;
	if (u->mcr & MCR_RTS)
		in |= UART16550_MSR_CTS;
	if (u->mcr & MCR_DTR)
		in |= UART16550_MSR_DSR;
	if (u->mcr & MCR_OUT1)
		in |= UART16550_MSR_RI;
	if (u->mcr & MCR_OUT2)
		in |= UART16550_MSR_DCD;
	return in;
}

/* Delta bits for an input change; TERI only for RI going inactive. */
static void note_modem_change(struct uart16550 *u, uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;

	if (changed & UART16550_MSR_CTS)
		u->msr_delta |= MSR_DCTS;
	if (changed & UART16550_MSR_DSR)
		u->msr_delta |= MSR_DDSR;
	if ((before & UART16550_MSR_RI) && !(after & UART16550_MSR_RI))
		u->msr_delta |= MSR_TERI;
	if (changed & UART16550_MSR_DCD)
		u->msr_delta |= MSR_DDCD;
}

/* ---- public entry points ---- */

void uart16550_init(struct uart16550 *u, struct console *con, const struct vdev_clock *clock,
		    vdev_irq_fn irq, void *irq_ctx)
{
	memset(u, 0, sizeof(*u));
	u->con = con;
	u->clock = clock;
	u->irq = irq;
	u->irq_ctx = irq_ctx;
	u->modem_in = UART16550_MSR_CTS | UART16550_MSR_DSR | UART16550_MSR_DCD;
	u->rx_stamp = now(u);
}

bool uart16550_rx(struct uart16550 *u, uint8_t byte)
{
	if (uart16550_rx_room(u) == 0)
		return false;
	rx_push(u, byte);
	update_irq(u);
	return true;
}

unsigned uart16550_rx_room(const struct uart16550 *u)
{
	if (loopback(u)) /* the receiver input is disconnected */
		return 0;
	return rx_capacity(u) - u->rx_count;
}

void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t lines)
{
	uint8_t before = modem_inputs(u);

	u->modem_in = lines & MSR_INPUTS;
	note_modem_change(u, before, modem_inputs(u));
	update_irq(u);
}

uint64_t uart16550_next_event(const struct uart16550 *u)
{
	if (!u->clock || !(u->ier & IER_ERBFI) || !timeout_armed(u) || timed_out(u))
		return VDEV_NEVER;
	return timeout_deadline(u);
}

void uart16550_tick(struct uart16550 *u)
{
	update_irq(u);
}

/* ---- register reads ---- */

static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t id = int_id(u);

	if (id == IIR_THRE) { /* reading IIR is what acknowledges THRE */
		u->thre_latch = false;
		update_irq(u);
	}
	return id | (fifo_on(u) ? IIR_FIFOS : 0);
}

static uint8_t read_lsr(struct uart16550 *u)
{
	uint8_t lsr = LSR_THRE | LSR_TEMT | u->lsr_err;

	if (u->rx_count > 0)
		lsr |= LSR_DR;
	u->lsr_err = 0;
	update_irq(u);
	return lsr;
}

static uint8_t read_msr(struct uart16550 *u)
{
	uint8_t msr = modem_inputs(u) | u->msr_delta;

	u->msr_delta = 0;
	update_irq(u);
	return msr;
}

static uint8_t read_rbr(struct uart16550 *u)
{
	uint8_t byte = rx_pop(u);

	update_irq(u);
	return byte;
}

static uint8_t reg_read(struct uart16550 *u, uint64_t reg)
{
	switch (reg) {
	case REG_RBR_THR:
		return dlab(u) ? u->dll : read_rbr(u);
	case REG_IER:
		return dlab(u) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return read_lsr(u);
	case REG_MSR:
		return read_msr(u);
	case REG_SCR:
		return u->scr;
	default:
		return BYTE_MASK; /* outside the 8 ports: empty bus */
	}
}

/* ---- register writes ---- */

/* THRE drops while the byte is "in flight" and rises when THR empties. */
static void write_thr(struct uart16550 *u, uint8_t byte)
{
	u->thre_latch = false;
	update_irq(u);
	if (loopback(u))
		rx_loop(u, byte);
	else
		console_put(u->con, byte);
	u->thre_latch = true;
	update_irq(u);
}

static void write_ier(struct uart16550 *u, uint8_t v)
{
	uint8_t rising = (uint8_t)(v & ~u->ier);

	u->ier = v & IER_DEFINED;
	if (rising & IER_ETBEI) /* THR is always empty */
		u->thre_latch = true;
	update_irq(u);
}

/* Bits other than FCR_ENABLE are programmed only while it is written as 1;
 * turning the FIFOs on or off empties them. */
static void write_fcr(struct uart16550 *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (!(v & FCR_ENABLE)) {
		u->fcr = 0;
	} else {
		u->fcr = v & FCR_KEPT;
		if (v & FCR_CLEAR_RX)
			rx_clear(u);
		/* FCR_CLEAR_TX: the transmitter never holds anything. */
	}
	update_irq(u);
}

static void write_mcr(struct uart16550 *u, uint8_t v)
{
	uint8_t before = modem_inputs(u);

	u->mcr = v & MCR_DEFINED;
	note_modem_change(u, before, modem_inputs(u));
	update_irq(u);
}

static void reg_write(struct uart16550 *u, uint64_t reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (dlab(u))
			u->dll = v;
		else
			write_thr(u, v);
		break;
	case REG_IER:
		if (dlab(u))
			u->dlm = v;
		else
			write_ier(u, v);
		break;
	case REG_IIR_FCR:
		write_fcr(u, v);
		break;
	case REG_LCR:
		u->lcr = v; /* word length and DLAB matter from the next access */
		break;
	case REG_MCR:
		write_mcr(u, v);
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR, MSR: factory test only */
	}
}

/* ---- bus interface: wide accesses split into bytes (see the header) ---- */

static status_t uart_read(void *dev, uint64_t offset, uint8_t size, uint64_t *val)
{
	uint64_t v = 0;

	for (uint8_t i = 0; i < size; i++)
		v |= (uint64_t)reg_read(dev, offset + i) << (8 * i);
	*val = v;
	return ST_OK;
}

static status_t uart_write(void *dev, uint64_t offset, uint8_t size, uint64_t val)
{
	for (uint8_t i = 0; i < size; i++)
		reg_write(dev, offset + i, (uint8_t)(val >> (8 * i)));
	return ST_OK;
}

const struct bus_ops uart16550_ops = {.read = uart_read, .write = uart_write};
