/* The PC's pair of 8259A programmable interrupt controllers (issue 5): the
 * master at 0x20/0x21 with the slave's INT wired to its IR2, the slave at
 * 0xA0/0xA1 (IRQ 8-15), and the chipset's ELCR at 0x4D0/0x4D1. Written from
 * the Intel 8259A datasheet; the ELCR from the PIIX/ICH chipset datasheets.
 *
 * Ports (byte accesses only; wider ones read all-ones and are ignored):
 *   base+0 write: D4=1 ICW1; else D3=0 OCW2, D3=1 OCW3.
 *   base+1 write: ICW2, ICW3 (cascade mode), ICW4 (if ICW1 asked for it)
 *          during initialization; OCW1 (the IMR) otherwise.
 *   base+0 read:  IRR or ISR, as the last OCW3 selected (IRR after ICW1).
 *   base+1 read:  IMR.
 *   After an OCW3 poll command the next read of either port (the datasheet
 *   names only RD and CS) returns the poll word: 0x80 | level when a request
 *   is pending, which it acknowledges as an INTA would on that chip alone
 *   (ISR set, auto-EOI applied); 0 when there is none.
 *   ELCR: bit n = 1 makes IRQ n level-triggered. IRQ 0, 1, 2, 8 and 13 are
 *   always edge (those bits read 0), as on PIIX/ICH.
 *
 * Initialization (ICW1 resets, per the datasheet: edge sense, IMR cleared,
 * IR7 lowest priority, special mask mode off, IRR selected for reads, and
 * all ICW4 functions off until ICW4 comes). Also chosen here: ISR cleared
 * and poll and rotate-in-auto-EOI off, since whoever re-initializes a PIC
 * does not know to EOI what was in service before. ICW2 gives the vector
 * base (bits 7:3). ICW4: auto-EOI and special fully nested mode are honoured;
 * 8086 mode is assumed whatever bit 0 says (the INTA cycle modelled is the
 * 8086 one), and the buffered-mode bits are stored only: master and slave
 * are fixed by wiring. ICW1 LTIM makes every input of that chip level-
 * triggered, as on the 8259A; otherwise the ELCR decides.
 *
 * OCW2: every command is implemented: non-specific and specific EOI, rotate
 * on either, set and clear rotate in auto-EOI, set priority, no-op. In
 * special mask mode a non-specific EOI skips masked in-service levels.
 * OCW3: read IRR/ISR select, poll, special mask mode set/reset (in special
 * mask mode the ISR blocks nothing: only the IMR decides).
 *
 * Requests:
 *  - pic_set_irq()'s level is the request as the 8259A sees it (true =
 *    high = requesting); the chipset inverts active-low PCI lines before it.
 *  - Edge input: a rising edge latches the request, and it is held until the
 *    INTA cycle acknowledges it even if the line falls first. The datasheet
 *    asks the line to stay high until then, but Keel's devices signal an
 *    edge as a raise followed at once by a lower (vdev.h), which hardware
 *    would see as a glitch.
 *  - Level input: requests while high.
 *  - IR2 of the master follows the slave's INT output: it requests while
 *    that is high (so a slave whose INT stays high across an acknowledge,
 *    e.g. with auto-EOI, is not lost) and, like an edge input, from a rising
 *    edge until the master acknowledges it.
 *  - Priority: fully nested (an in-service level blocks itself and every
 *    lower one), rotating through the lowest-priority level; in special
 *    fully nested mode the master's in-service cascade level does not block
 *    a new request from its own slave.
 *
 * INTA (pic_intack): the master acknowledges its highest eligible request.
 * If that level has a slave (cascade mode, ICW3 bit set, and the slave's
 * ICW3 ID equal to the level), the slave supplies the vector and takes its
 * own acknowledge; a level that ICW3 says has a slave but no slave answers
 * for reads 0xFF (an undriven bus). Spurious requests, per the datasheet:
 *  - no eligible request on the master (the request went away: a level line
 *    fell, or the level was masked, before INTA): master base + 7, with no
 *    ISR bit set;
 *  - the master acknowledged IR2 but the slave's request went away: slave
 *    base + 7, nothing in service on the slave, but IR2 in service on the
 *    master, which the guest's spurious-IRQ15 handler must EOI.
 *
 * IRQ 2 is the cascade: pic_set_irq(p, 2, ...) is ignored (the ISA bus's
 * IRQ 2 pin reaches the slave's IR1, IRQ 9). Power-on state, which the
 * datasheet leaves undefined: every IMR bit set, vector base 0, no ICW
 * sequence in progress, so nothing reaches a guest before it programs the
 * PICs.
 *
 * Pure logic: the caller owns the struct and serialises calls. int_changed
 * runs inside pic calls, after the state is updated, whenever the master's
 * INT output changes; it must not call back into the same pic. */
#ifndef KEEL_VDEV_PIC_H
#define KEEL_VDEV_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/bus.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xA0
#define PIC_PORTS_LEN 2 /* base (A0 = 0) and base + 1 (A0 = 1) */
#define PIC_ELCR_BASE 0x4D0
#define PIC_ELCR_LEN 2 /* 0x4D0: IRQ 0-7, 0x4D1: IRQ 8-15 */
#define PIC_IRQS 16
#define PIC_CASCADE_IRQ 2 /* the master input the slave's INT drives */

enum pic_chip_id { PIC_MASTER = 0, PIC_SLAVE = 1, PIC_CHIPS = 2 };

enum pic_init_step { PIC_READY = 0, PIC_WANT_ICW2, PIC_WANT_ICW3, PIC_WANT_ICW4 };

struct pic_chip {
	uint8_t lines; /* input levels (the master's IR2: the slave's INT) */
	uint8_t latch; /* edge requests latched and not yet acknowledged */
	uint8_t isr, imr;
	uint8_t elcr;	   /* level-triggered inputs (chipset ELCR) */
	uint8_t lowest;	   /* lowest-priority level (7 after ICW1) */
	uint8_t base;	   /* ICW2 & 0xF8 */
	uint8_t icw3;	   /* master: levels with a slave; slave: its ID */
	uint8_t icw4;	   /* as written, for the buffered-mode bits */
	uint8_t init_step; /* enum pic_init_step */
	bool icw4_wanted, single, ltim;
	bool aeoi, sfnm, rotate_aeoi;
	bool special_mask, read_isr, poll;
};

typedef void (*pic_int_fn)(void *ctx, bool level);

struct pic {
	struct pic_chip chip[PIC_CHIPS];
	bool int_out; /* the master's INT, as last reported */
	pic_int_fn int_changed;
	void *ctx;
};

/* Power-on state (see above). int_changed may be NULL. */
void pic_init(struct pic *p, pic_int_fn int_changed, void *ctx);

/* Input irq (0-15, not 2) is now high (true) or low; out-of-range and 2 are
 * ignored (only Keel's wiring names lines, never the guest). */
void pic_set_irq(struct pic *p, unsigned irq, bool level);

/* The master's INT line: a request is pending above the in-service priority. */
bool pic_int_output(const struct pic *p);

/* The INTA cycle (for ExtINT delivery): the vector, with IRR -> ISR and
 * auto-EOI done, or a spurious vector as described above. */
uint8_t pic_intack(struct pic *p);

extern const struct bus_ops pic_master_ops; /* PIC_MASTER_BASE, PIC_PORTS_LEN */
extern const struct bus_ops pic_slave_ops;  /* PIC_SLAVE_BASE, PIC_PORTS_LEN */
extern const struct bus_ops pic_elcr_ops;   /* PIC_ELCR_BASE, PIC_ELCR_LEN */

#endif
