/* Unit tests for the 8254 PIT and port 0x61, driven through a real PIO bus
 * as a guest would, with a fake guest TSC moved by hand. Every test runs
 * twice: with a 2 GHz TSC and with an awkward 1,234,567,891 Hz one.
 *
 * Expected values come from the Intel 82C54 datasheet: the count is loaded
 * on the first clock after it is written, so "clock c" below is the TSC at
 * which c input clocks have passed since the write (tsc_at()). Ports and
 * command bytes are spelled out rather than taken from pit.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/pit.h"
#include "vm/bus.h"

#define CLOCK_HZ 1193182ull
#define CH0 0x40
#define CH1 0x41
#define CH2 0x42
#define CTRL 0x43
#define P61 0x61
#define P61_GATE 0x01
#define P61_SPEAKER 0x02
#define P61_REFRESH 0x10
#define P61_OUT2 0x20

/* Control words: SC RW M BCD. */
#define CW_CH0_WORD_MODE0 0x30
#define CW_CH0_WORD_MODE2 0x34
#define CW_CH0_WORD_MODE3 0x36
#define CW_CH0_WORD_MODE6 0x3C
#define CW_CH0_LATCH 0x00
#define CW_CH2_LSB_MODE0 0x90
#define CW_CH2_MSB_MODE0 0xA0
#define CW_CH2_WORD_MODE0 0xB0
#define CW_CH2_WORD_MODE0_BCD 0xB1
#define CW_CH2_WORD_MODE1 0xB2
#define CW_CH2_WORD_MODE2 0xB4
#define CW_CH2_WORD_MODE3 0xB6
#define CW_CH2_WORD_MODE4 0xB8
#define CW_CH2_WORD_MODE5 0xBA
#define CW_CH2_LATCH 0x80
#define RB_STATUS_CH0 0xE2
#define RB_STATUS_CH2 0xE8
#define RB_BOTH_CH0_CH2 0xCA
#define RB_COUNT_CH0_CH1 0xD6

#define SB_OUT 0x80
#define SB_NULL 0x40

static const uint64_t hz_fast = 2000000000ull;
static const uint64_t hz_odd = 1234567891ull;

static uint64_t now_tsc;
static struct vdev_clock clk;
static struct bus pio;
static struct pit pit;
static unsigned raises, lowers;
static bool level;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return now_tsc;
}

static void record_irq(void *ctx, unsigned line, bool lvl)
{
	assert_ptr_equal(ctx, &pit);
	assert_int_equal(line, 0);
	if (lvl) {
		assert_false(level); /* an edge: raise, then lower */
		raises++;
	} else {
		lowers++;
	}
	level = lvl;
}

static int group_fast(void **state)
{
	(void)state;
	clk.hz = hz_fast;
	return 0;
}

static int group_odd(void **state)
{
	(void)state;
	clk.hz = hz_odd;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	clk.now = fake_now;
	clk.ctx = NULL;
	now_tsc = 987654321; /* any start: nothing may assume 0 */
	raises = lowers = 0;
	level = false;
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	pit_init(&pit, &clk, record_irq, &pit);
	assert_int_equal(bus_register(&pio, 0x40, 4, &pit_ops, &pit, "pit"), ST_OK);
	assert_int_equal(bus_register(&pio, 0x61, 1, &pit_port61_ops, &pit, "p61"), ST_OK);
	return 0;
}

static uint64_t in(uint64_t port, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A;

	assert_int_equal(bus_read(&pio, port, size, &v), ST_OK);
	return v;
}

static uint8_t in8(uint64_t port)
{
	return (uint8_t)in(port, 1);
}

static void out8(uint64_t port, uint8_t v)
{
	assert_int_equal(bus_write(&pio, port, 1, v), ST_OK);
}

static void write_word(uint64_t port, uint16_t v)
{
	out8(port, (uint8_t)v);
	out8(port, (uint8_t)(v >> 8));
}

static uint16_t read_word(uint64_t port)
{
	uint16_t lo = in8(port);

	return (uint16_t)(lo | (in8(port) << 8));
}

/* The first guest TSC at which `clocks` PIT input clocks have passed since
 * t0: ceil(clocks * hz / 1193182). */
static uint64_t tsc_at(uint64_t t0, uint64_t clocks)
{
	return t0 + (uint64_t)(((unsigned __int128)clocks * clk.hz + CLOCK_HZ - 1) / CLOCK_HZ);
}

