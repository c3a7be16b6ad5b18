/* Firmware memory map -> a clean map Keel can trust: sorted, non-overlapping,
 * merged, usable ranges page-aligned. Pure logic; callers own the storage. */
#ifndef KEEL_MM_MEMMAP_H
#define KEEL_MM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "keel/boot_info.h"
#include "keel/status.h"

#define MEMMAP_PAGE 4096ull

struct mem_range {
	uint64_t base;
	uint64_t len;
};

/* Writes the normalized form of `in` to `out` and returns how many regions it
 * wrote. Overlaps resolve to the more restrictive type (BAD > RESERVED >
 * ACPI_NVS > ACPI_RECLAIM > USABLE; unknown types count as RESERVED). Usable
 * ranges shrink inward to page boundaries. *st is ST_ERANGE when `out_cap`
 * was too small (the output is then incomplete), else ST_OK. */
size_t memmap_normalize(const struct mem_region *in, size_t n, struct mem_region *out,
			size_t out_cap, status_t *st);

uint64_t memmap_usable_bytes(const struct mem_region *map, size_t n);

/* End of the highest usable region; 0 when there is none. */
uint64_t memmap_top(const struct mem_region *map, size_t n);

/* Lowest `align`-aligned (power of two) address of `size` bytes that lies in
 * one usable region, overlaps no `avoid` range and ends at or below `below`
 * (0: no limit). ST_ENOMEM when there is none, ST_EINVAL for bad arguments. */
MUST_CHECK status_t memmap_find_free(const struct mem_region *map, size_t n, uint64_t size,
				     uint64_t align, uint64_t below, const struct mem_range *avoid,
				     size_t navoid, uint64_t *out);

#endif
