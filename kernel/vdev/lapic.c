/* Per-vCPU local APIC (see lapic.h). Written from Intel SDM vol. 3
 * chapter 11 and AMD APM vol. 2 chapter 16. */
#include "vdev/lapic.h"
#include "keel/kstring.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull

/* ---- register file layout (SDM tables 11-1 and 11-6) ---- */

#define REG_SHIFT 4	       /* registers are 16 bytes apart */
#define REG_OFFSET_MASK 0xFull /* byte within a register's 16 bytes */
#define REG_ACCESS_SIZE 4u
#define NR_REGS 0x40u /* offsets 0x000-0x3F0; the rest of the page is reserved */

/* Register index = MMIO offset >> 4 = x2APIC MSR - 0x800. */
enum {
	R_ID = 0x02,
	R_VER = 0x03,
	R_TPR = 0x08,
	R_APR = 0x09,
	R_PPR = 0x0A,
	R_EOI = 0x0B,
	R_RRD = 0x0C,
	R_LDR = 0x0D,
	R_DFR = 0x0E,
	R_SVR = 0x0F,
	R_ISR = 0x10, /* 8 registers each: ISR, TMR, IRR */
	R_TMR = 0x18,
	R_IRR = 0x20,
	R_ESR = 0x28,
	R_ICR_LO = 0x30,
	R_ICR_HI = 0x31,
	R_LVT_TIMER = 0x32, /* 6 LVT registers in enum vlapic_lvt order */
	R_LVT_THERMAL = 0x33,
	R_LVT_PERF = 0x34,
	R_LVT_LINT0 = 0x35,
	R_LVT_LINT1 = 0x36,
	R_LVT_ERROR = 0x37,
	R_TMICT = 0x38,
	R_TMCCT = 0x39,
	R_DCR = 0x3E,
	R_SELF_IPI = 0x3F,
};

/* ---- register bits ---- */

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_ADDR_SHIFT 12

#define VERSION_ID 0x14u /* integrated APIC, as Pentium 4 and later */
#define VERSION_MAX_LVT_SHIFT 16
#define VERSION_VALUE (VERSION_ID | ((uint32_t)(VLAPIC_NR_LVT - 1) << VERSION_MAX_LVT_SHIFT))

#define XAPIC_ID_SHIFT 24 /* xAPIC ID in bits 31:24 of the ID register */
#define XAPIC_DEST_SHIFT 24
#define XAPIC_DEST_MASK 0xFF000000u /* ICR high, LDR in xAPIC mode */
#define XAPIC_BROADCAST 0xFFu
#define X2APIC_BROADCAST 0xFFFFFFFFu
#define X2APIC_CLUSTER_SHIFT 4 /* x2APIC LDR: cluster = ID[19:4] ... */
#define X2APIC_LDR_CLUSTER_SHIFT 16
#define X2APIC_LDR_BIT_MASK 0xFu /* ... bit ID[3:0] of bits 15:0 */
#define X2APIC_LDR_LOGICAL_MASK 0xFFFFu

#define PRIO_CLASS_SHIFT 4 /* priority class = vector bits 7:4 */
#define PRIO_CLASS_MASK 0xF0u
#define FIRST_LEGAL_VECTOR 16u
#define VECTOR_MASK 0xFFu
#define VEC_WORD_BITS 32u

#define DFR_MODEL_MASK 0xF0000000u
#define DFR_MODEL_CLUSTER 0x00000000u /* flat is 0xF */
#define DFR_RESERVED_ONES 0x0FFFFFFFu /* bits 27:0 read as 1 */
#define LDR_XAPIC_SHIFT 24
#define CLUSTER_SHIFT 4 /* xAPIC cluster model: cluster in MDA[7:4] */
#define CLUSTER_MEMBER_MASK 0xFu

#define SVR_ENABLE (1u << 8)
#define SVR_FOCUS_DISABLE (1u << 9) /* stored; arbitration is the core's */
#define SVR_WMASK (VECTOR_MASK | SVR_ENABLE | SVR_FOCUS_DISABLE)
#define SVR_RESET 0xFFu

#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

