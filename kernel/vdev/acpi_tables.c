/* ACPI table builder (see acpi_tables.h). Field offsets and values are from
 * the ACPI 6.3 specification, chapter 5 (tables) and 6.4 (resources). */
#include "vdev/acpi_tables.h"
#include "vdev/aml.h"
#include "keel/kstring.h"

/* 5.2.6 system description table header */
#define HDR_LEN 36u
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9
#define HDR_OEM_ID 10
#define HDR_OEM_TABLE_ID 16
#define HDR_OEM_REVISION 24
#define HDR_CREATOR_ID 28
#define HDR_CREATOR_REVISION 32
#define OEM_ID "KEEL  "
#define OEM_TABLE_ID "KEELVM  "
#define OEM_REVISION 1
#define CREATOR_ID "KEEL"
#define CREATOR_REVISION 1

/* 5.2.5.3 RSDP */
#define RSDP_LEN 36u
#define RSDP_V1_LEN 20u
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_REV_ACPI2 2

/* 5.2.9 FADT, revision 6.3 */
#define FADT_LEN 276u
#define FADT_REV 6
#define FADT_MINOR_REV 3
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208

#define P_LVL2_UNSUPPORTED 101	/* > 100 us: no C2 */
#define P_LVL3_UNSUPPORTED 1001 /* > 1000 us: no C3 */

#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)

#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_FIX_RTC (1u << 6)
#define FADT_F_TMR_VAL_EXT (1u << 8)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_APIC_PHYSICAL (1u << 19)

/* 5.2.3.2 generic address structure */
#define GAS_LEN 12u
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3
#define BITS_PER_BYTE 8

/* 5.2.10 FACS */
#define FACS_LEN 64u
#define FACS_ALIGN 64u
#define FACS_LENGTH 4
#define FACS_VERSION 32
#define FACS_VERSION_2 2

/* 5.2.12 MADT, revision 5 */
#define MADT_REV 5
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44u
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_LAPIC_LEN 8u
#define MADT_LAPIC_ENABLED 1u
#define MADT_IOAPIC 1
#define MADT_IOAPIC_LEN 12u
#define MADT_ISO 2
#define MADT_ISO_LEN 10u
#define MADT_ISO_COUNT 2u
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_NMI_LEN 6u
#define MPS_ACTIVE_HIGH 0x1u
#define MPS_EDGE (0x1u << 2)
#define MPS_LEVEL (0x3u << 2)
#define ISA_BUS 0
#define PIT_IRQ 0
#define PIT_GSI 2
#define ALL_PROCESSORS 0xFF
#define NMI_LINT 1
#define MAX_XAPIC_ID 254
#define ISA_IRQS 16
#define CASCADE_IRQ 2

/* MCFG (PCI Firmware spec, listed in 5.2.6) */
#define MCFG_REV 1
#define MCFG_ENTRIES 44u
#define MCFG_ENTRY_LEN 16u
#define ECAM_BUS_SHIFT 20 /* 1 MiB of configuration space per bus */

#define RSDT_REV 1
#define XSDT_REV 1
#define DSDT_REV 2     /* 64-bit integers */
#define ROOT_ENTRIES 3 /* FADT, MADT, MCFG */

#define TABLE_ALIGN 8u
#define APIC_PAGE 0x1000u
#define GPA_LIMIT (1ull << 32) /* RSDT and FADT hold 32-bit pointers */
#define IO_SPACE 0x10000u

/* PCI I/O: the bridge decodes 0xCF8-0xCFF itself; the rest is a window. */
#define PCI_CONFIG_PORT 0xCF8
#define PCI_CONFIG_PORTS 8
#define IO_WINDOW_LOW_END 0x0CF7
#define IO_WINDOW_HIGH_START 0x0D00
#define IO_WINDOW_HIGH_END 0xFFFF

struct ctx {
	const struct acpi_tables_desc *d;
	uint8_t *buf;
	size_t cap;
	struct acpi_tables_layout l;
};

/* ---- little-endian writers and checksums ---- */

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, (uint16_t)v);
	w16(p + 2, (uint16_t)(v >> 16));
}

static void w64(uint8_t *p, uint64_t v)
{
	w32(p, (uint32_t)v);
	w32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Sets p[at] so that p[0, n) sums to zero. */
static void set_checksum(uint8_t *p, size_t n, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)-sum8(p, n);
}

static uint64_t gpa(const struct ctx *c, size_t off)
{
	return c->d->table_gpa + off;
}

/* ---- description checks ---- */

