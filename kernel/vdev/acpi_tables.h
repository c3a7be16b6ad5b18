/* The ACPI tables Keel writes for a guest (issue 5), from the ACPI 6.3
 * specification, chapter 5: RSDP, RSDT, XSDT, FADT, FACS, MADT, MCFG and a
 * DSDT. Pure logic: the tables are laid out in a caller buffer that the
 * caller then copies to desc->table_gpa in guest memory.
 *
 * Layout, as offsets from table_gpa (each table 8-byte aligned, in this
 * order, the DSDT last because only it varies in size):
 *   RSDP (36 bytes, at offset 0: with table_gpa 16-byte aligned it can sit
 *   in 0xE0000-0xFFFFF where a guest scans for it), FACS (64-byte aligned),
 *   FADT, MADT, MCFG, RSDT, XSDT, DSDT. Everything lies below 4 GiB, so the
 *   32-bit and 64-bit pointers agree; the RSDT lists the same tables as the
 *   XSDT for an OS that reads only revision-1 ACPI.
 *
 * What the guest sees:
 *  - RSDP revision 2; OEM ID "KEEL", table ID "KEELVM".
 *  - FADT revision 6.3 (276 bytes): SCI_INT sci_irq; SMI_CMD 0 (ACPI mode is
 *    always on, so PM1 control must read SCI_EN = 1); PM1a event block (4
 *    bytes: status, enable), PM1a control block (2 bytes), PM timer (4
 *    bytes) as legacy ports and X_ GAS (System I/O); no PM1b, PM2, GPE
 *    blocks; C2/C3 latencies say "not supported"; reset register: byte
 *    write of reset_value to I/O port reset_port. Flags: WBINVD, PROC_C1,
 *    SLP_BUTTON (no sleep button), FIX_RTC (no RTC wake status in PM1),
 *    RESET_REG_SUP, TMR_VAL_EXT when pm_tmr_32bit, and
 *    FORCE_APIC_PHYSICAL_DESTINATION_MODE, so the guest programs the IOAPIC
 *    and IPIs in physical mode only. PWR_BUTTON clear: the power button is
 *    the fixed-feature one (PM1 PWRBTN_STS/EN) and, being fixed hardware,
 *    has no device object in the DSDT (the OS creates its own). HW_REDUCED
 *    clear. IAPC_BOOT_ARCH: LEGACY_DEVICES (COM1, PIT, RTC, 8259s are ISA
 *    devices the DSDT does not list) and VGA_NOT_PRESENT; the 8042 flag is
 *    clear: Keel emulates only the 8042's reset command, and an OS still
 *    writes 0xFE to port 0x64 to reset without the flag, while with it
 *    Linux would probe for a keyboard controller that is not there.
 *  - FACS, 64 bytes, version 2, no waking vector (S3/S4 not supported).
 *  - MADT revision 5: PCAT_COMPAT (the 8259s exist), one enabled local APIC
 *    per vCPU (processor UID = index in apic_ids), the IOAPIC, overrides
 *    ISA IRQ0 -> GSI2 edge/active-high and sci_irq -> GSI sci_irq
 *    level/active-high (without the override Linux would program the SCI
 *    active-low; Keel's lines are active-high), and a local APIC NMI on
 *    LINT1 for all processors (UID 0xFF), the PC wiring Linux expects.
 *  - MCFG: one allocation, segment 0, buses bus_start..bus_end at ecam_base
 *    (the address of bus 0, as the PCI firmware spec defines it).
 *  - DSDT revision 2:
 *      Name(\_S5, Package(4){ACPI_SLP_TYP_S5, ACPI_SLP_TYP_S5, 0, 0})
 *      \_SB.PCI0: _HID PNP0A08, _CID PNP0A03, _UID 0, _SEG 0, _BBN
 *        bus_start, _CRS: WordBusNumber(bus_start..bus_end),
 *        IO(0xCF8..0xCFF) (the config ports the bridge itself decodes),
 *        WordIO 0x0000-0x0CF7 and 0x0D00-0xFFFF (all I/O but that hole),
 *        DWordMemory mmio32 and, if its size is non-zero, QWordMemory mmio64.
 *      \_SB.MRES: _HID PNP0C02 (motherboard resources) whose _CRS holds the
 *        ECAM range: Linux uses MMCONFIG only if it finds the range reserved
 *        (in E820 or in a PNP0C01/PNP0C02 _CRS).
 *    No _OSC (the OS then keeps out of PCIe native control, which virtual
 *    devices do not need; MSI stays available), no _PRT (virtio uses MSI-X),
 *    no processor objects (CPUs come from the MADT).
 */