#define ICR_DELIVERY_SHIFT 8
#define ICR_DELIVERY_MASK 7u
#define ICR_LOGICAL (1u << 11)
#define ICR_STATUS (1u << 12) /* delivery status: read-only, always idle */
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL_TRIGGER (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 3u
#define ICR_LO_WMASK                                                                               \
	(VECTOR_MASK | (ICR_DELIVERY_MASK << ICR_DELIVERY_SHIFT) | ICR_LOGICAL | ICR_ASSERT |      \
	 ICR_LEVEL_TRIGGER | (ICR_SHORTHAND_MASK << ICR_SHORTHAND_SHIFT))

#define LVT_DELIVERY_SHIFT 8
#define LVT_DELIVERY_MASK (7u << LVT_DELIVERY_SHIFT)
#define LVT_STATUS (1u << 12) /* delivery status: read-only, always idle */
#define LVT_POLARITY (1u << 13)
#define LVT_REMOTE_IRR (1u << 14) /* read-only */
#define LVT_LEVEL (1u << 15)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_MODE_SHIFT 17
#define LVT_TIMER_MODE_MASK (3u << LVT_TIMER_MODE_SHIFT)
#define LVT_TIMER_DEADLINE_BIT (1u << 18) /* reserved without TSC-deadline */
#define LVT_RESET LVT_MASKED
#define LVT_BASIC_WMASK (VECTOR_MASK | LVT_MASKED) /* error */
#define LVT_TIMER_WMASK (LVT_BASIC_WMASK | LVT_TIMER_MODE_MASK)
#define LVT_DM_WMASK (LVT_BASIC_WMASK | LVT_DELIVERY_MASK) /* thermal, perf */
#define LVT_LINT_WMASK (LVT_DM_WMASK | LVT_POLARITY | LVT_LEVEL)

/* LVT delivery modes (SDM figure 11-8). */
#define DM_FIXED 0u
#define DM_NMI 4u
#define DM_EXTINT 7u

enum timer_mode {
	TIMER_ONESHOT = 0,
	TIMER_PERIODIC = 1,
	TIMER_DEADLINE = 2,
	TIMER_RESERVED = 3,
};

/* Divide configuration: bits 3, 1, 0 (bit 2 reserved). */
#define DCR_MASK 0xBu
#define DCR_HIGH_BIT_SHIFT 1 /* bit 3 -> bit 2 of the 3-bit code */
#define DCR_HIGH_BIT 4u
#define DCR_LOW_BITS 3u
#define DCR_CODES 8u /* code c divides by 2^((c + 1) mod 8) */

#define X2APIC_RESERVED_HIGH 0xFFFFFFFF00000000ull /* all but the ICR */
#define PAGE_OFFSET_MASK 0xFFFull

/* ---- register access rules ---- */

#define F_R 0x01u  /* readable */
#define F_WX 0x02u /* writable in xAPIC mode */
#define F_W2 0x04u /* writable in x2APIC mode */
#define F_X 0x08u  /* present in xAPIC mode */
#define F_2 0x10u  /* present in x2APIC mode */
#define F_BOTH (F_X | F_2)
#define F_RW (F_R | F_WX | F_W2)

struct reg_desc {
	uint8_t flags;
	uint32_t wmask;	 /* bits a write stores */
	uint32_t romask; /* read-only bits a write ignores (not #GP in x2APIC) */
};

/* Indices absent here are reserved. */
static const struct reg_desc reg_table[NR_REGS] = {
    [R_ID] = {F_R | F_BOTH, 0, 0},
    [R_VER] = {F_R | F_BOTH, 0, 0},
    [R_TPR] = {F_RW | F_BOTH, VECTOR_MASK, 0},
    [R_APR] = {F_R | F_X, 0, 0},
    [R_PPR] = {F_R | F_BOTH, 0, 0},
    [R_EOI] = {F_WX | F_W2 | F_BOTH, 0, 0},
    [R_RRD] = {F_R | F_X, 0, 0},
    [R_LDR] = {F_R | F_WX | F_BOTH, XAPIC_DEST_MASK, 0},
    [R_DFR] = {F_R | F_WX | F_X, DFR_MODEL_MASK, 0},
    [R_SVR] = {F_RW | F_BOTH, SVR_WMASK, 0},
    [R_ISR... R_ISR + VLAPIC_VEC_WORDS - 1] = {F_R | F_BOTH, 0, 0},
    [R_TMR... R_TMR + VLAPIC_VEC_WORDS - 1] = {F_R | F_BOTH, 0, 0},
    [R_IRR... R_IRR + VLAPIC_VEC_WORDS - 1] = {F_R | F_BOTH, 0, 0},
    [R_ESR] = {F_RW | F_BOTH, 0, 0},
    [R_ICR_LO] = {F_RW | F_BOTH, ICR_LO_WMASK, ICR_STATUS},
    [R_ICR_HI] = {F_R | F_WX | F_X, XAPIC_DEST_MASK, 0},
    [R_LVT_TIMER] = {F_RW | F_BOTH, LVT_TIMER_WMASK, LVT_STATUS},
    [R_LVT_THERMAL] = {F_RW | F_BOTH, LVT_DM_WMASK, LVT_STATUS},
    [R_LVT_PERF] = {F_RW | F_BOTH, LVT_DM_WMASK, LVT_STATUS},
    [R_LVT_LINT0] = {F_RW | F_BOTH, LVT_LINT_WMASK, LVT_STATUS | LVT_REMOTE_IRR},
    [R_LVT_LINT1] = {F_RW | F_BOTH, LVT_LINT_WMASK, LVT_STATUS | LVT_REMOTE_IRR},
    [R_LVT_ERROR] = {F_RW | F_BOTH, LVT_BASIC_WMASK, LVT_STATUS},
    [R_TMICT] = {F_RW | F_BOTH, 0xFFFFFFFFu, 0},
    [R_TMCCT] = {F_R | F_BOTH, 0, 0},
    [R_DCR] = {F_RW | F_BOTH, DCR_MASK, 0},
    [R_SELF_IPI] = {F_W2 | F_2, VECTOR_MASK, 0},
};

enum reg_check {
	REG_OK,
	REG_RESERVED, /* no such register in this mode */
	REG_DENIED,   /* read of a write-only or write of a read-only register */
};

static void deliver_error(struct vlapic *l, uint32_t bits);
static bool accept_vector(struct vlapic *l, uint8_t vector, bool level);

/* ---- small helpers ---- */

static void notify(struct vlapic *l)
{
	l->host->changed(l->host->ctx);
}

static uint64_t now(const struct vlapic *l)
{
	return vdev_now(l->clock);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool hw_enabled(const struct vlapic *l)
{
	return (l->apic_base & APIC_BASE_EN) != 0;
}

static bool sw_enabled(const struct vlapic *l)
{
	return (l->svr & SVR_ENABLE) != 0;
}

static bool x2apic(const struct vlapic *l)
{
	return vlapic_mode(l) == VLAPIC_X2APIC;
}

static unsigned prio_class(unsigned vector)
{
	return vector >> PRIO_CLASS_SHIFT;
}

static unsigned lvt_delivery(uint32_t lvt)
{
	return (lvt & LVT_DELIVERY_MASK) >> LVT_DELIVERY_SHIFT;
}

/* ---- 256-bit vector maps (IRR, ISR, TMR) ---- */

static void vec_set(uint32_t *map, unsigned v)
{
	map[v / VEC_WORD_BITS] |= 1u << (v % VEC_WORD_BITS);
}

static void vec_clear(uint32_t *map, unsigned v)
{
	map[v / VEC_WORD_BITS] &= ~(1u << (v % VEC_WORD_BITS));
}

static bool vec_test(const uint32_t *map, unsigned v)
{
	return (map[v / VEC_WORD_BITS] >> (v % VEC_WORD_BITS)) & 1u;
}

/* Highest set vector, or -1. */
static int vec_highest(const uint32_t *map)
{
	for (int w = VLAPIC_VEC_WORDS - 1; w >= 0; w--)
		if (map[w])
			return w * (int)VEC_WORD_BITS + (int)VEC_WORD_BITS - 1 -
			       __builtin_clz(map[w]);
	return -1;
}

/* Highest set vector, or 0 when none: the SDM's ISRV/IRRV. */
static unsigned vec_highest0(const uint32_t *map)
{
	int v = vec_highest(map);

	return v < 0 ? 0 : (unsigned)v;
}

/* ---- priorities (SDM 11.8.3) ---- */

static uint8_t ppr(const struct vlapic *l)
{
	unsigned isrv = vec_highest0(l->isr);

	if (prio_class(l->tpr) >= prio_class(isrv))
		return l->tpr;
	return (uint8_t)(isrv & PRIO_CLASS_MASK);
}

static unsigned max_u(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

/* Arbitration priority (SDM figure 11-15): TPR if it outranks both the
 * highest pending and the highest in-service class, else the highest class. */
static uint8_t apr(const struct vlapic *l)
{
	unsigned isrv = vec_highest0(l->isr), irrv = vec_highest0(l->irr);

	if (prio_class(l->tpr) >= prio_class(irrv) && prio_class(l->tpr) > prio_class(isrv))
		return l->tpr;
	return (uint8_t)max_u(l->tpr & PRIO_CLASS_MASK,
			      max_u(isrv & PRIO_CLASS_MASK, irrv & PRIO_CLASS_MASK));
}

/* ---- local interrupts ---- */

/* Timer and error LVTs: fixed delivery of their vector unless masked. */
static bool lvt_fire(struct vlapic *l, enum vlapic_lvt i)
{
	uint32_t lvt = l->lvt[i];

	if (lvt & LVT_MASKED)
		return false;
	return accept_vector(l, (uint8_t)(lvt & VECTOR_MASK), false);
}

/* Only errors not already logged since the last ESR write raise the error
 * interrupt: an illegal vector in the error LVT itself then logs "received
 * illegal vector" once instead of looping. */
static void deliver_error(struct vlapic *l, uint32_t bits)
{
	uint32_t fresh = bits & ~l->esr_pending;

	l->esr_pending |= bits;
	if (fresh)
		lvt_fire(l, VLAPIC_LVT_ERROR);
}

static bool accept_vector(struct vlapic *l, uint8_t vector, bool level)
{
	if (vector < FIRST_LEGAL_VECTOR) {
		deliver_error(l, ESR_RECV_ILLEGAL_VECTOR);
		return false;
	}
	vec_set(l->irr, vector);
	if (level)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	notify(l);
	return true;
}

/* Fixed interrupts from outside the APIC (and SELF IPI): refused while
 * disabled, see lapic.h. */
static bool accept_external(struct vlapic *l, uint8_t vector, bool level)
{
	if (!hw_enabled(l) || !sw_enabled(l))
		return false;
	return accept_vector(l, vector, level);
}

/* ---- LINT0 / LINT1 ---- */

static bool lint_level_triggered(unsigned pin, uint32_t lvt)
{
	/* The SDM does not support level-sensitive LINT1. */
	return pin == 0 && (lvt & LVT_LEVEL);
}

/* Level-triggered fixed LINT: one interrupt per assertion until its EOI. */
static void lint_level_fixed(struct vlapic *l, unsigned pin)
{
	uint32_t *lvt = &l->lvt[VLAPIC_LVT_LINT0 + pin];

	if (!l->lint[pin] || (*lvt & LVT_REMOTE_IRR))
		return;
	if (accept_vector(l, (uint8_t)(*lvt & VECTOR_MASK), true))
		*lvt |= LVT_REMOTE_IRR;
}

static void lint_deliver(struct vlapic *l, unsigned pin, bool rising)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_LINT0 + pin];

	if (lvt & LVT_MASKED)
		return;
	switch (lvt_delivery(lvt)) {
	case DM_FIXED:
		if (lint_level_triggered(pin, lvt))
			lint_level_fixed(l, pin);
		else if (rising)
			accept_vector(l, (uint8_t)(lvt & VECTOR_MASK), false);
		break;
	case DM_NMI:
		if (rising)
			vlapic_nmi(l);
		break;
	default:
		/* ExtINT: the core asks vlapic_lint0_extint and the 8259.
		 * SMI, INIT and reserved modes: dropped. */
		break;
	}
}

/* An EOI for vector may end a level-triggered LINT interrupt. */
static void lint_eoi(struct vlapic *l, unsigned vector)
{
	for (unsigned pin = 0; pin < VLAPIC_NR_LINT; pin++) {
		uint32_t *lvt = &l->lvt[VLAPIC_LVT_LINT0 + pin];

		if (!(*lvt & LVT_REMOTE_IRR) || (*lvt & VECTOR_MASK) != vector)
			continue;
		*lvt &= ~LVT_REMOTE_IRR;
		lint_deliver(l, pin, false);
	}
}

void vlapic_set_lint(struct vlapic *l, unsigned pin, bool level)
{
	bool rising;

	if (pin >= VLAPIC_NR_LINT)
		return;
	rising = level && !l->lint[pin];
	l->lint[pin] = level;
	if (hw_enabled(l)) {
		lint_deliver(l, pin, rising);
		return;
	}
	/* No APIC: LINT1 is the CPU's NMI pin (LINT0 is INTR, see
	 * vlapic_lint0_extint). */
	if (pin == 1 && rising)
		vlapic_nmi(l);
}

bool vlapic_lint0_extint(const struct vlapic *l)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_LINT0];

	if (!hw_enabled(l))
		return true;
	return !(lvt & LVT_MASKED) && lvt_delivery(lvt) == DM_EXTINT;
}

