/* Unit tests for the per-vCPU local APIC model. The xAPIC page is registered
 * at its reset address on a real MMIO bus and driven through bus_read and
 * bus_write, as a guest would; MSRs, acceptance, EOI callbacks and the timer
 * go through the model's API with a fake guest TSC advanced by hand.
 *
 * Expected values come from Intel SDM vol. 3 chapter 11; register offsets,
 * MSR numbers and bits are spelled out here rather than taken from the
 * model's header, so a wrong constant there fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/lapic.h"
#include "vm/bus.h"

#define BASE 0xFEE00000ull
#define PAGE 0x1000

/* xAPIC register offsets (SDM table 11-1). */
#define ID 0x020
#define VER 0x030
#define TPR 0x080
#define APR 0x090
#define PPR 0x0A0
#define EOI 0x0B0
#define RRD 0x0C0
#define LDR 0x0D0
#define DFR 0x0E0
#define SVR 0x0F0
#define ISR 0x100
#define TMR 0x180
#define IRR 0x200
#define ESR 0x280
#define CMCI 0x2F0
#define ICR_LO 0x300
#define ICR_HI 0x310
#define LVT_TIMER 0x320
#define LVT_THERMAL 0x330
#define LVT_PERF 0x340
#define LVT_LINT0 0x350
#define LVT_LINT1 0x360
#define LVT_ERROR 0x370
#define TMICT 0x380
#define TMCCT 0x390
#define DCR 0x3E0
#define SELF_IPI_OFF 0x3F0

/* MSRs. */
#define MSR_APIC_BASE 0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define X2(off) (0x800u + ((off) >> 4))

/* IA32_APIC_BASE bits. */
#define AB_BSP 0x100ull
#define AB_EXTD 0x400ull
#define AB_EN 0x800ull

#define MASKED 0x10000u
#define PERIODIC 0x20000u
#define DEADLINE 0x40000u
#define SW_ENABLE 0x100u

#define MY_ID 3
#define T0 1000000ull /* the fake TSC does not start at 0 */

static uint64_t tsc;
static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return tsc;
}
static const struct vdev_clock clk = {.ctx = NULL, .now = fake_now, .hz = 2000000000ull};

#define MAX_IPIS 32
static struct lapic_ipi ipis[MAX_IPIS];
static unsigned n_ipis, n_eois, n_changed;
static uint8_t last_eoi;
static int host_ctx;
static bool redeliver_on_eoi;

static struct vlapic lapic;
static struct vlapic_host host;
static struct bus mmio;

static void record_ipi(void *ctx, const struct lapic_ipi *ipi)
{
	assert_ptr_equal(ctx, &host_ctx);
	if (n_ipis < MAX_IPIS)
		ipis[n_ipis] = *ipi;
	n_ipis++;
}

static void record_eoi(void *ctx, uint8_t vector)
{
	assert_ptr_equal(ctx, &host_ctx);
	n_eois++;
	last_eoi = vector;
	/* An IOAPIC whose line is still asserted delivers again, from inside
	 * the callback: the model must have finished its EOI. */
	if (redeliver_on_eoi)
		assert_true(vlapic_accept(&lapic, vector, true));
}

static void record_changed(void *ctx)
{
	assert_ptr_equal(ctx, &host_ctx);
	n_changed++;
}

static void init_with(uint32_t id, bool bsp)
{
	assert_int_equal(vlapic_init(&lapic, id, bsp, &clk, &host), ST_OK);
}

static int setup(void **state)
{
	(void)state;
	tsc = T0;
	n_ipis = n_eois = n_changed = 0;
	last_eoi = 0;
	redeliver_on_eoi = false;
	memset(ipis, 0, sizeof(ipis));
	host = (struct vlapic_host){
	    .ctx = &host_ctx,
	    .ipi = record_ipi,
	    .eoi = record_eoi,
	    .changed = record_changed,
	    .phys_bits = 40,
	    .x2apic = true,
	    .tsc_deadline = true,
	};
	init_with(MY_ID, true);
	bus_init(&mmio, "mmio", BUS_MMIO_LIMIT);
	assert_int_equal(bus_register(&mmio, BASE, PAGE, &vlapic_mmio_ops, &lapic, "lapic"), ST_OK);
	return 0;
}

static uint64_t rd_sized(uint64_t off, uint8_t size)
{
	uint64_t v = 0x5A5A5A5A5A5A5A5Aull;

	assert_int_equal(bus_read(&mmio, BASE + off, size, &v), ST_OK);
	return v;
}

static uint32_t rd(uint64_t off)
{
	return (uint32_t)rd_sized(off, 4);
}

static void wr_sized(uint64_t off, uint8_t size, uint64_t v)
{
	assert_int_equal(bus_write(&mmio, BASE + off, size, v), ST_OK);
}

static void wr(uint64_t off, uint32_t v)
{
	wr_sized(off, 4, v);
}

static uint64_t msr_rd(uint32_t msr)
{
	uint64_t v = 0x5A5A5A5A5A5A5A5Aull;

	assert_true(vlapic_msr_read(&lapic, msr, &v));
	return v;
}

static void msr_wr(uint32_t msr, uint64_t v)
{
	assert_true(vlapic_msr_write(&lapic, msr, v));
}

static void assert_rd_gp(uint32_t msr)
{
	uint64_t v = 0x1234;

	assert_false(vlapic_msr_read(&lapic, msr, &v));
	assert_int_equal(v, 0x1234); /* untouched */
}

static void assert_wr_gp(uint32_t msr, uint64_t v)
{
	assert_false(vlapic_msr_write(&lapic, msr, v));
}

/* The ESR as a guest reads it: write, then read (SDM 11.5.3). */
static uint32_t esr(void)
{
	wr(ESR, 0);
	return rd(ESR);
}

static void enable(void)
{
	wr(SVR, SW_ENABLE | 0xFF);
}

static void to_x2apic(void)
{
	msr_wr(MSR_APIC_BASE, BASE | AB_EN | AB_EXTD | AB_BSP);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_X2APIC);
}

static void to_x2apic_ap(void)
{
	msr_wr(MSR_APIC_BASE, BASE | AB_EN | AB_EXTD);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_X2APIC);
}

