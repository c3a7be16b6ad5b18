/* MC146818A RTC, CMOS RAM and POST code port (see rtc.h). */
#include "vdev/rtc.h"
#include "keel/kstring.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define PORT_INDEX 0 /* then the data port */
#define INDEX_MASK 0x7Fu
#define NMI_MASK_BIT 0x80u

/* Clock registers. */
#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_DOW 0x06
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0A
#define REG_B 0x0B
#define REG_C 0x0C
#define REG_D 0x0D

#define A_UIP 0x80u
#define A_WRITABLE 0x7Fu
#define A_DV_SHIFT 4
#define A_DV_MASK 7u
#define A_DV_RESET 6u /* 110 and 111 hold the divider in reset */
#define A_RS_MASK 0x0Fu
#define A_INIT 0x26u /* DV 010 (32.768 kHz), RS 0110 (1024 Hz) */

#define B_SET 0x80u
#define B_PIE 0x40u
#define B_AIE 0x20u
#define B_UIE 0x10u
#define B_DM_BINARY 0x04u
#define B_24H 0x02u
#define B_INIT B_24H

/* Register C. Its flag bits sit where register B keeps their enables. */
#define C_IRQF 0x80u
#define C_PF 0x40u
#define C_AF 0x20u
#define C_UF 0x10u
#define C_FLAGS (C_PF | C_AF | C_UF)
_Static_assert(C_PF == B_PIE && C_AF == B_AIE && C_UF == B_UIE, "irqf() masks flags with enables");
#define D_VRT 0x80u

#define HOUR_PM 0x80u
#define ALARM_DONT_CARE 0xC0u
#define ALARM_ANY 0xFFFFFFFFu

#define UIP_USEC 244u
#define USEC_PER_SEC 1000000u
#define DIVIDER_HZ 32768u
#define SLOW_RATE_HZ 256u /* RS 1 and 2: 256 and 128 Hz */
#define SLOW_RATE_LAST 2u

#define SECS_PER_MIN 60u
#define MINS_PER_HOUR 60u
#define HOURS_PER_DAY 24u
#define MINS_PER_DAY (MINS_PER_HOUR * HOURS_PER_DAY)
#define SECS_PER_HOUR (SECS_PER_MIN * MINS_PER_HOUR)
#define SECS_PER_DAY (SECS_PER_HOUR * HOURS_PER_DAY)
#define DAYS_PER_WEEK 7
#define EPOCH_WEEKDAY 4 /* 1970-01-01 was a Thursday (0 = Sunday) */
#define EPOCH_YEAR 1970
#define MONTHS 12u
#define FEBRUARY 2u
#define DAYS_PER_YEAR 365
#define YEARS_PER_CYCLE 400   /* the Gregorian calendar repeats ... */
#define DAYS_PER_CYCLE 146097 /* ... every 400 years of this many days */
#define CENTURY_YEARS 100
#define MAX_TWO_DIGITS 99u
#define DECIMAL 10u
#define NIBBLE_BITS 4
#define NIBBLE_MASK 0xFu

/* CMOS RAM layout (IBM AT and its descendants). */
#define CMOS_BASE_MEM 0x15
#define CMOS_EXT_MEM 0x17
#define CMOS_CHECKSUM_FIRST 0x10
#define CMOS_CHECKSUM_LAST 0x2D
#define CMOS_CHECKSUM 0x2E /* high byte first */
#define CMOS_EXT_MEM_POST 0x30
#define CMOS_MEM_ABOVE_16M 0x34
#define CMOS_MEM_ABOVE_4G 0x5B
#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define BASE_MEM_KIB 640u
#define EXT_MEM_START MIB
#define EXT_MEM_MAX_KIB 0xFFFFu
#define HIGH_MEM_START (16 * MIB)
#define FOUR_GIB (4 * GIB)
#define MEM_UNIT (64 * KIB)
#define MEM_ABOVE_4G_MAX 0xFFFFFFu /* three bytes */
#define BYTE_SHIFT 8
#define BYTE_MASK 0xFFu