/* ---- NMI latch ---- */

void vlapic_nmi(struct vlapic *l)
{
	l->nmi_pending = true;
	notify(l);
}

bool vlapic_nmi_pending(const struct vlapic *l)
{
	return l->nmi_pending;
}

void vlapic_nmi_ack(struct vlapic *l)
{
	l->nmi_pending = false;
}

/* ---- timer (SDM 11.5.4) ---- */

static enum timer_mode timer_mode(const struct vlapic *l)
{
	return (enum timer_mode)((l->lvt[VLAPIC_LVT_TIMER] & LVT_TIMER_MODE_MASK) >>
				 LVT_TIMER_MODE_SHIFT);
}

static bool timer_counting_mode(const struct vlapic *l)
{
	enum timer_mode m = timer_mode(l);

	return m == TIMER_ONESHOT || m == TIMER_PERIODIC;
}

/* TSC ticks per count: the input clock is the TSC itself. */
static uint64_t timer_div(const struct vlapic *l)
{
	unsigned code = ((l->dcr >> DCR_HIGH_BIT_SHIFT) & DCR_HIGH_BIT) | (l->dcr & DCR_LOW_BITS);

	return 1ull << ((code + 1) % DCR_CODES);
}

static uint64_t timer_period(const struct vlapic *l)
{
	return (uint64_t)l->tmict * timer_div(l);
}

