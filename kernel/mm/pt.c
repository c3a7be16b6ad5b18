/* Format-independent 4-level page-table builder. Internally a virtual
 * address is handled as its low 48 bits ("lin"); the low half of the
 * canonical space is [0, 2^47) and the high half [2^47, 2^48). */
#include <stddef.h>

#include "mm/pt.h"

#define PT_PAGE_SHIFT 12
#define PT_PAGE_MASK (PT_TABLE_SIZE - 1)
#define PT_INDEX_BITS 9
#define PT_INDEX_MASK (PT_ENTRIES - 1)
#define PT_VA_SPACE (1ull << 48)
#define PT_VA_MASK (PT_VA_SPACE - 1)
#define PT_VA_HALF (1ull << 47)
#define PT_VA_HIGH_START (~(PT_VA_HALF - 1)) /* first canonical high-half va */
#define PT_PA_LIMIT (1ull << 52)
#define PT_EMPTY 0ull
#define PT_ANDED (PT_R | PT_W | PT_X | PT_USER) /* must be granted at every level */

static uint64_t *table_at(const struct pt *pt, uint64_t pa)
{
	return pt->mem->virt(pt->mem->ctx, pa);
}

static uint64_t level_size(int level)
{
	return 1ull << (PT_PAGE_SHIFT + PT_INDEX_BITS * (level - 1));
}

static unsigned index_of(uint64_t lin, int level)
{
	return (lin >> (PT_PAGE_SHIFT + PT_INDEX_BITS * (level - 1))) & PT_INDEX_MASK;
}