#define POSTCODE_IDLE 0xFFu

struct rtc_tm {
	int64_t year;
	unsigned mon, mday, hour, min, sec, wday; /* wday: 0 = Sunday */
};

struct alarm {
	unsigned sec, min, hour; /* or ALARM_ANY */
};

/* ---- calendar (proleptic Gregorian, UTC) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const uint8_t days[MONTHS] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return days[m - 1] + (m == FEBRUARY && leap(y));
}

/* Leap years in 1..y (fewer than 0 for y < 0, consistently). */
static int64_t leaps_through(int64_t y)
{
	return floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400);
}

/* Days from 1970-01-01 to January 1st of year y. */
static int64_t days_before_year(int64_t y)
{
	return (y - EPOCH_YEAR) * DAYS_PER_YEAR + leaps_through(y - 1) -
	       leaps_through(EPOCH_YEAR - 1);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t days = days_before_year(y) + d - 1;

	for (unsigned i = 1; i < m; i++)
		days += days_in_month(y, i);
	return days;
}

static struct rtc_tm tm_from_secs(int64_t secs)
{
	int64_t days = floor_div(secs, SECS_PER_DAY), sod = secs - days * SECS_PER_DAY;
	/* The average year is DAYS_PER_CYCLE / YEARS_PER_CYCLE days: the
	 * estimate is off by at most one either way. */
	int64_t y = EPOCH_YEAR + floor_div(days * YEARS_PER_CYCLE, DAYS_PER_CYCLE);
	struct rtc_tm tm;

	while (days_before_year(y) > days)
		y--;
	while (days_before_year(y + 1) <= days)
		y++;
	int64_t doy = days - days_before_year(y);

	tm.year = y;
	for (tm.mon = 1; doy >= days_in_month(y, tm.mon); tm.mon++)
		doy -= days_in_month(y, tm.mon);
	tm.mday = (unsigned)doy + 1;
	tm.hour = (unsigned)(sod / SECS_PER_HOUR);
	tm.min = (unsigned)(sod / SECS_PER_MIN % MINS_PER_HOUR);
	tm.sec = (unsigned)(sod % SECS_PER_MIN);
	tm.wday = (unsigned)floor_mod(days + EPOCH_WEEKDAY, DAYS_PER_WEEK);
	return tm;
}

/* ---- register encoding (DM and 24/12 of register B) ---- */

static bool binary(const struct rtc *r)
{
	return r->cmos[REG_B] & B_DM_BINARY;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	v %= MAX_TWO_DIGITS + 1;
	return (uint8_t)(binary(r) ? v : ((v / DECIMAL) << NIBBLE_BITS) | (v % DECIMAL));
}

/* A BCD digit above 9 counts with its binary value. */
static unsigned dec(const struct rtc *r, uint8_t b)
{
	return binary(r) ? b : (b >> NIBBLE_BITS) * DECIMAL + (b & NIBBLE_MASK);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return enc(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;

	return enc(r, h12) | (h >= 12 ? HOUR_PM : 0);
}

static unsigned dec_hour(const struct rtc *r, uint8_t b)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, b);
	unsigned h = dec(r, b & ~HOUR_PM);

	if (h == 12)
		h = 0;
	return (b & HOUR_PM) ? h + 12 : h;
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the clock ---- */

static bool is_time_reg(unsigned i)
{
	return i == REG_SEC || i == REG_MIN || i == REG_HOUR || i == REG_DOW || i == REG_DAY ||
	       i == REG_MONTH || i == REG_YEAR || i == RTC_CENTURY;
}

static bool divider_running(const struct rtc *r)
{
	return ((r->cmos[REG_A] >> A_DV_SHIFT) & A_DV_MASK) < A_DV_RESET;
}

