/* Keel's own memory: frame allocator over the firmware map, the live page
 * tables (direct map + W^X kernel image + guarded boot stack) and the heap. */
#include "mm/kmem.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "mm/frame.h"
#include "mm/heap.h"
#include "mm/memmap.h"
#include "mm/pt.h"
#include "mm/pt_x86.h"

#define LOW_MEMORY_END 0x100000ull /* BIOS data, EBDA, option ROMs, AP trampoline */
#define FOUR_GIB 0x100000000ull
#define MAX_AVOID (BOOT_MAX_MODULES + 4)
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EDX_PAGE1GB (1u << 26)

extern char _boot_start[], _kernel_start[], _kernel_end[], _text_start[], _text_end[];
extern char _rodata_start[], _rodata_end[], _data_start[], _data_end[];
extern char boot_stack_guard[], boot_stack_bottom[];

static struct mem_region map[BOOT_MAX_MEMMAP];
static size_t map_n;
static struct frame_alloc frames;
static struct pt kernel_pt;
static struct heap heap;
static struct spinlock mem_lock;
static int direct_map_live;
static uint64_t direct_map_size;
static uint64_t trampoline_page;
static uint64_t stacks_made;
static uint64_t bitmap_pa;

#define TRAMPOLINE_FIRST 0x1000ull /* page 0 holds the real-mode IVT */
#define TRAMPOLINE_BELOW 0xA0000ull

void *phys_to_virt(uint64_t pa)
{
	/* Before the switch only the bootstrap identity map (0-4 GiB) exists. */
	return direct_map_live ? (void *)(DIRECT_MAP_BASE + pa) : (void *)pa;
}

uint64_t kernel_virt_to_phys(const void *p)
{
	uint64_t v = (uint64_t)p;

	if (v >= KERNEL_VMA)
		return v - KERNEL_VMA;
	return v - DIRECT_MAP_BASE;
}

uint64_t kmem_direct_map_size(void)
{
	return direct_map_size;
}

static status_t pt_alloc_table(void *ctx, uint64_t *pa)
{
	(void)ctx;
	/* Below 4 GiB: usable before the direct map exists, and by 32-bit AP code. */
	status_t st = frame_alloc(&frames, 1, 1, FOUR_GIB, pa);

	if (st == ST_OK)
		memset(phys_to_virt(*pa), 0, PAGE_SIZE);
	return st;
}

static void pt_free_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (frame_free(&frames, pa, 1) != ST_OK)
		panic("page table frame %#lx freed twice", pa);
}

