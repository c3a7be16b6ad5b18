/* Unit tests for drivers/acpi: synthetic tables in a fake physical memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/acpi/acpi.h"

#define MEM_BASE 0x100000ull
#define MEM_SIZE 0x20000u
#define RSDT_PA (MEM_BASE + 0x0000)
#define XSDT_PA (MEM_BASE + 0x0100)
#define MADT_PA (MEM_BASE + 0x8000) /* last: may exceed 4 KiB */
#define FADT_PA (MEM_BASE + 0x2000)
#define DSDT_PA (MEM_BASE + 0x3000)
#define MCFG_PA (MEM_BASE + 0x4000)
#define SPCR_PA (MEM_BASE + 0x5000)
#define SPARE_PA (MEM_BASE + 0x6000)

/* Fake physical memory. Each map() returns a fresh heap copy of exactly len
 * bytes and frees the previous one, so ASan catches both reads past the mapped
 * length and use of a pointer after the next map() call. */
static uint8_t pmem[MEM_SIZE];
static void *last_map;
static unsigned nmaps;

static const void *fake_map(void *ctx, uint64_t pa, size_t len)
{
	(void)ctx;
	free(last_map);
	last_map = NULL;
	nmaps++;
	if (pa < MEM_BASE || len > MEM_SIZE || pa - MEM_BASE > MEM_SIZE - len)
		return NULL;
	last_map = malloc(len ? len : 1);
	memcpy(last_map, pmem + (pa - MEM_BASE), len);
	return last_map;
}

static const struct acpi_mem fmem = {NULL, fake_map};
static uint8_t rsdp[36];
static struct acpi_info info;
static char err[128];

static uint8_t *at(uint64_t pa)
{
	return pmem + (pa - MEM_BASE);
}

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

static uint8_t csum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Set the checksum byte at p[ck] so that p[0..n) sums to zero. */
static void fix_sum(uint8_t *p, size_t n, size_t ck)
{
	p[ck] = 0;
	p[ck] = (uint8_t)(0x100 - csum(p, n));
}

static void fix_table(uint64_t pa)
{
	uint8_t *t = at(pa);
	fix_sum(t, t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24, 9);
}

static void hdr(uint64_t pa, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *t = at(pa);
	memset(t, 0, len);
	memcpy(t, sig, 4);
	w32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "BOCHS ", 6);
}

static void mk_rsdp(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "BOCHS ", 6);
	rsdp[15] = rev;
	w32(rsdp + 16, rsdt);
	w32(rsdp + 20, 36);
	w64(rsdp + 24, xsdt);
	fix_sum(rsdp, 20, 8);
	fix_sum(rsdp, 36, 32);
}

static void mk_root(uint64_t pa, const char *sig, const uint64_t *e, unsigned n)
{
	unsigned esz = sig[0] == 'X' ? 8 : 4;
	hdr(pa, sig, 36 + n * esz, 1);
	for (unsigned i = 0; i < n; i++) {
		if (esz == 8)
			w64(at(pa) + 36 + i * 8, e[i]);
		else
			w32(at(pa) + 36 + i * 4, (uint32_t)e[i]);
	}
	fix_table(pa);
}

/* MADT: 2 LAPICs (one disabled and not online capable), 1 online-capable
 * x2APIC, duplicate x2APIC of apic 0, 1 IOAPIC, 2 ISOs. */
static void mk_madt(void)
{
	static const uint8_t ents[] = {
	    0, 8,  0, 0, 1,    0, 0,	0,		     /* LAPIC uid0 id0 enabled */
	    0, 8,  1, 1, 1,    0, 0,	0,		     /* LAPIC uid1 id1 enabled */
	    0, 8,  2, 2, 0,    0, 0,	0,		     /* LAPIC disabled: skipped */
	    1, 12, 0, 0, 0,    0, 0xc0, 0xfe, 0,    0, 0, 0, /* IOAPIC 0 @fec00000 */
	    2, 10, 0, 0, 2,    0, 0,	0,    0,    0,	     /* ISO irq0 -> gsi2 */
	    2, 10, 0, 9, 9,    0, 0,	0,    0x0d, 0,	     /* ISO irq9 -> gsi9 */
	    9, 16, 0, 0, 0x00, 1, 0,	0,    2,    0, 0, 0, 7, 0, 0, 0, /* x2APIC 256 online-cap */
	    9, 16, 0, 0, 0,    0, 0,	0,    1,    0, 0, 0, 0, 0, 0, 0, /* duplicate of id 0 */
	};
	hdr(MADT_PA, "APIC", 44 + sizeof(ents), 3);
	w32(at(MADT_PA) + 36, 0xfee00000);
	w32(at(MADT_PA) + 40, 1);
	memcpy(at(MADT_PA) + 44, ents, sizeof(ents));
	fix_table(MADT_PA);
}