static void go(uint64_t t0, uint64_t clocks)
{
	now_tsc = tsc_at(t0, clocks);
}

/* Latched count of channel 2 (a latch command, then two reads). */
static uint16_t latched2(void)
{
	out8(CTRL, CW_CH2_LATCH);
	return read_word(CH2);
}

static bool out2(void)
{
	return in8(P61) & P61_OUT2;
}

static uint8_t status0(void)
{
	out8(CTRL, RB_STATUS_CH0);
	return in8(CH0);
}

/* Channel 2 with GATE high, programmed and loaded with count at now. */
static uint64_t start2(uint8_t cw, uint16_t count)
{
	out8(P61, P61_GATE);
	out8(CTRL, cw);
	write_word(CH2, count);
	return now_tsc;
}

/* ---- reset state and bus edges ---- */

static void test_init_state(void **state)
{
	(void)state;
	/* Mode 3, LSB then MSB, binary, no count: OUT high, null count. */
	assert_int_equal(status0(), SB_OUT | SB_NULL | 0x36);
	assert_int_equal(pit_irq_due(&pit), VDEV_NEVER);
	assert_int_equal(in8(P61) & ~P61_REFRESH, P61_OUT2);
	now_tsc += clk.hz; /* nothing counts without a count */
	pit_update(&pit);
	assert_int_equal(raises, 0);
}

static void test_bus_edges(void **state)
{
	(void)state;
	assert_int_equal(in8(CTRL), 0xFF); /* control word is write-only */
	assert_int_equal(in(CH0, 2), 0xFFFF);
	assert_int_equal(in(CH0, 4), 0xFFFFFFFF);
	/* A wide write (a control word for channel 0 in its high byte) is
	 * ignored. */
	assert_int_equal(bus_write(&pio, CH2, 2, 0x3034), ST_OK);
	assert_int_equal(pit_irq_due(&pit), VDEV_NEVER);
	assert_int_equal(status0(), SB_OUT | SB_NULL | 0x36);
}

/* ---- counting, per mode ---- */

static void test_mode0_counts_and_out(void **state)
{
	(void)state;
	out8(P61, P61_GATE);
	out8(CTRL, CW_CH2_WORD_MODE0);
	assert_false(out2()); /* mode 0: OUT low after the control word */
	uint64_t t0 = start2(CW_CH2_WORD_MODE0, 1000);

	go(t0, 1);
	assert_int_equal(latched2(), 1000);
	assert_false(out2());
	go(t0, 501);
	assert_int_equal(latched2(), 500);
	go(t0, 1000);
	assert_int_equal(latched2(), 1);
	now_tsc = tsc_at(t0, 1001) - 1;
	assert_false(out2());
	go(t0, 1001); /* N + 1 clocks after the write */
	assert_true(out2());
	assert_int_equal(latched2(), 0);
	go(t0, 1002); /* keeps counting, wraps, OUT stays high */
	assert_int_equal(latched2(), 0xFFFF);
	go(t0, 1001 + 65536);
	assert_int_equal(latched2(), 0);
	assert_true(out2());
}

static void test_mode2_rate_generator(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE2, 5);

	assert_true(out2());
	for (uint64_t c = 1; c <= 21; c++) {
		uint16_t want = (uint16_t)(5 - (c - 1) % 5); /* 5 4 3 2 1 5 4 ... */

		go(t0, c);
		assert_int_equal(latched2(), want);
		assert_int_equal(out2(), want != 1); /* low for the one clock at 1 */
	}
}

static void test_mode2_count_one_acts_as_two(void **state)
{
	(void)state;
	/* The datasheet's minimum count in modes 2 and 3 is 2. */
	uint64_t t0 = start2(CW_CH2_WORD_MODE2, 1);

	for (uint64_t c = 1; c <= 8; c++) {
		go(t0, c);
		assert_int_equal(latched2(), c % 2 ? 2 : 1);
		assert_int_equal(out2(), c % 2);
	}
}

static void check_square(uint16_t n, const uint16_t *ce, const bool *out, unsigned len)
{
	uint64_t t0 = start2(CW_CH2_WORD_MODE3, n);

	for (unsigned rep = 0; rep < 3; rep++) {
		for (unsigned i = 0; i < len; i++) {
			go(t0, 1 + rep * len + i);
			assert_int_equal(latched2(), ce[i]);
			assert_int_equal(out2(), out[i]);
		}
	}
}

