/* acpi: walks RSDP -> XSDT (RSDT when the RSDP is revision 0) -> every
 * table, and the FADT's DSDT and FACS, checking what a guest OS relies on.
 *
 *  - RSDP: in the EBDA's first KiB or 0xE0000-0xFFFFF on a 16-byte
 *    boundary, 20-byte checksum; revision >= 2: length >= 36, extended
 *    checksum, an XSDT address.
 *  - Root table: signature, checksum, length a multiple of its entry size.
 *  - Every table: below 4 GiB, a printable signature, 36 <= length <= 1 MiB,
 *    checksum; one FADT and one MADT. The DSDT (X_DSDT when set) likewise,
 *    the FACS: signature, length >= 64, 64-byte aligned.
 *  - FADT: length for its revision (116 for revision 1/2, 244 for 3/4, 268
 *    for 5, 276 for 6), SCI_INT, PM1a event (>= 4 bytes) and control (>= 2)
 *    blocks, a 4-byte PM timer that counts.
 *  - MADT: LAPIC address 0xFEE00000 equal to IA32_APIC_BASE, well-formed
 *    entries, enabled LAPIC entries (x2APIC ones too) equal to the vCPU
 *    count (fw_cfg FW_CFG_NB_CPUS), unique APIC IDs, the BSP's among them,
 *    an IOAPIC that answers at its address, the IRQ0 -> GSI 2 override,
 *    PCAT_COMPAT (8259s present).
 *  - DSDT: a \_S5 package.
 * Keel-only (signature "KeelKeelKeel"): RSDP revision >= 2 with an XSDT,
 * an MCFG table, and a PNP0A08 PCI root bridge in the DSDT (DESIGN.md 4).
 * QEMU's pc machine has an RSDT only, no MCFG and a PNP0A03 bridge. Runs
 * in well under 0.1 s; try it with -smp 2 too. */
#include "pc.h"

#include "../../kernel/vdev/testdev_abi.h"

#define FACS_MIN_LEN 64
#define FACS_ALIGN 64
#define FADT_V3_LEN 244
#define FADT_V5_LEN 268
#define FADT_V6_LEN 276
#define PM1_EVT_MIN 4
#define PM1_CNT_MIN 2
#define PMTMR_LEN 4
#define PMTMR_POLLS 1000
#define MAX_CPUS 256
#define MADT_LAPIC_LEN 8
#define MADT_X2APIC_LEN 16
#define MADT_ISO_LEN 10
#define MADT_IOAPIC_LEN 12
#define UNCLAIMED32 0xFFFFFFFFu
/* EISA ID "PNP0A08" as AML encodes it (compressed, big-endian). */
static const uint8_t pnp0a08[4] = {0x41, 0xD0, 0x0A, 0x08};

const char rt_name[] = "acpi";

static bool keel;

static bool printable(const char *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~')
			return false;
	return true;
}

static void rsdp_checks(const struct acpi_rsdp *r)
{
	char oem[7];

	memcpy(oem, r->oem, 6);
	oem[6] = 0;
	note("RSDP at %p, revision %u, OEM \"%s\", RSDT 0x%x", (const void *)r, r->revision, oem,
	     r->rsdt);
	if (r->revision >= 2) {
		note("XSDT 0x%lx, length %u", r->xsdt, r->length);
		check(r->length >= ACPI_RSDP_V2_LEN && r->length <= ACPI_TABLE_MAX,
		      "RSDP length >= 36");
		check_eq(pc_sum(r, r->length), 0, "RSDP extended checksum");
		check(r->xsdt, "RSDP revision >= 2 names an XSDT");
	}
	if (keel)
		check(r->revision >= 2 && r->xsdt, "on Keel: RSDP revision >= 2 with an XSDT");
}

struct walk {
	unsigned fadt, madt, mcfg, bad;
};

static void table_checks(uint64_t phys, const char *from, struct walk *w)
{
	const struct acpi_hdr *h = pc_phys(phys);
	char sig[5];
	bool ok;

	if (!phys || phys + ACPI_HDR_LEN > RT_IDENTITY_END) {
		w->bad++;
		checkd(false, "a table address below 4 GiB", "%s entry 0x%lx", from, phys);
		return;
	}
	memcpy(sig, h->sig, 4);
	sig[4] = 0;
	ok = printable(h->sig, 4) && h->length >= ACPI_HDR_LEN && h->length <= ACPI_TABLE_MAX &&
	     phys + h->length <= RT_IDENTITY_END && pc_sum(h, h->length) == 0;
	note("%s at 0x%lx: %s, length %u, revision %u", from, phys,
	     printable(sig, 4) ? sig : "????", h->length, h->revision);
	if (!ok) {
		w->bad++;
		checkd(false, "table signature, length and checksum", "%s at 0x%lx", sig, phys);
		return;
	}
	w->fadt += memcmp(sig, "FACP", 4) == 0;
	w->madt += memcmp(sig, "APIC", 4) == 0;
	w->mcfg += memcmp(sig, "MCFG", 4) == 0;
}

