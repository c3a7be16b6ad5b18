/* Unit tests for the first per-VM devices: console ring, output-only 8250,
 * isa-debug-exit, fw_cfg and the test device. Every device is registered at
 * its real address on real PIO and MMIO buses and driven only through
 * bus_read/bus_write, as a guest would, except the console ring's reader side
 * and the testdev interrupt hooks, which belong to Keel.
 *
 * Expected values come from the 8250/16550 data sheet, QEMU's fw_cfg spec
 * and vdev/testdev_abi.h; port numbers are spelled out rather than taken from
 * the models' headers, so a wrong constant there fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/console.h"
#include "vdev/debugexit.h"
#include "vdev/fwcfg.h"
#include "vdev/testdev.h"
#include "vdev/uart16550.h"
#include "vm/bus.h"

/* COM1 and its registers (8250 data sheet offsets). */
#define COM1 0x3F8
#define THR (COM1 + 0) /* DLAB=1: DLL */
#define IER (COM1 + 1) /* DLAB=1: DLM */
#define IIR (COM1 + 2) /* write: FCR */
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

#define DBG_EXIT 0xF4
#define FWCFG_SEL 0x510
#define FWCFG_DATA 0x511
#define TD 0x520 /* testdev PIO block */
#define TD_MMIO 0xFEB00000ull
#define PAGE 0x1000

#define RAM_SIZE 0x123456000ull /* bytes: 00 60 45 23 01 00 00 00 */
#define NB_CPUS 3
#define MAX_CPUS 0x0102

static struct bus pio, mmio;
static struct console con;
static struct uart16550 uart;
static struct debugexit dbg;
static struct fwcfg fwc;
static struct testdev td;

static unsigned exit_calls;
static uint32_t exit_code;
static void *exit_ctx;

static void record_exit(void *ctx, uint32_t code)
{
	exit_calls++;
	exit_code = code;
	exit_ctx = ctx;
}

static int setup(void **state)
{
	(void)state;
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	bus_init(&mmio, "mmio", BUS_MMIO_LIMIT);
	console_init(&con);
	uart16550_init(&uart, &con, NULL, NULL, NULL);
	debugexit_init(&dbg, record_exit, &dbg);
	fwcfg_init(&fwc, RAM_SIZE, NB_CPUS, MAX_CPUS);
	testdev_init(&td);
	exit_calls = 0;
	exit_code = 0;
	exit_ctx = NULL;

	assert_int_equal(bus_register(&pio, COM1, 8, &uart16550_ops, &uart, "com1"), ST_OK);
	assert_int_equal(bus_register(&pio, DBG_EXIT, 4, &debugexit_ops, &dbg, "dbg"), ST_OK);
	assert_int_equal(bus_register(&pio, FWCFG_SEL, 2, &fwcfg_ops, &fwc, "fw_cfg"), ST_OK);
	assert_int_equal(bus_register(&pio, TD, TESTDEV_PIO_LEN, &testdev_pio_ops, &td, "testdev"),
			 ST_OK);
	assert_int_equal(bus_register(&mmio, TD_MMIO, PAGE, &testdev_mmio_ops, &td, "testdev"),
			 ST_OK);
	return 0;
}

static uint64_t in(uint64_t port, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A5A5A5A5Aull;

	assert_int_equal(bus_read(&pio, port, size, &v), ST_OK);
	return v;
}

static void out(uint64_t port, uint8_t size, uint64_t v)
{
	assert_int_equal(bus_write(&pio, port, size, v), ST_OK);
}

static uint64_t mrd(uint64_t addr, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A5A5A5A5Aull;

	assert_int_equal(bus_read(&mmio, addr, size, &v), ST_OK);
	return v;
}

static void mwr(uint64_t addr, uint8_t size, uint64_t v)
{
	assert_int_equal(bus_write(&mmio, addr, size, v), ST_OK);
}

static void print(const char *s)
{
	while (*s)
		out(THR, 1, (uint8_t)*s++);
}

/* A byte pattern whose period (251, prime) does not divide the ring size, so
 * a read from the wrong slot shows. */
static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i % 251);
}

static void put_pattern(uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		console_put(&con, pat(i));
}

static void assert_pattern(const uint8_t *buf, uint64_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pat(from + i))
			fail_msg("byte %zu: got %u, want %u", i, buf[i], pat(from + i));
}

static uint8_t big[CONSOLE_RING_SIZE * 2];

/* ---- all devices together ---- */

static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(pio.n, 4);
	assert_int_equal(mmio.n, 1);
	/* Neighbours of each range stay empty bus space. */
	assert_int_equal(in(COM1 - 1, 1), 0xFF);
	assert_int_equal(in(COM1 + 8, 1), 0xFF);
	assert_int_equal(in(0x512, 1), 0xFF);
	assert_int_equal(in(TD + TESTDEV_PIO_LEN, 1), 0xFF);
	assert_int_equal(mrd(TD_MMIO + PAGE, 4), 0xFFFFFFFF);
	assert_int_equal(pio.unclaimed_reads, 4);
	assert_int_equal(mmio.unclaimed_reads, 1);
}

