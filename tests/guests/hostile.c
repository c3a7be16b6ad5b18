/* hostile: 100,000 random writes of random sizes to every register of the
 * PC devices, with interrupts disabled, then "hostile: survived" and PASS.
 * Its point is that Keel survives it (and a second VM keeps running); the
 * guest itself only has to survive it too, so that it can say so. Run it
 * with one vCPU (see NMIs below).
 *
 * Seed: "seed=N" (or "seed N") on the command line, else a hash of the
 * whole command line, so "hostile_a" and "hostile_b" differ. Printed.
 *
 * Targets, each register equally likely (a write picks one, then a size
 * that fits in its block: 1/2/4 bytes for ports; for MMIO a 4-byte write
 * at the register, or on Keel a quarter of the time 1/2/4/8 bytes anywhere
 * in its 16-byte slot: outside Keel only aligned 4-byte ones, as bare Bochs
 * stops with a panic on any other APIC access; bare Bochs also panics on
 * the IOAPIC EOI register and 8259 single mode, so outside Keel this guest
 * is for QEMU only):
 *   8259s 0x20-0x21, 0xA0-0xA1; PIT 0x40-0x43; port B 0x61; RTC/CMOS
 *   0x70-0x71; POST 0x80; COM1 0x3F8-0x3FF; the FADT's PM1a/b event and
 *   control blocks, PM2 control, PM timer, GPE0/GPE1 blocks; PCI config
 *   address 0xCF8 (4-byte writes only) and data 0xCFC-0xCFF; 8042 data 0x60;
 *   every LAPIC register slot 0x000-0x3F0; IOAPIC IOREGSEL, IOWIN, EOI.
 * Left alone, as each would only reset or stop the VM: the reset control
 * register 0xCF9 (no access overlaps it), the 8042 command port 0x64
 * (0xFE pulses reset), port 0x92 (fast reset), SMI_CMD, fw_cfg, the test
 * device and debug-exit 0xF4. Values are random except:
 *   - PM1 control writes have SLP_EN (bit 13) cleared: no sleep or S5;
 *   - the delivery mode field (bits 8-10) of LAPIC registers and IOWIN is
 *     never SMI, INIT or Start-up (made Fixed): an INIT resets the vCPU.
 *     Filtered where a faithful model puts it (byte 1 of the register) and
 *     where QEMU does (it takes each 32-bit chunk of a narrow or wide
 *     access as the whole register: bytes 1 and 5 of the value);
 *   - COM1 MCR writes keep LOOP set: random bytes never reach the console;
 *   - IOREGSEL writes mostly select an existing register (index < 0x40);
 *   - 0xCF8 writes mostly address bus 0 (random device, function and
 *     register) so that data writes reach existing functions. Outside Keel
 *     they only reach header registers that do not move or disable
 *     decoders (0x00, 0x08, 0x0C, 0x2C, 0x34, 0x38, 0x3C): a BAR or a
 *     chipset register (PAM, PMBA...) moved over COM1 or 0xF4 would take
 *     the guest's own output away. On Keel everything is fair game, and
 *     afterwards the command register of every bus-0 function but the host
 *     bridge is cleared so no BAR left over COM1 or 0xF4 shadows them;
 *   - outside Keel only: PIT count bytes have bit 7 set (counts >= 0x80,
 *     at most ~15 kHz) and the LAPIC initial count is written whole with
 *     bit 20 set (>= 1 ms at 1 GHz): QEMU runs a host timer callback per
 *     period, and a 1 MHz timer slows it to minutes. Keel must cope with
 *     any rate: its models compute time instead of ticking;
 *   - outside Keel with more than one CPU: NMI delivery becomes Fixed too:
 *     SeaBIOS parks the APs in protected mode without an IDT, so an NMI
 *     sent to all or to another CPU triple-faults the machine.
 * NMIs that reach this vCPU (LVT or ICR NMI mode) are taken by an IDT entry
 * that just returns; everything else stays masked by IF = 0. Afterwards
 * the guest puts COM1, the PIT, RTC, LAPIC, IOAPIC, 8259s and PM enables
 * back to quiet states, checks COM1 and the LAPIC answer, and prints its
 * counts. Runs ~0.2 s under QEMU (160 seeds tried, with -smp 1/2/4, pc and
 * q35). */
