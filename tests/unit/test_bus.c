/* Unit tests for the port-I/O / MMIO bus: registration rules, dispatch,
 * empty-bus behaviour for unclaimed and straddling accesses, and error
 * pass-through. Devices are fakes that record the last call they saw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/bus.h"

#define ONES64 0xFFFFFFFFFFFFFFFFull
#define JUNK 0x1122334455667788ull /* fake device read value, high bits set */
#define NO_CALL 0xDEADull	   /* sentinel: device was not called */

struct fake_dev {
	unsigned reads, writes;
	uint64_t offset;
	uint8_t size;
	uint64_t val; /* last value written */
	status_t ret; /* status every callback returns */
};

static status_t fake_read(void *dev, uint64_t offset, uint8_t size, uint64_t *val)
{
	struct fake_dev *d = dev;

	d->reads++;
	d->offset = offset;
	d->size = size;
	*val = JUNK;
	return d->ret;
}

static status_t fake_write(void *dev, uint64_t offset, uint8_t size, uint64_t val)
{
	struct fake_dev *d = dev;

	d->writes++;
	d->offset = offset;
	d->size = size;
	d->val = val;
	return d->ret;
}

static const struct bus_ops fake_ops = {.read = fake_read, .write = fake_write};
static const struct bus_ops no_read_ops = {.read = NULL, .write = fake_write};

static struct bus pio, mmio;
static struct fake_dev devs[BUS_MAX_DEVICES + 1];

static int setup(void **state)
{
	(void)state;
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	bus_init(&mmio, "mmio", BUS_MMIO_LIMIT);
	memset(devs, 0, sizeof(devs));
	for (size_t i = 0; i < BUS_MAX_DEVICES + 1; i++)
		devs[i].offset = NO_CALL;
	return 0;
}

static status_t reg(struct bus *b, uint64_t base, uint64_t len, struct fake_dev *d)
{
	return bus_register(b, base, len, &fake_ops, d, "fake");
}

static void test_init(void **state)
{
	(void)state;
	assert_string_equal(pio.name, "pio");
	assert_int_equal(pio.limit, 0x10000);
	assert_int_equal(mmio.limit, 1ull << 52);
	assert_int_equal(pio.n, 0);
	assert_int_equal(pio.unclaimed_reads, 0);
	assert_int_equal(pio.unclaimed_writes, 0);
}

static void test_register_sorted(void **state)
{
	(void)state;
	static const uint64_t bases[] = {0x3F8, 0x60, 0xCF8, 0x20, 0x70, 0x2F8};
	const size_t nb = sizeof(bases) / sizeof(bases[0]);

	for (size_t i = 0; i < nb; i++)
		assert_int_equal(reg(&pio, bases[i], 8, &devs[i]), ST_OK);
	assert_int_equal(pio.n, nb);
	for (unsigned i = 1; i < pio.n; i++)
		assert_true(pio.ranges[i - 1].base + pio.ranges[i - 1].len <= pio.ranges[i].base);
	assert_int_equal(pio.ranges[0].base, 0x20);
	assert_int_equal(pio.ranges[nb - 1].base, 0xCF8);
	/* Fields are stored with their range after the shuffle. */
	const struct bus_range *r = bus_find(&pio, 0x3F8);
	assert_non_null(r);
	assert_ptr_equal(r->dev, &devs[0]);
	assert_ptr_equal(r->ops, &fake_ops);
	assert_string_equal(r->name, "fake");
	assert_int_equal(r->len, 8);
}