static bool irr_bit(unsigned v)
{
	return (rd(IRR + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool isr_bit(unsigned v)
{
	return (rd(ISR + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool tmr_bit(unsigned v)
{
	return (rd(TMR + (v / 32) * 0x10) >> (v % 32)) & 1;
}

/* Inject the pending vector as the core would; returns it. */
static int take(void)
{
	int v = vlapic_pending(&lapic);

	if (v >= 0)
		vlapic_ack(&lapic, (uint8_t)v);
	return v;
}

/* ---- init and reset values ---- */

static void test_init_errors(void **state)
{
	(void)state;
	struct vlapic l;
	struct vdev_clock zero = clk;
	struct vlapic_host h = host;

	zero.hz = 0;
	assert_int_equal(vlapic_init(NULL, 0, true, &clk, &host), ST_EINVAL);
	assert_int_equal(vlapic_init(&l, 0, true, NULL, &host), ST_EINVAL);
	assert_int_equal(vlapic_init(&l, 0, true, &clk, NULL), ST_EINVAL);
	assert_int_equal(vlapic_init(&l, 0, true, &zero, &host), ST_EINVAL);
	h.eoi = NULL;
	assert_int_equal(vlapic_init(&l, 0, true, &clk, &h), ST_EINVAL);
	h = host;
	assert_int_equal(vlapic_init(&l, 0xFF, true, &clk, &host), ST_ERANGE);
	assert_int_equal(vlapic_init(&l, 0xFE, true, &clk, &host), ST_OK);
	h.phys_bits = 31;
	assert_int_equal(vlapic_init(&l, 0, true, &clk, &h), ST_ERANGE);
	h.phys_bits = 53;
	assert_int_equal(vlapic_init(&l, 0, true, &clk, &h), ST_ERANGE);
	h.phys_bits = 52;
	assert_int_equal(vlapic_init(&l, 0, true, &clk, &h), ST_OK);
}

static void assert_power_on_registers(void)
{
	assert_int_equal(rd(TPR), 0);
	assert_int_equal(rd(APR), 0);
	assert_int_equal(rd(PPR), 0);
	assert_int_equal(rd(LDR), 0);
	assert_int_equal(rd(DFR), 0xFFFFFFFF);
	assert_int_equal(rd(SVR), 0xFF);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(rd(ISR + i * 0x10), 0);
		assert_int_equal(rd(TMR + i * 0x10), 0);
		assert_int_equal(rd(IRR + i * 0x10), 0);
	}
	assert_int_equal(rd(ESR), 0);
	assert_int_equal(rd(ICR_LO), 0);
	assert_int_equal(rd(ICR_HI), 0);
	for (unsigned off = LVT_TIMER; off <= LVT_ERROR; off += 0x10)
		assert_int_equal(rd(off), 0x00010000);
	assert_int_equal(rd(TMICT), 0);
	assert_int_equal(rd(TMCCT), 0);
	assert_int_equal(rd(DCR), 0);
}

static void test_reset_values(void **state)
{
	(void)state;
	assert_int_equal(rd(ID), MY_ID << 24);
	/* Version 0x14, max LVT entry 5 (six LVTs), no directed EOI. */
	assert_int_equal(rd(VER), 0x00050014);
	assert_power_on_registers();
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFEE00900);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_XAPIC);
	assert_int_equal(vlapic_base(&lapic), BASE);
	assert_int_equal(vlapic_id(&lapic), MY_ID);
	assert_int_equal(vlapic_pending(&lapic), -1);
	assert_false(vlapic_nmi_pending(&lapic));
	assert_false(vlapic_lint0_extint(&lapic)); /* LINT0 masked at reset */
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);

	/* An AP: BSP flag clear. */
	init_with(7, false);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFEE00800);
	assert_int_equal(rd(ID), 7u << 24);
}

/* ---- MMIO access rules ---- */

static void test_write_masks(void **state)
{
	(void)state;
	static const struct {
		uint32_t off, after_ones, after_zero;
	} rw[] = {
	    {TPR, 0xFF, 0},
	    {LDR, 0xFF000000, 0},
	    {DFR, 0xFFFFFFFF, 0x0FFFFFFF}, /* bits 27:0 read as 1 */
	    {ICR_HI, 0xFF000000, 0},
	    {LVT_TIMER, 0x000700FF, 0}, /* status (12) read-only */
	    {LVT_THERMAL, 0x000107FF, 0},
	    {LVT_PERF, 0x000107FF, 0},
	    {LVT_LINT0, 0x0001A7FF, 0}, /* status, remote IRR read-only */
	    {LVT_LINT1, 0x0001A7FF, 0},
	    {LVT_ERROR, 0x000100FF, 0},
	    {TMICT, 0xFFFFFFFF, 0},
	    {DCR, 0x0000000B, 0},
	};

	enable();
	for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
		wr(rw[i].off, 0xFFFFFFFF);
		assert_int_equal(rd(rw[i].off), rw[i].after_ones);
		wr(rw[i].off, 0);
		assert_int_equal(rd(rw[i].off), rw[i].after_zero);
	}
	/* SVR: vector, enable, focus; bit 12 (directed EOI) not offered. */
	wr(SVR, 0xFFFFFFFF);
	assert_int_equal(rd(SVR), 0x3FF);

	/* Read-only registers ignore writes. */
	static const uint32_t ro[] = {ID, VER, APR, PPR, RRD, ISR, TMR + 0x70, IRR, TMCCT};
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t before = rd(ro[i]);

		wr(ro[i], 0xA5A5A5A5);
		assert_int_equal(rd(ro[i]), before);
	}
	assert_int_equal(rd(ID), MY_ID << 24);
	assert_int_equal(esr(), 0); /* implemented registers: no error */

	/* Without TSC-deadline, bit 18 of the LVT timer is reserved. */
	host.tsc_deadline = false;
	init_with(MY_ID, true);
	enable();
	wr(LVT_TIMER, 0xFFFFFFFF);
	assert_int_equal(rd(LVT_TIMER), 0x000300FF);
}

static void test_software_disable_forces_masks(void **state)
{
	(void)state;
	enable();
	wr(LVT_LINT0, 0x700);
	wr(LVT_ERROR, 0xE0);
	assert_int_equal(rd(LVT_LINT0), 0x700);
	wr(SVR, 0xFF); /* software-disable */
	for (unsigned off = LVT_TIMER; off <= LVT_ERROR; off += 0x10)
		assert_true(rd(off) & MASKED);
	/* Unmasking is ignored while disabled, the rest of the write lands. */
	wr(LVT_LINT0, 0x400);
	assert_int_equal(rd(LVT_LINT0), 0x10400);
	/* Re-enabling does not unmask. */
	enable();
	assert_int_equal(rd(LVT_LINT0), 0x10400);
	wr(LVT_LINT0, 0x700);
	assert_int_equal(rd(LVT_LINT0), 0x700);
}

static void test_reserved_and_odd_accesses(void **state)
{
	(void)state;
	enable();
	wr(TPR, 0x20);

	/* Sizes and offsets the SDM does not define: all-ones, ignored, and
	 * no error logged. */
	assert_int_equal(rd_sized(TPR, 1), 0xFF);
	assert_int_equal(rd_sized(TPR, 2), 0xFFFF);
	assert_int_equal(rd_sized(TPR, 8), 0xFFFFFFFFFFFFFFFFull);
	assert_int_equal(rd_sized(TPR + 4, 4), 0xFFFFFFFF);
	assert_int_equal(rd_sized(TPR + 1, 1), 0xFF);
	wr_sized(TPR, 1, 0x77);
	wr_sized(TPR, 2, 0x77);
	wr_sized(TPR, 8, 0x77);
	wr_sized(TPR + 4, 4, 0x77);
	assert_int_equal(rd(TPR), 0x20);
	assert_int_equal(esr(), 0);

	/* Write-only EOI reads 0, without an error. */
	assert_int_equal(rd(EOI), 0);
	assert_int_equal(esr(), 0);

	/* Reserved registers read 0 and log "illegal register address". */
	static const uint32_t reserved[] = {0x000, 0x010, 0x040,	0x070, 0x290,
					    CMCI,  0x3A0, SELF_IPI_OFF, 0x400, 0xFF0};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		assert_int_equal(rd(reserved[i]), 0);
		assert_int_equal(esr(), 0x80);
		wr(reserved[i], 0x41);
		assert_int_equal(esr(), 0x80);
		assert_false(irr_bit(0x41)); /* not a SELF IPI in xAPIC mode */
	}
	assert_int_equal(esr(), 0);
}