static void test_mode3_square_wave(void **state)
{
	(void)state;
	/* Even: N, N-2, ... per half, OUT high then low for N/2 clocks each. */
	static const uint16_t even_ce[] = {6, 4, 2, 6, 4, 2};
	static const bool even_out[] = {1, 1, 1, 0, 0, 0};
	/* Odd: N-1 loaded, high for (N+1)/2 clocks, low for (N-1)/2. */
	static const uint16_t odd_ce[] = {4, 2, 0, 4, 2};
	static const bool odd_out[] = {1, 1, 1, 0, 0};

	check_square(6, even_ce, even_out, 6);
	check_square(5, odd_ce, odd_out, 5);
}

static void test_mode3_long_run_duty(void **state)
{
	(void)state;
	/* Odd count 1001: 501 clocks high, 500 low, every period. */
	uint64_t t0 = start2(CW_CH2_WORD_MODE3, 1001);

	for (uint64_t period = 0; period < 50; period += 7) {
		uint64_t c0 = 1 + period * 1001;

		go(t0, c0);
		assert_true(out2());
		go(t0, c0 + 500);
		assert_true(out2());
		go(t0, c0 + 501);
		assert_false(out2());
		go(t0, c0 + 1000);
		assert_false(out2());
		go(t0, c0 + 1001);
		assert_true(out2());
	}
}

static void test_count_zero_is_65536(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE2, 0);

	go(t0, 1);
	assert_int_equal(latched2(), 0);
	go(t0, 2);
	assert_int_equal(latched2(), 0xFFFF);
	go(t0, 65536);
	assert_int_equal(latched2(), 1);
	assert_false(out2());
	go(t0, 65537);
	assert_int_equal(latched2(), 0);
	assert_true(out2());
}

static void test_bcd(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE0_BCD, 0x1000); /* 1000 decimal */

	go(t0, 1);
	assert_int_equal(latched2(), 0x1000);
	go(t0, 2);
	assert_int_equal(latched2(), 0x0999);
	go(t0, 1000);
	assert_int_equal(latched2(), 0x0001);
	assert_false(out2());
	go(t0, 1001);
	assert_true(out2());
	go(t0, 1002); /* wraps in decades */
	assert_int_equal(latched2(), 0x9999);

	t0 = start2(CW_CH2_WORD_MODE0_BCD, 0); /* 0 = 10000 in BCD */
	go(t0, 1);
	assert_int_equal(latched2(), 0x0000);
	go(t0, 2);
	assert_int_equal(latched2(), 0x9999);
	go(t0, 10001);
	assert_true(out2());
}

static void test_mode1_one_shot(void **state)
{
	(void)state;
	out8(P61, 0);
	out8(CTRL, CW_CH2_WORD_MODE1);
	write_word(CH2, 10);
	assert_true(out2());
	now_tsc += clk.hz / 100; /* no trigger, nothing happens */
	assert_true(out2());
	out8(P61, P61_GATE); /* rising edge: trigger */
	uint64_t t1 = now_tsc;

	go(t1, 1);
	assert_false(out2());
	assert_int_equal(latched2(), 10);
	go(t1, 10);
	assert_false(out2());
	go(t1, 11);
	assert_true(out2());
	/* GATE low does not stop mode 1; a new edge retriggers. */
	out8(P61, 0);
	out8(P61, P61_GATE);
	t1 = now_tsc;
	go(t1, 1);
	assert_false(out2());
	go(t1, 11);
	assert_true(out2());
}

static void test_mode4_and_mode5_strobes(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE4, 10);

	go(t0, 10);
	assert_true(out2());
	go(t0, 11); /* count reaches 0: one clock low */
	assert_false(out2());
	assert_int_equal(latched2(), 0);
	go(t0, 12);
	assert_true(out2());

	out8(P61, 0);
	out8(CTRL, CW_CH2_WORD_MODE5);
	write_word(CH2, 10);
	now_tsc += clk.hz / 1000;
	assert_true(out2()); /* waits for a trigger */
	out8(P61, P61_GATE);
	t0 = now_tsc;
	go(t0, 11);
	assert_false(out2());
	go(t0, 12);
	assert_true(out2());
}

/* ---- access modes, latches, read-back ---- */

