/* Unit tests for the 8259A pair and the ELCR. The model sits on a real PIO
 * bus at the PC's ports and is programmed only through them, as a guest
 * would; device lines, the INTA cycle and the INT output are driven as the
 * VM core would.
 *
 * Ports and command bytes are spelled out from the 8259A datasheet (and the
 * PIIX/ICH ELCR) rather than taken from pic.h, so a wrong constant there
 * fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/pic.h"
#include "vm/bus.h"

#define M_CMD 0x20
#define M_DATA 0x21
#define S_CMD 0xA0
#define S_DATA 0xA1
#define ELCR0 0x4D0
#define ELCR1 0x4D1

#define ICW1_CASCADE_ICW4 0x11 /* edge, cascade, ICW4 follows */
#define ICW4_8086 0x01
#define ICW4_8086_AEOI 0x03
#define ICW4_8086_SFNM 0x11
#define OCW2_NS_EOI 0x20
#define OCW2_SPEC_EOI(l) (0x60 | (l))
#define OCW2_ROT_NS_EOI 0xA0
#define OCW2_SET_PRIO(l) (0xC0 | (l))
#define OCW2_ROT_SPEC_EOI(l) (0xE0 | (l))
#define OCW2_ROT_AEOI_SET 0x80
#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
#define OCW3_POLL 0x0C
#define OCW3_SMM_SET 0x68
#define OCW3_SMM_RESET 0x48

#define MAX_EVENTS 32

static struct bus pio;
static struct pic pic;
static bool events[MAX_EVENTS]; /* INT levels reported, in order */
static unsigned nevents;
static void *event_ctx;

static void int_changed(void *ctx, bool level)
{
	assert_true(nevents < MAX_EVENTS);
	events[nevents++] = level;
	event_ctx = ctx;
}

static int setup(void **state)
{
	(void)state;
	bus_init(&pio, "pio", BUS_PIO_LIMIT);
	pic_init(&pic, int_changed, &pic);
	assert_int_equal(bus_register(&pio, M_CMD, 2, &pic_master_ops, &pic, "pic1"), ST_OK);
	assert_int_equal(bus_register(&pio, S_CMD, 2, &pic_slave_ops, &pic, "pic2"), ST_OK);
	assert_int_equal(bus_register(&pio, ELCR0, 2, &pic_elcr_ops, &pic, "elcr"), ST_OK);
	nevents = 0;
	event_ctx = NULL;
	return 0;
}

static uint64_t in(uint64_t port, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A5A5A5A5Aull;

	assert_int_equal(bus_read(&pio, port, size, &v), ST_OK);
	return v;
}

static uint8_t inb(uint64_t port)
{
	return (uint8_t)in(port, 1);
}

static void outb(uint64_t port, uint8_t v)
{
	assert_int_equal(bus_write(&pio, port, 1, v), ST_OK);
}

/* The sequence Linux's init_8259A and SeaBIOS use: ICW1 0x11, the vector
 * base, cascade on IR2 (master 0x04, slave ID 2), 8086 mode; then masks. */
static void program(uint8_t mbase, uint8_t sbase, uint8_t icw4, uint8_t mmask, uint8_t smask)
{
	outb(M_DATA, 0xFF);
	outb(S_DATA, 0xFF);
	outb(M_CMD, ICW1_CASCADE_ICW4);
	outb(M_DATA, mbase);
	outb(M_DATA, 0x04);
	outb(M_DATA, icw4);
	outb(S_CMD, ICW1_CASCADE_ICW4);
	outb(S_DATA, sbase);
	outb(S_DATA, 0x02);
	outb(S_DATA, icw4);
	outb(M_DATA, mmask);
	outb(S_DATA, smask);
}

static void program_linux(void)
{
	program(0x20, 0x28, ICW4_8086, 0x00, 0x00);
	nevents = 0;
}

static void pulse(unsigned irq)
{
	pic_set_irq(&pic, irq, true);
	pic_set_irq(&pic, irq, false);
}

static uint8_t read_isr(uint64_t cmd)
{
	uint8_t v;

	outb(cmd, OCW3_READ_ISR);
	v = inb(cmd);
	outb(cmd, OCW3_READ_IRR);
	return v;
}

