/* Intel 8254 PIT and port 0x61 (see pit.h). */
#include "vdev/pit.h"
#include "keel/kstring.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define CTRL_OFFSET 3

/* Control word (port 0x43). */
#define CW_SC_SHIFT 6
#define CW_SC_READBACK 3
#define CW_RW_SHIFT 4
#define CW_RW_MASK 3u
#define CW_MODE_SHIFT 1
#define CW_MODE_MASK 7u
#define CW_BCD 0x01u
#define RW_LATCH 0
#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD 3
#define MODE_ALIAS_MASK 3u /* modes 6 and 7 are 2 and 3 */
#define MODE_LAST 5u

/* Counter modes (datasheet names). */
#define MODE_TERMINAL 0 /* interrupt on terminal count */
#define MODE_ONE_SHOT 1 /* hardware retriggerable one-shot */
#define MODE_RATE 2	/* rate generator */
#define MODE_SQUARE 3	/* square wave */
#define MODE_SW_STROBE 4
#define MODE_HW_STROBE 5

/* Read-back command: bits 5 and 4 are active low. */
#define RB_NO_COUNT 0x20u
#define RB_NO_STATUS 0x10u
#define RB_CHANNEL0 0x02u

/* Status byte. */
#define SB_OUT 0x80u
#define SB_NULL_COUNT 0x40u

#define BIN_MODULUS 65536u
#define BCD_MODULUS 10000u
#define MIN_PERIODIC_COUNT 2u
#define BYTE_SHIFT 8
#define BYTE_MASK 0xFFu
#define NIBBLE_BITS 4
#define NIBBLE_MASK 0xFu
#define BCD_DIGITS 4
#define DECIMAL 10u

/* Port 0x61. */
#define P61_GATE2 0x01u
#define P61_WRITABLE 0x0Fu /* gate, speaker, check enables */
#define P61_REFRESH 0x10u
#define P61_OUT2 0x20u
#define REFRESH_DIVISOR 18u /* channel 1's BIOS count: one refresh per ~15 us */

#define CH0 0
#define CH2 2

struct pit_obs {
	uint16_t ce; /* as the guest reads it (BCD-encoded in BCD mode) */
	bool out;
};

/* ---- counting arithmetic ---- */

static uint32_t modulus(const struct pit_channel *c)
{
	return c->bcd ? BCD_MODULUS : BIN_MODULUS;
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == MODE_RATE || c->mode == MODE_SQUARE;
}

/* Modes 0 and 4 start when the count is written, the others need GATE. */
static bool software_started(const struct pit_channel *c)
{
	return c->mode == MODE_TERMINAL || c->mode == MODE_SW_STROBE;
}

static uint32_t bcd_decode(uint16_t v)
{
	uint32_t n = 0;

	for (int i = BCD_DIGITS - 1; i >= 0; i--)
		n = n * DECIMAL + ((v >> (i * NIBBLE_BITS)) & NIBBLE_MASK);
	return n;
}

static uint16_t bcd_encode(uint32_t n)
{
	uint16_t v = 0;

	for (int i = 0; i < BCD_DIGITS; i++, n /= DECIMAL)
		v |= (uint16_t)((n % DECIMAL) << (i * NIBBLE_BITS));
	return v;
}

/* The count register as a count of input clocks. */
static uint32_t count_of(const struct pit_channel *c)
{
	uint32_t n = c->bcd ? bcd_decode(c->cr) : c->cr;

	if (n == 0)
		n = modulus(c);
	if (periodic(c) && n < MIN_PERIODIC_COUNT)
		n = MIN_PERIODIC_COUNT;
	return n;
}

static uint16_t encode(const struct pit_channel *c, uint32_t v)
{
	v %= modulus(c);
	return c->bcd ? bcd_encode(v) : (uint16_t)v;
}

/* Mode 3 after d clocks of counting: decrements by two, OUT high for the
 * first (n+1)/2 clocks of each period; odd counts load n-1. */
static struct pit_obs square_wave(uint64_t n, uint64_t d)
{
	uint64_t phase = d % n, high = (n + 1) / 2;
	bool out = phase < high;
	uint64_t step = out ? phase : phase - high;