static bool should_run(const struct rtc *r)
{
	return divider_running(r) && !(r->cmos[REG_B] & B_SET);
}

/* Divider position at guest TSC tsc: TSC ticks since the second in
 * progress at origin began. */
static uint64_t position(const struct rtc *r, uint64_t tsc)
{
	return (tsc > r->origin ? tsc - r->origin : 0) + r->skew;
}

static int64_t secs_at(const struct rtc *r, uint64_t pos)
{
	return r->origin_secs + (int64_t)(pos / r->clock->hz);
}

/* Writes the time registers as the update cycle would have left them. */
static void materialize(struct rtc *r, int64_t secs)
{
	struct rtc_tm tm = tm_from_secs(secs);
	uint8_t *c = r->cmos;

	c[REG_SEC] = enc(r, tm.sec);
	c[REG_MIN] = enc(r, tm.min);
	c[REG_HOUR] = enc_hour(r, tm.hour);
	c[REG_DOW] = enc(r, (tm.wday + r->dow_offset) % DAYS_PER_WEEK + 1);
	c[REG_DAY] = enc(r, tm.mday);
	c[REG_MONTH] = enc(r, tm.mon);
	c[REG_YEAR] = enc(r, (unsigned)floor_mod(tm.year, CENTURY_YEARS));
	c[RTC_CENTURY] =
	    enc(r, (unsigned)floor_mod(floor_div(tm.year, CENTURY_YEARS), MAX_TWO_DIGITS + 1));
}

/* Reads the time registers as a time (clamping what is out of range) and
 * takes the day-of-week offset from them. */
static int64_t parse(struct rtc *r)
{
	const uint8_t *c = r->cmos;
	int64_t year = clamp(dec(r, c[RTC_CENTURY]), 0, MAX_TWO_DIGITS) * CENTURY_YEARS +
		       clamp(dec(r, c[REG_YEAR]), 0, MAX_TWO_DIGITS);
	unsigned mon = clamp(dec(r, c[REG_MONTH]), 1, MONTHS);
	unsigned mday = clamp(dec(r, c[REG_DAY]), 1, days_in_month(year, mon));
	int64_t days = days_from_civil(year, mon, mday);
	int64_t wday = floor_mod(days + EPOCH_WEEKDAY, DAYS_PER_WEEK);

	r->dow_offset = (uint8_t)floor_mod((int64_t)dec(r, c[REG_DOW]) - 1 - wday, DAYS_PER_WEEK);
	return days * SECS_PER_DAY +
	       clamp(dec_hour(r, c[REG_HOUR]), 0, HOURS_PER_DAY - 1) * SECS_PER_HOUR +
	       clamp(dec(r, c[REG_MIN]), 0, MINS_PER_HOUR - 1) * SECS_PER_MIN +
	       clamp(dec(r, c[REG_SEC]), 0, SECS_PER_MIN - 1);
}

/* The clock continues from the time registers, keeping the divider phase. */
static void rebase(struct rtc *r, uint64_t now)
{
	uint64_t pos = position(r, now);

	r->origin_secs = parse(r);
	r->origin = now;
	r->skew = pos % r->clock->hz;
}

static void freeze(struct rtc *r, uint64_t now)
{
	materialize(r, secs_at(r, position(r, now)));
	r->frozen = true;
}

static void unfreeze(struct rtc *r, uint64_t now)
{
	rebase(r, now);
	r->frozen = false;
}

/* Leaving divider reset: the first update comes half a second later. */
static void restart_divider(struct rtc *r, uint64_t now)
{
	r->origin = now;
	r->skew = r->clock->hz - r->clock->hz / 2;
}

static bool uip(const struct rtc *r, uint64_t now)
{
	if (r->frozen)
		return false;
	uint64_t hz = r->clock->hz;

	return hz - position(r, now) % hz <= r->uip_tsc;
}

/* ---- events ---- */

