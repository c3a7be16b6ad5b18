/* VM objects: creation from a declaration, devices, guest loading and the
 * management actions. Running vCPUs is sched.c and exit.c. */
#include "vm/vm.h"

#include <stdarg.h>

#include "core/fmt.h"
#include "core/printk.h"
#include "cpu/fpu.h"
#include "cpu/timer.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "mm/kmem.h"
#include "drivers/rtc/cmos.h"
#include "vm/linux_boot.h"
#include "vm/mb1.h"
#include "vm/sched.h"
#include "vdev/vdev.h"

#define RFLAGS_RESERVED1 (1ull << 1)
#define FLAT_LIMIT 0xFFFFFFFFu
#define GUEST_CR0_RESET 0x60000010ull /* CD, NW, ET: what the CPU leaves after INIT */
#define GUEST_CR0_PE (1ull << 0)
#define GUEST_CR0_ET (1ull << 4)
#define TR_LIMIT 0x67u
#define RESET_RIP 0xFFF0ull
#define MB1_CS 0x08 /* arbitrary: a multiboot kernel loads its own GDT */
#define MB1_DS 0x10

/* One layout: low RAM ends where the PCI window and the MTRR hole start. */
_Static_assert(GRAM_LOW_MAX == VPC_PCI_MMIO_BASE, "low RAM ends at the PCI window");
_Static_assert(GRAM_LOW_MAX == MSR_MTRR_HOLE_BASE, "low RAM ends at the UC MTRR range");
_Static_assert(KEEL_VM_MAX_MEM <= GRAM_MAX, "every mem= the command line takes fits");

static struct spinlock list_lock;
static struct vm *vm_list;

struct spinlock *vm_list_lock(void)
{
	return &list_lock;
}

struct vm *vm_first(void)
{
	return vm_list;
}

struct vm *vm_find(const char *name)
{
	for (struct vm *vm = vm_list; vm; vm = vm->next)
		if (!strcmp(vm->name, name))
			return vm;
	return NULL;
}

/* ---- host memory for guests ---- */

#define PAGES(bytes) (((bytes) + PAGE_SIZE - 1) / PAGE_SIZE)
#define VM_PAGES PAGES(sizeof(struct vm))
#define VCPU_PAGES PAGES(sizeof(struct vcpu))

/* VM and vCPU objects come straight from the frame allocator, so what a VM
 * holds is exactly known and all of it returns on destroy. */
static void *alloc_pages(uint64_t n)
{
	uint64_t pa;

	return kmem_alloc_frames(n, &pa) == ST_OK ? phys_to_virt(pa) : NULL;
}

static void free_pages(void *p, uint64_t n)
{
	kmem_free_frames(kernel_virt_to_phys(p), n);
}

static status_t frames_alloc(void *ctx, uint64_t count, uint64_t align, uint64_t *pa)
{
	(void)ctx;
	return kmem_alloc_frames_aligned(count, align, pa);
}

static void frames_free(void *ctx, uint64_t pa, uint64_t count)
{
	(void)ctx;
	kmem_free_frames(pa, count);
}

