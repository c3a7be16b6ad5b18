/* The virtual PC's wiring (see vpc.h). */
#include "vm/vpc.h"

#include "core/printk.h"
#include "cpu/timer.h"
#include "drivers/rtc/cmos.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "drivers/acpi/acpi.h"
#include "vdev/acpi_tables.h"
#include "vdev/fwcfg.h"
#include "vdev/testdev_abi.h"
#include "vm/sched.h"
#include "vm/vm.h"

#define ISA_IRQS 16
#define PIT_IOAPIC_PIN 2 /* MADT: IRQ 0 -> GSI 2 */
#define ACPI_RESET_VALUE 0x06
#define DEFAULT_PHYS_BITS 36
#define CPUID_EXT_ADDR 0x80000008u
#define VEC_NMI 2
#define CMOS_RAM_FIRST 0x0E /* after the clock and status registers A-D */

/* ---- clock ---- */

static uint64_t guest_tsc(void *ctx)
{
	(void)ctx;
	return rdtsc(); /* the guest TSC is the host's: no offset yet */
}

/* ---- interrupt lines ---- */

/* An ISA line changed: both interrupt controllers see it, as on a PC. The
 * SCI is level-triggered and active-high (MADT override), so the level is
 * passed through; edge devices raise then lower. */
static void isa_irq(struct vm *vm, unsigned irq, bool level)
{
	struct vpc *p = &vm->vpc;

	if (irq >= ISA_IRQS)
		return;
	pic_set_irq(&p->pic, irq, level);
	ioapic_set_irq(&p->ioapic, irq == 0 ? PIT_IOAPIC_PIN : irq, level);
}

static void pit_irq(void *ctx, unsigned line, bool level)
{
	(void)line;
	isa_irq(ctx, 0, level);
}

static void rtc_irq(void *ctx, unsigned line, bool level)
{
	(void)line;
	isa_irq(ctx, 8, level);
}

static void com1_irq(void *ctx, unsigned line, bool level)
{
	(void)line;
	isa_irq(ctx, UART16550_COM1_IRQ, level);
}

static void sci_irq(void *ctx, unsigned line, bool level)
{
	struct vm *vm = ctx;

	(void)line;
	vm->vpc.sci_level = level;
	isa_irq(vm, VPC_SCI_IRQ, level);
}

/* ---- delivery to vCPUs ---- */

static void kick(struct vm *vm, unsigned index)
{
	if (index < vm->nvcpus)
		sched_kick_vcpu(vm->vcpus[index]);
}

/* Lowest priority: the matching APIC with the lowest PPR (SDM 11.6.2.4;
 * ties go to the lowest index). */
static int lowest_priority(struct vm *vm, uint32_t dest, bool logical)
{
	int best = -1;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vlapic *l = &vm->vpc.lapic[i];
		if (!vlapic_match_dest(l, dest, logical))
			continue;
		if (best < 0 || vlapic_ppr(l) < vlapic_ppr(&vm->vpc.lapic[best]))
			best = (int)i;
	}
	return best;
}

static void deliver_fixed(struct vm *vm, unsigned i, uint8_t vector, bool level)
{
	if (vlapic_accept(&vm->vpc.lapic[i], vector, level))
		kick(vm, i);
}

/* One message to the APICs it names (an IOAPIC message or an IPI without
 * shorthand). */
static void route(struct vm *vm, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
		  bool level)
{
	int target;

	if (mode == LAPIC_DELIVERY_LOWEST) {
		target = lowest_priority(vm, dest, logical);
		if (target >= 0)
			deliver_fixed(vm, (unsigned)target, vector, level);
		return;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!vlapic_match_dest(&vm->vpc.lapic[i], dest, logical))
			continue;
		if (mode == LAPIC_DELIVERY_FIXED) {
			deliver_fixed(vm, i, vector, level);
		} else if (mode == LAPIC_DELIVERY_NMI) {
			vlapic_nmi(&vm->vpc.lapic[i]);
			kick(vm, i);
		}
	}
}

