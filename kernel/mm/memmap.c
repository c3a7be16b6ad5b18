/* Normalization works as a sweep over every region edge: between two
 * consecutive edges the covering type is constant, so the output is built one
 * elementary interval at a time. O(n^2), needs no scratch memory, and n is at
 * most a few hundred. */
#include <stdbool.h>

#include "mm/memmap.h"

#define END_MAX UINT64_MAX

/* Higher rank = more restrictive. */
static unsigned type_rank(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return 1;
	case MEM_ACPI_RECLAIM:
		return 2;
	case MEM_ACPI_NVS:
		return 3;
	case MEM_BAD:
		return 5;
	default:
		/* Unknown firmware types (persistent memory...) must never be used. */
		return 4;
	}
}

static uint32_t rank_type(unsigned rank)
{
	static const uint32_t types[] = {
	    0, MEM_USABLE, MEM_ACPI_RECLAIM, MEM_ACPI_NVS, MEM_RESERVED, MEM_BAD};

	return types[rank];
}

static uint64_t region_end(const struct mem_region *r)
{
	return r->len > END_MAX - r->base ? END_MAX : r->base + r->len;
}

static bool region_empty(const struct mem_region *r)
{
	return region_end(r) <= r->base;
}

/* Most restrictive rank covering address `at`; 0 when nothing covers it. */
static unsigned rank_at(const struct mem_region *in, size_t n, uint64_t at)
{
	unsigned best = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned r = type_rank(in[i].type);

		if (at >= in[i].base && at < region_end(&in[i]) && r > best)
			best = r;
	}
	return best;
}

/* Smallest region edge strictly above `at`; false when there is none. */
static bool next_edge(const struct mem_region *in, size_t n, uint64_t at, uint64_t *edge)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t e[2] = {in[i].base, region_end(&in[i])};

		if (region_empty(&in[i]))
			continue;
		for (int k = 0; k < 2; k++) {
			if (e[k] > at && (!found || e[k] < *edge)) {
				*edge = e[k];
				found = true;
			}
		}
	}
	return found;
}

struct emitter {
	struct mem_region *out;
	size_t cap;
	size_t n;
	bool overflow;
	bool have; /* `cur` holds a region still open for merging */
	struct mem_region cur;
	uint64_t cur_end;
};

static void flush(struct emitter *em)
{
	uint64_t base = em->cur.base, end = em->cur_end;

	if (!em->have)
		return;
	em->have = false;
	if (em->cur.type == MEM_USABLE) {
		/* Partial pages cannot be handed out, so they are simply not listed. */
		if (base > END_MAX - (MEMMAP_PAGE - 1))
			return;
		base = (base + MEMMAP_PAGE - 1) & ~(MEMMAP_PAGE - 1);
		end &= ~(MEMMAP_PAGE - 1);
	}
	if (end <= base)
		return;
	if (em->n == em->cap) {
		em->overflow = true;
		return;
	}
	em->out[em->n++] = (struct mem_region){base, end - base, em->cur.type};
}

static void emit(struct emitter *em, uint64_t base, uint64_t end, uint32_t type)
{
	if (em->have && em->cur_end == base && em->cur.type == type) {
		em->cur_end = end;
		return;
	}
	flush(em);
	em->cur = (struct mem_region){base, 0, type};
	em->cur_end = end;
	em->have = true;
}

static bool lowest_base(const struct mem_region *in, size_t n, uint64_t *base)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		if (!region_empty(&in[i]) && (!found || in[i].base < *base)) {
			*base = in[i].base;
			found = true;
		}
	}
	return found;
}

size_t memmap_normalize(const struct mem_region *in, size_t n, struct mem_region *out,
			size_t out_cap, status_t *st)
{
	struct emitter em = {.out = out, .cap = out_cap};
	uint64_t at = 0, next = 0;

	if (lowest_base(in, n, &at)) {
		while (next_edge(in, n, at, &next)) {
			unsigned rank = rank_at(in, n, at);

			if (rank)
				emit(&em, at, next, rank_type(rank));
			at = next;
		}
		flush(&em);
	}
	if (st)
		*st = em.overflow ? ST_ERANGE : ST_OK;
	return em.n;
}

uint64_t memmap_usable_bytes(const struct mem_region *map, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		if (map[i].type == MEM_USABLE)
			total += region_end(&map[i]) - map[i].base;
	return total;
}

uint64_t memmap_top(const struct mem_region *map, size_t n)
{
	uint64_t top = 0;

	for (size_t i = 0; i < n; i++)
		if (map[i].type == MEM_USABLE && !region_empty(&map[i]) &&
		    region_end(&map[i]) > top)
			top = region_end(&map[i]);
	return top;
}

/* Rounds `v` up to `align` (a power of two); false on overflow. */
static bool align_up(uint64_t v, uint64_t align, uint64_t *res)
{
	if (v > END_MAX - (align - 1))
		return false;
	*res = (v + align - 1) & ~(align - 1);
	return true;
}

/* End of an avoid range overlapping [at, at+size), or 0 when none does. */
static uint64_t avoid_hit(const struct mem_range *avoid, size_t navoid, uint64_t at, uint64_t size)
{
	for (size_t i = 0; i < navoid; i++) {
		uint64_t end =
		    avoid[i].len > END_MAX - avoid[i].base ? END_MAX : avoid[i].base + avoid[i].len;

		if (avoid[i].len && avoid[i].base < at + size && end > at)
			return end;
	}
	return 0;
}

struct find_req {
	uint64_t size, align, limit;
	const struct mem_range *avoid;
	size_t navoid;
};

/* Lowest fit inside one region; each miss moves `at` strictly upward. */
static bool fit_in_region(const struct mem_region *r, const struct find_req *q, uint64_t *out)
{
	uint64_t end = region_end(r), at, hit;

	if (end > q->limit)
		end = q->limit;
	if (!align_up(r->base, q->align, &at))
		return false;
	while (at < end && q->size <= end - at) {
		hit = avoid_hit(q->avoid, q->navoid, at, q->size);
		if (!hit) {
			*out = at;
			return true;
		}
		if (!align_up(hit, q->align, &at))
			return false;
	}
	return false;
}

status_t memmap_find_free(const struct mem_region *map, size_t n, uint64_t size, uint64_t align,
			  uint64_t below, const struct mem_range *avoid, size_t navoid,
			  uint64_t *out)
{
	struct find_req q = {size, align, below ? below : END_MAX, avoid, navoid};
	bool found = false;
	uint64_t at = 0;

	if (!size || !align || (align & (align - 1)))
		return ST_EINVAL;
	/* The map need not be sorted, so every region gets a chance. */
	for (size_t i = 0; i < n; i++) {
		if (map[i].type != MEM_USABLE || !fit_in_region(&map[i], &q, &at))
			continue;
		if (!found || at < *out)
			*out = at;
		found = true;
	}
	return found ? ST_OK : ST_ENOMEM;
}
