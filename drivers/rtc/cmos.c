/* Host CMOS RTC (MC146818 registers as every PC chipset has them). Only
 * read at boot; hardware access through ports 0x70/0x71. */
#include "drivers/rtc/cmos.h"
#include "drivers/rtc/civil.h"

#include "core/printk.h"
#include "cpu/timer.h"
#include "keel/x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_DAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0A
#define REG_B 0x0B
#define REG_CENTURY 0x32
#define REG_A_UIP 0x80
#define REG_B_24H 0x02
#define REG_B_BINARY 0x04
#define HOUR_PM 0x80
#define UIP_WAIT_LOOPS 1000000
#define READ_TRIES 5
#define SECS_PER_DAY 86400

static int64_t boot_secs;
static uint64_t boot_tsc;

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg); /* bit 7 clear: NMIs stay enabled */
	return inb(CMOS_DATA);
}

static unsigned from_bcd(uint8_t v, uint8_t b)
{
	return (b & REG_B_BINARY) ? v : (unsigned)((v >> 4) * 10 + (v & 0xF));
}

struct rtc_time {
	uint8_t sec, min, hour, day, mon, year, century;
};

static void read_raw(struct rtc_time *t)
{
	for (int i = 0; i < UIP_WAIT_LOOPS && (cmos_read(REG_A) & REG_A_UIP); i++)
		cpu_relax();
	t->sec = cmos_read(REG_SEC);
	t->min = cmos_read(REG_MIN);
	t->hour = cmos_read(REG_HOUR);
	t->day = cmos_read(REG_DAY);
	t->mon = cmos_read(REG_MON);
	t->year = cmos_read(REG_YEAR);
	t->century = cmos_read(REG_CENTURY);
}

static int same(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
	       a->mon == b->mon && a->year == b->year && a->century == b->century;
}

static int64_t to_secs(const struct rtc_time *t, uint8_t b)
{
	unsigned hour = from_bcd(t->hour & 0x7F, b);
	unsigned century = from_bcd(t->century, b);
	int64_t year = from_bcd(t->year, b);

	if (!(b & REG_B_24H)) /* 12-hour: 12 AM is 0, 12 PM is 12 */
		hour = (hour % 12) + ((t->hour & HOUR_PM) ? 12 : 0);
	year += (century >= 19 && century <= 30) ? century * 100 : 2000;
	return civil_days(year, from_bcd(t->mon, b), from_bcd(t->day, b)) * SECS_PER_DAY +
	       hour * 3600 + from_bcd(t->min, b) * 60 + from_bcd(t->sec, b);
}

void cmos_init(void)
{
	struct rtc_time a, b;
	int tries = 0;

	do { /* two equal reads in a row: no update in between */
		read_raw(&a);
		read_raw(&b);
	} while (!same(&a, &b) && ++tries < READ_TRIES);
	boot_tsc = rdtsc();
	boot_secs = to_secs(&a, cmos_read(REG_B));
	pr_info("rtc: host clock %ld s since 1970 (UTC assumed)\n", boot_secs);
}

int64_t cmos_host_time(void)
{
	uint64_t hz = tsc_hz();

	return boot_secs + (int64_t)(hz ? (rdtsc() - boot_tsc) / hz : 0);
}
