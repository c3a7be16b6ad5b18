/* ACPI static-table parser (RSDP, RSDT/XSDT, MADT, FADT, DSDT \_S5, MCFG, SPCR).
 * Pure logic: physical memory is read only through struct acpi_mem. */
#ifndef KEEL_DRIVERS_ACPI_H
#define KEEL_DRIVERS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keel/status.h>

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_ISOS 32
#define ACPI_MAX_MCFG 16

/* map() returns a readable view of [pa, pa+len), or NULL if that range is not
 * readable. The parser uses a returned pointer only until its next map() call
 * and never reads past len bytes of it. */
struct acpi_mem {
	void *ctx;
	const void *(*map)(void *ctx, uint64_t pa, size_t len);
};

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;
	bool enabled; /* false: online capable, currently disabled */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct acpi_iso {
	uint8_t bus, source;
	uint32_t gsi;
	uint16_t flags;
};

struct acpi_mcfg {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

struct acpi_info {
	uint8_t rsdp_revision;
	char oem_id[7];
	bool xsdt_used;

	uint32_t ncpus; /* enabled or online-capable MADT type 0 / type 9 entries */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	uint64_t lapic_base; /* MADT field, overridden by a type 5 entry */
	uint32_t nioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	uint32_t nisos;
	struct acpi_iso isos[ACPI_MAX_ISOS];

	bool has_fadt;
	uint8_t fadt_revision;
	uint32_t pm_timer_port; /* 0: none */
	bool pm_timer_32bit;
	uint32_t pm1a_cnt, pm1b_cnt;
	uint16_t sci_irq;
	bool reset_supported;
	uint8_t reset_space;
	uint64_t reset_addr;
	uint8_t reset_value;
	bool s5_valid;
	uint8_t s5_slp_typa, s5_slp_typb;

	uint32_t nmcfg;
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

	bool has_spcr;
	uint8_t spcr_type; /* SPCR interface type byte */
	uint8_t spcr_space;
	uint64_t spcr_addr;
	uint32_t spcr_baud; /* 0: "as is" (use the current setting) */

	uint32_t ntables;   /* tables examined: root (incl. a rejected XSDT), children, DSDT */
	uint32_t nbad;	    /* tables rejected or found malformed */
	uint32_t truncated; /* entries dropped because an ACPI_MAX_* limit was hit */
};

/* Parse the ACPI tables reachable from a copy of the RSDP. Only an invalid RSDP
 * or root table is fatal: then a one-line message is written to err. */
status_t acpi_parse(const uint8_t *rsdp, size_t rsdp_len, const struct acpi_mem *mem,
		    struct acpi_info *out, char *err, size_t errlen) MUST_CHECK;

/* Write a one-line summary into buf (always NUL-terminated when len > 0).
 * Returns the number of characters written, excluding the NUL. */
int acpi_summary(const struct acpi_info *a, char *buf, size_t len);

#endif