/* The first grid point of the periodic schedule after t (t >= expire). */
static uint64_t next_period(const struct vlapic *l, uint64_t t)
{
	uint64_t p = timer_period(l);

	return sat_add(t, p - (t - l->timer_expire) % p);
}

/* The current-count register at time t, without changing any state. */
static uint32_t timer_current(const struct vlapic *l, uint64_t t)
{
	uint64_t div = timer_div(l), left;

	if (!timer_counting_mode(l) || !l->timer_armed)
		return 0;
	if (t < l->timer_expire) {
		left = (l->timer_expire - t) / div + ((l->timer_expire - t) % div != 0);
		/* A TSC moved backwards must not show more than was loaded. */
		return left > l->tmict ? l->tmict : (uint32_t)left;
	}
	if (timer_mode(l) != TIMER_PERIODIC)
		return 0;
	return l->tmict - (uint32_t)(((t - l->timer_expire) % timer_period(l)) / div);
}

static bool deadline_sync(struct vlapic *l, uint64_t t)
{
	if (l->deadline == 0 || t < l->deadline)
		return false;
	l->deadline = 0;
	return lvt_fire(l, VLAPIC_LVT_TIMER);
}

/* Brings the timer up to time t: handles an expiry that is due (at most one
 * interrupt, see lapic.h). Every timer register write calls it first, so
 * the old settings govern what was due under them. */
static bool timer_sync(struct vlapic *l, uint64_t t)
{
	if (timer_mode(l) == TIMER_DEADLINE)
		return deadline_sync(l, t);
	if (!timer_counting_mode(l) || !l->timer_armed || t < l->timer_expire)
		return false;
	if (timer_mode(l) == TIMER_PERIODIC)
		l->timer_expire = next_period(l, t);
	else
		l->timer_armed = false;
	return lvt_fire(l, VLAPIC_LVT_TIMER);
}

