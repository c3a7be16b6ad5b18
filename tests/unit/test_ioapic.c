/* Unit tests for the I/O APIC model. The model is registered at its real
 * address on a real MMIO bus and programmed only through IOREGSEL/IOWIN, as
 * a guest would; device lines and the LAPIC EOI broadcast come through
 * ioapic_set_irq and ioapic_eoi, as from the VM core.
 *
 * Register offsets, indexes and entry bits are spelled out from the 82093AA
 * datasheet rather than taken from ioapic.h, so a wrong constant there fails
 * here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/ioapic.h"
#include "vm/bus.h"

#define BASE 0xFEC00000ull
#define IOREGSEL (BASE + 0x00)
#define IOWIN (BASE + 0x10)
#define EOIR (BASE + 0x40)

#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_HI(pin) (0x11 + 2 * (pin))

/* Entry bits. */
#define DM_FIXED (0u << 8)
#define DM_LOWEST (1u << 8)
#define DM_SMI (2u << 8)
#define DM_RSVD3 (3u << 8)
#define DM_NMI (4u << 8)
#define DM_INIT (5u << 8)
#define DM_EXTINT (7u << 8)
#define LOGICAL (1u << 11)
#define DELIVS (1u << 12)
#define ACTIVE_LOW (1u << 13)
#define REMOTE_IRR (1u << 14)
#define LEVEL (1u << 15)
#define MASKED (1u << 16)
#define DEST(d) ((uint64_t)(d) << 56)

#define IOAPIC_ID 5
#define MAX_MSGS 16

static struct bus mmio;
static struct ioapic io;
static struct ioapic_msg msgs[MAX_MSGS];
static unsigned nmsgs;
static void *msg_ctx;

static void record(void *ctx, const struct ioapic_msg *m)
{
	assert_true(nmsgs < MAX_MSGS);
	msgs[nmsgs++] = *m;
	msg_ctx = ctx;
}