static void mk_fadt(uint32_t len, uint32_t flags)
{
	uint8_t *t = at(FADT_PA);
	hdr(FADT_PA, "FACP", len, len >= 244 ? 5 : 1);
	w32(t + 40, (uint32_t)DSDT_PA);
	w16(t + 46, 9);
	w32(t + 48, 0xb2);
	w32(t + 64, 0x604);
	w32(t + 68, 0);
	w32(t + 76, 0x608);
	w32(t + 112, flags);
	if (len >= 129) {
		t[116] = 1;
		w64(t + 120, 0xcf9);
		t[128] = 0x06;
	}
	fix_table(FADT_PA);
}

static void mk_dsdt(const uint8_t *aml, size_t n)
{
	hdr(DSDT_PA, "DSDT", 36 + (uint32_t)n, 2);
	memcpy(at(DSDT_PA) + 36, aml, n);
	fix_table(DSDT_PA);
}

static const uint8_t s5_byteprefix[] = {0x10, 0x05, 0x5c, 0x00, /* junk */
					0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08,
					0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};

static void mk_mcfg(unsigned n)
{
	hdr(MCFG_PA, "MCFG", 44 + 16 * n, 1);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = at(MCFG_PA) + 44 + 16 * i;
		w64(e, 0xb0000000ull + 0x10000000ull * i);
		w16(e + 8, (uint16_t)i);
		e[10] = 0;
		e[11] = 0xff;
	}
	fix_table(MCFG_PA);
}

static void mk_spcr(uint8_t baud)
{
	uint8_t *t = at(SPCR_PA);
	hdr(SPCR_PA, "SPCR", 80, 2);
	t[36] = 0; /* 16550 */
	t[40] = 1; /* system I/O */
	t[41] = 8;
	w64(t + 44, 0x3f8);
	t[58] = baud;
	fix_table(SPCR_PA);
}

static const uint64_t all_tables[] = {FADT_PA, MADT_PA, MCFG_PA, SPCR_PA};

/* Standard machine: rev 0 RSDP -> RSDT with FADT, MADT, MCFG, SPCR. */
static int setup(void **state)
{
	(void)state;
	memset(pmem, 0, sizeof(pmem));
	memset(&info, 0xa5, sizeof(info));
	err[0] = 'x';
	err[1] = 0;
	mk_madt();
	mk_fadt(244, 1u << 10);
	mk_dsdt(s5_byteprefix, sizeof(s5_byteprefix));
	mk_mcfg(1);
	mk_spcr(7);
	mk_root(RSDT_PA, "RSDT", all_tables, 4);
	mk_rsdp(0, (uint32_t)RSDT_PA, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(last_map);
	last_map = NULL;
	return 0;
}

static status_t parse(size_t rsdp_len)
{
	return acpi_parse(rsdp, rsdp_len, &fmem, &info, err, sizeof(err));
}

static void test_rev0_rsdt(void **state)
{
	(void)state;
	assert_int_equal(parse(20), ST_OK);
	assert_string_equal(err, "");
	assert_int_equal(info.rsdp_revision, 0);
	assert_false(info.xsdt_used);
	assert_string_equal(info.oem_id, "BOCHS ");
	assert_int_equal(info.ncpus, 3);
	assert_int_equal(info.cpus[0].apic_id, 0);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_int_equal(info.cpus[1].uid, 1);
	assert_true(info.cpus[1].enabled);
	assert_int_equal(info.cpus[2].apic_id, 256);
	assert_int_equal(info.cpus[2].uid, 7);
	assert_false(info.cpus[2].enabled);
	assert_int_equal(info.lapic_base, 0xfee00000);
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].addr, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.nisos, 2);
	assert_int_equal(info.isos[0].source, 0);
	assert_int_equal(info.isos[0].gsi, 2);
	assert_int_equal(info.isos[1].source, 9);
	assert_int_equal(info.isos[1].flags, 0x0d);
	assert_true(info.has_fadt);
	assert_int_equal(info.fadt_revision, 5);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.pm1a_cnt, 0x604);
	assert_int_equal(info.pm1b_cnt, 0);
	assert_int_equal(info.pm_timer_port, 0x608);
	assert_false(info.pm_timer_32bit);
	assert_true(info.reset_supported);
	assert_int_equal(info.reset_space, 1);
	assert_int_equal(info.reset_addr, 0xcf9);
	assert_int_equal(info.reset_value, 6);
	assert_true(info.s5_valid);
	assert_int_equal(info.s5_slp_typa, 5);
	assert_int_equal(info.s5_slp_typb, 5);
	assert_int_equal(info.nmcfg, 1);
	assert_true(info.has_spcr);
	assert_int_equal(info.spcr_type, 0);
	assert_int_equal(info.spcr_space, 1);
	assert_int_equal(info.spcr_addr, 0x3f8);
	assert_int_equal(info.spcr_baud, 115200);
	assert_int_equal(info.ntables, 6); /* RSDT + 4 children + DSDT */
	assert_int_equal(info.nbad, 0);
	assert_int_equal(info.truncated, 0);
}

