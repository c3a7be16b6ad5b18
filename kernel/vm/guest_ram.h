/* Guest RAM: host frames backing the guest-physical RAM ranges of a PC, and
 * the nested page tables that map them, built with the common page-table
 * builder in the backend's entry format.
 *
 * Layout (gram_ranges): low RAM [0, min(size, GRAM_LOW_MAX)); when size is
 * larger, high RAM [GRAM_HIGH_BASE, GRAM_HIGH_BASE + size - GRAM_LOW_MAX).
 * Between them lies the hole for the PCI window, ECAM and interrupt
 * controllers (vpc.h), as on a PC.
 *
 * RAM comes in 2 MiB chunks of contiguous host frames, each 2 MiB aligned, so
 * the nested tables use 2 MiB pages; a last partial chunk is mapped with
 * 4 KiB pages. Chunks are numbered by their offset into RAM (low RAM first),
 * and GRAM_LOW_MAX is a multiple of GRAM_CHUNK, so no chunk straddles the
 * hole. The table of chunk addresses is sized for the VM and comes from the
 * same allocator. Every frame and every table page is counted, so the VM's
 * footprint is known and all of it goes back when the RAM is destroyed.
 *
 * Pure logic: host memory comes through struct gram_alloc. Accessors take
 * guest-physical ranges from a hostile guest and refuse any range that is
 * not entirely inside one RAM range before touching host memory. */
#ifndef KEEL_VM_GUEST_RAM_H
#define KEEL_VM_GUEST_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"
#include "mm/pt.h"

#define GRAM_CHUNK (2ull << 20)
#define GRAM_PAGE 4096ull
#define GRAM_LOW_MAX (3ull << 30)   /* low RAM ends where the PCI hole starts */
#define GRAM_HIGH_BASE (4ull << 30) /* the rest of RAM continues above the hole */
#define GRAM_MAX (1ull << 40)	    /* 1 TiB in all (a 4 MiB chunk table) */
#define GRAM_RANGES_MAX 2

struct gram_alloc {
	void *ctx;
	/* count zeroed contiguous 4 KiB frames, the first aligned to
	 * align_frames frames. */
	status_t (*alloc)(void *ctx, uint64_t count, uint64_t align_frames, uint64_t *pa);
	void (*free)(void *ctx, uint64_t pa, uint64_t count);
	void *(*virt)(void *ctx, uint64_t pa);
};

/* A range of guest-physical RAM. */
struct gram_range {
	uint64_t base, len;
};

struct guest_ram {
	uint64_t size;	    /* bytes of RAM in all, low and high */
	uint64_t *chunk_pa; /* host-physical address of each chunk, by RAM offset */
	uint64_t chunk_table_pa, chunk_table_frames; /* where chunk_pa lives */
	unsigned nchunks;
	struct pt npt;
	struct pt_mem npt_mem;
	const struct gram_alloc *alloc;
	uint64_t table_pages; /* nested page-table pages in use */
};

/* Allocates size bytes of zeroed RAM (a non-zero multiple of GRAM_PAGE, at
 * most GRAM_MAX) and maps it at the layout above into fresh nested tables
 * with prot.
 *   ST_EINVAL  bad size or incomplete format/allocator.
 *   ST_ENOMEM  the host is out of frames: everything taken is given back. */
status_t gram_init(struct guest_ram *g, uint64_t size, const struct pt_format *fmt, uint32_t prot,
		   const struct gram_alloc *a) MUST_CHECK;

/* Frees the RAM and every table. Safe on a zeroed or destroyed struct. */
void gram_destroy(struct guest_ram *g);

/* Root of the nested tables (host-physical). */
uint64_t gram_root(const struct guest_ram *g);

/* Host bytes held: RAM, nested tables and the chunk table. */
uint64_t gram_footprint(const struct guest_ram *g);

/* The RAM ranges in address order (none after destroy); returns how many.
 * Loaders and firmware tables describe RAM from this one list. */
unsigned gram_ranges(const struct guest_ram *g, struct gram_range out[GRAM_RANGES_MAX]);

/* The same for size bytes of RAM not allocated yet. */
unsigned gram_layout(uint64_t size, struct gram_range out[GRAM_RANGES_MAX]);

/* Is all of [gpa, gpa+len) RAM, inside one range? len 0 is false. */
bool gram_contains(const struct guest_ram *g, uint64_t gpa, uint64_t len);

/* Copy between guest RAM and buf; false (nothing copied) unless the whole
 * range is RAM (gram_contains). Ranges may cross chunks, never the hole. */
bool gram_read(const struct guest_ram *g, uint64_t gpa, void *buf, size_t len);
bool gram_write(struct guest_ram *g, uint64_t gpa, const void *buf, size_t len);
bool gram_zero(struct guest_ram *g, uint64_t gpa, uint64_t len);

/* Host pointer to [gpa, gpa+len) when that range is RAM inside one chunk
 * (so contiguous on the host), else NULL. */
void *gram_ptr(const struct guest_ram *g, uint64_t gpa, uint64_t len);

#endif
