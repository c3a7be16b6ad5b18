/* Per-vCPU local APIC (issue 5), written from Intel SDM vol. 3 chapter 11
 * (x2APIC: 11.12; timer: 11.5.4) and AMD APM vol. 2 chapter 16: the xAPIC
 * MMIO page, the same registers through the x2APIC MSRs, IA32_APIC_BASE,
 * IA32_TSC_DEADLINE, interrupt acceptance and priority, LINT0/LINT1.
 *
 * Pure logic (vdev/vdev.h): the caller owns the struct, and because an ICR
 * write reaches other vCPUs' APICs through the ipi() callback, all the
 * vlapics of a VM are serialised by one lock (the VM's device lock).
 *
 * What the model owns and what the VM core owns
 *  - The model: the registers, IRR/ISR/TMR and priorities, the timer, the
 *    ESR, the LVT decisions (mask, delivery mode, remote IRR), the x2APIC
 *    state machine, destination matching against its own ID/LDR/DFR.
 *  - The core: routing. An ICR write becomes a struct lapic_ipi handed to
 *    host->ipi(); the core finds the targets (vlapic_match_dest, the
 *    shorthand, lowest priority through vlapic_ppr) and calls vlapic_accept,
 *    vlapic_nmi or its own INIT/SIPI handling (vlapic_reset_init on INIT).
 *    The core injects what vlapic_pending / vlapic_nmi_pending /
 *    vlapic_lint0_extint say and acknowledges it (vlapic_ack,
 *    vlapic_nmi_ack). The core registers the MMIO page at vlapic_base()
 *    while vlapic_mode() is VLAPIC_XAPIC, and re-checks both after every
 *    IA32_APIC_BASE write (the model never touches the bus).
 *
 * Callbacks (struct vlapic_host; ctx is the core's, typically its vCPU).
 * The model finishes its own update before it calls out, so a callback
 * may call back into this or any other vlapic of the VM.
 *  - ipi(ctx, ipi): the guest wrote the ICR (low half in xAPIC mode, the
 *    64-bit MSR in x2APIC mode). Not called for a fixed or lowest-priority
 *    IPI with an illegal vector (0-15: "send illegal vector" in the ESR
 *    instead), nor for an INIT level de-assert (mode INIT, level 0, trigger
 *    level), which only Pentium and P6 APICs act on. The delivery-status
 *    bit always reads 0 (idle): the core delivers synchronously.
 *  - eoi(ctx, vector): an EOI retired a vector whose TMR bit was set
 *    (level-triggered); the core broadcasts it to the IOAPIC. There is no
 *    directed EOI (version bit 24 clear), so SVR bit 12 is reserved.
 *  - changed(ctx): something deliverable may have changed (IRR, ISR, TPR,
 *    SVR, an LVT, the mode, a pending NMI) or the timer's due time moved.
 *    The core kicks the vCPU, re-reads vlapic_pending & co. and
 *    vlapic_timer_due. Called liberally; spurious calls are harmless.
 *
 * Timer clock: the APIC timer counts the guest TSC (clock->hz) divided by
 * the divide configuration (1, 2, 4, ..., 128), so one count is exactly
 * `divisor` TSC ticks and there is no rounding. The VM core publishes
 * clock->hz as the APIC timer's input frequency in CPUID leaf 0x40000001
 * EBX (kHz), next to the TSC's in EAX.
 * Nothing ticks in the background: counts are computed from clock->now.
 * vlapic_timer_due says when the next expiry is; vlapic_timer_update, called
 * at or after that time, fires it.
 *  - One-shot: an initial-count write (re)starts the count; at 0 it fires
 *    once and stops. Writing 0 stops it.
 *  - Periodic: at 0 it fires and reloads. Expiries lie on the ideal grid
 *    start + k * initial * divisor; an update that comes late, even by many
 *    periods, fires once (the IRR bit coalesces them anyway) and re-arms at
 *    the first grid point after now, so the long-run rate is exact.
 *  - TSC-deadline (when host->tsc_deadline): IA32_TSC_DEADLINE arms it with
 *    an absolute guest-TSC time; it fires once when the TSC reaches it and
 *    the MSR reads 0 from then on; writing 0 disarms; a time already past
 *    fires at the write. Initial-count writes are ignored and the current
 *    count reads 0 in this mode; in the other modes the MSR reads 0 and
 *    writes are ignored (SDM 11.5.4.1).
 *  - Any LVT timer write that changes the mode disarms the timer, whatever
 *    the old and new modes (SDM 11.5.4.1). Mode 3 (reserved) is stored and
 *    the timer never runs in it.
 *  - Masked (LVT mask bit): the timer still counts, reloads and disarms as
 *    above but sets no IRR bit; vlapic_timer_due is VDEV_NEVER while masked,
 *    and the state catches up (silently) at the next timer register write.
 *  - A divide-configuration write while counting keeps the current count
 *    and counts the rest at the new rate; later periods use the new rate.
 *
 * xAPIC MMIO page (vlapic_mmio_ops, VLAPIC_MMIO_LEN bytes at vlapic_base()):
 *  - A register is reached by a 4-byte access at its 16-byte-aligned
 *    offset (SDM 11.4.1). Every other access (other sizes, other offsets
 *    inside the 16 bytes) is model-specific in the SDM: it reads all-ones
 *    and is ignored on write, with no side effect (vdev.h convention).
 *  - A 4-byte access to a reserved register (an offset Table 11-1 does not
 *    list, 0x2F0 CMCI and 0x3F0 SELF IPI included) reads 0, is ignored on
 *    write and sets ESR bit 7 "illegal register address".
 *  - Read-only registers ignore writes; write-only EOI reads 0.
 *  - Outside xAPIC mode (disabled, x2APIC) the page is not the APIC's:
 *    reads are all-ones and writes ignored, as if unclaimed.
 *  - The ID register is read-only (writability is model-specific in the
 *    SDM; Keel's tables and routing rely on the ID).
 *
 * MSRs (vlapic_msr_read / vlapic_msr_write; false means #GP(0)):
 *  - IA32_APIC_BASE (0x1B): BSP (bit 8, read-only: writes of either value
 *    are ignored), EXTD (10, reserved unless host->x2apic), EN (11), base
 *    (12..phys_bits-1). Other bits set: #GP. States (EN, EXTD): disabled
 *    (0,0), xAPIC (1,0), x2APIC (1,1), invalid (0,1). Illegal: any -> (0,1),
 *    x2APIC -> xAPIC, disabled -> x2APIC (SDM 11.12.5). Entering the
 *    disabled state resets every register except the ID (SDM 11.4.3,
 *    11.12.5: state is not preserved across mode transitions); xAPIC ->
 *    x2APIC keeps the registers and derives the LDR from the ID.
 *  - 0x800-0x8FF in x2APIC mode only (else #GP): the registers of SDM table
 *    11-6 at MSR 0x800 + offset/16, 32 bits (upper half reserved), except
 *    the ICR, one 64-bit MSR 0x830 with the destination in bits 63:32. #GP
 *    on: an MSR the table does not list (APR 0x809, RRD 0x80C, DFR 0x80E,
 *    CMCI 0x82F, 0x831 ...), RDMSR of write-only EOI/SELF IPI, WRMSR of a
 *    read-only register (ID, version, PPR, LDR, ISR/TMR/IRR, current
 *    count), a 1 in a reserved bit (RsvdZ, SDM 11.12.1.3; EOI and ESR must
 *    be written with 0). Read-only status bits inside a writable register
 *    (delivery status, remote IRR) are ignored on write, not #GP, so a
 *    read-modify-write stays legal. The LDR is derived from the x2APIC ID
 *    (cluster ID[19:4] in bits 31:16, bit ID[3:0] set in bits 15:0).
 *  - SELF IPI (0x83F) is delivered locally, as a fixed edge interrupt on
 *    this APIC, without ipi().
 *  - IA32_TSC_DEADLINE (0x6E0): #GP unless host->tsc_deadline; else as
 *    described under "Timer clock".
 *  - Any other MSR: false (the core routes only these here).
 *
 * Interrupt acceptance and delivery (SDM 11.8):
 *  - Vectors 0-15 are illegal: accepting one sets ESR bit 6 "received
 *    illegal vector"; sending one (ICR, SELF IPI) sets bit 5 "send illegal
 *    vector". The ESR a guest reads is latched by its last ESR write (SDM
 *    11.5.3); a newly logged error raises the LVT error interrupt once, a
 *    repeat of an error already logged since the last ESR write does not
 *    (which also ends the loop an illegal error-LVT vector would start).
 *  - PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV & 0xF0 (ISRV = highest
 *    in-service vector, 0 if none). The highest IRR vector is deliverable
 *    when its class (bits 7:4) is above PPR's class.
 *  - Software-disabled (SVR bit 8 clear; SDM 11.4.7.2): every LVT mask bit
 *    is set and cannot be cleared, so no local interrupt fires; fixed and
 *    lowest-priority interrupts (vlapic_accept, SELF IPI) are not accepted
 *    (the SDM lists only INIT, NMI, SMI and SIPI as answered normally);
 *    what is already in IRR/ISR is "held and requires handling by the
 *    CPU", so vlapic_pending still reports it and EOI still works (Linux
 *    EOIs stale ISR bits while the APIC is soft-disabled). ICR writes still
 *    send. NMIs (vlapic_nmi) are the core's and always latch.
 *  - Hardware-disabled (IA32_APIC_BASE.EN clear): nothing is accepted or
 *    pending, vlapic_match_dest is false, and LINT0/LINT1 are wired
 *    straight to the CPU's INTR and NMI (SDM 11.4.3: "as a processor
 *    without an on-chip APIC").
 *
 * LINT0/LINT1 (vlapic_set_lint: the core drives the pins, level = asserted;
 * the polarity bit is stored but not applied: Keel's LINT sources are
 * virtual and active-high):
 *  - vlapic_lint0_extint is true when the 8259's INTR reaches this CPU:
 *    the APIC is hardware-disabled, or LVT LINT0 is unmasked in ExtINT mode
 *    (so never while software-disabled: the mask is forced). The vector
 *    then comes from the 8259, not from the IRR, and PPR does not gate it.
 *  - NMI mode: a rising edge latches an NMI (vlapic_nmi_pending).
 *  - Fixed mode: edge-triggered sets IRR on a rising edge; level-triggered
 *    (LINT0 only: the SDM does not support level on LINT1) sets IRR and TMR
 *    and the remote-IRR bit while asserted, and again after the EOI if the
 *    pin is still asserted or when the LVT is unmasked while it is.
 *  - SMI, INIT and reserved modes on a LINT pin are dropped.
 *
 * Version register: 0x00050014 (integrated APIC version 0x14, six LVT
 * entries: timer, thermal, performance counter, LINT0, LINT1, error; no
 * CMCI; no directed EOI). Thermal and performance-counter LVTs are stored
 * and never fire (Keel exposes neither sensor nor PMU). */