/* ---- console ring ---- */

static void test_console_in_order(void **state)
{
	(void)state;
	uint8_t buf[16];
	uint64_t cursor = 0, lost = 99;

	print("hello");
	assert_int_equal(console_written(&con), 5);
	assert_int_equal(console_dropped(&con), 0);
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), &lost), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(cursor, 5);
	assert_int_equal(lost, 0);

	/* Up to date: nothing more, nothing lost. */
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), &lost), 0);
	assert_int_equal(cursor, 5);

	/* Short buffer: the rest comes on the next read. */
	print(", world");
	assert_int_equal(console_read(&con, &cursor, buf, 3, &lost), 3);
	assert_memory_equal(buf, ", w", 3);
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), NULL), 4);
	assert_memory_equal(buf, "orld", 4);
	assert_int_equal(cursor, 12);

	/* A second reader from the start sees the same stream. */
	uint64_t c2 = 0;
	assert_int_equal(console_read(&con, &c2, buf, sizeof(buf), &lost), 12);
	assert_memory_equal(buf, "hello, world", 12);
	assert_int_equal(lost, 0);

	/* len 0 copies nothing, even into no buffer. */
	assert_int_equal(console_read(&con, &c2, NULL, 0, &lost), 0);
	assert_int_equal(c2, 12);
}

static void test_console_exactly_full(void **state)
{
	(void)state;
	uint64_t cursor = 0, lost = 99;

	put_pattern(0, CONSOLE_RING_SIZE);
	assert_int_equal(console_dropped(&con), 0);
	assert_int_equal(console_oldest(&con), 0);
	assert_int_equal(console_read(&con, &cursor, big, sizeof(big), &lost), CONSOLE_RING_SIZE);
	assert_int_equal(lost, 0);
	assert_pattern(big, 0, CONSOLE_RING_SIZE);
}

static void test_console_wrap_drops_oldest(void **state)
{
	(void)state;
	uint64_t cursor = 0, lost = 0;
	const uint64_t total = CONSOLE_RING_SIZE + 100;

	put_pattern(0, total);
	assert_int_equal(console_written(&con), total);
	assert_int_equal(console_dropped(&con), 100);
	assert_int_equal(console_oldest(&con), 100);

	/* A reader from 0 lost the 100 oldest and gets the newest RING_SIZE. */
	assert_int_equal(console_read(&con, &cursor, big, sizeof(big), &lost), CONSOLE_RING_SIZE);
	assert_int_equal(lost, 100);
	assert_int_equal(cursor, total);
	assert_pattern(big, 100, CONSOLE_RING_SIZE);

	/* Replay of everything retained, from the oldest: nothing lost. */
	cursor = console_oldest(&con);
	assert_int_equal(console_read(&con, &cursor, big, sizeof(big), &lost), CONSOLE_RING_SIZE);
	assert_int_equal(lost, 0);
	assert_pattern(big, 100, CONSOLE_RING_SIZE);
}

static void test_console_slow_reader(void **state)
{
	(void)state;
	uint8_t buf[16];
	uint64_t cursor = 0, lost = 0;

	put_pattern(0, 50);
	assert_int_equal(console_read(&con, &cursor, buf, 10, &lost), 10);
	assert_pattern(buf, 0, 10);

	/* The guest prints a whole ring more while the reader sleeps: bytes
	 * 10..49 are overwritten, 50.. are still there. */
	put_pattern(50, 50 + CONSOLE_RING_SIZE);
	assert_int_equal(console_dropped(&con), 50);
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), &lost), sizeof(buf));
	assert_int_equal(lost, 40);
	assert_pattern(buf, 50, sizeof(buf));
	assert_int_equal(cursor, 66);

	/* Caught up with the ring: the rest follows with no further loss. */
	assert_int_equal(console_read(&con, &cursor, big, sizeof(big), &lost),
			 CONSOLE_RING_SIZE - sizeof(buf));
	assert_int_equal(lost, 0);
	assert_pattern(big, 66, CONSOLE_RING_SIZE - sizeof(buf));
}

static void test_console_chunks_across_wrap(void **state)
{
	(void)state;
	uint8_t buf[1000];
	const uint64_t total = CONSOLE_RING_SIZE * 3 / 2 + 7;
	uint64_t cursor, lost, got = 0;

	put_pattern(0, total);
	cursor = console_oldest(&con);
	for (;;) {
		size_t n = console_read(&con, &cursor, buf, sizeof(buf), &lost);
		if (n == 0)
			break;
		assert_int_equal(lost, 0);
		assert_pattern(buf, total - CONSOLE_RING_SIZE + got, n);
		got += n;
	}
	assert_int_equal(got, CONSOLE_RING_SIZE);
	assert_int_equal(cursor, total);
}

