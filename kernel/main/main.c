/* kernel_main: the one place where Keel's boot steps are put in order. */
#include "core/cmdline.h"
#include "core/printk.h"
#include "cpu/cpu.h"
#include "drivers/acpi/acpi.h"
#include "drivers/uart/uart16550.h"
#include "keel/boot_info.h"
#include "keel/kstring.h"
#include "keel/version.h"
#include "keel/x86.h"
#include "boot/mb2.h"
#include "main/platform.h"
#include "mm/kmem.h"
#include "vm/vm.h"

#define MB2_LOADER_MAGIC 0x36D76289u
#define MBI_MAX_LEN (1u << 20) /* a sane multiboot2 information block is a few KiB */
#define ERR_LEN 160
#define ACPI_SPACE_SYSTEM_IO 1

static struct boot_info boot_info;
static struct keel_config config;
static struct acpi_info acpi;
static int acpi_ok;

const struct boot_info *platform_boot_info(void)
{
	return &boot_info;
}

const struct acpi_info *platform_acpi(void)
{
	return acpi_ok ? &acpi : NULL;
}

const struct keel_config *platform_config(void)
{
	return &config;
}

static void cmdline_error(void *ctx, const char *msg)
{
	(void)ctx;
	pr_err("cmdline: %s\n", msg);
}

static void parse_boot_info(uint32_t magic, uint64_t mbi)
{
	char err[ERR_LEN];
	uint32_t total;

	if (magic != MB2_LOADER_MAGIC)
		panic("not started by a multiboot2 loader (magic %#x)", magic);
	total = *(volatile uint32_t *)mbi; /* the bootstrap map covers 0-4 GiB */
	if (mb2_parse((const void *)mbi, total < MBI_MAX_LEN ? total : MBI_MAX_LEN, &boot_info, err,
		      sizeof(err)) != ST_OK)
		panic("boot information rejected: %s", err);
}

static void setup_console(void)
{
	unsigned errors;

	cmdline_defaults(&config);
	errors = cmdline_parse(boot_info.cmdline, &config, cmdline_error, NULL);
	printk_set_level(config.loglevel);
	if (config.console > 0)
		uart_init(uart_port_of(config.console), config.baud);
	if (errors)
		pr_err("cmdline: %u bad option(s) ignored; see above\n", errors);
}

static const void *acpi_map(void *ctx, uint64_t pa, size_t len)
{
	(void)ctx;
	if (pa + len < pa || pa + len > kmem_direct_map_size())
		return NULL;
	return phys_to_virt(pa);
}

/* Servers put their serial-over-LAN console where the SPCR table says; follow
 * it unless console= chose a port. */
static void use_spcr_console(void)
{
	uint32_t baud = acpi.spcr_baud ? acpi.spcr_baud : config.baud;

	if (config.console != 0 || !acpi.has_spcr)
		return;
	if (acpi.spcr_space != ACPI_SPACE_SYSTEM_IO || acpi.spcr_addr == 0 ||
	    acpi.spcr_addr > 0xFFFF) {
		pr_warn("console: SPCR names a console Keel cannot drive; staying on COM1\n");
		return;
	}
	if (acpi.spcr_addr == uart_port_of(1) && baud == config.baud)
		return;
	pr_info("console: moving to port %#lx at %u baud, as the ACPI SPCR table says\n",
		acpi.spcr_addr, baud);
	uart_init((uint16_t)acpi.spcr_addr, baud);
	pr_info("console: now on port %#lx (from ACPI SPCR)\n", acpi.spcr_addr);
}

static void init_acpi(void)
{
	struct acpi_mem mem = {NULL, acpi_map};
	char err[ERR_LEN];
	char line[256];

	if (boot_info.rsdp_len == 0) {
		pr_warn("ACPI: the boot loader passed no RSDP; assuming one CPU\n");
		return;
	}
	if (acpi_parse(boot_info.rsdp, boot_info.rsdp_len, &mem, &acpi, err, sizeof(err)) !=
	    ST_OK) {
		pr_err("ACPI: %s; assuming one CPU\n", err);
		return;
	}
	acpi_ok = 1;
	acpi_summary(&acpi, line, sizeof(line));
	pr_info("%s\n", line);
	use_spcr_console();
}

static void print_memory(void)
{
	struct kmem_stats s;

	kmem_stats(&s);
	pr_info("memory: %lu KiB usable, %lu KiB free, kernel %lu KiB, %u map regions\n",
		s.usable_bytes >> 10, s.free_bytes >> 10, s.kernel_bytes >> 10, s.regions);
}

void kernel_entry(uint32_t magic, uint64_t mbi)
{
	uart_init(uart_port_of(1), 115200);
	cpu_init_tables(0);
	parse_boot_info(magic, mbi);
	setup_console();
	pr_info("Keel %s booting (%s, loader: %s)\n", KEEL_VERSION,
		boot_info.firmware == FW_UEFI ? "UEFI" : "BIOS", boot_info.loader_name);
	kmem_init(&boot_info, mbi, *(volatile uint32_t *)mbi);
	print_memory();
	for (uint32_t i = 0; i < boot_info.module_count; i++)
		pr_info("module %u: %s (%lu bytes)\n", i, boot_info.modules[i].name,
			boot_info.modules[i].end - boot_info.modules[i].start);
	init_acpi();
	platform_init_cpus();
	pr_info("W^X check: %lu writable+executable mappings\n", kmem_check_wx());
	vm_boot_declared();
	mgmt_serial_loop();
}