	return (struct pit_obs){.ce = (uint16_t)((n & ~1ull) - 2 * step), .out = out};
}

/* Counter and OUT d clocks after the load pulse of count n. */
static struct pit_obs count_state(const struct pit_channel *c, uint64_t d)
{
	uint64_t n = c->n, m = modulus(c);
	uint64_t down = (n + m - d % m) % m; /* n - d, wrapping like the counter */
	struct pit_obs o;

	switch (c->mode) {
	case MODE_TERMINAL:
	case MODE_ONE_SHOT:
		o = (struct pit_obs){.ce = (uint16_t)down, .out = d >= n};
		break;
	case MODE_RATE:
		o = (struct pit_obs){.ce = (uint16_t)(n - d % n), .out = d % n != n - 1};
		break;
	case MODE_SQUARE:
		o = square_wave(n, d);
		break;
	default: /* strobes: one clock low at count 0 */
		o = (struct pit_obs){.ce = (uint16_t)down, .out = d != n};
		break;
	}
	o.ce = encode(c, o.ce);
	return o;
}

/* Rising OUT edges in segment clocks 1..clk. */
static uint64_t edges_upto(const struct pit_channel *c, uint64_t clk)
{
	switch (c->mode) {
	case MODE_TERMINAL:
	case MODE_ONE_SHOT:
		return clk >= (uint64_t)c->n + 1;
	case MODE_RATE:
	case MODE_SQUARE:
		return clk >= 1 ? (clk - 1) / c->n : 0;
	default:
		return clk >= (uint64_t)c->n + 2;
	}
}

/* Segment clock of rising edge number k (k >= 1), or 0 if there is none. */
static uint64_t edge_clock(const struct pit_channel *c, uint64_t k)
{
	switch (c->mode) {
	case MODE_TERMINAL:
	case MODE_ONE_SHOT:
		return k == 1 ? (uint64_t)c->n + 1 : 0;
	case MODE_RATE:
	case MODE_SQUARE:
		return 1 + k * c->n;
	default:
		return k == 1 ? (uint64_t)c->n + 2 : 0;
	}
}

/* ---- segment clock ---- */

static uint64_t total_clocks(const struct pit *p, const struct pit_channel *c, uint64_t now)
{
	if (!c->counting)
		return c->base;
	uint64_t dt = now > c->origin ? now - c->origin : 0;

	return c->base + vdev_tsc_to_ticks(p->clock, dt, PIT_HZ);
}

static uint64_t seg_clocks(const struct pit *p, const struct pit_channel *c, uint64_t now)
{
	return total_clocks(p, c, now) - c->seg_off;
}

static bool gate_stops(const struct pit_channel *c)
{
	return c->mode != MODE_ONE_SHOT && c->mode != MODE_HW_STROBE;
}

static struct pit_obs observe(const struct pit *p, const struct pit_channel *c, uint64_t now)
{
	struct pit_obs o = {.ce = c->ce_hold, .out = c->out_hold};

	if (c->armed) {
		uint64_t clk = seg_clocks(p, c, now);

		/* Before the load pulse the counter already reads the new
		 * count: a guest that reads right after writing sees it. */
		o = clk > 0 ? count_state(c, clk - 1)
			    : (struct pit_obs){.ce = encode(c, c->n), .out = c->out_hold};
	}
	if (periodic(c) && !c->gate)
		o.out = true;
	return o;
}

/* Applies a pending mode 2/3 reload and accounts rising OUT edges up to
 * now; returns how many edges are new. */
static uint64_t sync(const struct pit *p, struct pit_channel *c, uint64_t now)
{
	uint64_t fresh_edges = 0;

	if (!c->armed)
		return 0;
	uint64_t clk = seg_clocks(p, c, now);

	if (c->pending && clk >= c->pending_at) {
		/* The reload pulse is the old count's last edge, and clock 1 of
		 * the new count. */
		fresh_edges = edges_upto(c, c->pending_at) - c->edges_seen;
		c->seg_off += c->pending_at - 1;
		c->n = c->pending_n;
		c->pending = false;
		c->fresh = true;
		c->edges_seen = 0;
		clk = seg_clocks(p, c, now);
	}
	if (c->fresh && clk >= 1)
		c->null_count = false;
	uint64_t e = edges_upto(c, clk);

	fresh_edges += e - c->edges_seen;
	c->edges_seen = e;
	return fresh_edges;
}

