/* ACPI static-table parser, written from the ACPI 6.x specification.
 * All table fields are read byte-wise (little endian); nothing assumes the
 * tables are aligned. Every read is bounds-checked against the mapped length. */
#include "drivers/acpi/acpi.h"
#include <stdarg.h>

#include "core/fmt.h"
#include "keel/kstring.h"

#define HDR_LEN 36u
#define ROOT_MAX_LEN (1u << 20)
#define TABLE_MAX_LEN (16u << 20)
#define MADT_ENTRIES_OFF 44u
#define MCFG_ENTRIES_OFF 44u
#define MCFG_ENTRY_LEN 16u

/* ---- little-endian readers ---- */

static uint16_t rd16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | (uint16_t)p[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	return (uint32_t)rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	return (uint64_t)rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static bool sig_is(const uint8_t *t, const char *sig)
{
	return memcmp(t, sig, 4) == 0;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	size_t n;

	if (!err || errlen == 0)
		return;
	n = strnlen(msg, errlen - 1);
	memcpy(err, msg, n);
	err[n] = '\0';
}

static const uint8_t *map(const struct acpi_mem *m, uint64_t pa, size_t len)
{
	return (const uint8_t *)m->map(m->ctx, pa, len);
}

/* Map a table: header first, then the full length; check length and checksum. */
static status_t map_table(const struct acpi_mem *m, uint64_t pa, uint32_t maxlen,
			  const uint8_t **tp, uint32_t *lenp)
{
	const uint8_t *t;
	uint32_t len;

	if (pa == 0 || !(t = map(m, pa, HDR_LEN)))
		return ST_ENOENT;
	len = rd32(t, 4);
	if (len < HDR_LEN)
		return ST_ETRUNC;
	if (len > maxlen)
		return ST_ERANGE;
	if (!(t = map(m, pa, len)))
		return ST_ENOENT;
	if (sum8(t, len) != 0)
		return ST_ECHECKSUM;
	*tp = t;
	*lenp = len;
	return ST_OK;
}

/* ---- RSDP and root table ---- */

struct rsdp_view {
	uint8_t rev;
	uint32_t rsdt;
	uint64_t xsdt;
};

static status_t check_rsdp_ext(const uint8_t *r, size_t n, struct rsdp_view *v, const char **msg)
{
	uint32_t len = rd32(r, 20);

	if (len < 36 || len > n) {
		*msg = "ACPI: RSDP length field out of range";
		return ST_ERANGE;
	}
	if (sum8(r, len) != 0) {
		*msg = "ACPI: bad RSDP extended checksum";
		return ST_ECHECKSUM;
	}
	v->xsdt = rd64(r, 24);
	return ST_OK;
}

static status_t check_rsdp(const uint8_t *r, size_t n, struct rsdp_view *v, const char **msg)
{
	if (n < 20) {
		*msg = "ACPI: RSDP shorter than 20 bytes";
		return ST_ETRUNC;
	}
	if (memcmp(r, "RSD PTR ", 8) != 0) {
		*msg = "ACPI: bad RSDP signature";
		return ST_EINVAL;
	}
	if (sum8(r, 20) != 0) {
		*msg = "ACPI: bad RSDP checksum";
		return ST_ECHECKSUM;
	}
	v->rev = r[15];
	v->rsdt = rd32(r, 16);
	v->xsdt = 0;
	if (v->rev < 2 || n < 36)
		return ST_OK;
	return check_rsdp_ext(r, n, v, msg);
}

struct root {
	uint64_t pa;
	uint32_t len;
	uint32_t esz;
};

static status_t open_root(const struct acpi_mem *m, uint64_t pa, const char *sig, uint32_t esz,
			  struct root *rt, struct acpi_info *out)
{
	const uint8_t *t;
	uint32_t len;
	status_t st = map_table(m, pa, ROOT_MAX_LEN, &t, &len);

	out->ntables++;
	if (st == ST_OK && !sig_is(t, sig))
		st = ST_EINVAL;
	if (st != ST_OK) {
		out->nbad++;
		return st;
	}
	rt->pa = pa;
	rt->len = len;
	rt->esz = esz;
	return ST_OK;
}

static const char *rsdt_msg(status_t st)
{
	switch (st) {
	case ST_ENOENT:
		return "ACPI: RSDT absent or unmapped (and no usable XSDT)";
	case ST_ETRUNC:
		return "ACPI: RSDT shorter than its header";
	case ST_ERANGE:
		return "ACPI: RSDT length out of range";
	case ST_ECHECKSUM:
		return "ACPI: bad RSDT checksum";
	default:
		return "ACPI: bad RSDT signature";
	}
}

static status_t select_root(const struct acpi_mem *m, const struct rsdp_view *v, struct root *rt,
			    struct acpi_info *out, const char **msg)
{
	status_t st;

	if (v->rev >= 2 && v->xsdt != 0 && open_root(m, v->xsdt, "XSDT", 8, rt, out) == ST_OK) {
		out->xsdt_used = true;
		return ST_OK;
	}
	st = open_root(m, v->rsdt, "RSDT", 4, rt, out);
	if (st != ST_OK)
		*msg = rsdt_msg(st);
	return st;
}

/* ---- MADT ---- */

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags)
{
	struct acpi_cpu *c;

	if (!(flags & 3u)) /* neither enabled nor online capable */
		return;
	for (uint32_t i = 0; i < out->ncpus; i++)
		if (out->cpus[i].apic_id == apic_id) /* listed as both type 0 and 9 */
			return;
	if (out->ncpus >= ACPI_MAX_CPUS) {
		out->truncated++;
		return;
	}
	c = &out->cpus[out->ncpus++];
	c->apic_id = apic_id;
	c->uid = uid;
	c->enabled = flags & 1u;
}

