/* Linux x86 boot protocol loader (Documentation/arch/x86/boot.rst): places a
 * bzImage's protected-mode kernel, an initrd, the command line and a
 * "zero page" (struct boot_params) in guest RAM so the guest can be started
 * directly at the 32-bit or 64-bit entry point. The kernel's real-mode setup
 * code never runs, so no BIOS is needed.
 *
 * Pure logic: guest memory is reached only through the callbacks in struct
 * lb_mem, never through a pointer. The image, initrd and command line are
 * treated as hostile: every field is checked before use, and a failure
 * leaves a one-line reason in `why`.
 *
 * Guest-physical layout (ram_size is the size of RAM at address 0, which the
 * caller has zeroed; RAM past a hole, above 4 GiB on a PC, is only reported
 * in E820):
 *   [0, 0x1000)           left alone (real-mode IVT and BIOS data area)
 *   0x7000                boot_params, 4 KiB (LB_BOOT_PARAMS)
 *   0x8000                GDT for the 32-bit entry, then the one for the 64-bit
 *                         entry (LB_GDT32, LB_GDT64)
 *   [0x9000, 0xF000)      identity page tables for the 64-bit entry: PML4,
 *                         PDPT, 4 page directories of 2 MiB pages (0-4 GiB)
 *   [0x20000, 0x30000)    the command line (LB_CMDLINE)
 *   [0x9D000, 0xA0000)    kept free: Linux's decompressor puts its 32-bit
 *                         trampoline just below 0x9F000 when the BIOS data
 *                         area gives no better place
 *   [0xA0000, 0x100000)   RAM-backed, reported reserved (ACPI tables at 0xE0000)
 *   pref_address          the protected-mode kernel, init_size bytes of RAM
 *   top of RAM            the initrd, page-aligned, as high as allowed
 * Everything the loader writes below 1 MiB is reported as usable RAM: Linux
 * copies boot_params and the command line before it allocates memory, and
 * builds its own page tables and GDT.
 *
 * The caller starts the guest with CS = LB_BOOT_CS, DS = ES = SS = LB_BOOT_DS
 * (flat 4 GiB), interrupts off, and either
 *   32-bit: protected mode, paging off, GDTR = gdt_base/gdt_limit,
 *           EIP = entry32, ESI = boot_params, EBP = EDI = EBX = 0; or
 *   64-bit: long mode, CR3 = cr3, GDTR = gdt64_base/gdt_limit,
 *           RIP = entry64, RSI = boot_params (only when has_entry64). */
#ifndef KEEL_VM_LINUX_BOOT_H
#define KEEL_VM_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"

#define LB_PAGE 0x1000u
#define LB_BOOT_PARAMS 0x7000u /* the zero page */
#define LB_BOOT_PARAMS_SIZE 0x1000u
#define LB_GDT32 0x8000u /* 4 descriptors: null, null, __BOOT_CS, __BOOT_DS */
#define LB_GDT64 0x8020u /* the same with a 64-bit code segment */
#define LB_GDT_ENTRIES 4u
#define LB_PML4 0x9000u
#define LB_PDPT 0xA000u
#define LB_PD 0xB000u  /* LB_PD_COUNT page directories follow each other */
#define LB_PD_COUNT 4u /* 4 x 1 GiB: the identity map covers 0-4 GiB */
#define LB_CMDLINE 0x20000u
#define LB_CMDLINE_END 0x30000u	  /* NUL included, the command line ends here */
#define LB_TRAMPOLINE 0x9D000u	  /* Linux's decompressor may use [this, 0x9F000) */
#define LB_LOW_RAM_END 0xA0000u	  /* usable low RAM ends: VGA/BIOS area follows */
#define LB_KERNEL_MIN 0x100000u	  /* kernel and initrd lie at or above 1 MiB */
#define LB_RAM_MAX 0x100000000ull /* RAM at 0 ends below 4 GiB */
#define LB_HIGH_MAX 4u		  /* RAM ranges past it that lb_load reports */

#define LB_BOOT_CS 0x10u /* __BOOT_CS: GDT entry 2 */
#define LB_BOOT_DS 0x18u /* __BOOT_DS: GDT entry 3 */

#define LB_PROTO_MIN 0x020Cu /* boot protocol 2.12 */
#define LB_XLF_KERNEL_64 (1u << 0)
#define LB_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)
#define LB_LOADED_HIGH (1u << 0)

#define LB_E820_RAM 1u
#define LB_E820_RESERVED 2u
#define LB_E820_MAX 128u	 /* e820_table entries the zero page holds */
#define LB_PLAT_RESERVED_MAX 16u /* extra reserved ranges lb_load accepts */

/* The setup header fields the loader uses, from a checked image. */
struct lb_header {
	uint16_t version;    /* 0x020F is protocol 2.15 */
	uint8_t setup_sects; /* 512-byte setup sectors, a 0 in the image read as 4 */
	uint8_t loadflags;
	uint32_t syssize; /* protected-mode size in 16-byte units */
	uint32_t code32_start;
	uint32_t initrd_addr_max; /* highest address an initrd byte may occupy */
	uint32_t kernel_alignment;
	bool relocatable;
	uint16_t xloadflags;
	uint32_t cmdline_size; /* longest command line, NUL not counted */
	uint64_t pref_address;
	uint32_t init_size; /* RAM the kernel needs from its load address */
	size_t hdr_end;	    /* file offset one past the header to copy */
	size_t pm_offset;   /* file offset of the protected-mode kernel */
	size_t pm_size;	    /* its length: syssize * 16 */
};