static void *frames_virt(void *ctx, uint64_t pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

const struct gram_alloc vm_host_frames = {NULL, frames_alloc, frames_free, frames_virt};

/* ---- lifecycle ---- */

static void set_why(struct vm *vm, const char *fmt, va_list ap)
{
	kvsnprintf(vm->why, sizeof(vm->why), fmt, ap);
}

void vm_guest_end(struct vm *vm, enum vm_event ev, const char *fmt, ...)
{
	uint64_t f = spin_lock_irqsave(&list_lock);
	va_list ap;

	/* A second ending in the same exit (debug exit, then a failing access)
	 * keeps the first reason. */
	if (vmstate_apply(&vm->state, ev, NULL, 0) == ST_OK) {
		va_start(ap, fmt);
		set_why(vm, fmt, ap);
		va_end(ap);
	}
	spin_unlock_irqrestore(&list_lock, f);
	pr_info("vm %s: %s: %s\n", vm->name, vmstate_name(vm->state), vm->why);
}

static void on_debug_exit(void *ctx, uint32_t code)
{
	struct vm *vm = ctx;

	vm->has_exit_code = true;
	vm->exit_code = code;
	vm_guest_end(vm, VM_EV_STOP, "debug exit, code %u", code);
}

/* Applies a management event under the list lock; on refusal writes why. */
static status_t apply(struct vm *vm, enum vm_event ev, char *why, size_t len)
{
	uint64_t f = spin_lock_irqsave(&list_lock);
	status_t st = vmstate_apply(&vm->state, ev, why, len);

	spin_unlock_irqrestore(&list_lock, f);
	return st;
}

/* Waits until no CPU runs any vCPU of vm. Callers changed the state first,
 * so a running vCPU leaves at its next exit (the scheduler tick at most). */
static void wait_idle(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		while (__atomic_load_n(&vm->vcpus[i]->cpu, __ATOMIC_ACQUIRE) >= 0)
			cpu_relax();
}

/* ---- devices ---- */

/* The guest wrote TESTDEV_BOOT_MARK: the first write after a start says how
 * long the guest took to boot (the test initramfs writes it from /init). */
static void on_boot_mark(void *ctx)
{
	struct vm *vm = ctx;
	uint64_t ticks = rdtsc() - vm->started_tsc, hz = tsc_hz();

	if (vm->boot_ticks)
		return;
	vm->boot_ticks = ticks ? ticks : 1;
	pr_info("vm %s: boot mark after %lu TSC ticks (%lu ms)\n", vm->name, ticks,
		hz ? ticks / (hz / 1000) : 0);
}

static void init_testdev(struct vm *vm)
{
	testdev_init(&vm->testdev);
	vm->testdev.host_epoch = cmos_host_time;
	vm->testdev.boot_mark = on_boot_mark;
	vm->testdev.boot_mark_ctx = vm;
}

static status_t add_devices(struct vm *vm)
{
	status_t st;

	bus_init(&vm->pio, "pio", BUS_PIO_LIMIT);
	bus_init(&vm->mmio, "mmio", BUS_MMIO_LIMIT);
	console_init(&vm->con);
	debugexit_init(&vm->dbgexit, on_debug_exit, vm);
	/* fw_cfg reports all of RAM, low and high, as QEMU does. */
	fwcfg_init(&vm->fwcfg, vm->decl.mem, (uint16_t)vm->decl.cpus, (uint16_t)vm->decl.cpus);
	init_testdev(vm);
	st = vpc_init(vm);
	if (st == ST_OK)
		st = bus_register(&vm->pio, DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, &debugexit_ops,
				  &vm->dbgexit, "debug-exit");
	if (st == ST_OK)
		st = bus_register(&vm->pio, FW_CFG_PORT_SEL, FWCFG_PIO_LEN, &fwcfg_ops, &vm->fwcfg,
				  "fw_cfg");
	if (st == ST_OK)
		st = bus_register(&vm->pio, TESTDEV_PIO_BASE, TESTDEV_PIO_LEN, &testdev_pio_ops,
				  &vm->testdev, "testdev");
	if (st == ST_OK)
		st = bus_register(&vm->mmio, TESTDEV_MMIO_BASE, TESTDEV_MMIO_LEN, &testdev_mmio_ops,
				  &vm->testdev, "testdev");
	return st;
}

/* Device state a restart must not carry over; the console keeps its
 * history, so `console` shows what the previous run printed. */
static void reset_devices(struct vm *vm)
{
	fwcfg_init(&vm->fwcfg, vm->decl.mem, (uint16_t)vm->decl.cpus, (uint16_t)vm->decl.cpus);
	init_testdev(vm);
	vm->boot_ticks = 0;
	vm->has_exit_code = false;
	vm->exit_code = 0;
}

/* ---- vCPUs ---- */

static struct vseg flat_seg(uint16_t sel, uint16_t type)
{
	return (struct vseg){sel, (uint16_t)(type | VSEG_S | VSEG_P | VSEG_DB | VSEG_G), FLAT_LIMIT,
			     0};
}

/* 32-bit protected mode, flat segments, paging off, interrupts off: the
 * multiboot hand-off state (spec 3.2), whose selectors are arbitrary (the
 * kernel loads its own GDT before using them), and Linux's 32-bit boot
 * protocol, whose GDT the loader writes. */
static void flat32_sregs(struct vcpu_sregs *s, uint16_t cs, uint16_t ds)
{
	memset(s, 0, sizeof(*s));
	for (int i = VSEG_ES; i <= VSEG_GS; i++)
		s->seg[i] = flat_seg(ds, VSEG_TYPE_DATA_RW_ACC);
	s->seg[VSEG_CS] = flat_seg(cs, VSEG_TYPE_CODE_RX_ACC);
	s->seg[VSEG_TR] = (struct vseg){0, VSEG_TYPE_TSS_BUSY | VSEG_P, TR_LIMIT, 0};
	s->seg[VSEG_LDTR] = (struct vseg){0, VSEG_TYPE_LDT | VSEG_P, 0xFFFF, 0};
	s->gdt_limit = 0xFFFF;
	s->idt_limit = 0xFFFF;
	s->cr0 = GUEST_CR0_PE | GUEST_CR0_ET;
}

/* An application processor waits for INIT/SIPI in the reset state. */
static void reset_sregs(struct vcpu_sregs *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = VSEG_ES; i <= VSEG_GS; i++)
		s->seg[i] = (struct vseg){0, VSEG_TYPE_DATA_RW_ACC | VSEG_S | VSEG_P, 0xFFFF, 0};
	s->seg[VSEG_CS] =
	    (struct vseg){0xF000, VSEG_TYPE_CODE_RX_ACC | VSEG_S | VSEG_P, 0xFFFF, 0xFFFF0000};
	s->seg[VSEG_TR] = (struct vseg){0, VSEG_TYPE_TSS_BUSY | VSEG_P, 0xFFFF, 0};
	s->seg[VSEG_LDTR] = (struct vseg){0, VSEG_TYPE_LDT | VSEG_P, 0xFFFF, 0};
	s->gdt_limit = 0xFFFF;
	s->idt_limit = 0xFFFF;
	s->cr0 = GUEST_CR0_RESET;
}

