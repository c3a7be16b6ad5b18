/* I/O APIC model: 24 input pins, each routed by a redirection-table entry to
 * an interrupt message that the VM core hands to the vLAPICs (issue 5).
 * Written from the Intel 82093AA I/O APIC datasheet; the EOI register comes
 * from the later chipset I/O APICs (ICH family), which report version 0x20.
 *
 * Guest view (MMIO at IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_LEN bytes):
 *   0x00  IOREGSEL  index of the register IOWIN reaches (bits 7:0)
 *   0x10  IOWIN     the selected register
 *   0x40  EOI       write a vector: as ioapic_eoi() (write-only)
 * Every one of them takes 32-bit accesses only, as the datasheet asks of
 * software; other sizes, other offsets, and reads of EOI read all-ones and
 * are ignored on write. Indirect registers:
 *   0x00  ID   bits 27:24 R/W (4 bits, as the 82093AA)
 *   0x01  VER  IOAPIC_VERSION in bits 7:0, the highest entry (23) in 23:16
 *   0x02  ARB  bits 27:24 read-only, loaded from ID whenever ID is written
 *   0x10 + 2n / 0x11 + 2n  entry n, low / high half
 *   anything else reads all-ones and ignores writes.
 *
 * Version: 0x20, so a guest may clear Remote IRR through the EOI register.
 * Linux 6.1 uses it only when an interrupt reached the CPU as edge although
 * its entry is level; with version < 0x20 it would instead flip the entry to
 * edge and back, which this model also honours (see below).
 *
 * Entries reset to masked, everything else 0. Writable bits: vector, delivery
 * mode, destination mode, polarity, trigger mode, mask, destination (63:56,
 * all 8 bits: xAPIC systems use 8-bit physical IDs where the 82093AA's APIC
 * bus used 4). Reserved bits read 0. Delivery status (bit 12) always reads 0:
 * messages are handed to the core synchronously and never wait on a bus.
 *
 * Pins and polarity: ioapic_set_irq() gives the electrical level of the pin
 * (true = high). The entry's polarity bit says which level asserts: high for
 * active-high, low for active-low. Pins start low; the core must drive every
 * pin it declares active-low in ACPI (e.g. PCI INTx on GSI 16-23) high right
 * after init, or the first unmask sees an asserted line. A device model's
 * "asserted" therefore maps to level = asserted for an active-high line and
 * level = !asserted for an active-low one.
 *
 * Triggering (what the datasheet treats as level is level; the rest is edge):
 *  - Fixed and lowest-priority entries with the trigger bit set are level;
 *    every other entry is edge, as the datasheet treats NMI and INIT (and
 *    requires of SMI and ExtINT) whatever the trigger bit says.
 *  - Edge: a message on each transition of the pin into its active level
 *    while the entry is unmasked. An edge on a masked pin is lost, not held
 *    (datasheet: "not delivered or held pending"); writes never make edges.
 *  - Level: a message whenever the entry is unmasked, the pin active and
 *    Remote IRR clear; delivering it sets Remote IRR. So a masked level line
 *    that is still active delivers as soon as it is unmasked, and a line
 *    still active at EOI delivers again.
 *  - EOI (ioapic_eoi or the EOI register) clears Remote IRR of every level
 *    entry whose vector, as programmed at the time of the EOI, matches.
 *  - Remote IRR is read-only: a write that keeps an entry level keeps its
 *    Remote IRR (no delivery until the EOI, whatever else changed). A write
 *    that makes the entry edge clears it, since its meaning is undefined for
 *    edge entries and pre-0x20 software clears it by that flip.
 *  - Reserved delivery modes (3, 6) send nothing.
 *
 * Pure logic: the caller owns the struct and serialises calls. deliver runs
 * inside ioapic calls, after the model's state is updated; it must not call
 * back into the same ioapic. */
#ifndef KEEL_VDEV_IOAPIC_H
#define KEEL_VDEV_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/status.h"
#include "vm/bus.h"

#define IOAPIC_DEFAULT_BASE 0xFEC00000ull
#define IOAPIC_MMIO_LEN 0x1000ull
#define IOAPIC_PINS 24
#define IOAPIC_VERSION 0x20
#define IOAPIC_MAX_ID 0xF /* 4-bit ID field */

/* MMIO offsets. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* Indirect register indexes. */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10 /* entry n: low half 0x10 + 2n, high 0x11 + 2n */

/* Redirection-table entry fields. */
#define IOAPIC_RTE_VECTOR 0xFFull
#define IOAPIC_RTE_DM_SHIFT 8
#define IOAPIC_RTE_DM_MASK (7ull << IOAPIC_RTE_DM_SHIFT)
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIV_STATUS (1ull << 12) /* read-only */
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56
#define IOAPIC_RTE_DEST_MASK (0xFFull << IOAPIC_RTE_DEST_SHIFT)

/* Delivery modes (entry bits 10:8). */
enum ioapic_delivery_mode {
	IOAPIC_DM_FIXED = 0,
	IOAPIC_DM_LOWEST = 1,
	IOAPIC_DM_SMI = 2,
	IOAPIC_DM_RESERVED3 = 3,
	IOAPIC_DM_NMI = 4,
	IOAPIC_DM_INIT = 5,
	IOAPIC_DM_RESERVED6 = 6,
	IOAPIC_DM_EXTINT = 7,
};

/* One interrupt message, for the core to route to vLAPICs. */
struct ioapic_msg {
	uint8_t vector;	       /* meaningless for SMI, NMI, INIT, ExtINT */
	uint8_t delivery_mode; /* enum ioapic_delivery_mode, never reserved */
	bool dest_logical;     /* dest is a logical mask, not an APIC ID */
	uint8_t dest;	       /* entry bits 63:56 */
	bool level;	       /* level-triggered: the LAPIC sets TMR, EOI comes back */
	uint8_t pin;	       /* which input sent it (diagnostics) */
};

typedef void (*ioapic_deliver_fn)(void *ctx, const struct ioapic_msg *m);

struct ioapic {
	uint8_t id;	 /* ID register bits 27:24; ARB follows it */
	uint32_t regsel; /* IOREGSEL, bits 7:0 */
	uint64_t rte[IOAPIC_PINS];
	uint32_t pin_high; /* electrical level of each pin, bit n = pin n */
	ioapic_deliver_fn deliver;
	void *ctx;
};

/* Resets io: ID (and ARB) = id, every entry masked, every pin low.
 *   ST_EINVAL  io or deliver NULL.
 *   ST_ERANGE  id > IOAPIC_MAX_ID. */
status_t ioapic_init(struct ioapic *io, uint8_t id, ioapic_deliver_fn deliver,
		     void *ctx) MUST_CHECK;

/* The electrical level of pin (0..IOAPIC_PINS-1) is now `level` (true = high);
 * may deliver. A pin out of range is ignored: only Keel's own wiring names
 * pins, never the guest. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);

/* A LAPIC broadcast an EOI for vector: clears Remote IRR of every level entry
 * with that vector, and delivers again from those whose pin is still active
 * (and unmasked). */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* Register with bus_register(mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_LEN,
 * &ioapic_mmio_ops, io, "ioapic"). */
extern const struct bus_ops ioapic_mmio_ops;

#endif