/* ---- initialization and registers ---- */

static void test_power_on(void **state)
{
	(void)state;
	assert_int_equal(inb(M_DATA), 0xFF);
	assert_int_equal(inb(S_DATA), 0xFF);
	assert_int_equal(inb(M_CMD), 0x00);
	pic_set_irq(&pic, 0, true);
	assert_false(pic_int_output(&pic));
	assert_int_equal(nevents, 0);
	/* The request is latched though: it shows in IRR. */
	assert_int_equal(inb(M_CMD), 0x01);
}

static void test_icw_sequence_seabios(void **state)
{
	(void)state;
	/* ICW1 clears the IMR; ICW2-4 go to the data port without touching it. */
	outb(M_CMD, ICW1_CASCADE_ICW4);
	assert_int_equal(inb(M_DATA), 0x00);
	outb(M_DATA, 0x08);
	outb(M_DATA, 0x04);
	outb(M_DATA, ICW4_8086);
	assert_int_equal(inb(M_DATA), 0x00);
	outb(S_CMD, ICW1_CASCADE_ICW4);
	outb(S_DATA, 0x70);
	outb(S_DATA, 0x02);
	outb(S_DATA, ICW4_8086);
	assert_int_equal(inb(S_DATA), 0x00);
	/* Now the data port is OCW1. */
	outb(M_DATA, 0xB8);
	outb(S_DATA, 0x8F);
	assert_int_equal(inb(M_DATA), 0xB8);
	assert_int_equal(inb(S_DATA), 0x8F);

	pic_set_irq(&pic, 0, true);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x08);
	outb(M_CMD, OCW2_NS_EOI);
	pic_set_irq(&pic, 14, true);
	assert_int_equal(pic_intack(&pic), 0x76);
	/* ICW2's low 3 bits are not part of the base. */
	outb(M_CMD, ICW1_CASCADE_ICW4);
	outb(M_DATA, 0x0F);
	outb(M_DATA, 0x04);
	outb(M_DATA, ICW4_8086);
	pic_set_irq(&pic, 1, true);
	assert_int_equal(pic_intack(&pic), 0x09);
}

static void test_icw_sequence_linux(void **state)
{
	(void)state;
	/* Linux's probe: the slave masked, a pattern in the master's IMR,
	 * read back (a NULL legacy PIC if it does not match). */
	outb(S_DATA, 0xFF);
	outb(M_DATA, 0xFB);
	assert_int_equal(inb(M_DATA), 0xFB);

	program(0x30, 0x38, ICW4_8086, 0xFA, 0xFF);
	assert_int_equal(inb(M_DATA), 0xFA);
	assert_int_equal(inb(S_DATA), 0xFF);
	pic_set_irq(&pic, 0, true);
	assert_int_equal(pic_intack(&pic), 0x30);
	outb(M_CMD, OCW2_SPEC_EOI(0));

	program(0x20, 0x28, ICW4_8086, 0x00, 0x00);
	pulse(1);
	assert_int_equal(pic_intack(&pic), 0x21);
	outb(M_CMD, OCW2_SPEC_EOI(1));
	pulse(8);
	assert_int_equal(pic_intack(&pic), 0x28);
	outb(S_CMD, OCW2_SPEC_EOI(0));
	outb(M_CMD, OCW2_SPEC_EOI(2));
	pulse(15);
	assert_int_equal(pic_intack(&pic), 0x2F);
}

static void test_cascade_id_mismatch(void **state)
{
	(void)state;
	/* The slave says it hangs on IR3, the master expects one on IR2:
	 * nobody drives the bus during the INTA. */
	program(0x20, 0x28, ICW4_8086, 0x00, 0x00);
	outb(S_CMD, ICW1_CASCADE_ICW4);
	outb(S_DATA, 0x28);
	outb(S_DATA, 0x03);
	outb(S_DATA, ICW4_8086);
	pulse(12);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0xFF);
	assert_int_equal(read_isr(M_CMD), 0x04);
	assert_int_equal(read_isr(S_CMD), 0x00);
}