static uint32_t periodic_hz(const struct rtc *r)
{
	unsigned rs = r->cmos[REG_A] & A_RS_MASK;

	if (rs == 0)
		return 0;
	if (rs <= SLOW_RATE_LAST)
		return SLOW_RATE_HZ >> (rs - 1);
	return DIVIDER_HZ >> (rs - 1);
}

static uint64_t periodic_ticks(const struct rtc *r, uint64_t pos)
{
	return vdev_tsc_to_ticks(r->clock, pos, periodic_hz(r));
}

/* An alarm byte as the value it matches (ALARM_ANY for "don't care");
 * false if no time can match it. */
static bool alarm_field(const struct rtc *r, unsigned reg, unsigned limit, unsigned *out)
{
	uint8_t b = r->cmos[reg];

	if ((b & ALARM_DONT_CARE) == ALARM_DONT_CARE) {
		*out = ALARM_ANY;
		return true;
	}
	*out = reg == REG_HOUR_ALARM ? dec_hour(r, b) : dec(r, b);
	return *out < limit;
}

static bool field_matches(unsigned want, unsigned v)
{
	return want == ALARM_ANY || want == v;
}

/* Seconds from time of day tod to the next later one the alarm matches,
 * 0 if none does. Walks minutes, skipping hours that cannot match. */
static uint32_t next_match(const struct alarm *a, uint32_t tod)
{
	uint32_t first = tod + 1, m0 = first / SECS_PER_MIN;

	for (uint32_t m = m0; m <= m0 + MINS_PER_DAY;) {
		if (!field_matches(a->hour, m / MINS_PER_HOUR % HOURS_PER_DAY)) {
			m = (m / MINS_PER_HOUR + 1) * MINS_PER_HOUR;
			continue;
		}
		uint32_t from = m == m0 ? first % SECS_PER_MIN : 0;

		if (field_matches(a->min, m % MINS_PER_HOUR)) {
			if (a->sec == ALARM_ANY)
				return m * SECS_PER_MIN + from - tod;
			if (a->sec >= from)
				return m * SECS_PER_MIN + a->sec - tod;
		}
		m++;
	}
	return 0;
}

/* Divider position of the first update after pos whose new time matches
 * the alarm, or VDEV_NEVER. */
static uint64_t next_alarm(const struct rtc *r, uint64_t pos)
{
	struct alarm a;

	if (!alarm_field(r, REG_SEC_ALARM, SECS_PER_MIN, &a.sec) ||
	    !alarm_field(r, REG_MIN_ALARM, MINS_PER_HOUR, &a.min) ||
	    !alarm_field(r, REG_HOUR_ALARM, HOURS_PER_DAY, &a.hour))
		return VDEV_NEVER;
	uint64_t hz = r->clock->hz, k = pos / hz;
	uint32_t tod = (uint32_t)floor_mod(r->origin_secs + (int64_t)k, SECS_PER_DAY);
	uint32_t delta = next_match(&a, tod);

	return delta ? (k + delta) * hz : VDEV_NEVER;
}

/* Sets the flags of the events in (synced, now]. */
static void sync(struct rtc *r, uint64_t now)
{
	if (now <= r->synced)
		return;
	if (divider_running(r)) {
		uint64_t a = position(r, r->synced), b = position(r, now), hz = r->clock->hz;

		if (periodic_hz(r) && periodic_ticks(r, b) != periodic_ticks(r, a))
			r->flags |= C_PF;
		if (!r->frozen && b / hz != a / hz)
			r->flags |= C_UF;
		if (!r->frozen && next_alarm(r, a) <= b)
			r->flags |= C_AF;
	}
	r->synced = now;
}

static bool irqf(const struct rtc *r)
{
	return r->flags & r->cmos[REG_B] & C_FLAGS;
}

static void drive(struct rtc *r)
{
	bool level = irqf(r);

	if (level == r->line)
		return;
	r->line = level;
	if (r->irq)
		r->irq(r->irq_ctx, RTC_IRQ_LINE, level);
}