static void ioapic_deliver(void *ctx, const struct ioapic_msg *m)
{
	/* INIT and ExtINT through the IOAPIC are not used by PC guests: the
	 * 8259 reaches the BSP through LINT0. */
	route(ctx, m->dest, m->dest_logical, m->delivery_mode, m->vector, m->level);
}

/* INIT and SIPI change the target vCPU's registers, which only its own CPU
 * may touch: they become requests applied at its next entry (exit.c). */
static void startup_ipi(struct vm *vm, unsigned i, const struct lapic_ipi *ipi)
{
	struct vcpu *t = vm->vcpus[i];

	if (ipi->delivery == LAPIC_DELIVERY_INIT) {
		t->init_pending = true;
		t->sipi_pending = false;
	} else if (t->wait == VCPU_WAIT_SIPI || t->init_pending) {
		t->sipi_pending = true; /* a SIPI outside wait-for-SIPI is ignored */
		t->sipi_vector = ipi->vector;
	}
	kick(vm, i);
}

static bool ipi_targets(const struct vpc_cpu *from, unsigned i, const struct lapic_ipi *ipi)
{
	struct vm *vm = from->vm;

	switch (ipi->shorthand) {
	case LAPIC_SHORTHAND_SELF:
		return i == from->index;
	case LAPIC_SHORTHAND_ALL:
		return true;
	case LAPIC_SHORTHAND_ALL_BUT_SELF:
		return i != from->index;
	}
	return vlapic_match_dest(&vm->vpc.lapic[i], ipi->dest, ipi->logical);
}

static void lapic_ipi(void *ctx, const struct lapic_ipi *ipi)
{
	struct vpc_cpu *from = ctx;
	struct vm *vm = from->vm;

	if (ipi->shorthand == LAPIC_SHORTHAND_NONE && ipi->delivery != LAPIC_DELIVERY_INIT &&
	    ipi->delivery != LAPIC_DELIVERY_SIPI) {
		route(vm, ipi->dest, ipi->logical, ipi->delivery, ipi->vector, ipi->level_trigger);
		return;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!ipi_targets(from, i, ipi))
			continue;
		if (ipi->delivery == LAPIC_DELIVERY_INIT || ipi->delivery == LAPIC_DELIVERY_SIPI)
			startup_ipi(vm, i, ipi);
		else if (ipi->delivery == LAPIC_DELIVERY_NMI)
			vlapic_nmi(&vm->vpc.lapic[i]), kick(vm, i);
		else if (ipi->delivery == LAPIC_DELIVERY_FIXED ||
			 ipi->delivery == LAPIC_DELIVERY_LOWEST)
			deliver_fixed(vm, i, ipi->vector, ipi->level_trigger);
	}
}

static void lapic_eoi(void *ctx, uint8_t vector)
{
	struct vpc_cpu *c = ctx;

	ioapic_eoi(&c->vm->vpc.ioapic, vector);
}

static void lapic_changed(void *ctx)
{
	struct vpc_cpu *c = ctx;

	c->vm->vpc.due_stale = true;
	kick(c->vm, c->index);
}

/* The 8259's INT output is wired to the BSP's LINT0. */
static void pic_int(void *ctx, bool level)
{
	struct vm *vm = ctx;

	vlapic_set_lint(&vm->vpc.lapic[0], 0, level);
	if (level)
		kick(vm, 0);
}

/* ---- the LAPIC page: one MMIO range, answered by the accessing vCPU's
 * APIC ---- */

static struct vlapic *accessor_lapic(struct vm *vm)
{
	struct vcpu *v = vm->vpc.accessor;

	return v ? &vm->vpc.lapic[v->id] : NULL;
}

static status_t lapic_page_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct vlapic *l = accessor_lapic(dev);

	if (!l) {
		*val = ~0ull;
		return ST_OK;
	}
	return vlapic_mmio_ops.read(l, off, size, val);
}