static void test_icw_single_no_icw4(void **state)
{
	(void)state;
	/* Single mode, no ICW4: ICW2 ends the sequence, the next data write
	 * is OCW1. IR2 then takes the master's own vector. */
	outb(M_CMD, 0x12);
	outb(M_DATA, 0x40);
	outb(M_DATA, 0x3C);
	assert_int_equal(inb(M_DATA), 0x3C);
	/* Single mode with ICW4: ICW2, then ICW4 (no ICW3). */
	outb(M_CMD, 0x13);
	outb(M_DATA, 0x40);
	outb(M_DATA, ICW4_8086_AEOI);
	assert_int_equal(inb(M_DATA), 0x00);
	outb(M_DATA, 0x00);

	outb(S_CMD, ICW1_CASCADE_ICW4);
	outb(S_DATA, 0x70);
	outb(S_DATA, 0x02);
	outb(S_DATA, ICW4_8086);
	outb(S_DATA, 0x00);
	pulse(9);
	assert_int_equal(pic_intack(&pic), 0x42);
	assert_int_equal(read_isr(M_CMD), 0x00); /* auto-EOI from ICW4 */
	assert_int_equal(read_isr(S_CMD), 0x00); /* the slave was not asked */
}

static void test_imr_readback(void **state)
{
	(void)state;
	program_linux();
	for (unsigned v = 0; v < 256; v += 17) {
		outb(M_DATA, (uint8_t)v);
		outb(S_DATA, (uint8_t)~v);
		assert_int_equal(inb(M_DATA), v);
		assert_int_equal(inb(S_DATA), (uint8_t)~v);
	}
	/* Only byte accesses reach the PIC. */
	assert_int_equal(in(M_CMD, 2), 0xFFFF);
	assert_int_equal(bus_write(&pio, M_CMD, 2, 0x1111), ST_OK); /* not an ICW1 */
	assert_int_equal(inb(M_DATA), 0xFF);
	assert_int_equal(inb(M_CMD), 0x00);
}

/* ---- priorities and EOI ---- */

static void test_priorities(void **state)
{
	(void)state;
	program_linux();
	pulse(1);
	pulse(0);
	pulse(3);
	pulse(8);
	assert_int_equal(inb(M_CMD), 0x0F); /* IRR: 0, 1, 3 and the cascade */

	/* IRQ0 first, and it blocks everything else until its EOI. */
	assert_int_equal(pic_intack(&pic), 0x20);
	assert_false(pic_int_output(&pic));
	outb(M_CMD, OCW2_NS_EOI);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x21);
	outb(M_CMD, OCW2_NS_EOI);
	/* The slave's IRQ8 comes in at IR2, before IRQ3. */
	assert_int_equal(pic_intack(&pic), 0x28);
	assert_int_equal(read_isr(M_CMD), 0x04);
	assert_int_equal(read_isr(S_CMD), 0x01);
	assert_false(pic_int_output(&pic));
	outb(S_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x23);
	outb(M_CMD, OCW2_NS_EOI);
	assert_false(pic_int_output(&pic));
	assert_int_equal(read_isr(M_CMD), 0x00);
	assert_int_equal(inb(M_CMD), 0x00);

	/* Within the slave: IRQ8 before IRQ15; the slave outranks IRQ3-7. */
	pulse(15);
	pulse(8);
	pulse(7);
	assert_int_equal(pic_intack(&pic), 0x28);
	outb(S_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x2F);
	outb(S_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x27);
	assert_int_equal(read_isr(M_CMD), 0x80); /* a real IRQ7 is in service */
}

static void test_in_service_blocking(void **state)
{
	(void)state;
	program_linux();
	pulse(3);
	assert_int_equal(pic_intack(&pic), 0x23);
	/* Lower priority waits, higher priority nests. */
	pulse(5);
	assert_false(pic_int_output(&pic));
	pulse(3);
	assert_false(pic_int_output(&pic)); /* its own level is blocked too */
	pulse(1);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x21);
	assert_int_equal(read_isr(M_CMD), 0x0A);
	assert_false(pic_int_output(&pic));

	/* Non-specific EOI clears the highest in service: IRQ1. */
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(read_isr(M_CMD), 0x08);
	assert_false(pic_int_output(&pic));
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(read_isr(M_CMD), 0x00);
	/* IRQ3 again (latched while it was in service), then IRQ5. */
	assert_int_equal(pic_intack(&pic), 0x23);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x25);
	outb(M_CMD, OCW2_NS_EOI);
	assert_false(pic_int_output(&pic));
	outb(M_CMD, OCW2_NS_EOI); /* nothing in service: harmless */
	assert_int_equal(read_isr(M_CMD), 0x00);
}

