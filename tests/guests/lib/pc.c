/* PC platform helpers for the virtual-PC test guests (see pc.h). */
#include "pc.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID_EXT_BASE 0x80000000u
#define HV_LEAF_LIMIT 0x40010000u /* a sane hypervisor range ends below this */
#define CPUID_TSC_LEAF 0x15

#define MS_PER_S 1000
#define SAMPLE_TRIES 4
#define STUCK_READS 1000000u	       /* consecutive equal reads: the counter is stuck */
#define MEASURE_TSC_LIMIT (1ull << 36) /* give up after this many TSC ticks */

#define BIOS_EBDA_SEG 0x40E
#define EBDA_MIN 0x80000
#define EBDA_MAX 0xA0000
#define EBDA_SCAN 1024
#define BIOS_ROM_START 0xE0000
#define BIOS_ROM_END 0x100000
#define RSDP_ALIGN 16
#define ADDR_4G 0x100000000ull

#define GAS_LEN 12
#define GAS_SPACE_IO 1
#define GAS_ADDR 4
#define FADT_X_PM1A_EVT 148
#define FADT_X_PM1B_EVT 160
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_X_PM2_CNT 196
#define FADT_X_PM_TMR 208
#define FADT_X_GPE0 220
#define FADT_X_GPE1 232
#define ACPI_ENABLE_POLLS 1000000u

#define AML_NAME_OP 0x08
#define AML_ROOT_CHAR 0x5C
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0A
#define AML_PKGLEN_BYTES_SHIFT 6

#define MADT_ISO_LEN 10
#define MADT_IOAPIC_LEN 12
#define IOAPIC_DEFAULT 0xFEC00000u
#define IOAPIC_MAXRTE_MASK 0xFF

#define PIC_ICW1_INIT_ICW4 0x11 /* edge, cascade, ICW4 follows */
#define PIC_ICW3_MASTER (1u << PIC_CASCADE_IRQ)
#define PIC_ICW3_SLAVE PIC_CASCADE_IRQ
#define PIC_ICW4_8086 0x01
#define BYTE_BITS 8
#define PIT_COUNT_MASK 0xFFFF
#define PMTMR_MASK_24 0xFFFFFFull
#define PMTMR_MASK_32 0xFFFFFFFFull

#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1 0x03
#define UART_DIV_115200 1
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_DR 0x01
#define UART_DRAIN_MAX 64

#define CMDLINE_MAX 4096

/* ------------------------------------------------------------ hypervisor */

uint32_t pc_hv_signature(char sig[13])
{
	struct cpuid_r r;

	sig[0] = 0;
	if (!(cpuid(1, 0).c & CPUID1_ECX_HYPERVISOR))
		return 0;
	r = cpuid(PC_HV_LEAF, 0);
	memcpy(sig, &r.b, 4);
	memcpy(sig + 4, &r.c, 4);
	memcpy(sig + 8, &r.d, 4);
	sig[12] = 0;
	return r.a;
}

bool pc_on_keel(void)
{
	char sig[13];

	pc_hv_signature(sig);
	return strcmp(sig, PC_KEEL_SIGNATURE) == 0;
}

struct cpuid_r pc_cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_r none = {0, 0, 0, 0};
	uint32_t max;

	if (leaf >= CPUID_EXT_BASE)
		max = cpuid(CPUID_EXT_BASE, 0).a;
	else if (leaf >= PC_HV_LEAF) {
		char sig[13];
		max = pc_hv_signature(sig);
		if (max < PC_HV_LEAF || max >= HV_LEAF_LIMIT)
			return none;
	} else
		max = cpuid(0, 0).a;
	return leaf <= max ? cpuid(leaf, sub) : none;
}

/* ------------------------------------------------------------------ time */

int64_t pc_ppm(uint64_t got, uint64_t want)
{
	if (!want)
		return INT64_MAX;
	return (int64_t)(((__int128)got - (__int128)want) * PC_PPM / (__int128)want);
}

bool pc_within(int64_t ppm, int64_t limit)
{
	return ppm <= limit && ppm >= -limit;
}

uint64_t pc_rate(const struct pc_span *s, uint64_t tsc_hz)
{
	if (!s->tsc)
		return 0;
	return (uint64_t)((unsigned __int128)s->ticks * tsc_hz / s->tsc);
}