static void timer_disarm(struct vlapic *l)
{
	l->timer_armed = false;
	l->deadline = 0;
}

static void write_tmict(struct vlapic *l, uint32_t v)
{
	uint64_t t = now(l);

	if (timer_mode(l) == TIMER_DEADLINE)
		return; /* ignored in TSC-deadline mode */
	timer_sync(l, t);
	l->tmict = v;
	l->timer_armed = v != 0 && timer_counting_mode(l);
	l->timer_expire = sat_add(t, timer_period(l));
	notify(l);
}

static void write_dcr(struct vlapic *l, uint32_t v)
{
	uint64_t t = now(l);
	uint32_t left;

	timer_sync(l, t);
	left = timer_current(l, t); /* >= 1 while armed, after the sync */
	l->dcr = v;
	if (l->timer_armed && timer_counting_mode(l))
		l->timer_expire = sat_add(t, (uint64_t)left * timer_div(l));
	notify(l);
}

static uint64_t deadline_read(const struct vlapic *l)
{
	if (timer_mode(l) != TIMER_DEADLINE || now(l) >= l->deadline)
		return 0; /* not this mode, disarmed, or expired */
	return l->deadline;
}

static void deadline_write(struct vlapic *l, uint64_t v)
{
	if (timer_mode(l) != TIMER_DEADLINE)
		return;
	l->deadline = v;
	deadline_sync(l, now(l)); /* a time already past fires now */
	notify(l);
}

bool vlapic_timer_update(struct vlapic *l)
{
	return timer_sync(l, now(l));
}

uint64_t vlapic_timer_due(const struct vlapic *l)
{
	if (l->lvt[VLAPIC_LVT_TIMER] & LVT_MASKED)
		return VDEV_NEVER;
	if (timer_mode(l) == TIMER_DEADLINE)
		return l->deadline ? l->deadline : VDEV_NEVER;
	if (!timer_counting_mode(l) || !l->timer_armed)
		return VDEV_NEVER;
	return l->timer_expire;
}

/* ---- acceptance, priority, EOI ---- */

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level_triggered)
{
	return accept_external(l, vector, level_triggered);
}

int vlapic_pending(const struct vlapic *l)
{
	int v = vlapic_mode(l) == VLAPIC_DISABLED ? -1 : vec_highest(l->irr);

	if (v < 0 || prio_class((unsigned)v) <= prio_class(ppr(l)))
		return -1;
	return v;
}

unsigned vlapic_tpr_blocked(const struct vlapic *l)
{
	int v = vlapic_mode(l) == VLAPIC_DISABLED ? -1 : vec_highest(l->irr);
	unsigned isr_class = prio_class(vec_highest0(l->isr));

	if (v < 0 || vlapic_pending(l) >= 0 || prio_class((unsigned)v) <= isr_class)
		return 0;
	return prio_class((unsigned)v);
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	if (!vec_test(l->irr, vector))
		return;
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
}

uint8_t vlapic_ppr(const struct vlapic *l)
{
	return ppr(l);
}

uint8_t vlapic_tpr(const struct vlapic *l)
{
	return l->tpr;
}

void vlapic_set_tpr(struct vlapic *l, uint8_t tpr)
{
	l->tpr = tpr;
	notify(l);
}

/* EOI retires the highest in-service vector (SDM 11.8.5). ISR is updated
 * before the callbacks, which may deliver the same vector again. */
static void do_eoi(struct vlapic *l)
{
	int v = vec_highest(l->isr);

	if (v < 0)
		return;
	vec_clear(l->isr, (unsigned)v);
	if (vec_test(l->tmr, (unsigned)v)) {
		lint_eoi(l, (unsigned)v);
		l->host->eoi(l->host->ctx, (uint8_t)v);
	}
	notify(l);
}

/* ---- IPIs ---- */

