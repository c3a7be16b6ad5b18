/* Unit tests for the guest ACPI table builder (kernel/vdev/acpi_tables.c).
 * The tables are built into a buffer, then read back through Keel's own
 * parser (drivers/acpi/acpi.c) over a fake physical memory that holds the
 * buffer at its guest-physical address. Fields the parser does not report
 * are read from the raw bytes at the offsets the ACPI 6.3 specification
 * gives, spelled out here rather than taken from the builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/acpi/acpi.h"
#include "vdev/acpi_tables.h"

#define TABLE_GPA 0xE0000ull
#define PM1A_EVT 0x600
#define PM1A_CNT 0x604
#define PM_TMR 0x608
#define ECAM 0xB0000000ull
#define MMIO32_BASE 0xC0000000ull
#define MMIO32_SIZE 0x3EC00000ull /* up to the IOAPIC */
#define MMIO64_BASE 0x8000000000ull
#define MMIO64_SIZE 0x8000000000ull

static uint8_t buf[ACPI_TABLES_BUF_SIZE];
static struct acpi_tables_layout lay;
static struct acpi_info info;
static uint8_t ids[ACPI_TABLES_MAX_CPUS];

/* ---- fake guest memory over buf ---- */

struct fake_mem {
	const uint8_t *data;
	uint64_t base;
	size_t len;
	void *last; /* previous map, freed by the next one */
};

static struct fake_mem fm;

/* Each map() returns a fresh heap copy of exactly len bytes and frees the
 * previous one, so ASan catches reads past it or after the next map(). */
static const void *fake_map(void *ctx, uint64_t pa, size_t len)
{
	struct fake_mem *m = ctx;

	free(m->last);
	m->last = NULL;
	if (pa < m->base || len > m->len || pa - m->base > m->len - len)
		return NULL;
	m->last = malloc(len ? len : 1);
	memcpy(m->last, m->data + (pa - m->base), len);
	return m->last;
}

static const struct acpi_mem mem = {&fm, fake_map};

/* ---- little-endian readers and checks ---- */

static uint32_t rd16(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

static void fill_desc(struct acpi_tables_desc *d, uint32_t ncpus)
{
	memset(d, 0, sizeof(*d));
	for (uint32_t i = 0; i < ncpus; i++)
		ids[i] = (uint8_t)(2 * i); /* sparse, as with SMT siblings hidden */
	d->table_gpa = TABLE_GPA;
	d->ncpus = ncpus;
	d->apic_ids = ids;
	d->lapic_addr = 0xFEE00000;
	d->ioapic_id = 0xF0;
	d->ioapic_addr = 0xFEC00000;
	d->sci_irq = 9;
	d->pm1a_evt_port = PM1A_EVT;
	d->pm1a_cnt_port = PM1A_CNT;
	d->pm_tmr_port = PM_TMR;
	d->reset_port = 0xCF9;
	d->reset_value = 6;
	d->rtc_century = 0x32;
	d->ecam_base = ECAM;
	d->bus_start = 0;
	d->bus_end = 255;
	d->mmio32.base = MMIO32_BASE;
	d->mmio32.size = MMIO32_SIZE;
	d->mmio64.base = MMIO64_BASE;
	d->mmio64.size = MMIO64_SIZE;
}

static void build(const struct acpi_tables_desc *d)
{
	memset(buf, 0xCC, sizeof(buf));
	assert_int_equal(acpi_tables_build(d, buf, sizeof(buf), &lay), ST_OK);
	assert_true(lay.size <= sizeof(buf));
	fm.data = buf;
	fm.base = d->table_gpa;
	fm.len = lay.size;
}

static void parse_rsdp(const uint8_t *rsdp)
{
	char err[128];

	assert_int_equal(acpi_parse(rsdp, 36, &mem, &info, err, sizeof(err)), ST_OK);
	free(fm.last);
	fm.last = NULL;
}

static void build_and_parse(const struct acpi_tables_desc *d)
{
	build(d);
	parse_rsdp(buf + lay.rsdp);
}

static const uint8_t *table(size_t off)
{
	return buf + off;
}

static uint32_t table_len(size_t off)
{
	return rd32(buf + off + 4);
}

/* ---- the parser's view ---- */

static void check_parsed(const struct acpi_tables_desc *d)
{
	assert_int_equal(info.rsdp_revision, 2);
	assert_true(info.xsdt_used);
	assert_memory_equal(info.oem_id, "KEEL  ", 6);
	/* XSDT, FADT, DSDT, MADT, MCFG: all found, none bad. */
	assert_int_equal(info.ntables, 5);
	assert_int_equal(info.nbad, 0);
	assert_int_equal(info.truncated, 0);

	assert_int_equal(info.ncpus, d->ncpus);
	for (uint32_t i = 0; i < d->ncpus; i++) {
		assert_int_equal(info.cpus[i].apic_id, d->apic_ids[i]);
		assert_int_equal(info.cpus[i].uid, i);
		assert_true(info.cpus[i].enabled);
	}
	assert_int_equal(info.lapic_base, 0xFEE00000);
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].id, 0xF0);
	assert_int_equal(info.ioapics[0].addr, 0xFEC00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);

	/* IRQ0 -> GSI2 edge/high (0x5); SCI IRQ9 -> GSI9 level/high (0xD). */
	assert_int_equal(info.nisos, 2);
	assert_int_equal(info.isos[0].bus, 0);
	assert_int_equal(info.isos[0].source, 0);
	assert_int_equal(info.isos[0].gsi, 2);
	assert_int_equal(info.isos[0].flags, 0x5);
	assert_int_equal(info.isos[1].source, 9);
	assert_int_equal(info.isos[1].gsi, 9);
	assert_int_equal(info.isos[1].flags, 0xD);

	assert_true(info.has_fadt);
	assert_int_equal(info.fadt_revision, 6);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.pm_timer_port, PM_TMR);
	assert_int_equal(info.pm_timer_32bit, d->pm_tmr_32bit);
	assert_int_equal(info.pm1a_cnt, PM1A_CNT);
	assert_int_equal(info.pm1b_cnt, 0);
	assert_true(info.reset_supported);
	assert_int_equal(info.reset_space, 1); /* System I/O */
	assert_int_equal(info.reset_addr, 0xCF9);
	assert_int_equal(info.reset_value, 6);

	assert_true(info.s5_valid);
	assert_int_equal(info.s5_slp_typa, ACPI_SLP_TYP_S5);
	assert_int_equal(info.s5_slp_typb, ACPI_SLP_TYP_S5);
	assert_int_equal(ACPI_SLP_TYP_S5, 5);

	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.mcfg[0].base, d->ecam_base);
	assert_int_equal(info.mcfg[0].segment, 0);
	assert_int_equal(info.mcfg[0].bus_start, d->bus_start);
	assert_int_equal(info.mcfg[0].bus_end, d->bus_end);
	assert_false(info.has_spcr);
}

