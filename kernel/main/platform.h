/* What the boot steps learned about the machine, for the shell and later code. */
#ifndef KEEL_PLATFORM_H
#define KEEL_PLATFORM_H

#include "core/cmdline.h"
#include "drivers/acpi/acpi.h"
#include "keel/boot_info.h"

const struct boot_info *platform_boot_info(void);
const struct acpi_info *platform_acpi(void); /* NULL when ACPI was unusable */
const struct keel_config *platform_config(void);

#define KEEL_MAX_CPUS 256

void platform_init_cpus(void);
/* Index of the calling CPU: 0 for the boot CPU, then in start-up order. */
unsigned this_cpu(void);
uint32_t platform_cpu_apic_id(unsigned index);
unsigned platform_cpus_online(void);
bool platform_cpu_online(uint32_t apic_id);
/* NMIs every other CPU into a halt and waits for them; returns how many did
 * not stop in time. */
unsigned platform_stop_others(void);
/* Halts this CPU for good and tells platform_stop_others() so. */
_Noreturn void platform_stop_this_cpu(void);
_Noreturn void platform_reboot(void);
const char *platform_poweroff(void); /* returns why it could not */

_Noreturn void mgmt_serial_loop(void);

#endif