static void send_ipi(struct vlapic *l)
{
	uint32_t lo = l->icr_lo;
	struct lapic_ipi ipi = {
	    .src_id = l->id,
	    .dest = x2apic(l) ? l->icr_hi : l->icr_hi >> XAPIC_DEST_SHIFT,
	    .x2apic = x2apic(l),
	    .vector = (uint8_t)(lo & VECTOR_MASK),
	    .delivery = (uint8_t)((lo >> ICR_DELIVERY_SHIFT) & ICR_DELIVERY_MASK),
	    .shorthand = (uint8_t)((lo >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK),
	    .logical = (lo & ICR_LOGICAL) != 0,
	    .asserted = (lo & ICR_ASSERT) != 0,
	    .level_trigger = (lo & ICR_LEVEL_TRIGGER) != 0,
	};
	bool fixed = ipi.delivery == LAPIC_DELIVERY_FIXED || ipi.delivery == LAPIC_DELIVERY_LOWEST;

	if (fixed && ipi.vector < FIRST_LEGAL_VECTOR) {
		deliver_error(l, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (ipi.delivery == LAPIC_DELIVERY_INIT && !ipi.asserted && ipi.level_trigger)
		return; /* INIT level de-assert: no effect since the Pentium 4 */
	l->host->ipi(l->host->ctx, &ipi);
}

static void self_ipi(struct vlapic *l, uint8_t vector)
{
	if (vector < FIRST_LEGAL_VECTOR) {
		deliver_error(l, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	accept_external(l, vector, false);
}

/* ---- register writes ---- */

static void write_svr(struct vlapic *l, uint32_t v)
{
	timer_sync(l, now(l)); /* the timer mask may change */
	l->svr = v;
	if (!sw_enabled(l))
		for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
			l->lvt[i] |= LVT_MASKED;
	notify(l);
}

static void write_lvt_timer(struct vlapic *l, uint32_t v)
{
	enum timer_mode old;

	timer_sync(l, now(l));
	old = timer_mode(l);
	l->lvt[VLAPIC_LVT_TIMER] = sw_enabled(l) ? v : v | LVT_MASKED;
	if (timer_mode(l) != old)
		timer_disarm(l);
	notify(l);
}

static void write_lvt(struct vlapic *l, enum vlapic_lvt i, uint32_t v)
{
	uint32_t *lvt = &l->lvt[i];

	*lvt = v | (*lvt & LVT_REMOTE_IRR);
	if (!sw_enabled(l))
		*lvt |= LVT_MASKED;
	if (i == VLAPIC_LVT_LINT0 || i == VLAPIC_LVT_LINT1)
		lint_deliver(l, i - VLAPIC_LVT_LINT0, false); /* unmasked while asserted */
	notify(l);
}

/* A write that passed the access checks, v already reduced to the
 * register's writable bits. */
static void reg_write(struct vlapic *l, unsigned idx, uint32_t v)
{
	switch (idx) {
	case R_TPR:
		vlapic_set_tpr(l, (uint8_t)v);
		break;
	case R_EOI:
		do_eoi(l);
		break;
	case R_LDR:
		l->ldr = v;
		break;
	case R_DFR:
		l->dfr = v | DFR_RESERVED_ONES;
		break;
	case R_SVR:
		write_svr(l, v);
		break;
	case R_ESR:
		l->esr = l->esr_pending; /* the value written does not matter */
		l->esr_pending = 0;
		break;
	case R_ICR_LO:
		l->icr_lo = v;
		send_ipi(l);
		break;
	case R_ICR_HI:
		l->icr_hi = v;
		break;
	case R_LVT_TIMER:
		write_lvt_timer(l, v);
		break;
	case R_LVT_THERMAL:
	case R_LVT_PERF:
	case R_LVT_LINT0:
	case R_LVT_LINT1:
	case R_LVT_ERROR:
		write_lvt(l, (enum vlapic_lvt)(idx - R_LVT_TIMER), v);
		break;
	case R_TMICT:
		write_tmict(l, v);
		break;
	case R_DCR:
		write_dcr(l, v);
		break;
	case R_SELF_IPI:
		self_ipi(l, (uint8_t)v);
		break;
	default:
		break;
	}
}

/* ---- register reads ---- */

static uint32_t reg_read(const struct vlapic *l, unsigned idx)
{
	if (idx >= R_ISR && idx < R_ISR + VLAPIC_VEC_WORDS)
		return l->isr[idx - R_ISR];
	if (idx >= R_TMR && idx < R_TMR + VLAPIC_VEC_WORDS)
		return l->tmr[idx - R_TMR];
	if (idx >= R_IRR && idx < R_IRR + VLAPIC_VEC_WORDS)
		return l->irr[idx - R_IRR];
	if (idx >= R_LVT_TIMER && idx <= R_LVT_ERROR)
		return l->lvt[idx - R_LVT_TIMER];
	switch (idx) {
	case R_ID:
		return x2apic(l) ? l->id : l->id << XAPIC_ID_SHIFT;
	case R_VER:
		return VERSION_VALUE;
	case R_TPR:
		return l->tpr;
	case R_APR:
		return apr(l);
	case R_PPR:
		return ppr(l);
	case R_LDR:
		return l->ldr;
	case R_DFR:
		return l->dfr;
	case R_SVR:
		return l->svr;
	case R_ESR:
		return l->esr;
	case R_ICR_LO:
		return l->icr_lo;
	case R_ICR_HI:
		return l->icr_hi;
	case R_TMICT:
		return l->tmict;
	case R_TMCCT:
		return timer_current(l, now(l));
	case R_DCR:
		return l->dcr;
	default:
		return 0; /* RRD, and write-only registers read through MMIO */
	}
}

/* ---- access checks shared by MMIO and MSRs ---- */

static enum reg_check reg_check(const struct vlapic *l, unsigned idx, bool write)
{
	uint8_t flags, need;

	if (idx >= NR_REGS)
		return REG_RESERVED;
	flags = reg_table[idx].flags;
	if (!(flags & (x2apic(l) ? F_2 : F_X)))
		return REG_RESERVED;
	need = !write ? F_R : x2apic(l) ? F_W2 : F_WX;
	return (flags & need) ? REG_OK : REG_DENIED;
}

static uint32_t reg_wmask(const struct vlapic *l, unsigned idx)
{
	uint32_t m = reg_table[idx].wmask;

	if (idx == R_LVT_TIMER && !l->host->tsc_deadline)
		m &= ~LVT_TIMER_DEADLINE_BIT;
	return m;
}

/* ---- xAPIC MMIO ---- */

/* Only 4-byte accesses at a register's 16-byte-aligned offset reach it. */
static bool mmio_is_register(const struct vlapic *l, uint64_t off, uint8_t size)
{
	return vlapic_mode(l) == VLAPIC_XAPIC && size == REG_ACCESS_SIZE &&
	       (off & REG_OFFSET_MASK) == 0;
}

static status_t mmio_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct vlapic *l = dev;
	unsigned idx = (unsigned)(off >> REG_SHIFT);

	*val = ALL_ONES;
	if (off >= VLAPIC_MMIO_LEN)
		return ST_ERANGE;
	if (!mmio_is_register(l, off, size))
		return ST_OK;
	switch (reg_check(l, idx, false)) {
	case REG_OK:
		*val = reg_read(l, idx);
		break;
	case REG_RESERVED:
		*val = 0;
		deliver_error(l, ESR_ILLEGAL_REGISTER);
		break;
	case REG_DENIED:
		*val = 0;
		break;
	}
	return ST_OK;
}

static status_t mmio_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct vlapic *l = dev;
	unsigned idx = (unsigned)(off >> REG_SHIFT);

	if (off >= VLAPIC_MMIO_LEN)
		return ST_ERANGE;
	if (!mmio_is_register(l, off, size))
		return ST_OK;
	switch (reg_check(l, idx, true)) {
	case REG_OK:
		reg_write(l, idx, (uint32_t)val & reg_wmask(l, idx));
		break;
	case REG_RESERVED:
		deliver_error(l, ESR_ILLEGAL_REGISTER);
		break;
	case REG_DENIED:
		break;
	}
	return ST_OK;
}

const struct bus_ops vlapic_mmio_ops = {.read = mmio_read, .write = mmio_write};

/* ---- x2APIC MSRs ---- */

static bool x2apic_read(struct vlapic *l, uint32_t msr, uint64_t *val)
{
	unsigned idx = msr - VLAPIC_MSR_X2APIC_FIRST;

	if (!x2apic(l) || reg_check(l, idx, false) != REG_OK)
		return false;
	*val = reg_read(l, idx);
	if (idx == R_ICR_LO)
		*val |= (uint64_t)l->icr_hi << 32;
	return true;
}

/* The ICR is one 64-bit MSR: destination in bits 63:32 (SDM 11.12.9). */
static bool x2apic_write_icr(struct vlapic *l, uint64_t v)
{
	uint32_t lo = (uint32_t)v;

	if (lo & ~(ICR_LO_WMASK | ICR_STATUS))
		return false;
	l->icr_hi = (uint32_t)(v >> 32);
	l->icr_lo = lo & ICR_LO_WMASK;
	send_ipi(l);
	return true;
}

static bool x2apic_write(struct vlapic *l, uint32_t msr, uint64_t v)
{
	unsigned idx = msr - VLAPIC_MSR_X2APIC_FIRST;
	uint32_t wmask;

	if (!x2apic(l) || reg_check(l, idx, true) != REG_OK)
		return false;
	if (idx == R_ICR_LO)
		return x2apic_write_icr(l, v);
	wmask = reg_wmask(l, idx);
	if ((v & X2APIC_RESERVED_HIGH) || ((uint32_t)v & ~(wmask | reg_table[idx].romask)))
		return false; /* RsvdZ: SDM 11.12.1.3 */
	reg_write(l, idx, (uint32_t)v & wmask);
	return true;
}

/* ---- IA32_APIC_BASE (SDM 11.4.4, 11.12.5) ---- */

#define MODE_INVALID ((enum vlapic_mode)(VLAPIC_X2APIC + 1)) /* EN=0, EXTD=1 */

static enum vlapic_mode mode_of(uint64_t base)
{
	if (!(base & APIC_BASE_EN))
		return (base & APIC_BASE_EXTD) ? MODE_INVALID : VLAPIC_DISABLED;
	return (base & APIC_BASE_EXTD) ? VLAPIC_X2APIC : VLAPIC_XAPIC;
}

static bool transition_ok(enum vlapic_mode from, enum vlapic_mode to)
{
	if (to == MODE_INVALID)
		return false;
	if (from == VLAPIC_X2APIC && to == VLAPIC_XAPIC)
		return false; /* only through disabled */
	return !(from == VLAPIC_DISABLED && to == VLAPIC_X2APIC);
}

static uint64_t apic_base_wmask(const struct vlapic *l)
{
	uint64_t addr = ((1ull << l->host->phys_bits) - 1) & ~PAGE_OFFSET_MASK;

	return addr | APIC_BASE_EN | APIC_BASE_BSP | (l->host->x2apic ? APIC_BASE_EXTD : 0);
}

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> X2APIC_CLUSTER_SHIFT) << X2APIC_LDR_CLUSTER_SHIFT) |
	       (1u << (id & X2APIC_LDR_BIT_MASK));
}