static void test_esr_and_error_lvt(void **state)
{
	(void)state;
	enable();
	/* Logged errors are visible only after the next ESR write. */
	assert_false(vlapic_accept(&lapic, 5, false));
	assert_int_equal(rd(ESR), 0);
	wr(ESR, 0);
	assert_int_equal(rd(ESR), 0x40); /* received illegal vector */
	wr(ESR, 0xFFFFFFFF);		 /* the value written does not matter */
	assert_int_equal(rd(ESR), 0);
	assert_false(irr_bit(5));

	/* The error LVT raises its vector for a new error... */
	wr(LVT_ERROR, 0xE3);
	assert_false(vlapic_accept(&lapic, 0, false));
	assert_int_equal(take(), 0xE3);
	wr(EOI, 0);
	/* ... not for a repeat before the ESR is written ... */
	assert_false(vlapic_accept(&lapic, 15, false));
	assert_int_equal(vlapic_pending(&lapic), -1);
	/* ... and for a different one. */
	wr(ICR_LO, 0x4003); /* fixed, vector 3: send illegal vector */
	assert_int_equal(take(), 0xE3);
	wr(EOI, 0);
	assert_int_equal(esr(), 0x60);

	/* An illegal vector in the error LVT logs itself once and stops. */
	wr(LVT_ERROR, 0x05);
	assert_false(vlapic_accept(&lapic, 1, false));
	assert_int_equal(esr(), 0x40);
	assert_int_equal(vlapic_pending(&lapic), -1);

	/* Masked error LVT: logged, no interrupt. */
	wr(LVT_ERROR, MASKED | 0xE3);
	assert_false(vlapic_accept(&lapic, 2, false));
	assert_int_equal(vlapic_pending(&lapic), -1);
	assert_int_equal(esr(), 0x40);
}

/* ---- priorities and the IRR -> ISR -> EOI flow ---- */

static void test_ppr(void **state)
{
	(void)state;
	enable();
	wr(TPR, 0x30);
	assert_int_equal(rd(PPR), 0x30);
	assert_true(vlapic_accept(&lapic, 0x45, false));
	assert_int_equal(take(), 0x45);
	/* ISRV class 4 above TPR class 3: PPR = ISRV & 0xF0. */
	assert_int_equal(rd(PPR), 0x40);
	assert_int_equal(vlapic_ppr(&lapic), 0x40);
	/* TPR class equal to ISRV class: PPR = TPR, low bits included. */
	wr(TPR, 0x4F);
	assert_int_equal(rd(PPR), 0x4F);
	wr(TPR, 0x51);
	assert_int_equal(rd(PPR), 0x51);
	wr(EOI, 0);
	wr(TPR, 0x0F);
	assert_int_equal(rd(PPR), 0x0F);
	assert_int_equal(vlapic_tpr(&lapic), 0x0F);

	/* APR: TPR when it outranks IRRV and ISRV, else the highest class. */
	wr(TPR, 0x20);
	assert_int_equal(rd(APR), 0x20);
	assert_true(vlapic_accept(&lapic, 0x47, false));
	assert_int_equal(rd(APR), 0x40);
	wr(TPR, 0x4C);
	assert_int_equal(rd(APR), 0x4C); /* equal to IRRV's class still TPR */
}

static void test_tpr_gates_delivery(void **state)
{
	(void)state;
	enable();
	wr(TPR, 0x50);
	assert_true(vlapic_accept(&lapic, 0x55, false));
	assert_true(vlapic_accept(&lapic, 0x5F, false));
	assert_int_equal(vlapic_pending(&lapic), -1); /* class 5 not above 5 */
	assert_int_equal(vlapic_tpr_blocked(&lapic), 5);
	assert_true(vlapic_accept(&lapic, 0x60, false));
	assert_int_equal(vlapic_tpr_blocked(&lapic), 0); /* 0x60 is deliverable */
	assert_int_equal(vlapic_pending(&lapic), 0x60);
	unsigned before = n_changed;
	vlapic_set_tpr(&lapic, 0x60); /* the CR8 path */
	assert_int_equal(rd(TPR), 0x60);
	assert_int_equal(n_changed, before + 1);
	assert_int_equal(vlapic_pending(&lapic), -1);
	assert_int_equal(vlapic_tpr_blocked(&lapic), 6);
	wr(TPR, 0);
	assert_int_equal(vlapic_pending(&lapic), 0x60);
	/* In service at class 6: 0x55 waits for the EOI, not for the TPR. */
	vlapic_ack(&lapic, 0x60);
	wr(TPR, 0x70);
	assert_int_equal(vlapic_tpr_blocked(&lapic), 0);
	wr(TPR, 0);
	wr(EOI, 0);
	assert_true(vlapic_accept(&lapic, 0x60, false));
	/* Vectors 16-31 (class 1) are deliverable with PPR 0. */
	vlapic_ack(&lapic, 0x60);
	wr(EOI, 0);
	vlapic_ack(&lapic, 0x5F);
	wr(EOI, 0);
	vlapic_ack(&lapic, 0x55);
	wr(EOI, 0);
	assert_true(vlapic_accept(&lapic, 0x10, false));
	assert_int_equal(vlapic_pending(&lapic), 0x10);
}

static void test_nested_priorities(void **state)
{
	(void)state;
	enable();
	assert_true(vlapic_accept(&lapic, 0x40, false));
	assert_int_equal(take(), 0x40);
	assert_false(irr_bit(0x40));
	assert_true(isr_bit(0x40));

	/* Same class, higher vector: blocked while 0x40 is in service. */
	assert_true(vlapic_accept(&lapic, 0x4F, false));
	assert_int_equal(vlapic_pending(&lapic), -1);
	/* Higher class: nests. */
	assert_true(vlapic_accept(&lapic, 0x80, false));
	assert_int_equal(take(), 0x80);
	assert_true(isr_bit(0x80));
	/* A class between the two waits for the higher EOI. */
	assert_true(vlapic_accept(&lapic, 0x50, false));
	assert_int_equal(vlapic_pending(&lapic), -1);

	wr(EOI, 0); /* retires 0x80, the highest in service */
	assert_false(isr_bit(0x80));
	assert_true(isr_bit(0x40));
	assert_int_equal(take(), 0x50);
	wr(EOI, 0); /* retires 0x50 */
	assert_true(isr_bit(0x40));
	assert_int_equal(vlapic_pending(&lapic), -1); /* 0x4F still blocked */
	wr(EOI, 0);				      /* retires 0x40 */
	assert_int_equal(take(), 0x4F);
	wr(EOI, 0);
	assert_int_equal(vlapic_pending(&lapic), -1);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rd(ISR + i * 0x10), 0);
	/* A stray EOI with nothing in service changes nothing. */
	wr(EOI, 0);
	assert_int_equal(n_eois, 0);

	/* Acknowledging a vector that is not pending does nothing. */
	vlapic_ack(&lapic, 0x99);
	assert_false(isr_bit(0x99));

	/* A second arrival while pending coalesces into the one IRR bit. */
	assert_true(vlapic_accept(&lapic, 0x70, false));
	assert_true(vlapic_accept(&lapic, 0x70, false));
	assert_int_equal(take(), 0x70);
	assert_int_equal(vlapic_pending(&lapic), -1);
}

static void test_level_eoi_callback(void **state)
{
	(void)state;
	enable();
	assert_true(vlapic_accept(&lapic, 0x61, true));
	assert_true(tmr_bit(0x61));
	assert_int_equal(rd(TMR + 0x30), 1u << 1); /* vector 97: word 3, bit 1 */
	assert_int_equal(take(), 0x61);
	wr(EOI, 0);
	assert_int_equal(n_eois, 1);
	assert_int_equal(last_eoi, 0x61);

	/* Edge: no callback; an edge arrival clears the vector's TMR bit. */
	assert_true(vlapic_accept(&lapic, 0x61, false));
	assert_false(tmr_bit(0x61));
	assert_int_equal(take(), 0x61);
	wr(EOI, 0);
	assert_int_equal(n_eois, 1);

	/* The callback may deliver again at once (a still-active line). */
	redeliver_on_eoi = true;
	assert_true(vlapic_accept(&lapic, 0x62, true));
	assert_int_equal(take(), 0x62);
	wr(EOI, 0);
	assert_int_equal(n_eois, 2);
	assert_false(isr_bit(0x62));
	assert_true(irr_bit(0x62));
	assert_int_equal(vlapic_pending(&lapic), 0x62);

	/* x2APIC EOI: the same flow through MSR 0x80B. */
	redeliver_on_eoi = false;
	assert_int_equal(take(), 0x62);
	to_x2apic();
	msr_wr(0x80B, 0);
	assert_int_equal(n_eois, 3);
	assert_int_equal(last_eoi, 0x62);
}