static void add_ioapic(struct acpi_info *out, const uint8_t *e)
{
	struct acpi_ioapic *io;

	if (out->nioapics >= ACPI_MAX_IOAPICS) {
		out->truncated++;
		return;
	}
	io = &out->ioapics[out->nioapics++];
	io->id = e[2];
	io->addr = rd32(e, 4);
	io->gsi_base = rd32(e, 8);
}

static void add_iso(struct acpi_info *out, const uint8_t *e)
{
	struct acpi_iso *iso;

	if (out->nisos >= ACPI_MAX_ISOS) {
		out->truncated++;
		return;
	}
	iso = &out->isos[out->nisos++];
	iso->bus = e[2];
	iso->source = e[3];
	iso->gsi = rd32(e, 4);
	iso->flags = rd16(e, 8);
}

/* Minimum entry length per MADT entry type (0: no check). */
static const uint8_t madt_min_len[10] = {[0] = 8, [1] = 12, [2] = 10, [5] = 12, [9] = 16};

static bool madt_entry(const uint8_t *e, uint8_t type, uint8_t elen, struct acpi_info *out)
{
	if (type < sizeof(madt_min_len) && elen < madt_min_len[type])
		return false;
	switch (type) {
	case 0: /* processor local APIC */
		add_cpu(out, e[3], e[2], rd32(e, 4));
		break;
	case 1: /* I/O APIC */
		add_ioapic(out, e);
		break;
	case 2: /* interrupt source override */
		add_iso(out, e);
		break;
	case 5: /* local APIC address override */
		out->lapic_base = rd64(e, 4);
		break;
	case 9: /* processor local x2APIC */
		add_cpu(out, rd32(e, 4), rd32(e, 12), rd32(e, 8));
		break;
	default:
		break;
	}
	return true;
}

static bool parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	uint32_t off = MADT_ENTRIES_OFF;
	bool ok = true;

	if (len < MADT_ENTRIES_OFF)
		return false;
	out->lapic_base = rd32(t, 36);
	while (len - off >= 2) {
		uint8_t type = t[off], elen = t[off + 1];

		if (elen < 2 || elen > len - off)
			return false;
		if (!madt_entry(t + off, type, elen, out))
			ok = false;
		off += elen;
	}
	return ok;
}

/* ---- DSDT: \_S5 ---- */

/* Decode one ZeroOp / OneOp / BytePrefix constant at *j. */
static bool aml_byte_const(const uint8_t *t, uint32_t len, uint32_t *j, uint8_t *v)
{
	if (*j >= len)
		return false;
	switch (t[*j]) {
	case 0x00:
	case 0x01:
		*v = t[*j];
		*j += 1;
		return true;
	case 0x0A:
		if (len - *j < 2)
			return false;
		*v = t[*j + 1];
		*j += 2;
		return true;
	default:
		return false;
	}
}

/* Match PackageOp PkgLength NumElements SLP_TYPa SLP_TYPb starting at j. */
static bool s5_package_at(const uint8_t *t, uint32_t len, uint32_t j, struct acpi_info *out)
{
	uint8_t a, b;

	if (j >= len || t[j] != 0x12)
		return false;
	j++;
	if (j >= len)
		return false;
	j += 1u + (t[j] >> 6);	  /* PkgLength: top 2 bits = extra byte count */
	if (j >= len || t[j] < 2) /* NumElements */
		return false;
	j++;
	if (!aml_byte_const(t, len, &j, &a) || !aml_byte_const(t, len, &j, &b))
		return false;
	out->s5_valid = true;
	out->s5_slp_typa = a;
	out->s5_slp_typb = b;
	return true;
}