static bool apic_ids_ok(const struct acpi_tables_desc *d)
{
	if (!d->apic_ids || d->ncpus == 0 || d->ncpus > ACPI_TABLES_MAX_CPUS)
		return false;
	for (uint32_t i = 0; i < d->ncpus; i++) {
		if (d->apic_ids[i] > MAX_XAPIC_ID)
			return false;
		for (uint32_t j = 0; j < i; j++)
			if (d->apic_ids[j] == d->apic_ids[i])
				return false;
	}
	return true;
}

struct io_block {
	unsigned port, len;
};

static bool io_overlap(struct io_block a, struct io_block b)
{
	return a.port < b.port + b.len && b.port < a.port + a.len;
}

static bool io_block_ok(struct io_block b)
{
	return b.port != 0 && b.port + b.len <= IO_SPACE;
}

static bool pm_ports_ok(const struct acpi_tables_desc *d)
{
	struct io_block evt = {d->pm1a_evt_port, ACPI_PM1_EVT_LEN};
	struct io_block cnt = {d->pm1a_cnt_port, ACPI_PM1_CNT_LEN};
	struct io_block tmr = {d->pm_tmr_port, ACPI_PM_TMR_LEN};

	if (!io_block_ok(evt) || !io_block_ok(cnt) || !io_block_ok(tmr))
		return false;
	return !io_overlap(evt, cnt) && !io_overlap(evt, tmr) && !io_overlap(cnt, tmr);
}

static bool irqs_ok(const struct acpi_tables_desc *d)
{
	return d->ioapic_gsi_base == 0 && d->sci_irq != PIT_IRQ && d->sci_irq != CASCADE_IRQ &&
	       d->sci_irq < ISA_IRQS;
}

/* Ranges are compared by their last byte, so a window ending at 2^64 works. */
static bool win_valid(const struct acpi_window *w)
{
	return w->size != 0 && w->base + (w->size - 1) >= w->base;
}

static uint64_t win_last(const struct acpi_window *w)
{
	return w->base + (w->size - 1);
}

static bool win_overlap(const struct acpi_window *a, const struct acpi_window *b)
{
	return a->size && b->size && a->base <= win_last(b) && b->base <= win_last(a);
}

static struct acpi_window ecam_range(const struct acpi_tables_desc *d)
{
	struct acpi_window w = {
	    .base = d->ecam_base + ((uint64_t)d->bus_start << ECAM_BUS_SHIFT),
	    .size = (uint64_t)(d->bus_end - d->bus_start + 1) << ECAM_BUS_SHIFT,
	};

	return w;
}

/* The ECAM from bus 0 to bus_end must not wrap. */
static bool ecam_ok(const struct acpi_tables_desc *d)
{
	uint64_t span = (uint64_t)(d->bus_end + 1) << ECAM_BUS_SHIFT;

	return d->bus_start <= d->bus_end && !(d->ecam_base & ((1ull << ECAM_BUS_SHIFT) - 1)) &&
	       d->ecam_base <= UINT64_MAX - (span - 1);
}

static bool pci_ok(const struct acpi_tables_desc *d)
{
	const struct acpi_window *w32 = &d->mmio32, *w64 = &d->mmio64;
	struct acpi_window ecam;

	if (!ecam_ok(d) || !win_valid(w32) || win_last(w32) >= GPA_LIMIT)
		return false;
	if (w64->size && (!win_valid(w64) || win_overlap(w64, w32)))
		return false;
	ecam = ecam_range(d);
	return !win_overlap(&ecam, w32) && !win_overlap(&ecam, w64);
}

/* The APICs' pages are the platform's, not a PCI window's or the ECAM's. */
static bool apics_outside_pci(const struct acpi_tables_desc *d)
{
	const struct acpi_window apics[] = {{d->lapic_addr, APIC_PAGE},
					    {d->ioapic_addr, APIC_PAGE}};
	struct acpi_window ecam = ecam_range(d);

	for (unsigned i = 0; i < sizeof(apics) / sizeof(apics[0]); i++) {
		if (win_overlap(&apics[i], &d->mmio32) || win_overlap(&apics[i], &d->mmio64) ||
		    win_overlap(&apics[i], &ecam))
			return false;
	}
	return true;
}

static bool desc_ok(const struct acpi_tables_desc *d)
{
	return d->table_gpa % ACPI_TABLES_GPA_ALIGN == 0 && apic_ids_ok(d) && irqs_ok(d) &&
	       pm_ports_ok(d) && pci_ok(d) && apics_outside_pci(d);
}

/* ---- layout ---- */

