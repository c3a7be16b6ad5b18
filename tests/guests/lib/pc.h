/* PC platform helpers for the virtual-PC test guests (issue 5): hypervisor
 * detection, ACPI tables (RSDP, RSDT/XSDT, FADT, MADT, the DSDT's \_S5),
 * the xAPIC, the IOAPIC, the 8259 pair, the 8254, CMOS/RTC, the ACPI PM
 * timer, COM1 and TSC calibration. Written from the Intel SDM vol. 3
 * (chapter 11, APIC), the 82093AA, 8259A, 8254, MC146818 and 16550
 * datasheets and the ACPI 6.x specification. */
#ifndef GUEST_PC_H
#define GUEST_PC_H

#include "rt.h"

/* ---- hypervisor ---- */
#define PC_HV_LEAF 0x40000000u
#define PC_HV_FREQ_LEAF 0x40000010u   /* EAX TSC kHz, EBX LAPIC bus kHz */
#define PC_KEEL_FREQ_LEAF 0x40000001u /* the same, where Keel has it today */
#define PC_KEEL_SIGNATURE "KeelKeelKeel"

/* The 12-byte hypervisor signature of leaf 0x40000000 ("" without the
 * CPUID hypervisor bit) into sig[13]; returns that leaf's EAX (0 without). */
uint32_t pc_hv_signature(char sig[13]);
/* Running under Keel: CPUID.1:ECX[31] and signature "KeelKeelKeel". */
bool pc_on_keel(void);
/* CPUID leaf as it is, or all zeros when the leaf is beyond the range the
 * CPU reports (out-of-range leaves echo the highest basic leaf). */
struct cpuid_r pc_cpuid(uint32_t leaf, uint32_t sub);

/* ---- time ---- */
#define PC_PIT_HZ 1193182u
#define PC_PMTMR_HZ 3579545u
#define PC_PPM 1000000
#define PC_PCT_1 10000	 /* 1 %, in ppm */
#define PC_PCT_10 100000 /* 10 %, in ppm */

/* rdtsc ordered against the instructions around it. */
static inline uint64_t pc_rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* A free-running hardware counter the TSC can be compared with. */
struct pc_counter {
	const char *name;
	uint64_t hz;   /* nominal rate */
	uint64_t mask; /* width: the counter wraps at mask + 1 */
	bool down;     /* counts down */
	uint64_t (*read)(void);
};

/* Elapsed counter ticks and TSC ticks between two samples, each sample a
 * counter read bracketed by two TSC reads (the narrowest of a few tries). */
struct pc_span {
	uint64_t ticks, tsc;
	uint64_t bracket; /* widest TSC bracket of the two samples */
};

/* Measures c against the TSC over `ms` milliseconds of its nominal time,
 * up to 3 times while a sample's TSC bracket exceeds 0.05% of the interval
 * (the vCPU was descheduled around a read); the narrowest is kept. False
 * if the counter did not move (1,000,000 equal reads in a row, or 2^36
 * TSC ticks without reaching the interval). */
bool pc_measure(const struct pc_counter *c, uint32_t ms, struct pc_span *s);
/* got / want - 1 in ppm. */
int64_t pc_ppm(uint64_t got, uint64_t want);
/* |ppm| <= limit */
bool pc_within(int64_t ppm, int64_t limit);
/* Rate of c in Hz given a TSC rate, from a span. */
uint64_t pc_rate(const struct pc_span *s, uint64_t tsc_hz);

/* The hypervisor's TSC and LAPIC-timer rates (kHz): leaf 0x40000010 EAX
 * and EBX when leaf 0x40000000 reaches it, else under Keel leaf 0x40000001
 * (same layout). *leaf names the leaf. True when both are non-zero. */
bool pc_hv_rates(uint32_t *tsc_khz, uint32_t *bus_khz, const char **leaf);
/* How late a timer interrupt may come, in ppm of its interval: 1% under
 * Keel on bare metal, 10% elsewhere (an emulator's host timers, or Keel
 * itself on a virtual CPU: leaf 0x40000001 ECX bit 0, noted once). */