#include "pc.h"

#define WRITES 100000u
#define MAX_REGS 160
#define LAPIC_SLOTS 64
#define LAPIC_SLOT 0x10
#define IOAPIC_EOIR_OFF 0x40
#define SZ1 0x1
#define SZ2 0x2
#define SZ4 0x4
#define SZ8 0x8
#define SZ_PIO (SZ1 | SZ2 | SZ4)
#define SZ_MMIO (SZ1 | SZ2 | SZ4 | SZ8)
#define PORT_POST 0x80
#define PORT_KBD_DATA 0x60
#define PORT_PCI_ADDR 0xCF8
#define PORT_PCI_DATA 0xCFC
#define PCI_ENABLE 0x80000000u
#define PCI_DEVS 32
#define PCI_FNS 8
#define PCI_CMD 0x04
#define PCI_VENDOR_NONE 0xFFFF
#define BLOCK_MAX 32
#define DM_BYTE 1 /* bits 8-10 of a 32-bit register are in byte 1 */
#define DM_BITS 0x07
#define DM_SMI 2
#define DM_INIT 5
#define DM_NMI 4
#define DM_SIPI 6
#define PIT_DATA_PORTS 3
#define PIT_MIN_BYTE 0x80 /* every count byte >= 0x80: at most ~15 kHz */
#define TMICT_SLOT 0x380
#define TMICT_MIN (1u << 20) /* 1 ms at 1 GHz, divide 1 */
#define SLP_EN_BYTE 1
#define SLP_EN_BIT 0x20 /* bit 13 */
#define MCR_BYTE 4
#define MCR_LOOP 0x10
#define IOREGSEL_VALID 0x40
#define NMI_VECTOR 2
#define PIT_DEFAULT_COUNT 0
#define RTC_A_DEFAULT 0x26
#define RTC_B_DEFAULT 0x02
#define SCR_TEST 0x5A
#define FNV_OFFSET 0xCBF29CE484222325ull
#define FNV_PRIME 0x100000001B3ull
#define CMDLINE_HASH_MAX 4096

const char rt_name[] = "hostile";

enum space { PIO, MMIO };
enum filter { F_NONE, F_DM, F_SLP_EN, F_MCR, F_PCI_ADDR, F_IOREGSEL, F_PIT, F_TMICT };

struct reg {
	enum space space;
	uint64_t block; /* base of the block the access must stay in */
	uint32_t len;	/* block length */
	uint32_t off;	/* this register's offset in the block */
	uint8_t sizes;
	enum filter filter;
};

/* Ports no access may touch, [first, last]. */
static const struct {
	uint16_t first, last;
} forbidden[] = {
    {0x64, 0x64},   /* 8042 command: 0xFE pulses reset */
    {0x92, 0x92},   /* port A: fast reset */
    {0xCF9, 0xCF9}, /* reset control */
    {0xF4, 0xF7},   /* debug-exit */
    {0x510, 0x51B}, /* fw_cfg */
    {0x520, 0x53F}, /* test device */
};

static struct reg regs[MAX_REGS];
static unsigned nregs;
static uint64_t rng;
static bool keel, nmi_ok, fast_ok;
static uint16_t smi_cmd;
static uint64_t n_pio, n_mmio, n_filtered;
volatile uint64_t hostile_nmis;

/* NMI: count and return (NMIs stay blocked until the iretq). */
asm(".text\n"
    ".globl hostile_nmi\n"
    "hostile_nmi:\n\t"
    "lock incq hostile_nmis(%rip)\n\t"
    "iretq\n");
extern const char hostile_nmi[];

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void take_nmis(void)
{
	struct desc_ptr p;
	struct idt_gate *g;
	uint64_t h = (uint64_t)(uintptr_t)hostile_nmi;

	asm volatile("sidt %0" : "=m"(p));
	g = (struct idt_gate *)(uintptr_t)(p.base + NMI_VECTOR * sizeof(*g));
	g->off_lo = (uint16_t)h;
	g->off_mid = (uint16_t)(h >> 16);
	g->off_hi = (uint32_t)(h >> 32);
}

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t seed(void)
{
	const char *s = rt_cmdline();
	uint64_t h = FNV_OFFSET;

	if (pc_arg_num("seed", &h))
		return h ? h : 1;
	for (unsigned i = 0; i < CMDLINE_HASH_MAX && s[i]; i++)
		h = (h ^ (uint8_t)s[i]) * FNV_PRIME;
	return h;
}