static status_t lapic_page_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct vlapic *l = accessor_lapic(dev);

	if (!l)
		return ST_OK;
	return vlapic_mmio_ops.write(l, off, size, val);
}

static const struct bus_ops lapic_page_ops = {.read = lapic_page_read, .write = lapic_page_write};

/* Timer devices: an access may move a deadline, so the cached one is
 * recomputed before it is trusted again. */
static status_t pit_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct vm *vm = dev;

	vm->vpc.due_stale = true;
	return pit_ops.write(&vm->vpc.pit, off, size, val);
}

static status_t pit_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct vm *vm = dev;

	return pit_ops.read(&vm->vpc.pit, off, size, val);
}

static status_t rtc_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct vm *vm = dev;

	vm->vpc.due_stale = true;
	return rtc_ops.write(&vm->vpc.rtc, off, size, val);
}

static status_t rtc_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct vm *vm = dev;

	vm->vpc.due_stale = true; /* reading register C re-arms interrupts */
	return rtc_ops.read(&vm->vpc.rtc, off, size, val);
}

static status_t pm_evt_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct vm *vm = dev;

	vm->vpc.due_stale = true; /* TMR_EN may have changed */
	return pm_evt_ops.write(&vm->vpc.pm, off, size, val);
}

static status_t pm_evt_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct vm *vm = dev;

	return pm_evt_ops.read(&vm->vpc.pm, off, size, val);
}

static status_t com1_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct vm *vm = dev;

	vm->vpc.due_stale = true;
	return uart16550_ops.write(&vm->vpc.com1, off, size, val);
}

static status_t com1_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct vm *vm = dev;

	vm->vpc.due_stale = true;
	return uart16550_ops.read(&vm->vpc.com1, off, size, val);
}

static const struct bus_ops vpc_pit_ops = {.read = pit_read, .write = pit_write};
static const struct bus_ops vpc_rtc_ops = {.read = rtc_read, .write = rtc_write};
static const struct bus_ops vpc_pm_evt_ops = {.read = pm_evt_read, .write = pm_evt_write};
static const struct bus_ops vpc_com1_ops = {.read = com1_read, .write = com1_write};

/* ---- power ---- */

static void pm_sleep(void *ctx, unsigned typ)
{
	struct vm *vm = ctx;

	if (typ == ACPI_SLP_TYP_S5)
		vm_guest_end(vm, VM_EV_STOP, "ACPI power-off (S5)");
}

static void pm_reset(void *ctx)
{
	vm_guest_reset(ctx, false, "the guest reset the machine");
}

/* ---- set-up ---- */

struct range {
	struct bus *(*bus)(struct vm *vm);
	uint64_t base, len;
	const struct bus_ops *ops;
	void *(*dev)(struct vm *vm);
	const char *name;
};

static struct bus *pio(struct vm *vm)
{
	return &vm->pio;
}

static struct bus *mmio(struct vm *vm)
{
	return &vm->mmio;
}

static void *the_vm(struct vm *vm)
{
	return vm;
}

static void *dev_pic(struct vm *vm)
{
	return &vm->vpc.pic;
}

static void *dev_ioapic(struct vm *vm)
{
	return &vm->vpc.ioapic;
}

static void *dev_pmtimer(struct vm *vm)
{
	return &vm->vpc.pmtimer;
}

static void *dev_pm(struct vm *vm)
{
	return &vm->vpc.pm;
}

static void *dev_post(struct vm *vm)
{
	return &vm->vpc.post;
}

static void *dev_pit(struct vm *vm)
{
	return &vm->vpc.pit;
}