/* Guest RAM as the loader sees it. write/zero return false when the range is
 * not (entirely) guest RAM; the loader turns that into an error. */
struct lb_range {
	uint64_t base, len;
};

struct lb_mem {
	void *ctx;
	uint64_t ram_size; /* RAM at [0, ram_size): >= 1 MiB, <= 4 GiB, page multiple */
	bool (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	bool (*zero)(void *ctx, uint64_t gpa, size_t len);
	/* More RAM (above the PCI hole): at most LB_HIGH_MAX ranges, reported in
	 * E820 and never written; the kernel, initrd and tables stay below. */
	const struct lb_range *high;
	unsigned nhigh;
};

/* One E820 entry as the loader hands it around (the zero page packs them). */
struct lb_e820 {
	uint64_t addr, size;
	uint32_t type; /* LB_E820_RAM or LB_E820_RESERVED */
};

/* What the virtual platform tells the guest beyond its RAM. */
struct lb_platform {
	uint64_t rsdp;			 /* guest-physical ACPI RSDP, 0 for none */
	const struct lb_range *reserved; /* reported reserved in E820 (MMIO windows) */
	unsigned nreserved;		 /* at most LB_PLAT_RESERVED_MAX */
};

struct lb_result {
	uint64_t entry32;		   /* startup_32: the load address */
	uint64_t entry64;		   /* startup_64: load + 0x200, when has_entry64 */
	uint64_t boot_params;		   /* ESI / RSI */
	uint64_t gdt_base;		   /* GDT for the 32-bit entry */
	uint64_t gdt64_base;		   /* GDT for the 64-bit entry */
	uint16_t gdt_limit;		   /* of either GDT */
	uint64_t cr3;			   /* identity page tables for the 64-bit entry */
	uint64_t cmdline;		   /* where the command line is */
	uint64_t kernel_start, kernel_end; /* [load, load + init_size) */
	uint64_t initrd_start, initrd_end; /* both 0 without an initrd */
	bool has_entry64;		   /* xloadflags has XLF_KERNEL_64 */
};

/* Checks that len bytes at image are a bzImage this loader can start
 * (protocol >= 2.12, LOADED_HIGH, setup and protected-mode kernel inside the
 * file) and fills *out. On failure why (if whylen > 0) holds one line:
 *   ST_EINVAL   NULL argument, no 0xAA55 boot flag, no "HdrS", a header end
 *               or syssize/init_size/kernel_alignment that do not add up
 *   ST_ENOTSUP  protocol older than 2.12, no LOADED_HIGH (a zImage)
 *   ST_ETRUNC   the image ends before its header, setup or kernel does */
status_t lb_parse(const uint8_t *image, size_t len, struct lb_header *out, char *why,
		  size_t whylen) MUST_CHECK;

/* Builds the E820 map: the nram RAM ranges as type 1, except that the
 * legacy area [LB_LOW_RAM_END, LB_KERNEL_MIN) is always one type-2 entry,
 * plus the nreserved ranges as type 2; sorted by address. Ranges that are
 * empty, wrap, or overlap one another are refused (ST_EINVAL) rather than
 * carved: an overlap is a platform description bug. More than max entries
 * is ST_ERANGE, never a silent cut. On success *count entries are in out. */
status_t lb_e820_build(const struct lb_range *ram, unsigned nram, const struct lb_range *reserved,
		       unsigned nreserved, struct lb_e820 *out, unsigned max, unsigned *count,
		       char *why, size_t whylen) MUST_CHECK;

/* Loads the bzImage, the initrd (initrd may be NULL when initrd_len is 0)
 * and the command line (NULL means "") into guest memory following the
 * layout above, and fills *out. Guest RAM must already be zero: the rest of
 * init_size past the kernel bytes is not written.
 *
 * Nothing is written to guest memory unless every check passes, except that
 * a write callback may fail part-way. On failure why holds one line:
 *   ST_EINVAL   NULL argument, RAM not a page multiple, bad platform or high
 *               RAM ranges (empty, wrapping, overlapping, too many), and
 *               everything lb_parse refuses with it
 *   ST_ENOTSUP, ST_ETRUNC  as lb_parse
 *   ST_ERANGE   RAM size out of bounds, kernel below 1 MiB or past 4 GiB,
 *               a command line longer than cmdline_size, too many E820
 *               entries, a write/zero callback failed
 *   ST_ENOMEM   the kernel's init_size or the initrd does not fit in RAM */
status_t lb_load(const uint8_t *image, size_t len, const uint8_t *initrd, size_t initrd_len,
		 const char *cmdline, const struct lb_mem *mem, const struct lb_platform *plat,
		 struct lb_result *out, char *why, size_t whylen) MUST_CHECK;

#endif
