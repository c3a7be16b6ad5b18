/* Calendar arithmetic for RTC dates. Pure logic. */
#ifndef KEEL_DRIVERS_RTC_CIVIL_H
#define KEEL_DRIVERS_RTC_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of the Gregorian date y-m-d, for years from 1970 on
 * (all a PC's RTC can hold). A month outside 1-12 counts as January. */
int64_t civil_days(int64_t y, unsigned m, unsigned d);

#endif
