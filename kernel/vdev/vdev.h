/* Conventions every device model of the virtual PC follows (issue 5), so
 * kernel/vm can wire them together:
 *
 *  - Pure logic: a model owns no memory and touches no hardware; the caller
 *    owns the struct and serialises calls (the VM's device lock).
 *  - Guest accesses arrive through struct bus_ops (vm/bus.h), registered on
 *    the VM's PIO or MMIO bus; offsets are relative to the range base.
 *    Accesses a register does not define read all-ones / are ignored, as
 *    empty bus space, never an error: a guest cannot stop its VM by poking
 *    a device.
 *  - Time: one timebase for every model, the guest TSC. A model reads it
 *    through struct vdev_clock and converts with clock->hz, never from a
 *    host timer. A model with something due later says when (a TSC value)
 *    so the VM core can wake a halted vCPU or arm a host timer then, and
 *    has a tick function the core calls at or after that time.
 *  - Interrupts out: a model raises and lowers its lines through a
 *    vdev_irq_fn (level semantics: true = asserted; an edge is a raise then
 *    a lower). Lines are numbered by the model's own pins.
 */
#ifndef KEEL_VDEV_VDEV_H
#define KEEL_VDEV_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#define VDEV_NEVER UINT64_MAX /* "nothing due" */

struct vdev_clock {
	void *ctx;
	uint64_t (*now)(void *ctx); /* guest TSC */
	uint64_t hz;		    /* guest TSC ticks per second (> 0) */
};

typedef void (*vdev_irq_fn)(void *ctx, unsigned line, bool level);

static inline uint64_t vdev_now(const struct vdev_clock *c)
{
	return c->now(c->ctx);
}

/* ticks of a clock running at freq Hz that fit in `tsc` guest TSC ticks,
 * without overflow for any realistic interval (128-bit intermediate). */
static inline uint64_t vdev_tsc_to_ticks(const struct vdev_clock *c, uint64_t tsc, uint64_t freq)
{
	return (uint64_t)(((unsigned __int128)tsc * freq) / c->hz);
}

/* The guest TSC delta that `ticks` of a freq Hz clock take, rounded up. */
static inline uint64_t vdev_ticks_to_tsc(const struct vdev_clock *c, uint64_t ticks, uint64_t freq)
{
	return (uint64_t)((((unsigned __int128)ticks * c->hz) + freq - 1) / freq);
}

#endif