static void regs_reset(struct vlapic *l);

static bool apic_base_write(struct vlapic *l, uint64_t v)
{
	enum vlapic_mode from = vlapic_mode(l), to = mode_of(v);

	if ((v & ~apic_base_wmask(l)) || !transition_ok(from, to))
		return false;
	l->apic_base = (v & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	if (to == VLAPIC_DISABLED && from != VLAPIC_DISABLED)
		regs_reset(l);
	if (to == VLAPIC_X2APIC && from == VLAPIC_XAPIC)
		l->ldr = x2apic_ldr(l->id);
	notify(l);
	return true;
}

bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val)
{
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*val = l->apic_base;
		return true;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (!l->host->tsc_deadline)
			return false;
		*val = deadline_read(l);
		return true;
	}
	if (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST)
		return x2apic_read(l, msr, val);
	return false;
}

bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val)
{
	if (msr == VLAPIC_MSR_APIC_BASE)
		return apic_base_write(l, val);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (!l->host->tsc_deadline)
			return false;
		deadline_write(l, val);
		return true;
	}
	if (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST)
		return x2apic_write(l, msr, val);
	return false;
}

/* ---- destination matching (SDM 11.6.2) ---- */

static bool xapic_match(const struct vlapic *l, uint8_t dest, bool logical)
{
	uint8_t ldr = (uint8_t)(l->ldr >> LDR_XAPIC_SHIFT);

	if (dest == XAPIC_BROADCAST)
		return true;
	if (!logical)
		return dest == (uint8_t)l->id;
	if ((l->dfr & DFR_MODEL_MASK) != DFR_MODEL_CLUSTER)
		return (dest & ldr) != 0; /* flat */
	return (dest >> CLUSTER_SHIFT) == (ldr >> CLUSTER_SHIFT) &&
	       (dest & ldr & CLUSTER_MEMBER_MASK) != 0;
}