int64_t pc_irq_late_limit(void);
/* The TSC rate the platform publishes, 0 when it publishes none: the
 * hypervisor leaf above, else CPUID 0x15 when it gives crystal and ratio.
 * *how names the source. */
uint64_t pc_tsc_hz_published(const char **how);
/* A TSC rate good enough for timeouts and intervals: the published one,
 * else measured against the PM timer (or PIT channel 2 without one) over
 * 50 ms; cached. 0 if nothing to measure against. */
uint64_t pc_tsc_hz(void);
/* TSC ticks in ms milliseconds at pc_tsc_hz(). */
uint64_t pc_ms(uint64_t ms);
/* Spins until the TSC has moved `ticks` (interrupts may come meanwhile). */
void pc_tsc_wait(uint64_t ticks);

/* ---- ACPI (tables are untrusted input; every length is checked) ---- */
struct acpi_rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_hdr {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_revision;
	uint32_t creator;
	uint32_t creator_revision;
} __attribute__((packed));

#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36
#define ACPI_HDR_LEN 36
#define ACPI_TABLE_MAX (1u << 20) /* larger than any table these VMs have */

/* FADT fields (ACPI 6.x table 5.9), byte offsets. */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_EVT 56
#define FADT_PM1B_EVT 60
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_PM2_CNT 72
#define FADT_PM_TMR 76
#define FADT_GPE0 80
#define FADT_GPE1 84
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM2_CNT_LEN 90
#define FADT_PM_TMR_LEN 91
#define FADT_GPE0_LEN 92
#define FADT_GPE1_LEN 93
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_V1_LEN 116
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_FLAG_HW_REDUCED (1u << 20)

/* PM1 registers (ACPI 6.x 4.8.3). */
#define PM1_STS_TMR (1u << 0)
#define PM1_STS_PWRBTN (1u << 8)
#define PM1_EN_TMR (1u << 0)
#define PM1_EN_PWRBTN (1u << 8)
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN (1u << 13)

/* MADT (ACPI 6.x 5.2.12). */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_ISO 2
#define MADT_TYPE_X2APIC 9
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_ISO_POL_MASK 0x3
#define MADT_ISO_POL_LOW 0x3
#define MADT_ISO_TRIG_MASK 0xC
#define MADT_ISO_TRIG_LEVEL 0xC

/* What the guests need from the FADT (I/O-port blocks only). */
struct pc_fadt {
	const struct acpi_hdr *table;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint16_t sci;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr, gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_len, gpe1_len;
	uint8_t century;
	uint32_t flags;
	uint64_t dsdt, facs;
};

/* Reads physical memory below 4 GiB (the identity map) without the
 * compiler treating a small constant address as a null-pointer access. */
const void *pc_phys(uint64_t addr);
/* Sum of len bytes (mod 256). */
uint8_t pc_sum(const void *p, size_t len);
/* The RSDP: EBDA first KiB, then 0xE0000-0xFFFFF on 16-byte boundaries,
 * first one with a valid 20-byte checksum. NULL if none. */
const struct acpi_rsdp *pc_acpi_rsdp(void);
/* The root table to walk (XSDT when revision >= 2 and present, else RSDT),
 * its entry size (8 or 4) and count; NULL if invalid. */
const struct acpi_hdr *pc_acpi_root(unsigned *entry_size, unsigned *count);
/* Physical address of root entry i. */
uint64_t pc_acpi_root_entry(unsigned i);
/* A table header at phys with a sane length and a valid checksum, or NULL. */
const struct acpi_hdr *pc_acpi_valid(uint64_t phys);
/* The first valid table named sig reached from the root, or NULL. */
const struct acpi_hdr *pc_acpi_find(const char sig[4]);
/* Fills f from the FADT; false without a valid FADT. */
bool pc_fadt(struct pc_fadt *f);
/* The \_S5 package's first two values (SLP_TYPa, SLP_TYPb), found by byte
 * pattern in the DSDT (Name(_S5_, Package(){...}); no AML interpreter).
 * False when absent or in a form the pattern does not cover. */