static uint64_t counter_delta(const struct pc_counter *c, uint64_t from, uint64_t to)
{
	return (c->down ? from - to : to - from) & c->mask;
}

/* One counter read bracketed by TSC reads: the narrowest of a few tries. */
static void sample(const struct pc_counter *c, uint64_t *tsc, uint64_t *val, uint64_t *bracket)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t t0 = pc_rdtsc();
		uint64_t v = c->read();
		uint64_t t1 = pc_rdtsc();

		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*val = v;
		}
	}
	*bracket = best;
}

static bool measure_once(const struct pc_counter *c, uint32_t ms, struct pc_span *s)
{
	uint64_t want = c->hz * ms / MS_PER_S;
	uint64_t t0, t1, v0, v1, b0, b1, prev, ticks = 0;
	uint32_t same = 0;

	sample(c, &t0, &v0, &b0);
	prev = v0;
	while (ticks < want) {
		uint64_t v = c->read();
		uint64_t d = counter_delta(c, prev, v);

		same = d ? 0 : same + 1;
		if (same > STUCK_READS || pc_rdtsc() - t0 > MEASURE_TSC_LIMIT)
			return false;
		ticks += d;
		prev = v;
	}
	sample(c, &t1, &v1, &b1);
	s->ticks = ticks + counter_delta(c, prev, v1);
	s->tsc = t1 - t0;
	s->bracket = b0 > b1 ? b0 : b1;
	return true;
}

/* A sample whose bracket is wider than this share of the interval (the
 * vCPU was descheduled around the read) makes the measurement redone. */
#define BRACKET_SHARE 2000 /* 0.05% */
#define MEASURE_ATTEMPTS 3

bool pc_measure(const struct pc_counter *c, uint32_t ms, struct pc_span *s)
{
	struct pc_span t;
	bool any = false;

	for (unsigned i = 0; i < MEASURE_ATTEMPTS; i++) {
		if (!measure_once(c, ms, &t))
			return any;
		if (!any || t.bracket < s->bracket)
			*s = t;
		any = true;
		if (t.bracket * BRACKET_SHARE <= t.tsc)
			break;
	}
	return any;
}

/* The hypervisor's frequency leaf: 0x40000010 (the VMware/KVM layout),
 * else, under Keel only, 0x40000001 (the same layout in Keel's
 * kernel/vm/cpuid_policy.c; KVM uses that leaf for feature bits). */
static struct cpuid_r hv_freq(const char **leaf)
{
	struct cpuid_r r = pc_cpuid(PC_HV_FREQ_LEAF, 0);

	*leaf = "CPUID 0x40000010";
	if (!r.a && pc_on_keel()) {
		r = pc_cpuid(PC_KEEL_FREQ_LEAF, 0);
		*leaf = "CPUID 0x40000001 (Keel)";
	}
	return r;
}

bool pc_hv_rates(uint32_t *tsc_khz, uint32_t *bus_khz, const char **leaf)
{
	struct cpuid_r r = hv_freq(leaf);

	*tsc_khz = r.a;
	*bus_khz = r.b;
	return r.a && r.b;
}

#define KEEL_HOST_VIRTUAL 1u

int64_t pc_irq_late_limit(void)
{
	static int64_t limit;

	if (limit)
		return limit;
	limit = PC_PCT_10;
	if (!pc_on_keel())
		return limit;
	if (pc_cpuid(PC_KEEL_FREQ_LEAF, 0).c & KEEL_HOST_VIRTUAL) {
		rt_puts("# Keel runs on a virtual CPU: interrupt arrival held to 10%\n");
		return limit;
	}
	limit = PC_PCT_1;
	return limit;
}

uint64_t pc_tsc_hz_published(const char **how)
{
	struct cpuid_r r = hv_freq(how);

	if (r.a)
		return (uint64_t)r.a * MS_PER_S;
	r = pc_cpuid(CPUID_TSC_LEAF, 0);
	if (r.a && r.b && r.c) {
		*how = "CPUID 0x15";
		return (uint64_t)r.c * r.b / r.a;
	}
	*how = "none";
	return 0;
}

#define ROUGH_MS 50