static void test_console_short_reads_at_wrap(void **state)
{
	(void)state;
	const uint64_t total = CONSOLE_RING_SIZE + 20; /* retains 20 .. total-1 */
	uint8_t buf[16];

	put_pattern(0, total);
	/* Every short length, starting just before to just after the point
	 * where the stream wraps from the ring's last slot to its first. */
	for (uint64_t p = CONSOLE_RING_SIZE - 10; p <= CONSOLE_RING_SIZE + 2; p++) {
		for (size_t len = 1; len <= 12; len++) {
			uint64_t cursor = p, lost = 99;

			memset(buf, 0xEE, sizeof(buf));
			assert_int_equal(console_read(&con, &cursor, buf, len, &lost), len);
			assert_int_equal(lost, 0);
			assert_int_equal(cursor, p + len);
			assert_pattern(buf, p, len);
			for (size_t i = len; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 0xEE); /* nothing past len */
		}
	}
	/* Near the newest byte a read returns only what exists. */
	uint64_t cursor = total - 3;
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), NULL), 3);
	assert_pattern(buf, total - 3, 3);
}

static void test_console_reinit_under_reader(void **state)
{
	(void)state;
	uint8_t buf[8];
	uint64_t cursor = 0, lost = 99;

	print("first run");
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), &lost), 8);
	/* The VM restarts: the console is emptied while the reader's cursor is
	 * at 8. The new run's output must reach it. */
	console_init(&con);
	print("abc");
	assert_int_equal(console_read(&con, &cursor, buf, sizeof(buf), &lost), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(lost, 0);
	assert_int_equal(cursor, 3);
}

/* ---- 8250 ---- */

/* ---- isa-debug-exit ---- */

static void test_debugexit_codes(void **state)
{
	(void)state;
	/* (v << 1) | 1, v truncated to the access size; computed by hand. */
	out(DBG_EXIT, 1, 0x00);
	assert_int_equal(exit_calls, 1);
	assert_int_equal(exit_code, 0x01);
	assert_ptr_equal(exit_ctx, &dbg);

	out(DBG_EXIT, 1, 0x2A);
	assert_int_equal(exit_code, 0x55);
	out(DBG_EXIT, 1, 0xFF);
	assert_int_equal(exit_code, 0x1FF);
	out(DBG_EXIT, 1, 0x12345601); /* only 0x01 reaches a byte port */
	assert_int_equal(exit_code, 0x03);

	out(DBG_EXIT, 2, 0x1234);
	assert_int_equal(exit_code, 0x2469);
	out(DBG_EXIT, 2, 0xABCD8000);
	assert_int_equal(exit_code, 0x10001);

	out(DBG_EXIT, 4, 0x12345678);
	assert_int_equal(exit_code, 0x2468ACF1);
	out(DBG_EXIT, 4, 0x80000001); /* bit 31 shifts out of 32 bits */
	assert_int_equal(exit_code, 0x00000003);
	assert_int_equal(exit_calls, 8);
}

static void test_debugexit_offsets_and_reads(void **state)
{
	(void)state;
	/* Every port of the range exits, like QEMU's. */
	out(DBG_EXIT + 2, 1, 5);
	assert_int_equal(exit_code, 11);
	out(DBG_EXIT + 3, 1, 7);
	assert_int_equal(exit_code, 15);
	out(DBG_EXIT + 2, 2, 0x100);
	assert_int_equal(exit_code, 0x201);
	assert_int_equal(exit_calls, 3);

	/* A dword at 0xF5 runs past the range: not the device's, no exit. */
	out(DBG_EXIT + 1, 4, 0);
	assert_int_equal(exit_calls, 3);

	/* Reads: all-ones, never an exit. */
	assert_int_equal(in(DBG_EXIT, 1), 0xFF);
	assert_int_equal(in(DBG_EXIT, 2), 0xFFFF);
	assert_int_equal(in(DBG_EXIT, 4), 0xFFFFFFFF);
	assert_int_equal(in(DBG_EXIT + 3, 1), 0xFF);
	assert_int_equal(exit_calls, 3);

	/* Without a callback a write is dropped. */
	debugexit_init(&dbg, NULL, NULL);
	out(DBG_EXIT, 1, 1);
	assert_int_equal(exit_calls, 3);
}

/* ---- fw_cfg ---- */

static void select_item(uint16_t key)
{
	out(FWCFG_SEL, 2, key);
}

