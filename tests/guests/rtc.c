/* rtc: the MC146818 RTC and CMOS.
 *
 *  - Register A selects the 32.768 kHz time base, B is not in SET mode,
 *    D has VRT (valid RAM and time); a CMOS RAM byte (0x7D) reads back.
 *  - The date and time, read with the update-in-progress protocol (wait
 *    for UIP clear, read twice until equal), in BCD or binary and 12- or
 *    24-hour form as register B says, with the century from the FADT's
 *    CENTURY index: every field in range. Printed as
 *    "# rtc: YYYY-MM-DD hh:mm:ss UTC, epoch N" for a harness to compare.
 *  - Within 2 s of the host clock: on Keel, the host clock is read from the
 *    test device (TESTDEV_HOST_EPOCH); elsewhere from "epoch=N" (Unix seconds) on
 *    the command line, which a harness sets when it starts the VM; without
 *    either the comparison is skipped (noted).
 *  - Update in progress observed (within 2.2 s: a descheduled vCPU can miss
 *    the 244 us window once): UIP is seen rising and falling, it stays
 *    up less than 2.5 ms (the shortest duration the polls allow), the
 *    seconds advance by exactly one across it and register C has UF
 *    (update ended) afterwards; the next falling edge comes 1 s later
 *    within 1% of the TSC plus the polling uncertainty. Each edge is
 *    bracketed by TSC reads around the polls; a cycle with a bracket over
 *    1 ms or a missed update (the host preempted the vCPU mid-poll) is
 *    redone, up to 3 times.
 *  - Periodic interrupt at 256 Hz (register A rate 8, PIE) through the
 *    IOAPIC (ISA IRQ 8 via the MADT): 200 ms of them (half to 110% of the
 *    51 due; at 1024 Hz the 4 exits of each handler under TCG on a busy
 *    host outlast the period and flags merge, as the chip's do), PF in register C, the median
 * period within 1% of the TSC on Keel (10% elsewhere: host timer latency under TCG); up to 3
 * windows. Keel-only: without a register C read the line stays asserted, so an edge-triggered entry
 * sees one interrupt only (MC146818 IRQ semantics; QEMU raises its line again on every period). The
 * TSC rate is the published one, else measured against the PM timer. Runs ~2.3 s under QEMU (two
 * UIP edges a second apart). */
#include "pc.h"

#include "../../kernel/vdev/testdev_abi.h"

#define CMOS_TEST_BYTE 0x7D
#define CMOS_PATTERN1 0x5A
#define CMOS_PATTERN2 0xA5
#define RTC_A_DV_MASK 0x70
#define RTC_A_DV_32K 0x20
#define RTC_A_RS_MASK 0x0F
#define RTC_RATE_256 0x08 /* 32768 >> (8 - 1) */
#define RTC_HZ 256
#define RTC_HOUR_PM 0x80
#define RTC_PERIOD_NS 3906250ull /* 1/256 s */
#define NS_PER_S 1000000000ull
#define MS_PER_S 1000
#define US_PER_S 1000000
#define UIP_MAX_US 2500
#define UIP_RISE_MS 2200 /* two chances: a descheduled vCPU can miss 244 us */
#define UIP_FALL_MS 10
#define EDGE_MAX_US 1000 /* a wider edge bracket (preempted poll): redo */
#define READ_TRIES 10
#define HOST_SLACK_S 2
#define PERIODIC_MS 200
#define PERIODIC_MAX 256
#define ATTEMPTS 3
#define ONE_IRQ_MS 20
#define DRAIN_MS 2
#define VEC_RTC 0x38
#define IRQ_RTC 8
#define SECS_PER_DAY 86400ull
#define EPOCH_YEAR 1970
#define MAX_YEAR 2199
#define UNCLAIMED32 0xFFFFFFFFu

const char rt_name[] = "rtc";

struct rtc_time {
	unsigned year, mon, day, hour, min, sec;
};