static void test_changed_callback(void **state)
{
	(void)state;
	enable();
	unsigned n = n_changed;

	assert_true(vlapic_accept(&lapic, 0x40, false));
	assert_true(n_changed > n);
	n = n_changed;
	assert_int_equal(take(), 0x40);
	wr(EOI, 0);
	assert_true(n_changed > n);
	n = n_changed;
	vlapic_nmi(&lapic);
	assert_true(n_changed > n);
	assert_true(vlapic_nmi_pending(&lapic));
	vlapic_nmi(&lapic); /* coalesces */
	vlapic_nmi_ack(&lapic);
	assert_false(vlapic_nmi_pending(&lapic));
}

static void test_disabled_acceptance(void **state)
{
	(void)state;
	/* Software-disabled at reset: fixed interrupts are not accepted. */
	assert_false(vlapic_accept(&lapic, 0x40, false));
	assert_false(irr_bit(0x40));

	enable();
	assert_true(vlapic_accept(&lapic, 0x40, false));
	assert_true(vlapic_accept(&lapic, 0x30, false));
	assert_int_equal(take(), 0x40);
	wr(SVR, 0xFF);
	assert_false(vlapic_accept(&lapic, 0x50, false));
	assert_false(irr_bit(0x50));
	/* What was held is still handled, and EOI still works. */
	wr(EOI, 0);
	assert_false(isr_bit(0x40));
	assert_int_equal(take(), 0x30);
	wr(EOI, 0);
	/* ICR writes still send while software-disabled. */
	wr(ICR_LO, 0x4041);
	assert_int_equal(n_ipis, 1);

	/* Hardware-disabled: nothing accepted, nothing pending. */
	enable();
	assert_true(vlapic_accept(&lapic, 0x40, false));
	msr_wr(MSR_APIC_BASE, BASE | AB_BSP);
	assert_int_equal(vlapic_pending(&lapic), -1);
	assert_false(vlapic_accept(&lapic, 0x40, false));
	assert_false(vlapic_match_dest(&lapic, MY_ID, false));
	assert_false(vlapic_match_dest(&lapic, 0xFF, false));
}

/* ---- ICR and IPIs ---- */

struct ipi_case {
	uint32_t hi, lo;
	uint32_t dest;
	uint8_t vector, delivery, shorthand;
	bool logical, asserted, level_trigger;
};

static void test_icr_ipis(void **state)
{
	(void)state;
	static const struct ipi_case cases[] = {
	    /* fixed, physical, to APIC 2 */
	    {0x02000000, 0x00004040, 2, 0x40, LAPIC_DELIVERY_FIXED, 0, false, true, false},
	    /* lowest priority, logical 0x0F */
	    {0x0F000000, 0x00004941, 0x0F, 0x41, LAPIC_DELIVERY_LOWEST, 0, true, true, false},
	    /* SMI */
	    {0x01000000, 0x00004200, 1, 0x00, LAPIC_DELIVERY_SMI, 0, false, true, false},
	    /* NMI to all but self (vector ignored, even an illegal one) */
	    {0x00000000, 0x000C4400, 0, 0x00, LAPIC_DELIVERY_NMI, 3, false, true, false},
	    /* INIT, assert, level */
	    {0x01000000, 0x0000C500, 1, 0x00, LAPIC_DELIVERY_INIT, 0, false, true, true},
	    /* SIPI, start page 0x9A */
	    {0x01000000, 0x0000469A, 1, 0x9A, LAPIC_DELIVERY_SIPI, 0, false, true, false},
	    /* ExtINT (AMD) */
	    {0x05000000, 0x00004700, 5, 0x00, LAPIC_DELIVERY_EXTINT, 0, false, true, false},
	    /* fixed to self */
	    {0x00000000, 0x00044051, 0, 0x51, LAPIC_DELIVERY_FIXED, 1, false, true, false},
	    /* fixed to all including self, logical flag kept */
	    {0xFF000000, 0x00084852, 0xFF, 0x52, LAPIC_DELIVERY_FIXED, 2, true, true, false},
	    /* fixed, level trigger as written */
	    {0x03000000, 0x0000C053, 3, 0x53, LAPIC_DELIVERY_FIXED, 0, false, true, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ipi_case *c = &cases[i];
		const struct lapic_ipi *got = &ipis[i];

		wr(ICR_HI, c->hi);
		assert_int_equal(n_ipis, i); /* the high half does not send */
		wr(ICR_LO, c->lo);
		assert_int_equal(n_ipis, i + 1);
		assert_int_equal(got->src_id, MY_ID);
		assert_int_equal(got->dest, c->dest);
		assert_false(got->x2apic);
		assert_int_equal(got->vector, c->vector);
		assert_int_equal(got->delivery, c->delivery);
		assert_int_equal(got->shorthand, c->shorthand);
		assert_int_equal(got->logical, c->logical);
		assert_int_equal(got->asserted, c->asserted);
		assert_int_equal(got->level_trigger, c->level_trigger);
		assert_int_equal(rd(ICR_LO), c->lo);
		assert_int_equal(rd(ICR_HI), c->hi);
	}
	assert_int_equal(esr(), 0);
}

static void test_icr_special_cases(void **state)
{
	(void)state;
	/* Delivery status and reserved bits are not stored: reads idle. */
	wr(ICR_HI, 0xFFFFFFFF);
	assert_int_equal(rd(ICR_HI), 0xFF000000);
	wr(ICR_LO, 0xFFFFF040); /* fixed 0x40, status and reserved bits set */
	assert_int_equal(n_ipis, 1);
	assert_int_equal(rd(ICR_LO), 0x000CC040);
	assert_int_equal(ipis[0].shorthand, 3);
	assert_int_equal(ipis[0].dest, 0xFF);

	/* INIT level de-assert (level 0, trigger level) is dropped. */
	wr(ICR_LO, 0x00008500);
	assert_int_equal(n_ipis, 1);
	/* INIT with level 0 and edge trigger is an INIT. */
	wr(ICR_LO, 0x00000500);
	assert_int_equal(n_ipis, 2);

	/* Fixed or lowest priority with vectors 0-15: not sent, ESR bit 5. */
	wr(ICR_LO, 0x0000400F);
	wr(ICR_LO, 0x00004100);
	assert_int_equal(n_ipis, 2);
	assert_int_equal(esr(), 0x20);
	/* Vector 16 is legal. */
	wr(ICR_LO, 0x00004010);
	assert_int_equal(n_ipis, 3);
	assert_int_equal(esr(), 0);
}

static void test_x2apic_icr_and_self_ipi(void **state)
{
	(void)state;
	enable();
	to_x2apic();
	msr_wr(0x830, (0x12345678ull << 32) | 0x4041);
	assert_int_equal(n_ipis, 1);
	assert_true(ipis[0].x2apic);
	assert_int_equal(ipis[0].dest, 0x12345678);
	assert_int_equal(ipis[0].vector, 0x41);
	assert_int_equal(msr_rd(0x830), (0x12345678ull << 32) | 0x4041);

	/* Delivery status (12) is read-only: ignored. Bit 13, 16, 17, 20+
	 * are reserved: #GP, nothing sent. */
	msr_wr(0x830, 0x5042);
	assert_int_equal(n_ipis, 2);
	assert_int_equal(msr_rd(0x830), 0x4042);
	assert_wr_gp(0x830, 0x6042);
	assert_wr_gp(0x830, 0x14042);
	assert_wr_gp(0x830, 0x104042);
	assert_int_equal(n_ipis, 2);
	assert_int_equal(msr_rd(0x830), 0x4042);
	/* There is no ICR high MSR. */
	assert_rd_gp(0x831);
	assert_wr_gp(0x831, 0);
	/* Illegal vector: not sent, ESR bit 5. */
	msr_wr(0x830, 0x4001);
	assert_int_equal(n_ipis, 2);
	msr_wr(0x828, 0);
	assert_int_equal(msr_rd(0x828), 0x20);

	/* SELF IPI: delivered here, not through ipi(). Write-only. */
	msr_wr(0x83F, 0x55);
	assert_int_equal(n_ipis, 2);
	assert_int_equal(vlapic_pending(&lapic), 0x55);
	assert_int_equal(msr_rd(0x818 + 0x55 / 32), 0); /* edge: TMR clear */
	assert_int_equal(msr_rd(0x820 + 0x55 / 32), 1u << (0x55 % 32));
	assert_rd_gp(0x83F);
	assert_wr_gp(0x83F, 0x155);
	msr_wr(0x83F, 0x03);
	assert_int_equal(vlapic_pending(&lapic), 0x55);
	msr_wr(0x828, 0);
	assert_int_equal(msr_rd(0x828), 0x20);
}

/* ---- IA32_APIC_BASE and the x2APIC state machine ---- */

static void test_apic_base_transitions(void **state)
{
	(void)state;
	const uint64_t xapic = BASE | AB_EN | AB_BSP;
	const uint64_t x2 = xapic | AB_EXTD;
	const uint64_t off = BASE | AB_BSP;
	const uint64_t invalid = off | AB_EXTD;

	enable();
	wr(TPR, 0x20);
	/* xAPIC -> x2APIC keeps the registers. */
	msr_wr(MSR_APIC_BASE, x2);
	assert_int_equal(msr_rd(MSR_APIC_BASE), x2);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_X2APIC);
	assert_int_equal(msr_rd(0x808), 0x20);
	assert_int_equal(msr_rd(0x80F), 0x1FF);
	/* x2APIC -> xAPIC and x2APIC -> invalid: #GP, nothing changes. */
	assert_wr_gp(MSR_APIC_BASE, xapic);
	assert_wr_gp(MSR_APIC_BASE, invalid);
	assert_int_equal(msr_rd(MSR_APIC_BASE), x2);
	/* The page is not the APIC's in x2APIC mode. */
	assert_int_equal(rd(TPR), 0xFFFFFFFF);
	wr(TPR, 0x30);
	assert_int_equal(msr_rd(0x808), 0x20);

	/* x2APIC -> disabled: every register but the ID resets. */
	unsigned n = n_changed;
	msr_wr(MSR_APIC_BASE, off);
	assert_true(n_changed > n);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_DISABLED);
	assert_rd_gp(0x808);
	assert_int_equal(rd(TPR), 0xFFFFFFFF);
	/* disabled -> x2APIC and disabled -> invalid: #GP. */
	assert_wr_gp(MSR_APIC_BASE, x2);
	assert_wr_gp(MSR_APIC_BASE, invalid);
	assert_int_equal(msr_rd(MSR_APIC_BASE), off);
	/* disabled -> xAPIC: power-on registers. */
	msr_wr(MSR_APIC_BASE, xapic);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_XAPIC);
	assert_power_on_registers();
	assert_int_equal(rd(ID), MY_ID << 24);

	/* xAPIC -> disabled -> xAPIC also resets. */
	enable();
	wr(TPR, 0x40);
	msr_wr(MSR_APIC_BASE, off);
	msr_wr(MSR_APIC_BASE, xapic);
	assert_power_on_registers();
	/* Same state again is legal. */
	msr_wr(MSR_APIC_BASE, xapic);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_XAPIC);
}