/* Start of the next level-sized block after the one holding lin. */
static uint64_t next_block(uint64_t lin, int level)
{
	return (lin & ~(level_size(level) - 1)) + level_size(level);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static bool leaf_entry(const struct pt *pt, uint64_t e, int level)
{
	return level == 1 || pt->fmt->is_leaf(e, level);
}

static uint64_t canonical(uint64_t lin)
{
	return (lin & PT_VA_HALF) ? (lin | ~PT_VA_MASK) : lin;
}

/* Effective permissions after descending through an entry granting p. */
static uint32_t inherit(uint32_t acc, uint32_t p)
{
	return (acc & p & PT_ANDED) | ((acc | p) & PT_UC);
}

static bool va_canonical(uint64_t va)
{
	return va < PT_VA_HALF || va >= PT_VA_HIGH_START;
}

/* Validates a va range and returns its 48-bit start. */
static status_t check_range(uint64_t va, uint64_t size, uint64_t *lin)
{
	if (!size || ((va | size) & PT_PAGE_MASK) || !va_canonical(va))
		return ST_EINVAL;
	uint64_t start = va & PT_VA_MASK;
	uint64_t limit = va < PT_VA_HALF ? PT_VA_HALF : PT_VA_SPACE;

	if (size > limit - start)
		return ST_EINVAL;
	*lin = start;
	return ST_OK;
}

static status_t check_map_args(const struct pt *pt, uint64_t pa, uint64_t size, uint32_t prot)
{
	if ((pa & PT_PAGE_MASK) || (prot & ~PT_PROT_ALL))
		return ST_EINVAL;
	if (!pt->fmt->present(pt->fmt->leaf(0, prot, 1)))
		return ST_EINVAL;
	if (pa >= PT_PA_LIMIT || size > PT_PA_LIMIT - pa)
		return ST_ERANGE;
	return ST_OK;
}

static bool table_empty(const struct pt *pt, uint64_t table_pa)
{
	const uint64_t *t = table_at(pt, table_pa);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (pt->fmt->present(t[i]))
			return false;
	return true;
}

status_t pt_init(struct pt *pt, const struct pt_format *f, const struct pt_mem *m)
{
	if (!pt || !f || !m || !f->table || !f->leaf || !f->present || !f->is_leaf || !f->addr ||
	    !f->prot || !m->alloc || !m->free || !m->virt)
		return ST_EINVAL;
	if (f->max_leaf_level < 1 || f->max_leaf_level >= PT_LEVELS)
		return ST_EINVAL;
	pt->fmt = f;
	pt->mem = m;
	pt->root = 0;
	status_t st = m->alloc(m->ctx, &pt->root);

	if (st != ST_OK)
		pt->fmt = NULL; /* nothing to destroy */
	return st;
}

/* ST_EEXIST if anything in [lin, end) under this table is mapped. */
static status_t check_free(const struct pt *pt, uint64_t table_pa, int level, uint64_t lin,
			   uint64_t end)
{
	const uint64_t *t = table_at(pt, table_pa);

	for (; lin < end; lin = next_block(lin, level)) {
		uint64_t e = t[index_of(lin, level)];

		if (!pt->fmt->present(e))
			continue;
		if (leaf_entry(pt, e, level))
			return ST_EEXIST;
		status_t st = check_free(pt, pt->fmt->addr(e, level), level - 1, lin,
					 min_u64(end, next_block(lin, level)));
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* Clears every leaf in [lin, end) (each fully inside it) and frees tables
 * left empty. Needs no memory. */
static void clear_range(const struct pt *pt, uint64_t table_pa, int level, uint64_t lin,
			uint64_t end)
{
	uint64_t *t = table_at(pt, table_pa);

	for (; lin < end; lin = next_block(lin, level)) {
		uint64_t *slot = &t[index_of(lin, level)];

		if (!pt->fmt->present(*slot))
			continue;
		if (leaf_entry(pt, *slot, level)) {
			*slot = PT_EMPTY;
			continue;
		}
		uint64_t child = pt->fmt->addr(*slot, level);

		clear_range(pt, child, level - 1, lin, min_u64(end, next_block(lin, level)));
		if (table_empty(pt, child)) {
			*slot = PT_EMPTY;
			pt->mem->free(pt->mem->ctx, child);
		}
	}
}

/* The table a non-leaf slot points at, allocating it if the slot is empty. */
static status_t child_table(const struct pt *pt, uint64_t *slot, int level, uint64_t *child)
{
	if (pt->fmt->present(*slot)) {
		*child = pt->fmt->addr(*slot, level);
		return ST_OK;
	}
	status_t st = pt->mem->alloc(pt->mem->ctx, child);

	if (st == ST_OK)
		*slot = pt->fmt->table(*child);
	return st;
}

static bool leaf_fits(const struct pt *pt, int level, uint64_t lin, uint64_t pa, uint64_t end)
{
	uint64_t sz = level_size(level);

	return level <= pt->fmt->max_leaf_level && !((lin | pa) & (sz - 1)) && end - lin >= sz;
}

/* Maps [lin, end) -> pa under this table; the range is known to be free. */
static status_t map_range(const struct pt *pt, uint64_t table_pa, int level, uint64_t lin,
			  uint64_t end, uint64_t pa, uint32_t prot)
{
	uint64_t *t = table_at(pt, table_pa);

	while (lin < end) {
		uint64_t stop = min_u64(end, next_block(lin, level));
		uint64_t *slot = &t[index_of(lin, level)];
		uint64_t child;

		if (leaf_fits(pt, level, lin, pa, end)) {
			*slot = pt->fmt->leaf(pa, prot, level);
		} else {
			status_t st = child_table(pt, slot, level, &child);

			if (st == ST_OK)
				st = map_range(pt, child, level - 1, lin, stop, pa, prot);
			if (st != ST_OK)
				return st;
		}
		pa += stop - lin;
		lin = stop;
	}
	return ST_OK;
}

status_t pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	uint64_t lin;
	status_t st = check_range(va, size, &lin);

	if (st == ST_OK)
		st = check_map_args(pt, pa, size, prot);
	if (st == ST_OK)
		st = check_free(pt, pt->root, PT_LEVELS, lin, lin + size);
	if (st != ST_OK)
		return st;
	st = map_range(pt, pt->root, PT_LEVELS, lin, lin + size, pa, prot);
	if (st != ST_OK)
		clear_range(pt, pt->root, PT_LEVELS, lin, lin + size); /* was free before */
	return st;
}

/* Replaces the large leaf in *slot by a table of next-smaller leaves with the
 * same translation and permissions. */
static status_t split_leaf(const struct pt *pt, uint64_t *slot, int level)
{
	uint64_t e = *slot, table_pa;
	status_t st = pt->mem->alloc(pt->mem->ctx, &table_pa);

	if (st != ST_OK)
		return st;
	uint64_t *t = table_at(pt, table_pa);
	uint64_t base = pt->fmt->addr(e, level);
	uint32_t prot = pt->fmt->prot(e, level);
	uint64_t sub = level_size(level - 1);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = pt->fmt->leaf(base + i * sub, prot, level - 1);
	*slot = pt->fmt->table(table_pa);
	return ST_OK;
}

/* Splits large pages until no leaf straddles lin. */
static status_t split_at(const struct pt *pt, uint64_t lin)
{
	uint64_t table_pa = pt->root;

	if (lin >= PT_VA_SPACE)
		return ST_OK;
	for (int level = PT_LEVELS; level > 1; level--) {
		uint64_t *slot = &table_at(pt, table_pa)[index_of(lin, level)];

		if (!pt->fmt->present(*slot) || !(lin & (level_size(level) - 1)))
			return ST_OK;
		if (pt->fmt->is_leaf(*slot, level)) {
			status_t st = split_leaf(pt, slot, level);

			if (st != ST_OK)
				return st;
		}
		table_pa = pt->fmt->addr(*slot, level);
	}
	return ST_OK;
}

status_t pt_unmap(struct pt *pt, uint64_t va, uint64_t size)
{
	uint64_t lin;
	status_t st = check_range(va, size, &lin);

	if (st == ST_OK)
		st = split_at(pt, lin);
	if (st == ST_OK)
		st = split_at(pt, lin + size);
	if (st != ST_OK)
		return st;
	clear_range(pt, pt->root, PT_LEVELS, lin, lin + size);
	return ST_OK;
}

bool pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pa, uint32_t *prot, uint64_t *page_size)
{
	uint64_t table_pa = pt->root, lin = va & PT_VA_MASK;
	uint32_t acc = PT_ANDED;

	if (!va_canonical(va))
		return false;
	for (int level = PT_LEVELS; level >= 1; level--) {
		uint64_t e = table_at(pt, table_pa)[index_of(lin, level)];

		if (!pt->fmt->present(e))
			return false;
		uint32_t p = pt->fmt->prot(e, level);

		acc = inherit(acc, p);
		if (leaf_entry(pt, e, level)) {
			uint64_t sz = level_size(level);

			if (pa)
				*pa = pt->fmt->addr(e, level) + (lin & (sz - 1));
			if (prot)
				*prot = acc | (p & PT_GLOBAL);
			if (page_size)
				*page_size = sz;
			return true;
		}
		table_pa = pt->fmt->addr(e, level);
	}
	return false;
}

static void walk_table(const struct pt *pt, uint64_t table_pa, int level, uint64_t base,
		       uint32_t acc, pt_walk_fn fn, void *arg)
{
	const uint64_t *t = table_at(pt, table_pa);
	uint64_t sz = level_size(level);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = t[i], lin = base + i * sz;

		if (!pt->fmt->present(e))
			continue;
		uint32_t p = pt->fmt->prot(e, level);
		uint32_t eff = inherit(acc, p);

		if (leaf_entry(pt, e, level))
			fn(arg, canonical(lin), pt->fmt->addr(e, level), sz, eff | (p & PT_GLOBAL));
		else
			walk_table(pt, pt->fmt->addr(e, level), level - 1, lin, eff, fn, arg);
	}
}