static bool binary, h24;
static uint8_t century_idx;
static volatile uint32_t n_irq;
static volatile uint64_t irq_tsc[PERIODIC_MAX];
static volatile bool read_c = true;
static volatile uint8_t c_seen;

static unsigned from_rtc(uint8_t v)
{
	return binary ? v : (unsigned)(v & 0xF) + (unsigned)(v >> 4) * 10;
}

static bool uip(void)
{
	return pc_cmos_read(RTC_REG_A) & RTC_A_UIP;
}

static void wait_no_uip(void)
{
	uint64_t t0 = pc_rdtsc(), limit = pc_ms(UIP_FALL_MS);

	while (uip() && pc_rdtsc() - t0 < limit)
		pause();
}

static void read_raw(uint8_t r[7])
{
	static const uint8_t idx[6] = {RTC_YEAR, RTC_MONTH, RTC_DAY, RTC_HOUR, RTC_MIN, RTC_SEC};

	for (unsigned i = 0; i < 6; i++)
		r[i] = pc_cmos_read(idx[i]);
	r[6] = century_idx ? pc_cmos_read(century_idx) : 0;
}

static bool is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static bool rtc_read(struct rtc_time *t)
{
	uint8_t a[7], b[7];
	unsigned hour, i;

	for (i = 0; i < READ_TRIES; i++) {
		wait_no_uip();
		read_raw(a);
		read_raw(b);
		if (memcmp(a, b, sizeof(a)) == 0)
			break;
	}
	if (i == READ_TRIES)
		return false;
	t->year = from_rtc(a[0]);
	t->year += century_idx ? from_rtc(a[6]) * 100 : (t->year < 70 ? 2000 : 1900);
	t->mon = from_rtc(a[1]);
	t->day = from_rtc(a[2]);
	hour = from_rtc(a[3] & (uint8_t)~RTC_HOUR_PM);
	if (!h24) {
		hour %= 12;
		if (a[3] & RTC_HOUR_PM)
			hour += 12;
	}
	t->hour = hour;
	t->min = from_rtc(a[4]);
	t->sec = from_rtc(a[5]);
	return true;
}

static bool valid(const struct rtc_time *t)
{
	return t->year >= EPOCH_YEAR && t->year <= MAX_YEAR && t->mon >= 1 && t->mon <= 12 &&
	       t->day >= 1 && t->day <= month_days(t->year, t->mon) && t->hour < 24 &&
	       t->min < 60 && t->sec < 60;
}

static uint64_t to_epoch(const struct rtc_time *t)
{
	uint64_t days = 0;

	for (unsigned y = EPOCH_YEAR; y < t->year; y++)
		days += is_leap(y) ? 366 : 365;
	for (unsigned m = 1; m < t->mon; m++)
		days += month_days(t->year, m);
	days += t->day - 1;
	return days * SECS_PER_DAY + t->hour * 3600ull + t->min * 60ull + t->sec;
}

static void registers(void)
{
	uint8_t a = pc_cmos_read(RTC_REG_A), b = pc_cmos_read(RTC_REG_B);
	uint8_t d = pc_cmos_read(RTC_REG_D), old = pc_cmos_read(CMOS_TEST_BYTE);
	struct pc_fadt f;

	note("register A 0x%02x, B 0x%02x, D 0x%02x", a, b, d);
	check_eq(a & RTC_A_DV_MASK, RTC_A_DV_32K, "register A: 32.768 kHz time base");
	check_eq(b & RTC_B_SET, 0, "register B: not in SET mode");
	check(d & RTC_D_VRT, "register D: VRT set");
	binary = b & RTC_B_DM_BINARY;
	h24 = b & RTC_B_24H;
	if (pc_fadt(&f))
		century_idx = f.century;
	note("%s, %s hour, century at CMOS 0x%x", binary ? "binary" : "BCD", h24 ? "24" : "12",
	     century_idx);
	pc_cmos_write(CMOS_TEST_BYTE, CMOS_PATTERN1);
	a = pc_cmos_read(CMOS_TEST_BYTE);
	pc_cmos_write(CMOS_TEST_BYTE, CMOS_PATTERN2);
	b = pc_cmos_read(CMOS_TEST_BYTE);
	pc_cmos_write(CMOS_TEST_BYTE, old);
	check(a == CMOS_PATTERN1 && b == CMOS_PATTERN2, "CMOS RAM byte 0x7D reads back");
}

