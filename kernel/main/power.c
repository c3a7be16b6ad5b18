/* Reset and power-off through the ways a PC offers, most specific first. */
#include "core/printk.h"
#include "keel/x86.h"
#include "main/platform.h"

#define ACPI_SPACE_SYSTEM_IO 1
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)
#define PORT_RESET_CONTROL 0xCF9
#define RESET_CONTROL_FULL 0x06
#define PORT_KBC_COMMAND 0x64
#define KBC_PULSE_RESET 0xFE
#define KBC_STATUS_INPUT_FULL 0x02

static void wait_kbc(void)
{
	for (int i = 0; i < 100000 && (inb(PORT_KBC_COMMAND) & KBC_STATUS_INPUT_FULL); i++)
		cpu_relax();
}

static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};

	__asm__ volatile("lidt %0; int3" ::"m"(empty));
}

_Noreturn void platform_reboot(void)
{
	const struct acpi_info *a = platform_acpi();

	pr_info("rebooting\n");
	if (a && a->reset_supported && a->reset_space == ACPI_SPACE_SYSTEM_IO)
		outb((uint16_t)a->reset_addr, a->reset_value);
	outb(PORT_RESET_CONTROL, RESET_CONTROL_FULL);
	wait_kbc();
	outb(PORT_KBC_COMMAND, KBC_PULSE_RESET);
	triple_fault();
	halt_forever();
}

const char *platform_poweroff(void)
{
	const struct acpi_info *a = platform_acpi();
	uint16_t v;

	if (!a || !a->has_fadt)
		return "no ACPI FADT: cannot power off";
	if (!a->s5_valid)
		return "no \\_S5 object found in the DSDT: cannot power off";
	if (!a->pm1a_cnt)
		return "FADT has no PM1a control block: cannot power off";
	pr_info("powering off\n");
	v = (uint16_t)((a->s5_slp_typa << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
	outw((uint16_t)a->pm1a_cnt, v);
	if (a->pm1b_cnt)
		outw((uint16_t)a->pm1b_cnt,
		     (uint16_t)((a->s5_slp_typb << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	for (int i = 0; i < 1000000; i++)
		cpu_relax();
	return "the machine did not power off after the ACPI S5 request";
}