static void test_rev2_xsdt(void **state)
{
	(void)state;
	/* The RSDT lists only the MADT; the XSDT lists everything. */
	mk_root(RSDT_PA, "RSDT", all_tables + 1, 1);
	mk_root(XSDT_PA, "XSDT", all_tables, 4);
	mk_rsdp(2, (uint32_t)RSDT_PA, XSDT_PA);
	assert_int_equal(parse(36), ST_OK);
	assert_int_equal(info.rsdp_revision, 2);
	assert_true(info.xsdt_used);
	assert_true(info.has_fadt);
	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.ntables, 6);
	assert_int_equal(info.nbad, 0);
}

static void test_rev2_short_copy_uses_rsdt(void **state)
{
	(void)state;
	mk_root(XSDT_PA, "XSDT", all_tables, 1);
	mk_rsdp(2, (uint32_t)RSDT_PA, XSDT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_false(info.xsdt_used);
	assert_true(info.has_spcr);
}

static void test_xsdt_bad_falls_back(void **state)
{
	(void)state;
	mk_root(XSDT_PA, "XSDT", all_tables, 4);
	at(XSDT_PA)[40] ^= 1; /* break checksum */
	mk_rsdp(2, (uint32_t)RSDT_PA, XSDT_PA);
	assert_int_equal(parse(36), ST_OK);
	assert_false(info.xsdt_used);
	assert_true(info.has_fadt);
	assert_int_equal(info.nbad, 1);
	assert_int_equal(info.ntables, 7);

	/* wrong signature on the XSDT also falls back */
	mk_root(XSDT_PA, "RSDT", all_tables, 4);
	assert_int_equal(parse(36), ST_OK);
	assert_false(info.xsdt_used);
	/* unmapped XSDT also falls back */
	mk_rsdp(2, (uint32_t)RSDT_PA, 0xdead0000ull);
	assert_int_equal(parse(36), ST_OK);
	assert_false(info.xsdt_used);
	assert_int_equal(info.nbad, 1);
}

static void test_rsdp_bad_checksum(void **state)
{
	(void)state;
	rsdp[8] ^= 0xff;
	assert_int_equal(parse(36), ST_ECHECKSUM);
	assert_non_null(strstr(err, "checksum"));
	assert_null(strchr(err, '\n'));
}

static void test_rsdp_bad_ext_checksum(void **state)
{
	(void)state;
	mk_rsdp(2, (uint32_t)RSDT_PA, XSDT_PA);
	rsdp[33] ^= 1;
	assert_int_equal(parse(36), ST_ECHECKSUM);
	assert_non_null(strstr(err, "extended"));
	mk_rsdp(2, (uint32_t)RSDT_PA, XSDT_PA);
	w32(rsdp + 20, 64); /* longer than the copy */
	fix_sum(rsdp, 20, 8);
	assert_int_equal(parse(36), ST_ERANGE);
}

static void test_rsdp_bad_signature(void **state)
{
	(void)state;
	rsdp[0] = 'X';
	fix_sum(rsdp, 20, 8);
	assert_int_equal(parse(20), ST_EINVAL);
	assert_non_null(strstr(err, "signature"));
	assert_int_equal(parse(19), ST_ETRUNC);
}

static void test_root_bad(void **state)
{
	(void)state;
	memcpy(at(RSDT_PA), "XXXX", 4);
	fix_table(RSDT_PA);
	assert_int_equal(parse(20), ST_EINVAL);
	assert_non_null(strstr(err, "RSDT"));

	mk_root(RSDT_PA, "RSDT", all_tables, 4);
	at(RSDT_PA)[36] ^= 1;
	assert_int_equal(parse(20), ST_ECHECKSUM);

	mk_root(RSDT_PA, "RSDT", all_tables, 4);
	w32(at(RSDT_PA) + 4, 0xffffffffu);
	assert_int_equal(parse(20), ST_ERANGE);
	assert_non_null(strstr(err, "length"));

	w32(at(RSDT_PA) + 4, 20);
	assert_int_equal(parse(20), ST_ETRUNC);

	mk_rsdp(0, 0x7000000, 0); /* unmapped */
	assert_int_equal(parse(20), ST_ENOENT);
	assert_true(strlen(err) > 0);
}

static void test_child_bad_checksum(void **state)
{
	(void)state;
	at(MADT_PA)[50] ^= 0x40;
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 1);
	assert_int_equal(info.ncpus, 0);
	assert_true(info.has_fadt);
	assert_int_equal(info.nmcfg, 1);
}

