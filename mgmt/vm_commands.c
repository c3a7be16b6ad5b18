/* Shell commands for VMs: list, console, and the lifecycle actions. Each
 * checks its argument first, then acts; a refusal is one "error:" line. */
#include "core/printk.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "cpu/timer.h"
#include "mgmt/commands.h"
#include "vm/sched.h"
#include "vm/vm.h"

#define DETACH_KEY 0x1D /* Ctrl-] */
#define CONSOLE_CHUNK 256
#define TYPED_MAX 256 /* typed bytes held while the guest's UART is full */

static struct vm *lookup(const struct shell_io *io, const char *name)
{
	struct vm *vm = vm_find(name);

	if (!vm)
		shell_printf(io, "error: no VM named '%s' (see 'vms')\r\n", name);
	return vm;
}

static void print_exits(const struct shell_io *io, const struct vm *vm)
{
	uint64_t total = 0;

	shell_printf(io, "  exits:");
	for (int r = 0; r < VMEXIT_REASON_COUNT; r++) {
		uint64_t n = vm_exits(vm, (enum vm_exit_reason)r);
		if (!n)
			continue;
		total += n;
		shell_printf(io, " %s=%lu", vm_exit_reason_name((enum vm_exit_reason)r), n);
	}
	shell_printf(io, " total=%lu msr-gp=%lu unclaimed-pio=%lu/%lu unclaimed-mmio=%lu/%lu\r\n",
		     total, vm->msr_gp, vm->pio.unclaimed_reads, vm->pio.unclaimed_writes,
		     vm->mmio.unclaimed_reads, vm->mmio.unclaimed_writes);
}

static void print_uptime(const struct shell_io *io, const struct vm *vm)
{
	uint64_t hz = tsc_hz(), ms;

	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		shell_printf(io, "-");
		return;
	}
	ms = hz ? (rdtsc() - vm->started_tsc) / (hz / 1000) : 0;
	shell_printf(io, "%lu.%03lus", ms / 1000, ms % 1000);
}

/* How long the running guest took to reach its boot mark (port 0x544). */
static void print_boot_mark(const struct shell_io *io, const struct vm *vm)
{
	uint64_t hz = tsc_hz(), ms;

	if (!vm->boot_ticks || (vm->state != VM_RUNNING && vm->state != VM_PAUSED))
		return;
	ms = hz ? vm->boot_ticks / (hz / 1000) : 0;
	shell_printf(io, ", booted in %lu.%03lus (%lu TSC ticks)", ms / 1000, ms % 1000,
		     vm->boot_ticks);
}

/* Where each vCPU is: on a host CPU, ready, halted or waiting for SIPI. */
static void print_vcpus(const struct shell_io *io, const struct vm *vm)
{
	static const char *const waits[] = {"ready", "halted", "waiting for SIPI"};

	shell_printf(io, "  vcpus:");
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		int cpu = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);

		if (cpu >= 0)
			shell_printf(io, " %u on cpu %d%s", i, cpu, i + 1 < vm->nvcpus ? "," : "");
		else
			shell_printf(io, " %u %s%s", i, waits[v->wait],
				     i + 1 < vm->nvcpus ? "," : "");
	}
	shell_printf(io, "\r\n");
}

static void print_vm(const struct shell_io *io, const struct vm *vm)
{
	shell_printf(io, "vm %s: %s, %lu MiB RAM, %u vCPU(s), holds %lu KiB, up ", vm->name,
		     vmstate_name(vm->state), vm->decl.mem >> 20, vm->nvcpus,
		     vm_footprint(vm) >> 10);
	print_uptime(io, vm);
	print_boot_mark(io, vm);
	if (vm->reboots)
		shell_printf(io, ", %lu reboot(s)", vm->reboots);
	if (vm->has_exit_code)
		shell_printf(io, ", exit code %u", vm->exit_code);
	if (vm->why[0])
		shell_printf(io, " (%s)", vm->why);
	shell_printf(io, "\r\n");
	print_exits(io, vm);
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED)
		print_vcpus(io, vm);
}

