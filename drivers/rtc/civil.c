/* Calendar arithmetic for RTC dates (see civil.h). */
#include "drivers/rtc/civil.h"

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y]: every 4th, not every 100th, every 400th. */
static int64_t leaps_through(int64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

/* For years from 1970 on, which is all a PC's RTC can hold. */
int64_t civil_days(int64_t y, unsigned m, unsigned d)
{
	static const uint16_t before_month[12] = {0,   31,  59,	 90,  120, 151,
						  181, 212, 243, 273, 304, 334};

	if (m < 1 || m > 12)
		m = 1;
	return (y - 1970) * 365 + leaps_through(y - 1) - leaps_through(1969) + before_month[m - 1] +
	       (m > 2 && leap(y)) + d - 1;
}
