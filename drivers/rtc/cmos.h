/* The host's CMOS real-time clock: read once at boot, then advanced with
 * the TSC, so guests' RTCs can start at the host's time of day. */
#ifndef KEEL_DRIVERS_RTC_CMOS_H
#define KEEL_DRIVERS_RTC_CMOS_H

#include <stdint.h>

/* Reads the host RTC (after the TSC is calibrated); logs what it read. */
void cmos_init(void);
/* UTC seconds since 1970 now, from the boot reading and the TSC. */
int64_t cmos_host_time(void);

#endif
