/* timers: PIT channel 2 (through port 0x61) and the ACPI PM timer, each
 * within 1% of the TSC.
 *
 *  - PM timer: the FADT names it with PM_TMR_LEN 4; a 24-bit timer (no
 *    TMR_VAL_EXT) reads 0 in bits 31:24; 100,000 reads never go backwards;
 *    its rate over 200 ms.
 *  - PIT channel 2: gate and speaker through port 0x61; mode 0 with count
 *    0xFFFF drives OUT2 (port 0x61 bit 5) low at once and high 65535
 *    ticks later (54.9 ms), the way Linux calibrates the TSC; the
 *    read-back status command reports the mode, access and OUT; in mode 2 a
 *    rising GATE reloads the counter; its rate over 200 ms from latched
 *    counts.
 *
 * The TSC rate is the published one (CPUID 0x40000010 EAX, under Keel
 * 0x40000001 EAX, or 0x15) when
 * there is one. Without it (plain QEMU) the TSC is calibrated against the
 * other device: the PIT check uses a TSC measured with the PM timer and the
 * PM timer check one measured with the PIT, so together they compare the
 * two devices, the TSC only carrying time between them. Counter rates come
 * from counter reads bracketed by TSC reads, so host scheduling does not
 * disturb them; the OUT2 edge is polled, and an attempt in which the start
 * or the edge could not be placed within 0.2% (the vCPU was descheduled)
 * is repeated, up to 5 attempts.
 * Keel-only: a published TSC rate exists and agrees with the PM timer
 * within 1%. Runs ~0.6 s under QEMU. */
#include "pc.h"

#define MEASURE_MS 200
#define MS_PER_S 1000
#define MONOTONIC_READS 100000u
#define PMTMR_LEN 4
#define PMTMR_HIGH_BYTE 0xFF000000u
#define PIT_FULL 0xFFFF
#define ATTEMPTS 5
#define EDGE_SLACK_PPM 2000 /* 0.2%: the edge must be placed this closely */
#define GATE_WAIT_MS 20
#define PIT_RB_CH2 0x08
#define PIT_STATUS_ACCESS 0x30
#define PIT_STATUS_MODE 0x0E

const char rt_name[] = "timers";

static uint64_t pub_hz;
static const char *pub_how;

static uint64_t ms_ticks(uint64_t hz, uint64_t ms)
{
	return hz * ms / MS_PER_S;
}

static void pmtmr_basics(void)
{
	struct pc_fadt f;
	uint32_t prev, high = 0;
	uint64_t back = 0;
	bool ext;

	if (!check(pc_fadt(&f) && pc_pmtmr_init(), "the FADT names a PM timer"))
		return;
	ext = f.flags & FADT_FLAG_TMR_VAL_EXT;
	note("PM timer at port 0x%x, %u bits", f.pm_tmr, ext ? 32 : 24);
	check_eq(f.pm_tmr_len, PMTMR_LEN, "PM_TMR_LEN is 4");
	prev = inl((uint16_t)f.pm_tmr);
	for (uint32_t i = 0; i < MONOTONIC_READS; i++) {
		uint32_t v = inl((uint16_t)f.pm_tmr);
		uint64_t d = (v - prev) & pc_pmtmr.mask;

		high |= v;
		if (d > pc_pmtmr.mask / 2)
			back++;
		prev = v;
	}
	check_eq(back, 0, "the PM timer never goes backwards in 100,000 reads");
	if (!ext)
		check_eq(high & PMTMR_HIGH_BYTE, 0, "a 24-bit PM timer reads 0 in bits 31:24");
}

/* One mode-0 run: TSC ticks from the count write to OUT2 going high, or 0
 * when the edge could not be placed closely enough. */
static uint64_t pit_mode0_once(uint64_t tsc_hz, bool *low_at_start, uint8_t *status)
{
	uint64_t expect = (uint64_t)PIT_FULL * tsc_hz / PC_PIT_HZ;
	uint64_t t0, t1, last_low, first_high = 0, start;

	outb(PORT_B, (inb(PORT_B) & ~PORT_B_SPKR) | PORT_B_GATE2);
	outb(PIT_CMD, (uint8_t)(2 << PIT_SEL_SHIFT | PIT_LOHI | PIT_MODE0));
	outb(PIT_CH2, (uint8_t)PIT_FULL);
	t0 = pc_rdtsc();
	outb(PIT_CH2, (uint8_t)(PIT_FULL >> 8)); /* counting starts here */
	t1 = pc_rdtsc();
	start = t0 + (t1 - t0) / 2;
	*low_at_start = !(inb(PORT_B) & PORT_B_OUT2);
	if ((t1 - t0) * PC_PPM > expect * EDGE_SLACK_PPM) {
		note("PIT mode 0: the count write took %lu TSC ticks (descheduled?)", t1 - t0);
		return 0;
	}
	last_low = pc_rdtsc();
	while (last_low - start < 3 * expect) {
		bool high = inb(PORT_B) & PORT_B_OUT2;
		uint64_t t = pc_rdtsc();

		if (high) {
			first_high = t;
			break;
		}
		last_low = t;
	}
	outb(PIT_CMD, PIT_READBACK | PIT_RB_NO_COUNT | PIT_RB_CH2);
	*status = inb(PIT_CH2);
	if (!first_high)
		return 0;
	note("PIT mode 0: OUT2 high after %lu TSC ticks (edge within %lu), expected %lu",
	     first_high - start, first_high - last_low, expect);
	if ((first_high - last_low) * PC_PPM > expect * EDGE_SLACK_PPM)
		return 0;
	return last_low + (first_high - last_low) / 2 - start;
}