bool pc_acpi_s5(uint8_t *typ_a, uint8_t *typ_b);
/* ACPI mode: if SCI_EN is clear and the FADT names SMI_CMD and
 * ACPI_ENABLE, writes it and waits (bounded) for SCI_EN. Returns SCI_EN. */
bool pc_acpi_enable(const struct pc_fadt *f);

/* MADT walk: calls fn for each entry (type, pointer to the entry, length);
 * false when there is no valid MADT or an entry is malformed. */
typedef void (*pc_madt_fn)(uint8_t type, const uint8_t *e, uint8_t len, void *arg);
bool pc_madt_walk(pc_madt_fn fn, void *arg);
/* The GSI and MPS INTI flags for ISA IRQ irq (identity, flags 0, without
 * an override). True when an override exists. */
bool pc_madt_isa_irq(uint8_t irq, uint32_t *gsi, uint16_t *flags);
/* The first IOAPIC's address and GSI base (0xFEC00000, 0 without MADT). */
uint64_t pc_madt_ioapic(uint32_t *gsi_base, uint8_t *id);

/* ---- xAPIC ---- */
#define PC_LAPIC_BASE 0xFEE00000u
#define LAPIC_ID 0x20
#define LAPIC_VER 0x30
#define LAPIC_TPR 0x80
#define LAPIC_PPR 0xA0
#define LAPIC_EOI 0xB0
#define LAPIC_LDR 0xD0
#define LAPIC_DFR 0xE0
#define LAPIC_SVR 0xF0
#define LAPIC_ISR 0x100
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
#define LAPIC_ID_SHIFT 24
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_SPURIOUS_VEC 0xFF
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_DM_SHIFT 8
#define LVT_DM_MASK (7u << 8)
#define LVT_DM_FIXED (0u << 8)
#define LVT_DM_SMI (2u << 8)
#define LVT_DM_NMI (4u << 8)
#define LVT_DM_INIT (5u << 8)
#define LVT_DM_SIPI (6u << 8)
#define LVT_DM_EXTINT (7u << 8)
#define LVT_TIMER_ONESHOT (0u << 17)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_DEADLINE (2u << 17)
#define ICR_SELF (1u << 18)
#define ICR_ALL_EXCL (3u << 18)
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define MSR_APIC_BASE 0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define APIC_BASE_MASK 0xFFFFF000ull

uint32_t pc_lapic_read(uint32_t reg);
void pc_lapic_write(uint32_t reg, uint32_t v);
/* Enables the LAPIC (SVR) with the spurious vector 0xFF and a handler for
 * it that counts (no EOI), masks LVT timer/LINT0/error. */
void pc_lapic_enable(void);
void pc_lapic_eoi(void);
/* True when vector v's bit is set in the 256-bit ISR/TMR/IRR at base. */
bool pc_lapic_bit(uint32_t base, uint8_t v);
uint8_t pc_lapic_id(void);
extern volatile uint32_t pc_spurious;
/* The LAPIC timer's input clock (before the divide configuration): CPUID
 * 0x40000010 EBX (or Keel's 0x40000001 EBX) when published, else the
 * CPUID 0x15 core crystal (ECX), else 1 GHz under QEMU (signature
 * "TCGTCGTCGTCG" or "KVMKVMKVM"), else measured against the TSC. *how
 * names the source; cached. */
uint64_t pc_lapic_bus_hz(const char **how);
/* Halts (sti; hlt) until *count >= want or ms milliseconds pass, woken at
 * least every 5 ms by the LAPIC timer (periodic, vector PC_VEC_WAKE, then
 * stopped): an emulator skips the idle time. Returns *count >= want. */