static bool port_ok(uint32_t port, uint32_t len)
{
	if (!port || port + len > 0x10000)
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(forbidden); i++)
		if (port <= forbidden[i].last && port + len > forbidden[i].first)
			return false;
	return !(smi_cmd && port <= smi_cmd && port + len > smi_cmd);
}

static void add(enum space sp, uint64_t block, uint32_t len, uint32_t off, uint8_t sizes,
		enum filter f)
{
	if (nregs < MAX_REGS)
		regs[nregs++] = (struct reg){sp, block, len, off, sizes, f};
}

static void add_block(uint32_t port, uint32_t len, enum filter f)
{
	if (!len || len > BLOCK_MAX || !port_ok(port, len)) {
		if (port)
			note("port block 0x%x+%u left out", port, len);
		return;
	}
	for (uint32_t o = 0; o < len; o++)
		add(PIO, port, len, o, SZ_PIO, f);
}

static void build_targets(void)
{
	struct pc_fadt f;

	add_block(PIC1_CMD, 2, F_NONE);
	add_block(PIC2_CMD, 2, F_NONE);
	add_block(PIT_CH0, 4, F_PIT);
	add_block(PORT_B, 1, F_NONE);
	add_block(CMOS_INDEX, 2, F_NONE);
	add_block(PORT_POST, 1, F_NONE);
	add_block(RT_COM1, 8, F_MCR);
	add_block(PORT_KBD_DATA, 1, F_NONE);
	add(PIO, PORT_PCI_ADDR, 4, 0, SZ4, F_PCI_ADDR);
	add_block(PORT_PCI_DATA, 4, F_NONE);
	if (pc_fadt(&f)) {
		smi_cmd = (uint16_t)f.smi_cmd;
		add_block(f.pm1a_evt, f.pm1_evt_len, F_NONE);
		add_block(f.pm1b_evt, f.pm1_evt_len, F_NONE);
		add_block(f.pm1a_cnt, f.pm1_cnt_len, F_SLP_EN);
		add_block(f.pm1b_cnt, f.pm1_cnt_len, F_SLP_EN);
		add_block(f.pm2_cnt, f.pm2_cnt_len, F_NONE);
		add_block(f.pm_tmr, f.pm_tmr_len, F_NONE);
		add_block(f.gpe0, f.gpe0_len, F_NONE);
		add_block(f.gpe1, f.gpe1_len, F_NONE);
	} else {
		note("no FADT: the PM blocks are left out");
	}
	for (unsigned i = 0; i < LAPIC_SLOTS; i++)
		add(MMIO, PC_LAPIC_BASE + i * LAPIC_SLOT, LAPIC_SLOT, 0, SZ_MMIO,
		    i * LAPIC_SLOT == TMICT_SLOT ? F_TMICT : F_DM);
	add(MMIO, pc_ioapic_base() + IOAPIC_REGSEL, LAPIC_SLOT, 0, SZ_MMIO, F_IOREGSEL);
	add(MMIO, pc_ioapic_base() + IOAPIC_WIN, LAPIC_SLOT, 0, SZ_MMIO, F_DM);
	add(MMIO, pc_ioapic_base() + IOAPIC_EOIR_OFF, LAPIC_SLOT, 0, SZ_MMIO, F_NONE);
}

/* Byte b of v (a write of `size` bytes at block offset `off`) if the write
 * covers block byte `at`, else NULL. */
static uint8_t *covered(uint64_t *v, uint32_t off, unsigned size, uint32_t at)
{
	if (at < off || at >= off + size)
		return NULL;
	return (uint8_t *)v + (at - off);
}

static uint32_t pci_addr(uint64_t r)
{
	static const uint8_t safe[] = {0x00, 0x08, 0x0C, 0x2C, 0x34, 0x38, 0x3C};
	uint32_t bus = (r >> 8) % 8 == 0 ? (uint32_t)(r >> 16) & 0xFF : 0;
	uint32_t dev = (uint32_t)(r >> 24) % PCI_DEVS, fn = (uint32_t)(r >> 29) % PCI_FNS;
	uint32_t reg = keel ? (uint32_t)(r >> 32) & 0xFC : safe[(r >> 32) % sizeof(safe)];
	uint32_t en = (r >> 40) % 16 == 0 ? 0 : PCI_ENABLE;

	return en | bus << 16 | dev << 11 | fn << 8 | reg;
}