#ifndef KEEL_VDEV_LAPIC_H
#define KEEL_VDEV_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/status.h"
#include "vdev/vdev.h"
#include "vm/bus.h"

#define VLAPIC_MMIO_LEN 0x1000u		  /* the xAPIC register page */
#define VLAPIC_DEFAULT_BASE 0xFEE00000ull /* IA32_APIC_BASE after RESET */
#define VLAPIC_MAX_ID 0xFEu		  /* 0xFF is the xAPIC broadcast ID */
#define VLAPIC_MIN_PHYS_BITS 32u	  /* the default base must fit */
#define VLAPIC_MAX_PHYS_BITS 52u	  /* architectural MAXPHYADDR ceiling */

#define VLAPIC_MSR_APIC_BASE 0x1Bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6E0u
#define VLAPIC_MSR_X2APIC_FIRST 0x800u
#define VLAPIC_MSR_X2APIC_LAST 0x8FFu

/* ICR delivery mode, bits 10:8 (SDM figure 11-12; mode 3 is "remote read"
 * on AMD, reserved on Intel; ExtINT is AMD's, reserved on Intel). */
enum lapic_delivery {
	LAPIC_DELIVERY_FIXED = 0,
	LAPIC_DELIVERY_LOWEST = 1,
	LAPIC_DELIVERY_SMI = 2,
	LAPIC_DELIVERY_REMOTE_READ = 3,
	LAPIC_DELIVERY_NMI = 4,
	LAPIC_DELIVERY_INIT = 5,
	LAPIC_DELIVERY_SIPI = 6,
	LAPIC_DELIVERY_EXTINT = 7,
};