static void test_apic_base_bits(void **state)
{
	(void)state;
	/* Reserved: bits 0-7, 9, and at or above phys_bits (40). */
	assert_wr_gp(MSR_APIC_BASE, BASE | AB_EN | AB_BSP | 1);
	assert_wr_gp(MSR_APIC_BASE, BASE | AB_EN | AB_BSP | 0x80);
	assert_wr_gp(MSR_APIC_BASE, BASE | AB_EN | AB_BSP | 0x200);
	assert_wr_gp(MSR_APIC_BASE, BASE | AB_EN | AB_BSP | (1ull << 40));
	assert_wr_gp(MSR_APIC_BASE, BASE | AB_EN | AB_BSP | (1ull << 63));
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFEE00900);

	/* The base moves (the core re-registers the page). */
	msr_wr(MSR_APIC_BASE, 0xFED00000ull | AB_EN | AB_BSP);
	assert_int_equal(vlapic_base(&lapic), 0xFED00000ull);
	msr_wr(MSR_APIC_BASE, (1ull << 39) | AB_EN | AB_BSP);
	assert_int_equal(vlapic_base(&lapic), 1ull << 39);
	assert_int_equal(msr_rd(MSR_APIC_BASE), (1ull << 39) | 0x900);

	/* BSP is read-only: either value written is ignored. */
	msr_wr(MSR_APIC_BASE, BASE | AB_EN);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFEE00900);
	init_with(4, false);
	msr_wr(MSR_APIC_BASE, BASE | AB_EN | AB_BSP);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFEE00800);

	/* Without x2APIC in CPUID, EXTD is reserved. */
	host.x2apic = false;
	init_with(MY_ID, true);
	assert_wr_gp(MSR_APIC_BASE, BASE | AB_EN | AB_EXTD | AB_BSP);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_XAPIC);

	/* x2APIC MSRs #GP outside x2APIC mode; other MSRs are not ours. */
	assert_rd_gp(0x802);
	assert_wr_gp(0x808, 0);
	assert_rd_gp(0x10);
	assert_wr_gp(0x900, 0);
}

