/* Test-guest memory layout and constants shared by the runtime's assembly
 * and C. Safe to include from .S files: plain #defines without C suffixes. */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* Multiboot (v1) header and loader handshake, multiboot spec 0.6.96 3.1. */
#define RT_MB1_HEADER_MAGIC 0x1BADB002
#define RT_MB1_BOOT_MAGIC 0x2BADB002
#define RT_MB1_FLAG_PAGE_ALIGN 0x1
#define RT_MB1_FLAG_MEMINFO 0x2
#define RT_MB1_FLAGS (RT_MB1_FLAG_PAGE_ALIGN | RT_MB1_FLAG_MEMINFO)

/* GDT selectors (entries laid out in lib/entry.S). */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
#define SEL_TSS 0x20   /* 16-byte long-mode descriptor, filled in by rt.c */
#define SEL_SPARE 0x30 /* free for a guest's own segment (see rt_pm32_hook) */
#define RT_GDT_ENTRIES 7

/* Page tables: 0-4 GiB identity-mapped with 2 MiB pages; the alias is one
 * 4 KiB page at the top of the address space, reached through its own
 * PDPT, PD and page table. It sits within +-2 GiB of the code at 1 MiB, so
 * RIP-relative operands can reach it; every address below 4 GiB is taken by
 * the identity map. rt_map_alias() points it at a physical page. */
#define RT_IDENTITY_END 0x100000000	   /* first unmapped address */
#define RT_ALIAS_VA 0xFFFFFFFFC0000000	   /* PML4 511, PDPT 511, PD 0, PT 0 */
#define RT_NONCANONICAL 0x0000800000000000 /* lowest non-canonical address */

#define RT_STACK_SIZE 0x4000
#define RT_IST_STACK_SIZE 0x1000 /* #DF, NMI and #MC run on their own stack */

#define RT_COM1 0x3F8

#endif