static void test_child_bad_length_and_unmapped(void **state)
{
	(void)state;
	const uint64_t e[] = {MADT_PA, 0xdead0000ull, MCFG_PA, 0, FADT_PA};
	w32(at(MADT_PA) + 4, 20);	  /* shorter than a header */
	w32(at(MCFG_PA) + 4, 0x7fffffff); /* > 16 MiB */
	mk_root(RSDT_PA, "RSDT", e, 5);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 4);
	assert_true(info.has_fadt);
	/* header mapped but full length not */
	w32(at(MADT_PA) + 4, MEM_SIZE);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 4);
}

static void madt_with(const uint8_t *ents, size_t n)
{
	hdr(MADT_PA, "APIC", 44 + (uint32_t)n, 3);
	w32(at(MADT_PA) + 36, 0xfee00000);
	memcpy(at(MADT_PA) + 44, ents, n);
	fix_table(MADT_PA);
}

static void test_madt_entry_len_zero(void **state)
{
	(void)state;
	static const uint8_t ents[] = {0, 8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0};
	madt_with(ents, sizeof(ents));
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.nbad, 1);
	assert_true(info.has_fadt);
}

static void test_madt_entry_crosses_end(void **state)
{
	(void)state;
	static const uint8_t ents[] = {0, 8, 0, 0, 1, 0, 0, 0, 1, 12, 0, 0, 0, 0};
	madt_with(ents, sizeof(ents));
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.nioapics, 0);
	assert_int_equal(info.nbad, 1);
}

static void test_madt_short_entry_and_override(void **state)
{
	(void)state;
	static const uint8_t ents[] = {
	    1,	  8,  0, 0, 0, 0, 0xc0, 0xfe,		  /* IOAPIC too short: skipped */
	    5,	  12, 0, 0, 0, 0, 0xe0, 0xfe, 1, 0, 0, 0, /* LAPIC addr override */
	    0,	  8,  3, 4, 1, 0, 0,	0,		  /* LAPIC uid3 id4 */
	    0x7f, 2,					  /* unknown type: ignored */
	};
	madt_with(ents, sizeof(ents));
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nioapics, 0);
	assert_int_equal(info.lapic_base, 0x1fee00000ull);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.cpus[0].apic_id, 4);
	assert_int_equal(info.cpus[0].uid, 3);
	assert_int_equal(info.nbad, 1);
}

