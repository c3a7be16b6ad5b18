/* Unit tests for the ACPI PM timer: value against elapsed guest time, the
 * 24-bit wrap, TMR_STS toggles and their due times, and the port. Run with
 * a 2 GHz TSC and with an awkward 1,234,567,891 Hz one. Expected values
 * are computed in floating point from the ACPI rate (3.579545 MHz), not
 * with the model's integer arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/pmtimer.h"
#include "vm/bus.h"

#define ACPI_PM_HZ 3579545.0
#define PORT 0x608 /* any port: the core picks it */
#define MASK24 0xFFFFFFu
#define TOGGLE (1ull << 23)

static uint64_t now_tsc;
static struct vdev_clock clk;
static struct pmtimer pmt;
static struct bus pio;
static const uint64_t start = 5555555555ull;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return now_tsc;
}

static int group_fast(void **state)
{
	(void)state;
	clk.hz = 2000000000ull;
	return 0;
}

static int group_odd(void **state)
{
	(void)state;
	clk.hz = 1234567891ull;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	clk.now = fake_now;
	now_tsc = start;
	pmtimer_init(&pmt, &clk, start);
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	assert_int_equal(bus_register(&pio, PORT, 4, &pmtimer_ops, &pmt, "pmtmr"), ST_OK);
	return 0;
}

static uint64_t in(uint64_t port, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A;

	assert_int_equal(bus_read(&pio, port, size, &v), ST_OK);
	return v;
}

/* Ticks an ideal 3.579545 MHz counter shows after `secs` seconds. */
static double ideal_ticks(double secs)
{
	return secs * ACPI_PM_HZ;
}

static void test_value_tracks_time(void **state)
{
	(void)state;
	static const double secs[] = {0, 1e-6, 0.001, 0.0333, 0.5, 1.0, 2.0, 4.6};

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		now_tsc = start + (uint64_t)(secs[i] * (double)clk.hz);
		double want = ideal_ticks((double)(now_tsc - start) / (double)clk.hz);
		uint64_t full = (uint64_t)want; /* within one tick of this */
		uint32_t got = (uint32_t)in(PORT, 4);
		uint32_t diff = (got - (uint32_t)full) & MASK24;

		assert_true(diff <= 1 || diff == MASK24);
		assert_int_equal(got, pmtimer_read(&pmt));
		assert_int_equal(got & ~MASK24, 0); /* 24-bit: top byte reads 0 */
	}
}

static void test_monotonic_and_rate(void **state)
{
	(void)state;
	/* Over 10 s sampled every ~1 ms: each step adds the right ticks
	 * (within one), and the unwrapped total is exact to one tick. */
	uint32_t prev = pmtimer_read(&pmt);
	uint64_t total = 0;

	for (unsigned i = 0; i < 10000; i++) {
		uint64_t step = clk.hz / 1000 + (i % 7) * 1013;

		now_tsc += step;
		uint32_t v = pmtimer_read(&pmt);
		uint32_t delta = (v - prev) & MASK24;
		double want = ideal_ticks((double)step / (double)clk.hz);

		assert_true(delta >= want - 1 && delta <= want + 1);
		total += delta;
		prev = v;
	}
	double want = ideal_ticks((double)(now_tsc - start) / (double)clk.hz);

	assert_true(total >= want - 1 && total <= want + 1);
}

/* The guest TSC at which the counter has counted `ticks` (rounded up). */
static uint64_t tsc_of(uint64_t ticks)
{
	return start + (uint64_t)(((unsigned __int128)ticks * clk.hz + 3579545 - 1) / 3579545);
}

static void test_wrap_24_bits(void **state)
{
	(void)state;
	now_tsc = tsc_of(MASK24);
	assert_int_equal(pmtimer_read(&pmt), MASK24);
	now_tsc = tsc_of(1ull << 24) - 1;
	assert_int_equal(pmtimer_read(&pmt), MASK24);
	now_tsc = tsc_of(1ull << 24);
	assert_int_equal(pmtimer_read(&pmt), 0);
	now_tsc = tsc_of((1ull << 24) * 5 + 77);
	assert_int_equal(pmtimer_read(&pmt), 77);
}

static void test_overflow_status(void **state)
{
	(void)state;
	uint64_t cursor = 0;

	/* TMR_STS: bit 23 changes every 2^23 ticks, 0->1 and 1->0 alike. */
	assert_int_equal(pmtimer_overflow_due(&pmt, cursor), tsc_of(TOGGLE));
	now_tsc = tsc_of(TOGGLE) - 1;
	assert_int_equal(pmtimer_overflows_since(&pmt, &cursor), 0);
	assert_true(pmtimer_read(&pmt) < TOGGLE);
	now_tsc = tsc_of(TOGGLE);
	assert_int_equal(pmtimer_read(&pmt), TOGGLE);
	assert_int_equal(pmtimer_overflows_since(&pmt, &cursor), 1);
	assert_int_equal(pmtimer_overflows_since(&pmt, &cursor), 0); /* consumed */
	assert_int_equal(pmtimer_overflow_due(&pmt, cursor), tsc_of(2 * TOGGLE));
	/* The 1->0 change at the wrap counts too. */
	now_tsc = tsc_of(2 * TOGGLE);
	assert_int_equal(pmtimer_read(&pmt), 0);
	assert_int_equal(pmtimer_overflows_since(&pmt, &cursor), 1);
	/* A late look counts every toggle it missed. */
	now_tsc = tsc_of(7 * TOGGLE + 5);
	assert_int_equal(pmtimer_overflows_since(&pmt, &cursor), 5);
	assert_int_equal(pmtimer_overflows(&pmt), 7);
	assert_int_equal(pmtimer_overflow_due(&pmt, cursor), tsc_of(8 * TOGGLE));
	/* 2^23 / 3579545 = 2.34348 s apart. */
	double period = (double)(tsc_of(8 * TOGGLE) - tsc_of(7 * TOGGLE)) / (double)clk.hz;

	assert_true(period > 2.3434 && period < 2.3436);
}

static void test_port_accesses(void **state)
{
	(void)state;
	now_tsc = tsc_of(0x123456);
	assert_int_equal(in(PORT, 4), 0x123456);
	/* Only the 32-bit register read is defined. */
	assert_int_equal(in(PORT, 1), 0xFF);
	assert_int_equal(in(PORT, 2), 0xFFFF);
	assert_int_equal(in(PORT + 2, 2), 0xFFFF);
	assert_int_equal(bus_write(&pio, PORT, 4, 0), ST_OK);
	assert_int_equal(in(PORT, 4), 0x123456); /* read-only */
	/* Before start_tsc the counter reads 0. */
	now_tsc = start - 1000;
	assert_int_equal(in(PORT, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_value_tracks_time, setup),
	    cmocka_unit_test_setup(test_monotonic_and_rate, setup),
	    cmocka_unit_test_setup(test_wrap_24_bits, setup),
	    cmocka_unit_test_setup(test_overflow_status, setup),
	    cmocka_unit_test_setup(test_port_accesses, setup),
	};
	int failed = cmocka_run_group_tests_name("pmtimer, 2 GHz TSC", tests, group_fast, NULL);

	return failed +
	       cmocka_run_group_tests_name("pmtimer, 1234567891 Hz TSC", tests, group_odd, NULL);
}