static void test_specific_eoi(void **state)
{
	(void)state;
	program_linux();
	pulse(4);
	assert_int_equal(pic_intack(&pic), 0x24);
	pulse(1);
	assert_int_equal(pic_intack(&pic), 0x21);
	assert_int_equal(read_isr(M_CMD), 0x12);
	/* The lower one first, by name: IRQ1 stays in service. */
	outb(M_CMD, OCW2_SPEC_EOI(4));
	assert_int_equal(read_isr(M_CMD), 0x02);
	outb(M_CMD, OCW2_SPEC_EOI(6)); /* not in service: no effect */
	assert_int_equal(read_isr(M_CMD), 0x02);
	outb(M_CMD, OCW2_SPEC_EOI(1));
	assert_int_equal(read_isr(M_CMD), 0x00);

	/* A no-op OCW2 changes nothing. */
	pulse(6);
	assert_int_equal(pic_intack(&pic), 0x26);
	outb(M_CMD, 0x40);
	assert_int_equal(read_isr(M_CMD), 0x40);
}

static void test_auto_eoi(void **state)
{
	(void)state;
	program(0x20, 0x28, ICW4_8086_AEOI, 0x00, 0x00);
	pulse(3);
	pulse(5);
	assert_int_equal(pic_intack(&pic), 0x23);
	assert_int_equal(read_isr(M_CMD), 0x00);
	assert_true(pic_int_output(&pic)); /* IRQ5 at once, no EOI needed */
	assert_int_equal(pic_intack(&pic), 0x25);
	assert_false(pic_int_output(&pic));

	/* A slave in auto-EOI whose INT stays high across the acknowledge:
	 * its second request still reaches the CPU. */
	pulse(12);
	pulse(14);
	assert_int_equal(pic_intack(&pic), 0x2C);
	assert_int_equal(read_isr(S_CMD), 0x00);
	assert_int_equal(read_isr(M_CMD), 0x00);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x2E);
	assert_false(pic_int_output(&pic));

	/* On the wire the slave's INT falls at the first INTA pulse and
	 * rises at its auto-EOI, and the master latches that edge: if the
	 * slave's request then goes away, the next INTA is a spurious IRQ15
	 * with IR2 in service, as on hardware, not a spurious IRQ7. */
	outb(M_CMD, ICW1_CASCADE_ICW4);
	outb(M_DATA, 0x20);
	outb(M_DATA, 0x04);
	outb(M_DATA, ICW4_8086);
	pulse(12);
	pulse(14);
	assert_int_equal(pic_intack(&pic), 0x2C);
	outb(S_DATA, 0x40); /* IRQ14 masked before its INTA */
	outb(M_CMD, OCW2_NS_EOI);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x2F);
	assert_int_equal(read_isr(M_CMD), 0x04);
}

static void test_slave_auto_eoi_master_eoi(void **state)
{
	(void)state;
	/* Master with normal EOI, slave with auto-EOI: the second slave
	 * request waits for the master's EOI of IR2, then comes. */
	outb(M_CMD, ICW1_CASCADE_ICW4);
	outb(M_DATA, 0x20);
	outb(M_DATA, 0x04);
	outb(M_DATA, ICW4_8086);
	outb(S_CMD, ICW1_CASCADE_ICW4);
	outb(S_DATA, 0x28);
	outb(S_DATA, 0x02);
	outb(S_DATA, ICW4_8086_AEOI);
	pulse(10);
	pulse(11);
	assert_int_equal(pic_intack(&pic), 0x2A);
	assert_false(pic_int_output(&pic));
	outb(M_CMD, OCW2_NS_EOI);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x2B);
}

