/* QEMU isa-debug-exit model (see debugexit.h). */
#include "vdev/debugexit.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull

void debugexit_init(struct debugexit *d, debugexit_fn on_exit, void *ctx)
{
	d->on_exit = on_exit;
	d->ctx = ctx;
}

static status_t debugexit_read(void *dev, uint64_t offset, uint8_t size, uint64_t *val)
{
	(void)dev;
	(void)offset;
	(void)size;
	*val = ALL_ONES;
	return ST_OK;
}

static status_t debugexit_write(void *dev, uint64_t offset, uint8_t size, uint64_t val)
{
	struct debugexit *d = dev;

	if (offset >= DEBUG_EXIT_LEN || size > DEBUG_EXIT_LEN - offset)
		return ST_ERANGE;
	/* The bus already masked val to the access size, which is at most 4. */
	uint32_t v = (uint32_t)val;

	if (d->on_exit)
		d->on_exit(d->ctx, (v << 1) | 1);
	return ST_OK;
}

const struct bus_ops debugexit_ops = {.read = debugexit_read, .write = debugexit_write};