static bool x2apic_match(const struct vlapic *l, uint32_t dest, bool logical)
{
	if (dest == X2APIC_BROADCAST)
		return true;
	if (!logical)
		return dest == l->id;
	return (dest >> X2APIC_LDR_CLUSTER_SHIFT) == (l->ldr >> X2APIC_LDR_CLUSTER_SHIFT) &&
	       (dest & l->ldr & X2APIC_LDR_LOGICAL_MASK) != 0;
}

bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical)
{
	switch (vlapic_mode(l)) {
	case VLAPIC_XAPIC:
		return xapic_match(l, (uint8_t)dest, logical);
	case VLAPIC_X2APIC:
		return x2apic_match(l, dest, logical);
	default:
		return false;
	}
}

/* ---- state, reset, init ---- */

enum vlapic_mode vlapic_mode(const struct vlapic *l)
{
	return mode_of(l->apic_base);
}

uint64_t vlapic_base(const struct vlapic *l)
{
	return l->apic_base & ~PAGE_OFFSET_MASK & ~(APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP);
}

uint32_t vlapic_id(const struct vlapic *l)
{
	return l->id;
}

/* Power-on values of everything but the ID and IA32_APIC_BASE. */
static void regs_reset(struct vlapic *l)
{
	l->tpr = 0;
	l->ldr = x2apic(l) ? x2apic_ldr(l->id) : 0;
	l->dfr = ~0u;
	l->svr = SVR_RESET;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = LVT_RESET;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->tmict = l->dcr = 0;
	l->timer_armed = false;
	l->timer_expire = 0;
	l->deadline = 0;
}

void vlapic_reset_init(struct vlapic *l)
{
	regs_reset(l);
	l->nmi_pending = false;
}

void vlapic_reset_power(struct vlapic *l)
{
	l->apic_base = VLAPIC_DEFAULT_BASE | APIC_BASE_EN | (l->apic_base & APIC_BASE_BSP);
	regs_reset(l);
	l->nmi_pending = false;
	for (unsigned pin = 0; pin < VLAPIC_NR_LINT; pin++)
		l->lint[pin] = false;
}

void vlapic_virtual_wire(struct vlapic *l)
{
	l->svr |= SVR_ENABLE;
	if (l->apic_base & APIC_BASE_BSP)
		l->lvt[VLAPIC_LVT_LINT0] = DM_EXTINT << LVT_DELIVERY_SHIFT;
	l->lvt[VLAPIC_LVT_LINT1] = DM_NMI << LVT_DELIVERY_SHIFT;
	notify(l);
}

static bool host_ok(const struct vlapic_host *h)
{
	return h && h->ipi && h->eoi && h->changed;
}

status_t vlapic_init(struct vlapic *l, uint32_t apic_id, bool bsp, const struct vdev_clock *clock,
		     const struct vlapic_host *host)
{
	if (!l || !clock || !clock->now || clock->hz == 0 || !host_ok(host))
		return ST_EINVAL;
	if (apic_id > VLAPIC_MAX_ID || host->phys_bits < VLAPIC_MIN_PHYS_BITS ||
	    host->phys_bits > VLAPIC_MAX_PHYS_BITS)
		return ST_ERANGE;
	memset(l, 0, sizeof(*l));
	l->clock = clock;
	l->host = host;
	l->id = apic_id;
	l->apic_base = bsp ? APIC_BASE_BSP : 0;
	vlapic_reset_power(l);
	return ST_OK;
}