static void assert_item(const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (in(FWCFG_DATA, 1) != want[i])
			fail_msg("byte %zu differs", i);
	/* Past the end: 0, however often. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(in(FWCFG_DATA, 1), 0);
}

static void test_fwcfg_items(void **state)
{
	(void)state;
	static const uint8_t sig[] = {'Q', 'E', 'M', 'U'};
	static const uint8_t id[] = {0x01, 0x00, 0x00, 0x00};
	static const uint8_t ram[] = {0x00, 0x60, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00};
	static const uint8_t ncpu[] = {0x03, 0x00};
	static const uint8_t maxcpu[] = {0x02, 0x01};

	select_item(0x0000);
	assert_item(sig, sizeof(sig));
	select_item(0x0001);
	assert_item(id, sizeof(id));
	select_item(0x0003);
	assert_item(ram, sizeof(ram));
	select_item(0x0005);
	assert_item(ncpu, sizeof(ncpu));
	select_item(0x000F);
	assert_item(maxcpu, sizeof(maxcpu));
}

static void test_fwcfg_signature_after_reset(void **state)
{
	(void)state;
	/* Reset selects the signature, so probing without a select works. */
	assert_int_equal(in(FWCFG_DATA, 1), 'Q');
	assert_int_equal(in(FWCFG_DATA, 1), 'E');
}

static void test_fwcfg_unknown_items(void **state)
{
	(void)state;
	static const uint16_t unknown[] = {0x0002, 0x0004, 0x0019, 0x3FFF, 0x8000, 0x8003, 0xFFFF};
	static const uint8_t id[] = {0x01, 0x00, 0x00, 0x00};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		select_item(unknown[i]);
		for (int j = 0; j < 10; j++)
			assert_int_equal(in(FWCFG_DATA, 1), 0);
	}
	/* Bit 14 (write channel) still reads item 0x0001. */
	select_item(0x4001);
	assert_item(id, sizeof(id));
}

static void test_fwcfg_reselect_resets_offset(void **state)
{
	(void)state;
	select_item(0x0000);
	assert_int_equal(in(FWCFG_DATA, 1), 'Q');
	assert_int_equal(in(FWCFG_DATA, 1), 'E');
	select_item(0x0000);
	assert_int_equal(in(FWCFG_DATA, 1), 'Q');

	/* Switching items mid-way starts the new one at byte 0. */
	select_item(0x0005);
	assert_int_equal(in(FWCFG_DATA, 1), 0x03);
	select_item(0x000F);
	assert_int_equal(in(FWCFG_DATA, 1), 0x02);
	assert_int_equal(in(FWCFG_DATA, 1), 0x01);

	/* Reading past the end and re-selecting starts over too. */
	for (int i = 0; i < 100; i++)
		(void)in(FWCFG_DATA, 1);
	select_item(0x0000);
	assert_int_equal(in(FWCFG_DATA, 1), 'Q');
}

static void test_fwcfg_odd_accesses(void **state)
{
	(void)state;
	select_item(0x0000);
	assert_int_equal(in(FWCFG_DATA, 1), 'Q');

	/* A byte write to the selector is a data write (ignored): no select. */
	out(FWCFG_SEL, 1, 0x01);
	assert_int_equal(in(FWCFG_DATA, 1), 'E');
	/* A byte write to the data port changes neither data nor offset. */
	out(FWCFG_DATA, 1, 'X');
	assert_int_equal(in(FWCFG_DATA, 1), 'M');

	/* A byte read of the selector port reads the next data byte (QEMU). */
	select_item(0x0000);
	assert_int_equal(in(FWCFG_SEL, 1), 'Q');
	assert_int_equal(in(FWCFG_DATA, 1), 'E');

	/* A word read is rejected: all-ones, offset unchanged. */
	assert_int_equal(in(FWCFG_SEL, 2), 0xFFFF);
	assert_int_equal(in(FWCFG_DATA, 1), 'M');

	/* Accesses that run past 0x511 are not the device's: no select. */
	out(FWCFG_SEL, 4, 0x0001);
	out(FWCFG_DATA, 2, 0x0001);
	assert_int_equal(in(FWCFG_DATA, 1), 'U');
	assert_int_equal(in(FWCFG_DATA, 4), 0xFFFFFFFF);
	assert_int_equal(pio.unclaimed_writes, 2);
	assert_int_equal(pio.unclaimed_reads, 1);

	/* The selector takes the whole 16-bit key: 0x0100 is not item 0. */
	select_item(0x0100);
	assert_int_equal(in(FWCFG_DATA, 1), 0);
}