static void test_latch_freezes_until_read(void **state)
{
	(void)state;
	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, 0x1234);
	uint64_t t0 = now_tsc;

	go(t0, 1 + 0x10);
	out8(CTRL, CW_CH0_LATCH);
	go(t0, 1 + 0x300);
	assert_int_equal(in8(CH0), 0x24);
	out8(CTRL, CW_CH0_LATCH); /* ignored: the first is not fully read */
	go(t0, 1 + 0x600);
	assert_int_equal(in8(CH0), 0x12);
	/* Fully read: the next reads are live again. */
	assert_int_equal(read_word(CH0), 0x1234 - 0x600);
	/* A new latch after the read takes a new value. */
	out8(CTRL, CW_CH0_LATCH);
	go(t0, 1 + 0x700);
	assert_int_equal(read_word(CH0), 0x1234 - 0x600);
	assert_int_equal(read_word(CH0), 0x1234 - 0x700);
}

static void test_lsb_msb_sequencing(void **state)
{
	(void)state;
	uint64_t t0;

	/* LSB only: the MSB is 0, each read returns the LSB. */
	out8(P61, P61_GATE);
	out8(CTRL, CW_CH2_LSB_MODE0);
	out8(CH2, 0x80);
	t0 = now_tsc;
	go(t0, 1 + 0x10);
	assert_int_equal(in8(CH2), 0x70);
	assert_int_equal(in8(CH2), 0x70);
	go(t0, 0x81);
	assert_true(out2());

	/* MSB only: the LSB is 0, each read returns the MSB. */
	out8(CTRL, CW_CH2_MSB_MODE0);
	out8(CH2, 0x02);
	t0 = now_tsc;
	go(t0, 1);
	assert_int_equal(in8(CH2), 0x02);
	go(t0, 2);
	assert_int_equal(in8(CH2), 0x01); /* 0x1FF */
	go(t0, 1 + 0x100);
	assert_int_equal(in8(CH2), 0x01);
	go(t0, 0x201);
	assert_true(out2());

	/* Word: LSB then MSB, the flip-flop alternating; a control word
	 * resets it. */
	t0 = start2(CW_CH2_WORD_MODE0, 0xABCD);
	go(t0, 1);
	assert_int_equal(in8(CH2), 0xCD);
	out8(CTRL, CW_CH2_WORD_MODE0);
	write_word(CH2, 0x1234);
	t0 = now_tsc;
	go(t0, 1);
	assert_int_equal(in8(CH2), 0x34);
	assert_int_equal(in8(CH2), 0x12);
}

static void test_mode0_first_byte_stops(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE0, 10);

	go(t0, 11);
	assert_true(out2());
	out8(CH2, 100); /* first byte: counting stops, OUT low at once */
	assert_false(out2());
	uint16_t held = latched2();

	now_tsc += clk.hz / 100;
	assert_int_equal(latched2(), held);
	assert_false(out2());
	out8(CH2, 0); /* second byte: count 100 loads on the next clock */
	t0 = now_tsc;
	go(t0, 1);
	assert_int_equal(latched2(), 100);
	go(t0, 100);
	assert_false(out2());
	go(t0, 101);
	assert_true(out2());
}

static void test_read_back_status(void **state)
{
	(void)state;
	out8(P61, P61_GATE);
	out8(CTRL, CW_CH2_WORD_MODE3);
	out8(CTRL, RB_STATUS_CH2);
	assert_int_equal(in8(CH2), SB_OUT | SB_NULL | 0x36);
	write_word(CH2, 4);
	out8(CTRL, RB_STATUS_CH2);
	assert_int_equal(in8(CH2), SB_OUT | SB_NULL | 0x36); /* not loaded yet */
	go(now_tsc, 1);
	out8(CTRL, RB_STATUS_CH2);
	assert_int_equal(in8(CH2), SB_OUT | 0x36);

	/* Mode 0 without a count: OUT low. BCD shows in bit 0. */
	out8(CTRL, CW_CH0_WORD_MODE0 | 1);
	assert_int_equal(status0(), SB_NULL | 0x31);
	/* Modes 6 and 7 run as 2 and 3 but report the bits written. */
	out8(CTRL, CW_CH0_WORD_MODE6);
	write_word(CH0, 3);
	uint64_t t0 = now_tsc;

	go(t0, 3);
	assert_int_equal(status0(), 0x3C); /* count 1 of mode 2: OUT low */
	go(t0, 4);
	assert_int_equal(status0(), SB_OUT | 0x3C);

	/* A second status latch before the read is ignored. */
	go(t0, 6);
	out8(CTRL, RB_STATUS_CH0); /* count 1 again: OUT low */
	go(t0, 7);
	out8(CTRL, RB_STATUS_CH0);
	assert_int_equal(in8(CH0), 0x3C);
	assert_int_equal(in8(CH0), 3); /* then the live count's LSB */
}