/* ---- raw checks ---- */

static void check_header(size_t off, const char *sig, uint32_t len, uint8_t rev)
{
	const uint8_t *t = table(off);

	assert_memory_equal(t, sig, 4);
	assert_int_equal(table_len(off), len);
	assert_int_equal(t[8], rev);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "KEEL  ", 6);
	assert_true(off + len <= lay.size);
	assert_int_equal((fm.base + off) % 8, 0);
}

static void check_layout(uint32_t ncpus)
{
	const uint8_t *r = table(lay.rsdp);
	uint64_t gpa = fm.base;

	assert_int_equal(lay.rsdp, 0);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 16), gpa + lay.rsdt);
	assert_int_equal(rd32(r + 20), 36);
	assert_int_equal(rd64(r + 24), gpa + lay.xsdt);

	check_header(lay.rsdt, "RSDT", 36 + 3 * 4, 1);
	check_header(lay.xsdt, "XSDT", 36 + 3 * 8, 1);
	check_header(lay.fadt, "FACP", 276, 6);
	check_header(lay.madt, "APIC", 44 + 8 * ncpus + 12 + 2 * 10 + 6, 5);
	check_header(lay.mcfg, "MCFG", 60, 1);
	check_header(lay.dsdt, "DSDT", table_len(lay.dsdt), 2);
	assert_int_equal(lay.dsdt + table_len(lay.dsdt), lay.size);

	/* Both roots list FADT, MADT, MCFG at the same addresses. */
	const size_t want[] = {lay.fadt, lay.madt, lay.mcfg};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(rd32(table(lay.rsdt) + 36 + 4 * i), gpa + want[i]);
		assert_int_equal(rd64(table(lay.xsdt) + 36 + 8 * i), gpa + want[i]);
	}

	/* FACS: 64 bytes, 64-byte aligned in guest-physical terms. */
	assert_memory_equal(table(lay.facs), "FACS", 4);
	assert_int_equal(rd32(table(lay.facs) + 4), 64);
	assert_int_equal(table(lay.facs)[32], 2);
	assert_int_equal((gpa + lay.facs) % 64, 0);
}