void pt_walk(const struct pt *pt, pt_walk_fn fn, void *arg)
{
	walk_table(pt, pt->root, PT_LEVELS, 0, PT_ANDED, fn, arg);
}

struct wx_count {
	pt_walk_fn report;
	void *arg;
	uint64_t n;
};

static void count_wx_leaf(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	struct wx_count *c = arg;

	if ((prot & (PT_W | PT_X)) != (PT_W | PT_X))
		return;
	c->n++;
	if (c->report)
		c->report(c->arg, va, pa, size, prot);
}

uint64_t pt_count_wx(const struct pt *pt, pt_walk_fn report, void *arg)
{
	struct wx_count c = {report, arg, 0};

	pt_walk(pt, count_wx_leaf, &c);
	return c.n;
}

static void free_table(const struct pt *pt, uint64_t table_pa, int level)
{
	const uint64_t *t = table_at(pt, table_pa);

	for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++)
		if (pt->fmt->present(t[i]) && !leaf_entry(pt, t[i], level))
			free_table(pt, pt->fmt->addr(t[i], level), level - 1);
	pt->mem->free(pt->mem->ctx, table_pa);
}

void pt_destroy(struct pt *pt)
{
	if (!pt->fmt)
		return;
	free_table(pt, pt->root, PT_LEVELS);
	pt->fmt = NULL;
	pt->root = 0;
}