static void test_register_overlap_shapes(void **state)
{
	(void)state;
	/* Existing: [0x100, 0x110) and [0x200, 0x210). */
	assert_int_equal(reg(&pio, 0x100, 0x10, &devs[0]), ST_OK);
	assert_int_equal(reg(&pio, 0x200, 0x10, &devs[1]), ST_OK);

	static const struct {
		uint64_t base, len;
	} bad[] = {
	    {0x100, 0x10},  /* identical */
	    {0x100, 1},	    /* same base, shorter */
	    {0x100, 0x20},  /* same base, longer */
	    {0x104, 4},	    /* strictly inside */
	    {0x10F, 1},	    /* last byte */
	    {0x10F, 0x10},  /* starts on last byte, runs past */
	    {0xF0, 0x11},   /* ends on first byte */
	    {0xF0, 0x18},   /* ends inside */
	    {0xF0, 0x30},   /* contains it */
	    {0x108, 0x100}, /* from inside one into the next */
	    {0x50, 0x300},  /* swallows both */
	    {0x1FF, 2},	    /* gap into second's first byte */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(reg(&pio, bad[i].base, bad[i].len, &devs[2]), ST_EEXIST);
	assert_int_equal(pio.n, 2);

	/* Touching but not overlapping is fine on both sides and in the gap. */
	assert_int_equal(reg(&pio, 0xF0, 0x10, &devs[2]), ST_OK);
	assert_int_equal(reg(&pio, 0x110, 0xF0, &devs[3]), ST_OK);
	assert_int_equal(reg(&pio, 0x210, 1, &devs[4]), ST_OK);
	assert_int_equal(pio.n, 5);
}

static void test_register_limit(void **state)
{
	(void)state;
	assert_int_equal(reg(&pio, 0xFFFF, 2, &devs[0]), ST_ERANGE);
	assert_int_equal(reg(&pio, 0x10000, 1, &devs[0]), ST_ERANGE);
	assert_int_equal(reg(&pio, 0, 0x10001, &devs[0]), ST_ERANGE);
	assert_int_equal(reg(&pio, 0xFFFF, 1, &devs[0]), ST_OK);
	assert_int_equal(reg(&pio, 0, 0xFFFF, &devs[1]), ST_OK);

	uint64_t top = BUS_MMIO_LIMIT - 0x1000;
	assert_int_equal(reg(&mmio, top, 0x1001, &devs[2]), ST_ERANGE);
	assert_int_equal(reg(&mmio, BUS_MMIO_LIMIT, 0x1000, &devs[2]), ST_ERANGE);
	assert_int_equal(reg(&mmio, top, 0x1000, &devs[2]), ST_OK);
}

static void test_register_wrap(void **state)
{
	(void)state;
	struct bus wide;

	bus_init(&wide, "wide", ONES64);
	assert_int_equal(reg(&wide, ONES64, 2, &devs[0]), ST_ERANGE);
	assert_int_equal(reg(&wide, ONES64 - 0xF, 0x10, &devs[0]), ST_ERANGE); /* ends at 2^64 */
	assert_int_equal(reg(&wide, 0x1000, ONES64, &devs[0]), ST_ERANGE);
	assert_int_equal(reg(&mmio, ONES64 - 0xFFF, 0x2000, &devs[0]), ST_ERANGE);
	assert_int_equal(wide.n, 0);
	assert_int_equal(mmio.n, 0);
}

static void test_register_invalid(void **state)
{
	(void)state;
	assert_int_equal(reg(&pio, 0x60, 0, &devs[0]), ST_EINVAL);
	assert_int_equal(bus_register(&pio, 0x60, 1, NULL, &devs[0], "x"), ST_EINVAL);
	assert_int_equal(bus_register(&pio, 0x60, 1, &no_read_ops, &devs[0], "x"), ST_EINVAL);
	assert_int_equal(bus_register(NULL, 0x60, 1, &fake_ops, &devs[0], "x"), ST_EINVAL);
	assert_int_equal(bus_register(&pio, 0x60, 1, &fake_ops, NULL, NULL), ST_OK);
	assert_int_equal(pio.n, 1);
}

static void test_register_too_many(void **state)
{
	(void)state;
	/* Insert in descending order so every insert shifts the whole array. */
	for (unsigned i = 0; i < BUS_MAX_DEVICES; i++) {
		uint64_t base = 0x1000 - 0x10 * (i + 1);
		assert_int_equal(reg(&pio, base, 0x10, &devs[i]), ST_OK);
	}
	assert_int_equal(pio.n, BUS_MAX_DEVICES);
	assert_int_equal(reg(&pio, 0x2000, 1, &devs[BUS_MAX_DEVICES]), ST_ERANGE);
	assert_int_equal(pio.n, BUS_MAX_DEVICES);
	for (unsigned i = 1; i < pio.n; i++)
		assert_true(pio.ranges[i - 1].base < pio.ranges[i].base);

	/* Freeing one slot makes room again. */
	assert_int_equal(bus_unregister(&pio, 0x1000 - 0x10), ST_OK);
	assert_int_equal(reg(&pio, 0x2000, 1, &devs[BUS_MAX_DEVICES]), ST_OK);
}

static void test_find(void **state)
{
	(void)state;
	assert_null(bus_find(&pio, 0));
	assert_int_equal(reg(&pio, 0x40, 4, &devs[0]), ST_OK);
	assert_int_equal(reg(&pio, 0x60, 1, &devs[1]), ST_OK);
	assert_int_equal(reg(&pio, 0x64, 1, &devs[2]), ST_OK);

	assert_null(bus_find(&pio, 0x3F));
	assert_ptr_equal(bus_find(&pio, 0x40)->dev, &devs[0]);
	assert_ptr_equal(bus_find(&pio, 0x43)->dev, &devs[0]);
	assert_null(bus_find(&pio, 0x44));
	assert_ptr_equal(bus_find(&pio, 0x60)->dev, &devs[1]);
	assert_null(bus_find(&pio, 0x61));
	assert_ptr_equal(bus_find(&pio, 0x64)->dev, &devs[2]);
	assert_null(bus_find(&pio, 0x65));
	assert_null(bus_find(&pio, ONES64));
}

static void test_dispatch_offsets_sizes(void **state)
{
	(void)state;
	static const uint8_t sizes[] = {1, 2, 4, 8};
	static const uint64_t masks[] = {0xFF, 0xFFFF, 0xFFFFFFFF, ONES64};
	const uint64_t base = 0xFEE00000;
	uint64_t v;

	assert_int_equal(reg(&mmio, base, 0x1000, &devs[0]), ST_OK);
	assert_int_equal(reg(&mmio, base + 0x1000, 0x1000, &devs[1]), ST_OK);
	for (size_t i = 0; i < 4; i++) {
		uint8_t s = sizes[i];

		assert_int_equal(bus_read(&mmio, base + 0x300, s, &v), ST_OK);
		assert_int_equal(devs[0].offset, 0x300);
		assert_int_equal(devs[0].size, s);
		assert_int_equal(v, JUNK & masks[i]); /* masked to the access size */

		assert_int_equal(bus_write(&mmio, base + 0x1010, s, ONES64), ST_OK);
		assert_int_equal(devs[1].offset, 0x10);
		assert_int_equal(devs[1].size, s);
		assert_int_equal(devs[1].val, masks[i]); /* device sees only size bytes */
	}
	assert_int_equal(devs[0].reads, 4);
	assert_int_equal(devs[0].writes, 0);
	assert_int_equal(devs[1].writes, 4);
	assert_int_equal(devs[1].reads, 0);
	assert_int_equal(mmio.unclaimed_reads, 0);
	assert_int_equal(mmio.unclaimed_writes, 0);

	/* Last bytes of a range are still claimed. */
	assert_int_equal(bus_read(&mmio, base + 0xFF8, 8, &v), ST_OK);
	assert_int_equal(devs[0].offset, 0xFF8);
	assert_int_equal(bus_write(&pio, 0, 1, 0), ST_OK); /* other bus unaffected */
	assert_int_equal(pio.unclaimed_writes, 1);
}

static void test_unclaimed_all_ones(void **state)
{
	(void)state;
	uint64_t v;

	v = 0;
	assert_int_equal(bus_read(&pio, 0x80, 1, &v), ST_OK);
	assert_int_equal(v, 0xFF);
	v = 0;
	assert_int_equal(bus_read(&pio, 0x80, 2, &v), ST_OK);
	assert_int_equal(v, 0xFFFF);
	v = 0;
	assert_int_equal(bus_read(&pio, 0x80, 4, &v), ST_OK);
	assert_int_equal(v, 0xFFFFFFFF);
	v = 0;
	assert_int_equal(bus_read(&mmio, 0xC0000000, 8, &v), ST_OK);
	assert_int_equal(v, ONES64);
	/* Beyond the bus limit and at the very top of the address space. */
	v = 0;
	assert_int_equal(bus_read(&pio, 0x12345, 2, &v), ST_OK);
	assert_int_equal(v, 0xFFFF);
	v = 0;
	assert_int_equal(bus_read(&mmio, ONES64 - 3, 8, &v), ST_OK);
	assert_int_equal(v, ONES64);
	assert_int_equal(pio.unclaimed_reads, 4);
	assert_int_equal(mmio.unclaimed_reads, 2);
}

static void test_counters(void **state)
{
	(void)state;
	uint64_t v;

	assert_int_equal(reg(&pio, 0x60, 1, &devs[0]), ST_OK);
	assert_int_equal(bus_read(&pio, 0x60, 1, &v), ST_OK);
	assert_int_equal(bus_write(&pio, 0x60, 1, 0), ST_OK);
	assert_int_equal(pio.unclaimed_reads, 0);
	assert_int_equal(pio.unclaimed_writes, 0);

	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(bus_read(&pio, 0x61, 1, &v), ST_OK);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(bus_write(&pio, 0x5F, 1, 0x42), ST_OK);
	assert_int_equal(pio.unclaimed_reads, 3);
	assert_int_equal(pio.unclaimed_writes, 5);
	assert_int_equal(devs[0].reads, 1);
	assert_int_equal(devs[0].writes, 1);
}

/* Reads and writes at addr/size must both be unclaimed with no device call. */
static void expect_unclaimed(struct bus *b, uint64_t addr, uint8_t size)
{
	uint64_t r0 = b->unclaimed_reads, w0 = b->unclaimed_writes;
	uint64_t v = 0;

	assert_int_equal(bus_read(b, addr, size, &v), ST_OK);
	assert_int_equal(v, size == 8 ? ONES64 : (1ull << (size * 8)) - 1);
	assert_int_equal(bus_write(b, addr, size, 0), ST_OK);
	assert_int_equal(b->unclaimed_reads, r0 + 1);
	assert_int_equal(b->unclaimed_writes, w0 + 1);
}

static void test_straddle(void **state)
{
	(void)state;
	/* A [0x100,0x108), B [0x108,0x10C) adjacent; gap; C at the top of PIO. */
	assert_int_equal(reg(&pio, 0x100, 8, &devs[0]), ST_OK);
	assert_int_equal(reg(&pio, 0x108, 4, &devs[1]), ST_OK);
	assert_int_equal(reg(&pio, 0xFFFC, 4, &devs[2]), ST_OK);

	expect_unclaimed(&pio, 0x104, 8);  /* A into B */
	expect_unclaimed(&pio, 0x107, 2);  /* A's last byte into B */
	expect_unclaimed(&pio, 0x10A, 4);  /* B into the gap */
	expect_unclaimed(&pio, 0xFE, 4);   /* gap into A */
	expect_unclaimed(&pio, 0xFFFC, 8); /* C past the bus limit */
	expect_unclaimed(&pio, 0xFFFF, 2);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(devs[i].reads, 0);
		assert_int_equal(devs[i].writes, 0);
	}

	/* Exactly fitting at the end is claimed. */
	uint64_t v;
	assert_int_equal(bus_read(&pio, 0x104, 4, &v), ST_OK);
	assert_int_equal(devs[0].offset, 4);
	assert_int_equal(bus_read(&pio, 0xFFFC, 4, &v), ST_OK);
	assert_int_equal(devs[2].offset, 0);
	assert_int_equal(pio.unclaimed_reads, 6);
}

