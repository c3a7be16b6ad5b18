/* Keel's address space: the kernel image in the top 2 GiB, a direct map of
 * physical memory at DIRECT_MAP_BASE, and the frame allocator and heap that
 * live on it. Hardware-facing glue; the logic is in memmap/frame/pt/heap. */
#ifndef KEEL_KMEM_H
#define KEEL_KMEM_H

#include <stddef.h>
#include <stdint.h>

#include "keel/boot_info.h"
#include "keel/status.h"

#define KERNEL_VMA 0xFFFFFFFF80000000ull
#define DIRECT_MAP_BASE 0xFFFF800000000000ull
#define PAGE_SIZE 4096ull

void *phys_to_virt(uint64_t pa);
uint64_t kernel_virt_to_phys(const void *p);

/* Sets up frames, page tables and the heap; panics with a reason on failure. */
void kmem_init(const struct boot_info *bi, uint64_t mbi_phys, uint64_t mbi_len);
uint64_t kmem_direct_map_size(void);

struct kmem_stats {
	uint64_t usable_bytes; /* what the firmware map calls usable */
	uint64_t free_bytes;   /* frames not handed out */
	uint64_t kernel_bytes; /* Keel's image */
	uint64_t reserved_bytes;
	size_t heap_in_use;
	uint32_t regions;
};
void kmem_stats(struct kmem_stats *s);
const struct mem_region *kmem_map(size_t *n);
/* Writable+executable leaves in the live tables (0 is the only good answer). */
uint64_t kmem_check_wx(void);

/* A page below 1 MiB for the AP start code, 0 if the firmware left none. */
uint64_t kmem_trampoline_page(void);
/* A fresh KSTACK_SIZE stack in the stack area, with an unmapped guard page
 * under it; *top is the initial stack pointer. */
#define KSTACK_SIZE (16 * 1024ull)
#define KSTACK_AREA 0xFFFFFE0000000000ull
MUST_CHECK status_t kmem_alloc_stack(uint64_t *top);
/* Whether va lies in the guard page under one of Keel's stacks. */
int kmem_is_stack_guard(uint64_t va);

/* `count` zeroed, physically contiguous 4 KiB frames (page-aligned). */
MUST_CHECK status_t kmem_alloc_frames(uint64_t count, uint64_t *pa);
/* The same, the first frame aligned to `align` frames (a power of two). */
MUST_CHECK status_t kmem_alloc_frames_aligned(uint64_t count, uint64_t align, uint64_t *pa);
/* Gives back frames from kmem_alloc_frames*; a bad free is a Keel bug: panic. */
void kmem_free_frames(uint64_t pa, uint64_t count);

void *kmalloc(size_t n);
void *kzalloc(size_t n);
void kfree(void *p);

#endif