static void dm_safe(uint8_t *b)
{
	uint8_t dm = b ? *b & DM_BITS : 0;

	if (dm == DM_SMI || dm == DM_INIT || dm == DM_SIPI || (dm == DM_NMI && !nmi_ok)) {
		*b &= (uint8_t)~DM_BITS;
		n_filtered++;
	}
}

static uint64_t filter(const struct reg *g, uint32_t off, unsigned size, uint64_t v)
{
	uint8_t *b;

	switch (g->filter) {
	case F_DM:
		/* Where a model puts the bytes: at their offset (byte 1 of the
		 * register), or, as QEMU does for narrow and wide accesses, each
		 * 32-bit chunk of the value as the whole register (bytes 1, 5). */
		dm_safe(covered(&v, off, size, DM_BYTE));
		dm_safe(covered(&v, 0, size, DM_BYTE));
		dm_safe(covered(&v, 0, size, DM_BYTE + 4));
		break;
	case F_SLP_EN:
		b = covered(&v, off, size, SLP_EN_BYTE);
		if (b && (*b & SLP_EN_BIT)) {
			*b &= (uint8_t)~SLP_EN_BIT;
			n_filtered++;
		}
		break;
	case F_MCR:
		b = covered(&v, off, size, MCR_BYTE);
		if (b)
			*b |= MCR_LOOP;
		break;
	case F_PCI_ADDR:
		v = pci_addr(v);
		break;
	case F_PIT:
		for (uint32_t p = 0; p < PIT_DATA_PORTS && !fast_ok; p++) {
			b = covered(&v, off, size, p);
			if (b)
				*b |= PIT_MIN_BYTE;
		}
		break;
	case F_TMICT:
		if (!fast_ok)
			v |= TMICT_MIN;
		break;
	case F_IOREGSEL:
		if (v % 4)
			v = (v & ~0xFFull) | (v >> 8) % IOREGSEL_VALID;
		break;
	default:
		break;
	}
	return v;
}

static void write_pio(uint16_t port, unsigned size, uint64_t v)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, (uint32_t)v);
	n_pio++;
}

static void write_mmio(uint64_t addr, unsigned size, uint64_t v)
{
	if (size == 1)
		*(volatile uint8_t *)(uintptr_t)addr = (uint8_t)v;
	else if (size == 2)
		*(volatile uint16_t *)(uintptr_t)addr = (uint16_t)v;
	else if (size == 4)
		*(volatile uint32_t *)(uintptr_t)addr = (uint32_t)v;
	else
		*(volatile uint64_t *)(uintptr_t)addr = v;
	n_mmio++;
}

/* A size from the register's set that fits in its block from off. */
static unsigned pick_size(const struct reg *g, uint32_t off, uint64_t r)
{
	unsigned s = 1u << (r % 4);

	while (s > 1 && (!(g->sizes & s) || off + s > g->len))
		s >>= 1;
	return (g->sizes & s) ? s : 4;
}

static void one_write(void)
{
	uint64_t r = next(), v = next();
	const struct reg *g = &regs[r % nregs];
	uint32_t off = g->off;
	unsigned size;

	r >>= 16;
	if (g->filter == F_TMICT && !fast_ok) {
		size = 4; /* QEMU takes a narrow write's value as the whole count */
	} else if (g->space == MMIO && r % 4 == 0 && keel) {
		/* On Keel, a quarter of the MMIO writes: any size, anywhere in
		 * the slot (bare Bochs's APIC panics on those). */
		size = pick_size(g, 0, r >> 2);
		off = (uint32_t)((r >> 4) % (g->len / size)) * size;
	} else if (g->space == MMIO) {
		size = 4;
	} else {
		size = pick_size(g, off, r >> 2);
	}
	v = filter(g, off, size, v);
	if (g->space == PIO)
		write_pio((uint16_t)(g->block + off), size, v);
	else
		write_mmio(g->block + off, size, v);
}

