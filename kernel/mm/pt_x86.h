/* Entry formats for x86-64 4-level paging (Intel SDM Vol. 3A 4.5, AMD APM
 * Vol. 2 5.3). Non-leaf entries are P|RW|US, so leaves alone decide access. */
#ifndef KEEL_PT_X86_H
#define KEEL_PT_X86_H

#include "mm/pt.h"

#define X86_PTE_P (1ull << 0)
#define X86_PTE_RW (1ull << 1)
#define X86_PTE_US (1ull << 2)
#define X86_PTE_PWT (1ull << 3)
#define X86_PTE_PCD (1ull << 4)
#define X86_PTE_PS (1ull << 7) /* levels 2/3 only; bit 7 is PAT in a 4 KiB entry */
#define X86_PTE_G (1ull << 8)
#define X86_PTE_PAT_LARGE (1ull << 12) /* PAT in a 2 MiB / 1 GiB entry */
#define X86_PTE_NX (1ull << 63)

#define X86_PTE_ADDR_4K 0x000FFFFFFFFFF000ull /* bits 51:12 */
#define X86_PTE_ADDR_2M 0x000FFFFFFFE00000ull /* bits 51:21 */
#define X86_PTE_ADDR_1G 0x000FFFFFC0000000ull /* bits 51:30 */

extern const struct pt_format pt_x86_format_2m; /* 4 KiB and 2 MiB leaves */
extern const struct pt_format pt_x86_format_1g; /* also 1 GiB leaves (CPUID Page1GB) */

#endif