static void sync_channel(struct pit *p, unsigned i, uint64_t now)
{
	uint64_t e = sync(p, &p->ch[i], now);

	if (i != CH0 || e == 0)
		return;
	if (p->owed == 0)
		p->owed_since = now;
	p->owed += e;
	p->irq_edges += e;
}

/* A count starts: loaded on the next clock that reaches the counter. */
static void start_segment(struct pit *p, struct pit_channel *c, uint64_t now)
{
	struct pit_obs o = observe(p, c, now);

	/* OUT until the load pulse: mode 0 drives it low at once, modes 2
	 * and 3 start high (GATE low had forced it high, or a control word
	 * set it), and the others keep the level they have. */
	if (c->mode == MODE_TERMINAL)
		c->out_hold = false;
	else
		c->out_hold = periodic(c) ? true : o.out;
	c->armed = true;
	c->fresh = true;
	c->pending = false;
	c->n = count_of(c);
	c->origin = now;
	c->base = 0;
	c->seg_off = 0;
	c->counting = c->gate || !gate_stops(c);
	c->edges_seen = 0;
}

/* Mode 0 between the two bytes of a count: stopped, OUT low. */
static void stop_counting(struct pit *p, struct pit_channel *c, uint64_t now)
{
	c->ce_hold = observe(p, c, now).ce;
	c->out_hold = false;
	c->armed = false;
	c->pending = false;
}

/* ---- GATE ---- */

static void gate_fall(struct pit *p, struct pit_channel *c, uint64_t now)
{
	if (!gate_stops(c) || !c->counting)
		return;
	c->base = total_clocks(p, c, now);
	c->counting = false;
}

static void gate_rise(struct pit *p, struct pit_channel *c, uint64_t now)
{
	if (software_started(c)) {
		c->origin = now; /* resume */
		c->counting = c->armed;
	} else if (c->has_count) {
		start_segment(p, c, now); /* trigger: reload */
	}
}

static void set_gate(struct pit *p, unsigned i, bool level, uint64_t now)
{
	struct pit_channel *c = &p->ch[i];

	if (level == c->gate)
		return;
	sync_channel(p, i, now);
	c->gate = level;
	if (level)
		gate_rise(p, c, now);
	else
		gate_fall(p, c, now);
}

/* ---- count register writes ---- */

/* Modes 2 and 3: a new count waits for the end of the running period. */
static void reload_periodic(struct pit *p, struct pit_channel *c, uint64_t now)
{
	uint64_t clk = c->armed ? seg_clocks(p, c, now) : 0;

	if (!c->armed) {
		start_segment(p, c, now);
	} else if (!c->counting) {
		c->fresh = false; /* loaded when GATE rises */
	} else if (clk == 0) {
		c->n = count_of(c); /* the load pulse has not come yet */
		c->fresh = true;
	} else {
		c->pending = true;
		c->pending_n = count_of(c);
		c->pending_at = 1 + ((clk - 1) / c->n + 1) * c->n;
		c->fresh = false;
	}
}

static void commit_count(struct pit *p, struct pit_channel *c, uint64_t now)
{
	c->has_count = true;
	c->null_count = true;
	if (software_started(c))
		start_segment(p, c, now);
	else if (periodic(c))
		reload_periodic(p, c, now);
	else
		c->fresh = false; /* modes 1, 5: loaded at the next trigger */
}