/* ICR destination shorthand, bits 19:18. */
enum lapic_shorthand {
	LAPIC_SHORTHAND_NONE = 0, /* use dest */
	LAPIC_SHORTHAND_SELF = 1,
	LAPIC_SHORTHAND_ALL = 2, /* all including self */
	LAPIC_SHORTHAND_ALL_BUT_SELF = 3,
};

/* One ICR write, decoded. The core routes it. */
struct lapic_ipi {
	uint32_t src_id;    /* the sender's APIC ID */
	uint32_t dest;	    /* xAPIC: ICR[63:56] (8 bits); x2APIC: ICR[63:32] */
	bool x2apic;	    /* sender in x2APIC mode: dest is a 32-bit x2APIC ID/LDR */
	uint8_t vector;	    /* fixed/lowest: the vector; SIPI: the start page */
	uint8_t delivery;   /* enum lapic_delivery */
	uint8_t shorthand;  /* enum lapic_shorthand */
	bool logical;	    /* destination mode, bit 11 */
	bool asserted;	    /* level, bit 14 (0 only for INIT de-assert) */
	bool level_trigger; /* trigger mode, bit 15 */
};

/* The VM core's side of one vlapic: its callbacks (see the top of the file)
 * and the CPU features it publishes in CPUID, which decide what the guest
 * may write. */
