/* A 16550A UART for the guest's COM1 (issue 5), written from the National
 * PC16550D data sheet.
 *
 * Registers (offsets from the range base; DLAB is LCR bit 7):
 *   0  read RBR (pops the RX FIFO; reads 0 when empty), write THR.
 *      DLAB=1: divisor latch low.
 *   1  IER, bits 0-3 (ERBFI, ETBEI, ELSI, EDSSI); bits 4-7 read 0.
 *      DLAB=1: divisor latch high.
 *   2  read IIR, write FCR (DLAB does not matter here, as on a 16550A).
 *   3  LCR, read/write.
 *   4  MCR, bits 0-4 (DTR, RTS, OUT1, OUT2, LOOP); bits 5-7 read 0.
 *   5  LSR, read only (writes are factory test: ignored). Reading it clears
 *      the error bits.
 *   6  MSR, read only (writes ignored). Reading it clears the delta bits.
 *   7  SCR, read/write.
 *
 * Transmit: a byte written to THR goes to the console ring at once, so THR
 * and the shift register are always empty: LSR THRE and TEMT always read 1.
 * Nothing times the line speed on output. Bytes keep all 8 bits whatever
 * word length LCR selects: the console is a byte stream, not a wire, and a
 * guest that prints without programming LCR (reset value: 5 data bits)
 * must not have its output cut to 5 bits. The same holds for input.
 *
 * Receive: the caller feeds bytes with uart16550_rx(). The RX FIFO holds 16
 * bytes with FIFOs enabled (FCR bit 0), one byte (the RBR) without. A full
 * receiver refuses the byte (the caller keeps it and retries when
 * uart16550_rx_room() says so): input from the host is flow-controlled, so
 * it never overruns. The only overrun is a loopback transmit into a full
 * receiver: the looped byte is lost (the FIFO keeps its contents; in 16450
 * mode the RBR is overwritten, as the data sheet says) and LSR OE is set.
 * Parity, framing and break errors cannot happen.
 *
 * Interrupts, highest priority first (IIR bits 3-1; bits 7-6 read 11 while
 * FIFOs are enabled):
 *   line status  ELSI and an LSR error bit; cleared by reading LSR.
 *   RX data      ERBFI and the FIFO at or above its trigger level (1, 4, 8
 *                or 14 bytes; 1 in 16450 mode); cleared by reading below it.
 *   RX timeout   ERBFI, FIFO mode, data below the trigger level, and neither
 *                a byte arrived nor RBR was read for 4 character times.
 *                Cleared (and restarted) by reading RBR.
 *   THRE         ETBEI and the THRE latch. The latch is set when THR empties
 *                (right after every THR write, transmission being instant)
 *                and when ETBEI goes from 0 to 1 while THR is empty (always):
 *                Linux's 8250 driver needs an interrupt when it enables
 *                ETBEI, or its TX stalls. Reading IIR while THRE is the
 *                reported source, or writing THR, clears the latch.
 *   modem status EDSSI and an MSR delta bit; cleared by reading MSR.
 *
 * Time: the character timeout uses the vdev_clock, the character time
 * being (start + data + parity + stop bits) * 16 * divisor / 1.8432 MHz
 * (a divisor of 0, never programmed, times as 1). uart16550_next_event()
 * says when the timeout falls due and uart16550_tick() re-evaluates the
 * interrupt then. With no clock (NULL) the timeout is due at once: data
 * below the trigger level interrupts immediately, as in 16450 mode.
 *
 * Loopback (MCR bit 4): THR bytes go to the receiver instead of the
 * console, external input is refused, and the modem inputs follow the
 * modem control outputs (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2). Switching
 * loopback on or off changes the inputs the MSR sees, which sets the delta
 * bits like any other change.
 *
 * The interrupt line (pin UART16550_IRQ_PIN of the irq callback): on a PC
 * the UART's INTR pin reaches the PIC through a driver enabled by the OUT2
 * output, so the line is asserted only while an interrupt is pending, MCR
 * OUT2 is set and loopback is off (in loopback the data sheet forces the
 * outputs, OUT2 included, inactive). The callback runs only when the level
 * changes. A THR write clears THRE before the byte is sent and sets it
 * after, so each write is a fresh edge on an edge-triggered pin, as on
 * hardware where THR empties a character time later.
 *
 * Modem inputs outside loopback come from uart16550_set_modem_inputs();
 * after init they are CTS, DSR and DCD (a connected null-modem terminal),
 * so drivers that wait for CTS or carrier print at once.
 *
 * A wider access is split into byte accesses on consecutive registers, as
 * the ISA bus splits a 16-bit cycle to an 8-bit device; the bus keeps the
 * whole access inside the 8 ports.
 *
 * Pure logic: the caller owns the struct, the console and the clock, and
 * serialises calls (the VM's device lock). */
