/* Unit tests for the MC146818 RTC / CMOS and port 0x80, driven through a
 * real PIO bus with a fake guest TSC. Every test runs with a 2 GHz TSC and
 * with an awkward 1,234,567,891 Hz one.
 *
 * Epoch seconds and weekdays below were computed independently (Python's
 * datetime, UTC); register layouts and rates are the MC146818A
 * datasheet's; the memory bytes are the IBM AT CMOS map. Ports and
 * register numbers are spelled out rather than taken from rtc.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/rtc.h"
#include "vm/bus.h"

#define IDX 0x70
#define DATA 0x71
#define POST 0x80

#define R_SEC 0x00
#define R_SEC_AL 0x01
#define R_MIN 0x02
#define R_MIN_AL 0x03
#define R_HOUR 0x04
#define R_HOUR_AL 0x05
#define R_DOW 0x06
#define R_DAY 0x07
#define R_MON 0x08
#define R_YEAR 0x09
#define R_A 0x0A
#define R_B 0x0B
#define R_C 0x0C
#define R_D 0x0D
#define R_CENTURY 0x32

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BIN 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

/* 2026-12-01 23:59:58 UTC, a Tuesday. */
#define T_2026_12_01_235958 1796169598
#define T_2026_11_30_235959 1796083199 /* Monday */
#define T_2026_12_31_235959 1798761599 /* Thursday */
#define T_2028_02_28_235959 1835395199 /* Monday */
#define T_2099_12_31_235959 4102444799 /* Thursday */
#define T_1999_12_31_235959 946684799  /* Friday */

static const uint64_t T0 = 777777777; /* guest TSC at the wall time */

static uint64_t now_tsc;
static struct vdev_clock clk;
static struct bus pio;
static struct rtc rtc;
static struct postcode post;
static unsigned raises, lowers;
static bool level;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return now_tsc;
}