/* ---- registers ---- */

static void write_a(struct rtc *r, uint8_t v, uint64_t now)
{
	bool was_reset = !divider_running(r);
	bool reset = ((v >> A_DV_SHIFT) & A_DV_MASK) >= A_DV_RESET;

	if (reset && !r->frozen)
		freeze(r, now);
	r->cmos[REG_A] = v & A_WRITABLE;
	if (was_reset && !reset)
		restart_divider(r, now);
	if (r->frozen && should_run(r))
		unfreeze(r, now);
}

static void write_b(struct rtc *r, uint8_t v, uint64_t now)
{
	if (v & B_SET) {
		v &= (uint8_t)~B_UIE;
		if (!r->frozen)
			freeze(r, now); /* in the format in effect until now */
	}
	r->cmos[REG_B] = v;
	if (r->frozen && should_run(r))
		unfreeze(r, now);
}

static void write_time(struct rtc *r, unsigned i, uint8_t v, uint64_t now)
{
	if (r->frozen) {
		r->cmos[i] = v;
		return;
	}
	materialize(r, secs_at(r, position(r, now)));
	r->cmos[i] = v;
	rebase(r, now);
}

static uint8_t read_c(struct rtc *r)
{
	uint8_t v = r->flags | (irqf(r) ? C_IRQF : 0);

	r->flags = 0;
	return v;
}

static uint8_t read_data(struct rtc *r, uint64_t now)
{
	unsigned i = r->index;

	if (is_time_reg(i)) {
		if (!r->frozen)
			materialize(r, secs_at(r, position(r, now)));
		return r->cmos[i];
	}
	switch (i) {
	case REG_A:
		return r->cmos[REG_A] | (uip(r, now) ? A_UIP : 0);
	case REG_C:
		return read_c(r);
	case REG_D:
		return D_VRT;
	default:
		return r->cmos[i];
	}
}

static void write_data(struct rtc *r, uint8_t v, uint64_t now)
{
	unsigned i = r->index;

	if (is_time_reg(i))
		write_time(r, i, v, now);
	else if (i == REG_A)
		write_a(r, v, now);
	else if (i == REG_B)
		write_b(r, v, now);
	else if (i != REG_C && i != REG_D) /* both read-only */
		r->cmos[i] = v;
}

/* ---- bus ops ---- */

static status_t rtc_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct rtc *r = dev;

	if (off >= RTC_PORT_LEN || size > RTC_PORT_LEN - off)
		return ST_ERANGE;
	if (size != 1 || off == PORT_INDEX) {
		*val = ALL_ONES;
		return ST_OK;
	}
	uint64_t now = vdev_now(r->clock);

	sync(r, now);
	*val = read_data(r, now);
	drive(r);
	return ST_OK;
}

static status_t rtc_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct rtc *r = dev;

	if (off >= RTC_PORT_LEN || size > RTC_PORT_LEN - off)
		return ST_ERANGE;
	if (size != 1)
		return ST_OK;
	if (off == PORT_INDEX) {
		r->index = val & INDEX_MASK;
		r->nmi_masked = val & NMI_MASK_BIT;
		return ST_OK;
	}
	uint64_t now = vdev_now(r->clock);

	sync(r, now);
	write_data(r, (uint8_t)val, now);
	drive(r);
	return ST_OK;
}

const struct bus_ops rtc_ops = {.read = rtc_read, .write = rtc_write};

/* ---- core interface ---- */