static const struct range ranges[] = {
    {pio, PIC_MASTER_BASE, PIC_PORTS_LEN, &pic_master_ops, dev_pic, "pic-master"},
    {pio, PIC_SLAVE_BASE, PIC_PORTS_LEN, &pic_slave_ops, dev_pic, "pic-slave"},
    {pio, PIC_ELCR_BASE, PIC_ELCR_LEN, &pic_elcr_ops, dev_pic, "elcr"},
    {pio, PIT_PORT_BASE, PIT_PORT_LEN, &vpc_pit_ops, the_vm, "pit"},
    {pio, PIT_PORT61, PIT_PORT61_LEN, &pit_port61_ops, dev_pit, "port61"},
    {pio, KBC_DATA_PORT, 1, &pm_kbc_data_ops, dev_pm, "8042-data"},
    {pio, KBC_CMD_PORT, 1, &pm_kbc_cmd_ops, dev_pm, "8042-cmd"},
    {pio, RTC_PORT_BASE, RTC_PORT_LEN, &vpc_rtc_ops, the_vm, "rtc"},
    {pio, POSTCODE_PORT, POSTCODE_LEN, &postcode_ops, dev_post, "post"},
    {pio, UART16550_COM1_BASE, UART16550_LEN, &vpc_com1_ops, the_vm, "com1"},
    {pio, VPC_PM_EVT_PORT, PM_EVT_LEN, &vpc_pm_evt_ops, the_vm, "pm1a-evt"},
    {pio, VPC_PM_CNT_PORT, PM_CNT_LEN, &pm_cnt_ops, dev_pm, "pm1a-cnt"},
    {pio, VPC_PM_TMR_PORT, PMTIMER_LEN, &pmtimer_ops, dev_pmtimer, "pm-timer"},
    {pio, RESET_CONTROL_PORT, 1, &pm_reset_ops, dev_pm, "reset"},
    {mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_LEN, &ioapic_mmio_ops, dev_ioapic, "ioapic"},
    {mmio, VLAPIC_DEFAULT_BASE, VLAPIC_MMIO_LEN, &lapic_page_ops, the_vm, "lapic"},
};

/* ---- the host's PM timer ----
 *
 * Guests read the host's ACPI PM timer directly (no exit) when the host has
 * one in I/O space: under emulators an exit costs 15-25 us, and Linux's
 * TSC calibration refuses a PM-timer sample whose three reads take longer
 * than 2^17 TSC ticks, so an emulated timer leaves its TSC "unstable". The
 * host timer and the guest TSC (the host's, no offset) share one clock.
 * The register is read-only; writes reach the host and are ignored there.
 * pmtimer=emulated keeps the model of pmtimer.c. */
static uint16_t host_pm_port; /* 0: guests get the emulated timer */
static bool host_pm_32bit;

/* Ports the VM core claims outside this file (vm.c). */
static const struct {
	uint32_t base, len;
} core_ports[] = {
    {DEBUG_EXIT_PORT, DEBUG_EXIT_LEN},
    {FW_CFG_PORT_SEL, FWCFG_PIO_LEN},
    {TESTDEV_PIO_BASE, TESTDEV_PIO_LEN},
};

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Would a passed-through [port, port + PMTIMER_LEN) hide a device? The
 * emulated PM timer's own place does not count: it moves aside. */
static bool pm_port_taken(uint32_t port)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (ranges[i].bus == pio && ranges[i].ops != &pmtimer_ops &&
		    overlaps(port, PMTIMER_LEN, (uint32_t)ranges[i].base, (uint32_t)ranges[i].len))
			return true;
	for (size_t i = 0; i < sizeof(core_ports) / sizeof(core_ports[0]); i++)
		if (overlaps(port, PMTIMER_LEN, core_ports[i].base, core_ports[i].len))
			return true;
	return false;
}

void vpc_platform_init(bool emulated)
{
	const struct acpi_info *a = platform_acpi();
	uint32_t port = a ? a->pm_timer_port : 0;

	if (emulated || !port || port + PMTIMER_LEN > BUS_PIO_LIMIT || pm_port_taken(port)) {
		pr_info("vpc: guests get an emulated ACPI PM timer at 0x%x%s\n", VPC_PM_TMR_PORT,
			emulated ? " (pmtimer=emulated)"
			: port	 ? " (the host's would hide a device)"
				 : " (the host has none in I/O space)");
		return;
	}
	if (virt_ops()->pio_passthrough((uint16_t)port, PMTIMER_LEN) != ST_OK) {
		pr_err("vpc: cannot pass the host PM timer through; guests get an emulated one\n");
		return;
	}
	host_pm_port = (uint16_t)port;
	host_pm_32bit = a->pm_timer_32bit;
	pr_info("vpc: guests read the host's ACPI PM timer at 0x%x (%s)\n", port,
		host_pm_32bit ? "32-bit" : "24-bit");
}

