/* Guest RAM in 2 MiB chunks, mapped by the common page-table builder. */
#include "vm/guest_ram.h"

#include "keel/kstring.h"

#define CHUNK_FRAMES (GRAM_CHUNK / GRAM_PAGE)

static status_t table_alloc(void *ctx, uint64_t *pa)
{
	struct guest_ram *g = ctx;
	status_t st = g->alloc->alloc(g->alloc->ctx, 1, 1, pa);

	if (st == ST_OK)
		g->table_pages++;
	return st;
}

static void table_free(void *ctx, uint64_t pa)
{
	struct guest_ram *g = ctx;

	g->alloc->free(g->alloc->ctx, pa, 1);
	g->table_pages--;
}

static void *table_virt(void *ctx, uint64_t pa)
{
	struct guest_ram *g = ctx;

	return g->alloc->virt(g->alloc->ctx, pa);
}

/* Bytes of chunk i that are RAM (the last one may be partial). */
static uint64_t chunk_len(const struct guest_ram *g, unsigned i)
{
	uint64_t start = (uint64_t)i * GRAM_CHUNK;
	uint64_t left = g->size - start;

	return left < GRAM_CHUNK ? left : GRAM_CHUNK;
}

static uint64_t low_len(const struct guest_ram *g)
{
	return g->size < GRAM_LOW_MAX ? g->size : GRAM_LOW_MAX;
}

/* Guest-physical address of the byte at offset off into RAM. */
static uint64_t offset_gpa(uint64_t off)
{
	return off < GRAM_LOW_MAX ? off : off - GRAM_LOW_MAX + GRAM_HIGH_BASE;
}

/* The offset into RAM of [gpa, gpa+len) when all of it lies in one RAM
 * range. Written so that no sum can wrap: gpa and len are the guest's. */
static bool ram_offset(const struct guest_ram *g, uint64_t gpa, uint64_t len, uint64_t *off)
{
	uint64_t low = low_len(g), base = 0, n = low, skip = 0;

	if (gpa >= GRAM_HIGH_BASE) {
		base = GRAM_HIGH_BASE;
		n = g->size - low;
		skip = low;
	}
	if (len == 0 || gpa - base >= n || len > n - (gpa - base))
		return false;
	*off = skip + (gpa - base);
	return true;
}

/* Host pointer to the byte at offset off into RAM (off < size). */
static uint8_t *host_at(const struct guest_ram *g, uint64_t off)
{
	uint8_t *chunk = g->alloc->virt(g->alloc->ctx, g->chunk_pa[off / GRAM_CHUNK]);

	return chunk + off % GRAM_CHUNK;
}

static status_t add_chunk(struct guest_ram *g, const struct pt_format *fmt, uint32_t prot)
{
	unsigned i = g->nchunks;
	uint64_t len = chunk_len(g, i), pa;
	/* A full chunk is 2 MiB aligned so the tables can use one 2 MiB page. */
	uint64_t align = len == GRAM_CHUNK && fmt->max_leaf_level >= 2 ? CHUNK_FRAMES : 1;
	status_t st = g->alloc->alloc(g->alloc->ctx, len / GRAM_PAGE, align, &pa);

	if (st != ST_OK)
		return st;
	st = pt_map(&g->npt, offset_gpa((uint64_t)i * GRAM_CHUNK), pa, len, prot);
	if (st != ST_OK) {
		g->alloc->free(g->alloc->ctx, pa, len / GRAM_PAGE);
		return st;
	}
	g->chunk_pa[i] = pa;
	g->nchunks++;
	return ST_OK;
}

/* The chunk table is sized for this VM, so a small VM does not carry the
 * table of the largest one, and it is counted in the footprint. */
static status_t alloc_chunk_table(struct guest_ram *g, uint64_t size)
{
	uint64_t chunks = (size + GRAM_CHUNK - 1) / GRAM_CHUNK;
	uint64_t bytes = chunks * sizeof(g->chunk_pa[0]);
	uint64_t frames = (bytes + GRAM_PAGE - 1) / GRAM_PAGE;
	status_t st = g->alloc->alloc(g->alloc->ctx, frames, 1, &g->chunk_table_pa);

	if (st != ST_OK)
		return st;
	g->chunk_table_frames = frames;
	g->chunk_pa = g->alloc->virt(g->alloc->ctx, g->chunk_table_pa);
	return ST_OK;
}