static void *pt_virt(void *ctx, uint64_t pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static const struct pt_mem kernel_pt_mem = {NULL, pt_alloc_table, pt_free_table, pt_virt};

static void build_memmap(const struct boot_info *bi)
{
	status_t st = ST_OK;

	map_n = memmap_normalize(bi->memmap, bi->memmap_count, map, BOOT_MAX_MEMMAP, &st);
	if (st != ST_OK)
		panic("memory map: more than %d regions after normalization", BOOT_MAX_MEMMAP);
	if (memmap_usable_bytes(map, map_n) == 0)
		panic("memory map: the firmware reports no usable memory");
}

static size_t collect_avoid(const struct boot_info *bi, uint64_t mbi, uint64_t mbi_len,
			    struct mem_range *avoid)
{
	size_t n = 0;

	avoid[n++] = (struct mem_range){0, LOW_MEMORY_END};
	/* .boot runs identity-mapped, so its address is its physical one. */
	avoid[n++] = (struct mem_range){(uint64_t)_boot_start,
					kernel_virt_to_phys(_kernel_end) - (uint64_t)_boot_start};
	avoid[n++] = (struct mem_range){mbi, mbi_len};
	for (uint32_t i = 0; i < bi->module_count; i++)
		avoid[n++] = (struct mem_range){bi->modules[i].start,
						bi->modules[i].end - bi->modules[i].start};
	return n;
}

static void init_frames(const struct boot_info *bi, uint64_t mbi, uint64_t mbi_len)
{
	struct mem_range avoid[MAX_AVOID + 1];
	size_t navoid = collect_avoid(bi, mbi, mbi_len, avoid);
	uint64_t bytes = frame_bitmap_bytes(memmap_top(map, map_n));
	uint64_t at;

	bytes = (bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (memmap_find_free(map, map_n, bytes, PAGE_SIZE, FOUR_GIB, avoid, navoid, &at) != ST_OK)
		panic("memory: no room below 4 GiB for the %lu-byte frame bitmap", bytes);
	if (frame_init(&frames, map, map_n, phys_to_virt(at), bytes) != ST_OK)
		panic("memory: frame allocator refused the memory map");
	avoid[navoid++] = (struct mem_range){at, bytes};
	bitmap_pa = at;
	/* Low memory stays reserved as a whole; the trampoline comes from it. */
	struct mem_range page0 = {0, TRAMPOLINE_FIRST};
	if (memmap_find_free(map, map_n, PAGE_SIZE, PAGE_SIZE, TRAMPOLINE_BELOW, &page0, 1,
			     &trampoline_page) != ST_OK)
		trampoline_page = 0;
	for (size_t i = 0; i < navoid; i++)
		frame_reserve(&frames, avoid[i].base, avoid[i].len);
}

static void map_or_panic(uint64_t va, uint64_t pa, uint64_t size, uint32_t prot, const char *what)
{
	status_t st = pt_map(&kernel_pt, va, pa, size, prot);

	if (st != ST_OK)
		panic("page tables: cannot map %s: %s", what, status_str(st));
}

static void map_kernel_range(char *start, char *end, uint32_t prot, const char *what)
{
	uint64_t va = (uint64_t)start;

	if (end > start)
		map_or_panic(va, kernel_virt_to_phys(start), (uint64_t)(end - start), prot, what);
}

static void build_page_tables(void)
{
	uint32_t r[4];
	const struct pt_format *fmt = &pt_x86_format_2m;
	uint64_t top = memmap_top(map, map_n);

	cpuid(CPUID_EXT_FEATURES, 0, r);
	if (r[3] & CPUID_EDX_PAGE1GB)
		fmt = &pt_x86_format_1g;
	for (size_t i = 0; i < map_n; i++)
		if (map[i].base + map[i].len > top)
			top = map[i].base + map[i].len;
	direct_map_size =
	    top < FOUR_GIB ? FOUR_GIB : (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);
	if (pt_init(&kernel_pt, fmt, &kernel_pt_mem) != ST_OK)
		panic("page tables: no memory for the root table");
	map_or_panic(DIRECT_MAP_BASE, 0, direct_map_size, PT_R | PT_W | PT_GLOBAL, "direct map");
	map_kernel_range(_text_start, _text_end, PT_R | PT_X | PT_GLOBAL, "kernel text");
	map_kernel_range(_rodata_start, _rodata_end, PT_R | PT_GLOBAL, "kernel rodata");
	/* Leave the page under the boot stack unmapped: an overflow faults. */
	map_kernel_range(_data_start, boot_stack_guard, PT_R | PT_W | PT_GLOBAL, "kernel data");
	map_kernel_range(boot_stack_bottom, _data_end, PT_R | PT_W | PT_GLOBAL, "kernel bss");
}

static void *heap_get_pages(void *ctx, size_t n)
{
	uint64_t pa;

	(void)ctx;
	if (frame_alloc(&frames, n, 1, 0, &pa) != ST_OK)
		return NULL;
	return phys_to_virt(pa);
}

static void heap_put_pages(void *ctx, void *p, size_t n)
{
	(void)ctx;
	if (frame_free(&frames, kernel_virt_to_phys(p), n) != ST_OK)
		panic("heap: pages at %p freed twice", p);
}

static const struct heap_pages heap_pages = {NULL, heap_get_pages, heap_put_pages};

void kmem_init(const struct boot_info *bi, uint64_t mbi, uint64_t mbi_len)
{
	build_memmap(bi);
	init_frames(bi, mbi, mbi_len);
	build_page_tables();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr3(kernel_pt.root);
	direct_map_live = 1;
	/* The identity map is gone: reach the bitmap through the direct map. */
	frames.bitmap = phys_to_virt(bitmap_pa);
	heap_init(&heap, &heap_pages);
}

uint64_t kmem_trampoline_page(void)
{
	return trampoline_page;
}

status_t kmem_alloc_stack(uint64_t *top)
{
	uint64_t f = spin_lock_irqsave(&mem_lock);
	uint64_t va = KSTACK_AREA + stacks_made * (KSTACK_SIZE + PAGE_SIZE) + PAGE_SIZE;
	uint64_t pa;
	status_t st = frame_alloc(&frames, KSTACK_SIZE / PAGE_SIZE, 1, 0, &pa);

	if (st == ST_OK) {
		st = pt_map(&kernel_pt, va, pa, KSTACK_SIZE, PT_R | PT_W | PT_GLOBAL);
		if (st != ST_OK && frame_free(&frames, pa, KSTACK_SIZE / PAGE_SIZE) != ST_OK)
			panic("stack frames freed twice");
	}
	if (st == ST_OK) {
		stacks_made++;
		*top = va + KSTACK_SIZE;
	}
	spin_unlock_irqrestore(&mem_lock, f);
	return st;
}

int kmem_is_stack_guard(uint64_t va)
{
	uint64_t boot_guard = (uint64_t)boot_stack_guard;

	if (va >= boot_guard && va < boot_guard + PAGE_SIZE)
		return 1;
	if (va < KSTACK_AREA || va >= KSTACK_AREA + stacks_made * (KSTACK_SIZE + PAGE_SIZE))
		return 0;
	return (va - KSTACK_AREA) % (KSTACK_SIZE + PAGE_SIZE) < PAGE_SIZE;
}

void kmem_stats(struct kmem_stats *s)
{
	uint64_t f = spin_lock_irqsave(&mem_lock);

	memset(s, 0, sizeof(*s));
	s->usable_bytes = memmap_usable_bytes(map, map_n);
	s->free_bytes = frame_free_count(&frames) * PAGE_SIZE;
	s->kernel_bytes = (uint64_t)(_kernel_end - _kernel_start);
	s->heap_in_use = heap_in_use(&heap);
	s->regions = (uint32_t)map_n;
	for (size_t i = 0; i < map_n; i++)
		if (map[i].type != MEM_USABLE)
			s->reserved_bytes += map[i].len;
	spin_unlock_irqrestore(&mem_lock, f);
}

const struct mem_region *kmem_map(size_t *n)
{
	*n = map_n;
	return map;
}

static void report_wx(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	(void)arg;
	(void)prot;
	pr_err("W^X violation: %#lx -> %#lx (%#lx bytes)\n", va, pa, size);
}

uint64_t kmem_check_wx(void)
{
	return pt_count_wx(&kernel_pt, report_wx, NULL);
}

status_t kmem_alloc_frames(uint64_t count, uint64_t *pa)
{
	return kmem_alloc_frames_aligned(count, 1, pa);
}

status_t kmem_alloc_frames_aligned(uint64_t count, uint64_t align, uint64_t *pa)
{
	uint64_t f = spin_lock_irqsave(&mem_lock);
	status_t st = frame_alloc(&frames, count, align, 0, pa);

	spin_unlock_irqrestore(&mem_lock, f);
	if (st == ST_OK)
		memset(phys_to_virt(*pa), 0, count * PAGE_SIZE);
	return st;
}

void kmem_free_frames(uint64_t pa, uint64_t count)
{
	uint64_t f = spin_lock_irqsave(&mem_lock);
	status_t st = frame_free(&frames, pa, count);

	spin_unlock_irqrestore(&mem_lock, f);
	if (st != ST_OK)
		panic("frames %#lx (+%lu) freed but not allocated", pa, count);
}

void *kmalloc(size_t n)
{
	uint64_t f = spin_lock_irqsave(&mem_lock);
	void *p = heap_alloc(&heap, n);

	spin_unlock_irqrestore(&mem_lock, f);
	return p;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);

	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	uint64_t f = spin_lock_irqsave(&mem_lock);

	heap_free(&heap, p);
	spin_unlock_irqrestore(&mem_lock, f);
}