uint64_t pc_tsc_hz(void)
{
	static uint64_t hz;
	const char *how;
	struct pc_span s;

	if (hz)
		return hz;
	hz = pc_tsc_hz_published(&how);
	if (hz)
		return hz;
	if (pc_pmtmr_init() && pc_measure(&pc_pmtmr, ROUGH_MS, &s))
		hz = (uint64_t)((unsigned __int128)s.tsc * PC_PMTMR_HZ / s.ticks);
	else {
		pc_pit_ch2_start();
		if (pc_measure(&pc_pit_ch2, ROUGH_MS, &s))
			hz = (uint64_t)((unsigned __int128)s.tsc * PC_PIT_HZ / s.ticks);
		pc_pit_ch2_stop();
	}
	return hz;
}

uint64_t pc_ms(uint64_t ms)
{
	return pc_tsc_hz() * ms / MS_PER_S;
}

void pc_tsc_wait(uint64_t ticks)
{
	uint64_t t0 = pc_rdtsc();

	while (pc_rdtsc() - t0 < ticks)
		pause();
}

/* ------------------------------------------------------------------ ACPI */

const void *pc_phys(uint64_t addr)
{
	uintptr_t p = (uintptr_t)addr;

	asm("" : "+r"(p));
	return (const void *)p;
}

uint8_t pc_sum(const void *p, size_t len)
{
	const volatile uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

static const struct acpi_rsdp *rsdp_in(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + ACPI_RSDP_V1_LEN <= end; a += RSDP_ALIGN) {
		const struct acpi_rsdp *r = pc_phys(a);

		if (memcmp(r->sig, "RSD PTR ", sizeof(r->sig)) == 0 &&
		    pc_sum(r, ACPI_RSDP_V1_LEN) == 0)
			return r;
	}
	return NULL;
}

/* Found once: the tables do not move while a guest runs. */
const struct acpi_rsdp *pc_acpi_rsdp(void)
{
	static const struct acpi_rsdp *rsdp;
	static bool searched;
	uint64_t ebda;

	if (searched)
		return rsdp;
	searched = true;
	ebda = (uint64_t) * (const volatile uint16_t *)pc_phys(BIOS_EBDA_SEG) << 4;
	if (ebda >= EBDA_MIN && ebda < EBDA_MAX)
		rsdp = rsdp_in(ebda, ebda + EBDA_SCAN);
	if (!rsdp)
		rsdp = rsdp_in(BIOS_ROM_START, BIOS_ROM_END);
	return rsdp;
}

const struct acpi_hdr *pc_acpi_valid(uint64_t phys)
{
	const struct acpi_hdr *h;

	if (!phys || phys + ACPI_HDR_LEN > ADDR_4G)
		return NULL;
	h = pc_phys(phys);
	if (h->length < ACPI_HDR_LEN || h->length > ACPI_TABLE_MAX || phys + h->length > ADDR_4G)
		return NULL;
	return pc_sum(h, h->length) == 0 ? h : NULL;
}

static bool xsdt_usable(const struct acpi_rsdp *r)
{
	return r->revision >= 2 && r->length >= ACPI_RSDP_V2_LEN && r->length <= ACPI_TABLE_MAX &&
	       pc_sum(r, r->length) == 0 && r->xsdt;
}

const struct acpi_hdr *pc_acpi_root(unsigned *entry_size, unsigned *count)
{
	const struct acpi_rsdp *r = pc_acpi_rsdp();
	const struct acpi_hdr *h;
	unsigned es;

	if (!r)
		return NULL;
	if (xsdt_usable(r)) {
		h = pc_acpi_valid(r->xsdt);
		es = sizeof(uint64_t);
		if (!h || memcmp(h->sig, "XSDT", 4) != 0)
			return NULL;
	} else {
		h = pc_acpi_valid(r->rsdt);
		es = sizeof(uint32_t);
		if (!h || memcmp(h->sig, "RSDT", 4) != 0)
			return NULL;
	}
	if (entry_size)
		*entry_size = es;
	if (count)
		*count = (h->length - ACPI_HDR_LEN) / es;
	return h;
}

uint64_t pc_acpi_root_entry(unsigned i)
{
	unsigned es, n;
	const struct acpi_hdr *h = pc_acpi_root(&es, &n);
	const uint8_t *p;
	uint64_t v = 0;

	if (!h || i >= n)
		return 0;
	p = (const uint8_t *)h + ACPI_HDR_LEN + (size_t)i * es;
	memcpy(&v, p, es);
	return v;
}