static void record_irq(void *ctx, unsigned line, bool lvl)
{
	assert_ptr_equal(ctx, &rtc);
	assert_int_equal(line, 0);
	assert_true(lvl != level); /* a level line: only changes are driven */
	if (lvl)
		raises++;
	else
		lowers++;
	level = lvl;
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

static void init(int64_t wall, uint64_t low, uint64_t high)
{
	struct rtc_config cfg = {
	    .clock = &clk,
	    .irq = record_irq,
	    .irq_ctx = &rtc,
	    .wall_secs = wall,
	    .wall_tsc = T0,
	    .ram_below_4g = low,
	    .ram_above_4g = high,
	};

	clk.now = fake_now;
	now_tsc = T0;
	raises = lowers = 0;
	level = false;
	rtc_init(&rtc, &cfg);
	postcode_init(&post);
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	assert_int_equal(bus_register(&pio, IDX, 2, &rtc_ops, &rtc, "rtc"), ST_OK);
	assert_int_equal(bus_register(&pio, POST, 1, &postcode_ops, &post, "post"), ST_OK);
}

static int setup(void **state)
{
	(void)state;
	init(T_2026_12_01_235958, 512 * MIB, 0);
	return 0;
}

static uint64_t in(uint64_t port, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A;

	assert_int_equal(bus_read(&pio, port, size, &v), ST_OK);
	return v;
}

static void out8(uint64_t port, uint8_t v)
{
	assert_int_equal(bus_write(&pio, port, 1, v), ST_OK);
}

static uint8_t rd(uint8_t reg)
{
	out8(IDX, reg);
	return (uint8_t)in(DATA, 1);
}

static void wr(uint8_t reg, uint8_t v)
{
	out8(IDX, reg);
	out8(DATA, v);
}

/* Guest TSC `us` microseconds after T0 (rounded down). */
static uint64_t at_us(int64_t us)
{
	return T0 + (uint64_t)(((__int128)us * (__int128)clk.hz) / 1000000);
}

static uint64_t at_s(uint64_t s)
{
	return T0 + s * clk.hz;
}

struct regs {
	uint8_t sec, min, hour, dow, day, mon, year, century;
};

static void assert_regs(struct regs want)
{
	assert_int_equal(rd(R_SEC), want.sec);
	assert_int_equal(rd(R_MIN), want.min);
	assert_int_equal(rd(R_HOUR), want.hour);
	assert_int_equal(rd(R_DOW), want.dow);
	assert_int_equal(rd(R_DAY), want.day);
	assert_int_equal(rd(R_MON), want.mon);
	assert_int_equal(rd(R_YEAR), want.year);
	assert_int_equal(rd(R_CENTURY), want.century);
}

/* ---- time of day ---- */

static void test_reset_registers(void **state)
{
	(void)state;
	assert_int_equal(rd(R_A), 0x26);
	assert_int_equal(rd(R_B), 0x02);
	assert_int_equal(rd(R_C), 0x00);
	assert_int_equal(rd(R_D), 0x80);
	wr(R_D, 0x00); /* read-only */
	assert_int_equal(rd(R_D), 0x80);
	assert_int_equal(rtc_irq_due(&rtc), VDEV_NEVER);
}

static void test_time_bcd_across_midnight(void **state)
{
	(void)state;
	assert_regs((struct regs){0x58, 0x59, 0x23, 3, 0x01, 0x12, 0x26, 0x20});
	now_tsc = at_s(1) - 1;
	assert_int_equal(rd(R_SEC), 0x58);
	now_tsc = at_s(1);
	assert_int_equal(rd(R_SEC), 0x59);
	now_tsc = at_s(2); /* Wednesday 2 December */
	assert_regs((struct regs){0x00, 0x00, 0x00, 4, 0x02, 0x12, 0x26, 0x20});
	now_tsc = at_s(2 + 3600 + 61);
	assert_regs((struct regs){0x01, 0x01, 0x01, 4, 0x02, 0x12, 0x26, 0x20});
	now_tsc = at_s(2 + 7 * 86400); /* a week on */
	assert_regs((struct regs){0x00, 0x00, 0x00, 4, 0x09, 0x12, 0x26, 0x20});
}

static void test_month_year_century_ends(void **state)
{
	(void)state;
	init(T_2026_11_30_235959, 16 * MIB, 0);
	assert_regs((struct regs){0x59, 0x59, 0x23, 2, 0x30, 0x11, 0x26, 0x20});
	now_tsc = at_s(1);
	assert_regs((struct regs){0x00, 0x00, 0x00, 3, 0x01, 0x12, 0x26, 0x20});

	init(T_2026_12_31_235959, 16 * MIB, 0);
	now_tsc = at_s(1);
	assert_regs((struct regs){0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x27, 0x20});

	init(T_2028_02_28_235959, 16 * MIB, 0); /* leap year */
	now_tsc = at_s(1);
	assert_regs((struct regs){0x00, 0x00, 0x00, 3, 0x29, 0x02, 0x28, 0x20});
	now_tsc = at_s(1 + 86400);
	assert_regs((struct regs){0x00, 0x00, 0x00, 4, 0x01, 0x03, 0x28, 0x20});

	init(T_1999_12_31_235959, 16 * MIB, 0);
	assert_regs((struct regs){0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x19});
	now_tsc = at_s(1);
	assert_regs((struct regs){0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20});

	init(T_2099_12_31_235959, 16 * MIB, 0); /* 2100: not a leap year */
	now_tsc = at_s(1);
	assert_regs((struct regs){0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21});
	now_tsc = at_s(1 + 59 * 86400);
	assert_regs((struct regs){0x00, 0x00, 0x00, 2, 0x01, 0x03, 0x00, 0x21});
}

static void test_binary_and_12_hour(void **state)
{
	(void)state;
	wr(R_B, B_BIN | B_24H);
	assert_regs((struct regs){58, 59, 23, 3, 1, 12, 26, 20});
	wr(R_B, 0x00); /* BCD, 12-hour: 11 PM */
	assert_int_equal(rd(R_HOUR), 0x91);
	wr(R_B, B_BIN); /* binary, 12-hour */
	assert_int_equal(rd(R_HOUR), 0x8B);
	now_tsc = at_s(2); /* midnight is 12 AM */
	assert_int_equal(rd(R_HOUR), 12);
	wr(R_B, 0x00);
	assert_int_equal(rd(R_HOUR), 0x12);
	now_tsc = at_s(2 + 3600); /* 1 AM */
	assert_int_equal(rd(R_HOUR), 0x01);
	now_tsc = at_s(2 + 12 * 3600); /* noon is 12 PM */
	assert_int_equal(rd(R_HOUR), 0x92);
	now_tsc = at_s(2 + 13 * 3600); /* 1 PM */
	assert_int_equal(rd(R_HOUR), 0x81);
	wr(R_B, B_BIN);
	assert_int_equal(rd(R_HOUR), 0x81);
	wr(R_B, B_24H);
	assert_int_equal(rd(R_HOUR), 0x13);
}

/* ---- update in progress ---- */

static void test_uip_window(void **state)
{
	(void)state;
	for (uint64_t s = 1; s <= 3; s++) {
		uint64_t update = at_s(s);

		now_tsc = update - (uint64_t)(250e-6 * (double)clk.hz);
		assert_int_equal(rd(R_A), 0x26);
		now_tsc = update - (uint64_t)(243e-6 * (double)clk.hz);
		assert_int_equal(rd(R_A), A_UIP | 0x26);
		now_tsc = update - 1;
		assert_int_equal(rd(R_A), A_UIP | 0x26);
		assert_int_equal(rd(R_SEC), s == 1 ? 0x58 : s == 2 ? 0x59 : 0x00);
		now_tsc = update;
		assert_int_equal(rd(R_A), 0x26);
	}
}

/* The window is exactly ceil(244 us * hz) TSC ticks. */
static void test_uip_exact_edge(void **state)
{
	(void)state;
	uint64_t window = (uint64_t)(((unsigned __int128)244 * clk.hz + 999999) / 1000000);

	now_tsc = at_s(1) - window - 1;
	assert_int_equal(rd(R_A) & A_UIP, 0);
	now_tsc = at_s(1) - window;
	assert_int_equal(rd(R_A) & A_UIP, A_UIP);
}

/* A guest polling register A sees UIP rise, then fall 244 us later, and
 * then reads the new second. */
static void test_uip_polling(void **state)
{
	(void)state;
	const uint64_t step = clk.hz / 200000; /* 5 us a poll */
	uint64_t rise, fall;

	now_tsc = at_us(300000);
	while (!(rd(R_A) & A_UIP))
		now_tsc += step;
	rise = now_tsc;
	assert_int_equal(rd(R_SEC), 0x58);
	while (rd(R_A) & A_UIP)
		now_tsc += step;
	fall = now_tsc;
	assert_int_equal(rd(R_SEC), 0x59);
	double us = (double)(fall - rise) * 1e6 / (double)clk.hz;

	assert_true(us > 244 - 5 - 1 && us < 244 + 5 + 1);
	assert_true(fall >= at_s(1) && fall < at_s(1) + step);
}

/* ---- SET ---- */

static void test_set_holds_written_time(void **state)
{
	(void)state;
	wr(R_B, B_SET | B_UIE | B_24H);
	assert_int_equal(rd(R_B), B_SET | B_24H); /* SET clears UIE */
	now_tsc = at_s(5);
	assert_int_equal(rd(R_SEC), 0x58); /* no updates */
	assert_int_equal(rd(R_A) & A_UIP, 0);
	now_tsc = at_us(5999900); /* just before an update: still no UIP */
	assert_int_equal(rd(R_A) & A_UIP, 0);
	/* No update-ended flag while SET holds; periodic flags go on (the
	 * divider runs). */
	assert_int_equal(rd(R_C), C_PF);

	/* 2030-06-15 12:34:56, a Saturday, written field by field. */
	wr(R_SEC, 0x56);
	wr(R_MIN, 0x34);
	wr(R_HOUR, 0x12);
	wr(R_DAY, 0x15);
	wr(R_MON, 0x06);
	wr(R_YEAR, 0x30);
	wr(R_DOW, 7);
	now_tsc = at_s(8);
	assert_regs((struct regs){0x56, 0x34, 0x12, 7, 0x15, 0x06, 0x30, 0x20});

	/* Cleared 0.3 s into a second: the divider phase is kept, so the
	 * next update still comes at a whole second of the old grid. */
	now_tsc = at_us(8300000);
	wr(R_B, B_24H);
	now_tsc = at_s(9) - 1;
	assert_int_equal(rd(R_SEC), 0x56);
	now_tsc = at_s(9);
	assert_int_equal(rd(R_SEC), 0x57);
	now_tsc = at_s(9 + 86400); /* a day on: Sunday */
	assert_regs((struct regs){0x57, 0x34, 0x12, 1, 0x16, 0x06, 0x30, 0x20});
}

static void test_set_keeps_raw_fields_until_cleared(void **state)
{
	(void)state;
	/* 31 December -> February 28: an impossible date in between must not
	 * move the result. */
	wr(R_B, B_SET | B_24H);
	wr(R_MON, 0x02);
	assert_int_equal(rd(R_MON), 0x02);
	assert_int_equal(rd(R_DAY), 0x01);
	wr(R_DAY, 0x31); /* 31 February, for a moment */
	assert_int_equal(rd(R_DAY), 0x31);
	wr(R_DAY, 0x28);
	wr(R_B, B_24H);
	/* The day-of-week byte was not rewritten: it still says Tuesday. */
	assert_regs((struct regs){0x58, 0x59, 0x23, 3, 0x28, 0x02, 0x26, 0x20});

	/* Left out of range, fields are clamped when SET clears. */
	wr(R_B, B_SET | B_24H);
	wr(R_DAY, 0x31);
	wr(R_SEC, 0x75);
	wr(R_MON, 0x13);
	wr(R_B, B_24H);
	assert_int_equal(rd(R_SEC), 0x59);
	assert_int_equal(rd(R_MON), 0x12);
	assert_int_equal(rd(R_DAY), 0x31);
}

static void test_set_12_hour_writes(void **state)
{
	(void)state;
	/* The bytes are read in the format in effect when SET clears. */
	wr(R_B, B_SET);	  /* 12-hour BCD */
	wr(R_HOUR, 0x12); /* 12 AM */
	wr(R_B, 0);
	assert_int_equal(rd(R_HOUR), 0x12);
	wr(R_B, B_24H);
	assert_int_equal(rd(R_HOUR), 0x00);
	wr(R_B, B_SET);
	wr(R_HOUR, 0x92); /* 12 PM */
	wr(R_B, 0);
	wr(R_B, B_24H);
	assert_int_equal(rd(R_HOUR), 0x12);
	wr(R_B, B_SET | B_BIN);
	wr(R_HOUR, 0x80 | 7); /* 7 PM, binary */
	wr(R_B, B_BIN);
	wr(R_B, B_24H);
	assert_int_equal(rd(R_HOUR), 0x19);
	/* Cleared together with a format change: the new format reads them. */
	wr(R_B, B_SET);
	wr(R_HOUR, 0x12);
	wr(R_B, B_24H);
	assert_int_equal(rd(R_HOUR), 0x12);
}

static void test_write_while_running(void **state)
{
	(void)state;
	now_tsc = at_us(400000);
	wr(R_MIN, 0x10);
	assert_int_equal(rd(R_MIN), 0x10);
	assert_int_equal(rd(R_SEC), 0x58);
	now_tsc = at_s(1); /* phase kept */
	assert_regs((struct regs){0x59, 0x10, 0x23, 3, 0x01, 0x12, 0x26, 0x20});
	wr(R_DOW, 6); /* an offset from the computed day */
	now_tsc = at_s(86400);
	assert_int_equal(rd(R_DOW), 7);
	assert_int_equal(rd(R_DAY), 0x02);
	now_tsc = at_s(2 * 86400);
	assert_int_equal(rd(R_DOW), 1);
	wr(R_CENTURY, 0x21);
	assert_int_equal(rd(R_YEAR), 0x26);
	assert_int_equal(rd(R_CENTURY), 0x21);
}

static void test_divider_reset(void **state)
{
	(void)state;
	now_tsc = at_us(250000);
	wr(R_A, 0x70); /* DV = 111: divider in reset */
	now_tsc = at_s(10);
	assert_int_equal(rd(R_SEC), 0x58);
	assert_int_equal(rd(R_A), 0x70);
	uint64_t t1 = at_us(10123456);

	now_tsc = t1;
	wr(R_A, 0x26);
	now_tsc = t1 + clk.hz / 2 - 1; /* the first update: 500 ms later */
	assert_int_equal(rd(R_SEC), 0x58);
	assert_int_equal(rd(R_A), A_UIP | 0x26);
	now_tsc = t1 + clk.hz / 2;
	assert_int_equal(rd(R_SEC), 0x59);
	now_tsc = t1 + clk.hz / 2 + clk.hz;
	assert_int_equal(rd(R_SEC), 0x00);
}

/* ---- interrupts ---- */

static void test_update_interrupt_and_c_clearing(void **state)
{
	(void)state;
	wr(R_A, 0x20);	    /* no periodic rate ... */
	wr(R_SEC_AL, 0x61); /* ... and no alarm match: only UF */
	wr(R_B, B_UIE | B_24H);
	for (uint64_t s = 1; s <= 5; s++) {
		assert_int_equal(rtc_irq_due(&rtc), at_s(s));
		now_tsc = at_s(s) - 1;
		rtc_update(&rtc);
		assert_false(level);
		now_tsc = at_s(s);
		rtc_update(&rtc);
		assert_true(level);
		assert_int_equal(rtc_irq_due(&rtc), VDEV_NEVER); /* until C is read */
		assert_int_equal(rd(R_C), C_IRQF | C_UF);
		assert_false(level);
		assert_int_equal(rd(R_C), 0);
	}
	assert_int_equal(raises, 5);
	assert_int_equal(lowers, 5);
}

static void test_flags_without_enables(void **state)
{
	(void)state;
	now_tsc = at_s(1);
	rtc_update(&rtc);
	assert_false(level);
	assert_int_equal(rd(R_C), C_PF | C_UF); /* set, but no IRQF */
	assert_int_equal(rd(R_C), 0);
	/* Enabling a source whose flag is already set asserts IRQ at once. */
	now_tsc = at_s(1) + clk.hz / 100;
	wr(R_B, B_PIE | B_24H);
	assert_true(level);
	assert_int_equal(raises, 1);
	assert_int_equal(rd(R_C), C_IRQF | C_PF);
	assert_false(level);
}

static unsigned count_periodic(uint64_t until)
{
	unsigned n = 0;

	for (uint64_t due = rtc_irq_due(&rtc); due <= until; due = rtc_irq_due(&rtc)) {
		assert_true(due > now_tsc);
		now_tsc = due;
		rtc_update(&rtc);
		assert_true(level);
		/* UF and AF come along at updates, without their enables. */
		assert_int_equal(rd(R_C) & (C_IRQF | C_PF), C_IRQF | C_PF);
		assert_false(level);
		n++;
	}
	return n;
}

static void test_periodic_rates(void **state)
{
	(void)state;
	static const struct {
		uint8_t rs;
		unsigned hz;
	} rates[] = {{1, 256}, {2, 128}, {3, 8192}, {6, 1024}, {10, 64}, {15, 2}};
	uint64_t t = T0;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		wr(R_A, (uint8_t)(0x20 | rates[i].rs));
		wr(R_B, B_PIE | B_24H);
		(void)rd(R_C);
		t += 2 * clk.hz;
		/* Whole seconds on the divider's grid: exact counts. */
		assert_int_equal(count_periodic(t), 2 * rates[i].hz);
		now_tsc = t;
	}
	/* The due times are the rate's grid: tick k at ceil(k * hz / rate). */
	wr(R_A, 0x26);
	(void)rd(R_C);
	for (uint64_t k = 1; k <= 5; k++) {
		uint64_t want = t + (uint64_t)(((unsigned __int128)k * clk.hz + 1024 - 1) / 1024);

		assert_int_equal(rtc_irq_due(&rtc), want);
		now_tsc = want;
		rtc_update(&rtc);
		(void)rd(R_C);
	}
	wr(R_A, 0x20); /* RS = 0: none */
	assert_int_equal(rtc_irq_due(&rtc), VDEV_NEVER);
}