/* Registers and software state of a vCPU at power-on. */
static void vcpu_reset_soft(struct vcpu *v)
{
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rflags = RFLAGS_RESERVED1;
	v->inject = (struct guest_event){0};
	v->pending_exc = (struct guest_event){0};
	v->want_irq_window = false;
	v->tpr_window = 0;
	v->wait = v->id == 0 ? VCPU_READY : VCPU_WAIT_SIPI;
	/* The MTRR masks cover the MAXPHYADDR CPUID shows, so the UC range
	 * under 4 GiB does not repeat over RAM above 64 GiB. */
	msr_state_reset(&v->msrs, vpc_phys_bits());
	v->tsc_aux = 0;

	v->xcr0 = FPU_XCR0_X87;
	fpu_area_init(v->fpu);
	memset(v->cpuid_cache, 0, sizeof(v->cpuid_cache));
	memset(&v->fetch_memo, 0, sizeof(v->fetch_memo));
	memset(&v->data_memo, 0, sizeof(v->data_memo));
	memset(&v->decode_memo, 0, sizeof(v->decode_memo));
	memset(&v->ctl, 0, sizeof(v->ctl));
}

/* INIT (SDM 9.1.1, table 9-1): the reset state, waiting for a start-up
 * IPI. Called on the vCPU's own CPU. The x87/SSE state and the MSRs are
 * kept, as INIT keeps them. */