static size_t madt_len(const struct acpi_tables_desc *d)
{
	return MADT_ENTRIES + d->ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN +
	       MADT_ISO_COUNT * MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;
}

/* The offset of the first `align`-aligned guest address at or after off. */
static size_t place(const struct ctx *c, size_t off, size_t align)
{
	uint64_t at = gpa(c, off);

	return off + (size_t)((align - at % align) % align);
}

static void lay_out(struct ctx *c)
{
	struct acpi_tables_layout *l = &c->l;

	l->rsdp = 0;
	l->facs = place(c, l->rsdp + RSDP_LEN, FACS_ALIGN);
	l->fadt = place(c, l->facs + FACS_LEN, TABLE_ALIGN);
	l->madt = place(c, l->fadt + FADT_LEN, TABLE_ALIGN);
	l->mcfg = place(c, l->madt + madt_len(c->d), TABLE_ALIGN);
	l->rsdt = place(c, l->mcfg + MCFG_ENTRIES + MCFG_ENTRY_LEN, TABLE_ALIGN);
	l->xsdt = place(c, l->rsdt + HDR_LEN + ROOT_ENTRIES * 4, TABLE_ALIGN);
	l->dsdt = place(c, l->xsdt + HDR_LEN + ROOT_ENTRIES * 8, TABLE_ALIGN);
}

/* ---- common pieces ---- */

static uint8_t *header(struct ctx *c, size_t off, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *t = c->buf + off;

	memcpy(t, sig, 4);
	w32(t + HDR_LENGTH, len);
	t[HDR_REVISION] = rev;
	memcpy(t + HDR_OEM_ID, OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, OEM_TABLE_ID, 8);
	w32(t + HDR_OEM_REVISION, OEM_REVISION);
	memcpy(t + HDR_CREATOR_ID, CREATOR_ID, 4);
	w32(t + HDR_CREATOR_REVISION, CREATOR_REVISION);
	return t;
}

static void finish(uint8_t *t)
{
	uint32_t len = t[HDR_LENGTH] | (uint32_t)t[HDR_LENGTH + 1] << 8 |
		       (uint32_t)t[HDR_LENGTH + 2] << 16 | (uint32_t)t[HDR_LENGTH + 3] << 24;

	set_checksum(t, len, HDR_CHECKSUM);
}

static void gas_io(uint8_t *p, unsigned bytes, uint8_t access, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = (uint8_t)(bytes * BITS_PER_BYTE);
	p[2] = 0; /* bit offset */
	p[3] = access;
	w64(p + 4, port);
}

/* ---- DSDT ---- */

static void dsdt_s5(struct aml *a)
{
	struct aml_pkg p;

	aml_name(a, "\\_S5");
	p = aml_package(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5); /* PM1a_CNT.SLP_TYP */
	aml_integer(a, ACPI_SLP_TYP_S5); /* PM1b_CNT.SLP_TYP (no PM1b) */
	aml_integer(a, 0);		 /* reserved */
	aml_integer(a, 0);
	aml_end(a, p);
}

static void memory_range(struct aml *a, enum aml_rt_usage usage, const struct acpi_window *w)
{
	if (win_last(w) < GPA_LIMIT)
		aml_rt_dword_memory(a, usage, (uint32_t)w->base, (uint32_t)win_last(w));
	else
		aml_rt_qword_memory(a, usage, w->base, win_last(w));
}

static void pci0_crs(struct aml *a, const struct acpi_tables_desc *d)
{
	struct aml_pkg rt;

	aml_name(a, "_CRS");
	rt = aml_buffer(a);
	aml_rt_word_bus_number(a, d->bus_start, d->bus_end);
	aml_rt_io(a, PCI_CONFIG_PORT, PCI_CONFIG_PORT, 1, PCI_CONFIG_PORTS);
	aml_rt_word_io(a, 0, IO_WINDOW_LOW_END);
	aml_rt_word_io(a, IO_WINDOW_HIGH_START, IO_WINDOW_HIGH_END);
	memory_range(a, AML_RT_PRODUCER, &d->mmio32); /* below 4 GiB: a DWord */
	if (d->mmio64.size)
		memory_range(a, AML_RT_PRODUCER, &d->mmio64);
	aml_rt_end_tag(a);
	aml_end(a, rt);
}

static void dsdt_pci0(struct aml *a, const struct acpi_tables_desc *d)
{
	struct aml_pkg dev = aml_device(a, "PCI0");

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08"); /* PCI Express root bridge */
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03"); /* PCI root bridge */
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, d->bus_start);
	pci0_crs(a, d);
	aml_end(a, dev);
}