static void pit_mode0(uint64_t tsc_hz)
{
	uint64_t expect = (uint64_t)PIT_FULL * tsc_hz / PC_PIT_HZ, got = 0;
	bool low = false;
	uint8_t status = 0;
	int64_t e = 0;

	for (unsigned i = 0; i < ATTEMPTS; i++) {
		got = pit_mode0_once(tsc_hz, &low, &status);
		e = pc_ppm(got, expect);
		if (got && pc_within(e, PC_PCT_1))
			break;
		note("PIT mode 0: attempt %u out of bounds", i + 1);
	}
	check(low, "PIT mode 0: OUT2 is low once the count is written");
	check(got, "PIT mode 0: OUT2 goes high");
	checkd(got && pc_within(e, PC_PCT_1),
	       "PIT mode 0: OUT2 goes high after 65535 ticks within 1%", "%ld ppm", e);
	check_eq(status & (PIT_STATUS_OUT | PIT_STATUS_ACCESS | PIT_STATUS_MODE),
		 PIT_STATUS_OUT | PIT_LOHI | PIT_MODE0,
		 "read-back status: OUT high, low/high access, mode 0");
}

static void pit_gate(uint64_t tsc_hz)
{
	uint16_t before, after;

	outb(PORT_B, (inb(PORT_B) & ~PORT_B_SPKR) | PORT_B_GATE2);
	pc_pit_program(2, PIT_MODE2, PIT_FULL);
	pc_tsc_wait(ms_ticks(tsc_hz, GATE_WAIT_MS));
	before = pc_pit_latch(2);
	outb(PORT_B, inb(PORT_B) & ~(PORT_B_GATE2 | PORT_B_SPKR));
	outb(PORT_B, (inb(PORT_B) & ~PORT_B_SPKR) | PORT_B_GATE2);
	/* The reload happens on the next CLK pulse (8254 datasheet, mode 2):
	 * give it 1 ms, 1193 ticks, far less than the 20 ms counted before. */
	pc_tsc_wait(ms_ticks(tsc_hz, 1));
	after = pc_pit_latch(2);
	checkd(before < PIT_FULL - ms_ticks(PC_PIT_HZ, GATE_WAIT_MS / 2) && after > before,
	       "PIT mode 2: a rising GATE reloads the counter", "0x%x before, 0x%x 1 ms after",
	       before, after);
	pc_pit_ch2_stop();
}

static bool measure(const struct pc_counter *c, struct pc_span *s)
{
	bool ok = pc_measure(c, MEASURE_MS, s);

	if (ok)
		note("%s: %lu ticks in %lu TSC ticks (bracket %lu)", c->name, s->ticks, s->tsc,
		     s->bracket);
	return checkd(ok, c == &pc_pmtmr ? "the PM timer counts" : "PIT channel 2 counts", "stuck");
}

static void rate(const char *what, const struct pc_span *s, uint64_t tsc_hz, uint64_t nominal,
		 const char *ref)
{
	uint64_t hz = pc_rate(s, tsc_hz);
	int64_t e = pc_ppm(hz, nominal);

	note("%s: %lu Hz, %ld ppm off (TSC %lu Hz, %s)", what, hz, e, tsc_hz, ref);
	checkd(pc_within(e, PC_PCT_1), what, "%ld ppm off", e);
}

void guest_main(void)
{
	struct pc_span pm = {0}, pit = {0};
	uint64_t hz_by_pm, hz_by_pit;

	pub_hz = pc_tsc_hz_published(&pub_how);
	note("published TSC rate: %lu Hz (%s)", pub_hz, pub_how);
	if (pc_on_keel())
		check(pub_hz, "on Keel: the TSC rate is published (CPUID 0x40000010/0x40000001)");
	pmtmr_basics();
	if (!pc_pmtmr.read || !pc_pmtmr_port())
		return;
	pc_pit_ch2_start();
	if (!measure(&pc_pit_ch2, &pit) || !measure(&pc_pmtmr, &pm))
		return;
	pc_pit_ch2_stop();
	hz_by_pm = (uint64_t)((unsigned __int128)pm.tsc * PC_PMTMR_HZ / pm.ticks);
	hz_by_pit = (uint64_t)((unsigned __int128)pit.tsc * PC_PIT_HZ / pit.ticks);
	note("TSC: %lu Hz by the PM timer, %lu Hz by the PIT", hz_by_pm, hz_by_pit);
	if (pub_hz) {
		rate("PIT channel 2 counts at 1.193182 MHz within 1%", &pit, pub_hz, PC_PIT_HZ,
		     pub_how);
		rate("PM timer counts at 3.579545 MHz within 1%", &pm, pub_hz, PC_PMTMR_HZ,
		     pub_how);
		if (pc_on_keel())
			checkd(pc_within(pc_ppm(hz_by_pm, pub_hz), PC_PCT_1),
			       "on Keel: the published TSC rate agrees with the PM timer within 1%",
			       "%ld ppm", pc_ppm(hz_by_pm, pub_hz));
	} else {
		rate("PIT channel 2 counts at 1.193182 MHz within 1%", &pit, hz_by_pm, PC_PIT_HZ,
		     "TSC by the PM timer");
		rate("PM timer counts at 3.579545 MHz within 1%", &pm, hz_by_pit, PC_PMTMR_HZ,
		     "TSC by the PIT");
	}
	pit_mode0(pub_hz ? pub_hz : hz_by_pm);
	pit_gate(pub_hz ? pub_hz : hz_by_pm);
	pc_pit_ch2_stop();
}