static void test_read_back_several_channels(void **state)
{
	(void)state;
	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, 1000);
	uint64_t t0 = start2(CW_CH2_WORD_MODE0, 2000);

	go(t0, 101);
	out8(CTRL, RB_BOTH_CH0_CH2);
	go(t0, 501); /* counts frozen at clock 101 */
	assert_int_equal(in8(CH0), SB_OUT | 0x34);
	assert_int_equal(read_word(CH0), 900);
	assert_int_equal(in8(CH2), 0x30); /* mode 0 counting: OUT low, loaded */
	assert_int_equal(read_word(CH2), 1900);
	assert_int_equal(read_word(CH2), 1500); /* live again */

	/* Count only, channels 0 and 1: no status byte first. */
	out8(CTRL, RB_COUNT_CH0_CH1);
	go(t0, 601);
	assert_int_equal(read_word(CH0), 500);
	assert_int_equal(read_word(CH0), 400);
}

/* ---- GATE and port 0x61 ---- */

static void test_gate_mode2_stops_and_restarts(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE2, 100);

	go(t0, 31);
	assert_int_equal(latched2(), 70);
	out8(P61, 0);
	now_tsc += clk.hz / 50;
	assert_int_equal(latched2(), 70);
	assert_true(out2());
	/* A count written while stopped is not loaded: null count. */
	write_word(CH2, 100);
	now_tsc += clk.hz / 50;
	out8(CTRL, RB_STATUS_CH2);
	assert_int_equal(in8(CH2), SB_OUT | SB_NULL | 0x34);
	/* Gate low during the low pulse forces OUT high. */
	t0 = start2(CW_CH2_WORD_MODE2, 100);
	go(t0, 100);
	assert_false(out2());
	out8(P61, 0);
	assert_true(out2());
	/* The rising edge reloads the count on the next clock; OUT stays
	 * high meanwhile. */
	out8(P61, P61_GATE);
	uint64_t t1 = now_tsc;

	assert_true(out2());
	go(t1, 1);
	assert_int_equal(latched2(), 100);
	go(t1, 11);
	assert_int_equal(latched2(), 90);
	go(t1, 100);
	assert_false(out2());
	go(t1, 101);
	assert_true(out2());
}

static void test_gate_mode3_restarts(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE3, 10);

	go(t0, 8); /* low half */
	assert_false(out2());
	out8(P61, 0);
	assert_true(out2());
	now_tsc += 12345;
	out8(P61, P61_GATE);
	uint64_t t1 = now_tsc;

	go(t1, 1);
	assert_int_equal(latched2(), 10);
	assert_true(out2());
	go(t1, 6);
	assert_false(out2());
}

static void test_gate_mode0_pauses(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE0, 100);

	go(t0, 41);
	assert_int_equal(latched2(), 60);
	out8(P61, 0);
	now_tsc += clk.hz; /* a whole second with GATE low */
	assert_int_equal(latched2(), 60);
	assert_false(out2());
	out8(P61, P61_GATE);
	uint64_t t1 = now_tsc;

	go(t1, 10);
	assert_int_equal(latched2(), 50);
	go(t1, 59);
	assert_false(out2());
	go(t1, 60);
	assert_true(out2());
}

static void test_gate_low_when_count_written(void **state)
{
	(void)state;
	out8(P61, 0);
	out8(CTRL, CW_CH2_WORD_MODE0);
	write_word(CH2, 100);
	now_tsc += clk.hz; /* GATE low: the count waits */
	assert_int_equal(latched2(), 100);
	assert_false(out2());
	out8(P61, P61_GATE);
	uint64_t t1 = now_tsc;

	go(t1, 100);
	assert_false(out2());
	go(t1, 101);
	assert_true(out2());
}

