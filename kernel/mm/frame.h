/* Physical frame allocator: one bit per 4 KiB frame, set = in use. Pure
 * logic over caller-provided bitmap storage; the caller locks. */
#ifndef KEEL_MM_FRAME_H
#define KEEL_MM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "keel/boot_info.h"
#include "keel/status.h"

#define FRAME_SIZE 4096ull
#define FRAME_SHIFT 12

struct frame_alloc {
	uint64_t *bitmap;
	uint64_t nframes; /* frames the bitmap describes, from physical 0 */
	uint64_t free;
	uint64_t hint; /* every frame below it is in use */
};

/* Bitmap bytes (whole 64-bit words) needed to describe [0, top). */
uint64_t frame_bitmap_bytes(uint64_t top);

/* Marks every frame used, then frees the pages fully inside usable regions
 * and re-marks anything a non-usable region touches, so raw overlapping maps
 * are safe too. Frame 0 stays used forever: physical 0 looks like NULL.
 * ST_ERANGE when `bitmap_bytes` is below frame_bitmap_bytes(memmap_top()). */
MUST_CHECK status_t frame_init(struct frame_alloc *fa, const struct mem_region *map, size_t n,
			       uint64_t *bitmap, size_t bitmap_bytes);

/* Marks every frame [base, base+len) touches as used; beyond the map is ignored. */
void frame_reserve(struct frame_alloc *fa, uint64_t base, uint64_t len);

/* `count` contiguous frames, first one aligned to `align_frames` (a power of
 * two, 0 means 1), all of them below `below` (0: no limit); lowest address
 * first. ST_ENOMEM when no such run is free. */
MUST_CHECK status_t frame_alloc(struct frame_alloc *fa, uint64_t count, uint64_t align_frames,
				uint64_t below, uint64_t *pa);

/* ST_EINVAL, changing nothing, when `pa` is unaligned, the run leaves the
 * map, touches frame 0 or contains a frame that is already free. A reserved
 * frame cannot be told from an allocated one: never free what you did not
 * allocate. */
MUST_CHECK status_t frame_free(struct frame_alloc *fa, uint64_t pa, uint64_t count);

uint64_t frame_free_count(const struct frame_alloc *fa);

#endif