#define PC_VEC_WAKE 0xFE
bool pc_idle_until(volatile uint32_t *count, uint32_t want, uint64_t ms);

/* ---- IOAPIC ---- */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_EOIR 0x40 /* version 0x20 and later */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_RTE 0x10
#define IOAPIC_VER_MASK 0xFF
#define IOAPIC_MAXRTE_SHIFT 16
#define RTE_MASKED (1ull << 16)
#define RTE_LEVEL (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LOW (1ull << 13)
#define RTE_PENDING (1ull << 12)
#define RTE_DEST_SHIFT 56

/* Uses the MADT's first IOAPIC (or 0xFEC00000). */
void pc_ioapic_init(void);
uint64_t pc_ioapic_base(void);
uint32_t pc_ioapic_read(uint8_t reg);
void pc_ioapic_write(uint8_t reg, uint32_t v);
uint64_t pc_ioapic_rte(unsigned pin);
void pc_ioapic_set_rte(unsigned pin, uint64_t rte);
unsigned pc_ioapic_pins(void);
void pc_ioapic_mask_all(void);
/* Routes ISA IRQ irq (through the MADT override, with its polarity and
 * trigger unless force_level) to vector on the BSP, unmasked if !masked.
 * Returns the IOAPIC pin. */
unsigned pc_ioapic_route_isa(uint8_t irq, uint8_t vector, bool force_level, bool masked);

/* ---- 8259A pair ---- */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI 0x20	  /* OCW2 non-specific EOI */
#define PIC_READ_IRR 0x0A /* OCW3 */
#define PIC_READ_ISR 0x0B /* OCW3 */
#define PIC_CASCADE_IRQ 2

/* ICW1-4: edge, cascade on IR2, 8086 mode, vectors base1/base2; all
 * masked. */
void pc_pic_init(uint8_t base1, uint8_t base2);
void pc_pic_mask(uint16_t mask); /* bit n = IRQ n */
uint16_t pc_pic_irr(void);
uint16_t pc_pic_isr(void);

/* ---- 8254 ---- */
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_SEL_SHIFT 6
#define PIT_LATCH 0x00 /* access field 00: counter latch */
#define PIT_LOHI 0x30  /* access field 11: low then high byte */
#define PIT_MODE0 0x00
#define PIT_MODE2 0x04
#define PIT_MODE3 0x06
#define PIT_READBACK 0xC0
#define PIT_RB_NO_COUNT 0x20
#define PIT_RB_NO_STATUS 0x10
#define PIT_STATUS_OUT 0x80
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPKR 0x02
#define PORT_B_OUT2 0x20

void pc_pit_program(uint8_t ch, uint8_t mode, uint16_t count);
uint16_t pc_pit_latch(uint8_t ch);
/* PIT channel 2 as a free-running counter (gate on, speaker off, mode 2,
 * count 65536). */
extern const struct pc_counter pc_pit_ch2;
void pc_pit_ch2_start(void);
void pc_pit_ch2_stop(void);

/* ---- ACPI PM timer ---- */
/* Finds the PM timer from the FADT; false when absent. */
bool pc_pmtmr_init(void);
extern struct pc_counter pc_pmtmr;
/* Port of the PM timer (0 when absent). */
uint32_t pc_pmtmr_port(void);

/* ---- CMOS / RTC ---- */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

uint8_t pc_cmos_read(uint8_t idx);
void pc_cmos_write(uint8_t idx, uint8_t v);

/* ---- COM1 ---- */
#define UART_THR 0
#define UART_RBR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
/* Puts COM1 back the way the runtime set it up (115200 8N1, FIFOs on, no
 * interrupts, no loopback), whatever state it is in. */
void pc_uart_reset(void);

/* ---- command line ---- */
/* The number after token `name` ("name N") or in "name=N" (decimal or
 * 0x hex). False when absent or not a number. */
bool pc_arg_num(const char *name, uint64_t *val);

#endif