/* ---- rotation and special modes ---- */

static void test_rotation(void **state)
{
	(void)state;
	program_linux();
	/* Set priority: IR4 lowest, so IR5 is the highest. */
	outb(M_CMD, OCW2_SET_PRIO(4));
	pulse(3);
	pulse(6);
	assert_int_equal(pic_intack(&pic), 0x26);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x23);
	/* Rotate on non-specific EOI: IR3 becomes the lowest. */
	outb(M_CMD, OCW2_ROT_NS_EOI);
	pulse(3);
	pulse(4);
	assert_int_equal(pic_intack(&pic), 0x24);
	/* Rotate on specific EOI: IR4 becomes the lowest, IR5 the highest. */
	outb(M_CMD, OCW2_ROT_SPEC_EOI(4));
	assert_int_equal(read_isr(M_CMD), 0x00);
	pulse(4);
	assert_int_equal(pic_intack(&pic), 0x23); /* IR3 now outranks IR4 */
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x24);
	outb(M_CMD, OCW2_NS_EOI);

	/* Rotate in auto-EOI mode: each acknowledged level becomes lowest. */
	program(0x20, 0x28, ICW4_8086_AEOI, 0x00, 0x00);
	outb(M_CMD, OCW2_ROT_AEOI_SET);
	pulse(0);
	assert_int_equal(pic_intack(&pic), 0x20);
	pulse(0);
	pulse(1);
	assert_int_equal(pic_intack(&pic), 0x21); /* IR0 is now lowest */
	assert_int_equal(pic_intack(&pic), 0x20);
	/* Cleared: the priority stays where the last rotation left it (IR0
	 * lowest) and no longer moves. */
	outb(M_CMD, 0x00);
	pulse(0);
	pulse(1);
	assert_int_equal(pic_intack(&pic), 0x21);
	assert_int_equal(pic_intack(&pic), 0x20);
	pulse(0);
	pulse(1);
	assert_int_equal(pic_intack(&pic), 0x21);
}

static void test_special_mask_mode(void **state)
{
	(void)state;
	program_linux();
	pulse(3);
	assert_int_equal(pic_intack(&pic), 0x23);
	/* The handler masks its own level and enters special mask mode:
	 * a lower level may interrupt it. */
	outb(M_DATA, 0x08);
	pulse(5);
	assert_false(pic_int_output(&pic));
	outb(M_CMD, OCW3_SMM_SET);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x25);
	assert_int_equal(read_isr(M_CMD), 0x28);
	/* A non-specific EOI skips the masked IR3 and clears IR5. */
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(read_isr(M_CMD), 0x08);
	outb(M_CMD, OCW3_SMM_RESET);
	outb(M_DATA, 0x00);
	pulse(5);
	assert_false(pic_int_output(&pic)); /* nested again: IR3 blocks */
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(read_isr(M_CMD), 0x00);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x25);
	outb(M_CMD, OCW2_NS_EOI);

	/* A slave in special mask mode keeps its INT high across an
	 * acknowledge when another request is pending: the master still
	 * sees IR2 once its own EOI comes. */
	outb(S_CMD, OCW3_SMM_SET);
	pulse(9);
	pulse(10);
	assert_int_equal(pic_intack(&pic), 0x29);
	assert_false(pic_int_output(&pic)); /* IR2 in service on the master */
	outb(M_CMD, OCW2_SPEC_EOI(2));
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x2A);
	assert_int_equal(read_isr(S_CMD), 0x06);
}

static void test_special_fully_nested(void **state)
{
	(void)state;
	/* Without SFNM, the master's IR2 in service blocks the slave's
	 * higher-priority request; with it, the request gets through. */
	program_linux();
	pulse(12);
	assert_int_equal(pic_intack(&pic), 0x2C);
	pulse(9);
	assert_false(pic_int_output(&pic));

	program(0x20, 0x28, ICW4_8086, 0x00, 0x00);
	outb(M_CMD, ICW1_CASCADE_ICW4);
	outb(M_DATA, 0x20);
	outb(M_DATA, 0x04);
	outb(M_DATA, ICW4_8086_SFNM);
	pulse(12);
	assert_int_equal(pic_intack(&pic), 0x2C);
	assert_false(pic_int_output(&pic));
	pulse(13); /* lower than IRQ12 in service on the slave: waits */
	assert_false(pic_int_output(&pic));
	pulse(9);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x29);
	assert_int_equal(read_isr(S_CMD), 0x12);
	assert_int_equal(read_isr(M_CMD), 0x04);
}