static void test_periodic_long_run(void **state)
{
	(void)state;
	wr(R_B, B_PIE | B_24H);
	assert_int_equal(count_periodic(at_s(60)), 60 * 1024);
}

static void test_alarm(void **state)
{
	(void)state;
	wr(R_A, 0x20);
	/* 00:00:05, seven seconds after 23:59:58. */
	wr(R_HOUR_AL, 0x00);
	wr(R_MIN_AL, 0x00);
	wr(R_SEC_AL, 0x05);
	wr(R_B, B_AIE | B_24H);
	assert_int_equal(rtc_irq_due(&rtc), at_s(7));
	now_tsc = at_s(7) - 1;
	rtc_update(&rtc);
	assert_false(level);
	now_tsc = at_s(7);
	rtc_update(&rtc);
	assert_true(level);
	assert_int_equal(rd(R_C), C_IRQF | C_AF | C_UF);
	assert_int_equal(rtc_irq_due(&rtc), at_s(7 + 86400)); /* tomorrow */

	/* Don't-care hour and minute: every minute at :30. */
	wr(R_HOUR_AL, 0xC0);
	wr(R_MIN_AL, 0xFF);
	wr(R_SEC_AL, 0x30);
	assert_int_equal(rtc_irq_due(&rtc), at_s(32));
	now_tsc = at_s(32);
	rtc_update(&rtc);
	(void)rd(R_C);
	assert_int_equal(rtc_irq_due(&rtc), at_s(92));

	/* All don't care: every update. */
	wr(R_SEC_AL, 0xC0);
	assert_int_equal(rtc_irq_due(&rtc), at_s(33));

	/* An impossible alarm never fires. */
	wr(R_SEC_AL, 0x61);
	assert_int_equal(rtc_irq_due(&rtc), VDEV_NEVER);

	/* 12-hour alarm bytes: 1 PM on the first day is 13:00:00. */
	wr(R_B, B_AIE);
	wr(R_HOUR_AL, 0x81);
	wr(R_MIN_AL, 0x00);
	wr(R_SEC_AL, 0x00);
	assert_int_equal(rtc_irq_due(&rtc), at_s(2 + 13 * 3600));
}