void vcpu_reset_state(struct vcpu *v)
{
	struct vcpu_sregs s;

	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rflags = RFLAGS_RESERVED1;
	v->regs.rip = RESET_RIP;
	v->inject = (struct guest_event){0};
	v->pending_exc = (struct guest_event){0};
	v->want_irq_window = false;
	v->tpr_window = 0;
	v->wait = VCPU_WAIT_SIPI;
	memset(&v->fetch_memo, 0, sizeof(v->fetch_memo));
	memset(&v->data_memo, 0, sizeof(v->data_memo));
	memset(&v->decode_memo, 0, sizeof(v->decode_memo));
	memset(&v->ctl, 0, sizeof(v->ctl));
	reset_sregs(&s);
	virt_ops()->set_sregs(v, &s);
}

static status_t vcpu_create(struct vm *vm, unsigned id)
{
	const struct virt_ops *ops = virt_ops();
	struct vcpu *v = alloc_pages(VCPU_PAGES);
	struct vcpu_sregs s;
	uint64_t fpu_pa;
	status_t st;

	if (!v)
		return ST_ENOMEM;
	v->vm = vm;
	v->id = id;
	v->cpu = -1;
	v->asid.cpu = -1;
	st = kmem_alloc_frames(fpu_area_pages(), &fpu_pa);
	if (st != ST_OK) {
		free_pages(v, VCPU_PAGES);
		return st;
	}
	v->fpu = phys_to_virt(fpu_pa);
	v->fpu_pa = fpu_pa;
	vcpu_reset_soft(v);
	reset_sregs(&s);
	st = ops->vcpu_create(v, &s);
	if (st != ST_OK) {
		kmem_free_frames(fpu_pa, fpu_area_pages());
		free_pages(v, VCPU_PAGES);
		return st;
	}
	vm->vcpus[vm->nvcpus++] = v;
	return ST_OK;
}

static void vcpu_free(struct vcpu *v)
{
	virt_ops()->vcpu_destroy(v);
	kmem_free_frames(v->fpu_pa, fpu_area_pages());
	free_pages(v, VCPU_PAGES);
}

/* ---- loading ---- */

static bool mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	return gram_write(ctx, gpa, buf, len);
}

static bool mem_zero(void *ctx, uint64_t gpa, size_t len)
{
	return gram_zero(ctx, gpa, len);
}

/* The boot module whose first word is name; *args gets the rest of its
 * string (the guest's command line). */
static const struct boot_module *find_module(const char *name, const char **args)
{
	const struct boot_info *bi = platform_boot_info();
	size_t n = strlen(name);

	for (uint32_t i = 0; i < bi->module_count; i++) {
		const char *s = bi->modules[i].name;
		if (strncmp(s, name, n) || (s[n] != '\0' && s[n] != ' '))
			continue;
		*args = s;
		return &bi->modules[i];
	}
	return NULL;
}

/* A boot module's bytes, as the loaders take them. */
struct image {
	const uint8_t *data;
	size_t len;
	const char *string; /* the module's whole string */
};

static bool module_image(const char *name, struct image *out)
{
	const struct boot_module *m = find_module(name, &out->string);

	if (!m)
		return false;
	out->data = phys_to_virt(m->start);
	out->len = (size_t)(m->end - m->start);
	return true;
}

/* Every vCPU at power-on; vCPU 0 then gets the loader's hand-off state. */
static void reset_vcpus(struct vm *vm, const struct vcpu_sregs *boot)
{
	struct vcpu_sregs s;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		vcpu_reset_soft(v);
		if (i == 0)
			s = *boot;
		else
			reset_sregs(&s);
		virt_ops()->set_sregs(v, &s);
	}
}

/* The whole module string is the guest's command line, as QEMU's
 * -kernel/-append give a multiboot kernel its own name first. The initrd,
 * if any, becomes the one multiboot module. The kernel goes in the RAM at
 * 0; the memory map also shows the RAM above 4 GiB. */