static int setup(void **state)
{
	(void)state;
	bus_init(&mmio, "mmio", BUS_MMIO_LIMIT);
	assert_int_equal(ioapic_init(&io, IOAPIC_ID, record, &io), ST_OK);
	assert_int_equal(bus_register(&mmio, BASE, 0x1000, &ioapic_mmio_ops, &io, "ioapic"), ST_OK);
	nmsgs = 0;
	msg_ctx = NULL;
	return 0;
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

static uint32_t rd(uint32_t reg)
{
	mwr(IOREGSEL, 4, reg);
	return (uint32_t)mrd(IOWIN, 4);
}

static void wr(uint32_t reg, uint32_t v)
{
	mwr(IOREGSEL, 4, reg);
	mwr(IOWIN, 4, v);
}

/* As Linux does it: high half first, then the low half (which may unmask). */
static void set_rte(unsigned pin, uint64_t v)
{
	wr(RTE_HI(pin), (uint32_t)(v >> 32));
	wr(RTE_LO(pin), (uint32_t)v);
}

static uint64_t get_rte(unsigned pin)
{
	return (uint64_t)rd(RTE_HI(pin)) << 32 | rd(RTE_LO(pin));
}

static void assert_msg(unsigned i, uint8_t vector, uint8_t dm, bool logical, uint8_t dest,
		       bool level, uint8_t pin)
{
	assert_true(i < nmsgs);
	assert_int_equal(msgs[i].vector, vector);
	assert_int_equal(msgs[i].delivery_mode, dm);
	assert_int_equal(msgs[i].dest_logical, logical);
	assert_int_equal(msgs[i].dest, dest);
	assert_int_equal(msgs[i].level, level);
	assert_int_equal(msgs[i].pin, pin);
}

/* ---- registers ---- */

static void test_init_errors(void **state)
{
	(void)state;
	struct ioapic x;

	assert_int_equal(ioapic_init(&x, 16, record, NULL), ST_ERANGE);
	assert_int_equal(ioapic_init(&x, 0, NULL, NULL), ST_EINVAL);
	assert_int_equal(ioapic_init(NULL, 0, record, NULL), ST_EINVAL);
	assert_int_equal(ioapic_init(&x, 15, record, NULL), ST_OK);
}

static void test_id_version_arb(void **state)
{
	(void)state;
	assert_int_equal(rd(REG_ID), 0x05000000);
	/* Version 0x20 (EOI register), max redirection entry 23. */
	assert_int_equal(rd(REG_VER), 0x00170020);
	assert_int_equal(rd(REG_ARB), 0x05000000);

	/* ID keeps bits 27:24 only; ARB is reloaded from it. */
	wr(REG_ID, 0xFFFFFFFF);
	assert_int_equal(rd(REG_ID), 0x0F000000);
	assert_int_equal(rd(REG_ARB), 0x0F000000);
	wr(REG_ID, 0x02000000);
	assert_int_equal(rd(REG_ID), 0x02000000);
	assert_int_equal(rd(REG_ARB), 0x02000000);

	/* VER and ARB are read-only. */
	wr(REG_VER, 0);
	wr(REG_ARB, 0x0C000000);
	assert_int_equal(rd(REG_VER), 0x00170020);
	assert_int_equal(rd(REG_ARB), 0x02000000);
	assert_int_equal(rd(REG_ID), 0x02000000);
}

static void test_regsel_and_undefined(void **state)
{
	(void)state;
	mwr(IOREGSEL, 4, 0x12);
	assert_int_equal(mrd(IOREGSEL, 4), 0x12);
	mwr(IOREGSEL, 4, 0xFFFFFF01); /* only bits 7:0 exist */
	assert_int_equal(mrd(IOREGSEL, 4), 0x01);

	/* Indexes with no register, including the one after entry 23. */
	assert_int_equal(rd(0x03), 0xFFFFFFFF);
	assert_int_equal(rd(0x0F), 0xFFFFFFFF);
	assert_int_equal(rd(0x40), 0xFFFFFFFF);
	assert_int_equal(rd(0xFF), 0xFFFFFFFF);
	wr(0x40, 0);
	assert_int_equal(rd(RTE_LO(23)), MASKED);

	/* 32-bit accesses only; the EOI register is write-only. */
	mwr(IOREGSEL, 4, REG_VER);
	assert_int_equal(mrd(IOWIN, 1), 0xFF);
	assert_int_equal(mrd(IOWIN, 2), 0xFFFF);
	assert_int_equal(mrd(IOWIN, 8), 0xFFFFFFFFFFFFFFFFull);
	assert_int_equal(mrd(IOREGSEL, 1), 0xFF);
	mwr(IOREGSEL, 1, REG_ID);
	assert_int_equal(mrd(IOREGSEL, 4), REG_VER);
	assert_int_equal(mrd(EOIR, 4), 0xFFFFFFFF);
	assert_int_equal(mrd(BASE + 0x20, 4), 0xFFFFFFFF);

	/* A byte write to IOWIN does not reach the entry. */
	mwr(IOREGSEL, 4, RTE_LO(0));
	mwr(IOWIN, 1, 0x00);
	assert_int_equal(rd(RTE_LO(0)), MASKED);
}

static void test_rte_reset_and_bits(void **state)
{
	(void)state;
	for (unsigned pin = 0; pin < 24; pin++)
		assert_int_equal(get_rte(pin), MASKED);

	/* Every writable bit set: delivery status (12), Remote IRR (14) and
	 * the reserved bits stay 0. ExtINT, so no level semantics apply. */
	wr(RTE_LO(3), 0xFFFFFFFF);
	assert_int_equal(rd(RTE_LO(3)), 0x0001AFFF);
	wr(RTE_HI(3), 0xFFFFFFFF);
	assert_int_equal(rd(RTE_HI(3)), 0xFF000000);
	/* Halves are independent, and so are entries. */
	wr(RTE_LO(3), 0);
	assert_int_equal(get_rte(3), DEST(0xFF));
	assert_int_equal(get_rte(2), MASKED);
	assert_int_equal(get_rte(4), MASKED);

	/* The last entry sits at 0x3E/0x3F. */
	wr(0x3F, 0x12000000);
	wr(0x3E, MASKED | 0x77);
	assert_int_equal(get_rte(23), DEST(0x12) | MASKED | 0x77);
	assert_int_equal(nmsgs, 0);
}

/* ---- edge ---- */

static void test_edge_delivery(void **state)
{
	(void)state;
	set_rte(4, DEST(3) | DM_FIXED | 0x34);
	assert_int_equal(nmsgs, 0);

	ioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 1);
	assert_msg(0, 0x34, 0, false, 3, false, 4);
	assert_ptr_equal(msg_ctx, &io);

	/* Staying high, falling: nothing. Rising again: one more. */
	ioapic_set_irq(&io, 4, true);
	ioapic_set_irq(&io, 4, false);
	assert_int_equal(nmsgs, 1);
	ioapic_set_irq(&io, 4, true);
	ioapic_set_irq(&io, 4, false);
	assert_int_equal(nmsgs, 2);

	/* Edge entries never get Remote IRR, and EOIs do nothing. */
	assert_int_equal(get_rte(4), DEST(3) | 0x34);
	ioapic_eoi(&io, 0x34);
	assert_int_equal(nmsgs, 2);

	/* Other pins are separate; out-of-range pins are ignored. */
	ioapic_set_irq(&io, 5, true);
	ioapic_set_irq(&io, 24, true);
	ioapic_set_irq(&io, 1000, true);
	assert_int_equal(nmsgs, 2);
}