static void wall_clock(void)
{
	struct rtc_time t = {0};
	uint64_t now, host;
	const char *src = NULL;

	if (!check(rtc_read(&t), "date and time read stable outside UIP"))
		return;
	if (!checkd(valid(&t), "every date and time field is in range", "%u-%u-%u %u:%u:%u", t.year,
		    t.mon, t.day, t.hour, t.min, t.sec))
		return;
	now = to_epoch(&t);
	rt_printf("# rtc: %04u-%02u-%02u %02u:%02u:%02u UTC, epoch %lu\n", t.year, t.mon, t.day,
		  t.hour, t.min, t.sec, now);
	if (pc_on_keel()) {
		host = inl(TESTDEV_PIO_BASE + TESTDEV_HOST_EPOCH);
		src = "the test device's HOST_EPOCH";
		if (!checkd(host != UNCLAIMED32, "on Keel: the test device has HOST_EPOCH",
			    "reads 0x%lx", host))
			return;
	} else if (pc_arg_num("epoch", &host)) {
		src = "epoch= on the command line";
	} else {
		note("no host clock here (pass epoch=<Unix seconds>): not compared");
		return;
	}
	note("host clock %lu (%s)", host, src);
	checkd(now + HOST_SLACK_S >= host && now <= host + HOST_SLACK_S,
	       "the RTC is within 2 s of the host clock", "RTC %lu, host %lu", now, host);
}

/* Where an edge lies: after `before` (the TSC read just ahead of the last
 * poll that saw the old level) and before `after` (the TSC read just after
 * the first poll that saw the new level). A vCPU preempted between a poll
 * and its TSC read widens the bracket rather than moving it. */
struct edge {
	uint64_t before, after;
};

static uint64_t mid(const struct edge *e)
{
	return e->before + (e->after - e->before) / 2;
}

static uint64_t width(const struct edge *e)
{
	return e->after - e->before;
}

/* Polls register A (index written once) until UIP reads `level`. */
static bool uip_edge(bool level, uint64_t ms, struct edge *e)
{
	uint64_t t0 = pc_rdtsc(), prev = t0, limit = pc_ms(ms);

	outb(CMOS_INDEX, RTC_REG_A);
	for (;;) {
		uint64_t b = pc_rdtsc();
		bool u = inb(CMOS_DATA) & RTC_A_UIP;
		uint64_t t = pc_rdtsc();

		if (u == level) {
			e->before = prev;
			e->after = t;
			return true;
		}
		prev = b;
		if (t - t0 > limit)
			return false;
	}
}