/* A late update still reports the alarm it skipped over. */
static void test_alarm_seen_late(void **state)
{
	(void)state;
	wr(R_A, 0x20);
	wr(R_HOUR_AL, 0x00);
	wr(R_MIN_AL, 0x00);
	wr(R_SEC_AL, 0x03);
	now_tsc = at_s(100);
	assert_int_equal(rd(R_C) & C_AF, C_AF);
}

/* ---- CMOS RAM ---- */

static void assert_mem(uint64_t low, uint64_t high, const uint8_t want[13])
{
	static const uint8_t regs[] = {0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34,
				       0x35, 0x5B, 0x5C, 0x5D, 0x2E, 0x2F};

	init(T_2026_12_01_235958, low, high);
	for (size_t i = 0; i < sizeof(regs); i++) {
		if (rd(regs[i]) != want[i])
			fail_msg("CMOS 0x%02X: got 0x%02X, want 0x%02X", regs[i], rd(regs[i]),
				 want[i]);
	}
}

static void test_memory_bytes(void **state)
{
	(void)state;
	/* base 640 KiB = 0x280; ext (16-1) MiB = 15360 KiB = 0x3C00; checksum
	 * 0x80 + 0x02 + 0x00 + 0x3C = 0xBE. */
	static const uint8_t m16[13] = {0x80, 0x02, 0x00, 0x3C, 0x00, 0x3C, 0,
					0,    0,    0,	  0,	0x00, 0xBE};
	/* ext capped at 0xFFFF; above 16 MiB: 496 MiB / 64 KiB = 0x1F00. */
	static const uint8_t m512[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					 0x1F, 0,    0,	   0,	 0x02, 0x80};
	/* 3.5 GiB below 4 GiB: (3584 - 16) MiB / 64 KiB = 0xDF00. */
	static const uint8_t m3_5[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					 0xDF, 0,    0,	   0,	 0x02, 0x80};
	/* 3.5 GiB as 3 GiB + 512 MiB above 4 GiB: 0xBF00 and 0x002000. */
	static const uint8_t m3_5_split[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					       0xBF, 0x00, 0x20, 0x00, 0x02, 0x80};
	/* 6 GiB as 3 GiB + 3 GiB: 0xBF00 and 3 GiB / 64 KiB = 0x00C000. */
	static const uint8_t m6[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
				       0xBF, 0x00, 0xC0, 0x00, 0x02, 0x80};
	/* 6 GiB as 2 GiB + 4 GiB: 0x7F00 and 0x010000 (the third byte). */
	static const uint8_t m6_2[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					 0x7F, 0x00, 0x00, 0x01, 0x02, 0x80};

	assert_mem(16 * MIB, 0, m16);
	assert_mem(512 * MIB, 0, m512);
	assert_mem(3 * GIB + 512 * MIB, 0, m3_5);
	assert_mem(3 * GIB, 512 * MIB, m3_5_split);
	assert_mem(3 * GIB, 3 * GIB, m6);
	assert_mem(2 * GIB, 4 * GIB, m6_2);
	/* A "below 4 GiB" size past 4 GiB counts only up to 4 GiB. */
	static const uint8_t m5[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
				       0xFF, 0,	   0,	 0,    0x02, 0x80};

	assert_mem(5 * GIB, 0, m5);
}