static void test_edge_masked_is_lost(void **state)
{
	(void)state;
	set_rte(1, DEST(0) | MASKED | 0x31);
	ioapic_set_irq(&io, 1, true);
	ioapic_set_irq(&io, 1, false);
	ioapic_set_irq(&io, 1, true);
	assert_int_equal(nmsgs, 0);

	/* Unmasking while the line is high does not replay the edge. */
	set_rte(1, DEST(0) | 0x31);
	assert_int_equal(nmsgs, 0);
	ioapic_set_irq(&io, 1, false);
	assert_int_equal(nmsgs, 0);
	ioapic_set_irq(&io, 1, true);
	assert_int_equal(nmsgs, 1);
	assert_msg(0, 0x31, 0, false, 0, false, 1);
}

/* ---- level ---- */

static void test_level_remote_irr(void **state)
{
	(void)state;
	const uint64_t rte = DEST(1) | LEVEL | DM_FIXED | 0x49;

	set_rte(9, rte);
	assert_int_equal(nmsgs, 0);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 1);
	assert_msg(0, 0x49, 0, false, 1, true, 9);
	assert_int_equal(get_rte(9), rte | REMOTE_IRR);

	/* No re-delivery while Remote IRR is set, whatever the line does. */
	ioapic_set_irq(&io, 9, true);
	ioapic_set_irq(&io, 9, false);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 1);

	/* An EOI for another vector does nothing. */
	ioapic_eoi(&io, 0x48);
	ioapic_eoi(&io, 0x4A);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(get_rte(9), rte | REMOTE_IRR);

	/* EOI with the line still high: delivered again, Remote IRR again. */
	ioapic_eoi(&io, 0x49);
	assert_int_equal(nmsgs, 2);
	assert_msg(1, 0x49, 0, false, 1, true, 9);
	assert_int_equal(get_rte(9), rte | REMOTE_IRR);

	/* The device is serviced, then the EOI: quiet. */
	ioapic_set_irq(&io, 9, false);
	ioapic_eoi(&io, 0x49);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(get_rte(9), rte);

	/* A second EOI with nothing outstanding does nothing either. */
	ioapic_eoi(&io, 0x49);
	assert_int_equal(nmsgs, 2);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 3);
}

static void test_eoi_register_and_shared_vector(void **state)
{
	(void)state;
	/* Two level pins share a vector (as shared PCI lines may). */
	set_rte(16, DEST(0) | LEVEL | 0x60);
	set_rte(17, DEST(0) | LEVEL | 0x60);
	set_rte(18, DEST(0) | LEVEL | 0x61);
	ioapic_set_irq(&io, 16, true);
	ioapic_set_irq(&io, 17, true);
	ioapic_set_irq(&io, 18, true);
	assert_int_equal(nmsgs, 3);

	/* The directed EOI register of version 0x20 clears both. */
	mwr(EOIR, 4, 0x60);
	assert_int_equal(nmsgs, 5);
	assert_int_equal(msgs[3].pin, 16);
	assert_int_equal(msgs[4].pin, 17);
	assert_true(get_rte(18) & REMOTE_IRR);

	ioapic_set_irq(&io, 16, false);
	ioapic_set_irq(&io, 17, false);
	mwr(EOIR, 4, 0xFFFFFF60); /* only the vector byte counts */
	assert_false(get_rte(16) & REMOTE_IRR);
	assert_false(get_rte(17) & REMOTE_IRR);
	assert_int_equal(nmsgs, 5);

	/* A byte write to the EOI register is ignored. */
	mwr(EOIR, 1, 0x61);
	assert_true(get_rte(18) & REMOTE_IRR);
	mwr(EOIR, 4, 0x61);
	assert_int_equal(nmsgs, 6);
}