/* The ECAM range as a motherboard resource, so Linux trusts the MCFG. */
static void dsdt_mres(struct aml *a, const struct acpi_tables_desc *d)
{
	struct aml_pkg dev = aml_device(a, "MRES"), rt;
	struct acpi_window ecam = ecam_range(d);

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	rt = aml_buffer(a);
	memory_range(a, AML_RT_CONSUMER, &ecam);
	aml_rt_end_tag(a);
	aml_end(a, rt);
	aml_end(a, dev);
}

static status_t build_dsdt(struct ctx *c, size_t *len)
{
	struct aml a;
	struct aml_pkg sb;
	status_t st;

	if (c->l.dsdt + HDR_LEN > c->cap)
		return ST_ERANGE;
	aml_init(&a, c->buf + c->l.dsdt + HDR_LEN, c->cap - c->l.dsdt - HDR_LEN);
	dsdt_s5(&a);
	sb = aml_scope(&a, "\\_SB");
	dsdt_pci0(&a, c->d);
	dsdt_mres(&a, c->d);
	aml_end(&a, sb);
	st = aml_status(&a);
	if (st != ST_OK)
		return st;
	*len = HDR_LEN + aml_len(&a);
	finish(header(c, c->l.dsdt, "DSDT", (uint32_t)*len, DSDT_REV));
	return ST_OK;
}

/* ---- fixed-size tables ---- */

static void build_rsdp(struct ctx *c)
{
	uint8_t *r = c->buf + c->l.rsdp;

	memcpy(r, "RSD PTR ", 8);
	memcpy(r + RSDP_OEM_ID, OEM_ID, 6);
	r[RSDP_REVISION] = RSDP_REV_ACPI2;
	w32(r + RSDP_RSDT, (uint32_t)gpa(c, c->l.rsdt));
	w32(r + RSDP_LENGTH, RSDP_LEN);
	w64(r + RSDP_XSDT, gpa(c, c->l.xsdt));
	set_checksum(r, RSDP_V1_LEN, RSDP_CHECKSUM);
	set_checksum(r, RSDP_LEN, RSDP_EXT_CHECKSUM);
}

static void build_facs(struct ctx *c)
{
	uint8_t *f = c->buf + c->l.facs;

	memcpy(f, "FACS", 4);
	w32(f + FACS_LENGTH, FACS_LEN);
	f[FACS_VERSION] = FACS_VERSION_2; /* no checksum: the FACS has none */
}

static uint32_t fadt_flags(const struct acpi_tables_desc *d)
{
	uint32_t f = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC |
		     FADT_F_APIC_PHYSICAL;

	if (d->pm_tmr_32bit)
		f |= FADT_F_TMR_VAL_EXT;
	if (d->reset_port)
		f |= FADT_F_RESET_REG_SUP;
	return f;
}

static void fadt_pm_blocks(uint8_t *t, const struct acpi_tables_desc *d)
{
	w32(t + FADT_PM1A_EVT_BLK, d->pm1a_evt_port);
	w32(t + FADT_PM1A_CNT_BLK, d->pm1a_cnt_port);
	w32(t + FADT_PM_TMR_BLK, d->pm_tmr_port);
	t[FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = ACPI_PM_TMR_LEN;
	/* PM1 status, enable and control are 16-bit registers. */
	gas_io(t + FADT_X_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD, d->pm1a_evt_port);
	gas_io(t + FADT_X_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD, d->pm1a_cnt_port);
	gas_io(t + FADT_X_PM_TMR_BLK, ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD, d->pm_tmr_port);
}

static void build_fadt(struct ctx *c)
{
	const struct acpi_tables_desc *d = c->d;
	uint8_t *t = header(c, c->l.fadt, "FACP", FADT_LEN, FADT_REV);

	w32(t + FADT_FIRMWARE_CTRL, (uint32_t)gpa(c, c->l.facs));
	w32(t + FADT_DSDT, (uint32_t)gpa(c, c->l.dsdt));
	w16(t + FADT_SCI_INT, d->sci_irq);
	w32(t + FADT_SMI_CMD, 0); /* no SMI: ACPI mode is always on */
	fadt_pm_blocks(t, d);
	w16(t + FADT_P_LVL2_LAT, P_LVL2_UNSUPPORTED);
	w16(t + FADT_P_LVL3_LAT, P_LVL3_UNSUPPORTED);
	t[FADT_CENTURY] = d->rtc_century;
	w16(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_VGA_NOT_PRESENT);
	w32(t + FADT_FLAGS, fadt_flags(d));
	if (d->reset_port) {
		gas_io(t + FADT_RESET_REG, 1, GAS_ACCESS_BYTE, d->reset_port);
		t[FADT_RESET_VALUE] = d->reset_value;
	}
	t[FADT_MINOR_VERSION] = FADT_MINOR_REV;
	w64(t + FADT_X_FIRMWARE_CTRL, gpa(c, c->l.facs));
	w64(t + FADT_X_DSDT, gpa(c, c->l.dsdt));
	finish(t);
}

static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = MADT_ISO_LEN;
	e[2] = ISA_BUS;
	e[3] = irq;
	w32(e + 4, gsi);
	w16(e + 8, flags);
	return e + MADT_ISO_LEN;
}

