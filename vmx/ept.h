/* The EPT entry format (Intel SDM vol. 3, 29.3.2; 28.2.2 in older editions)
 * as a struct pt_format, so kernel/mm/pt.c builds EPT tables, plus the EPT
 * pointer, an entry checker that explains EPT misconfigurations, and the
 * EPT-violation exit qualification. Pure logic.
 *
 * What the formats write:
 * - non-leaf entries: R|W|X and the next table's address, so leaves alone
 *   decide access;
 * - leaves: R, W, X from PT_R/PT_W/PT_X, memory type WB in bits 5:3, or UC
 *   when PT_UC is set; bit 7 on 2 MiB and 1 GiB leaves.
 * - ignore-PAT (bit 6) is never set: the guest's PAT and PCD/PWT combine
 *   with the EPT type exactly as they combine with the MTRR type on bare
 *   metal (SDM 29.3.7.2), so a guest that maps its own memory UC or WC
 *   gets what it asked for, and a WB leaf costs nothing when it does not.
 * - a protection without PT_R gives an empty (not present) leaf, which
 *   pt_map refuses with ST_EINVAL: W without R is an EPT misconfiguration
 *   on every CPU (SDM 29.3.3.1), and X without R is one on CPUs without
 *   execute-only support, so these formats never produce either.
 * - PT_USER and PT_GLOBAL mean nothing to EPT and are ignored, so the
 *   common guest-RAM code may pass the same protection to any backend.
 * Accessed/dirty bits (8, 9), set by the CPU when the EPTP enables them, are
 * ignored when decoding.
 *
 * Reminder (PLATFORM.md, DESIGN.md 3): on an EPT violation neither the
 * VM-exit instruction length nor any "next RIP" is defined; MMIO emulation
 * takes the length from the instruction decoder. */
#ifndef KEEL_VMX_EPT_H
#define KEEL_VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/status.h"
#include "mm/pt.h"
#include "vmx/vmcs.h"

#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2) /* supervisor-mode execute with mode-based control */
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MEMTYPE_SHIFT 3 /* leaves only */
#define EPT_MEMTYPE_MASK (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6) /* leaves only */
#define EPT_LARGE (1ull << 7)	   /* 2 MiB / 1 GiB leaf; reserved in a PML4E */
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)	/* leaves only */
#define EPT_USER_X (1ull << 10) /* user-mode execute with mode-based control */
#define EPT_SUPPRESS_VE (1ull << 63)

#define EPT_ADDR_4K 0x000FFFFFFFFFF000ull /* bits 51:12: tables and 4 KiB pages */
#define EPT_ADDR_2M 0x000FFFFFFFE00000ull /* bits 51:21 */
#define EPT_ADDR_1G 0x000FFFFFC0000000ull /* bits 51:30 */

#define EPT_LEVEL_4K 1
#define EPT_LEVEL_2M 2
#define EPT_LEVEL_1G 3
#define EPT_LEVEL_PML4 4

/* Formats by largest leaf: 4 KiB only, up to 2 MiB (VMX_EPT_CAP_2M), up to
 * 1 GiB (VMX_EPT_CAP_1G). */
extern const struct pt_format ept_format_4k;
extern const struct pt_format ept_format_2m;
extern const struct pt_format ept_format_1g;

/* The largest format the CPU's IA32_VMX_EPT_VPID_CAP allows. */
const struct pt_format *ept_format_for(uint64_t ept_vpid_cap);

/* ---- EPT pointer (SDM 25.6.11) ---- */
#define EPTP_MEMTYPE_MASK 7ull /* of the paging structures */
#define EPTP_WALK_SHIFT 3      /* page-walk length minus 1, bits 5:3 */
#define EPTP_WALK_MASK (7ull << EPTP_WALK_SHIFT)
#define EPTP_WALK_4 (3ull << EPTP_WALK_SHIFT)
#define EPTP_WALK_5 (4ull << EPTP_WALK_SHIFT)
#define EPTP_AD (1ull << 6)  /* enable accessed/dirty flags */
#define EPTP_SSS (1ull << 7) /* supervisor shadow-stack enforcement */
#define EPTP_RESERVED_11_8 0xF00ull
#define EPTP_ADDR_MASK EPT_ADDR_4K

/* EPTP for a 4-level table at pml4_pa with WB paging structures (vmx_usable
 * has checked the CPU allows both), accessed/dirty flags if `ad` (needs
 * VMX_EPT_CAP_AD). ST_EINVAL for an unaligned or beyond-52-bit address. */
status_t ept_make_eptp(uint64_t pml4_pa, bool ad, uint64_t *eptp) MUST_CHECK;

/* Why VM entry would refuse this EPTP on a CPU with this capability MSR
 * and MAXPHYADDR (a VM-instruction error 7 suspect), or NULL if fine. */
const char *ept_eptp_problem(uint64_t eptp, uint64_t ept_vpid_cap, unsigned maxphyaddr);

/* Why this present entry at `level` (1-4) would cause an EPT
 * misconfiguration (SDM 29.3.3.1), or NULL: W without R, X without R when
 * execute-only is unsupported, reserved bits (address bits at or above
 * MAXPHYADDR, bits 7:3 of a PML4E, 6:3 of a non-leaf entry, the low address
 * bits of a large leaf, bit 7 of a PDPTE without 1 GiB support), or a
 * reserved memory type (2, 3, 7). An entry with none of R/W/X is not
 * present and never a misconfiguration. */
const char *ept_entry_problem(uint64_t e, int level, uint64_t ept_vpid_cap, unsigned maxphyaddr);

/* ---- EPT violation exit qualification (SDM 28.2.1, table 28-7) ---- */
struct ept_violation {
	bool read, write, fetch;	     /* the access that faulted */
	bool readable, writable, executable; /* what the EPT entries allowed */
	bool gla_valid;			     /* guest-linear address field valid */
	bool walk;	     /* not a plain translated access: the guest's own paging-
			      * structure walk touched the address, or no linear address
			      * was involved (e.g. PAE PDPTE loads); not emulatable as an
			      * instruction's data access */
	bool nmi_unblocking; /* re-block NMIs before re-entering */
};

void ept_violation_decode(uint64_t qual, struct ept_violation *v);

#endif
