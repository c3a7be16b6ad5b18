/* The 8259A pair and the ELCR (see pic.h). */
#include "vdev/pic.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define BUS_FLOAT 0xFF /* what an INTA reads when no chip drives the bus */
#define NO_IR (-1)
#define IRS 8	     /* inputs per chip */
#define ALL_IRS 0xFF /* one bit per input */
#define BITS_PER_BYTE 8
#define IR_MASK 7u	   /* level number within a chip */
#define LOWEST_AT_RESET 7  /* after ICW1, IR7 has the lowest priority */
#define SPURIOUS_IR 7	   /* the default IR7 of an INTA with no request */
#define PORT_CMD 0	   /* A0 = 0 */
#define PORT_DATA 1	   /* A0 = 1 */
#define POLL_PENDING 0x80  /* poll word: a request was found */
#define POLL_NONE 0x00	   /* poll word: no request */
#define VECTOR_BASE 0xF8u  /* ICW2 bits 7:3 in 8086 mode */
#define SLAVE_ID_MASK 0x07 /* slave's ICW3: ID in bits 2:0 */

/* Written at A0 = 0: D4 selects ICW1, else D3 selects OCW3 over OCW2. */
#define CMD_ICW1 0x10
#define CMD_OCW3 0x08

#define ICW1_IC4 0x01  /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single: no ICW3 */
#define ICW1_LTIM 0x08 /* level-triggered inputs */

#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10

/* OCW2: R, SL and EOI (bits 7:5) pick the command, L2-L0 the level. */
#define OCW2_CMD_MASK 0xE0
#define OCW2_ROT_AEOI_CLEAR 0x00
#define OCW2_NS_EOI 0x20
#define OCW2_NOP 0x40
#define OCW2_SPEC_EOI 0x60
#define OCW2_ROT_AEOI_SET 0x80
#define OCW2_ROT_NS_EOI 0xA0
#define OCW2_SET_PRIO 0xC0
#define OCW2_ROT_SPEC_EOI 0xE0
#define OCW2_LEVEL 0x07

#define OCW3_RIS 0x01  /* read ISR rather than IRR */
#define OCW3_RR 0x02   /* RIS is valid */
#define OCW3_POLL 0x04 /* poll command */
#define OCW3_SMM 0x20  /* set (1) or reset (0) special mask mode */
#define OCW3_ESMM 0x40 /* SMM is valid */

/* Inputs the chipset keeps edge-triggered: IRQ 0, 1, 2 and 8, 13. */
#define ELCR_MASTER_MASK 0xF8
#define ELCR_SLAVE_MASK 0xDE

static uint8_t bit(unsigned ir)
{
	return (uint8_t)(1u << ir);
}

/* 0 for the highest priority level, 7 for the lowest. */
static unsigned rank(unsigned ir, unsigned lowest)
{
	return (ir - lowest - 1) & IR_MASK;
}

static int highest(uint8_t bits, unsigned lowest)
{
	for (unsigned r = 0; r < IRS; r++) {
		unsigned ir = (lowest + 1 + r) & IR_MASK;

		if (bits & bit(ir))
			return (int)ir;
	}
	return NO_IR;
}

/* ---- requests and priority ---- */

static uint8_t chip_irr(const struct pic *p, unsigned id)
{
	const struct pic_chip *c = &p->chip[id];
	uint8_t level = c->ltim ? ALL_IRS : c->elcr;
	uint8_t irr = (uint8_t)((c->latch & ~level) | (c->lines & level));

	/* The cascade input also requests while the slave's INT is high. */
	if (id == PIC_MASTER)
		irr |= c->lines & bit(PIC_CASCADE_IRQ);
	return irr;
}

static bool has_slave(const struct pic_chip *m, unsigned ir)
{
	return !m->single && (m->icw3 & bit(ir));
}

/* The level this chip would have acknowledged now, or NO_IR. */
static int chip_request(const struct pic *p, unsigned id)
{
	const struct pic_chip *c = &p->chip[id];
	int ir = highest(chip_irr(p, id) & ~c->imr, c->lowest);
	uint8_t isr = c->isr;
	int top;

	if (ir == NO_IR || c->special_mask)
		return ir;
	if (id == PIC_MASTER && c->sfnm && has_slave(c, (unsigned)ir))
		isr &= ~bit((unsigned)ir); /* its slave resolves its own nesting */
	top = highest(isr, c->lowest);
	if (top != NO_IR && rank((unsigned)top, c->lowest) <= rank((unsigned)ir, c->lowest))
		return NO_IR;
	return ir;
}

static void set_line(struct pic_chip *c, unsigned ir, bool level)
{
	if (level && !(c->lines & bit(ir)))
		c->latch |= bit(ir);
	c->lines = (uint8_t)(level ? c->lines | bit(ir) : c->lines & ~bit(ir));
}