/* Should an access to the passed-through timer still exit (string I/O
 * emulated by Keel), it reads the host register too. */
static status_t host_pm_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	(void)dev;
	*val = (inl(host_pm_port) >> (off * 8)) &
	       (size >= 4 ? 0xFFFFFFFFull : (1ull << (size * 8)) - 1);
	return ST_OK;
}

static status_t host_pm_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	(void)dev, (void)off, (void)size, (void)val;
	return ST_OK; /* read-only register */
}

static const struct bus_ops host_pm_ops = {.read = host_pm_read, .write = host_pm_write};

static status_t register_ranges(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		const struct range *r = &ranges[i];
		status_t st;

		if (r->ops == &pmtimer_ops && host_pm_port)
			st = bus_register(pio(vm), host_pm_port, PMTIMER_LEN, &host_pm_ops, NULL,
					  "pm-timer (host)");
		else
			st = bus_register(r->bus(vm), r->base, r->len, r->ops, r->dev(vm), r->name);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

uint8_t vpc_phys_bits(void)
{
	uint32_t r[4];

	cpuid(CPUID_EXT_ADDR & 0x80000000u, 0, r);
	if (r[0] < CPUID_EXT_ADDR)
		return DEFAULT_PHYS_BITS;
	cpuid(CPUID_EXT_ADDR, 0, r);
	return (uint8_t)(r[0] & 0xFF);
}

static status_t init_lapics(struct vm *vm)
{
	struct vpc *p = &vm->vpc;
	uint8_t bits = vpc_phys_bits();

	for (unsigned i = 0; i < vm->decl.cpus; i++) {
		p->cpu[i] = (struct vpc_cpu){
		    vm, i, {&p->cpu[i], lapic_ipi, lapic_eoi, lapic_changed, bits, true, true}};
		p->cpu[i].host.ctx = &p->cpu[i];
		status_t st = vlapic_init(&p->lapic[i], i, i == 0, &p->clock, &p->cpu[i].host);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

status_t vpc_init(struct vm *vm)
{
	struct vpc *p = &vm->vpc;
	status_t st;

	p->clock = (struct vdev_clock){vm, guest_tsc, tsc_hz()};
	p->pm_host = (struct pm_host){vm, pm_sleep, pm_reset, sci_irq};
	st = init_lapics(vm);
	if (st == ST_OK)
		st = ioapic_init(&p->ioapic, VPC_IOAPIC_ID, ioapic_deliver, vm);
	if (st == ST_OK)
		st = vpc_reset(vm, false);
	if (st == ST_OK)
		st = register_ranges(vm);
	return st;
}

/* ---- reset ---- */

static status_t write_tables(struct vm *vm)
{
	uint8_t ids[KEEL_MAX_VCPUS], buf[ACPI_TABLES_BUF_SIZE];
	struct acpi_tables_layout out;
	struct acpi_tables_desc d = {
	    .table_gpa = VPC_ACPI_GPA,
	    .ncpus = vm->decl.cpus,
	    .apic_ids = ids,
	    .lapic_addr = (uint32_t)VLAPIC_DEFAULT_BASE,
	    .ioapic_id = VPC_IOAPIC_ID,
	    .ioapic_addr = (uint32_t)IOAPIC_DEFAULT_BASE,
	    .sci_irq = VPC_SCI_IRQ,
	    .pm1a_evt_port = VPC_PM_EVT_PORT,
	    .pm1a_cnt_port = VPC_PM_CNT_PORT,
	    .pm_tmr_port = host_pm_port ? host_pm_port : VPC_PM_TMR_PORT,
	    .pm_tmr_32bit = host_pm_port && host_pm_32bit,
	    .reset_port = RESET_CONTROL_PORT,
	    .reset_value = ACPI_RESET_VALUE,
	    .rtc_century = RTC_CENTURY,
	    .ecam_base = VPC_ECAM_BASE,
	    .bus_start = 0,
	    .bus_end = 0, /* no bridges: Linux then probes 32 ECAM slots, not 8192 */
	    .mmio32 = {VPC_PCI_MMIO_BASE, VPC_PCI_MMIO_SIZE},
	};
	status_t st;

	for (unsigned i = 0; i < vm->decl.cpus; i++)
		ids[i] = (uint8_t)i;
	st = acpi_tables_build(&d, buf, sizeof(buf), &out);
	if (st != ST_OK)
		return st;
	return gram_write(&vm->ram, VPC_ACPI_GPA, buf, out.size) ? ST_OK : ST_ERANGE;
}

/* RAM below 4 GiB and from 4 GiB up, for the CMOS memory-size bytes
 * (SeaBIOS-style firmware reads both). */
static void ram_split(struct vm *vm, uint64_t *below, uint64_t *above)
{
	struct gram_range r[GRAM_RANGES_MAX];
	unsigned n = gram_ranges(&vm->ram, r);

	*below = *above = 0;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].base < GRAM_HIGH_BASE)
			*below += r[i].len;
		else
			*above += r[i].len;
	}
}

