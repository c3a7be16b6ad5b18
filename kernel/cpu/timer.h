#ifndef KEEL_TIMER_H
#define KEEL_TIMER_H

#include <stdint.h>

/* Measures the TSC against the ACPI PM timer (or the PIT); returns Hz. */
void timer_init(void);
uint64_t tsc_hz(void);
const char *timer_reference(void);
void udelay(uint64_t us);

#endif