static void check_fadt_raw(const struct acpi_tables_desc *d)
{
	const uint8_t *f = table(lay.fadt);
	uint64_t gpa = d->table_gpa;
	uint32_t flags = rd32(f + 112);

	assert_int_equal(rd32(f + 36), gpa + lay.facs);
	assert_int_equal(rd32(f + 40), gpa + lay.dsdt);
	assert_int_equal(rd64(f + 132), gpa + lay.facs);
	assert_int_equal(rd64(f + 140), gpa + lay.dsdt);
	assert_int_equal(rd32(f + 48), 0); /* SMI_CMD: ACPI always enabled */
	assert_int_equal(rd32(f + 56), PM1A_EVT);
	assert_int_equal(rd32(f + 60), 0); /* no PM1b */
	assert_int_equal(rd32(f + 80), 0); /* no GPE0 */
	assert_int_equal(f[88], 4);	   /* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);	   /* PM1_CNT_LEN */
	assert_int_equal(f[91], 4);	   /* PM_TMR_LEN */
	assert_true(rd16(f + 96) > 100);   /* no C2 */
	assert_true(rd16(f + 98) > 1000);  /* no C3 */
	assert_int_equal(f[108], 0x32);	   /* CENTURY */
	/* IAPC_BOOT_ARCH: LEGACY_DEVICES, VGA not present; no 8042, MSI ok. */
	assert_int_equal(rd16(f + 109), 0x0005);
	assert_int_equal(f[131], 3); /* FADT minor version: 6.3 */

	assert_true(flags & (1u << 0));	  /* WBINVD */
	assert_true(flags & (1u << 2));	  /* PROC_C1 */
	assert_false(flags & (1u << 4));  /* PWR_BUTTON clear: fixed button */
	assert_true(flags & (1u << 5));	  /* SLP_BUTTON: no sleep button */
	assert_true(flags & (1u << 10));  /* RESET_REG_SUP */
	assert_true(flags & (1u << 19));  /* physical destination mode */
	assert_false(flags & (1u << 20)); /* not HW_REDUCED */
	assert_int_equal(!!(flags & (1u << 8)), d->pm_tmr_32bit);

	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK, X_PM_TMR_BLK: System I/O GAS. */
	assert_int_equal(f[148], 1);
	assert_int_equal(f[149], 32);
	assert_int_equal(rd64(f + 152), PM1A_EVT);
	assert_int_equal(f[160], 0); /* X_PM1b_EVT_BLK empty */
	assert_int_equal(rd64(f + 164), 0);
	assert_int_equal(f[172], 1);
	assert_int_equal(f[173], 16);
	assert_int_equal(rd64(f + 176), PM1A_CNT);
	assert_int_equal(f[208], 1);
	assert_int_equal(f[209], 32);
	assert_int_equal(rd64(f + 212), PM_TMR);
	/* Reset register: System I/O, 8 bits, byte access. */
	assert_int_equal(f[117], 8);
	assert_int_equal(f[119], 1);
}

static void check_madt_raw(uint32_t ncpus)
{
	const uint8_t *m = table(lay.madt);
	const uint8_t *nmi = m + table_len(lay.madt) - 6;

	assert_int_equal(rd32(m + 40), 1); /* PCAT_COMPAT: 8259s present */
	/* Last entry: LAPIC NMI, all processors, LINT1. */
	assert_int_equal(nmi[0], 4);
	assert_int_equal(nmi[1], 6);
	assert_int_equal(nmi[2], 0xFF);
	assert_int_equal(nmi[5], 1);
	assert_int_equal(m[44 + 8 * ncpus], 1); /* the IOAPIC follows the CPUs */
}

/* _HID PNP0A08, _CID PNP0A03 under \_SB.PCI0, and the _CRS windows. */
static void check_dsdt_raw(const struct acpi_tables_desc *d)
{
	const uint8_t *t = table(lay.dsdt);
	size_t n = table_len(lay.dsdt);
	static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x08};
	static const uint8_t cid[] = {0x08, '_', 'C', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03};
	static const uint8_t mres[] = {0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0C, 0x02};
	static const uint8_t sb[] = {0x10};
	static const uint8_t pci0[] = {'P', 'C', 'I', '0'};
	static const uint8_t cf8[] = {0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08};
	static const uint8_t io_lo[] = {0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03,
					0,    0,    0x00, 0x00, 0xF7, 0x0C};
	static const uint8_t io_hi[] = {0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03,
					0,    0,    0x00, 0x0D, 0xFF, 0xFF};
	uint8_t bus[] = {0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0, 0, d->bus_start, 0, d->bus_end, 0};
	uint8_t mem32[] = {0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	for (int i = 0; i < 4; i++) {
		mem32[10 + i] = (uint8_t)(d->mmio32.base >> (8 * i));
		mem32[14 + i] = (uint8_t)((d->mmio32.base + d->mmio32.size - 1) >> (8 * i));
	}
	assert_non_null(find(t, n, sb, sizeof(sb)));
	assert_non_null(find(t, n, pci0, sizeof(pci0)));
	assert_non_null(find(t, n, hid, sizeof(hid)));
	assert_non_null(find(t, n, cid, sizeof(cid)));
	assert_non_null(find(t, n, mres, sizeof(mres)));
	assert_non_null(find(t, n, bus, sizeof(bus)));
	assert_non_null(find(t, n, cf8, sizeof(cf8)));
	assert_non_null(find(t, n, io_lo, sizeof(io_lo)));
	assert_non_null(find(t, n, io_hi, sizeof(io_hi)));
	assert_non_null(find(t, n, mem32, sizeof(mem32)));
	/* No power button device: the fixed-feature button needs none. */
	assert_null(find(t, n, "PNP0C0C", 7));
	assert_null(find(t, n, "\x41\xD0\x0C\x0C", 4));
}