/* CMOS RAM is battery-backed: a reset keeps it (guests count boots in
 * it), while the clock and status registers start over. */
static void reset_rtc(struct vm *vm, bool reboot)
{
	struct vpc *p = &vm->vpc;
	uint8_t ram[RTC_CMOS_SIZE - CMOS_RAM_FIRST];
	struct rtc_config c = {&p->clock, rtc_irq, vm, cmos_host_time(), rdtsc(), 0, 0};

	ram_split(vm, &c.ram_below_4g, &c.ram_above_4g);
	memcpy(ram, &p->rtc.cmos[CMOS_RAM_FIRST], sizeof(ram));
	rtc_init(&p->rtc, &c);
	if (reboot)
		memcpy(&p->rtc.cmos[CMOS_RAM_FIRST], ram, sizeof(ram));
}

status_t vpc_reset(struct vm *vm, bool reboot)
{
	struct vpc *p = &vm->vpc;

	for (unsigned i = 0; i < vm->decl.cpus; i++)
		vlapic_reset_power(&p->lapic[i]);
	vlapic_virtual_wire(&p->lapic[0]); /* as firmware leaves the BSP */
	if (ioapic_init(&p->ioapic, VPC_IOAPIC_ID, ioapic_deliver, vm) != ST_OK)
		return ST_EINVAL;
	pic_init(&p->pic, pic_int, vm);
	pit_init(&p->pit, &p->clock, pit_irq, vm);
	pmtimer_init(&p->pmtimer, &p->clock, rdtsc());
	p->pmtimer_cursor = 0;
	reset_rtc(vm, reboot);
	postcode_init(&p->post);
	uart16550_init(&p->com1, &vm->con, &p->clock, com1_irq, vm);
	pm_init(&p->pm, &p->pm_host);
	p->sci_level = false;
	p->accessor = NULL;
	p->due_stale = true;
	(void)vpc_due(vm); /* not the last run's deadline */
	return write_tables(vm);
}

