/* Port-I/O and MMIO bus dispatch (see bus.h). Ranges are kept sorted by base
 * and disjoint, so one binary search finds the only range that can contain an
 * address, and overlap checks on registration need only the two neighbours. */
#include <stdbool.h>

#include "vm/bus.h"
#include "keel/kstring.h"

#define BITS_PER_BYTE 8u
#define ALL_ONES 0xFFFFFFFFFFFFFFFFull

static bool valid_size(uint8_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* All-ones in the low size bytes; size is already valid. */
static uint64_t size_mask(uint8_t size)
{
	if (size == sizeof(uint64_t))
		return ALL_ONES;
	return (1ull << (size * BITS_PER_BYTE)) - 1;
}

/* Number of ranges whose base is <= addr: the index where a range starting
 * just above addr would be inserted. */
static unsigned count_at_or_below(const struct bus *b, uint64_t addr)
{
	unsigned lo = 0, hi = b->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (b->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool contains(const struct bus_range *r, uint64_t addr)
{
	return addr >= r->base && addr - r->base < r->len;
}

void bus_init(struct bus *b, const char *name, uint64_t limit)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->limit = limit;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
	unsigned i = count_at_or_below(b, addr);

	if (i == 0 || !contains(&b->ranges[i - 1], addr))
		return NULL;
	return &b->ranges[i - 1];
}

static status_t check_new_range(const struct bus *b, uint64_t base, uint64_t len,
				const struct bus_ops *ops)
{
	if (!ops || !ops->read || !ops->write || len == 0)
		return ST_EINVAL;
	if (base + len < base || base + len > b->limit)
		return ST_ERANGE;
	if (b->n >= BUS_MAX_DEVICES)
		return ST_ERANGE;
	return ST_OK;
}

/* Would [base, base+len) overlap a neighbour of insertion index i? */
static bool overlaps_neighbours(const struct bus *b, unsigned i, uint64_t base, uint64_t len)
{
	if (i > 0 && contains(&b->ranges[i - 1], base))
		return true;
	return i < b->n && b->ranges[i].base < base + len;
}

status_t bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		      void *dev, const char *name)
{
	if (!b)
		return ST_EINVAL;
	status_t st = check_new_range(b, base, len, ops);
	if (st != ST_OK)
		return st;

	unsigned i = count_at_or_below(b, base);
	if (overlaps_neighbours(b, i, base, len))
		return ST_EEXIST;

	memmove(&b->ranges[i + 1], &b->ranges[i], (b->n - i) * sizeof(b->ranges[0]));
	b->ranges[i] =
	    (struct bus_range){.base = base, .len = len, .ops = ops, .dev = dev, .name = name};
	b->n++;
	return ST_OK;
}

status_t bus_unregister(struct bus *b, uint64_t base)
{
	if (!b)
		return ST_EINVAL;
	unsigned i = count_at_or_below(b, base);
	if (i == 0 || b->ranges[i - 1].base != base)
		return ST_ENOENT;

	i--;
	memmove(&b->ranges[i], &b->ranges[i + 1], (b->n - i - 1) * sizeof(b->ranges[0]));
	b->n--;
	memset(&b->ranges[b->n], 0, sizeof(b->ranges[0]));
	return ST_OK;
}

/* The range that holds all of [addr, addr+size), or NULL (see bus.h for why
 * a straddling access is not split or handed to a device). */
static bool holds(const struct bus_range *r, uint64_t addr, uint8_t size)
{
	return addr >= r->base && addr - r->base < r->len && size <= r->len - (addr - r->base);
}

/* Guests hit one device many times in a row (a UART's data register, a
 * polled status bit): the range that answered last is tried first. */
static const struct bus_range *claim(struct bus *b, uint64_t addr, uint8_t size)
{
	const struct bus_range *r;

	if (b->last < b->n && holds(&b->ranges[b->last], addr, size))
		return &b->ranges[b->last];
	r = bus_find(b, addr);
	if (!r || !holds(r, addr, size))
		return NULL;
	b->last = (unsigned)(r - b->ranges);
	return r;
}

status_t bus_read(struct bus *b, uint64_t addr, uint8_t size, uint64_t *val)
{
	if (!b || !val || !valid_size(size))
		return ST_EINVAL;

	uint64_t mask = size_mask(size);
	const struct bus_range *r = claim(b, addr, size);
	if (!r) {
		b->unclaimed_reads++;
		*val = mask;
		return ST_OK;
	}

	uint64_t v = 0;
	status_t st = r->ops->read(r->dev, addr - r->base, size, &v);
	*val = st == ST_OK ? (v & mask) : mask;
	return st;
}

status_t bus_write(struct bus *b, uint64_t addr, uint8_t size, uint64_t val)
{
	if (!b || !valid_size(size))
		return ST_EINVAL;

	const struct bus_range *r = claim(b, addr, size);
	if (!r) {
		b->unclaimed_writes++;
		return ST_OK;
	}
	return r->ops->write(r->dev, addr - r->base, size, val & size_mask(size));
}