static status_t load_mb1(struct vm *vm, const struct image *k, const struct image *initrd,
			 char *err, size_t errlen)
{
	struct gram_range r[GRAM_RANGES_MAX];
	struct mb1_range high[GRAM_RANGES_MAX];
	unsigned n = gram_ranges(&vm->ram, r);
	struct mb1_mem mem = {.ctx = &vm->ram,
			      .ram_size = r[0].len,
			      .write = mem_write,
			      .zero = mem_zero,
			      .high = high,
			      .nhigh = n - 1};
	struct mb1_module mod = {initrd->data, initrd->len, initrd->string};
	struct mb1_result res;
	struct vcpu_sregs s;
	status_t st;

	for (unsigned i = 1; i < n; i++)
		high[i - 1] = (struct mb1_range){r[i].base, r[i].len};
	st = mb1_load(k->data, k->len, k->string, &mod, initrd->data ? 1 : 0, &mem, &res, err,
		      errlen);
	if (st != ST_OK)
		return st;
	flat32_sregs(&s, MB1_CS, MB1_DS);
	reset_vcpus(vm, &s);
	vm->vcpus[0]->regs.gpr[GPR_RAX] = MB1_BOOTLOADER_MAGIC;
	vm->vcpus[0]->regs.gpr[GPR_RBX] = res.mbi;
	vm->vcpus[0]->regs.rip = res.entry;
	return ST_OK;
}

/* What E820 reports reserved besides the legacy hole: the PCI
 * configuration window (Linux trusts MCFG only when E820 reserves it) and
 * the interrupt controllers' pages. */
static const struct lb_range linux_reserved[] = {
    {VPC_ECAM_BASE, VPC_ECAM_SIZE},
    {IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_LEN},
    {VLAPIC_DEFAULT_BASE, LB_PAGE},
};

/* The module string less its first word (the module's name) is the
 * kernel's command line, as GRUB's `linux` passes what follows the path. */