struct vlapic_host {
	void *ctx;
	void (*ipi)(void *ctx, const struct lapic_ipi *ipi);
	void (*eoi)(void *ctx, uint8_t vector);
	void (*changed)(void *ctx);
	uint8_t phys_bits; /* guest MAXPHYADDR: IA32_APIC_BASE bits above are reserved */
	bool x2apic;	   /* CPUID.1:ECX[21]: EXTD is writable */
	bool tsc_deadline; /* CPUID.1:ECX[24]: LVT timer mode 2 and MSR 0x6E0 exist */
};

enum vlapic_mode {
	VLAPIC_DISABLED, /* IA32_APIC_BASE.EN clear */
	VLAPIC_XAPIC,	 /* MMIO page at vlapic_base() */
	VLAPIC_X2APIC,	 /* MSRs 0x800-0x8FF, no MMIO */
};

/* LVT entries, in register order (0x320 + 0x10 * index). */
enum vlapic_lvt {
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_NR_LVT,
};

#define VLAPIC_NR_LINT 2
#define VLAPIC_VEC_WORDS 8 /* 256 vectors in 32-bit words, as IRR/ISR/TMR read */

/* Fields are the model's; read them through the functions below. */
struct vlapic {
	const struct vdev_clock *clock;
	const struct vlapic_host *host;
	uint32_t id;	    /* x2APIC ID; the xAPIC ID is the same value (<= 0xFE) */
	uint64_t apic_base; /* IA32_APIC_BASE as the guest reads it */

	uint8_t tpr;
	uint32_t ldr, dfr, svr;
	uint32_t esr;	      /* latched at the last ESR write: what the guest reads */
	uint32_t esr_pending; /* errors logged since that write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[VLAPIC_NR_LVT];
	uint32_t irr[VLAPIC_VEC_WORDS], isr[VLAPIC_VEC_WORDS], tmr[VLAPIC_VEC_WORDS];

	uint32_t tmict, dcr;   /* initial count, divide configuration */
	bool timer_armed;      /* one-shot/periodic: counting */
	uint64_t timer_expire; /* ... and the TSC at which the count reaches 0 */
	uint64_t deadline;     /* IA32_TSC_DEADLINE; 0 = disarmed */

	bool lint[VLAPIC_NR_LINT]; /* pin levels as the core last set them */
	bool nmi_pending;
};

/* Power-on state (vlapic_reset_power) for the APIC with ID apic_id; bsp
 * sets IA32_APIC_BASE.BSP. clock and host must outlive l.
 *   ST_EINVAL  a NULL pointer or callback, or clock->hz == 0.
 *   ST_ERANGE  apic_id > VLAPIC_MAX_ID, or host->phys_bits outside
 *              [VLAPIC_MIN_PHYS_BITS, VLAPIC_MAX_PHYS_BITS]. */
status_t vlapic_init(struct vlapic *l, uint32_t apic_id, bool bsp, const struct vdev_clock *clock,
		     const struct vlapic_host *host) MUST_CHECK;

/* RESET / power-on (SDM 11.4.7.1, 11.12.5.1): xAPIC mode at
 * VLAPIC_DEFAULT_BASE; IRR, ISR, TMR, ICR, LDR, TPR, ESR, timer counts and
 * divide configuration 0; DFR all ones; every LVT 0x00010000 (masked); SVR
 * 0xFF (software-disabled); no pending NMI; LINT pins low. */
void vlapic_reset_power(struct vlapic *l);