#ifndef KEEL_VDEV_UART16550_H
#define KEEL_VDEV_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/status.h"
#include "vdev/console.h"
#include "vdev/vdev.h"
#include "vm/bus.h"

#define UART16550_COM1_BASE 0x3F8
#define UART16550_COM1_IRQ 4 /* ISA IRQ the caller wires the pin to */
#define UART16550_LEN 8	     /* ports base..base+7 */
#define UART16550_FIFO_SIZE 16
#define UART16550_IRQ_PIN 0 /* the model's only interrupt output */

/* MSR input bits, for uart16550_set_modem_inputs(). */
#define UART16550_MSR_CTS 0x10
#define UART16550_MSR_DSR 0x20
#define UART16550_MSR_RI 0x40
#define UART16550_MSR_DCD 0x80

struct uart16550 {
	struct console *con;		/* where transmitted bytes go */
	const struct vdev_clock *clock; /* NULL: no character timing */
	vdev_irq_fn irq;		/* NULL: not wired */
	void *irq_ctx;
	bool irq_level; /* what the line was last set to */

	uint8_t ier, lcr, mcr, scr;
	uint8_t fcr;	   /* FIFO enable, DMA mode, trigger bits */
	uint8_t dll, dlm;  /* divisor latch */
	uint8_t lsr_err;   /* OE/PE/FE/BI, cleared by reading LSR */
	uint8_t msr_delta; /* DCTS/DDSR/TERI/DDCD, cleared by reading MSR */
	uint8_t modem_in;  /* external CTS/DSR/RI/DCD in MSR bit positions */
	bool thre_latch;   /* THRE interrupt source (see above) */

	uint8_t rx[UART16550_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint64_t rx_stamp; /* guest TSC of the last byte in or RBR read */
};

/* Resets every register as the data sheet's master reset does (divisor 0)
 * and wires the model: output to con (non-NULL), time from clock (may be
 * NULL), interrupts through irq(irq_ctx, UART16550_IRQ_PIN, level) (irq may
 * be NULL). The line starts deasserted; irq is not called. */
void uart16550_init(struct uart16550 *u, struct console *con, const struct vdev_clock *clock,
		    vdev_irq_fn irq, void *irq_ctx);

/* Offers one received byte. Returns false, leaving the UART unchanged, if
 * the receiver is full or in loopback: the caller keeps the byte. */
bool uart16550_rx(struct uart16550 *u, uint8_t byte) MUST_CHECK;

/* How many bytes uart16550_rx() would accept now. */
unsigned uart16550_rx_room(const struct uart16550 *u);

/* Sets the external modem inputs (UART16550_MSR_* bits; others ignored)
 * and the MSR delta bits for what changed. */
void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t lines);

/* The guest TSC at which the RX timeout falls due, or VDEV_NEVER if none is
 * pending or it already fired. */
uint64_t uart16550_next_event(const struct uart16550 *u);

/* Re-evaluates the interrupt at the current time; call at or after
 * uart16550_next_event(). */
void uart16550_tick(struct uart16550 *u);

/* Register with bus_register(pio, UART16550_COM1_BASE, UART16550_LEN,
 * &uart16550_ops, u, "com1"). */
extern const struct bus_ops uart16550_ops;

#endif