struct cycle {
	bool seen;	 /* both updates observed */
	uint64_t up_min; /* UIP was up at least this long (TSC ticks) */
	uint64_t up_mid; /* edge midpoint to midpoint */
	unsigned sec0, sec1;
	uint8_t c;
	int64_t err, unc; /* update interval vs 1 s, its polling uncertainty (ppm) */
	uint64_t widest;  /* widest edge bracket */
	uint64_t secs;	  /* whole seconds between the falling edges */
};

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Two update cycles a second apart, each edge bracketed. */
static bool cycle_once(struct cycle *r)
{
	struct edge rise1, fall1, rise2, fall2;
	uint64_t hz = pc_tsc_hz(), span, t0;

	r->seen = false;
	wait_no_uip();
	t0 = pc_rdtsc();
	r->sec0 = from_rtc(pc_cmos_read(RTC_SEC));
	(void)pc_cmos_read(RTC_REG_C);
	if (!uip_edge(true, UIP_RISE_MS, &rise1) || !uip_edge(false, UIP_FALL_MS, &fall1))
		return false;
	/* UIP rises less than 1 s after any moment it was low: a rise first
	 * seen later means a preempted poll missed a whole update (and a
	 * second); a rise near the 1 s mark seen late only costs a retry. */
	if (rise1.after - t0 > hz) {
		note("update cycle: the first update after reading the seconds was missed");
		return false;
	}
	r->c = pc_cmos_read(RTC_REG_C);
	r->sec1 = from_rtc(pc_cmos_read(RTC_SEC));
	r->up_min = fall1.before > rise1.after ? fall1.before - rise1.after : 0;
	r->up_mid = mid(&fall1) - mid(&rise1);
	if (!uip_edge(true, UIP_RISE_MS, &rise2) || !uip_edge(false, UIP_FALL_MS, &fall2))
		return false;
	r->seen = true;
	/* A poll preempted across the 244 us window misses that update: the
	 * edges are then a whole number of seconds apart, and the attempt is
	 * redone (updates must be seen 1 s apart). */
	span = mid(&fall2) - mid(&fall1);
	r->secs = (span + hz / 2) / hz;
	r->err = pc_ppm(span / (r->secs ? r->secs : 1), hz);
	r->unc = pc_ppm(hz + (width(&fall1) + width(&fall2)) / 2, hz);
	r->widest =
	    max_u64(max_u64(width(&rise1), width(&fall1)), max_u64(width(&rise2), width(&fall2)));
	note("UIP up %lu us (at least %lu), %lu update(s) apart, %ld ppm off "
	     "(+-%ld ppm polling), widest edge %lu us",
	     r->up_mid * US_PER_S / hz, r->up_min * US_PER_S / hz, r->secs, r->err, r->unc,
	     r->widest * US_PER_S / hz);
	return r->widest * US_PER_S / hz < EDGE_MAX_US && r->secs == 1;
}

static void update_cycle(void)
{
	struct cycle r = {0};
	uint64_t hz = pc_tsc_hz();

	for (unsigned i = 0; i < ATTEMPTS && !cycle_once(&r); i++)
		note("update cycle: attempt %u out of bounds (UIP missed or a poll preempted)",
		     i + 1);
	if (!check(r.seen, "UIP is seen rising and falling twice, a second apart"))
		return;
	checkd(r.up_min * US_PER_S / hz < UIP_MAX_US, "UIP stays up less than 2.5 ms", "%lu us",
	       r.up_min * US_PER_S / hz);
	checkd(r.sec1 == (r.sec0 + 1) % 60, "the seconds advance by one across UIP", "%u then %u",
	       r.sec0, r.sec1);
	check(r.c & RTC_C_UF, "register C has UF after the update");
	checkd(r.secs == 1 && pc_within(r.err, PC_PCT_1 + r.unc),
	       "updates come 1 s apart within 1% of the TSC", "%lu s, %ld ppm", r.secs, r.err);
}

static void on_rtc(struct rt_frame *f)
{
	(void)f;
	if (n_irq < PERIODIC_MAX)
		irq_tsc[n_irq] = pc_rdtsc();
	n_irq++;
	if (read_c)
		c_seen |= pc_cmos_read(RTC_REG_C);
	pc_lapic_eoi();
}

static uint64_t median_period(unsigned n)
{
	static uint64_t d[PERIODIC_MAX];

	for (unsigned i = 1; i < n; i++) {
		uint64_t v = irq_tsc[i] - irq_tsc[i - 1];
		unsigned j = i - 1;

		while (j > 0 && d[j - 1] > v) {
			d[j] = d[j - 1];
			j--;
		}
		d[j] = v;
	}
	return d[(n - 1) / 2];
}

/* One 200 ms window of periodic interrupts: their count and the median
 * period's error (INT64_MAX without enough of them). */
