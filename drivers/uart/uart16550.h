#ifndef KEEL_UART16550_H
#define KEEL_UART16550_H

#include <stddef.h>
#include <stdint.h>

uint16_t uart_port_of(int com); /* COM1..COM4 -> I/O port, 0 if out of range */
void uart_init(uint16_t base, uint32_t baud);
void uart_putc(char c);
void uart_write(const char *s, size_t n); /* turns lone \n into \r\n */
int uart_getc(void);			  /* -1 when nothing is waiting */

#endif