/* Keel's layout past 3 GiB: 3 GiB below the hole, the rest from 4 GiB.
 * 0x34/0x35 stop at the hole; 0x5B-0x5D count 64 KiB units above 4 GiB,
 * three bytes, capped rather than wrapped. */
static void test_memory_bytes_above_4g(void **state)
{
	(void)state;
	/* 5 GiB: 0xBF00 below, 2 GiB / 64 KiB = 0x008000 above. */
	static const uint8_t m5g[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					0xBF, 0x00, 0x80, 0x00, 0x02, 0x80};
	/* 3 GiB + 2 MiB: 2 MiB / 64 KiB = 0x000020 above. */
	static const uint8_t m3g2m[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					  0xBF, 0x20, 0x00, 0x00, 0x02, 0x80};
	/* 1 TiB (KEEL_VM_MAX_MEM): 1021 GiB above = 0xFF4000 units, still fits. */
	static const uint8_t m1t[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					0xBF, 0x00, 0x40, 0xFF, 0x02, 0x80};
	/* 1 TiB above 4 GiB is 0x1000000 units: capped at 0xFFFFFF. */
	static const uint8_t cap[13] = {0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
					0xBF, 0xFF, 0xFF, 0xFF, 0x02, 0x80};

	assert_mem(3 * GIB, 2 * GIB, m5g);
	assert_mem(3 * GIB, 2 * MIB, m3g2m);
	assert_mem(3 * GIB, 1021 * GIB, m1t);
	assert_mem(3 * GIB, 1024 * GIB, cap);
	assert_mem(3 * GIB, 4096 * GIB, cap);
}

