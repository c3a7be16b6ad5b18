/* Scans skip whole 64-bit words that cannot contain a match, so a mostly
 * full or mostly empty bitmap is walked at 64 frames per step. */
#include <stdbool.h>

#include "mm/frame.h"
#include "mm/memmap.h"

#define WORD_BITS 64u

static bool frame_used(const struct frame_alloc *fa, uint64_t f)
{
	return (fa->bitmap[f / WORD_BITS] >> (f % WORD_BITS)) & 1;
}

static void set_used(struct frame_alloc *fa, uint64_t f)
{
	if (!frame_used(fa, f)) {
		fa->bitmap[f / WORD_BITS] |= 1ull << (f % WORD_BITS);
		fa->free--;
	}
}

static void set_free(struct frame_alloc *fa, uint64_t f)
{
	if (frame_used(fa, f)) {
		fa->bitmap[f / WORD_BITS] &= ~(1ull << (f % WORD_BITS));
		fa->free++;
		if (f < fa->hint)
			fa->hint = f;
	}
}

/* First frame in [from, limit) whose bit equals `used`; `limit` if none. */
static uint64_t find_next(const struct frame_alloc *fa, uint64_t from, uint64_t limit, bool used)
{
	while (from < limit) {
		uint64_t w = fa->bitmap[from / WORD_BITS];
		unsigned bit = from % WORD_BITS;

		if (!used)
			w = ~w;
		w >>= bit;
		if (w) {
			uint64_t f = from + (uint64_t)__builtin_ctzll(w);

			return f < limit ? f : limit;
		}
		from += WORD_BITS - bit;
	}
	return limit;
}

uint64_t frame_bitmap_bytes(uint64_t top)
{
	uint64_t frames = (top >> FRAME_SHIFT) + ((top & (FRAME_SIZE - 1)) != 0);

	return (frames + WORD_BITS - 1) / WORD_BITS * sizeof(uint64_t);
}

/* Frame range [*first, *last) every byte of [base, base+len) falls in,
 * clipped to the map. */
static void touched_frames(const struct frame_alloc *fa, uint64_t base, uint64_t len,
			   uint64_t *first, uint64_t *last)
{
	uint64_t end = len > UINT64_MAX - base ? UINT64_MAX : base + len;

	*first = base >> FRAME_SHIFT;
	*last = (end >> FRAME_SHIFT) + ((end & (FRAME_SIZE - 1)) != 0);
	if (*last > fa->nframes)
		*last = fa->nframes;
}

void frame_reserve(struct frame_alloc *fa, uint64_t base, uint64_t len)
{
	uint64_t f, last;

	if (!len)
		return;
	touched_frames(fa, base, len, &f, &last);
	for (; f < last; f++)
		set_used(fa, f);
}

/* Frees only whole frames inside the region: a partial page is not usable. */
static void free_usable(struct frame_alloc *fa, const struct mem_region *r)
{
	uint64_t end = r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
	uint64_t f = (r->base >> FRAME_SHIFT) + ((r->base & (FRAME_SIZE - 1)) != 0);
	uint64_t last = end >> FRAME_SHIFT;

	if (last > fa->nframes)
		last = fa->nframes;
	for (; f < last; f++)
		set_free(fa, f);
}

status_t frame_init(struct frame_alloc *fa, const struct mem_region *map, size_t n,
		    uint64_t *bitmap, size_t bitmap_bytes)
{
	uint64_t top = memmap_top(map, n);
	uint64_t words = frame_bitmap_bytes(top) / sizeof(uint64_t);

	if (bitmap_bytes < words * sizeof(uint64_t))
		return ST_ERANGE;
	/* Bits past nframes in the last word stay set, so scans never pick them. */
	for (uint64_t i = 0; i < words; i++)
		bitmap[i] = ~0ull;
	*fa = (struct frame_alloc){bitmap, (top >> FRAME_SHIFT) + ((top & (FRAME_SIZE - 1)) != 0),
				   0, 0};
	for (size_t i = 0; i < n; i++)
		if (map[i].type == MEM_USABLE)
			free_usable(fa, &map[i]);
	for (size_t i = 0; i < n; i++)
		if (map[i].type != MEM_USABLE)
			frame_reserve(fa, map[i].base, map[i].len);
	frame_reserve(fa, 0, FRAME_SIZE);
	return ST_OK;
}

static uint64_t align_frame(uint64_t f, uint64_t align)
{
	if (f > UINT64_MAX - (align - 1))
		return UINT64_MAX;
	return (f + align - 1) & ~(align - 1);
}

/* Lowest aligned start of a free run of `count` frames below `limit`. */
static bool find_run(const struct frame_alloc *fa, uint64_t count, uint64_t align, uint64_t limit,
		     uint64_t *start)
{
	uint64_t f = fa->hint;

	for (;;) {
		f = find_next(fa, f, limit, false);
		f = align_frame(f, align);
		if (f >= limit || count > limit - f)
			return false;
		uint64_t used = find_next(fa, f, f + count, true);

		if (used == f + count) {
			*start = f;
			return true;
		}
		f = used + 1;
	}
}

status_t frame_alloc(struct frame_alloc *fa, uint64_t count, uint64_t align_frames, uint64_t below,
		     uint64_t *pa)
{
	uint64_t limit = fa->nframes, start;

	if (!align_frames)
		align_frames = 1;
	if (!count || (align_frames & (align_frames - 1)))
		return ST_EINVAL;
	if (below && (below >> FRAME_SHIFT) < limit)
		limit = below >> FRAME_SHIFT;
	if (!find_run(fa, count, align_frames, limit, &start))
		return ST_ENOMEM;
	for (uint64_t f = start; f < start + count; f++)
		set_used(fa, f);
	if (start == fa->hint)
		fa->hint = find_next(fa, start + count, fa->nframes, false);
	*pa = start << FRAME_SHIFT;
	return ST_OK;
}

status_t frame_free(struct frame_alloc *fa, uint64_t pa, uint64_t count)
{
	uint64_t f = pa >> FRAME_SHIFT;

	if (!count || (pa & (FRAME_SIZE - 1)) || f == 0 || f >= fa->nframes ||
	    count > fa->nframes - f)
		return ST_EINVAL;
	if (find_next(fa, f, f + count, false) != f + count)
		return ST_EINVAL;
	for (uint64_t i = f; i < f + count; i++)
		set_free(fa, i);
	return ST_OK;
}

uint64_t frame_free_count(const struct frame_alloc *fa)
{
	return fa->free;
}