/* This is a byte-pattern search for Name(_S5, Package(){a, b, ...}), NOT an AML
 * interpreter: an _S5 built by a method or with other integer encodings is not
 * found. A leading '\' (RootChar) before "_S5_" is simply skipped over. */
static void find_s5(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	for (uint32_t i = HDR_LEN; len - i >= 4; i++) {
		if (memcmp(t + i, "_S5_", 4) == 0 && s5_package_at(t, len, i + 4, out))
			return;
	}
}

static void parse_dsdt(const struct acpi_mem *m, uint64_t pa, struct acpi_info *out)
{
	const uint8_t *t;
	uint32_t len;

	if (pa == 0)
		return;
	out->ntables++;
	if (map_table(m, pa, TABLE_MAX_LEN, &t, &len) != ST_OK || !sig_is(t, "DSDT")) {
		out->nbad++;
		return;
	}
	find_s5(t, len, out);
}

/* ---- FADT ---- */

static uint16_t fld16(const uint8_t *t, uint32_t len, uint32_t off)
{
	return off + 2 <= len ? rd16(t, off) : 0;
}

static uint32_t fld32(const uint8_t *t, uint32_t len, uint32_t off)
{
	return off + 4 <= len ? rd32(t, off) : 0;
}

#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define GAS_SYSTEM_IO 1u

static void fadt_reset(const uint8_t *t, uint32_t len, uint32_t flags, struct acpi_info *out)
{
	if (!(flags & FADT_RESET_REG_SUP) || len < 129)
		return;
	out->reset_supported = true;
	out->reset_space = t[116];
	out->reset_addr = rd64(t, 120);
	out->reset_value = t[128];
}

static void fadt_x_pm_timer(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	uint64_t addr;

	if (len < 220 || out->pm_timer_port != 0 || t[208] != GAS_SYSTEM_IO)
		return;
	addr = rd64(t, 212);
	if (addr <= 0xFFFF)
		out->pm_timer_port = (uint32_t)addr;
}

/* All FADT fields are read before the DSDT is mapped (map() contract). */
static bool parse_fadt(const struct acpi_mem *m, const uint8_t *t, uint32_t len,
		       struct acpi_info *out)
{
	uint32_t flags = fld32(t, len, 112);
	uint64_t dsdt = fld32(t, len, 40);

	out->has_fadt = true;
	out->fadt_revision = t[8];
	out->sci_irq = fld16(t, len, 46);
	out->pm1a_cnt = fld32(t, len, 64);
	out->pm1b_cnt = fld32(t, len, 68);
	out->pm_timer_port = fld32(t, len, 76);
	out->pm_timer_32bit = (flags & FADT_TMR_VAL_EXT) != 0;
	fadt_reset(t, len, flags, out);
	fadt_x_pm_timer(t, len, out);
	if (len >= 148 && rd64(t, 140) != 0)
		dsdt = rd64(t, 140);
	parse_dsdt(m, dsdt, out);
	return true;
}

/* ---- MCFG, SPCR ---- */

static bool parse_mcfg(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	if (len < MCFG_ENTRIES_OFF)
		return false;
	for (uint32_t off = MCFG_ENTRIES_OFF; len - off >= MCFG_ENTRY_LEN; off += MCFG_ENTRY_LEN) {
		struct acpi_mcfg *e;

		if (out->nmcfg >= ACPI_MAX_MCFG) {
			out->truncated++;
			continue;
		}
		e = &out->mcfg[out->nmcfg++];
		e->base = rd64(t, off);
		e->segment = rd16(t, off + 8);
		e->bus_start = t[off + 10];
		e->bus_end = t[off + 11];
	}
	return (len - MCFG_ENTRIES_OFF) % MCFG_ENTRY_LEN == 0;
}

static uint32_t spcr_baud(uint8_t code)
{
	switch (code) {
	case 3:
		return 9600;
	case 4:
		return 19200;
	case 6:
		return 57600;
	case 7:
		return 115200;
	default:
		return 0; /* 0 = as is; reserved codes treated the same */
	}
}

static bool parse_spcr(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	if (len < 59)
		return false;
	out->has_spcr = true;
	out->spcr_type = t[36];
	out->spcr_space = t[40];
	out->spcr_addr = rd64(t, 44);
	out->spcr_baud = spcr_baud(t[58]);
	return true;
}

/* ---- table walk ---- */

