/* A 4-level page-table builder, independent of the entry format, so the same
 * code builds Keel's own tables (x86-64 paging) and, later, EPT/NPT tables.
 * Pure logic: table memory comes from struct pt_mem callbacks. */
#ifndef KEEL_PT_H
#define KEEL_PT_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/status.h"

/* Format-neutral permission / attribute bits. */
#define PT_R 1u
#define PT_W 2u
#define PT_X 4u
#define PT_USER 8u
#define PT_UC 16u /* uncached */
#define PT_GLOBAL 32u
#define PT_PROT_ALL (PT_R | PT_W | PT_X | PT_USER | PT_UC | PT_GLOBAL)

#define PT_LEVELS 4
#define PT_TABLE_SIZE 4096ull
#define PT_ENTRIES 512u

struct pt_format {
	/* Non-leaf entry pointing at a table; grants everything. */
	uint64_t (*table)(uint64_t pa);
	/* Leaf entry; level 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB. */
	uint64_t (*leaf)(uint64_t pa, uint32_t prot, int level);
	bool (*present)(uint64_t e);
	bool (*is_leaf)(uint64_t e, int level); /* level 1 entries are always leaves */
	uint64_t (*addr)(uint64_t e, int level);
	uint32_t (*prot)(uint64_t e, int level); /* what this entry grants (non-leaf too) */
	int max_leaf_level;			 /* 1..3 */
};

struct pt_mem {
	void *ctx;
	status_t (*alloc)(void *ctx, uint64_t *pa); /* one zeroed 4 KiB table */
	void (*free)(void *ctx, uint64_t pa);
	void *(*virt)(void *ctx, uint64_t pa);
};

struct pt {
	const struct pt_format *fmt;
	const struct pt_mem *mem;
	uint64_t root;
};

/* Allocates the root table. ST_EINVAL for an incomplete format/memory. */
status_t pt_init(struct pt *pt, const struct pt_format *f, const struct pt_mem *m) MUST_CHECK;

/* Maps [va, va+size) to [pa, pa+size) with the largest pages alignment allows.
 * va/pa/size must be 4 KiB aligned and size > 0 (ST_EINVAL); the va range must
 * be canonical 48-bit (ST_EINVAL) and pa+size within 52 bits (ST_ERANGE); prot
 * must make a present entry (ST_EINVAL). Anything already mapped in the range
 * gives ST_EEXIST with nothing changed. ST_ENOMEM leaves nothing mapped. */
status_t pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot) MUST_CHECK;

/* Unmaps [va, va+size); holes are fine. Large pages only partly covered are
 * split first; ST_ENOMEM if that fails, with the translation unchanged. Tables
 * left empty are freed. Same argument rules as pt_map. */
status_t pt_unmap(struct pt *pt, uint64_t va, uint64_t size) MUST_CHECK;

/* Translates va. prot: R/W/X/USER ANDed over all levels, UC ORed, GLOBAL from
 * the leaf. Any out pointer may be NULL. */
bool pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pa, uint32_t *prot, uint64_t *page_size);

typedef void (*pt_walk_fn)(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot);

/* Calls fn for every leaf in va order with canonical va and effective prot. */
void pt_walk(const struct pt *pt, pt_walk_fn fn, void *arg);

/* Number of leaves both writable and executable; report (may be NULL) is
 * called for each. */
uint64_t pt_count_wx(const struct pt *pt, pt_walk_fn report, void *arg);

/* Frees every table, root included (not the mapped memory). Safe to call
 * again, or after a failed pt_init. */
void pt_destroy(struct pt *pt);

#endif