static void check_all(const struct acpi_tables_desc *d)
{
	check_parsed(d);
	check_layout(d->ncpus);
	check_fadt_raw(d);
	check_madt_raw(d->ncpus);
	check_dsdt_raw(d);
}

/* ---- tests ---- */

static void test_one_cpu(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 1);
	build_and_parse(&d);
	check_all(&d);
}

static void test_four_cpus(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 4);
	build_and_parse(&d);
	check_all(&d);
	assert_int_equal(info.cpus[3].apic_id, 6);
}

/* The same tables through the RSDT, as a revision-1 OS reads them. */
static void test_rsdt_view(void **state)
{
	(void)state;
	struct acpi_tables_desc d;
	uint8_t v1[36];

	fill_desc(&d, 4);
	build(&d);
	memcpy(v1, buf + lay.rsdp, sizeof(v1));
	v1[15] = 0;
	v1[8] = 0;
	v1[8] = (uint8_t)-sum(v1, 20);
	parse_rsdp(v1);
	assert_false(info.xsdt_used);
	assert_int_equal(info.ntables, 5);
	assert_int_equal(info.nbad, 0);
	assert_int_equal(info.ncpus, 4);
	assert_int_equal(info.nmcfg, 1);
	assert_true(info.s5_valid);
}

static void test_32bit_timer_and_no_reset(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 2);
	d.pm_tmr_32bit = true;
	d.reset_port = 0;
	build_and_parse(&d);
	assert_true(info.pm_timer_32bit);
	assert_false(info.reset_supported);
	assert_true(rd32(table(lay.fadt) + 112) & (1u << 8));
	assert_false(rd32(table(lay.fadt) + 112) & (1u << 10));
	assert_int_equal(info.nbad, 0);
}

/* 255 vCPUs, ECAM and the 64-bit window above 4 GiB: still one page. */
static void test_largest_fits_a_page(void **state)
{
	(void)state;
	struct acpi_tables_desc d;
	const uint8_t *t;
	size_t n;
	static const uint8_t qword_ecam[] = {0x8A, 0x2B, 0x00, 0x00, 0x0D, 0x01};

	fill_desc(&d, 1);
	for (uint32_t i = 0; i < ACPI_TABLES_MAX_CPUS; i++)
		ids[i] = (uint8_t)i;
	d.ncpus = ACPI_TABLES_MAX_CPUS;
	d.ecam_base = 0x10000000000ull;
	build_and_parse(&d);
	assert_int_equal(info.ncpus, ACPI_TABLES_MAX_CPUS);
	assert_int_equal(info.nbad, 0);
	assert_int_equal(info.mcfg[0].base, 0x10000000000ull);
	t = table(lay.dsdt);
	n = table_len(lay.dsdt);
	assert_non_null(find(t, n, qword_ecam, sizeof(qword_ecam)));
}

/* A base that is 16- but not 64-byte aligned still gets an aligned FACS. */
static void test_facs_alignment(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 1);
	d.table_gpa = 0x100010;
	build_and_parse(&d);
	assert_int_equal((d.table_gpa + lay.facs) % 64, 0);
	assert_int_equal(info.nbad, 0);
	assert_int_equal(rd32(table(lay.fadt) + 36), d.table_gpa + lay.facs);
}

static void test_bus_subrange_and_no_mmio64(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 1);
	d.bus_start = 0;
	d.bus_end = 15;
	d.mmio64.size = 0;
	build_and_parse(&d);
	check_all(&d);
	assert_null(find(table(lay.dsdt), table_len(lay.dsdt), "\x8A\x2B\x00\x00\x0C", 5));
}