static void test_limits_truncated(void **state)
{
	(void)state;
	enum { NCPU = 300, NISO = 40, NIO = 20 };
	static uint8_t ents[NCPU * 8 + NISO * 10 + NIO * 12];
	size_t o = 0;
	char buf[256];
	for (unsigned i = 0; i < NCPU; i++, o += 8) {
		uint8_t e[8] = {0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0};
		memcpy(ents + o, e, 8);
	}
	for (unsigned i = 0; i < NISO; i++, o += 10) {
		uint8_t e[10] = {2, 10, 0, (uint8_t)i, (uint8_t)i, 0, 0, 0, 0, 0};
		memcpy(ents + o, e, 10);
	}
	for (unsigned i = 0; i < NIO; i++, o += 12) {
		uint8_t e[12] = {1, 12, (uint8_t)i, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0};
		memcpy(ents + o, e, 12);
	}
	madt_with(ents, o);
	mk_mcfg(20);
	assert_int_equal(parse(20), ST_OK);
	/* LAPIC ids are u8: 300 entries hold 256 distinct ids; 44 are duplicates */
	assert_int_equal(info.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(info.nisos, ACPI_MAX_ISOS);
	assert_int_equal(info.nioapics, ACPI_MAX_IOAPICS);
	assert_int_equal(info.nmcfg, ACPI_MAX_MCFG);
	assert_int_equal(info.truncated, (NISO - 32) + (NIO - 16) + (20 - 16));
	acpi_summary(&info, buf, sizeof(buf));
	assert_non_null(strstr(buf, ", 16 truncated"));
}

static void test_cpu_limit_x2apic(void **state)
{
	(void)state;
	enum { N = 260 };
	static uint8_t ents[N * 16];
	for (unsigned i = 0; i < N; i++) {
		uint8_t *e = ents + i * 16;
		memset(e, 0, 16);
		e[0] = 9;
		e[1] = 16;
		w32(e + 4, 1000 + i);
		w32(e + 8, 1);
		w32(e + 12, i);
	}
	madt_with(ents, sizeof(ents));
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(info.truncated, N - ACPI_MAX_CPUS);
	assert_int_equal(info.cpus[255].apic_id, 1255);
	assert_int_equal(info.nbad, 0);
}

static void test_fadt_rev1_116(void **state)
{
	(void)state;
	/* RESET_REG_SUP and TMR_VAL_EXT set, but the table ends at 116: the reset
	 * register must not be read (ASan would catch a read past the map). */
	mk_fadt(116, (1u << 10) | (1u << 8));
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 0);
	assert_true(info.has_fadt);
	assert_int_equal(info.fadt_revision, 1);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.pm_timer_port, 0x608);
	assert_true(info.pm_timer_32bit);
	assert_false(info.reset_supported);
	assert_true(info.s5_valid); /* DSDT from the 32-bit field */

	mk_fadt(129, 1u << 10);
	assert_int_equal(parse(20), ST_OK);
	assert_true(info.reset_supported);
	assert_int_equal(info.reset_addr, 0xcf9);

	/* tiny FADT: everything reads as zero */
	mk_fadt(40, 0);
	assert_int_equal(parse(20), ST_OK);
	assert_true(info.has_fadt);
	assert_int_equal(info.pm_timer_port, 0);
	assert_false(info.s5_valid);
}

static void test_fadt_x_pm_timer(void **state)
{
	(void)state;
	uint8_t *t = at(FADT_PA);
	mk_fadt(244, 0);
	w32(t + 76, 0);
	t[208] = 1; /* system I/O */
	t[209] = 32;
	w64(t + 212, 0xb008);
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.pm_timer_port, 0xb008);

	t[208] = 0; /* system memory: not a port */
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.pm_timer_port, 0);

	/* 219 bytes: X_PM_TMR_BLK incomplete, must not be used */
	t[208] = 1;
	w32(t + 4, 219);
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.pm_timer_port, 0);

	/* PM_TMR_BLK nonzero wins */
	w32(t + 4, 244);
	w32(t + 76, 0x608);
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.pm_timer_port, 0x608);
}