static void write_count(struct pit *p, struct pit_channel *c, uint8_t v, uint64_t now)
{
	switch (c->access) {
	case RW_LSB:
		c->cr = v;
		break;
	case RW_MSB:
		c->cr = (uint16_t)(v << BYTE_SHIFT);
		break;
	default:
		if (!c->write_msb) {
			c->cr = (uint16_t)((c->cr & ~BYTE_MASK) | v);
			c->write_msb = true;
			if (c->mode == MODE_TERMINAL)
				stop_counting(p, c, now);
			return;
		}
		c->cr = (uint16_t)((c->cr & BYTE_MASK) | (v << BYTE_SHIFT));
		c->write_msb = false;
		break;
	}
	commit_count(p, c, now);
}

/* ---- reads ---- */

/* One byte of a 16-bit value, per the access mode and read flip-flop;
 * returns true when the value has been read whole. */
static bool byte_of(struct pit_channel *c, uint16_t v, uint8_t *out)
{
	bool msb = c->access == RW_MSB || (c->access == RW_WORD && c->read_msb);

	*out = (uint8_t)(msb ? v >> BYTE_SHIFT : v);
	if (c->access != RW_WORD)
		return true;
	c->read_msb = !c->read_msb;
	return !c->read_msb;
}

static uint8_t read_channel(struct pit *p, unsigned i, uint64_t now)
{
	struct pit_channel *c = &p->ch[i];
	uint8_t v;

	sync_channel(p, i, now);
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		if (byte_of(c, c->latch, &v))
			c->count_latched = false;
		return v;
	}
	(void)byte_of(c, observe(p, c, now).ce, &v);
	return v;
}

/* ---- control port ---- */

static void latch_count(struct pit *p, unsigned i, uint64_t now)
{
	struct pit_channel *c = &p->ch[i];

	if (c->count_latched)
		return; /* a second latch before the read is ignored */
	sync_channel(p, i, now);
	c->latch = observe(p, c, now).ce;
	c->count_latched = true;
}

static void latch_status(struct pit *p, unsigned i, uint64_t now)
{
	struct pit_channel *c = &p->ch[i];

	if (c->status_latched)
		return;
	sync_channel(p, i, now);
	c->status = (uint8_t)((observe(p, c, now).out ? SB_OUT : 0) |
			      (c->null_count ? SB_NULL_COUNT : 0) | (c->access << CW_RW_SHIFT) |
			      (c->mode_bits << CW_MODE_SHIFT) | (c->bcd ? CW_BCD : 0));
	c->status_latched = true;
}

static void read_back(struct pit *p, uint8_t cw, uint64_t now)
{
	for (unsigned i = 0; i < PIT_CHANNELS; i++) {
		if (!(cw & (RB_CHANNEL0 << i)))
			continue;
		/* Status first: it must describe the channel before the
		 * count latch, which changes nothing it reports anyway. */
		if (!(cw & RB_NO_STATUS))
			latch_status(p, i, now);
		if (!(cw & RB_NO_COUNT))
			latch_count(p, i, now);
	}
}

/* A control word resets the channel's control logic: the count stops until
 * a new one is written, and OUT takes the mode's initial level. */
static void program(struct pit *p, unsigned i, uint8_t cw, uint64_t now)
{
	struct pit_channel *c = &p->ch[i];
	uint8_t bits = (cw >> CW_MODE_SHIFT) & CW_MODE_MASK;

	sync_channel(p, i, now);
	c->ce_hold = observe(p, c, now).ce;
	c->mode_bits = bits;
	c->mode = bits > MODE_LAST ? (bits & MODE_ALIAS_MASK) : bits;
	c->access = (cw >> CW_RW_SHIFT) & CW_RW_MASK;
	c->bcd = cw & CW_BCD;
	c->write_msb = c->read_msb = false;
	c->count_latched = c->status_latched = false;
	c->has_count = c->armed = c->pending = false;
	c->null_count = true;
	c->out_hold = c->mode != MODE_TERMINAL;
}

static void write_control(struct pit *p, uint8_t cw, uint64_t now)
{
	unsigned sc = cw >> CW_SC_SHIFT;

	if (sc == CW_SC_READBACK)
		read_back(p, cw, now);
	else if (((cw >> CW_RW_SHIFT) & CW_RW_MASK) == RW_LATCH)
		latch_count(p, sc, now);
	else
		program(p, sc, cw, now);
}