static void test_x2apic_registers(void **state)
{
	(void)state;
	init_with(0x23, true);
	enable();
	to_x2apic();

	assert_int_equal(msr_rd(0x802), 0x23); /* the full ID, not shifted */
	assert_int_equal(msr_rd(0x803), 0x00050014);
	/* LDR derived: cluster ID[19:4] = 2 in 31:16, bit ID[3:0] = 3. */
	assert_int_equal(msr_rd(0x80D), 0x00020008);
	assert_wr_gp(0x80D, 0);
	assert_wr_gp(0x802, 0x23);
	assert_wr_gp(0x803, 0);

	/* TPR: bits 31:8 and 63:32 reserved. */
	msr_wr(0x808, 0x40);
	assert_int_equal(msr_rd(0x808), 0x40);
	assert_wr_gp(0x808, 0x140);
	assert_wr_gp(0x808, 1ull << 32);
	assert_int_equal(msr_rd(0x808), 0x40);
	assert_int_equal(msr_rd(0x80A), 0x40); /* PPR */
	assert_wr_gp(0x80A, 0);

	/* EOI: write-only, only 0. ESR: only 0. */
	assert_rd_gp(0x80B);
	assert_wr_gp(0x80B, 1);
	msr_wr(0x80B, 0);
	assert_wr_gp(0x828, 1);
	msr_wr(0x828, 0);
	assert_int_equal(msr_rd(0x828), 0);

	/* SVR: directed EOI (bit 12) not offered. */
	assert_wr_gp(0x80F, 0x11FF);
	msr_wr(0x80F, 0x3FF);
	assert_int_equal(msr_rd(0x80F), 0x3FF);

	/* IRR/ISR/TMR read-only. */
	assert_int_equal(msr_rd(0x810), 0);
	assert_int_equal(msr_rd(0x81F), 0);
	assert_int_equal(msr_rd(0x827), 0);
	assert_wr_gp(0x820, 0);

	/* Not in x2APIC mode: APR, RRD, DFR, CMCI, ICR high, and holes. */
	static const uint32_t gone[] = {0x800, 0x801, 0x804, 0x809, 0x80C, 0x80E,
					0x82F, 0x831, 0x83A, 0x83D, 0x840, 0x8FF};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		assert_rd_gp(gone[i]);
		assert_wr_gp(gone[i], 0);
	}

	/* LVTs: read-only status/remote IRR bits are ignored, reserved bits
	 * are #GP. */
	msr_wr(0x832, 0x1030);
	assert_int_equal(msr_rd(0x832), 0x30);
	msr_wr(0x835, 0x5700);
	assert_int_equal(msr_rd(0x835), 0x700);
	assert_wr_gp(0x837, 0x100); /* error LVT has no delivery mode */
	assert_wr_gp(0x832, 0x80000);
	assert_wr_gp(0x836, 0x20000);
	/* Timer counts: current count read-only; DCR bit 2 reserved. */
	assert_wr_gp(0x839, 0);
	assert_wr_gp(0x83E, 0x4);
	msr_wr(0x83E, 0xB);
	assert_int_equal(msr_rd(0x83E), 0xB);
	msr_wr(0x838, 0xFFFFFFFF);
	assert_int_equal(msr_rd(0x838), 0xFFFFFFFF);
	assert_wr_gp(0x838, 0x100000000ull);

	/* ID 0x1C: cluster 1, bit 12. */
	init_with(0x1C, false);
	to_x2apic_ap();
	assert_int_equal(msr_rd(0x80D), 0x00011000);
	init_with(0x23, true);
	enable();
	to_x2apic();

	/* INIT keeps x2APIC mode, the ID and the derived LDR. */
	vlapic_reset_init(&lapic);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_X2APIC);
	assert_int_equal(msr_rd(0x802), 0x23);
	assert_int_equal(msr_rd(0x80D), 0x00020008);
	assert_int_equal(msr_rd(0x808), 0);
	assert_int_equal(msr_rd(0x80F), 0xFF);
}

static void test_match_dest(void **state)
{
	(void)state;
	/* xAPIC physical: own ID, broadcast; only 8 bits count. */
	assert_true(vlapic_match_dest(&lapic, MY_ID, false));
	assert_false(vlapic_match_dest(&lapic, 4, false));
	assert_true(vlapic_match_dest(&lapic, 0xFF, false));
	assert_true(vlapic_match_dest(&lapic, 0x100 | MY_ID, false));

	/* Flat logical: any common bit. */
	wr(LDR, 0x0C000000);
	assert_true(vlapic_match_dest(&lapic, 0x04, true));
	assert_true(vlapic_match_dest(&lapic, 0x09, true));
	assert_false(vlapic_match_dest(&lapic, 0x03, true));
	assert_true(vlapic_match_dest(&lapic, 0xFF, true));

	/* Cluster logical: same cluster and a common member bit. */
	wr(DFR, 0x0FFFFFFF);
	wr(LDR, 0x21000000);
	assert_true(vlapic_match_dest(&lapic, 0x21, true));
	assert_true(vlapic_match_dest(&lapic, 0x23, true));
	assert_false(vlapic_match_dest(&lapic, 0x22, true));
	assert_false(vlapic_match_dest(&lapic, 0x31, true));
	assert_true(vlapic_match_dest(&lapic, 0xFF, true));

	/* x2APIC, ID 0x23: LDR 0x00020008. */
	init_with(0x23, true);
	to_x2apic();
	assert_true(vlapic_match_dest(&lapic, 0x23, false));
	assert_false(vlapic_match_dest(&lapic, 0x123, false));
	assert_true(vlapic_match_dest(&lapic, 0xFFFFFFFF, false));
	assert_false(vlapic_match_dest(&lapic, 0xFF, false)); /* not broadcast here */
	assert_true(vlapic_match_dest(&lapic, 0x00020008, true));
	assert_true(vlapic_match_dest(&lapic, 0x0002000C, true));
	assert_false(vlapic_match_dest(&lapic, 0x00020001, true));
	assert_false(vlapic_match_dest(&lapic, 0x00030008, true));
	assert_true(vlapic_match_dest(&lapic, 0xFFFFFFFF, true));
}

/* ---- timer ---- */

static void test_timer_oneshot(void **state)
{
	(void)state;
	enable();
	wr(LVT_TIMER, 0x30);
	wr(DCR, 0x3); /* divide by 16 */
	wr(TMICT, 1000);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 16000);
	assert_int_equal(rd(TMCCT), 1000);
	tsc = T0 + 1;
	assert_int_equal(rd(TMCCT), 1000);
	tsc = T0 + 16;
	assert_int_equal(rd(TMCCT), 999);
	tsc = T0 + 16000 - 1;
	assert_int_equal(rd(TMCCT), 1);
	assert_false(vlapic_timer_update(&lapic));
	assert_false(irr_bit(0x30));

	tsc = T0 + 16000;
	assert_int_equal(rd(TMCCT), 0);
	assert_true(vlapic_timer_update(&lapic));
	assert_int_equal(vlapic_pending(&lapic), 0x30);
	assert_false(tmr_bit(0x30)); /* the timer is edge */
	assert_false(vlapic_timer_update(&lapic));
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_int_equal(rd(TMCCT), 0);
	assert_int_equal(rd(TMICT), 1000);

	/* A new initial count restarts it from now. */
	tsc = T0 + 50000;
	wr(TMICT, 10);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 50000 + 160);
	/* Writing 0 stops it. */
	wr(TMICT, 0);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_int_equal(rd(TMCCT), 0);
	tsc = T0 + 100000;
	assert_false(vlapic_timer_update(&lapic));
}

static void test_timer_periodic_rate(void **state)
{
	(void)state;
	const uint64_t period = 1000;
	unsigned fired = 0;

	enable();
	wr(LVT_TIMER, PERIODIC | 0x31);
	wr(DCR, 0xB); /* divide by 1 */
	wr(TMICT, (uint32_t)period);
	/* Updates arrive late by varying amounts (less than a period): the
	 * expiries stay on the grid, so 1000 periods give 1000 interrupts. */
	for (uint64_t k = 1; k <= 1000; k++) {
		assert_int_equal(vlapic_timer_due(&lapic), T0 + k * period);
		tsc = T0 + k * period + (k * 37) % period;
		assert_int_equal(rd(TMCCT), period - (k * 37) % period);
		if (vlapic_timer_update(&lapic))
			fired++;
		assert_int_equal(take(), 0x31);
		wr(EOI, 0);
	}
	assert_int_equal(fired, 1000);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 1001 * period);
}

static void test_timer_periodic_coalesces(void **state)
{
	(void)state;
	enable();
	wr(LVT_TIMER, PERIODIC | 0x31);
	wr(DCR, 0xB);
	wr(TMICT, 1000);
	/* 5.5 periods late: one interrupt, re-armed on the grid. */
	tsc = T0 + 5500;
	assert_int_equal(rd(TMCCT), 500); /* computed, before any update */
	assert_true(vlapic_timer_update(&lapic));
	assert_false(vlapic_timer_update(&lapic));
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 6000);
	assert_int_equal(take(), 0x31);
	assert_int_equal(vlapic_pending(&lapic), -1);
	/* Exactly on a grid point: count reloaded to the initial count. */
	tsc = T0 + 6000;
	assert_int_equal(rd(TMCCT), 1000);
	assert_true(vlapic_timer_update(&lapic));
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 7000);
}