const struct acpi_hdr *pc_acpi_find(const char sig[4])
{
	unsigned n;

	if (memcmp(sig, "DSDT", 4) == 0) {
		struct pc_fadt f;
		return pc_fadt(&f) ? pc_acpi_valid(f.dsdt) : NULL;
	}
	if (!pc_acpi_root(NULL, &n))
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		const struct acpi_hdr *h = pc_acpi_valid(pc_acpi_root_entry(i));
		if (h && memcmp(h->sig, sig, 4) == 0)
			return h;
	}
	return NULL;
}

static uint64_t tbl_get(const struct acpi_hdr *t, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	if (off + size <= t->length)
		memcpy(&v, (const uint8_t *)t + off, size);
	return v;
}

/* The 32-bit block address, or the X_ GAS address when that is zero and
 * the GAS is in I/O space. */
static uint32_t fadt_block(const struct acpi_hdr *t, uint32_t off, uint32_t x_off)
{
	uint32_t a = (uint32_t)tbl_get(t, off, 4);

	if (!a && x_off + GAS_LEN <= t->length && tbl_get(t, x_off, 1) == GAS_SPACE_IO)
		a = (uint32_t)tbl_get(t, x_off + GAS_ADDR, 8);
	return a;
}

bool pc_fadt(struct pc_fadt *f)
{
	const struct acpi_hdr *t = pc_acpi_find("FACP");
	uint64_t x;

	memset(f, 0, sizeof(*f));
	if (!t)
		return false;
	f->table = t;
	f->smi_cmd = (uint32_t)tbl_get(t, FADT_SMI_CMD, 4);
	f->acpi_enable = (uint8_t)tbl_get(t, FADT_ACPI_ENABLE, 1);
	f->sci = (uint16_t)tbl_get(t, FADT_SCI_INT, 2);
	f->pm1a_evt = fadt_block(t, FADT_PM1A_EVT, FADT_X_PM1A_EVT);
	f->pm1b_evt = fadt_block(t, FADT_PM1B_EVT, FADT_X_PM1B_EVT);
	f->pm1a_cnt = fadt_block(t, FADT_PM1A_CNT, FADT_X_PM1A_CNT);
	f->pm1b_cnt = fadt_block(t, FADT_PM1B_CNT, FADT_X_PM1B_CNT);
	f->pm2_cnt = fadt_block(t, FADT_PM2_CNT, FADT_X_PM2_CNT);
	f->pm_tmr = fadt_block(t, FADT_PM_TMR, FADT_X_PM_TMR);
	f->gpe0 = fadt_block(t, FADT_GPE0, FADT_X_GPE0);
	f->gpe1 = fadt_block(t, FADT_GPE1, FADT_X_GPE1);
	f->pm1_evt_len = (uint8_t)tbl_get(t, FADT_PM1_EVT_LEN, 1);
	f->pm1_cnt_len = (uint8_t)tbl_get(t, FADT_PM1_CNT_LEN, 1);
	f->pm2_cnt_len = (uint8_t)tbl_get(t, FADT_PM2_CNT_LEN, 1);
	f->pm_tmr_len = (uint8_t)tbl_get(t, FADT_PM_TMR_LEN, 1);
	f->gpe0_len = (uint8_t)tbl_get(t, FADT_GPE0_LEN, 1);
	f->gpe1_len = (uint8_t)tbl_get(t, FADT_GPE1_LEN, 1);
	f->century = (uint8_t)tbl_get(t, FADT_CENTURY, 1);
	f->flags = (uint32_t)tbl_get(t, FADT_FLAGS, 4);
	f->dsdt = tbl_get(t, FADT_DSDT, 4);
	x = tbl_get(t, FADT_X_DSDT, 8);
	if (x)
		f->dsdt = x;
	f->facs = tbl_get(t, FADT_FIRMWARE_CTRL, 4);
	x = tbl_get(t, FADT_X_FIRMWARE_CTRL, 8);
	if (x)
		f->facs = x;
	return true;
}

/* An AML integer constant at p (Zero, One, BytePrefix n); false for any
 * other encoding. */