static void test_unregister(void **state)
{
	(void)state;
	uint64_t v;

	assert_int_equal(reg(&pio, 0x20, 2, &devs[0]), ST_OK);
	assert_int_equal(reg(&pio, 0x40, 4, &devs[1]), ST_OK);
	assert_int_equal(reg(&pio, 0x60, 1, &devs[2]), ST_OK);

	assert_int_equal(bus_unregister(&pio, 0x41), ST_ENOENT); /* inside, not base */
	assert_int_equal(bus_unregister(&pio, 0x30), ST_ENOENT);
	assert_int_equal(bus_unregister(&pio, 0x10), ST_ENOENT);
	assert_int_equal(bus_unregister(NULL, 0x40), ST_EINVAL);
	assert_int_equal(bus_unregister(&pio, 0x40), ST_OK);
	assert_int_equal(bus_unregister(&pio, 0x40), ST_ENOENT);
	assert_int_equal(pio.n, 2);
	assert_int_equal(pio.ranges[0].base, 0x20);
	assert_int_equal(pio.ranges[1].base, 0x60);

	assert_null(bus_find(&pio, 0x40));
	assert_int_equal(bus_read(&pio, 0x40, 4, &v), ST_OK);
	assert_int_equal(v, 0xFFFFFFFF);
	assert_int_equal(devs[1].reads, 0);
	assert_int_equal(pio.unclaimed_reads, 1);
	assert_ptr_equal(bus_find(&pio, 0x60)->dev, &devs[2]);

	/* The freed space can be claimed again, by a differently shaped range. */
	assert_int_equal(reg(&pio, 0x3E, 0x10, &devs[3]), ST_OK);
	assert_int_equal(bus_read(&pio, 0x40, 4, &v), ST_OK);
	assert_int_equal(devs[3].offset, 2);

	assert_int_equal(bus_unregister(&pio, 0x20), ST_OK);
	assert_int_equal(bus_unregister(&pio, 0x3E), ST_OK);
	assert_int_equal(bus_unregister(&pio, 0x60), ST_OK);
	assert_int_equal(pio.n, 0);
	assert_null(bus_find(&pio, 0x60));
}

