/* The ACPI power-management timer (ACPI 6.x, 4.8.3.3): a free-running
 * counter at 3.579545 MHz that the guest reads from the port the FADT names
 * in PM_TMR_BLK (PM_TMR_LEN = 4).
 *
 * Width: 24 bits. The FADT must leave TMR_VAL_EXT (flags bit 8) clear; bits
 * 31-24 read 0. 24 bits is what every OS handles (Linux's clocksource masks
 * to 24 bits whatever the flag says), and its top bit toggles every 2.3 s,
 * often enough that the TMR_STS path gets exercised.
 *
 * Time: counter = ticks of 3579545 Hz in the guest TSC elapsed since
 * start_tsc (VM start), truncated to 24 bits: nothing ticks in the
 * background, and the value shares its timebase with the PIT, RTC and
 * LAPIC timer. A read before start_tsc reads 0.
 *
 * TMR_STS (PM1_STS bit 0) is set whenever bit 23 changes, i.e. every 2^23
 * ticks. The PM1 event block owns that status bit; the core asks this
 * model how many toggles happened with pmtimer_overflows_since(), which
 * advances a cursor the caller keeps (0 at VM start: the toggles counted
 * since start_tsc), and wakes up at pmtimer_overflow_due().
 *
 * Port: pmtimer_ops answers a 4-byte read at offset 0 with the counter.
 * Other reads return all-ones, writes are ignored (the register is a
 * read-only DWORD: ACPI requires 32-bit accesses to it).
 *
 * Pure logic: the struct is written only by pmtimer_init(). */
#ifndef KEEL_VDEV_PMTIMER_H
#define KEEL_VDEV_PMTIMER_H

#include <stdint.h>

#include "vdev/vdev.h"
#include "vm/bus.h"

#define PMTIMER_HZ 3579545u
#define PMTIMER_BITS 24
#define PMTIMER_MASK ((1u << PMTIMER_BITS) - 1)
#define PMTIMER_LEN 4 /* FADT PM_TMR_LEN */

struct pmtimer {
	const struct vdev_clock *clock;
	uint64_t start_tsc; /* counter reads 0 here */
};

/* The counter starts at 0 at guest TSC start_tsc. clock must outlive t. */
void pmtimer_init(struct pmtimer *t, const struct vdev_clock *clock, uint64_t start_tsc);

/* The counter now, as the guest reads it (24 bits). */
uint32_t pmtimer_read(const struct pmtimer *t);

/* Toggles of the counter's top bit (TMR_STS events) from start_tsc to now. */
uint64_t pmtimer_overflows(const struct pmtimer *t);

/* Toggles since *cursor (a value of pmtimer_overflows(), 0 at VM start);
 * moves *cursor to now. Nonzero: set TMR_STS (pm_timer_carry()). */
uint64_t pmtimer_overflows_since(const struct pmtimer *t, uint64_t *cursor);

/* Guest TSC of the first toggle after those counted in cursor. */
uint64_t pmtimer_overflow_due(const struct pmtimer *t, uint64_t cursor);

/* Register with bus_register(pio, PM_TMR_BLK, PMTIMER_LEN, &pmtimer_ops, t,
 * "pmtimer"). */
extern const struct bus_ops pmtimer_ops;

#endif