static void test_gate_rewrite_is_not_an_edge(void **state)
{
	(void)state;
	uint64_t t0 = start2(CW_CH2_WORD_MODE2, 100);

	go(t0, 51);
	out8(P61, P61_GATE | P61_SPEAKER); /* GATE stays high */
	out8(P61, P61_GATE);
	go(t0, 61);
	assert_int_equal(latched2(), 40); /* not restarted */
}

static void test_count_rewritten_before_load(void **state)
{
	(void)state;
	/* Mode 2: a second count before the load pulse is the one loaded. */
	uint64_t t0 = start2(CW_CH2_WORD_MODE2, 100);

	write_word(CH2, 50);
	go(t0, 1);
	assert_int_equal(latched2(), 50);
	go(t0, 50);
	assert_false(out2());
	go(t0, 51);
	assert_int_equal(latched2(), 50);
}

static void test_port61_bits(void **state)
{
	(void)state;
	out8(P61, 0xFF); /* only bits 0-3 are stored */
	assert_int_equal(in8(P61) & 0xCF, 0x0F);
	out8(P61, P61_SPEAKER);
	assert_int_equal(in8(P61) & 0xCF, P61_SPEAKER);
	assert_int_equal(pit.ch[2].gate, false);

	/* The refresh bit toggles every 18 input clocks (~15 us). */
	uint64_t t0 = now_tsc;
	uint8_t r0 = in8(P61) & P61_REFRESH;
	unsigned flips = 0;

	for (uint64_t c = 1; c <= 18 * 100; c++) {
		go(t0, c);
		uint8_t r = in8(P61) & P61_REFRESH;

		flips += r != r0;
		r0 = r;
	}
	assert_in_range(flips, 99, 100);

	/* OUT2 follows a mode 3 square wave. */
	uint64_t t1 = start2(CW_CH2_WORD_MODE3, 10);

	for (uint64_t c = 1; c <= 40; c++) {
		go(t1, c);
		assert_int_equal(out2(), (c - 1) % 10 < 5);
	}
	/* ... and none of its edges is IRQ 0. */
	assert_int_equal(pit_irq_due(&pit), VDEV_NEVER);
	pit_update(&pit);
	assert_int_equal(raises, 0);
}

/* Linux's PIT calibration of the TSC: channel 2 in mode 0 with a 50 ms
 * count, GATE high and the speaker off through port 0x61, then poll port
 * 0x61 until OUT2 rises, reading the TSC in the loop. */
static void test_linux_tsc_calibration(void **state)
{
	(void)state;
	const uint16_t latch = (uint16_t)(CLOCK_HZ / 20);
	const uint64_t step = 1733; /* TSC ticks per loop iteration */

	out8(P61, (uint8_t)((in8(P61) & ~P61_SPEAKER) | P61_GATE));
	out8(CTRL, CW_CH2_WORD_MODE0);
	out8(CH2, (uint8_t)latch);
	out8(CH2, (uint8_t)(latch >> 8));
	uint64_t t0 = now_tsc;
	unsigned loops = 0;

	while (!(in8(P61) & P61_OUT2)) {
		now_tsc += step;
		loops++;
		assert_true(loops < 100000000);
	}
	uint64_t elapsed = now_tsc - t0;
	double want = (double)(latch + 1) * (double)clk.hz / CLOCK_HZ;

	assert_true((double)elapsed >= want);
	assert_true((double)elapsed < want + step + 1);
	/* The TSC frequency the guest derives is right to 1 in 10^4. */
	double derived = (double)elapsed * CLOCK_HZ / (latch + 1);

	assert_true(derived > clk.hz * 0.9999 && derived < clk.hz * 1.0001);
}

/* Linux's quick calibration: mode 0 from 0xFFFF, reading the live count
 * (LSB then MSB, no latch) and timing each change of the MSB. */
static void test_linux_quick_calibration(void **state)
{
	(void)state;
	out8(P61, P61_GATE);
	out8(CTRL, CW_CH2_WORD_MODE0);
	out8(CH2, 0xFF);
	out8(CH2, 0xFF);
	uint64_t t0 = now_tsc, first = 0, last = 0;
	uint8_t msb = 0xFF;
	unsigned changes = 0;

	while (changes < 64) {
		now_tsc += 997;
		(void)in8(CH2);
		uint8_t m = in8(CH2);

		if (m == msb)
			continue;
		assert_int_equal(m, (uint8_t)(msb - 1)); /* never skips */
		msb = m;
		if (changes++ == 0)
			first = now_tsc;
		last = now_tsc;
	}
	/* 63 MSB steps of 256 clocks each. */
	double want = 63.0 * 256 * clk.hz / CLOCK_HZ;

	assert_true((double)(last - first) > want - 997 && (double)(last - first) < want + 997);
	(void)t0;
}

