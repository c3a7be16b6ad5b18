/* Output-only 8250 model (see uart_out.h). Register numbers and bits are from
 * the 8250/16550 data sheet. */
#include <stdbool.h>

#include "vdev/uart_out.h"
#include "keel/kstring.h"

#define REG_RBR_THR 0 /* DLAB=1: divisor latch low */
#define REG_IER 1     /* DLAB=1: divisor latch high */
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define LCR_DLAB 0x80
#define IER_DEFINED 0x0F /* RDA, THRE, RLS, MSI */
#define MCR_DEFINED 0x1F /* DTR, RTS, OUT1, OUT2, LOOP */
#define IIR_NO_INT 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

#define BYTE_MASK 0xFFu

void uart_out_init(struct uart_out *u, struct console *con)
{
	memset(u, 0, sizeof(*u));
	u->con = con;
}

static bool dlab(const struct uart_out *u)
{
	return u->lcr & LCR_DLAB;
}

static uint8_t reg_read(const struct uart_out *u, uint64_t reg)
{
	switch (reg) {
	case REG_RBR_THR:
		return dlab(u) ? u->dll : 0; /* no received data */
	case REG_IER:
		return dlab(u) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return IIR_NO_INT;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT;
	case REG_MSR:
		return MSR_CTS | MSR_DSR | MSR_DCD;
	default: /* REG_SCR: the caller checked offset < UART_OUT_LEN */
		return u->scr;
	}
}

static void reg_write(struct uart_out *u, uint64_t reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (dlab(u))
			u->dll = v;
		else
			console_put(u->con, v);
		break;
	case REG_IER:
		if (dlab(u))
			u->dlm = v;
		else
			u->ier = v & IER_DEFINED;
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & MCR_DEFINED;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		break; /* FCR (no FIFOs), LSR and MSR (factory test only) */
	}
}

static status_t uart_read(void *dev, uint64_t offset, uint8_t size, uint64_t *val)
{
	(void)size; /* a wide access acts on the register at offset (uart_out.h) */
	if (offset >= UART_OUT_LEN)
		return ST_ERANGE;
	*val = reg_read(dev, offset);
	return ST_OK;
}

static status_t uart_write(void *dev, uint64_t offset, uint8_t size, uint64_t val)
{
	(void)size;
	if (offset >= UART_OUT_LEN)
		return ST_ERANGE;
	reg_write(dev, offset, val & BYTE_MASK);
	return ST_OK;
}

const struct bus_ops uart_out_ops = {.read = uart_read, .write = uart_write};