static void expect_invalid(const struct acpi_tables_desc *d)
{
	assert_int_equal(acpi_tables_build(d, buf, sizeof(buf), &lay), ST_EINVAL);
}

static void test_rejects_bad_descriptions(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 4);
	assert_int_equal(acpi_tables_build(NULL, buf, sizeof(buf), &lay), ST_EINVAL);
	assert_int_equal(acpi_tables_build(&d, NULL, sizeof(buf), &lay), ST_EINVAL);
	assert_int_equal(acpi_tables_build(&d, buf, sizeof(buf), NULL), ST_EINVAL);

#define BAD(field, value)                                                                          \
	do {                                                                                       \
		fill_desc(&d, 4);                                                                  \
		d.field = value;                                                                   \
		expect_invalid(&d);                                                                \
	} while (0)
	BAD(table_gpa, TABLE_GPA + 8);
	BAD(ncpus, 0);
	BAD(ncpus, ACPI_TABLES_MAX_CPUS + 1);
	BAD(apic_ids, NULL);
	BAD(ioapic_gsi_base, 24);
	BAD(sci_irq, 0);
	BAD(sci_irq, 2);
	BAD(sci_irq, 16);
	BAD(pm1a_evt_port, 0);
	BAD(pm1a_cnt_port, PM1A_EVT + 2); /* inside the event block */
	BAD(pm_tmr_port, PM1A_CNT + 1);
	BAD(pm_tmr_port, 0xFFFE); /* runs past port 0xFFFF */
	BAD(ecam_base, ECAM + 0x1000);
	BAD(ecam_base, MMIO32_BASE); /* inside the 32-bit window */
	BAD(mmio32.size, 0);
	BAD(mmio32.base, 0xFFFF0000ull); /* crosses 4 GiB */
	BAD(mmio64.base, MMIO32_BASE);	 /* overlaps the 32-bit window */
	BAD(mmio64.base, UINT64_MAX - 10);
	BAD(mmio32.size, 0x3EC01000ull); /* reaches the IOAPIC page */
	BAD(ioapic_addr, MMIO32_BASE + 0x1000);
	BAD(lapic_addr, (uint32_t)ECAM);
#undef BAD

	fill_desc(&d, 4);
	d.bus_start = 16;
	d.bus_end = 15;
	expect_invalid(&d);
	fill_desc(&d, 4);
	ids[3] = 255; /* the broadcast ID */
	expect_invalid(&d);
	fill_desc(&d, 4);
	ids[3] = ids[0];
	expect_invalid(&d);
}

static void test_too_small_never_overflows(void **state)
{
	(void)state;
	struct acpi_tables_desc d;
	struct acpi_tables_layout l = {.size = 12345};
	size_t need;

	fill_desc(&d, 4);
	build(&d);
	need = lay.size;
	for (size_t cap = 0; cap <= need; cap++) {
		uint8_t *p = malloc(cap ? cap : 1); /* exact: ASan sees overflows */
		status_t st = acpi_tables_build(&d, p, cap, &l);

		if (cap < need) {
			assert_int_equal(st, ST_ERANGE);
			assert_int_equal(l.size, 12345); /* untouched on failure */
		} else {
			assert_int_equal(st, ST_OK);
			assert_memory_equal(p, buf, need);
		}
		free(p);
	}
}

static void test_must_end_below_4g(void **state)
{
	(void)state;
	struct acpi_tables_desc d;

	fill_desc(&d, 1);
	d.table_gpa = 0x100000000ull - 0x100;
	assert_int_equal(acpi_tables_build(&d, buf, sizeof(buf), &lay), ST_ERANGE);
	d.table_gpa = 0x100000000ull;
	assert_int_equal(acpi_tables_build(&d, buf, sizeof(buf), &lay), ST_ERANGE);
	d.table_gpa = 0x100000000ull - 0x1000;
	assert_int_equal(acpi_tables_build(&d, buf, sizeof(buf), &lay), ST_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_cpu),
	    cmocka_unit_test(test_four_cpus),
	    cmocka_unit_test(test_rsdt_view),
	    cmocka_unit_test(test_32bit_timer_and_no_reset),
	    cmocka_unit_test(test_largest_fits_a_page),
	    cmocka_unit_test(test_facs_alignment),
	    cmocka_unit_test(test_bus_subrange_and_no_mmio64),
	    cmocka_unit_test(test_rejects_bad_descriptions),
	    cmocka_unit_test(test_too_small_never_overflows),
	    cmocka_unit_test(test_must_end_below_4g),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