static void test_fwcfg_other_values(void **state)
{
	(void)state;
	static const uint8_t ram[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	static const uint8_t one[] = {0x01, 0x00};
	static const uint8_t top[] = {0xFF, 0xFF};

	fwcfg_init(&fwc, ~0ull, 1, 0xFFFF);
	select_item(0x0003);
	assert_item(ram, sizeof(ram));
	select_item(0x0005);
	assert_item(one, sizeof(one));
	select_item(0x000F);
	assert_item(top, sizeof(top));
}

/* ---- test device: PIO block ---- */

static void test_testdev_scratch(void **state)
{
	(void)state;
	assert_int_equal(in(TD + TESTDEV_SCRATCH, 4), 0);
	out(TD + TESTDEV_SCRATCH, 4, 0x11223344);
	assert_int_equal(in(TD + 0, 4), 0x11223344);
	/* Little-endian bytes and words at every offset inside. */
	assert_int_equal(in(TD + 0, 1), 0x44);
	assert_int_equal(in(TD + 1, 1), 0x33);
	assert_int_equal(in(TD + 2, 1), 0x22);
	assert_int_equal(in(TD + 3, 1), 0x11);
	assert_int_equal(in(TD + 0, 2), 0x3344);
	assert_int_equal(in(TD + 1, 2), 0x2233);
	assert_int_equal(in(TD + 2, 2), 0x1122);

	/* Sub-register writes replace just their bytes. */
	out(TD + 2, 1, 0xAA);
	assert_int_equal(in(TD + 0, 4), 0x11AA3344);
	out(TD + 1, 2, 0xBEEF);
	assert_int_equal(in(TD + 0, 4), 0x11BEEF44);
	out(TD + 3, 1, 0x00);
	assert_int_equal(in(TD + 0, 4), 0x00BEEF44);
	out(TD + 0, 2, 0x1234);
	assert_int_equal(in(TD + 0, 4), 0x00BE1234);
}

static void test_testdev_scratch_out_of_bounds(void **state)
{
	(void)state;
	out(TD + TESTDEV_COUNTER, 1, 0x40);
	out(TD + 0, 4, 0xCAFEF00D);

	/* Accesses that run into COUNTER are undefined: all-ones on read,
	 * ignored on write, and COUNTER does not count them. */
	assert_int_equal(in(TD + 2, 4), 0xFFFFFFFF);
	assert_int_equal(in(TD + 3, 2), 0xFFFF);
	assert_int_equal(in(TD + 0, 8), 0xFFFFFFFFFFFFFFFFull);
	out(TD + 2, 4, 0);
	out(TD + 3, 2, 0);
	out(TD + 0, 8, 0);
	assert_int_equal(in(TD + 0, 4), 0xCAFEF00D);
	assert_int_equal(in(TD + TESTDEV_COUNTER, 1), 0x40);
}

static void test_testdev_counter(void **state)
{
	(void)state;
	const uint64_t port = TD + TESTDEV_COUNTER;

	assert_int_equal(in(port, 1), 0);
	assert_int_equal(in(port, 1), 1);
	assert_int_equal(in(port, 1), 2);
	out(port, 1, 0xFE);
	assert_int_equal(in(port, 1), 0xFE);
	assert_int_equal(in(port, 1), 0xFF);
	assert_int_equal(in(port, 1), 0x00); /* mod 256 */
	assert_int_equal(in(port, 1), 0x01);

	/* 256 reads come back to the same value. */
	out(port, 1, 0x80);
	for (unsigned i = 0; i < 256; i++)
		assert_int_equal(in(port, 1), (0x80 + i) & 0xFF);
	assert_int_equal(in(port, 1), 0x80);

	/* Only byte accesses reach it. */
	assert_int_equal(in(port, 2), 0xFFFF);
	out(port, 2, 0x0007);
	assert_int_equal(in(port, 1), 0x81);
}

static void hash_in(const char *s)
{
	while (*s)
		out(TD + TESTDEV_HASH_IN, 1, (uint8_t)*s++);
}

static void test_testdev_hash(void **state)
{
	(void)state;
	const uint64_t hash = TD + TESTDEV_HASH;

	assert_int_equal(in(hash, 4), 0);
	/* "abc": ((0*31 + 97)*31 + 98)*31 + 99 = 97*961 + 98*31 + 99
	 *      = 93217 + 3038 + 99 = 96354. */
	hash_in("abc");
	assert_int_equal(in(hash, 4), 96354);

	/* Any write resets it, whatever the value or size. */
	out(hash, 4, 0xFFFFFFFF);
	assert_int_equal(in(hash, 4), 0);
	hash_in("a");
	assert_int_equal(in(hash, 4), 97);
	out(hash + 2, 1, 0x55);
	assert_int_equal(in(hash, 4), 0);

	/* u32 wrap-around: the recurrence is Java's String.hashCode, and
	 * "hello world".hashCode() is 1794106052 (0x6AEFE2C4). */
	hash_in("hello world");
	assert_int_equal(in(hash, 4), 0x6AEFE2C4);

	/* HASH is read as a dword only; HASH_IN is write-only and byte-only. */
	assert_int_equal(in(hash, 1), 0xFF);
	assert_int_equal(in(hash, 2), 0xFFFF);
	assert_int_equal(in(TD + TESTDEV_HASH_IN, 1), 0xFF);
	out(TD + TESTDEV_HASH_IN, 2, 'x');
	assert_int_equal(in(hash, 4), 0x6AEFE2C4);
}

static void test_testdev_reserved_offsets(void **state)
{
	(void)state;
	static const uint8_t reserved[] = {0x06, 0x07, 0x0E, 0x0F, 0x19, 0x1A, 0x1B};
	struct testdev before;

	out(TD + 0, 4, 0x01020304);
	hash_in("xyz");
	memcpy(&before, &td, sizeof(td));
	for (size_t i = 0; i < sizeof(reserved); i++) {
		assert_int_equal(in(TD + reserved[i], 1), 0xFF);
		out(TD + reserved[i], 1, 0x21);
	}
	/* Read-only registers ignore writes of every size. */
	out(TD + TESTDEV_MMIO_LAST_SIZE, 1, 8);
	out(TD + TESTDEV_MMIO_LAST_DIR, 1, 1);
	out(TD + TESTDEV_MMIO_LAST_OFF, 4, 0x123);
	out(TD + TESTDEV_IRQ_DELIVERED, 4, 7);
	out(TD + TESTDEV_IRQ_DELIVERED, 1, 7);
	assert_memory_equal(&before, &td, sizeof(td));
}

/* ---- test device: MMIO page and its log ---- */

static void assert_log(uint8_t size, uint8_t dir, uint32_t off, uint32_t count)
{
	assert_int_equal(in(TD + TESTDEV_MMIO_LAST_SIZE, 1), size);
	assert_int_equal(in(TD + TESTDEV_MMIO_LAST_DIR, 1), dir);
	assert_int_equal(in(TD + TESTDEV_MMIO_LAST_OFF, 4), off);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 4), count);
}

