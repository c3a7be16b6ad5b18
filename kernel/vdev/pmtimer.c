/* ACPI PM timer (see pmtimer.h). */
#include "vdev/pmtimer.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define TOGGLE_TICKS (1ull << (PMTIMER_BITS - 1)) /* the top bit flips this often */

void pmtimer_init(struct pmtimer *t, const struct vdev_clock *clock, uint64_t start_tsc)
{
	t->clock = clock;
	t->start_tsc = start_tsc;
}

/* Ticks of the full-width counter since start_tsc. */
static uint64_t ticks(const struct pmtimer *t)
{
	uint64_t now = vdev_now(t->clock);

	if (now <= t->start_tsc)
		return 0;
	return vdev_tsc_to_ticks(t->clock, now - t->start_tsc, PMTIMER_HZ);
}

uint32_t pmtimer_read(const struct pmtimer *t)
{
	return (uint32_t)(ticks(t) & PMTIMER_MASK);
}

uint64_t pmtimer_overflows(const struct pmtimer *t)
{
	return ticks(t) / TOGGLE_TICKS;
}

uint64_t pmtimer_overflows_since(const struct pmtimer *t, uint64_t *cursor)
{
	uint64_t now = pmtimer_overflows(t);
	uint64_t n = now > *cursor ? now - *cursor : 0;

	*cursor = now;
	return n;
}

uint64_t pmtimer_overflow_due(const struct pmtimer *t, uint64_t cursor)
{
	return t->start_tsc + vdev_ticks_to_tsc(t->clock, (cursor + 1) * TOGGLE_TICKS, PMTIMER_HZ);
}

static status_t pmtimer_bus_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	if (off >= PMTIMER_LEN || size > PMTIMER_LEN - off)
		return ST_ERANGE;
	*val = (off == 0 && size == PMTIMER_LEN) ? pmtimer_read(dev) : ALL_ONES;
	return ST_OK;
}

static status_t pmtimer_bus_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	(void)dev;
	(void)val;
	if (off >= PMTIMER_LEN || size > PMTIMER_LEN - off)
		return ST_ERANGE;
	return ST_OK;
}

const struct bus_ops pmtimer_ops = {.read = pmtimer_bus_read, .write = pmtimer_bus_write};