static void walk_root(void)
{
	unsigned es = 0, n = 0;
	const struct acpi_hdr *root = pc_acpi_root(&es, &n);
	struct walk w = {0};

	if (!check(root, "the root table (XSDT or RSDT) is valid"))
		return;
	check_eq((root->length - ACPI_HDR_LEN) % es, 0, "the root table length fits its entries");
	note("%c%c%c%c with %u entries", root->sig[0], root->sig[1], root->sig[2], root->sig[3], n);
	for (unsigned i = 0; i < n; i++)
		table_checks(pc_acpi_root_entry(i), "entry", &w);
	checkd(!w.bad, "every table: address, signature, length and checksum valid", "%u bad",
	       w.bad);
	check_eq(w.fadt, 1, "exactly one FADT");
	check_eq(w.madt, 1, "exactly one MADT");
	if (keel)
		check_eq(w.mcfg, 1, "on Keel: an MCFG table");
}

static unsigned fadt_min_len(uint8_t rev)
{
	if (rev >= 6)
		return FADT_V6_LEN;
	if (rev == 5)
		return FADT_V5_LEN;
	if (rev >= 3)
		return FADT_V3_LEN;
	return FADT_V1_LEN;
}

static void fadt_checks(void)
{
	struct pc_fadt f;
	const struct acpi_hdr *facs;
	struct walk w = {0};
	uint32_t t0;
	bool moved = false;

	if (!check(pc_fadt(&f), "a valid FADT"))
		return;
	checkd(f.table->length >= fadt_min_len(f.table->revision), "FADT length fits its revision",
	       "revision %u, length %u", f.table->revision, f.table->length);
	note("SCI %u, SMI_CMD 0x%x, PM1a_EVT 0x%x/%u, PM1a_CNT 0x%x/%u, PM_TMR 0x%x/%u, GPE0 "
	     "0x%x/%u, flags 0x%x",
	     f.sci, f.smi_cmd, f.pm1a_evt, f.pm1_evt_len, f.pm1a_cnt, f.pm1_cnt_len, f.pm_tmr,
	     f.pm_tmr_len, f.gpe0, f.gpe0_len, f.flags);
	check(f.sci, "FADT names the SCI");
	check(f.pm1a_evt && f.pm1_evt_len >= PM1_EVT_MIN, "FADT PM1a event block, >= 4 bytes");
	check(f.pm1a_cnt && f.pm1_cnt_len >= PM1_CNT_MIN, "FADT PM1a control block, >= 2 bytes");
	check(f.pm_tmr && f.pm_tmr_len == PMTMR_LEN, "FADT PM timer block, 4 bytes");
	if (f.pm_tmr) {
		t0 = inl((uint16_t)f.pm_tmr);
		for (unsigned i = 0; i < PMTMR_POLLS && !moved; i++)
			moved = inl((uint16_t)f.pm_tmr) != t0;
		check(moved, "the PM timer counts");
	}
	table_checks(f.dsdt, "DSDT", &w);
	check(!w.bad && memcmp(pc_phys(f.dsdt), "DSDT", 4) == 0, "the DSDT is valid");
	facs = pc_phys(f.facs);
	note("FACS at 0x%lx", f.facs);
	check(f.facs && f.facs + FACS_MIN_LEN <= RT_IDENTITY_END &&
		  memcmp(facs->sig, "FACS", 4) == 0 && facs->length >= FACS_MIN_LEN &&
		  f.facs % FACS_ALIGN == 0,
	      "the FACS: signature, length >= 64, 64-byte aligned");
}

struct madt_scan {
	unsigned enabled, ioapics, bad_len;
	uint32_t ids[MAX_CPUS];
	bool dup;
	uint64_t ioapic_addr;
};

static void add_cpu(struct madt_scan *m, uint32_t id)
{
	for (unsigned i = 0; i < m->enabled && i < MAX_CPUS; i++)
		if (m->ids[i] == id)
			m->dup = true;
	if (m->enabled < MAX_CPUS)
		m->ids[m->enabled] = id;
	m->enabled++;
}