static void test_timer_divide(void **state)
{
	(void)state;
	static const struct {
		uint32_t dcr;
		uint64_t div;
	} table[] = {
	    {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
	};

	enable();
	wr(LVT_TIMER, 0x30);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		wr(DCR, table[i].dcr);
		assert_int_equal(rd(DCR), table[i].dcr);
		wr(TMICT, 10);
		assert_int_equal(vlapic_timer_due(&lapic), tsc + 10 * table[i].div);
		tsc += 10 * table[i].div;
		assert_true(vlapic_timer_update(&lapic));
		assert_int_equal(take(), 0x30);
		wr(EOI, 0);
	}
	/* Bit 2 is reserved; bits 3, 1, 0 stay. */
	wr(DCR, 0xF);
	assert_int_equal(rd(DCR), 0xB);
	wr(DCR, 0x4);
	assert_int_equal(rd(DCR), 0x0);
}

static void test_timer_divide_change_while_counting(void **state)
{
	(void)state;
	enable();
	wr(LVT_TIMER, PERIODIC | 0x30);
	wr(DCR, 0xB); /* 1 */
	wr(TMICT, 1000);
	tsc = T0 + 400;
	assert_int_equal(rd(TMCCT), 600);
	wr(DCR, 0x0); /* 2: the remaining 600 counts take 1200 ticks */
	assert_int_equal(rd(TMCCT), 600);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 400 + 1200);
	tsc = T0 + 1600;
	assert_true(vlapic_timer_update(&lapic));
	/* The next period runs at the new rate. */
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 1600 + 2000);
}

static void test_timer_masked(void **state)
{
	(void)state;
	enable();
	wr(LVT_TIMER, MASKED | 0x30);
	wr(DCR, 0xB);
	wr(TMICT, 100);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	tsc = T0 + 50;
	assert_int_equal(rd(TMCCT), 50); /* still counts */
	tsc = T0 + 200;
	assert_false(vlapic_timer_update(&lapic));
	assert_false(irr_bit(0x30));
	/* Unmasked after it ran out: nothing fires, nothing is due. */
	wr(LVT_TIMER, 0x30);
	assert_false(irr_bit(0x30));
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_int_equal(rd(TMCCT), 0);

	/* Periodic keeps its grid while masked. */
	wr(LVT_TIMER, PERIODIC | MASKED | 0x30); /* mode change: disarms */
	tsc = T0 + 1000;
	wr(TMICT, 100);
	tsc = T0 + 1250;
	wr(LVT_TIMER, PERIODIC | 0x30);
	assert_false(irr_bit(0x30));
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 1300);
	tsc = T0 + 1300;
	assert_true(vlapic_timer_update(&lapic));

	/* Software disable masks the timer; it keeps counting. */
	wr(SVR, 0xFF);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	tsc = T0 + 1350;
	assert_int_equal(rd(TMCCT), 50);
}

static void test_timer_deadline(void **state)
{
	(void)state;
	enable();
	wr(LVT_TIMER, DEADLINE | 0x30);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	msr_wr(MSR_TSC_DEADLINE, T0 + 5000);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), T0 + 5000);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 5000);
	/* Initial count ignored, current count 0. */
	wr(TMICT, 77);
	assert_int_equal(rd(TMICT), 0);
	assert_int_equal(rd(TMCCT), 0);

	tsc = T0 + 4999;
	assert_false(vlapic_timer_update(&lapic));
	tsc = T0 + 5000;
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0); /* expired */
	assert_true(vlapic_timer_update(&lapic));
	assert_int_equal(take(), 0x30);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_false(vlapic_timer_update(&lapic));
	wr(EOI, 0);

	/* Moving it, then writing 0, disarms. */
	msr_wr(MSR_TSC_DEADLINE, T0 + 9000);
	msr_wr(MSR_TSC_DEADLINE, T0 + 8000);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 8000);
	msr_wr(MSR_TSC_DEADLINE, 0);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	tsc = T0 + 10000;
	assert_false(vlapic_timer_update(&lapic));

	/* A deadline in the past fires at the write. */
	msr_wr(MSR_TSC_DEADLINE, 1);
	assert_int_equal(vlapic_pending(&lapic), 0x30);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_int_equal(take(), 0x30);
	wr(EOI, 0);

	/* Masked: expires silently. */
	wr(LVT_TIMER, DEADLINE | MASKED | 0x30);
	msr_wr(MSR_TSC_DEADLINE, T0 + 11000);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	tsc = T0 + 11000;
	assert_false(vlapic_timer_update(&lapic));
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_false(irr_bit(0x30));

	/* Other modes: the MSR reads 0 and ignores writes. */
	wr(LVT_TIMER, 0x30);
	msr_wr(MSR_TSC_DEADLINE, T0 + 20000);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);

	/* Not in CPUID: the MSR does not exist. */
	host.tsc_deadline = false;
	init_with(MY_ID, true);
	assert_rd_gp(MSR_TSC_DEADLINE);
	assert_wr_gp(MSR_TSC_DEADLINE, 1);
}

static void test_timer_mode_switches(void **state)
{
	(void)state;
	enable();
	wr(DCR, 0xB);
	/* Changing only the vector or the mask keeps it armed. */
	wr(LVT_TIMER, 0x30);
	wr(TMICT, 1000);
	wr(LVT_TIMER, 0x31);
	assert_int_equal(vlapic_timer_due(&lapic), T0 + 1000);
	/* One-shot -> periodic: any mode change disarms. */
	wr(LVT_TIMER, PERIODIC | 0x31);
	assert_int_equal(rd(TMCCT), 0);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	tsc = T0 + 5000;
	assert_false(vlapic_timer_update(&lapic));
	/* Periodic -> TSC-deadline: disarmed, the deadline is 0. */
	wr(TMICT, 1000);
	wr(LVT_TIMER, DEADLINE | 0x31);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	msr_wr(MSR_TSC_DEADLINE, T0 + 9000);
	/* TSC-deadline -> one-shot: the deadline is dropped. */
	wr(LVT_TIMER, 0x31);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	wr(LVT_TIMER, DEADLINE | 0x31);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	tsc = T0 + 9000;
	assert_false(vlapic_timer_update(&lapic));
	/* Mode 3 is reserved: the timer does not run in it. */
	wr(LVT_TIMER, 0x60031);
	wr(TMICT, 10);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_int_equal(rd(TMCCT), 0);
	/* A due expiry is fired under the old mode before a switch. */
	wr(LVT_TIMER, 0x32);
	wr(TMICT, 100);
	tsc += 150;
	wr(LVT_TIMER, PERIODIC | 0x32);
	assert_int_equal(vlapic_pending(&lapic), 0x32);
}

/* ---- resets ---- */

static void test_init_reset(void **state)
{
	(void)state;
	enable();
	/* Moving the page is the core's business: this bus keeps it at BASE. */
	msr_wr(MSR_APIC_BASE, 0xFED00000ull | AB_EN | AB_BSP);
	wr(TPR, 0x20);
	wr(LDR, 0x01000000);
	wr(DFR, 0x0FFFFFFF);
	wr(LVT_LINT0, 0x700);
	wr(LVT_TIMER, 0x30);
	wr(TMICT, 100);
	wr(ICR_HI, 0x01000000);
	assert_true(vlapic_accept(&lapic, 0x40, true));
	vlapic_nmi(&lapic);

	vlapic_reset_init(&lapic);
	assert_power_on_registers();
	assert_int_equal(rd(ID), MY_ID << 24);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFED00900ull);
	assert_int_equal(vlapic_timer_due(&lapic), VDEV_NEVER);
	assert_false(vlapic_nmi_pending(&lapic));

	/* A disabled APIC stays disabled. */
	msr_wr(MSR_APIC_BASE, BASE | AB_BSP);
	vlapic_reset_init(&lapic);
	assert_int_equal(vlapic_mode(&lapic), VLAPIC_DISABLED);

	/* Power-on: xAPIC at the default base, BSP kept. */
	msr_wr(MSR_APIC_BASE, BASE | AB_EN | AB_BSP);
	to_x2apic();
	vlapic_reset_power(&lapic);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xFEE00900);
	assert_power_on_registers();
}