static void cascade_sync(struct pic *p)
{
	bool slave_int = chip_request(p, PIC_SLAVE) != NO_IR;

	set_line(&p->chip[PIC_MASTER], PIC_CASCADE_IRQ, slave_int);
}

/* Called after every change: propagates the slave's INT, then reports the
 * master's INT if it moved. */
static void sync(struct pic *p)
{
	bool out;

	cascade_sync(p);
	out = chip_request(p, PIC_MASTER) != NO_IR;
	if (out == p->int_out)
		return;
	p->int_out = out;
	if (p->int_changed)
		p->int_changed(p->ctx, out);
}

/* ---- acknowledge ---- */

/* First INTA pulse: the request goes in service. */
static void ack_first(struct pic_chip *c, unsigned ir)
{
	c->isr |= bit(ir);
	c->latch &= (uint8_t)~bit(ir);
}

/* End of the second pulse: auto-EOI, with its optional rotation. */
static void ack_second(struct pic_chip *c, unsigned ir)
{
	if (!c->aeoi)
		return;
	c->isr &= (uint8_t)~bit(ir);
	if (c->rotate_aeoi)
		c->lowest = (uint8_t)ir;
}

/* The slave's part of an INTA the master acknowledged at level mir. */
static uint8_t slave_cycle(struct pic *p, unsigned mir)
{
	struct pic_chip *s = &p->chip[PIC_SLAVE];
	int ir;

	if ((s->icw3 & SLAVE_ID_MASK) != mir)
		return BUS_FLOAT;
	ir = chip_request(p, PIC_SLAVE);
	if (ir == NO_IR)
		return (uint8_t)(s->base | SPURIOUS_IR);
	/* The slave's INT may fall here and rise again at its auto-EOI: each
	 * step is seen by the master's IR2, as on the wire. */
	ack_first(s, (unsigned)ir);
	cascade_sync(p);
	ack_second(s, (unsigned)ir);
	cascade_sync(p);
	return (uint8_t)(s->base | (unsigned)ir);
}

uint8_t pic_intack(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER];
	int ir = chip_request(p, PIC_MASTER);
	uint8_t vec;

	if (ir == NO_IR)
		return (uint8_t)(m->base | SPURIOUS_IR); /* nothing goes in service */
	ack_first(m, (unsigned)ir);
	if (has_slave(m, (unsigned)ir))
		vec = slave_cycle(p, (unsigned)ir);
	else
		vec = (uint8_t)(m->base | (unsigned)ir);
	ack_second(m, (unsigned)ir);
	sync(p);
	return vec;
}

/* A read after an OCW3 poll command: an acknowledge of this chip alone. */
static uint8_t poll_read(struct pic *p, unsigned id)
{
	struct pic_chip *c = &p->chip[id];
	int ir = chip_request(p, id);

	c->poll = false;
	if (ir == NO_IR)
		return POLL_NONE;
	ack_first(c, (unsigned)ir);
	ack_second(c, (unsigned)ir);
	return (uint8_t)(POLL_PENDING | (unsigned)ir);
}

/* ---- initialization and operation commands ---- */

static void icw1(struct pic_chip *c, uint8_t v)
{
	c->icw4_wanted = v & ICW1_IC4;
	c->single = v & ICW1_SNGL;
	c->ltim = v & ICW1_LTIM;
	c->latch = 0; /* edge sense reset: a line already high must fall and rise */
	c->isr = 0;
	c->imr = 0;
	c->lowest = LOWEST_AT_RESET;
	c->icw4 = 0;
	c->aeoi = false;
	c->sfnm = false;
	c->rotate_aeoi = false;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->init_step = PIC_WANT_ICW2;
}

static void eoi_nonspecific(struct pic_chip *c, bool rotate)
{
	/* In special mask mode, masked in-service levels are not cleared. */
	uint8_t isr = c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;
	int ir = highest(isr, c->lowest);

	if (ir == NO_IR)
		return;
	c->isr &= (uint8_t)~bit((unsigned)ir);
	if (rotate)
		c->lowest = (uint8_t)ir;
}

static void ocw2(struct pic_chip *c, uint8_t v)
{
	unsigned level = v & OCW2_LEVEL;

	switch (v & OCW2_CMD_MASK) {
	case OCW2_NS_EOI:
		eoi_nonspecific(c, false);
		break;
	case OCW2_ROT_NS_EOI:
		eoi_nonspecific(c, true);
		break;
	case OCW2_SPEC_EOI:
		c->isr &= (uint8_t)~bit(level);
		break;
	case OCW2_ROT_SPEC_EOI:
		c->isr &= (uint8_t)~bit(level);
		c->lowest = (uint8_t)level;
		break;
	case OCW2_SET_PRIO:
		c->lowest = (uint8_t)level;
		break;
	case OCW2_ROT_AEOI_SET:
		c->rotate_aeoi = true;
		break;
	case OCW2_ROT_AEOI_CLEAR:
		c->rotate_aeoi = false;
		break;
	default: /* OCW2_NOP */
		break;
	}
}