static void scan_madt(uint8_t type, const uint8_t *e, uint8_t len, void *arg)
{
	struct madt_scan *m = arg;
	uint32_t flags, id;

	switch (type) {
	case MADT_TYPE_LAPIC:
		if (len < MADT_LAPIC_LEN) {
			m->bad_len++;
			return;
		}
		memcpy(&flags, e + 4, 4);
		if (flags & MADT_LAPIC_ENABLED)
			add_cpu(m, e[3]);
		break;
	case MADT_TYPE_X2APIC:
		if (len < MADT_X2APIC_LEN) {
			m->bad_len++;
			return;
		}
		memcpy(&id, e + 4, 4);
		memcpy(&flags, e + 8, 4);
		if (flags & MADT_LAPIC_ENABLED)
			add_cpu(m, id);
		break;
	case MADT_TYPE_IOAPIC:
		if (len < MADT_IOAPIC_LEN) {
			m->bad_len++;
			return;
		}
		if (!m->ioapics++) {
			uint32_t a;
			memcpy(&a, e + 4, 4);
			m->ioapic_addr = a;
		}
		break;
	case MADT_TYPE_ISO:
		m->bad_len += len < MADT_ISO_LEN;
		break;
	default:
		break;
	}
}

static void madt_checks(void)
{
	const struct acpi_hdr *t = pc_acpi_find("APIC");
	struct madt_scan m = {0};
	uint32_t lapic_addr, flags, gsi;
	uint16_t iso_flags, ncpus = 0;
	uint64_t base = 0;
	char fw[5] = {0};
	bool bsp = false;
	uint8_t bsp_id = pc_lapic_id();

	if (!check(t && t->length >= MADT_ENTRIES, "a valid MADT"))
		return;
	memcpy(&lapic_addr, (const uint8_t *)t + MADT_LAPIC_ADDR, 4);
	memcpy(&flags, (const uint8_t *)t + MADT_FLAGS, 4);
	check_eq(lapic_addr, PC_LAPIC_BASE, "MADT LAPIC address is 0xFEE00000");
	if (rdmsr_safe(MSR_APIC_BASE, &base, NULL))
		check_eq(base & APIC_BASE_MASK, lapic_addr,
			 "MADT LAPIC address is IA32_APIC_BASE's");
	check(flags & MADT_PCAT_COMPAT, "MADT PCAT_COMPAT: 8259s present");
	check(pc_madt_walk(scan_madt, &m) && !m.bad_len, "MADT entries are well formed");
	rt_fwcfg_read(FW_CFG_SIGNATURE, fw, 4);
	if (memcmp(fw, "QEMU", 4) == 0) {
		rt_fwcfg_read(FW_CFG_NB_CPUS, &ncpus, sizeof(ncpus));
		note("fw_cfg: %u vCPUs; MADT: %u enabled LAPICs", ncpus, m.enabled);
		check_eq(m.enabled, ncpus, "MADT enabled LAPICs equal the vCPU count");
	} else if (keel) {
		check(false, "on Keel: fw_cfg answers (for the vCPU count)");
	} else {
		note("no fw_cfg here (bare Bochs): the vCPU count is not compared");
	}
	check(!m.dup, "MADT APIC IDs are unique");
	for (unsigned i = 0; i < m.enabled && i < MAX_CPUS; i++)
		bsp |= m.ids[i] == bsp_id;
	check(bsp, "the BSP's APIC ID is in the MADT");
	if (check(m.ioapics >= 1, "MADT has an IOAPIC")) {
		uint32_t ver;

		*(volatile uint32_t *)(uintptr_t)(m.ioapic_addr + IOAPIC_REGSEL) = IOAPIC_REG_VER;
		ver = *(volatile uint32_t *)(uintptr_t)(m.ioapic_addr + IOAPIC_WIN);
		checkd(ver && ver != UNCLAIMED32, "the IOAPIC answers at the MADT's address",
		       "version register 0x%x at 0x%lx", ver, m.ioapic_addr);
	}
	check(pc_madt_isa_irq(0, &gsi, &iso_flags) && gsi == 2, "MADT overrides IRQ0 to GSI 2");
}

static bool dsdt_has(const uint8_t *pat, unsigned n)
{
	const struct acpi_hdr *d = pc_acpi_find("DSDT");
	const uint8_t *p;

	if (!d)
		return false;
	p = (const uint8_t *)d;
	for (uint32_t i = ACPI_HDR_LEN; i + n <= d->length; i++)
		if (memcmp(p + i, pat, n) == 0)
			return true;
	return false;
}

void guest_main(void)
{
	const struct acpi_rsdp *r = pc_acpi_rsdp();
	uint8_t a = 0, b = 0;

	keel = pc_on_keel();
	if (!check(r, "an RSDP with a valid checksum in the EBDA or 0xE0000-0xFFFFF"))
		return;
	rsdp_checks(r);
	walk_root();
	fadt_checks();
	madt_checks();
	checkd(pc_acpi_s5(&a, &b), "the DSDT has a \\_S5 package", NULL);
	note("\\_S5: SLP_TYPa %u, SLP_TYPb %u", a, b);
	if (keel)
		check(dsdt_has(pnp0a08, sizeof(pnp0a08)), "on Keel: a PNP0A08 device in the DSDT");
}