/* The test's own model of the page: little-endian bytes, as the ABI says. */
static uint8_t shadow[PAGE];

static uint64_t shadow_get(uint32_t off, uint8_t size)
{
	uint64_t v = 0;

	for (uint8_t i = 0; i < size; i++)
		v |= (uint64_t)shadow[off + i] << (8 * i);
	return v;
}

static void shadow_put(uint32_t off, uint8_t size, uint64_t v)
{
	for (uint8_t i = 0; i < size; i++)
		shadow[off + i] = (uint8_t)(v >> (8 * i));
}

static void test_testdev_mmio_round_trips(void **state)
{
	(void)state;
	static const struct {
		uint8_t size;
		uint32_t off;
		uint64_t val;
	} cases[] = {
	    {1, 0x000, 0xA5},
	    {2, 0x010, 0xBEEF},
	    {4, 0x020, 0xDEADBEEF},
	    {8, 0x030, 0x0123456789ABCDEFull},
	    {1, 0xFFF, 0x5A},		       /* last byte */
	    {2, 0xFFE, 0x7E57},		       /* last word */
	    {4, 0xFFC, 0xFEEDFACE},	       /* last dword */
	    {8, 0xFF8, 0x1122334455667788ull}, /* last qword */
	    {4, 0x101, 0x87654321},	       /* unaligned */
	    {8, 0x203, 0xF0E1D2C3B4A59687ull}, /* unaligned */
	    {2, 0x204, 0x0000},		       /* inside the previous one */
	};
	uint32_t count = 0;

	memset(shadow, 0, sizeof(shadow)); /* the page is zero after init */
	assert_log(0, 0, 0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t addr = TD_MMIO + cases[i].off;
		uint8_t size = cases[i].size;

		/* Earlier cases overlap some later ones on purpose. */
		assert_int_equal(mrd(addr, size), shadow_get(cases[i].off, size));
		assert_log(size, 0, cases[i].off, ++count);
		mwr(addr, size, cases[i].val);
		shadow_put(cases[i].off, size, cases[i].val);
		assert_log(size, 1, cases[i].off, ++count);
		assert_int_equal(mrd(addr, size), cases[i].val);
		assert_log(size, 0, cases[i].off, ++count);
	}
	/* Nothing else in the page changed. */
	for (uint32_t off = 0; off < PAGE; off += 8)
		assert_int_equal(mrd(TD_MMIO + off, 8), shadow_get(off, 8));
}

