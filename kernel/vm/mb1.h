/* Multiboot (version 1, specification 0.6.96) guest loader: places a guest
 * kernel that carries a multiboot header, its modules and the multiboot
 * information structure (mbi) in guest RAM, the way QEMU's -kernel does.
 *
 * Pure logic: guest memory is reached only through the callbacks in struct
 * mb1_mem, never through a pointer. The image, command line and modules are
 * treated as hostile: every offset and address is checked before use, and a
 * failure leaves a one-line reason in `why`.
 *
 * Guest-physical layout (ram_size is the size of RAM at address 0):
 *   [0, 0x9FC00)                  RAM, reported usable (mem_lower = 639 KiB)
 *   [0x8000, 0x9F000)             scratch: mbi, memory map, strings, module array
 *   [0x9FC00, 0x100000)           RAM-backed but reported reserved
 *   [0x100000, ram_size)          kernel (and bss), then modules, page-aligned
 *                                 (mem_upper counts this range only)
 *   high ranges                   more RAM past a hole (above 4 GiB on a PC):
 *                                 only reported in the memory map
 * The caller starts the guest in 32-bit protected mode with
 * EAX = MB1_BOOTLOADER_MAGIC, EBX = result.mbi, EIP = result.entry. */
#ifndef KEEL_VM_MB1_H
#define KEEL_VM_MB1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"

#define MB1_HEADER_MAGIC 0x1BADB002u	 /* in the kernel image */
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u /* in EAX at the guest's entry */
#define MB1_SEARCH_LIMIT 8192u		 /* header lies in this many leading bytes */

#define MB1_SCRATCH_BASE 0x8000u /* the mbi sits here, the rest follows it */
#define MB1_SCRATCH_END 0x9F000u
#define MB1_LOW_RAM_END 0x9FC00u  /* end of usable low memory (639 KiB) */
#define MB1_KERNEL_MIN 0x100000u  /* kernel bytes lie at or above 1 MiB */
#define MB1_RAM_MIN 0x200000ull	  /* 2 MiB */
#define MB1_RAM_MAX 0xF0000000ull /* 4 GiB - 256 MiB: stay below the PCI hole */
#define MB1_PAGE 0x1000u
#define MB1_HIGH_MAX 4u /* high RAM ranges mb1_load reports */

struct mb1_range {
	uint64_t base, len;
};

/* Guest RAM as the loader sees it. write/zero return false when the range is
 * not (entirely) guest RAM; the loader turns that into an error. */
struct mb1_mem {
	void *ctx;
	uint64_t ram_size; /* >= MB1_RAM_MIN, <= MB1_RAM_MAX, multiple of MB1_PAGE */
	bool (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	bool (*zero)(void *ctx, uint64_t gpa, size_t len);
	/* RAM beyond ram_size, in address order, all of it above ram_size: at
	 * most MB1_HIGH_MAX ranges, each a non-empty page multiple. */
	const struct mb1_range *high;
	unsigned nhigh;
};

/* A boot module: len bytes at data (data may be NULL only when len == 0) and
 * its string (NULL means ""). */
struct mb1_module {
	const void *data;
	size_t len;
	const char *string;
};

struct mb1_result {
	uint32_t entry;	       /* guest-physical EIP */
	uint32_t mbi;	       /* guest-physical address of the mbi (EBX) */
	uint64_t kernel_start; /* lowest kernel byte */
	uint64_t kernel_end;   /* one past the highest kernel byte, bss included */
	uint64_t highest;      /* one past the highest byte of kernel or modules */
};

/* True when image_len bytes at image hold a multiboot header with a valid
 * checksum at a 4-byte-aligned offset in the first MB1_SEARCH_LIMIT bytes.
 * Says nothing about whether mb1_load would accept the image. */
bool mb1_probe(const uint8_t *image, size_t image_len);

/* Loads the kernel, the nmods modules (mods may be NULL when nmods == 0) and
 * the mbi into guest memory and fills *out. cmdline NULL means "".
 *
 * Kernel: the header's address fields when its flag bit 16 is set, else the
 * PT_LOAD segments of an ELF32 i386 executable at their physical addresses.
 * An ELF entry inside a segment's virtual range is translated to physical.
 * Modules go after the kernel, each page-aligned (whatever flag bit 0 asks).
 * The mbi reports memory (bit 0), cmdline (2), modules (3, even when none),
 * memory map (6, high ranges included) and boot loader name "Keel" (9); no
 * video information.
 *
 * Nothing is written to guest memory unless every check passes, except that
 * a write callback may fail part-way. On failure why (if whylen > 0) holds
 * one line naming the problem and the value:
 *   ST_EINVAL     NULL argument, bad RAM alignment, bad high ranges,
 *                 inconsistent header or ELF fields (load_addr above
 *                 header_addr, filesz > memsz, 32-bit wrap, entry outside
 *                 the loaded bytes, not ELF)
 *   ST_ENOENT     no multiboot header in the first MB1_SEARCH_LIMIT bytes
 *   ST_ECHECKSUM  a header magic was found but no valid checksum
 *   ST_ENOTSUP    an unknown required flag (bits 0-15), an ELF that is not
 *                 32-bit little-endian i386 ET_EXEC
 *   ST_ETRUNC     a header, program header or segment runs past the image
 *   ST_ERANGE     ram_size out of bounds, kernel bytes outside
 *                 [MB1_KERNEL_MIN, ram_size), a write/zero callback failed
 *   ST_ENOMEM     a module does not fit in RAM, or the mbi, strings and
 *                 module array do not fit in the scratch area */
status_t mb1_load(const uint8_t *image, size_t image_len, const char *cmdline,
		  const struct mb1_module *mods, unsigned nmods, const struct mb1_mem *mem,
		  struct mb1_result *out, char *why, size_t whylen) MUST_CHECK;

#endif
