/* Keel's test device (see testdev.h and testdev_abi.h). */
#include <stdbool.h>

#include "vdev/testdev.h"
#include "keel/kstring.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define BITS_PER_BYTE 8u
#define REG32_LEN 4u	/* bytes in SCRATCH, HASH, MMIO_COUNT, ... */
#define HASH_FACTOR 31u /* hash = hash * 31 + byte */
#define DIR_READ 0
#define DIR_WRITE 1

void testdev_init(struct testdev *t)
{
	memset(t, 0, sizeof(*t));
}

/* Does [off, off+size) lie within the len bytes of the register at reg? */
static bool within(uint64_t off, uint8_t size, uint64_t reg, uint64_t len)
{
	return off >= reg && off - reg < len && size <= len - (off - reg);
}

/* ---- interrupt source ---- */

static void irq_raise(struct testdev *t, uint8_t vector)
{
	if (vector < TESTDEV_IRQ_FIRST_VECTOR) {
		t->bad_raises++;
		return;
	}
	if (t->pending)
		t->overruns++;
	t->pending = vector;
}

int testdev_irq_pending(const struct testdev *t)
{
	return t->pending;
}

void testdev_irq_delivered(struct testdev *t)
{
	if (!t->pending)
		return;
	t->pending = 0;
	t->delivered++;
}

/* ---- PIO block ---- */

/* SCRATCH from byte off on; the bus keeps only the low size bytes. */
static uint64_t scratch_read(const struct testdev *t, uint64_t off)
{
	return t->scratch >> ((off - TESTDEV_SCRATCH) * BITS_PER_BYTE);
}

static void scratch_write(struct testdev *t, uint64_t off, uint8_t size, uint64_t val)
{
	for (uint8_t i = 0; i < size; i++) {
		unsigned shift = (unsigned)(off - TESTDEV_SCRATCH + i) * BITS_PER_BYTE;
		uint32_t byte = (uint32_t)(val >> (i * BITS_PER_BYTE)) & 0xFFu;

		t->scratch = (t->scratch & ~(0xFFu << shift)) | (byte << shift);
	}
}

static uint64_t read_byte_reg(struct testdev *t, uint64_t off)
{
	switch (off) {
	case TESTDEV_COUNTER:
		return t->counter++; /* uint8_t: wraps at 256 */
	case TESTDEV_MMIO_LAST_SIZE:
		return t->last_size;
	case TESTDEV_MMIO_LAST_DIR:
		return t->last_dir;
	case TESTDEV_IRQ_RAISE:
		return t->pending;
	default:
		return ALL_ONES;
	}
}

static uint64_t read_reg32(const struct testdev *t, uint64_t off)
{
	switch (off) {
	case TESTDEV_HASH:
		return t->hash;
	case TESTDEV_MMIO_LAST_OFF:
		return t->last_off;
	case TESTDEV_MMIO_COUNT:
		return t->mmio_count;
	case TESTDEV_IRQ_DELIVERED:
		return t->delivered;
	case TESTDEV_HOST_EPOCH:
		return t->host_epoch ? (uint32_t)t->host_epoch() : 0;
	default:
		return ALL_ONES;
	}
}

static void write_byte_reg(struct testdev *t, uint64_t off, uint8_t v)
{
	switch (off) {
	case TESTDEV_COUNTER:
		t->counter = v;
		break;
	case TESTDEV_HASH_IN:
		t->hash = t->hash * HASH_FACTOR + v; /* u32 arithmetic, wraps */
		break;
	case TESTDEV_IRQ_RAISE:
		irq_raise(t, v);
		break;
	case TESTDEV_BOOT_MARK:
		if (t->boot_mark)
			t->boot_mark(t->boot_mark_ctx);
		break;
	default:
		break;
	}
}

static status_t pio_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct testdev *t = dev;

	if (!within(off, size, 0, TESTDEV_PIO_LEN))
		return ST_ERANGE;
	if (within(off, size, TESTDEV_SCRATCH, REG32_LEN))
		*val = scratch_read(t, off);
	else if (size == 1)
		*val = read_byte_reg(t, off);
	else if (size == REG32_LEN)
		*val = read_reg32(t, off);
	else
		*val = ALL_ONES;
	return ST_OK;
}

static status_t pio_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct testdev *t = dev;

	if (!within(off, size, 0, TESTDEV_PIO_LEN))
		return ST_ERANGE;
	if (within(off, size, TESTDEV_SCRATCH, REG32_LEN))
		scratch_write(t, off, size, val);
	else if (within(off, size, TESTDEV_HASH, REG32_LEN))
		t->hash = 0;
	else if (within(off, size, TESTDEV_MMIO_COUNT, REG32_LEN))
		t->mmio_count = 0;
	else if (size == 1)
		write_byte_reg(t, off, (uint8_t)val);
	return ST_OK;
}

const struct bus_ops testdev_pio_ops = {.read = pio_read, .write = pio_write};

/* ---- MMIO page ---- */

static bool mmio_size_ok(uint8_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static void log_access(struct testdev *t, uint64_t off, uint8_t size, uint8_t dir)
{
	t->last_size = size;
	t->last_dir = dir;
	t->last_off = (uint32_t)off; /* < TESTDEV_MMIO_LEN, checked by the caller */
	t->mmio_count++;
}

static status_t mmio_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct testdev *t = dev;
	uint64_t v = 0;

	if (!mmio_size_ok(size) || !within(off, size, 0, TESTDEV_MMIO_LEN))
		return ST_ERANGE;
	for (uint8_t i = 0; i < size; i++)
		v |= (uint64_t)t->page[off + i] << (i * BITS_PER_BYTE);
	*val = v;
	log_access(t, off, size, DIR_READ);
	return ST_OK;
}

static status_t mmio_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct testdev *t = dev;

	if (!mmio_size_ok(size) || !within(off, size, 0, TESTDEV_MMIO_LEN))
		return ST_ERANGE;
	for (uint8_t i = 0; i < size; i++)
		t->page[off + i] = (uint8_t)(val >> (i * BITS_PER_BYTE));
	log_access(t, off, size, DIR_WRITE);
	return ST_OK;
}

const struct bus_ops testdev_mmio_ops = {.read = mmio_read, .write = mmio_write};