static void test_level_mask_and_unmask(void **state)
{
	(void)state;
	const uint64_t rte = DEST(2) | LEVEL | 0x52;

	/* Masked: nothing, but the line is remembered. */
	set_rte(10, rte | MASKED);
	ioapic_set_irq(&io, 10, true);
	assert_int_equal(nmsgs, 0);
	set_rte(10, rte);
	assert_int_equal(nmsgs, 1);
	assert_msg(0, 0x52, 0, false, 2, true, 10);

	/* Masking after delivery keeps Remote IRR until the EOI. */
	set_rte(10, rte | MASKED);
	assert_int_equal(get_rte(10), rte | MASKED | REMOTE_IRR);
	ioapic_eoi(&io, 0x52);
	assert_int_equal(get_rte(10), rte | MASKED);
	assert_int_equal(nmsgs, 1);
	set_rte(10, rte);
	assert_int_equal(nmsgs, 2);

	/* A line that went away while masked delivers nothing at unmask. */
	set_rte(10, rte | MASKED);
	ioapic_eoi(&io, 0x52);
	ioapic_set_irq(&io, 10, false);
	set_rte(10, rte);
	assert_int_equal(nmsgs, 2);
}

static void test_write_while_remote_irr(void **state)
{
	(void)state;
	const uint64_t rte = DEST(1) | LEVEL | 0x70;

	set_rte(11, rte);
	ioapic_set_irq(&io, 11, true);
	assert_int_equal(nmsgs, 1);

	/* Remote IRR and delivery status are read-only: writing 0 or 1 to
	 * them changes nothing, and no message goes out. */
	wr(RTE_LO(11), (uint32_t)rte);
	wr(RTE_LO(11), (uint32_t)rte | REMOTE_IRR | DELIVS);
	assert_int_equal(get_rte(11), rte | REMOTE_IRR);
	/* New destination: still waiting for the EOI. */
	wr(RTE_HI(11), 0x04000000);
	assert_int_equal(get_rte(11), DEST(4) | LEVEL | REMOTE_IRR | 0x70);
	assert_int_equal(nmsgs, 1);

	/* New vector: the EOI must match the entry as it is now. */
	wr(RTE_LO(11), LEVEL | 0x71);
	ioapic_eoi(&io, 0x70);
	assert_true(get_rte(11) & REMOTE_IRR);
	assert_int_equal(nmsgs, 1);
	ioapic_eoi(&io, 0x71);
	assert_int_equal(nmsgs, 2);
	assert_msg(1, 0x71, 0, false, 4, true, 11);

	/* The pre-0x20 EOI: masked edge, then the level entry back. The
	 * flip to edge clears Remote IRR; the line is still high, so the
	 * restored entry delivers. */
	wr(RTE_LO(11), MASKED | 0x71);
	assert_int_equal(get_rte(11), DEST(4) | MASKED | 0x71);
	assert_int_equal(nmsgs, 2);
	wr(RTE_LO(11), LEVEL | 0x71);
	assert_int_equal(nmsgs, 3);
	assert_int_equal(get_rte(11), DEST(4) | LEVEL | REMOTE_IRR | 0x71);
}

/* ---- polarity ---- */