static void test_fadt_x_dsdt(void **state)
{
	(void)state;
	uint8_t *t = at(FADT_PA);
	static const uint8_t aml[] = {'_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x01, 0x00};
	/* 32-bit DSDT field points to a bad DSDT; X_DSDT to a good one */
	hdr(SPARE_PA, "DSDT", 36 + sizeof(aml), 2);
	memcpy(at(SPARE_PA) + 36, aml, sizeof(aml));
	fix_table(SPARE_PA);
	at(DSDT_PA)[40] ^= 1;
	w64(t + 140, SPARE_PA);
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 0);
	assert_true(info.s5_valid);
	assert_int_equal(info.s5_slp_typa, 1);
	assert_int_equal(info.s5_slp_typb, 0);

	w64(t + 140, 0); /* fall back to the broken 32-bit one */
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 1);
	assert_false(info.s5_valid);

	w32(t + 40, 0xdead0000u); /* unmapped DSDT */
	fix_table(FADT_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nbad, 1);
	assert_false(info.s5_valid);
}

struct s5_case {
	uint8_t aml[24];
	size_t n;
	bool valid;
	uint8_t a, b;
};

static const struct s5_case s5_cases[] = {
    /* ZeroOp, ZeroOp */
    {{0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00}, 10, true, 0, 0},
    /* OneOp, BytePrefix */
    {{0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x01, 0x0a, 0x07}, 11, true, 1, 7},
    /* leading root char */
    {{0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a, 0x05, 0x0a, 0x06}, 13, true, 5, 6},
    /* 2-byte PkgLength */
    {{0x08, '_', 'S', '5', '_', 0x12, 0x4a, 0x00, 0x04, 0x0a, 0x03, 0x00, 0, 0}, 14, true, 3, 0},
    /* 4-byte PkgLength */
    {{0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0, 0, 0, 0x02, 0x0a, 0x02, 0x0a, 0x01}, 15, true, 2, 1},
    /* decoy "_S5_" not followed by a package, then the real one */
    {{'_', 'S', '5', '_', 0x0d, 0x00, 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01},
     16,
     true,
     1,
     1},
    /* truncated right after BytePrefix */
    {{0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a}, 11, false, 0, 0},
    /* PkgLength runs past end */
    {{0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0x00}, 8, false, 0, 0},
    /* WordPrefix is not understood */
    {{0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0b, 0x05, 0x00, 0x00}, 12, false, 0, 0},
    /* NumElements 1 */
    {{0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x00, 0x00}, 10, false, 0, 0},
    /* "_S5" cut by the end of the table */
    {{0x08, '_', 'S', '5'}, 4, false, 0, 0},
    /* empty AML */
    {{0}, 0, false, 0, 0},
};

static void test_s5_encodings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(s5_cases) / sizeof(s5_cases[0]); i++) {
		const struct s5_case *c = &s5_cases[i];
		mk_dsdt(c->aml, c->n);
		assert_int_equal(parse(20), ST_OK);
		assert_int_equal(info.nbad, 0);
		if (info.s5_valid != c->valid)
			fail_msg("s5 case %zu: valid=%d", i, info.s5_valid);
		if (c->valid) {
			assert_int_equal(info.s5_slp_typa, c->a);
			assert_int_equal(info.s5_slp_typb, c->b);
		}
	}
}

static void test_mcfg_entries(void **state)
{
	(void)state;
	mk_mcfg(3);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nmcfg, 3);
	assert_int_equal(info.mcfg[0].base, 0xb0000000ull);
	assert_int_equal(info.mcfg[2].base, 0xd0000000ull);
	assert_int_equal(info.mcfg[2].segment, 2);
	assert_int_equal(info.mcfg[1].bus_start, 0);
	assert_int_equal(info.mcfg[1].bus_end, 0xff);
	assert_int_equal(info.nbad, 0);

	/* trailing partial entry: complete ones kept, table flagged */
	w32(at(MCFG_PA) + 4, 44 + 16 + 8);
	fix_table(MCFG_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.nbad, 1);
}