void cmd_vms(const struct shell_io *io, int argc, char **argv)
{
	const struct vm *vm;

	if (argc == 2) {
		vm = lookup(io, argv[1]);
		if (vm)
			print_vm(io, vm);
		return;
	}
	if (!vm_first()) {
		shell_printf(io, "no VMs (declare them with vm= on the boot command line)\r\n");
		return;
	}
	for (vm = vm_first(); vm; vm = vm->next)
		print_vm(io, vm);
}

/* Copies new console bytes to the session; returns whether any came. */
static bool drain(const struct shell_io *io, struct vm *vm, uint64_t *cursor)
{
	char buf[CONSOLE_CHUNK];
	uint64_t lost, f = vm_lock(vm);
	size_t n = console_read(&vm->con, cursor, buf, sizeof(buf), &lost);

	vm_unlock(vm, f);
	if (lost)
		shell_printf(io, "\r\n[console: %lu bytes lost]\r\n", lost);
	if (n)
		io->write(io->ctx, buf, n);
	return n > 0;
}

/* Typed bytes waiting for room in the guest's receive FIFO. */
struct typed {
	uint8_t buf[TYPED_MAX];
	unsigned head, n;
};

static bool typed_put(struct typed *q, uint8_t c)
{
	if (q->n == TYPED_MAX)
		return false;
	q->buf[(q->head + q->n++) % TYPED_MAX] = c;
	return true;
}

static void typed_pop(struct typed *q)
{
	q->head = (q->head + 1) % TYPED_MAX;
	q->n--;
}

/* A typed byte for the guest's COM1; false while its receive FIFO is full
 * (the caller keeps the byte and tries again: nothing typed is lost). */
static bool type_into(struct vm *vm, uint8_t c)
{
	uint64_t f = vm_lock(vm);
	bool ok = vpc_console_input(vm, c);

	vm_unlock(vm, f);
	if (ok && vm->vcpus[0])
		sched_kick_vcpu(vm->vcpus[0]);
	return ok;
}

void cmd_console(const struct shell_io *io, int argc, char **argv)
{
	struct vm *vm = lookup(io, argv[1]);
	uint64_t cursor;
	struct typed q = {0};

	(void)argc;
	if (!vm)
		return;
	if (!io->getc) {
		shell_printf(io, "error: console needs an interactive session\r\n");
		return;
	}
	shell_printf(io, "[attached to %s; Ctrl-] detaches]\r\n", vm->name);
	cursor = console_oldest(&vm->con);
	for (;;) {
		int c = io->getc(io->ctx);
		if (c == DETACH_KEY)
			break;
		if (c >= 0 && !typed_put(&q, (uint8_t)c))
			shell_printf(io,
				     "\r\n[console: the guest is not reading; input dropped]\r\n");
		while (q.n && type_into(vm, q.buf[q.head]))
			typed_pop(&q);
		if (!drain(io, vm, &cursor) && c < 0 && io->idle)
			io->idle(io->ctx);
	}
	shell_printf(io, "\r\n[detached from %s]\r\n", vm->name);
}

typedef status_t (*vm_action)(struct vm *vm, char *why, size_t len);

static void act(const struct shell_io *io, const char *name, vm_action fn, const char *done)
{
	struct vm *vm = lookup(io, name);
	char why[VM_WHY_MAX];

	if (!vm)
		return;
	if (fn(vm, why, sizeof(why)) != ST_OK) {
		shell_printf(io, "error: %s\r\n", why);
		return;
	}
	shell_printf(io, "vm %s: %s\r\n", name, done);
}

void cmd_start(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	act(io, argv[1], vm_start, "started");
}

void cmd_stop(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	act(io, argv[1], vm_stop, "stopped");
}

void cmd_shutdown(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	act(io, argv[1], vm_shutdown, "power button pressed");
}

void cmd_pause(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	act(io, argv[1], vm_pause, "paused");
}

void cmd_resume(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	act(io, argv[1], vm_resume, "resumed");
}

void cmd_destroy(const struct shell_io *io, int argc, char **argv)
{
	(void)argc;
	act(io, argv[1], vm_destroy, "destroyed, its memory returned");
}