static bool dispatch(const struct acpi_mem *m, const uint8_t *t, uint32_t len,
		     struct acpi_info *out)
{
	if (sig_is(t, "APIC"))
		return parse_madt(t, len, out);
	if (sig_is(t, "FACP"))
		return parse_fadt(m, t, len, out);
	if (sig_is(t, "MCFG"))
		return parse_mcfg(t, len, out);
	if (sig_is(t, "SPCR"))
		return parse_spcr(t, len, out);
	return true;
}

static void parse_child(const struct acpi_mem *m, uint64_t pa, struct acpi_info *out)
{
	const uint8_t *t;
	uint32_t len;

	out->ntables++;
	if (map_table(m, pa, TABLE_MAX_LEN, &t, &len) != ST_OK || !dispatch(m, t, len, out))
		out->nbad++;
}

/* Root entries are re-mapped one at a time, so no pointer outlives a map(). */
static void walk_root(const struct acpi_mem *m, const struct root *rt, struct acpi_info *out)
{
	uint32_t n = (rt->len - HDR_LEN) / rt->esz;

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = map(m, rt->pa + HDR_LEN + (uint64_t)i * rt->esz, rt->esz);

		if (!e) {
			out->nbad++;
			return;
		}
		parse_child(m, rt->esz == 8 ? rd64(e, 0) : rd32(e, 0), out);
	}
}

status_t acpi_parse(const uint8_t *rsdp, size_t rsdp_len, const struct acpi_mem *mem,
		    struct acpi_info *out, char *err, size_t errlen)
{
	struct rsdp_view v;
	struct root rt;
	const char *msg = "";
	status_t st;

	set_err(err, errlen, "");
	if (!rsdp || !mem || !mem->map || !out) {
		set_err(err, errlen, "ACPI: invalid arguments");
		return ST_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	st = check_rsdp(rsdp, rsdp_len, &v, &msg);
	if (st == ST_OK) {
		out->rsdp_revision = v.rev;
		memcpy(out->oem_id, rsdp + 9, 6);
		st = select_root(mem, &v, &rt, out, &msg);
	}
	if (st != ST_OK) {
		set_err(err, errlen, msg);
		return st;
	}
	walk_root(mem, &rt, out);
	return ST_OK;
}

/* ---- summary line ---- */

struct sbuf {
	char *b;
	size_t cap;
	size_t n;
};

__attribute__((format(printf, 2, 3))) static void sb_add(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(s->b + s->n, s->cap - s->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->n += (size_t)n < s->cap - s->n ? (size_t)n : s->cap - s->n - 1;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* OEM IDs are space-padded and not always printable. */
static void oem_text(const char *oem, char out[7])
{
	size_t n = strnlen(oem, 6);

	while (n && oem[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++)
		out[i] = oem[i] >= 0x20 && oem[i] < 0x7f ? oem[i] : '?';
	out[n] = '\0';
}

static void sum_head(struct sbuf *s, const struct acpi_info *a)
{
	char oem[7];

	oem_text(a->oem_id, oem);
	sb_add(s, "ACPI: rev %u (%s) OEM %s, %u CPU%s, %u IOAPIC%s, %u override%s",
	       a->rsdp_revision, a->xsdt_used ? "XSDT" : "RSDT", oem, a->ncpus, plural(a->ncpus),
	       a->nioapics, plural(a->nioapics), a->nisos, plural(a->nisos));
}

static void sum_tail(struct sbuf *s, const struct acpi_info *a)
{
	if (a->pm_timer_port)
		sb_add(s, ", PM timer 0x%x (%s)", a->pm_timer_port,
		       a->pm_timer_32bit ? "32-bit" : "24-bit");
	else
		sb_add(s, ", no PM timer");
	if (a->nmcfg)
		sb_add(s, ", MCFG %u segment%s", a->nmcfg, plural(a->nmcfg));
	else
		sb_add(s, ", no MCFG");
	if (a->s5_valid)
		sb_add(s, ", S5 type %u", a->s5_slp_typa);
	else
		sb_add(s, ", no S5");
	sb_add(s, ", %u table%s, %u bad", a->ntables, plural(a->ntables), a->nbad);
}

int acpi_summary(const struct acpi_info *a, char *buf, size_t len)
{
	struct sbuf s = {buf, len, 0};

	if (!buf || len == 0)
		return 0;
	buf[0] = '\0';
	if (!a) {
		sb_add(&s, "ACPI: none");
		return (int)s.n;
	}
	sum_head(&s, a);
	sum_tail(&s, a);
	if (a->truncated)
		sb_add(&s, ", %u truncated", a->truncated);
	return (int)s.n;
}