status_t gram_init(struct guest_ram *g, uint64_t size, const struct pt_format *fmt, uint32_t prot,
		   const struct gram_alloc *a)
{
	status_t st;

	memset(g, 0, sizeof(*g));
	if (!fmt || !a || !a->alloc || !a->free || !a->virt || size == 0 || size > GRAM_MAX ||
	    size % GRAM_PAGE)
		return ST_EINVAL;
	g->alloc = a;
	g->npt_mem = (struct pt_mem){g, table_alloc, table_free, table_virt};
	st = alloc_chunk_table(g, size);
	if (st != ST_OK)
		return st;
	st = pt_init(&g->npt, fmt, &g->npt_mem);
	if (st != ST_OK) {
		gram_destroy(g);
		return st;
	}
	g->size = size;
	while ((uint64_t)g->nchunks * GRAM_CHUNK < size) {
		st = add_chunk(g, fmt, prot);
		if (st != ST_OK) {
			gram_destroy(g);
			return st;
		}
	}
	return ST_OK;
}

void gram_destroy(struct guest_ram *g)
{
	for (unsigned i = 0; i < g->nchunks; i++)
		g->alloc->free(g->alloc->ctx, g->chunk_pa[i], chunk_len(g, i) / GRAM_PAGE);
	if (g->chunk_table_frames)
		g->alloc->free(g->alloc->ctx, g->chunk_table_pa, g->chunk_table_frames);
	if (g->npt.fmt)
		pt_destroy(&g->npt);
	g->chunk_pa = NULL;
	g->chunk_table_frames = 0;
	g->nchunks = 0;
	g->size = 0;
	g->npt.fmt = NULL;
}

uint64_t gram_root(const struct guest_ram *g)
{
	return g->npt.root;
}

uint64_t gram_footprint(const struct guest_ram *g)
{
	uint64_t ram = 0;

	for (unsigned i = 0; i < g->nchunks; i++)
		ram += chunk_len(g, i);
	return ram + (g->table_pages + g->chunk_table_frames) * GRAM_PAGE;
}

unsigned gram_layout(uint64_t size, struct gram_range out[GRAM_RANGES_MAX])
{
	uint64_t low = size < GRAM_LOW_MAX ? size : GRAM_LOW_MAX;
	unsigned n = 0;

	if (low)
		out[n++] = (struct gram_range){0, low};
	if (size > low)
		out[n++] = (struct gram_range){GRAM_HIGH_BASE, size - low};
	return n;
}

unsigned gram_ranges(const struct guest_ram *g, struct gram_range out[GRAM_RANGES_MAX])
{
	return gram_layout(g->size, out);
}

bool gram_contains(const struct guest_ram *g, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	return ram_offset(g, gpa, len, &off);
}

void *gram_ptr(const struct guest_ram *g, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (!ram_offset(g, gpa, len, &off) || len > GRAM_CHUNK - off % GRAM_CHUNK)
		return NULL;
	return host_at(g, off);
}

/* Calls fn on each host-contiguous piece of the len bytes at offset off into
 * RAM, which the caller checked lie in one RAM range. */
static void for_pieces(const struct guest_ram *g, uint64_t off, size_t len,
		       void (*fn)(void *host, size_t done, size_t n, void *arg), void *arg)
{
	size_t done = 0;

	while (done < len) {
		uint64_t at = off + done;
		size_t n = (size_t)(GRAM_CHUNK - at % GRAM_CHUNK);

		if (n > len - done)
			n = len - done;
		fn(host_at(g, at), done, n, arg);
		done += n;
	}
}

static void piece_read(void *host, size_t off, size_t n, void *arg)
{
	memcpy((uint8_t *)arg + off, host, n);
}

static void piece_write(void *host, size_t off, size_t n, void *arg)
{
	memcpy(host, (const uint8_t *)arg + off, n);
}

static void piece_zero(void *host, size_t off, size_t n, void *arg)
{
	(void)off;
	(void)arg;
	memset(host, 0, n);
}

bool gram_read(const struct guest_ram *g, uint64_t gpa, void *buf, size_t len)
{
	const void *p = gram_ptr(g, gpa, len);
	uint64_t off;

	if (p) { /* the common case: inside one chunk */
		memcpy(buf, p, len);
		return true;
	}
	if (!ram_offset(g, gpa, len, &off))
		return false;
	for_pieces(g, off, len, piece_read, buf);
	return true;
}

bool gram_write(struct guest_ram *g, uint64_t gpa, const void *buf, size_t len)
{
	uint64_t off;

	if (!ram_offset(g, gpa, len, &off))
		return false;
	for_pieces(g, off, len, piece_write, (void *)buf);
	return true;
}

bool gram_zero(struct guest_ram *g, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (!ram_offset(g, gpa, len, &off))
		return false;
	for_pieces(g, off, (size_t)len, piece_zero, NULL);
	return true;
}