static bool aml_small_int(const uint8_t *p, const uint8_t *end, uint8_t *v, unsigned *len)
{
	if (p >= end)
		return false;
	if (*p == AML_ZERO_OP || *p == AML_ONE_OP) {
		*v = *p;
		*len = 1;
		return true;
	}
	if (*p == AML_BYTE_PREFIX && p + 1 < end) {
		*v = p[1];
		*len = 2;
		return true;
	}
	return false;
}

bool pc_acpi_s5(uint8_t *typ_a, uint8_t *typ_b)
{
	const struct acpi_hdr *d = pc_acpi_find("DSDT");
	const uint8_t *base, *end;

	if (!d || memcmp(d->sig, "DSDT", 4) != 0)
		return false;
	base = (const uint8_t *)d;
	end = base + d->length;
	for (const uint8_t *p = base + ACPI_HDR_LEN + 1; p + 4 < end; p++) {
		const uint8_t *q = p + 4;
		unsigned follow, len;
		uint8_t n;

		if (memcmp(p, "_S5_", 4) != 0)
			continue;
		if (p[-1] != AML_NAME_OP && !(p[-1] == AML_ROOT_CHAR && p[-2] == AML_NAME_OP))
			continue;
		if (q >= end || *q++ != AML_PACKAGE_OP || q >= end)
			continue;
		follow = *q >> AML_PKGLEN_BYTES_SHIFT; /* PkgLength: 0-3 more bytes */
		q += 1 + follow;
		if (q >= end)
			continue;
		n = *q++; /* NumElements */
		if (n < 1 || !aml_small_int(q, end, typ_a, &len))
			continue;
		q += len;
		*typ_b = 0;
		if (n >= 2 && !aml_small_int(q, end, typ_b, &len))
			continue;
		return true;
	}
	return false;
}

bool pc_acpi_enable(const struct pc_fadt *f)
{
	if (!f->pm1a_cnt)
		return false;
	if (inw((uint16_t)f->pm1a_cnt) & PM1_CNT_SCI_EN)
		return true;
	if (!f->smi_cmd || !f->acpi_enable)
		return false;
	outb((uint16_t)f->smi_cmd, f->acpi_enable);
	for (uint32_t i = 0; i < ACPI_ENABLE_POLLS; i++) {
		if (inw((uint16_t)f->pm1a_cnt) & PM1_CNT_SCI_EN)
			return true;
		pause();
	}
	return false;
}

bool pc_madt_walk(pc_madt_fn fn, void *arg)
{
	const struct acpi_hdr *t = pc_acpi_find("APIC");
	const uint8_t *p, *end;

	if (!t || t->length < MADT_ENTRIES)
		return false;
	p = (const uint8_t *)t + MADT_ENTRIES;
	end = (const uint8_t *)t + t->length;
	while (p < end) {
		if (p + 2 > end || p[1] < 2 || p + p[1] > end)
			return false;
		fn(p[0], p, p[1], arg);
		p += p[1];
	}
	return true;
}

struct iso_find {
	uint8_t irq;
	bool found;
	uint32_t gsi;
	uint16_t flags;
};

static void find_iso(uint8_t type, const uint8_t *e, uint8_t len, void *arg)
{
	struct iso_find *f = arg;

	if (type != MADT_TYPE_ISO || len < MADT_ISO_LEN || e[2] != 0 || e[3] != f->irq)
		return;
	f->found = true;
	memcpy(&f->gsi, e + 4, 4);
	memcpy(&f->flags, e + 8, 2);
}

bool pc_madt_isa_irq(uint8_t irq, uint32_t *gsi, uint16_t *flags)
{
	struct iso_find f = {.irq = irq};

	pc_madt_walk(find_iso, &f);
	*gsi = f.found ? f.gsi : irq;
	*flags = f.found ? f.flags : 0;
	return f.found;
}

struct ioapic_find {
	bool found;
	uint32_t addr, gsi_base;
	uint8_t id;
};

static void find_ioapic(uint8_t type, const uint8_t *e, uint8_t len, void *arg)
{
	struct ioapic_find *f = arg;

	if (type != MADT_TYPE_IOAPIC || len < MADT_IOAPIC_LEN || f->found)
		return;
	f->found = true;
	f->id = e[2];
	memcpy(&f->addr, e + 4, 4);
	memcpy(&f->gsi_base, e + 8, 4);
}