static void test_ram_index_and_nmi(void **state)
{
	(void)state;
	wr(0x40, 0x5A);
	wr(0x7F, 0xA5);
	assert_int_equal(rd(0x40), 0x5A);
	assert_int_equal(rd(0x7F), 0xA5);
	out8(IDX, 0x80 | 0x40); /* bit 7 masks NMI, bits 6-0 select */
	assert_true(rtc_nmi_masked(&rtc));
	assert_int_equal(in(DATA, 1), 0x5A);
	assert_int_equal(in(DATA, 1), 0x5A); /* the index does not move */
	out8(IDX, 0x40);
	assert_false(rtc_nmi_masked(&rtc));
	assert_int_equal(in(IDX, 1), 0xFF); /* index port is write-only */
	assert_int_equal(in(IDX, 2), 0xFFFF);
	assert_int_equal(bus_write(&pio, IDX, 2, 0x7741), ST_OK); /* ignored */
	assert_int_equal(in(DATA, 1), 0x5A);
	wr(R_C, 0xFF); /* read-only */
	assert_int_equal(rd(R_C), 0);
}

static void test_postcode(void **state)
{
	(void)state;
	assert_int_equal(in(POST, 1), 0xFF);
	out8(POST, 0x42);
	out8(POST, 0x17);
	assert_int_equal(in(POST, 1), 0x17);
	assert_int_equal(post.last, 0x17);
	assert_int_equal(post.writes, 2);
	/* A word access would cover 0x81 too: not this device's. */
	assert_int_equal(in(POST, 2), 0xFFFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_reset_registers, setup),
	    cmocka_unit_test_setup(test_time_bcd_across_midnight, setup),
	    cmocka_unit_test_setup(test_month_year_century_ends, setup),
	    cmocka_unit_test_setup(test_binary_and_12_hour, setup),
	    cmocka_unit_test_setup(test_uip_window, setup),
	    cmocka_unit_test_setup(test_uip_exact_edge, setup),
	    cmocka_unit_test_setup(test_uip_polling, setup),
	    cmocka_unit_test_setup(test_set_holds_written_time, setup),
	    cmocka_unit_test_setup(test_set_keeps_raw_fields_until_cleared, setup),
	    cmocka_unit_test_setup(test_set_12_hour_writes, setup),
	    cmocka_unit_test_setup(test_write_while_running, setup),
	    cmocka_unit_test_setup(test_divider_reset, setup),
	    cmocka_unit_test_setup(test_update_interrupt_and_c_clearing, setup),
	    cmocka_unit_test_setup(test_flags_without_enables, setup),
	    cmocka_unit_test_setup(test_periodic_rates, setup),
	    cmocka_unit_test_setup(test_periodic_long_run, setup),
	    cmocka_unit_test_setup(test_alarm, setup),
	    cmocka_unit_test_setup(test_alarm_seen_late, setup),
	    cmocka_unit_test_setup(test_memory_bytes, setup),
	    cmocka_unit_test_setup(test_memory_bytes_above_4g, setup),
	    cmocka_unit_test_setup(test_ram_index_and_nmi, setup),
	    cmocka_unit_test_setup(test_postcode, setup),
	};
	int failed = cmocka_run_group_tests_name("rtc, 2 GHz TSC", tests, group_fast, NULL);

	return failed +
	       cmocka_run_group_tests_name("rtc, 1234567891 Hz TSC", tests, group_odd, NULL);
}