#ifndef KEEL_VDEV_ACPI_TABLES_H
#define KEEL_VDEV_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"

#define ACPI_TABLES_MAX_CPUS 255u  /* xAPIC IDs 0-254; 255 is broadcast */
#define ACPI_TABLES_BUF_SIZE 4096u /* enough for any valid description */
#define ACPI_TABLES_GPA_ALIGN 16u  /* RSDP scan granularity */

/* SLP_TYP for S5 in \_S5: the PM1 control model powers the VM off when the
 * guest writes SLP_EN with this SLP_TYP. Non-zero so that a stray SLP_EN
 * with SLP_TYP 0 (the S0 value) does nothing; 5 reads as "S5" in a log. */
#define ACPI_SLP_TYP_S5 5

/* PM register block sizes the FADT declares (the PM model must decode them). */
#define ACPI_PM1_EVT_LEN 4 /* PM1 status (2 bytes), PM1 enable (2 bytes) */
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN 4

struct acpi_window {
	uint64_t base, size; /* [base, base + size) */
};

struct acpi_tables_desc {
	uint64_t table_gpa; /* where the blob goes; 16-byte aligned */

	uint32_t ncpus;		 /* 1..ACPI_TABLES_MAX_CPUS */
	const uint8_t *apic_ids; /* ncpus distinct IDs, each <= 254 */
	uint32_t lapic_addr;	 /* 0xFEE00000 on a PC */

	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint32_t ioapic_gsi_base; /* must be 0: ISA IRQs are GSIs 0-15 */

	uint8_t sci_irq;	/* ISA IRQ 1..15, not 2; 9 on a PC */
	uint16_t pm1a_evt_port; /* ACPI_PM1_EVT_LEN ports */
	uint16_t pm1a_cnt_port; /* ACPI_PM1_CNT_LEN ports */
	uint16_t pm_tmr_port;	/* ACPI_PM_TMR_LEN ports */
	bool pm_tmr_32bit;	/* false: a 24-bit counter */
	uint16_t reset_port;	/* 0: no reset register; 0xCF9 on a PC */
	uint8_t reset_value;	/* 6 for 0xCF9: full reset */
	uint8_t rtc_century;	/* CMOS index of the century byte; 0: none */

	uint64_t ecam_base; /* 1 MiB aligned */
	uint8_t bus_start, bus_end;
	struct acpi_window mmio32; /* required, below 4 GiB */
	struct acpi_window mmio64; /* size 0: none */
};

/* Byte offsets of each table in the caller's buffer (and from table_gpa). */
struct acpi_tables_layout {
	size_t size; /* bytes used */
	size_t rsdp, facs, fadt, madt, mcfg, rsdt, xsdt, dsdt;
};

/* Builds every table into buf[0, cap) for placement at d->table_gpa.
 *   ST_EINVAL  a NULL pointer or a description the comments above rule out
 *              (misaligned addresses, bad APIC IDs, overlapping PM blocks
 *              or PCI windows, ECAM inside a window, a window or the ECAM
 *              over the LAPIC or IOAPIC page...). Guest RAM is not known
 *              here: keeping the windows and the ECAM off RAM, and the ECAM
 *              reserved in E820, is the caller's job.
 *   ST_ERANGE  the tables do not fit in cap, or would end above 4 GiB.
 * On failure buf's contents are unspecified and *out is untouched. */
status_t acpi_tables_build(const struct acpi_tables_desc *d, void *buf, size_t cap,
			   struct acpi_tables_layout *out) MUST_CHECK;

#endif