/* ---- timers ---- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t compute_due(struct vm *vm)
{
	struct vpc *p = &vm->vpc;
	uint64_t due = min_u64(pit_irq_due(&p->pit), rtc_irq_due(&p->rtc));

	due = min_u64(due, uart16550_next_event(&p->com1));
	if (p->pm.en & PM1_TMR_EN)
		due = min_u64(due, pmtimer_overflow_due(&p->pmtimer, p->pmtimer_cursor));
	for (unsigned i = 0; i < vm->nvcpus; i++)
		due = min_u64(due, vlapic_timer_due(&p->lapic[i]));
	return due;
}

uint64_t vpc_due(struct vm *vm)
{
	struct vpc *p = &vm->vpc;

	if (p->due_stale) {
		p->due = compute_due(vm);
		p->due_stale = false;
	}
	return p->due;
}

void vpc_timers_update(struct vm *vm, uint64_t now)
{
	struct vpc *p = &vm->vpc;

	(void)now; /* the models read the clock themselves */
	pit_update(&p->pit);
	rtc_update(&p->rtc);
	uart16550_tick(&p->com1);
	if (pmtimer_overflows_since(&p->pmtimer, &p->pmtimer_cursor))
		pm_timer_carry(&p->pm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vlapic_timer_update(&p->lapic[i]))
			kick(vm, i);
	p->due_stale = true;
}

/* ---- injection ---- */

bool vpc_pending(struct vm *vm, struct vcpu *v, struct guest_event *ev)
{
	struct vlapic *l = &vm->vpc.lapic[v->id];
	int vec;

	if (vlapic_nmi_pending(l)) {
		*ev = (struct guest_event){.type = GEV_NMI, .vector = VEC_NMI};
		return true;
	}
	if (vlapic_lint0_extint(l) && pic_int_output(&vm->vpc.pic)) {
		*ev = (struct guest_event){.type = GEV_EXTINT, .vector = 0}; /* the INTA gives it */
		return true;
	}
	vec = vlapic_pending(l);
	if (vec < 0)
		return false;
	*ev = (struct guest_event){.type = GEV_EXTINT, .vector = (uint8_t)vec};
	return true;
}

void vpc_ack(struct vm *vm, struct vcpu *v, struct guest_event *ev)
{
	struct vlapic *l = &vm->vpc.lapic[v->id];

	if (ev->type == GEV_NMI)
		vlapic_nmi_ack(l);
	else if (ev->vector == 0) /* ExtINT: the 8259 supplies the vector now */
		ev->vector = pic_intack(&vm->vpc.pic);
	else
		vlapic_ack(l, ev->vector);
}

/* ---- MSRs and CR8 ---- */

bool vpc_is_lapic_msr(uint32_t msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST);
}

bool vpc_msr_read(struct vm *vm, struct vcpu *v, uint32_t msr, uint64_t *val)
{
	return vlapic_msr_read(&vm->vpc.lapic[v->id], msr, val);
}

/* The LAPIC page stays at its default address: relocating it (which no PC
 * guest does) is refused with #GP rather than half done. */
bool vpc_msr_write(struct vm *vm, struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vlapic *l = &vm->vpc.lapic[v->id];

	if (msr == VLAPIC_MSR_APIC_BASE &&
	    (val & ~0xFFFull & ((1ull << 52) - 1)) != VLAPIC_DEFAULT_BASE)
		return false;
	vm->vpc.due_stale = true;
	return vlapic_msr_write(l, msr, val);
}

uint8_t vpc_cr8(struct vm *vm, struct vcpu *v)
{
	return vlapic_tpr(&vm->vpc.lapic[v->id]) >> 4;
}

void vpc_set_cr8(struct vm *vm, struct vcpu *v, uint8_t cr8)
{
	vlapic_set_tpr(&vm->vpc.lapic[v->id], (uint8_t)(cr8 << 4));
}

unsigned vpc_tpr_blocked(struct vm *vm, struct vcpu *v)
{
	return vlapic_tpr_blocked(&vm->vpc.lapic[v->id]);
}

/* ---- management ---- */

bool vpc_console_input(struct vm *vm, uint8_t byte)
{
	vm->vpc.due_stale = true; /* a character timeout may now be due */
	return uart16550_rx(&vm->vpc.com1, byte);
}

void vpc_power_button(struct vm *vm)
{
	pm_power_button(&vm->vpc.pm);
}
