/* Every page the heap owns starts with a header, so heap_free finds it by
 * rounding the pointer down to its page: small objects live in the page of
 * their slab, and a large block's pointer sits just after its header in the
 * first page. */
#include <stdbool.h>

#include "keel/kstring.h"
#include "mm/heap.h"

#define SLAB_MAGIC 0x6b73u  /* "sk" */
#define LARGE_MAGIC 0x6b6cu /* "lk" */

struct heap_slab {
	uint16_t magic;
	uint16_t cls;
	uint16_t nfree;
	uint16_t total;
	void *freelist;
	struct heap_slab *next;
	struct heap_slab *prev;
};

struct heap_large {
	uint16_t magic;
	uint16_t pad[3];
	size_t npages;
};

/* Object offsets keep HEAP_ALIGN alignment after the header. */
#define SLAB_HDR ((sizeof(struct heap_slab) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1))
#define LARGE_HDR ((sizeof(struct heap_large) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1))

_Static_assert(HEAP_MAX_CLASS == HEAP_MIN_CLASS << (HEAP_NCLASSES - 1), "class table");
_Static_assert(SLAB_HDR + HEAP_MAX_CLASS <= HEAP_PAGE, "largest class fits a page");

void heap_init(struct heap *h, const struct heap_pages *pages)
{
	*h = (struct heap){.pages = pages};
}

static size_t class_size(unsigned cls)
{
	return (size_t)HEAP_MIN_CLASS << cls;
}

static unsigned class_of(size_t size)
{
	unsigned cls = 0;

	while (class_size(cls) < size)
		cls++;
	return cls;
}

static void slab_unlink(struct heap *h, struct heap_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void slab_push(struct heap *h, struct heap_slab *s)
{
	s->prev = NULL;
	s->next = h->partial[s->cls];
	if (s->next)
		s->next->prev = s;
	h->partial[s->cls] = s;
}

static struct heap_slab *slab_new(struct heap *h, unsigned cls)
{
	struct heap_slab *s = h->pages->get(h->pages->ctx, 1);
	size_t sz = class_size(cls);
	char *obj;

	if (!s)
		return NULL;
	*s = (struct heap_slab){.magic = SLAB_MAGIC, .cls = (uint16_t)cls};
	s->total = (uint16_t)((HEAP_PAGE - SLAB_HDR) / sz);
	/* Thread the free list from the top down so it hands out low slots first. */
	for (unsigned i = s->total; i-- > 0;) {
		obj = (char *)s + SLAB_HDR + i * sz;
		*(void **)obj = s->freelist;
		s->freelist = obj;
	}
	s->nfree = s->total;
	slab_push(h, s);
	return s;
}

static void *small_alloc(struct heap *h, size_t size)
{
	unsigned cls = class_of(size);
	struct heap_slab *s = h->partial[cls];
	void *p;

	if (!s && !(s = slab_new(h, cls)))
		return NULL;
	p = s->freelist;
	s->freelist = *(void **)p;
	if (--s->nfree == 0)
		slab_unlink(h, s);
	h->in_use += class_size(cls);
	return p;
}

static void *large_alloc(struct heap *h, size_t size)
{
	struct heap_large *l;
	size_t npages;

	if (size > SIZE_MAX - LARGE_HDR - (HEAP_PAGE - 1))
		return NULL;
	npages = (size + LARGE_HDR + HEAP_PAGE - 1) / HEAP_PAGE;
	l = h->pages->get(h->pages->ctx, npages);
	if (!l)
		return NULL;
	*l = (struct heap_large){.magic = LARGE_MAGIC, .npages = npages};
	h->in_use += npages * HEAP_PAGE;
	return (char *)l + LARGE_HDR;
}

void *heap_alloc(struct heap *h, size_t size)
{
	if (!size)
		return NULL;
	if (size <= HEAP_MAX_CLASS)
		return small_alloc(h, size);
	return large_alloc(h, size);
}

void *heap_zalloc(struct heap *h, size_t size)
{
	void *p = heap_alloc(h, size);

	if (p)
		memset(p, 0, size);
	return p;
}

/* Empty slabs go straight back so idle memory returns to the frame pool. */
static void small_free(struct heap *h, struct heap_slab *s, void *p)
{
	*(void **)p = s->freelist;
	s->freelist = p;
	h->in_use -= class_size(s->cls);
	if (s->nfree++ == 0)
		slab_push(h, s);
	if (s->nfree == s->total) {
		slab_unlink(h, s);
		s->magic = 0;
		h->pages->put(h->pages->ctx, s, 1);
	}
}

static bool slab_slot_ok(const struct heap_slab *s, uintptr_t off)
{
	return s->cls < HEAP_NCLASSES && off >= SLAB_HDR &&
	       (off - SLAB_HDR) % class_size(s->cls) == 0 &&
	       (off - SLAB_HDR) / class_size(s->cls) < s->total;
}

void heap_free(struct heap *h, void *p)
{
	uintptr_t off = (uintptr_t)p & (HEAP_PAGE - 1);
	void *page = (char *)p - off;
	struct heap_slab *s = page;
	struct heap_large *l = page;

	if (!p)
		return;
	if (off == LARGE_HDR && l->magic == LARGE_MAGIC) {
		h->in_use -= l->npages * HEAP_PAGE;
		l->magic = 0;
		h->pages->put(h->pages->ctx, l, l->npages);
	} else if (s->magic == SLAB_MAGIC && slab_slot_ok(s, off)) {
		small_free(h, s, p);
	} else {
		h->bad_frees++;
	}
}

size_t heap_in_use(const struct heap *h)
{
	return h->in_use;
}