/* INIT (SDM 11.4.7.3, 11.12.5.1): as power-on, except that IA32_APIC_BASE
 * (mode, base, BSP) and the ID are kept: an x2APIC stays in x2APIC mode
 * (LDR derived from the ID), a disabled APIC stays disabled. The pending
 * NMI is dropped; the LINT pin levels (external wires) are kept. */
void vlapic_reset_init(struct vlapic *l);

/* What firmware leaves for the OS in "virtual wire" mode (MP spec 3.6.2.2):
 * software-enabled, LINT1 NMI, and on the BSP LINT0 ExtINT, unmasked. For a
 * core that boots a kernel directly and plays the firmware's part. */
void vlapic_virtual_wire(struct vlapic *l);

enum vlapic_mode vlapic_mode(const struct vlapic *l);
uint64_t vlapic_base(const struct vlapic *l); /* MMIO page address */
uint32_t vlapic_id(const struct vlapic *l);

/* The xAPIC page: bus_register(mmio, vlapic_base(l), VLAPIC_MMIO_LEN,
 * &vlapic_mmio_ops, l, "lapic") while vlapic_mode(l) == VLAPIC_XAPIC. */
extern const struct bus_ops vlapic_mmio_ops;

/* RDMSR / WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8FF;
 * false: the guest gets #GP(0) and nothing changed. */
bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val);
bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val);

/* Does this APIC take a message sent to dest in physical or logical mode,
 * interpreted in this APIC's own mode (SDM 11.6.2)? xAPIC: the low 8 bits
 * of dest; 0xFF is broadcast in both modes; logical uses the DFR model
 * (flat: dest & LDR[31:24] != 0; cluster: same cluster nibble and a common
 * bit in the low nibble). x2APIC: 0xFFFFFFFF is broadcast; logical is
 * cluster dest[31:16] == LDR[31:16] and dest[15:0] & LDR[15:0] != 0.
 * Always false when hardware-disabled. Shorthands are the core's. */
bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical);

/* A fixed or lowest-priority interrupt arrives (IPI, IOAPIC, MSI): sets the
 * IRR bit, and the TMR bit for level_triggered (clears it for edge), then
 * calls changed(). False, with nothing set, when the APIC is disabled
 * (hardware or software) or the vector is illegal (0-15: ESR bit 6). */
bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level_triggered);

/* The vector the core should inject now: the highest IRR vector if its
 * priority class is above PPR's, else -1. The core still checks RFLAGS.IF
 * and interrupt shadows. */
int vlapic_pending(const struct vlapic *l);

/* The priority class (1-15) of the highest IRR vector when the TPR alone
 * holds it back (it would be taken with TPR 0), else 0: a backend whose
 * guest writes CR8 without an exit asks to exit once CR8 drops below it. */
unsigned vlapic_tpr_blocked(const struct vlapic *l);

/* The core injected vector (the one vlapic_pending returned): IRR -> ISR.
 * Does nothing if the vector's IRR bit is clear. */
void vlapic_ack(struct vlapic *l, uint8_t vector);

uint8_t vlapic_ppr(const struct vlapic *l); /* for lowest-priority arbitration */

/* TPR, for CR8 (CR8[3:0] = TPR[7:4]) and the backends' TPR shadows.
 * vlapic_set_tpr calls changed(). */
uint8_t vlapic_tpr(const struct vlapic *l);
void vlapic_set_tpr(struct vlapic *l, uint8_t tpr);

/* LINT pin 0 or 1 (others ignored) is now at level (true = asserted). */
void vlapic_set_lint(struct vlapic *l, unsigned pin, bool level);
bool vlapic_lint0_extint(const struct vlapic *l);

/* NMI latch: vlapic_nmi for an NMI IPI (or any NMI the core routes here);
 * LINT1 in NMI mode latches it too. One NMI is latched; more coalesce.
 * vlapic_nmi calls changed(). */
void vlapic_nmi(struct vlapic *l);
bool vlapic_nmi_pending(const struct vlapic *l);
void vlapic_nmi_ack(struct vlapic *l);

/* Fires the timer expiry due at clock->now, if any (see "Timer clock");
 * true if it set an IRR bit. Call it at or after vlapic_timer_due(). */
bool vlapic_timer_update(struct vlapic *l);

/* Guest-TSC time of the next expiry that would set an IRR bit, or
 * VDEV_NEVER (disarmed, masked, or disabled). */
uint64_t vlapic_timer_due(const struct vlapic *l);

#endif