static uint8_t *madt_ioapic(uint8_t *e, const struct acpi_tables_desc *d)
{
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = d->ioapic_id;
	w32(e + 4, d->ioapic_addr);
	w32(e + 8, d->ioapic_gsi_base);
	return e + MADT_IOAPIC_LEN;
}

static void build_madt(struct ctx *c)
{
	const struct acpi_tables_desc *d = c->d;
	uint8_t *t = header(c, c->l.madt, "APIC", (uint32_t)madt_len(d), MADT_REV);
	uint8_t *e = t + MADT_ENTRIES;

	w32(t + MADT_LAPIC_ADDR, d->lapic_addr);
	w32(t + MADT_FLAGS, MADT_PCAT_COMPAT);
	for (uint32_t i = 0; i < d->ncpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i; /* processor UID */
		e[3] = d->apic_ids[i];
		w32(e + 4, MADT_LAPIC_ENABLED);
	}
	e = madt_ioapic(e, d);
	e = madt_iso(e, PIT_IRQ, PIT_GSI, MPS_EDGE | MPS_ACTIVE_HIGH);
	e = madt_iso(e, d->sci_irq, d->sci_irq, MPS_LEVEL | MPS_ACTIVE_HIGH);
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = ALL_PROCESSORS;
	w16(e + 3, 0); /* conforms to the bus: edge, active high */
	e[5] = NMI_LINT;
	finish(t);
}

static void build_mcfg(struct ctx *c)
{
	const struct acpi_tables_desc *d = c->d;
	uint8_t *t = header(c, c->l.mcfg, "MCFG", MCFG_ENTRIES + MCFG_ENTRY_LEN, MCFG_REV);
	uint8_t *e = t + MCFG_ENTRIES;

	w64(e, d->ecam_base);
	w16(e + 8, 0); /* PCI segment group */
	e[10] = d->bus_start;
	e[11] = d->bus_end;
	finish(t);
}

static void build_roots(struct ctx *c)
{
	const size_t tables[ROOT_ENTRIES] = {c->l.fadt, c->l.madt, c->l.mcfg};
	uint8_t *rsdt = header(c, c->l.rsdt, "RSDT", HDR_LEN + ROOT_ENTRIES * 4, RSDT_REV);
	uint8_t *xsdt = header(c, c->l.xsdt, "XSDT", HDR_LEN + ROOT_ENTRIES * 8, XSDT_REV);

	for (unsigned i = 0; i < ROOT_ENTRIES; i++) {
		w32(rsdt + HDR_LEN + 4 * i, (uint32_t)gpa(c, tables[i]));
		w64(xsdt + HDR_LEN + 8 * i, gpa(c, tables[i]));
	}
	finish(rsdt);
	finish(xsdt);
}

status_t acpi_tables_build(const struct acpi_tables_desc *d, void *buf, size_t cap,
			   struct acpi_tables_layout *out)
{
	struct ctx c = {.d = d, .buf = buf, .cap = cap};
	size_t dsdt_len = 0;
	status_t st;

	if (!d || !buf || !out || !desc_ok(d))
		return ST_EINVAL;
	lay_out(&c);
	if (c.l.dsdt > cap)
		return ST_ERANGE;
	memset(buf, 0, c.l.dsdt); /* padding and reserved fields read 0 */
	st = build_dsdt(&c, &dsdt_len);
	if (st != ST_OK)
		return st;
	c.l.size = c.l.dsdt + dsdt_len;
	if (d->table_gpa >= GPA_LIMIT || c.l.size > GPA_LIMIT - d->table_gpa)
		return ST_ERANGE;
	build_rsdp(&c);
	build_facs(&c);
	build_fadt(&c);
	build_madt(&c);
	build_mcfg(&c);
	build_roots(&c);
	*out = c.l;
	return ST_OK;
}