/* ---- bus ops ---- */

static status_t pit_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct pit *p = dev;

	if (off >= PIT_PORT_LEN || size > PIT_PORT_LEN - off)
		return ST_ERANGE;
	if (size != 1 || off == CTRL_OFFSET)
		*val = ALL_ONES;
	else
		*val = read_channel(p, (unsigned)off, vdev_now(p->clock));
	return ST_OK;
}

static status_t pit_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pit *p = dev;
	uint64_t now;

	if (off >= PIT_PORT_LEN || size > PIT_PORT_LEN - off)
		return ST_ERANGE;
	if (size != 1)
		return ST_OK;
	now = vdev_now(p->clock);
	if (off == CTRL_OFFSET) {
		write_control(p, (uint8_t)val, now);
	} else {
		sync_channel(p, (unsigned)off, now);
		write_count(p, &p->ch[off], (uint8_t)val, now);
	}
	return ST_OK;
}

const struct bus_ops pit_ops = {.read = pit_read, .write = pit_write};

static status_t port61_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct pit *p = dev;

	if (off >= PIT_PORT61_LEN || size > PIT_PORT61_LEN - off)
		return ST_ERANGE;
	if (size != 1) {
		*val = ALL_ONES;
		return ST_OK;
	}
	uint64_t now = vdev_now(p->clock);
	uint64_t since = now > p->start_tsc ? now - p->start_tsc : 0;
	uint64_t pulses = vdev_tsc_to_ticks(p->clock, since, PIT_HZ);

	sync_channel(p, CH2, now);
	*val = p->port61 | ((pulses / REFRESH_DIVISOR) & 1 ? P61_REFRESH : 0) |
	       (observe(p, &p->ch[CH2], now).out ? P61_OUT2 : 0);
	return ST_OK;
}

static status_t port61_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pit *p = dev;

	if (off >= PIT_PORT61_LEN || size > PIT_PORT61_LEN - off)
		return ST_ERANGE;
	if (size != 1)
		return ST_OK;
	p->port61 = (uint8_t)(val & P61_WRITABLE);
	set_gate(p, CH2, val & P61_GATE2, vdev_now(p->clock));
	return ST_OK;
}

const struct bus_ops pit_port61_ops = {.read = port61_read, .write = port61_write};

/* ---- core interface ---- */

void pit_init(struct pit *p, const struct vdev_clock *clock, vdev_irq_fn irq, void *irq_ctx)
{
	static const uint8_t reset_cw = (RW_WORD << CW_RW_SHIFT) | (MODE_SQUARE << CW_MODE_SHIFT);
	uint64_t now = vdev_now(clock);

	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->irq = irq;
	p->irq_ctx = irq_ctx;
	p->start_tsc = now;
	for (unsigned i = 0; i < PIT_CHANNELS; i++) {
		p->ch[i].gate = i != CH2; /* port 0x61 reads 0 after init */
		program(p, i, reset_cw, now);
	}
}

uint64_t pit_irq_due(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[CH0];

	if (p->owed)
		return p->owed_since;
	if (!c->armed || !c->counting)
		return VDEV_NEVER;
	/* A pending reload comes at an edge of the old count, so the next edge
	 * is always the old count's. */
	uint64_t clk = edge_clock(c, c->edges_seen + 1);

	if (clk == 0)
		return VDEV_NEVER;
	uint64_t total = clk + c->seg_off;

	if (total <= c->base)
		return c->origin; /* cannot happen while counting; be safe */
	return c->origin + vdev_ticks_to_tsc(p->clock, total - c->base, PIT_HZ);
}

void pit_update(struct pit *p)
{
	sync_channel(p, CH0, vdev_now(p->clock));
	if (p->owed == 0)
		return;
	p->irq_raised++;
	p->irq_coalesced += p->owed - 1;
	p->owed = 0;
	if (p->irq) {
		p->irq(p->irq_ctx, PIT_IRQ_LINE, true);
		p->irq(p->irq_ctx, PIT_IRQ_LINE, false);
	}
}