static void test_testdev_mmio_little_endian(void **state)
{
	(void)state;
	mwr(TD_MMIO + 0x100, 8, 0x0807060504030201ull);
	assert_int_equal(mrd(TD_MMIO + 0x100, 1), 0x01);
	assert_int_equal(mrd(TD_MMIO + 0x107, 1), 0x08);
	assert_int_equal(mrd(TD_MMIO + 0x103, 2), 0x0504);
	assert_int_equal(mrd(TD_MMIO + 0x101, 4), 0x05040302);
	assert_int_equal(mrd(TD_MMIO + 0x104, 4), 0x08070605);
	assert_int_equal(mrd(TD_MMIO + 0x108, 1), 0x00); /* neighbours untouched */
	assert_int_equal(mrd(TD_MMIO + 0x0FF, 1), 0x00);

	/* Narrow writes into a wide value. */
	mwr(TD_MMIO + 0x102, 2, 0xBBAA);
	assert_int_equal(mrd(TD_MMIO + 0x100, 8), 0x08070605BBAA0201ull);
	mwr(TD_MMIO + 0x107, 1, 0xCC);
	assert_int_equal(mrd(TD_MMIO + 0x100, 8), 0xCC070605BBAA0201ull);
}

static void test_testdev_mmio_edges(void **state)
{
	(void)state;
	/* Accesses running past the page are not the device's: not logged. */
	mwr(TD_MMIO + 0xFFC, 8, ~0ull);
	assert_int_equal(mrd(TD_MMIO + 0xFFF, 2), 0xFFFF);
	assert_int_equal(mmio.unclaimed_reads, 1);
	assert_int_equal(mmio.unclaimed_writes, 1);
	assert_log(0, 0, 0, 0);
	assert_int_equal(mrd(TD_MMIO + 0xFFC, 4), 0);
	assert_log(4, 0, 0xFFC, 1);

	/* MMIO_COUNT: any write within it resets; a u32 that wraps. */
	out(TD + TESTDEV_MMIO_COUNT, 4, 0x12345678);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 4), 0);
	(void)mrd(TD_MMIO, 1);
	(void)mrd(TD_MMIO, 1);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 4), 2);
	out(TD + TESTDEV_MMIO_COUNT + 3, 1, 9);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 4), 0);
	td.mmio_count = 0xFFFFFFFF;
	mwr(TD_MMIO + 0x10, 1, 1);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 4), 0);
	/* Resetting the count keeps the last-access log. */
	assert_log(1, 1, 0x10, 0);

	/* Log registers are read at their own size only. */
	assert_int_equal(in(TD + TESTDEV_MMIO_LAST_OFF, 2), 0xFFFF);
	assert_int_equal(in(TD + TESTDEV_MMIO_LAST_SIZE, 2), 0xFFFF);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 1), 0xFF);

	/* PIO accesses to the test device are not MMIO accesses. */
	(void)in(TD + TESTDEV_SCRATCH, 4);
	assert_int_equal(in(TD + TESTDEV_MMIO_COUNT, 4), 0);
}

/* ---- test device: interrupt source ---- */

static void test_testdev_irq(void **state)
{
	(void)state;
	const uint64_t raise = TD + TESTDEV_IRQ_RAISE;
	const uint64_t delivered = TD + TESTDEV_IRQ_DELIVERED;

	assert_int_equal(testdev_irq_pending(&td), 0);
	assert_int_equal(in(raise, 1), 0);
	assert_int_equal(in(delivered, 4), 0);

	out(raise, 1, 0x40);
	assert_int_equal(testdev_irq_pending(&td), 0x40);
	assert_int_equal(in(raise, 1), 0x40);
	/* Reading does not consume it. */
	assert_int_equal(testdev_irq_pending(&td), 0x40);

	testdev_irq_delivered(&td);
	assert_int_equal(testdev_irq_pending(&td), 0);
	assert_int_equal(in(raise, 1), 0);
	assert_int_equal(in(delivered, 4), 1);
	assert_int_equal(td.overruns, 0);
	assert_int_equal(td.bad_raises, 0);
}

static int64_t fake_epoch(void)
{
	return 1796170000;
}

static void test_testdev_host_epoch(void **state)
{
	const uint64_t reg = TESTDEV_PIO_BASE + TESTDEV_HOST_EPOCH;

	(void)state;
	assert_int_equal(in(reg, 4), 0); /* no clock wired: 0 */
	td.host_epoch = fake_epoch;
	assert_int_equal(in(reg, 4), 1796170000);
	assert_int_equal(in(reg, 1), 0xFF); /* 4-byte reads only */
	assert_int_equal(in(reg + 2, 2), 0xFFFF);
	out(reg, 4, 0); /* read-only: nothing changes */
	assert_int_equal(in(reg, 4), 1796170000);
}

static unsigned marks;

static void count_mark(void *ctx)
{
	assert_ptr_equal(ctx, &marks);
	marks++;
}