static void test_polarity(void **state)
{
	(void)state;
	/* Active-low level line (PCI INTx): idle is high. */
	ioapic_set_irq(&io, 20, true);
	set_rte(20, DEST(0) | ACTIVE_LOW | LEVEL | 0x80);
	assert_int_equal(nmsgs, 0);
	ioapic_set_irq(&io, 20, false); /* asserted */
	assert_int_equal(nmsgs, 1);
	assert_msg(0, 0x80, 0, false, 0, true, 20);
	ioapic_eoi(&io, 0x80); /* still low: again */
	assert_int_equal(nmsgs, 2);
	ioapic_set_irq(&io, 20, true);
	ioapic_eoi(&io, 0x80);
	assert_int_equal(nmsgs, 2);
	assert_false(get_rte(20) & REMOTE_IRR);

	/* A pin left low (its reset level) reads as asserted once the entry
	 * is active-low: the core must drive idle active-low pins high. */
	set_rte(21, DEST(0) | ACTIVE_LOW | LEVEL | 0x81);
	assert_int_equal(nmsgs, 3);
	assert_int_equal(msgs[2].pin, 21);

	/* Active-low edge: the falling edge delivers, the rising one not. */
	ioapic_set_irq(&io, 22, true);
	set_rte(22, DEST(0) | ACTIVE_LOW | 0x82);
	ioapic_set_irq(&io, 22, false);
	assert_int_equal(nmsgs, 4);
	assert_msg(3, 0x82, 0, false, 0, false, 22);
	ioapic_set_irq(&io, 22, true);
	assert_int_equal(nmsgs, 4);

	/* Active-high level: a low pin is quiet. */
	set_rte(23, DEST(0) | LEVEL | 0x83);
	assert_int_equal(nmsgs, 4);
}

/* ---- message fields ---- */

static void test_destination_and_modes(void **state)
{
	(void)state;
	/* Logical, lowest priority, level: every field passed through. */
	set_rte(12, DEST(0xA5) | LOGICAL | DM_LOWEST | LEVEL | 0x9C);
	ioapic_set_irq(&io, 12, true);
	assert_int_equal(nmsgs, 1);
	assert_msg(0, 0x9C, 1, true, 0xA5, true, 12);
	assert_true(get_rte(12) & REMOTE_IRR);

	/* Physical with an 8-bit ID (xAPIC), edge. */
	set_rte(13, DEST(0xFE) | DM_FIXED | 0x9D);
	ioapic_set_irq(&io, 13, true);
	assert_msg(1, 0x9D, 0, false, 0xFE, false, 13);

	/* NMI programmed as level is treated as edge: no Remote IRR, one
	 * message per assertion. */
	set_rte(14, DEST(1) | DM_NMI | LEVEL);
	ioapic_set_irq(&io, 14, true);
	assert_int_equal(nmsgs, 3);
	assert_msg(2, 0, 4, false, 1, false, 14);
	assert_false(get_rte(14) & REMOTE_IRR);
	ioapic_eoi(&io, 0);
	set_rte(14, DEST(1) | DM_NMI | LEVEL); /* rewriting does not resend */
	assert_int_equal(nmsgs, 3);

	/* SMI, INIT, ExtINT. */
	set_rte(0, DEST(0) | DM_EXTINT);
	set_rte(5, DEST(2) | DM_SMI);
	set_rte(6, DEST(3) | LOGICAL | DM_INIT);
	ioapic_set_irq(&io, 0, true);
	ioapic_set_irq(&io, 5, true);
	ioapic_set_irq(&io, 6, true);
	assert_int_equal(nmsgs, 6);
	assert_msg(3, 0, 7, false, 0, false, 0);
	assert_msg(4, 0, 2, false, 2, false, 5);
	assert_msg(5, 0, 5, true, 3, false, 6);

	/* Reserved delivery modes send nothing. */
	set_rte(7, DEST(0) | DM_RSVD3 | 0x40);
	set_rte(8, DEST(0) | (6u << 8) | LEVEL | 0x41);
	ioapic_set_irq(&io, 7, true);
	ioapic_set_irq(&io, 8, true);
	assert_int_equal(nmsgs, 6);
	assert_false(get_rte(8) & REMOTE_IRR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_init_errors, setup),
	    cmocka_unit_test_setup(test_id_version_arb, setup),
	    cmocka_unit_test_setup(test_regsel_and_undefined, setup),
	    cmocka_unit_test_setup(test_rte_reset_and_bits, setup),
	    cmocka_unit_test_setup(test_edge_delivery, setup),
	    cmocka_unit_test_setup(test_edge_masked_is_lost, setup),
	    cmocka_unit_test_setup(test_level_remote_irr, setup),
	    cmocka_unit_test_setup(test_eoi_register_and_shared_vector, setup),
	    cmocka_unit_test_setup(test_level_mask_and_unmask, setup),
	    cmocka_unit_test_setup(test_write_while_remote_irr, setup),
	    cmocka_unit_test_setup(test_polarity, setup),
	    cmocka_unit_test_setup(test_destination_and_modes, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
