/* The one record that crosses from a boot path (multiboot2, later UEFI) into
 * kernel_main. Limits are named constants; a parser that meets more than a
 * limit allows fails with a message rather than dropping data. */
#ifndef KEEL_BOOT_INFO_H
#define KEEL_BOOT_INFO_H

#include <stdbool.h>
#include <stdint.h>

#define BOOT_MAX_MEMMAP 512
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 1024
#define BOOT_MODNAME_MAX 256
#define BOOT_LOADER_NAME_MAX 64
#define BOOT_RSDP_MAX 36

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type; /* enum mem_type */
};

struct boot_module {
	uint64_t start; /* physical, inclusive */
	uint64_t end;	/* physical, exclusive */
	char name[BOOT_MODNAME_MAX];
};

enum firmware { FW_BIOS = 0, FW_UEFI = 1 };

struct boot_info {
	enum firmware firmware;
	char cmdline[BOOT_CMDLINE_MAX];
	char loader_name[BOOT_LOADER_NAME_MAX];
	uint32_t memmap_count;
	struct mem_region memmap[BOOT_MAX_MEMMAP];
	uint32_t module_count;
	struct boot_module modules[BOOT_MAX_MODULES];
	uint32_t rsdp_len; /* 0: the loader gave no RSDP */
	uint8_t rsdp[BOOT_RSDP_MAX];
	uint64_t efi_system_table; /* 0 on BIOS */
};

#endif