static const char *linux_cmdline(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

/* Linux's 32-bit boot protocol: flat __BOOT_CS/__BOOT_DS, paging off,
 * ESI = boot_params. The kernel and initrd go in the RAM at 0; E820 also
 * shows the RAM above 4 GiB. */
static status_t load_linux(struct vm *vm, const struct image *k, const struct image *initrd,
			   char *err, size_t errlen)
{
	struct gram_range r[GRAM_RANGES_MAX];
	struct lb_range high[GRAM_RANGES_MAX];
	unsigned n = gram_ranges(&vm->ram, r);
	struct lb_mem mem = {.ctx = &vm->ram,
			     .ram_size = r[0].len,
			     .write = mem_write,
			     .zero = mem_zero,
			     .high = high,
			     .nhigh = n - 1};
	struct lb_platform plat = {VPC_ACPI_GPA, linux_reserved,
				   sizeof(linux_reserved) / sizeof(linux_reserved[0])};
	struct lb_result res;
	struct vcpu_sregs s;
	status_t st;

	for (unsigned i = 1; i < n; i++)
		high[i - 1] = (struct lb_range){r[i].base, r[i].len};
	st = lb_load(k->data, k->len, initrd->data, initrd->len, linux_cmdline(k->string), &mem,
		     &plat, &res, err, errlen);
	if (st != ST_OK)
		return st;
	flat32_sregs(&s, LB_BOOT_CS, LB_BOOT_DS);
	s.gdt_base = res.gdt_base;
	s.gdt_limit = res.gdt_limit;
	reset_vcpus(vm, &s);
	vm->vcpus[0]->regs.gpr[GPR_RSI] = res.boot_params;
	vm->vcpus[0]->regs.rip = res.entry32;
	return ST_OK;
}

/* Every RAM range, so a restart sees none of the last run's memory. */
static bool zero_ram(struct vm *vm)
{
	struct gram_range r[GRAM_RANGES_MAX];
	unsigned n = gram_ranges(&vm->ram, r);

	for (unsigned i = 0; i < n; i++)
		if (!gram_zero(&vm->ram, r[i].base, r[i].len))
			return false;
	return true;
}

/* Places the kernel (a multiboot kernel or a Linux bzImage) and its
 * initrd in zeroed RAM and sets vCPU 0 at its entry. */
static status_t load_guest(struct vm *vm, char *why, size_t len)
{
	struct image k, initrd = {NULL, 0, ""};
	char err[VM_WHY_MAX];
	status_t st;

	if (!module_image(vm->decl.kernel, &k)) {
		ksnprintf(why, len, "no boot module named '%s'", vm->decl.kernel);
		return ST_ENOENT;
	}
	if (vm->decl.initrd[0] && !module_image(vm->decl.initrd, &initrd)) {
		ksnprintf(why, len, "no boot module named '%s' (initrd=)", vm->decl.initrd);
		return ST_ENOENT;
	}
	if (!zero_ram(vm))
		return ST_ERANGE;
	if (mb1_probe(k.data, k.len)) {
		st = load_mb1(vm, &k, &initrd, err, sizeof(err));
		if (st != ST_OK)
			ksnprintf(why, len, "module '%s': %s", vm->decl.kernel, err);
		return st;
	}
	st = load_linux(vm, &k, &initrd, err, sizeof(err));
	if (st != ST_OK)
		ksnprintf(why, len, "module '%s' (no multiboot header; as a Linux bzImage): %s",
			  vm->decl.kernel, err);
	return st;
}

/* ---- management actions ---- */

static status_t start(struct vm *vm, bool reboot, char *why, size_t len)
{
	enum vm_state s = vm->state;
	status_t st = vmstate_apply(&s, VM_EV_START, why, len);

	if (st != ST_OK)
		return st;
	wait_idle(vm);
	reset_devices(vm);
	st = load_guest(vm, why, len);
	if (st == ST_OK && vpc_reset(vm, reboot) != ST_OK) {
		ksnprintf(why, len, "cannot reset the virtual PC (ACPI tables do not fit)");
		st = ST_ERANGE;
	}
	if (st != ST_OK)
		return st;
	for (unsigned i = 0; i < VMEXIT_REASON_COUNT; i++)
		for (unsigned c = 0; c < vm->nvcpus; c++)
			vm->vcpus[c]->exits[i] = 0;
	vm->msr_gp = 0;
	vm->why[0] = '\0';
	vm->started_tsc = rdtsc();
	vm->starts++;
	st = apply(vm, VM_EV_START, why, len);
	if (st == ST_OK)
		sched_kick();
	return st;
}

status_t vm_start(struct vm *vm, char *why, size_t len)
{
	return start(vm, false, why, len);
}

void vm_guest_reset(struct vm *vm, bool crash, const char *why)
{
	enum vm_policy p = crash ? vm->decl.on_crash : vm->decl.on_reboot;
	const char *key = crash ? "on_crash" : "on_reboot";

	if (p == VM_POLICY_STOP) {
		vm_guest_end(vm, crash ? VM_EV_CRASH : VM_EV_STOP, "%s (%s=stop)", why, key);
		return;
	}
	vm->reboot_pending = true; /* before the state change, which lets vCPUs leave */
	vm_guest_end(vm, crash ? VM_EV_CRASH : VM_EV_STOP, "%s (%s=restart): restarting", why, key);
}

/* Claims the pending reboot under the list lock, so a destroy cannot free
 * the VM under the restart and two CPUs cannot both restart it. */
static bool claim_reboot(struct vm *vm)
{
	uint64_t f = spin_lock_irqsave(&list_lock);
	bool mine = vm->reboot_pending && !vm->rebooting;

	if (mine) {
		vm->reboot_pending = false;
		vm->rebooting = true;
	}
	spin_unlock_irqrestore(&list_lock, f);
	return mine;
}

void vm_reboot_if_pending(struct vm *vm)
{
	char why[VM_WHY_MAX];

	if (!vm->reboot_pending || !claim_reboot(vm))
		return;
	vm->reboots++;
	if (start(vm, true, why, sizeof(why)) != ST_OK)
		pr_err("vm %s: restart failed: %s\n", vm->name, why);
	else
		pr_info("vm %s: restarted (reboot %lu)\n", vm->name, vm->reboots);
	__atomic_store_n(&vm->rebooting, false, __ATOMIC_RELEASE);
}

status_t vm_stop(struct vm *vm, char *why, size_t len)
{
	status_t st = apply(vm, VM_EV_STOP, why, len);

	if (st != ST_OK)
		return st;
	ksnprintf(vm->why, sizeof(vm->why), "stopped from the shell");
	wait_idle(vm);
	return ST_OK;
}

/* The ACPI power button: a guest with an OS that handles it shuts itself
 * down (S5); one that does not just sees a status bit. */
status_t vm_shutdown(struct vm *vm, char *why, size_t len)
{
	uint64_t f;

	if (vm->state != VM_RUNNING) {
		ksnprintf(why, len, "cannot shut down vm %s: it is %s", vm->name,
			  vmstate_name(vm->state));
		return ST_EINVAL;
	}
	f = vm_lock(vm);
	vpc_power_button(vm);
	vm_unlock(vm, f);
	sched_kick_vcpu(vm->vcpus[0]);
	return ST_OK;
}

status_t vm_pause(struct vm *vm, char *why, size_t len)
{
	status_t st = apply(vm, VM_EV_PAUSE, why, len);

	if (st == ST_OK)
		wait_idle(vm);
	return st;
}

status_t vm_resume(struct vm *vm, char *why, size_t len)
{
	status_t st = apply(vm, VM_EV_RESUME, why, len);

	if (st == ST_OK)
		sched_kick();
	return st;
}

static void vm_free(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_free(vm->vcpus[i]);
	gram_destroy(&vm->ram);
	free_pages(vm, VM_PAGES);
}

static void unlink_vm(struct vm *vm)
{
	uint64_t f = spin_lock_irqsave(&list_lock);

	for (struct vm **p = &vm_list; *p; p = &(*p)->next) {
		if (*p == vm) {
			*p = vm->next;
			break;
		}
	}
	spin_unlock_irqrestore(&list_lock, f);
}

status_t vm_destroy(struct vm *vm, char *why, size_t len)
{
	uint64_t f = spin_lock_irqsave(&list_lock);
	status_t st = ST_EBUSY;

	if (vm->rebooting || vm->reboot_pending)
		ksnprintf(why, len, "cannot destroy vm %s: it is restarting; try again", vm->name);
	else
		st = vmstate_apply(&vm->state, VM_EV_DESTROY, why, len);
	spin_unlock_irqrestore(&list_lock, f);

	if (st != ST_OK)
		return st;
	unlink_vm(vm);
	wait_idle(vm);
	vm_free(vm);
	return ST_OK;
}

/* ---- creation ---- */

/* The whole top of RAM must be addressable by the guest (and by the nested
 * tables, which take what the CPU can address). */
static status_t check_phys_bits(const struct vm_decl *d, char *why, size_t len)
{
	struct gram_range r[GRAM_RANGES_MAX];
	unsigned n = gram_layout(d->mem, r), bits = vpc_phys_bits();
	uint64_t top = r[n - 1].base + r[n - 1].len;

	if (bits >= 64 || top <= 1ull << bits)
		return ST_OK;
	ksnprintf(why, len,
		  "%lu MiB of guest RAM reaches guest-physical 0x%lx, beyond the CPU's %u "
		  "address bits",
		  d->mem >> 20, top, bits);
	return ST_ERANGE;
}

/* Guest RAM, or one line saying why the host cannot give it: asking for
 * more than is free fails at once rather than taking all of it first. */
static status_t init_ram(struct vm *vm, const struct vm_decl *d, char *why, size_t len)
{
	const struct virt_ops *ops = virt_ops();
	struct kmem_stats ks;
	status_t st = check_phys_bits(d, why, len);

	if (st != ST_OK)
		return st;
	kmem_stats(&ks);
	if (d->mem > ks.free_bytes) {
		ksnprintf(why, len, "cannot back %lu MiB of guest RAM: the host has %lu MiB free",
			  d->mem >> 20, ks.free_bytes >> 20);
		return ST_ENOMEM;
	}
	/* Enough free in all, yet short of 2 MiB-aligned runs or of room for
	 * the tables. */
	st = gram_init(&vm->ram, d->mem, ops->npt_format, ops->npt_ram_prot, &vm_host_frames);
	if (st != ST_OK)
		ksnprintf(why, len,
			  "cannot back %lu MiB of guest RAM with the host's %lu MiB free: %s",
			  d->mem >> 20, ks.free_bytes >> 20, status_str(st));
	return st;
}

static status_t vm_create(const struct vm_decl *d, struct vm **out, char *why, size_t len)
{
	struct vm *vm = alloc_pages(VM_PAGES);
	status_t st;

	if (!vm) {
		ksnprintf(why, len, "no memory for the VM object");
		return ST_ENOMEM;
	}
	memcpy(vm->name, d->name, sizeof(vm->name));
	vm->decl = *d;
	vm->state = VM_DEFINED;
	st = init_ram(vm, d, why, len);
	if (st != ST_OK) {
		free_pages(vm, VM_PAGES);
		return st;
	}
	st = add_devices(vm);
	for (unsigned i = 0; st == ST_OK && i < d->cpus; i++)
		st = vcpu_create(vm, i);
	if (st != ST_OK) {
		ksnprintf(why, len, "cannot set up devices and vCPUs: %s", status_str(st));
		vm_free(vm);
		return st;
	}
	*out = vm;
	return ST_OK;
}

static void link_vm(struct vm *vm)
{
	uint64_t f = spin_lock_irqsave(&list_lock);
	struct vm **p = &vm_list;

	while (*p)
		p = &(*p)->next;
	*p = vm;
	spin_unlock_irqrestore(&list_lock, f);
}

void vm_boot_declared(void)
{
	const struct keel_config *c = platform_config();
	char why[VM_WHY_MAX];

	if (c->nvms && !virt_ops()) {
		pr_err("vm: %u VM(s) declared, but this machine cannot run guests (see above)\n",
		       c->nvms);
		return;
	}
	if (virt_ops())
		vpc_platform_init(c->pmtimer_emulated);
	for (unsigned i = 0; i < c->nvms; i++) {
		const struct vm_decl *d = &c->vms[i];
		struct vm *vm;

		pr_info("vm %s: creating (%lu MiB, %u vCPU(s), kernel '%s')\n", d->name,
			d->mem >> 20, d->cpus, d->kernel);
		if (vm_create(d, &vm, why, sizeof(why)) != ST_OK) {
			pr_err("vm %s: not created: %s\n", d->name, why);
			continue;
		}
		link_vm(vm);
		if (!d->autostart) {
			pr_info("vm %s: defined (autostart=no: start it with 'start %s')\n",
				d->name, d->name);
			continue;
		}
		if (vm_start(vm, why, sizeof(why)) != ST_OK) {
			pr_err("vm %s: not started: %s\n", d->name, why);
			continue;
		}
		pr_info("vm %s: started\n", d->name);
	}
}

/* ---- accounting ---- */

uint64_t vm_footprint(const struct vm *vm)
{
	uint64_t per_vcpu = (VCPU_PAGES + fpu_area_pages()) * PAGE_SIZE + virt_ops()->vcpu_bytes;

	return gram_footprint(&vm->ram) + VM_PAGES * PAGE_SIZE + vm->nvcpus * per_vcpu;
}

uint64_t vm_exits(const struct vm *vm, enum vm_exit_reason r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		n += vm->vcpus[i]->exits[r];
	return n;
}

/* ---- device timers ---- */

uint64_t vm_lock(struct vm *vm)
{
	return spin_lock_irqsave(&vm->lock);
}

void vm_unlock(struct vm *vm, uint64_t flags)
{
	if (vm->vpc.due_stale)
		(void)vpc_due(vm);
	spin_unlock_irqrestore(&vm->lock, flags);
}

uint64_t vm_timers_due(const struct vm *vm)
{
	return __atomic_load_n(&vm->vpc.due, __ATOMIC_RELAXED);
}

void vm_timers_update(struct vm *vm, uint64_t now)
{
	uint64_t f = vm_lock(vm);

	vpc_timers_update(vm, now);
	vm_unlock(vm, f);
}
