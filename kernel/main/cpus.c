/* CPU inventory. Application processors are not started yet: the BSP is the
 * only CPU online until SMP bring-up lands. */
#include "core/printk.h"
#include "main/platform.h"

static unsigned cpus_online = 1;

void platform_init_cpus(void)
{
	const struct acpi_info *a = platform_acpi();
	unsigned found = a ? a->ncpus : 1;

	pr_info("%u CPUs found, %u CPUs online\n", found, cpus_online);
}

unsigned platform_cpus_online(void)
{
	return cpus_online;
}