static void ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	if (v & OCW3_POLL)
		c->poll = true;
}

static void write_cmd(struct pic_chip *c, uint8_t v)
{
	if (v & CMD_ICW1)
		icw1(c, v);
	else if (v & CMD_OCW3)
		ocw3(c, v);
	else
		ocw2(c, v);
}

static void write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case PIC_WANT_ICW2:
		c->base = v & VECTOR_BASE;
		if (!c->single)
			c->init_step = PIC_WANT_ICW3;
		else
			c->init_step = c->icw4_wanted ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW3:
		c->icw3 = v;
		c->init_step = c->icw4_wanted ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW4:
		c->icw4 = v;
		c->aeoi = v & ICW4_AEOI;
		c->sfnm = v & ICW4_SFNM;
		c->init_step = PIC_READY;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

/* ---- interface ---- */

void pic_init(struct pic *p, pic_int_fn int_changed, void *ctx)
{
	for (unsigned id = 0; id < PIC_CHIPS; id++) {
		struct pic_chip *c = &p->chip[id];

		*c = (struct pic_chip){0};
		c->imr = ALL_IRS; /* all masked until the guest programs it */
		c->lowest = LOWEST_AT_RESET;
		c->init_step = PIC_READY;
	}
	p->int_out = false;
	p->int_changed = int_changed;
	p->ctx = ctx;
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	if (irq >= PIC_IRQS || irq == PIC_CASCADE_IRQ)
		return;
	set_line(&p->chip[irq / IRS], irq % IRS, level);
	sync(p);
}

bool pic_int_output(const struct pic *p)
{
	return p->int_out;
}

/* ---- ports ---- */

static uint8_t port_read(struct pic *p, unsigned id, uint64_t off)
{
	struct pic_chip *c = &p->chip[id];
	uint8_t v;

	if (c->poll) {
		v = poll_read(p, id);
		sync(p);
		return v;
	}
	if (off == PORT_DATA)
		return c->imr;
	return c->read_isr ? c->isr : chip_irr(p, id);
}

static status_t chip_read(struct pic *p, unsigned id, uint64_t off, uint8_t size, uint64_t *val)
{
	*val = size == 1 ? port_read(p, id, off) : ALL_ONES;
	return ST_OK;
}

static status_t chip_write(struct pic *p, unsigned id, uint64_t off, uint8_t size, uint64_t val)
{
	if (size != 1)
		return ST_OK;
	if (off == PORT_CMD)
		write_cmd(&p->chip[id], (uint8_t)val);
	else
		write_data(&p->chip[id], (uint8_t)val);
	sync(p);
	return ST_OK;
}

static status_t master_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	return chip_read(dev, PIC_MASTER, off, size, val);
}

static status_t master_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	return chip_write(dev, PIC_MASTER, off, size, val);
}

static status_t slave_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	return chip_read(dev, PIC_SLAVE, off, size, val);
}

static status_t slave_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	return chip_write(dev, PIC_SLAVE, off, size, val);
}

const struct bus_ops pic_master_ops = {.read = master_read, .write = master_write};
const struct bus_ops pic_slave_ops = {.read = slave_read, .write = slave_write};

/* ---- ELCR: one byte per chip; a 16-bit access at 0x4D0 covers both ---- */

static const uint8_t elcr_mask[PIC_CHIPS] = {ELCR_MASTER_MASK, ELCR_SLAVE_MASK};

static bool elcr_access_ok(uint64_t off, uint8_t size)
{
	return size <= PIC_ELCR_LEN - off;
}

static status_t elcr_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct pic *p = dev;

	if (!elcr_access_ok(off, size)) {
		*val = ALL_ONES;
		return ST_OK;
	}
	*val = 0;
	for (uint8_t i = 0; i < size; i++)
		*val |= (uint64_t)p->chip[off + i].elcr << (BITS_PER_BYTE * i);
	return ST_OK;
}

static status_t elcr_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pic *p = dev;

	if (!elcr_access_ok(off, size))
		return ST_OK;
	for (uint8_t i = 0; i < size; i++) {
		unsigned id = (unsigned)off + i;

		p->chip[id].elcr = (uint8_t)(val >> (BITS_PER_BYTE * i)) & elcr_mask[id];
	}
	sync(p);
	return ST_OK;
}

const struct bus_ops pic_elcr_ops = {.read = elcr_read, .write = elcr_write};
