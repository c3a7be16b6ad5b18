/* The management command table, shared by every transport. */
#include "core/printk.h"
#include "keel/version.h"
#include "main/platform.h"
#include "mgmt/commands.h"
#include "keel/kstring.h"
#include "mm/kmem.h"

/* Below the kernel image and above the direct map: never mapped. */
#define SELFTEST_UNMAPPED 0xFFFFFF0000000000ull

static void cmd_help(const struct shell_io *io, int argc, char **argv);

static void cmd_version(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_printf(io, "Keel %s (built %s %s)\r\n", KEEL_VERSION, __DATE__, __TIME__);
}

static void cmd_cpus(const struct shell_io *io, int argc, char **argv)
{
	const struct acpi_info *a = platform_acpi();

	(void)argc;
	(void)argv;
	shell_printf(io, "%u CPUs online\r\n", platform_cpus_online());
	if (!a)
		return;
	for (uint32_t i = 0; i < a->ncpus; i++)
		shell_printf(io, "cpu %u: APIC ID %u, %s\r\n", i, a->cpus[i].apic_id,
			     platform_cpu_online(a->cpus[i].apic_id) ? "online" : "offline");
}

static void cmd_mem(const struct shell_io *io, int argc, char **argv)
{
	struct kmem_stats s;
	size_t n;
	const struct mem_region *m = kmem_map(&n);
	static const char *const names[] = {"?",	"usable", "reserved", "ACPI reclaim",
					    "ACPI NVS", "bad"};

	(void)argc;
	(void)argv;
	kmem_stats(&s);
	shell_printf(io,
		     "usable %lu KiB (%lu MiB), free %lu KiB, kernel %lu KiB, heap %zu bytes\r\n",
		     s.usable_bytes >> 10, s.usable_bytes >> 20, s.free_bytes >> 10,
		     s.kernel_bytes >> 10, s.heap_in_use);
	for (size_t i = 0; i < n; i++)
		shell_printf(io, "  %016lx-%016lx %s\r\n", m[i].base, m[i].base + m[i].len - 1,
			     m[i].type <= 5 ? names[m[i].type] : "?");
}

static void cmd_reboot(const struct shell_io *io, int argc, char **argv)
{
	(void)io;
	(void)argc;
	(void)argv;
	platform_reboot();
}

static void cmd_poweroff(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_printf(io, "error: %s\r\n", platform_poweroff());
}

/* Deliberately deep recursion: each frame keeps a buffer the compiler cannot
 * drop, so the boot stack runs into its unmapped guard page. */
static unsigned overflow_stack(unsigned depth)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	if (depth == ~0u) /* never true; keeps the compiler from calling it endless */
		return pad[0];
	return overflow_stack(depth + 1) + pad[0];
}

static void cmd_selftest(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[1], "panic")) {
		panic("selftest: panic requested from the shell");
	} else if (!strcmp(argv[1], "fault")) {
		shell_printf(io, "selftest: reading an unmapped address\r\n");
		(void)*(volatile uint64_t *)SELFTEST_UNMAPPED;
	} else if (!strcmp(argv[1], "stack-overflow")) {
		shell_printf(io, "selftest: overflowing the stack into its guard page\r\n");
		shell_printf(io, "%u\r\n", overflow_stack(0));
	} else {
		shell_printf(
		    io, "error: selftest: unknown test '%s' (panic, fault, stack-overflow)\r\n",
		    argv[1]);
	}
}

const struct shell_cmd mgmt_commands[] = {
    {"help", "", "list commands", 0, 0, cmd_help},
    {"version", "", "show Keel's version", 0, 0, cmd_version},
    {"cpus", "", "list CPUs and how many are online", 0, 0, cmd_cpus},
    {"mem", "", "show memory totals and the firmware memory map", 0, 0, cmd_mem},
    {"vms", "[NAME]", "list VMs: state, memory, uptime, exit code, exits by reason", 0, 1, cmd_vms},
    {"console", "NAME", "show a VM's console output and follow it; Ctrl-] detaches", 1, 1,
     cmd_console},
    {"start", "NAME", "start a defined, stopped or crashed VM (reloads its kernel)", 1, 1,
     cmd_start},
    {"stop", "NAME", "stop a running or paused VM at once", 1, 1, cmd_stop},
    {"shutdown", "NAME",
     "press a running VM's ACPI power button: an ACPI guest powers off (stop forces)", 1, 1,
     cmd_shutdown},
    {"pause", "NAME", "pause a running VM", 1, 1, cmd_pause},
    {"resume", "NAME", "resume a paused VM", 1, 1, cmd_resume},
    {"destroy", "NAME", "remove a VM that is not running and free its memory", 1, 1, cmd_destroy},
    {"reboot", "", "reset the machine", 0, 0, cmd_reboot},
    {"poweroff", "", "power the machine off (ACPI S5)", 0, 0, cmd_poweroff},
    {"selftest", "panic|fault|stack-overflow",
     "crash Keel on purpose to test the panic path (stops every CPU)", 1, 1, cmd_selftest},
};
const size_t mgmt_ncommands = sizeof(mgmt_commands) / sizeof(mgmt_commands[0]);

static void cmd_help(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_help(mgmt_commands, mgmt_ncommands, io);
}