static void test_invalid_sizes(void **state)
{
	(void)state;
	static const uint8_t bad[] = {0, 3, 5, 6, 7, 9, 16, 255};
	uint64_t v = 0x5A;

	assert_int_equal(reg(&pio, 0x60, 0x10, &devs[0]), ST_OK);
	for (size_t i = 0; i < sizeof(bad); i++) {
		assert_int_equal(bus_read(&pio, 0x60, bad[i], &v), ST_EINVAL);
		assert_int_equal(bus_write(&pio, 0x60, bad[i], 0), ST_EINVAL);
		assert_int_equal(bus_read(&pio, 0x1000, bad[i], &v), ST_EINVAL);
		assert_int_equal(bus_write(&pio, 0x1000, bad[i], 0), ST_EINVAL);
	}
	assert_int_equal(v, 0x5A);
	assert_int_equal(bus_read(&pio, 0x60, 1, NULL), ST_EINVAL);
	assert_int_equal(bus_read(NULL, 0x60, 1, &v), ST_EINVAL);
	assert_int_equal(bus_write(NULL, 0x60, 1, 0), ST_EINVAL);
	assert_int_equal(devs[0].reads, 0);
	assert_int_equal(devs[0].writes, 0);
	assert_int_equal(pio.unclaimed_reads, 0);
	assert_int_equal(pio.unclaimed_writes, 0);
}

