#ifndef KEEL_LAPIC_H
#define KEEL_LAPIC_H

#include <stdint.h>

void lapic_init(void); /* map and software-enable this CPU's LAPIC */
uint32_t lapic_id(void);
void lapic_eoi(void);
int lapic_send_init(uint32_t apic_id);
int lapic_send_sipi(uint32_t apic_id, uint8_t page);
void lapic_send_nmi_all_but_self(void);
uint64_t lapic_timer_calibrate(void); /* LAPIC timer ticks per second (divide 16) */
/* Periodic timer interrupts on vector, hz per second (after calibration). */
void lapic_timer_periodic(uint8_t vector, unsigned hz);
void lapic_send_ipi_all_but_self(uint8_t vector);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
/* One interrupt on vector once the TSC reaches tsc (at once if it has). */
void lapic_timer_oneshot_at(uint8_t vector, uint64_t tsc);

#endif