/* ---- reads, poll, ELCR ---- */

static void test_ocw3_reads(void **state)
{
	(void)state;
	program(0x20, 0x28, ICW4_8086, 0x20, 0x00);
	/* IRR shows requests whatever the IMR says; ISR only what is in service. */
	pulse(5);
	pulse(6);
	assert_int_equal(inb(M_CMD), 0x60);
	assert_int_equal(pic_intack(&pic), 0x26);
	assert_int_equal(inb(M_CMD), 0x20);
	outb(M_CMD, OCW3_READ_ISR);
	assert_int_equal(inb(M_CMD), 0x40);
	assert_int_equal(inb(M_CMD), 0x40);  /* the selection persists */
	assert_int_equal(inb(M_DATA), 0x20); /* A0 = 1 is always the IMR */
	outb(M_CMD, 0x08);		     /* OCW3 with RR = 0: no change */
	assert_int_equal(inb(M_CMD), 0x40);
	outb(M_CMD, OCW3_READ_IRR);
	assert_int_equal(inb(M_CMD), 0x20);
	/* ICW1 selects IRR again. */
	outb(M_CMD, OCW3_READ_ISR);
	outb(M_CMD, ICW1_CASCADE_ICW4);
	assert_int_equal(inb(M_CMD), 0x00);
}

static void test_poll(void **state)
{
	(void)state;
	program(0x20, 0x28, ICW4_8086, 0x00, 0x00);
	pulse(6);
	pulse(4);
	outb(M_CMD, OCW3_POLL);
	assert_int_equal(inb(M_CMD), 0x84);
	assert_int_equal(read_isr(M_CMD), 0x10);
	/* One read only: the next one is IRR again. */
	assert_int_equal(inb(M_CMD), 0x40);
	/* IR6 is blocked by IR4 in service: no request. */
	outb(M_CMD, OCW3_POLL);
	assert_int_equal(inb(M_DATA), 0x00);
	assert_int_equal(inb(M_DATA), 0x00); /* the IMR, after the poll */
	outb(M_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW3_POLL);
	assert_int_equal(inb(M_DATA), 0x86);

	/* Polling the slave through the cascade: the master says IR2. */
	outb(M_CMD, OCW2_NS_EOI);
	pulse(11);
	outb(M_CMD, OCW3_POLL);
	assert_int_equal(inb(M_CMD), 0x82);
	outb(S_CMD, OCW3_POLL);
	assert_int_equal(inb(S_CMD), 0x83);
	assert_int_equal(read_isr(S_CMD), 0x08);
}

static void test_elcr_level(void **state)
{
	(void)state;
	/* IRQ 0, 1, 2, 8 and 13 are always edge. */
	outb(ELCR0, 0xFF);
	outb(ELCR1, 0xFF);
	assert_int_equal(inb(ELCR0), 0xF8);
	assert_int_equal(inb(ELCR1), 0xDE);
	assert_int_equal(in(ELCR0, 2), 0xDEF8);
	assert_int_equal(bus_write(&pio, ELCR0, 2, 0x0E20), ST_OK);
	assert_int_equal(inb(ELCR0), 0x20);
	assert_int_equal(inb(ELCR1), 0x0E);

	program_linux();
	/* Level IRQ5: requests while high, again after EOI if still high. */
	pic_set_irq(&pic, 5, true);
	assert_int_equal(pic_intack(&pic), 0x25);
	assert_int_equal(inb(M_CMD), 0x20); /* IRR follows the line */
	outb(M_CMD, OCW2_NS_EOI);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x25);
	pic_set_irq(&pic, 5, false);
	outb(M_CMD, OCW2_NS_EOI);
	assert_false(pic_int_output(&pic));
	assert_int_equal(inb(M_CMD), 0x00);

	/* Level IRQ9 (the SCI) through the cascade. */
	pic_set_irq(&pic, 9, true);
	assert_int_equal(pic_intack(&pic), 0x29);
	outb(S_CMD, OCW2_SPEC_EOI(1));
	outb(M_CMD, OCW2_SPEC_EOI(2));
	assert_true(pic_int_output(&pic));
	pic_set_irq(&pic, 9, false);
	assert_int_equal(pic_intack(&pic), 0x2F); /* it went away: IRQ15 */
	outb(M_CMD, OCW2_SPEC_EOI(2));

	/* An edge line stays latched after it falls; a level one does not. */
	pulse(3);
	assert_true(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x23);
	outb(M_CMD, OCW2_NS_EOI);

	/* Odd accesses: nothing beyond the two bytes. */
	assert_int_equal(bus_write(&pio, ELCR1, 2, 0xFFFF), ST_OK); /* straddles */
	assert_int_equal(inb(ELCR1), 0x0E);
}