/* ---- channel 0 interrupts ---- */

static void test_irq_mode2_due_times(void **state)
{
	(void)state;
	const uint16_t n = 1000;

	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, n);
	uint64_t t0 = now_tsc;

	for (uint64_t k = 1; k <= 20; k++) {
		uint64_t due = pit_irq_due(&pit);

		assert_int_equal(due, tsc_at(t0, 1 + k * n));
		now_tsc = due - 1;
		pit_update(&pit);
		assert_int_equal(raises, k - 1);
		now_tsc = due;
		pit_update(&pit);
		assert_int_equal(raises, k);
		assert_int_equal(lowers, k);
		assert_false(level);
	}
	/* A control word stops it until a count comes. */
	out8(CTRL, CW_CH0_WORD_MODE2);
	assert_int_equal(pit_irq_due(&pit), VDEV_NEVER);
}

static void test_irq_mode0_once(void **state)
{
	(void)state;
	out8(CTRL, CW_CH0_WORD_MODE0);
	write_word(CH0, 100);
	uint64_t t0 = now_tsc;

	assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 101));
	now_tsc = pit_irq_due(&pit);
	pit_update(&pit);
	assert_int_equal(raises, 1);
	assert_int_equal(pit_irq_due(&pit), VDEV_NEVER);
	now_tsc += clk.hz; /* the counter wraps, OUT stays high: no edge */
	pit_update(&pit);
	assert_int_equal(raises, 1);
	/* A new count re-arms it. */
	write_word(CH0, 50);
	assert_int_equal(pit_irq_due(&pit), tsc_at(now_tsc, 51));
}

static void test_irq_mode4_strobe(void **state)
{
	(void)state;
	out8(CTRL, 0x38); /* channel 0, LSB then MSB, mode 4 */
	write_word(CH0, 10);
	uint64_t t0 = now_tsc;

	/* OUT is low for clock 11 only: the rising edge is at clock 12. */
	assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 12));
	go(t0, 11);
	pit_update(&pit);
	assert_int_equal(raises, 0);
	go(t0, 12);
	pit_update(&pit);
	assert_int_equal(raises, 1);
	assert_int_equal(pit_irq_due(&pit), VDEV_NEVER);
}

static void test_irq_mode3_period(void **state)
{
	(void)state;
	out8(CTRL, CW_CH0_WORD_MODE3);
	write_word(CH0, 999);
	uint64_t t0 = now_tsc;

	for (uint64_t k = 1; k <= 10; k++) {
		assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 1 + k * 999));
		now_tsc = pit_irq_due(&pit);
		pit_update(&pit);
		assert_int_equal(raises, k);
	}
}

/* 100 Hz for an hour of guest time, updated exactly when due: every edge
 * is one interrupt, and the count matches the clock exactly. */
static void test_irq_long_run_exact(void **state)
{
	(void)state;
	const uint64_t n = 11932, secs = 3600;

	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, (uint16_t)n);
	uint64_t t0 = now_tsc, end = t0 + secs * clk.hz;

	for (uint64_t due = pit_irq_due(&pit); due <= end; due = pit_irq_due(&pit)) {
		assert_true(due > now_tsc);
		now_tsc = due;
		pit_update(&pit);
	}
	double ideal = (double)secs * CLOCK_HZ / n;

	assert_true(raises >= ideal - 1 && raises <= ideal + 1);
	assert_int_equal(raises, (secs * CLOCK_HZ - 1) / n);
	assert_int_equal(pit.irq_coalesced, 0);
}

/* Late updates lose no periods: they are counted, signalled as one, and
 * the next due time stays on the period grid. */