static void test_testdev_boot_mark(void **state)
{
	const uint64_t reg = TESTDEV_PIO_BASE + TESTDEV_BOOT_MARK;

	(void)state;
	assert_int_equal(reg, 0x544); /* the port the test initramfs writes */
	out(reg, 1, 1);		      /* nothing wired: ignored */
	marks = 0;
	td.boot_mark = count_mark;
	td.boot_mark_ctx = &marks;
	out(reg, 1, 0x5A);
	assert_int_equal(marks, 1);
	out(reg, 2, 1); /* 1-byte writes only */
	out(reg, 4, 1);
	out(reg + 1, 1, 1);
	assert_int_equal(marks, 1);
	assert_int_equal(in(reg, 1), 0xFF); /* write-only */
	out(reg, 1, 0);
	assert_int_equal(marks, 2); /* the device reports each write; Keel keeps the first */
}

static void test_testdev_irq_bad_and_overrun(void **state)
{
	(void)state;
	const uint64_t raise = TD + TESTDEV_IRQ_RAISE;
	const uint64_t delivered = TD + TESTDEV_IRQ_DELIVERED;

	/* Exception vectors 0..31 are refused and counted. */
	out(raise, 1, 0);
	out(raise, 1, 31);
	assert_int_equal(td.bad_raises, 2);
	assert_int_equal(testdev_irq_pending(&td), 0);

	/* 32 and 255 are the bounds of the allowed range. */
	out(raise, 1, 32);
	assert_int_equal(testdev_irq_pending(&td), 32);
	out(raise, 1, 255);
	assert_int_equal(testdev_irq_pending(&td), 255);
	assert_int_equal(td.overruns, 1);
	/* A bad raise while one is pending leaves it alone. */
	out(raise, 1, 2);
	assert_int_equal(testdev_irq_pending(&td), 255);
	assert_int_equal(td.bad_raises, 3);
	assert_int_equal(td.overruns, 1);

	testdev_irq_delivered(&td);
	assert_int_equal(in(delivered, 4), 1);
	/* Nothing pending: a stray call does not count. */
	testdev_irq_delivered(&td);
	assert_int_equal(in(delivered, 4), 1);

	/* Only byte writes raise; IRQ_RAISE and IRQ_DELIVERED at other sizes. */
	out(raise, 2, 0x41);
	out(raise, 4, 0x41);
	assert_int_equal(testdev_irq_pending(&td), 0);
	assert_int_equal(td.bad_raises, 3);
	assert_int_equal(in(raise, 4), 0xFFFFFFFF);
	assert_int_equal(in(delivered, 1), 0xFF);

	/* Raise, deliver, raise again: delivered counts each injection. */
	for (unsigned i = 0; i < 5; i++) {
		out(raise, 1, 0x80 + i);
		assert_int_equal(testdev_irq_pending(&td), 0x80 + i);
		testdev_irq_delivered(&td);
	}
	assert_int_equal(in(delivered, 4), 6);
	assert_int_equal(td.overruns, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_layout, setup),
	    cmocka_unit_test_setup(test_console_in_order, setup),
	    cmocka_unit_test_setup(test_console_exactly_full, setup),
	    cmocka_unit_test_setup(test_console_wrap_drops_oldest, setup),
	    cmocka_unit_test_setup(test_console_slow_reader, setup),
	    cmocka_unit_test_setup(test_console_chunks_across_wrap, setup),
	    cmocka_unit_test_setup(test_console_short_reads_at_wrap, setup),
	    cmocka_unit_test_setup(test_console_reinit_under_reader, setup),
	    cmocka_unit_test_setup(test_debugexit_codes, setup),
	    cmocka_unit_test_setup(test_debugexit_offsets_and_reads, setup),
	    cmocka_unit_test_setup(test_fwcfg_items, setup),
	    cmocka_unit_test_setup(test_fwcfg_signature_after_reset, setup),
	    cmocka_unit_test_setup(test_fwcfg_unknown_items, setup),
	    cmocka_unit_test_setup(test_fwcfg_reselect_resets_offset, setup),
	    cmocka_unit_test_setup(test_fwcfg_odd_accesses, setup),
	    cmocka_unit_test_setup(test_fwcfg_other_values, setup),
	    cmocka_unit_test_setup(test_testdev_scratch, setup),
	    cmocka_unit_test_setup(test_testdev_scratch_out_of_bounds, setup),
	    cmocka_unit_test_setup(test_testdev_counter, setup),
	    cmocka_unit_test_setup(test_testdev_hash, setup),
	    cmocka_unit_test_setup(test_testdev_reserved_offsets, setup),
	    cmocka_unit_test_setup(test_testdev_mmio_round_trips, setup),
	    cmocka_unit_test_setup(test_testdev_mmio_little_endian, setup),
	    cmocka_unit_test_setup(test_testdev_mmio_edges, setup),
	    cmocka_unit_test_setup(test_testdev_irq, setup),
	    cmocka_unit_test_setup(test_testdev_irq_bad_and_overrun, setup),
	    cmocka_unit_test_setup(test_testdev_host_epoch, setup),
	    cmocka_unit_test_setup(test_testdev_boot_mark, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