/* ---- LINT0 / LINT1 ---- */

static void test_lint0_extint(void **state)
{
	(void)state;
	assert_false(vlapic_lint0_extint(&lapic)); /* masked at reset */
	enable();
	wr(LVT_LINT0, 0x700);
	assert_true(vlapic_lint0_extint(&lapic));
	wr(LVT_LINT0, MASKED | 0x700);
	assert_false(vlapic_lint0_extint(&lapic));
	wr(LVT_LINT0, 0x400); /* NMI mode: not the 8259 */
	assert_false(vlapic_lint0_extint(&lapic));
	wr(LVT_LINT0, 0x700);
	wr(SVR, 0xFF); /* software-disable forces the mask */
	assert_false(vlapic_lint0_extint(&lapic));
	/* Hardware-disabled: the 8259 wires straight to the CPU. */
	msr_wr(MSR_APIC_BASE, BASE | AB_BSP);
	assert_true(vlapic_lint0_extint(&lapic));
	/* ExtINT gets no IRR bit whatever the pin does. */
	msr_wr(MSR_APIC_BASE, BASE | AB_EN | AB_BSP);
	enable();
	wr(LVT_LINT0, 0x700);
	vlapic_set_lint(&lapic, 0, true);
	assert_int_equal(vlapic_pending(&lapic), -1);
}

static void test_lint1_nmi(void **state)
{
	(void)state;
	enable();
	wr(LVT_LINT1, 0x400);
	vlapic_set_lint(&lapic, 1, true);
	assert_true(vlapic_nmi_pending(&lapic));
	vlapic_nmi_ack(&lapic);
	vlapic_set_lint(&lapic, 1, true); /* no new edge */
	assert_false(vlapic_nmi_pending(&lapic));
	vlapic_set_lint(&lapic, 1, false);
	vlapic_set_lint(&lapic, 1, true);
	assert_true(vlapic_nmi_pending(&lapic));
	vlapic_nmi_ack(&lapic);
	vlapic_set_lint(&lapic, 1, false);

	/* Masked: no NMI. */
	wr(LVT_LINT1, MASKED | 0x400);
	vlapic_set_lint(&lapic, 1, true);
	assert_false(vlapic_nmi_pending(&lapic));
	vlapic_set_lint(&lapic, 1, false);

	/* Hardware-disabled: LINT1 is the NMI pin. */
	msr_wr(MSR_APIC_BASE, BASE | AB_BSP);
	vlapic_set_lint(&lapic, 1, true);
	assert_true(vlapic_nmi_pending(&lapic));
	/* Pins other than 0 and 1 do nothing. */
	vlapic_nmi_ack(&lapic);
	vlapic_set_lint(&lapic, 2, true);
	assert_false(vlapic_nmi_pending(&lapic));
}

static void test_lint_fixed(void **state)
{
	(void)state;
	enable();
	/* Edge: one interrupt per rising edge. */
	wr(LVT_LINT0, 0x39);
	vlapic_set_lint(&lapic, 0, true);
	assert_int_equal(take(), 0x39);
	vlapic_set_lint(&lapic, 0, true);
	assert_int_equal(vlapic_pending(&lapic), -1);
	wr(EOI, 0);
	assert_int_equal(n_eois, 0);
	vlapic_set_lint(&lapic, 0, false);

	/* Level: TMR and remote IRR; the EOI delivers again while the pin
	 * stays asserted. */
	wr(LVT_LINT0, 0x8038);
	vlapic_set_lint(&lapic, 0, true);
	assert_true(tmr_bit(0x38));
	assert_int_equal(rd(LVT_LINT0), 0xC038);
	assert_int_equal(take(), 0x38);
	wr(EOI, 0);
	assert_int_equal(n_eois, 1);
	assert_int_equal(last_eoi, 0x38);
	assert_int_equal(rd(LVT_LINT0), 0xC038);
	assert_int_equal(take(), 0x38);
	vlapic_set_lint(&lapic, 0, false);
	wr(EOI, 0);
	assert_int_equal(rd(LVT_LINT0), 0x8038);
	assert_int_equal(vlapic_pending(&lapic), -1);

	/* Unmasking while the pin is asserted delivers. */
	wr(LVT_LINT0, MASKED | 0x8038);
	vlapic_set_lint(&lapic, 0, true);
	assert_int_equal(vlapic_pending(&lapic), -1);
	wr(LVT_LINT0, 0x8038);
	assert_int_equal(vlapic_pending(&lapic), 0x38);
}

static void test_virtual_wire(void **state)
{
	(void)state;
	vlapic_virtual_wire(&lapic);
	assert_int_equal(rd(SVR) & SW_ENABLE, SW_ENABLE);
	assert_int_equal(rd(LVT_LINT0), 0x700);
	assert_int_equal(rd(LVT_LINT1), 0x400);
	assert_true(vlapic_lint0_extint(&lapic));

	init_with(1, false);
	vlapic_virtual_wire(&lapic);
	assert_int_equal(rd(LVT_LINT0), MASKED);
	assert_int_equal(rd(LVT_LINT1), 0x400);
	assert_false(vlapic_lint0_extint(&lapic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_init_errors, setup),
	    cmocka_unit_test_setup(test_reset_values, setup),
	    cmocka_unit_test_setup(test_write_masks, setup),
	    cmocka_unit_test_setup(test_software_disable_forces_masks, setup),
	    cmocka_unit_test_setup(test_reserved_and_odd_accesses, setup),
	    cmocka_unit_test_setup(test_esr_and_error_lvt, setup),
	    cmocka_unit_test_setup(test_ppr, setup),
	    cmocka_unit_test_setup(test_tpr_gates_delivery, setup),
	    cmocka_unit_test_setup(test_nested_priorities, setup),
	    cmocka_unit_test_setup(test_level_eoi_callback, setup),
	    cmocka_unit_test_setup(test_changed_callback, setup),
	    cmocka_unit_test_setup(test_disabled_acceptance, setup),
	    cmocka_unit_test_setup(test_icr_ipis, setup),
	    cmocka_unit_test_setup(test_icr_special_cases, setup),
	    cmocka_unit_test_setup(test_x2apic_icr_and_self_ipi, setup),
	    cmocka_unit_test_setup(test_apic_base_transitions, setup),
	    cmocka_unit_test_setup(test_apic_base_bits, setup),
	    cmocka_unit_test_setup(test_x2apic_registers, setup),
	    cmocka_unit_test_setup(test_match_dest, setup),
	    cmocka_unit_test_setup(test_timer_oneshot, setup),
	    cmocka_unit_test_setup(test_timer_periodic_rate, setup),
	    cmocka_unit_test_setup(test_timer_periodic_coalesces, setup),
	    cmocka_unit_test_setup(test_timer_divide, setup),
	    cmocka_unit_test_setup(test_timer_divide_change_while_counting, setup),
	    cmocka_unit_test_setup(test_timer_masked, setup),
	    cmocka_unit_test_setup(test_timer_deadline, setup),
	    cmocka_unit_test_setup(test_timer_mode_switches, setup),
	    cmocka_unit_test_setup(test_init_reset, setup),
	    cmocka_unit_test_setup(test_lint0_extint, setup),
	    cmocka_unit_test_setup(test_lint1_nmi, setup),
	    cmocka_unit_test_setup(test_lint_fixed, setup),
	    cmocka_unit_test_setup(test_virtual_wire, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