uint64_t pc_madt_ioapic(uint32_t *gsi_base, uint8_t *id)
{
	struct ioapic_find f = {0};

	pc_madt_walk(find_ioapic, &f);
	if (gsi_base)
		*gsi_base = f.found ? f.gsi_base : 0;
	if (id)
		*id = f.id;
	return f.found ? f.addr : IOAPIC_DEFAULT;
}

/* ----------------------------------------------------------------- LAPIC */

volatile uint32_t pc_spurious;

uint32_t pc_lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(PC_LAPIC_BASE + reg);
}

void pc_lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(PC_LAPIC_BASE + reg) = v;
}

static void on_spurious(struct rt_frame *f)
{
	(void)f;
	pc_spurious++;
}

void pc_lapic_enable(void)
{
	rt_set_irq(LAPIC_SPURIOUS_VEC, on_spurious);
	pc_lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VEC);
	pc_lapic_write(LAPIC_TPR, 0);
	pc_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	pc_lapic_write(LAPIC_TIMER_INIT, 0);
	pc_lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	pc_lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
}

void pc_lapic_eoi(void)
{
	pc_lapic_write(LAPIC_EOI, 0);
}

bool pc_lapic_bit(uint32_t base, uint8_t v)
{
	return pc_lapic_read(base + 0x10u * (v / 32u)) & (1u << (v % 32u));
}

uint8_t pc_lapic_id(void)
{
	return (uint8_t)(pc_lapic_read(LAPIC_ID) >> LAPIC_ID_SHIFT);
}

#define LAPIC_DIV1 0xB
#define BUS_MEASURE_MS 10
#define WAKE_MS 5
#define GHZ 1000000000ull

uint64_t pc_lapic_bus_hz(const char **how)
{
	static uint64_t hz;
	static const char *src;
	struct cpuid_r r;
	char sig[13];

	if (hz) {
		*how = src;
		return hz;
	}
	r = hv_freq(&src);
	pc_hv_signature(sig);
	if (r.b) {
		hz = (uint64_t)r.b * MS_PER_S;
	} else if ((r = pc_cpuid(CPUID_TSC_LEAF, 0)).c) {
		hz = r.c; /* the core crystal clock, the APIC timer's input */
		src = "CPUID 0x15 ECX";
	} else if (strcmp(sig, "TCGTCGTCGTCG") == 0 || memcmp(sig, "KVMKVMKVM", 9) == 0) {
		hz = GHZ;
		src = "QEMU's 1 GHz APIC bus";
	} else {
		uint64_t t0;
		uint32_t left;

		pc_lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV1);
		pc_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
		t0 = pc_rdtsc();
		pc_lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
		pc_tsc_wait(pc_ms(BUS_MEASURE_MS));
		left = pc_lapic_read(LAPIC_TIMER_CUR);
		hz = (uint64_t)((unsigned __int128)(UINT32_MAX - left) * pc_tsc_hz() /
				(pc_rdtsc() - t0));
		pc_lapic_write(LAPIC_TIMER_INIT, 0);
		src = "measured against the TSC";
	}
	*how = src;
	return hz;
}

static void on_wake(struct rt_frame *f)
{
	(void)f;
	pc_lapic_eoi();
}

bool pc_idle_until(volatile uint32_t *count, uint32_t want, uint64_t ms)
{
	const char *how;
	uint64_t period = pc_lapic_bus_hz(&how) * WAKE_MS / MS_PER_S;
	uint64_t t0 = pc_rdtsc(), limit = pc_ms(ms);

	rt_set_irq(PC_VEC_WAKE, on_wake);
	pc_lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV1);
	pc_lapic_write(LAPIC_LVT_TIMER, PC_VEC_WAKE | LVT_TIMER_PERIODIC);
	pc_lapic_write(LAPIC_TIMER_INIT, period > UINT32_MAX ? UINT32_MAX : (uint32_t)period);
	while (*count < want && pc_rdtsc() - t0 < limit)
		asm volatile("sti; hlt; cli" ::: "memory");
	pc_lapic_write(LAPIC_TIMER_INIT, 0);
	pc_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	return *count >= want;
}

/* ---------------------------------------------------------------- IOAPIC */

static uint64_t ioapic_base = IOAPIC_DEFAULT;
static uint32_t ioapic_gsi_base;

void pc_ioapic_init(void)
{
	ioapic_base = pc_madt_ioapic(&ioapic_gsi_base, NULL);
}

