/* 16550 UART, polled: the host's serial console. Hardware access only. */
#include "drivers/uart/uart16550.h"
#include "keel/x86.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_RBR 0 /* receive buffer (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define UART_CLOCK_DIV 115200

static const uint16_t com_ports[] = {0x3F8, 0x2F8, 0x3E8, 0x2E8};
static uint16_t uart_base = 0x3F8;

uint16_t uart_port_of(int com)
{
	if (com < 1 || com > 4)
		return 0;
	return com_ports[com - 1];
}

void uart_init(uint16_t base, uint32_t baud)
{
	uint16_t div = (uint16_t)(UART_CLOCK_DIV / (baud ? baud : UART_CLOCK_DIV));

	uart_base = base;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, div & 0xFF);
	outb(base + UART_DLM, div >> 8);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
}

void uart_putc(char c)
{
	while (!(inb(uart_base + UART_LSR) & LSR_THR_EMPTY))
		cpu_relax();
	outb(uart_base + UART_THR, (uint8_t)c);
}

void uart_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

int uart_getc(void)
{
	if (!(inb(uart_base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(uart_base + UART_RBR);
}