static bool periodic_once(uint32_t *n, int64_t *e)
{
	uint64_t want = pc_tsc_hz() * RTC_PERIOD_NS / NS_PER_S;
	uint32_t expect = PERIODIC_MS * RTC_HZ / MS_PER_S;

	n_irq = 0;
	sti();
	pc_tsc_wait(pc_ms(PERIODIC_MS));
	cli();
	*n = n_irq;
	*e = *n > 2 && *n <= PERIODIC_MAX ? pc_ppm(median_period(*n), want) : INT64_MAX;
	note("periodic: %u interrupts in 200 ms, median period %ld ppm", *n, *e);
	return *n >= expect / 2 && *n <= expect * 11 / 10 &&
	       pc_within(*e, pc_on_keel() ? PC_PCT_1 : PC_PCT_10);
}

/* Without register C reads the line stays up after the first period: an
 * edge-triggered entry sees one interrupt. PIE goes off, C is read (line
 * down) and anything the LAPIC already holds is taken before counting. */
static void one_edge(void)
{
	uint8_t b = pc_cmos_read(RTC_REG_B);

	pc_cmos_write(RTC_REG_B, (uint8_t)(b & ~RTC_B_PIE));
	(void)pc_cmos_read(RTC_REG_C);
	sti();
	pc_tsc_wait(pc_ms(DRAIN_MS));
	cli();
	read_c = false;
	n_irq = 0;
	pc_cmos_write(RTC_REG_B, (uint8_t)(b | RTC_B_PIE));
	sti();
	pc_tsc_wait(pc_ms(ONE_IRQ_MS));
	cli();
	check_eq(n_irq, 1, "on Keel: without a register C read, IRQ8 stays asserted (one edge)");
}

static void periodic(void)
{
	uint32_t n = 0, expect = PERIODIC_MS * RTC_HZ / MS_PER_S;
	int64_t e = 0;
	unsigned pin;

	pin = pc_ioapic_route_isa(IRQ_RTC, VEC_RTC, false, true);
	pc_cmos_write(RTC_REG_A, (uint8_t)(RTC_A_DV_32K | RTC_RATE_256));
	(void)pc_cmos_read(RTC_REG_C);
	pc_cmos_write(RTC_REG_B, (uint8_t)(pc_cmos_read(RTC_REG_B) | RTC_B_PIE));
	pc_ioapic_set_rte(pin, pc_ioapic_rte(pin) & ~RTE_MASKED);
	/* PF may have come between the register C read and PIE: the line is
	 * then already up and the edge went to a masked entry. Reading C
	 * lowers it, so the next period makes an edge the IOAPIC sees. */
	(void)pc_cmos_read(RTC_REG_C);
	for (unsigned i = 0; i < ATTEMPTS && !periodic_once(&n, &e); i++)
		note("periodic: attempt %u out of bounds", i + 1);
	checkd(n >= expect / 2 && n <= expect * 11 / 10,
	       "periodic 256 Hz: 25-56 interrupts in 200 ms", "%u", n);
	check(c_seen & RTC_C_PF, "register C has PF in the handler");
	checkd(pc_within(e, pc_on_keel() ? PC_PCT_1 : PC_PCT_10),
	       "periodic: the median period is 1/256 s", "%ld ppm", e);
	if (pc_on_keel())
		one_edge();
	pc_ioapic_set_rte(pin, RTE_MASKED);
	pc_cmos_write(RTC_REG_B, (uint8_t)(pc_cmos_read(RTC_REG_B) & ~RTC_B_PIE));
	(void)pc_cmos_read(RTC_REG_C);
}

void guest_main(void)
{
	pc_pic_init(0x20, 0x28);
	pc_lapic_enable();
	pc_ioapic_init();
	pc_ioapic_mask_all();
	rt_set_irq(VEC_RTC, on_rtc);
	registers();
	wall_clock();
	if (!check(pc_tsc_hz(), "a TSC rate (published or measured)"))
		return;
	update_cycle();
	periodic();
}