static void test_spcr_baud(void **state)
{
	(void)state;
	static const struct {
		uint8_t code;
		uint32_t baud;
	} m[] = {{0, 0}, {3, 9600}, {4, 19200}, {6, 57600}, {7, 115200}, {5, 0}};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mk_spcr(m[i].code);
		assert_int_equal(parse(20), ST_OK);
		assert_true(info.has_spcr);
		assert_int_equal(info.spcr_baud, m[i].baud);
	}
	hdr(SPCR_PA, "SPCR", 50, 1); /* too short for the baud byte */
	fix_table(SPCR_PA);
	assert_int_equal(parse(20), ST_OK);
	assert_false(info.has_spcr);
	assert_int_equal(info.nbad, 1);
}

static void test_summary(void **state)
{
	(void)state;
	char buf[256];
	const char *want = "ACPI: rev 2 (XSDT) OEM BOCHS, 3 CPUs, 1 IOAPIC, 2 overrides, "
			   "PM timer 0x608 (24-bit), MCFG 1 segment, S5 type 5, 6 tables, 0 bad";
	mk_root(XSDT_PA, "XSDT", all_tables, 4);
	mk_rsdp(2, (uint32_t)RSDT_PA, XSDT_PA);
	assert_int_equal(parse(36), ST_OK);
	assert_int_equal(acpi_summary(&info, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);

	/* small buffer: truncated, NUL-terminated */
	assert_int_equal(acpi_summary(&info, buf, 10), 9);
	assert_string_equal(buf, "ACPI: rev");
	assert_int_equal(acpi_summary(&info, buf, 0), 0);

	/* nothing found */
	memset(&info, 0, sizeof(info));
	memcpy(info.oem_id, "AB\x01   ", 6);
	info.pm_timer_32bit = true;
	acpi_summary(&info, buf, sizeof(buf));
	assert_string_equal(buf, "ACPI: rev 0 (RSDT) OEM AB?, 0 CPUs, 0 IOAPICs, 0 overrides, "
				 "no PM timer, no MCFG, no S5, 0 tables, 0 bad");
	info.pm_timer_port = 0xb008;
	info.nmcfg = 2;
	info.ncpus = 1;
	acpi_summary(&info, buf, sizeof(buf));
	assert_non_null(strstr(buf, "1 CPU, "));
	assert_non_null(strstr(buf, "PM timer 0xb008 (32-bit)"));
	assert_non_null(strstr(buf, "MCFG 2 segments"));
}

static void test_bad_args(void **state)
{
	(void)state;
	struct acpi_mem nomap = {NULL, NULL};
	assert_int_equal(acpi_parse(NULL, 36, &fmem, &info, err, sizeof(err)), ST_EINVAL);
	assert_int_equal(acpi_parse(rsdp, 36, NULL, &info, err, sizeof(err)), ST_EINVAL);
	assert_int_equal(acpi_parse(rsdp, 36, &nomap, &info, err, sizeof(err)), ST_EINVAL);
	assert_int_equal(acpi_parse(rsdp, 36, &fmem, NULL, err, sizeof(err)), ST_EINVAL);
	/* NULL / tiny error buffer is fine */
	rsdp[0] = 0;
	assert_int_equal(acpi_parse(rsdp, 36, &fmem, &info, NULL, 0), ST_EINVAL);
	assert_int_equal(acpi_parse(rsdp, 36, &fmem, &info, err, 4), ST_EINVAL);
	assert_string_equal(err, "ACP");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_rev0_rsdt),
	    T(test_rev2_xsdt),
	    T(test_rev2_short_copy_uses_rsdt),
	    T(test_xsdt_bad_falls_back),
	    T(test_rsdp_bad_checksum),
	    T(test_rsdp_bad_ext_checksum),
	    T(test_rsdp_bad_signature),
	    T(test_root_bad),
	    T(test_child_bad_checksum),
	    T(test_child_bad_length_and_unmapped),
	    T(test_madt_entry_len_zero),
	    T(test_madt_entry_crosses_end),
	    T(test_madt_short_entry_and_override),
	    T(test_limits_truncated),
	    T(test_cpu_limit_x2apic),
	    T(test_fadt_rev1_116),
	    T(test_fadt_x_pm_timer),
	    T(test_fadt_x_dsdt),
	    T(test_s5_encodings),
	    T(test_mcfg_entries),
	    T(test_spcr_baud),
	    T(test_summary),
	    T(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