uint64_t pc_ioapic_base(void)
{
	return ioapic_base;
}

uint32_t pc_ioapic_read(uint8_t reg)
{
	*(volatile uint32_t *)(uintptr_t)(ioapic_base + IOAPIC_REGSEL) = reg;
	return *(volatile uint32_t *)(uintptr_t)(ioapic_base + IOAPIC_WIN);
}

void pc_ioapic_write(uint8_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(ioapic_base + IOAPIC_REGSEL) = reg;
	*(volatile uint32_t *)(uintptr_t)(ioapic_base + IOAPIC_WIN) = v;
}

uint64_t pc_ioapic_rte(unsigned pin)
{
	uint8_t r = (uint8_t)(IOAPIC_REG_RTE + 2 * pin);
	uint64_t lo = pc_ioapic_read(r);

	return lo | (uint64_t)pc_ioapic_read((uint8_t)(r + 1)) << 32;
}

/* Masked first, destination, then the final low half: never live with a
 * half-written entry. */
void pc_ioapic_set_rte(unsigned pin, uint64_t rte)
{
	uint8_t r = (uint8_t)(IOAPIC_REG_RTE + 2 * pin);

	pc_ioapic_write(r, (uint32_t)RTE_MASKED);
	pc_ioapic_write((uint8_t)(r + 1), (uint32_t)(rte >> 32));
	pc_ioapic_write(r, (uint32_t)rte);
}

unsigned pc_ioapic_pins(void)
{
	return ((pc_ioapic_read(IOAPIC_REG_VER) >> IOAPIC_MAXRTE_SHIFT) & IOAPIC_MAXRTE_MASK) + 1;
}

void pc_ioapic_mask_all(void)
{
	unsigned n = pc_ioapic_pins();

	for (unsigned pin = 0; pin < n; pin++)
		pc_ioapic_set_rte(pin, RTE_MASKED);
}

unsigned pc_ioapic_route_isa(uint8_t irq, uint8_t vector, bool force_level, bool masked)
{
	uint32_t gsi;
	uint16_t flags;
	uint64_t rte = vector | (uint64_t)pc_lapic_id() << RTE_DEST_SHIFT;
	unsigned pin;

	pc_madt_isa_irq(irq, &gsi, &flags);
	pin = gsi - ioapic_gsi_base;
	if (force_level)
		rte |= RTE_LEVEL;
	else {
		if ((flags & MADT_ISO_POL_MASK) == MADT_ISO_POL_LOW)
			rte |= RTE_LOW;
		if ((flags & MADT_ISO_TRIG_MASK) == MADT_ISO_TRIG_LEVEL)
			rte |= RTE_LEVEL;
	}
	if (masked)
		rte |= RTE_MASKED;
	pc_ioapic_set_rte(pin, rte);
	return pin;
}

/* ------------------------------------------------------------------ 8259 */

void pc_pic_init(uint8_t base1, uint8_t base2)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, base1);
	outb(PIC2_DATA, base2);
	outb(PIC1_DATA, PIC_ICW3_MASTER);
	outb(PIC2_DATA, PIC_ICW3_SLAVE);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	pc_pic_mask(0xFFFF);
}

void pc_pic_mask(uint16_t mask)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> BYTE_BITS));
}

static uint16_t pic_read_reg(uint8_t ocw3)
{
	uint16_t v;

	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	v = inb(PIC1_CMD);
	return v | (uint16_t)(inb(PIC2_CMD) << BYTE_BITS);
}

uint16_t pc_pic_irr(void)
{
	return pic_read_reg(PIC_READ_IRR);
}

uint16_t pc_pic_isr(void)
{
	uint16_t v = pic_read_reg(PIC_READ_ISR);

	pic_read_reg(PIC_READ_IRR); /* leave the default read register */
	return v;
}

/* ------------------------------------------------------------------ 8254 */

void pc_pit_program(uint8_t ch, uint8_t mode, uint16_t count)
{
	outb(PIT_CMD, (uint8_t)(ch << PIT_SEL_SHIFT | PIT_LOHI | mode));
	outb((uint16_t)(PIT_CH0 + ch), (uint8_t)count);
	outb((uint16_t)(PIT_CH0 + ch), (uint8_t)(count >> BYTE_BITS));
}

