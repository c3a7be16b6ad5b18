/* Small kernel heap over a page provider: power-of-two size classes of
 * 16..2048 bytes carved from single pages, whole pages above that. Pure
 * logic; no locking (the caller locks). */
#ifndef KEEL_MM_HEAP_H
#define KEEL_MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_PAGE 4096u
#define HEAP_ALIGN 16u
#define HEAP_MIN_CLASS 16u
#define HEAP_MAX_CLASS 2048u
#define HEAP_NCLASSES 8

/* Pages handed out by `get` must be HEAP_PAGE-aligned; NULL when exhausted. */
struct heap_pages {
	void *ctx;
	void *(*get)(void *ctx, size_t npages);
	void (*put)(void *ctx, void *p, size_t npages);
};

struct heap_slab;

struct heap {
	const struct heap_pages *pages;
	struct heap_slab *partial[HEAP_NCLASSES]; /* slabs with at least one free slot */
	size_t in_use;				  /* bytes handed out, rounded to class/pages */
	size_t bad_frees; /* heap_free calls on pointers the heap never gave out */
};

void heap_init(struct heap *h, const struct heap_pages *pages);

/* 16-byte aligned; NULL for size 0 or when the page provider is exhausted. */
void *heap_alloc(struct heap *h, size_t size);
void *heap_zalloc(struct heap *h, size_t size);

/* NULL is ignored. A pointer without a heap header is counted in bad_frees
 * and otherwise left alone. */
void heap_free(struct heap *h, void *p);

size_t heap_in_use(const struct heap *h);

#endif