static void pci_quiet(void)
{
	unsigned cleared = 0;

	for (uint32_t dev = 0; dev < PCI_DEVS; dev++)
		for (uint32_t fn = 0; fn < PCI_FNS; fn++) {
			uint32_t a = PCI_ENABLE | dev << 11 | fn << 8;

			if (!dev && !fn)
				continue;
			outl(PORT_PCI_ADDR, a);
			if ((inl(PORT_PCI_DATA) & 0xFFFF) == PCI_VENDOR_NONE)
				continue;
			outl(PORT_PCI_ADDR, a | PCI_CMD);
			outw(PORT_PCI_DATA, 0);
			cleared++;
		}
	outl(PORT_PCI_ADDR, 0);
	note("PCI: decoding turned off on %u bus-0 functions", cleared);
}

static void quiet_down(uint32_t lapic_id)
{
	struct pc_fadt f;

	pc_uart_reset();
	pc_pit_program(0, PIT_MODE2, PIT_DEFAULT_COUNT);
	pc_pit_program(2, PIT_MODE0, PIT_DEFAULT_COUNT);
	outb(PORT_B, 0);
	pc_cmos_write(RTC_REG_A, RTC_A_DEFAULT);
	pc_cmos_write(RTC_REG_B, RTC_B_DEFAULT);
	(void)pc_cmos_read(RTC_REG_C);
	pc_lapic_write(LAPIC_ID, lapic_id);
	pc_lapic_enable();
	pc_lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	pc_ioapic_mask_all();
	pc_pic_init(0x20, 0x28);
	if (pc_fadt(&f)) {
		if (f.pm1a_evt && f.pm1_evt_len >= 4) {
			outw((uint16_t)(f.pm1a_evt + f.pm1_evt_len / 2), 0);
			outw((uint16_t)f.pm1a_evt, 0xFFFF);
		}
		for (uint32_t i = 0; f.gpe0 && i < f.gpe0_len / 2; i++)
			outb((uint16_t)(f.gpe0 + f.gpe0_len / 2 + i), 0);
	}
	outl(PORT_PCI_ADDR, 0);
	if (keel)
		pci_quiet();
}

static void count_cpu(uint8_t type, const uint8_t *e, uint8_t len, void *arg)
{
	unsigned *n = arg;
	uint32_t flags;

	if ((type == MADT_TYPE_LAPIC && len >= 8) || (type == MADT_TYPE_X2APIC && len >= 12)) {
		memcpy(&flags, e + (type == MADT_TYPE_LAPIC ? 4 : 8), 4);
		*n += flags & MADT_LAPIC_ENABLED;
	}
}

static unsigned count_cpus(void)
{
	unsigned n = 0;

	pc_madt_walk(count_cpu, &n);
	return n;
}

void guest_main(void)
{
	uint32_t lapic_id = pc_lapic_read(LAPIC_ID);
	uint64_t t0, t1;

	keel = pc_on_keel();
	fast_ok = keel;
	nmi_ok = keel || count_cpus() <= 1;
	rng = seed();
	rt_printf("# seed %lu, %s PCI targets, NMIs %s, timer rates %s\n", rng,
		  keel ? "all" : "header-only", nmi_ok ? "on" : "off (other CPUs)",
		  fast_ok ? "free" : "capped");
	pc_ioapic_init();
	pc_lapic_enable();
	build_targets();
	note("%u registers", nregs);
	take_nmis();
	cli();
	outb(RT_COM1 + UART_MCR, MCR_LOOP);
	t0 = rdtsc();
	for (uint32_t i = 0; i < WRITES; i++)
		one_write();
	t1 = rdtsc();
	quiet_down(lapic_id);
	note("%lu port writes, %lu MMIO writes, %lu values filtered, %lu NMIs, %lu TSC ticks",
	     n_pio, n_mmio, n_filtered, hostile_nmis, t1 - t0);
	rt_puts("hostile: survived\n");
	check_eq(n_pio + n_mmio, WRITES, "100,000 random writes done");
	outb(RT_COM1 + UART_SCR, SCR_TEST);
	check_eq(inb(RT_COM1 + UART_SCR), SCR_TEST, "COM1 answers afterwards");
	check_eq(pc_lapic_read(LAPIC_SVR), LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VEC,
		 "the LAPIC answers afterwards");
}