uint16_t pc_pit_latch(uint8_t ch)
{
	uint16_t v;

	outb(PIT_CMD, (uint8_t)(ch << PIT_SEL_SHIFT | PIT_LATCH));
	v = inb((uint16_t)(PIT_CH0 + ch));
	return v | (uint16_t)(inb((uint16_t)(PIT_CH0 + ch)) << BYTE_BITS);
}

static uint64_t pit_ch2_read(void)
{
	return pc_pit_latch(2);
}

const struct pc_counter pc_pit_ch2 = {
    .name = "PIT channel 2",
    .hz = PC_PIT_HZ,
    .mask = PIT_COUNT_MASK,
    .down = true,
    .read = pit_ch2_read,
};

void pc_pit_ch2_start(void)
{
	outb(PORT_B, inb(PORT_B) & ~(PORT_B_GATE2 | PORT_B_SPKR));
	pc_pit_program(2, PIT_MODE2, 0);
	outb(PORT_B, (inb(PORT_B) & ~PORT_B_SPKR) | PORT_B_GATE2);
}

void pc_pit_ch2_stop(void)
{
	outb(PORT_B, inb(PORT_B) & ~(PORT_B_GATE2 | PORT_B_SPKR));
}

/* -------------------------------------------------------------- PM timer */

static uint16_t pmtmr_port;

static uint64_t pmtmr_read(void)
{
	return inl(pmtmr_port);
}

struct pc_counter pc_pmtmr = {
    .name = "PM timer",
    .hz = PC_PMTMR_HZ,
    .mask = PMTMR_MASK_24,
    .down = false,
    .read = pmtmr_read,
};

bool pc_pmtmr_init(void)
{
	struct pc_fadt f;

	if (!pc_fadt(&f) || !f.pm_tmr)
		return false;
	pmtmr_port = (uint16_t)f.pm_tmr;
	pc_pmtmr.mask = f.flags & FADT_FLAG_TMR_VAL_EXT ? PMTMR_MASK_32 : PMTMR_MASK_24;
	return true;
}

uint32_t pc_pmtmr_port(void)
{
	return pmtmr_port;
}

/* ------------------------------------------------------------------ CMOS */

uint8_t pc_cmos_read(uint8_t idx)
{
	outb(CMOS_INDEX, idx);
	return inb(CMOS_DATA);
}

void pc_cmos_write(uint8_t idx, uint8_t v)
{
	outb(CMOS_INDEX, idx);
	outb(CMOS_DATA, v);
}

/* ------------------------------------------------------------------ COM1 */

void pc_uart_reset(void)
{
	outb(RT_COM1 + UART_IER, 0);
	outb(RT_COM1 + UART_LCR, UART_LCR_DLAB);
	outb(RT_COM1 + UART_DLL, UART_DIV_115200);
	outb(RT_COM1 + UART_DLM, 0);
	outb(RT_COM1 + UART_LCR, UART_LCR_8N1);
	outb(RT_COM1 + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(RT_COM1 + UART_MCR, UART_MCR_DTR_RTS);
	for (unsigned i = 0; i < UART_DRAIN_MAX && (inb(RT_COM1 + UART_LSR) & UART_LSR_DR); i++)
		(void)inb(RT_COM1 + UART_RBR);
	(void)inb(RT_COM1 + UART_IIR);
	(void)inb(RT_COM1 + UART_MSR);
}

/* --------------------------------------------------------- command line */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool parse_num(const char *s, size_t n, uint64_t *val)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= n)
		return false;
	for (; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * base + d;
	}
	*val = v;
	return true;
}

bool pc_arg_num(const char *name, uint64_t *val)
{
	const char *s = rt_cmdline();
	size_t n = strlen(name);
	size_t i = 0;
	bool take_next = false;

	while (i < CMDLINE_MAX && s[i]) {
		size_t start, len;

		while (i < CMDLINE_MAX && is_space(s[i]))
			i++;
		start = i;
		while (i < CMDLINE_MAX && s[i] && !is_space(s[i]))
			i++;
		len = i - start;
		if (!len)
			break;
		if (take_next)
			return parse_num(s + start, len, val);
		if (len == n && memcmp(s + start, name, n) == 0)
			take_next = true;
		else if (len > n + 1 && memcmp(s + start, name, n) == 0 && s[start + n] == '=')
			return parse_num(s + start + n + 1, len - n - 1, val);
	}
	return false;
}