static void test_irq_late_updates_coalesce(void **state)
{
	(void)state;
	const uint64_t n = 1000;
	uint32_t seed = 12345;

	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, (uint16_t)n);
	uint64_t t0 = now_tsc;

	for (unsigned i = 0; i < 2000; i++) {
		uint64_t due = pit_irq_due(&pit);

		seed = seed * 1103515245u + 12345u;
		now_tsc = due + (seed >> 8) % (5 * tsc_at(0, n)); /* up to 5 periods late */
		pit_update(&pit);
		assert_int_equal(raises, i + 1);
		/* The next due is the first grid point after now. */
		assert_true(pit_irq_due(&pit) > now_tsc);
		uint64_t clocks =
		    (uint64_t)(((unsigned __int128)(now_tsc - t0) * CLOCK_HZ) / clk.hz);
		uint64_t next = 1 + ((clocks - 1) / n + 1) * n;

		assert_int_equal(pit_irq_due(&pit), tsc_at(t0, next));
	}
	uint64_t clocks = (uint64_t)(((unsigned __int128)(now_tsc - t0) * CLOCK_HZ) / clk.hz);

	assert_int_equal(pit.irq_edges, (clocks - 1) / n);
	assert_int_equal(pit.irq_raised + pit.irq_coalesced, pit.irq_edges);
	assert_true(pit.irq_coalesced > 0);
}

/* Edges seen by a port access are still signalled by the next update. */
static void test_irq_edge_seen_by_read(void **state)
{
	(void)state;
	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, 100);
	uint64_t t0 = now_tsc;

	go(t0, 150);
	(void)read_word(CH0);
	assert_true(pit_irq_due(&pit) <= now_tsc);
	pit_update(&pit);
	assert_int_equal(raises, 1);
	assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 201));
}

static void test_mode2_new_count_waits_for_period_end(void **state)
{
	(void)state;
	out8(CTRL, CW_CH0_WORD_MODE2);
	write_word(CH0, 1000);
	uint64_t t0 = now_tsc;

	go(t0, 1501);
	pit_update(&pit); /* the edge at clock 1001 */
	assert_int_equal(raises, 1);
	write_word(CH0, 500);
	assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 2001));
	go(t0, 2000);
	assert_int_equal(read_word(CH0), 1); /* still the old count */
	go(t0, 2001);
	assert_int_equal(read_word(CH0), 500);
	pit_update(&pit);
	assert_int_equal(raises, 2);
	assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 2501));
	now_tsc = pit_irq_due(&pit);
	pit_update(&pit);
	assert_int_equal(pit_irq_due(&pit), tsc_at(t0, 3001));
	assert_int_equal(raises, 3);
}

#define BOTH(t) cmocka_unit_test_setup(t, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_init_state),
	    BOTH(test_bus_edges),
	    BOTH(test_mode0_counts_and_out),
	    BOTH(test_mode2_rate_generator),
	    BOTH(test_mode2_count_one_acts_as_two),
	    BOTH(test_mode3_square_wave),
	    BOTH(test_mode3_long_run_duty),
	    BOTH(test_count_zero_is_65536),
	    BOTH(test_bcd),
	    BOTH(test_mode1_one_shot),
	    BOTH(test_mode4_and_mode5_strobes),
	    BOTH(test_latch_freezes_until_read),
	    BOTH(test_lsb_msb_sequencing),
	    BOTH(test_mode0_first_byte_stops),
	    BOTH(test_read_back_status),
	    BOTH(test_read_back_several_channels),
	    BOTH(test_gate_mode2_stops_and_restarts),
	    BOTH(test_gate_mode3_restarts),
	    BOTH(test_gate_mode0_pauses),
	    BOTH(test_gate_low_when_count_written),
	    BOTH(test_gate_rewrite_is_not_an_edge),
	    BOTH(test_count_rewritten_before_load),
	    BOTH(test_port61_bits),
	    BOTH(test_linux_tsc_calibration),
	    BOTH(test_linux_quick_calibration),
	    BOTH(test_irq_mode2_due_times),
	    BOTH(test_irq_mode0_once),
	    BOTH(test_irq_mode4_strobe),
	    BOTH(test_irq_mode3_period),
	    BOTH(test_irq_long_run_exact),
	    BOTH(test_irq_late_updates_coalesce),
	    BOTH(test_irq_edge_seen_by_read),
	    BOTH(test_mode2_new_count_waits_for_period_end),
	};
	int failed = cmocka_run_group_tests_name("pit, 2 GHz TSC", tests, group_fast, NULL);

	return failed +
	       cmocka_run_group_tests_name("pit, 1234567891 Hz TSC", tests, group_odd, NULL);
}
