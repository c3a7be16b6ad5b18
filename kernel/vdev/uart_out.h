/* "Enough of an 8250 to print": a polled, output-only UART model for COM1,
 * temporary until the full 8250 with interrupts and input replaces it.
 *
 * Guest-visible behaviour (register offsets from the range base, per the
 * 8250/16550 data sheet):
 *   0  DLAB=0: write THR -> the byte goes to the console ring; read RBR -> 0
 *      (no input yet). DLAB=1: divisor latch low, stored and read back.
 *   1  DLAB=0: IER, stored masked to its 4 defined bits. DLAB=1: divisor
 *      latch high, stored and read back.
 *   2  read IIR = 0x01 (no interrupt pending); FCR writes are ignored (no
 *      FIFOs, so the guest sees an 8250/16450).
 *   3  LCR, stored and read back; bit 7 is DLAB.
 *   4  MCR, stored masked to its 5 defined bits. Loopback (bit 4) is stored
 *      but not emulated: Linux skips its loopback test on COM1-3.
 *   5  LSR reads 0x60 (THR empty, transmitter empty, no data ready): a polled
 *      driver never waits. Writes ignored.
 *   6  MSR reads 0xB0 (CTS, DSR, DCD), so drivers that wait for CTS or
 *      carrier print at once. Writes ignored.
 *   7  SCR, stored and read back.
 * Divisor, IER, LCR, MCR and SCR read 0 after init.
 *
 * Accesses wider than a byte act on the one register at their offset, using
 * the low byte of a write and returning the register zero-extended on a read.
 * Every driver uses byte accesses; splitting a wide access into byte accesses
 * on consecutive registers would give a stray `outw` side effects on
 * neighbouring registers, which buys nothing for a print-only model.
 *
 * Pure logic: the caller owns the struct and the console, and serialises
 * calls (the VM's PIO bus is serialised by its caller). */
#ifndef KEEL_VDEV_UART_OUT_H
#define KEEL_VDEV_UART_OUT_H

#include <stdint.h>

#include "vdev/console.h"
#include "vm/bus.h"

#define UART_OUT_COM1_BASE 0x3F8
#define UART_OUT_LEN 8 /* ports base..base+7 */

struct uart_out {
	struct console *con; /* where THR bytes go */
	uint8_t ier, lcr, mcr, scr;
	uint8_t dll, dlm; /* divisor latch */
};

/* Resets every register to 0 and sends output to con (non-NULL). */
void uart_out_init(struct uart_out *u, struct console *con);

/* Register with bus_register(pio, UART_OUT_COM1_BASE, UART_OUT_LEN,
 * &uart_out_ops, u, "com1"). */
extern const struct bus_ops uart_out_ops;

#endif