/* ---- spurious interrupts ---- */

static void test_spurious_irq7(void **state)
{
	(void)state;
	program_linux();
	/* An edge request masked between INT and INTA. */
	pulse(4);
	assert_true(pic_int_output(&pic));
	outb(M_DATA, 0x10);
	assert_false(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x27);
	assert_int_equal(read_isr(M_CMD), 0x00); /* IS7 not set */
	assert_int_equal(read_isr(S_CMD), 0x00);

	/* A level request that went away. */
	outb(ELCR0, 0x40);
	pic_set_irq(&pic, 6, true);
	assert_true(pic_int_output(&pic));
	pic_set_irq(&pic, 6, false);
	assert_false(pic_int_output(&pic));
	assert_int_equal(pic_intack(&pic), 0x27);
	assert_int_equal(read_isr(M_CMD), 0x00);

	/* With no request at all, the same; and a spurious IRQ7 does not
	 * hide a real one later. */
	assert_int_equal(pic_intack(&pic), 0x27);
	pulse(7);
	assert_int_equal(pic_intack(&pic), 0x27);
	assert_int_equal(read_isr(M_CMD), 0x80);
}

static void test_spurious_irq15(void **state)
{
	(void)state;
	program_linux();
	/* A slave request masked after the master saw it: the master
	 * acknowledges IR2, the slave answers with its IR7. */
	pulse(10);
	assert_true(pic_int_output(&pic));
	outb(S_DATA, 0x04);
	assert_int_equal(pic_intack(&pic), 0x2F);
	assert_int_equal(read_isr(S_CMD), 0x00); /* IS7 of the slave not set */
	assert_int_equal(read_isr(M_CMD), 0x04); /* but IR2 is in service */
	assert_false(pic_int_output(&pic));

	/* Until the handler EOIs the master, IR2 blocks every slave IRQ
	 * and lower master IRQs. */
	outb(S_DATA, 0x00);
	pulse(11);
	pulse(3);
	assert_false(pic_int_output(&pic));
	outb(M_CMD, OCW2_SPEC_EOI(2));
	assert_true(pic_int_output(&pic));
	/* IRQ10 was only masked, so its request is still latched. */
	assert_int_equal(pic_intack(&pic), 0x2A);
	outb(S_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x2B);
	outb(S_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x23);
}

/* ---- the INT output ---- */