static void put16(uint8_t *cmos, unsigned at, uint64_t v)
{
	cmos[at] = (uint8_t)(v & BYTE_MASK);
	cmos[at + 1] = (uint8_t)((v >> BYTE_SHIFT) & BYTE_MASK);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void set_memory_bytes(uint8_t *cmos, uint64_t low, uint64_t high)
{
	uint64_t ext = low > EXT_MEM_START ? (low - EXT_MEM_START) / KIB : 0;
	uint64_t above16 = min_u64(low, FOUR_GIB);
	uint64_t above4g = min_u64(high / MEM_UNIT, MEM_ABOVE_4G_MAX);

	above16 = above16 > HIGH_MEM_START ? (above16 - HIGH_MEM_START) / MEM_UNIT : 0;
	put16(cmos, CMOS_BASE_MEM, min_u64(low / KIB, BASE_MEM_KIB));
	put16(cmos, CMOS_EXT_MEM, min_u64(ext, EXT_MEM_MAX_KIB));
	put16(cmos, CMOS_EXT_MEM_POST, min_u64(ext, EXT_MEM_MAX_KIB));
	put16(cmos, CMOS_MEM_ABOVE_16M, above16);
	put16(cmos, CMOS_MEM_ABOVE_4G, above4g);
	cmos[CMOS_MEM_ABOVE_4G + 2] = (uint8_t)(above4g >> (2 * BYTE_SHIFT));
}

static void set_checksum(uint8_t *cmos)
{
	unsigned sum = 0;

	for (unsigned i = CMOS_CHECKSUM_FIRST; i <= CMOS_CHECKSUM_LAST; i++)
		sum += cmos[i];
	cmos[CMOS_CHECKSUM] = (uint8_t)(sum >> BYTE_SHIFT);
	cmos[CMOS_CHECKSUM + 1] = (uint8_t)(sum & BYTE_MASK);
}

void rtc_init(struct rtc *r, const struct rtc_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->clock = cfg->clock;
	r->irq = cfg->irq;
	r->irq_ctx = cfg->irq_ctx;
	r->cmos[REG_A] = A_INIT;
	r->cmos[REG_B] = B_INIT;
	r->origin = r->synced = cfg->wall_tsc;
	r->origin_secs = cfg->wall_secs;
	r->uip_tsc = vdev_ticks_to_tsc(r->clock, UIP_USEC, USEC_PER_SEC);
	set_memory_bytes(r->cmos, cfg->ram_below_4g, cfg->ram_above_4g);
	set_checksum(r->cmos);
}

uint64_t rtc_irq_due(const struct rtc *r)
{
	uint8_t b = r->cmos[REG_B];
	uint64_t hz = r->clock->hz, pos = position(r, r->synced), best = VDEV_NEVER;

	if (irqf(r) || !divider_running(r))
		return VDEV_NEVER;
	if ((b & B_PIE) && periodic_hz(r)) {
		uint64_t k = periodic_ticks(r, pos) + 1;

		best = vdev_ticks_to_tsc(r->clock, k, periodic_hz(r));
	}
	if (!r->frozen && (b & B_UIE))
		best = min_u64(best, (pos / hz + 1) * hz);
	if (!r->frozen && (b & B_AIE))
		best = min_u64(best, next_alarm(r, pos));
	return best == VDEV_NEVER ? VDEV_NEVER : r->origin + (best - r->skew);
}

void rtc_update(struct rtc *r)
{
	sync(r, vdev_now(r->clock));
	drive(r);
}

bool rtc_nmi_masked(const struct rtc *r)
{
	return r->nmi_masked;
}

/* ---- port 0x80 ---- */

void postcode_init(struct postcode *pc)
{
	pc->last = POSTCODE_IDLE;
	pc->writes = 0;
}

static status_t postcode_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	const struct postcode *pc = dev;

	if (off >= POSTCODE_LEN || size > POSTCODE_LEN - off)
		return ST_ERANGE;
	*val = pc->last;
	return ST_OK;
}

static status_t postcode_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct postcode *pc = dev;

	if (off >= POSTCODE_LEN || size > POSTCODE_LEN - off)
		return ST_ERANGE;
	pc->last = (uint8_t)val;
	pc->writes++;
	return ST_OK;
}

const struct bus_ops postcode_ops = {.read = postcode_read, .write = postcode_write};