static void test_device_error(void **state)
{
	(void)state;
	uint64_t v = 0;

	assert_int_equal(reg(&mmio, 0x1000, 0x100, &devs[0]), ST_OK);
	devs[0].ret = ST_EBUSY;
	assert_int_equal(bus_read(&mmio, 0x1010, 2, &v), ST_EBUSY);
	assert_int_equal(v, 0xFFFF); /* not the device's partial value */
	assert_int_equal(bus_write(&mmio, 0x1020, 4, 7), ST_EBUSY);
	assert_int_equal(devs[0].offset, 0x20);
	devs[0].ret = ST_ENOTSUP;
	assert_int_equal(bus_read(&mmio, 0x1000, 8, &v), ST_ENOTSUP);
	assert_int_equal(v, ONES64);
	assert_int_equal(mmio.unclaimed_reads, 0);
	assert_int_equal(mmio.unclaimed_writes, 0);
	assert_int_equal(devs[0].reads, 2);
	assert_int_equal(devs[0].writes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_init, setup),
	    cmocka_unit_test_setup(test_register_sorted, setup),
	    cmocka_unit_test_setup(test_register_overlap_shapes, setup),
	    cmocka_unit_test_setup(test_register_limit, setup),
	    cmocka_unit_test_setup(test_register_wrap, setup),
	    cmocka_unit_test_setup(test_register_invalid, setup),
	    cmocka_unit_test_setup(test_register_too_many, setup),
	    cmocka_unit_test_setup(test_find, setup),
	    cmocka_unit_test_setup(test_dispatch_offsets_sizes, setup),
	    cmocka_unit_test_setup(test_unclaimed_all_ones, setup),
	    cmocka_unit_test_setup(test_counters, setup),
	    cmocka_unit_test_setup(test_straddle, setup),
	    cmocka_unit_test_setup(test_unregister, setup),
	    cmocka_unit_test_setup(test_invalid_sizes, setup),
	    cmocka_unit_test_setup(test_device_error, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