static void test_int_callback(void **state)
{
	(void)state;
	program_linux();
	assert_int_equal(nevents, 0);

	pulse(1);
	assert_int_equal(nevents, 1);
	assert_true(events[0]);
	assert_ptr_equal(event_ctx, &pic);
	pulse(4); /* INT already high: no new report */
	assert_int_equal(nevents, 1);

	assert_int_equal(pic_intack(&pic), 0x21);
	assert_int_equal(nevents, 2);
	assert_false(events[1]);
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(nevents, 3);
	assert_true(events[2]);
	outb(M_DATA, 0x10); /* masking the pending IRQ4 drops INT */
	assert_int_equal(nevents, 4);
	assert_false(events[3]);
	outb(M_DATA, 0x00);
	assert_int_equal(nevents, 5);
	assert_true(events[4]);
	assert_int_equal(pic_intack(&pic), 0x24);
	assert_int_equal(nevents, 6);
	assert_false(events[5]);

	/* A slave request raises the master's INT too. */
	outb(M_CMD, OCW2_NS_EOI);
	pulse(14);
	assert_int_equal(nevents, 7);
	assert_true(events[6]);
	assert_true(pic_int_output(&pic));
	/* Nothing changes INT without a change of state. */
	(void)inb(M_DATA);
	(void)inb(M_CMD);
	assert_int_equal(nevents, 7);

	/* IRQ 2 is the cascade and out-of-range lines are ignored. */
	assert_int_equal(pic_intack(&pic), 0x2E);
	outb(S_CMD, OCW2_NS_EOI);
	outb(M_CMD, OCW2_NS_EOI);
	nevents = 0;
	pic_set_irq(&pic, 2, true);
	pic_set_irq(&pic, 16, true);
	pic_set_irq(&pic, 1000, true);
	assert_int_equal(nevents, 0);
	assert_int_equal(inb(M_CMD), 0x00);
	assert_int_equal(inb(S_CMD), 0x00);
}

static void test_icw1_resets(void **state)
{
	(void)state;
	program_linux();
	pulse(3);
	assert_int_equal(pic_intack(&pic), 0x23);
	pic_set_irq(&pic, 5, true); /* latched, and still high */
	outb(M_CMD, OCW3_SMM_SET);
	outb(M_CMD, OCW2_SET_PRIO(2));

	/* Re-initialize: IS, latched edges, special mask and priority go. */
	program(0x20, 0x28, ICW4_8086, 0x00, 0x00);
	assert_int_equal(read_isr(M_CMD), 0x00);
	assert_int_equal(inb(M_CMD), 0x00);
	assert_false(pic_int_output(&pic));
	/* IRQ5 is still high: it must fall and rise to request again. */
	pic_set_irq(&pic, 5, true);
	assert_false(pic_int_output(&pic));
	pic_set_irq(&pic, 5, false);
	pic_set_irq(&pic, 5, true);
	pulse(4);
	assert_int_equal(pic_intack(&pic), 0x24); /* IR7 lowest again */
	outb(M_CMD, OCW2_NS_EOI);
	assert_int_equal(pic_intack(&pic), 0x25);
	outb(M_CMD, OCW2_NS_EOI);
	/* No special mask mode: nesting blocks IR6 behind IR5. */
	pic_set_irq(&pic, 5, false);
	pulse(5);
	assert_int_equal(pic_intack(&pic), 0x25);
	pulse(6);
	assert_false(pic_int_output(&pic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_power_on, setup),
	    cmocka_unit_test_setup(test_icw_sequence_seabios, setup),
	    cmocka_unit_test_setup(test_icw_sequence_linux, setup),
	    cmocka_unit_test_setup(test_icw_single_no_icw4, setup),
	    cmocka_unit_test_setup(test_cascade_id_mismatch, setup),
	    cmocka_unit_test_setup(test_imr_readback, setup),
	    cmocka_unit_test_setup(test_priorities, setup),
	    cmocka_unit_test_setup(test_in_service_blocking, setup),
	    cmocka_unit_test_setup(test_specific_eoi, setup),
	    cmocka_unit_test_setup(test_auto_eoi, setup),
	    cmocka_unit_test_setup(test_slave_auto_eoi_master_eoi, setup),
	    cmocka_unit_test_setup(test_rotation, setup),
	    cmocka_unit_test_setup(test_special_mask_mode, setup),
	    cmocka_unit_test_setup(test_special_fully_nested, setup),
	    cmocka_unit_test_setup(test_ocw3_reads, setup),
	    cmocka_unit_test_setup(test_poll, setup),
	    cmocka_unit_test_setup(test_elcr_level, setup),
	    cmocka_unit_test_setup(test_spurious_irq7, setup),
	    cmocka_unit_test_setup(test_spurious_irq15, setup),
	    cmocka_unit_test_setup(test_int_callback, setup),
	    cmocka_unit_test_setup(test_icw1_resets, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
