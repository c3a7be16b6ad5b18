/* Guest page-table walker: translates a guest-linear address through the
 * guest's own paging structures (which live in guest-physical memory), and
 * fetches instruction bytes at a guest-linear address.
 *
 * Pure logic. The guest is hostile: its tables may point outside its RAM,
 * loop, or set reserved bits, so every table read goes through a
 * bounds-checked accessor and the walk is bounded by the number of levels.
 * Written from Intel SDM vol. 3 ch. 4 (paging) and AMD APM vol. 2 ch. 5.
 *
 * Not modelled: SMAP (needs RFLAGS.AC), protection keys, 5-level paging
 * (ST_ENOTSUP), accessed/dirty updates (the walk never writes guest memory).
 * PAE PDPTEs are read from memory at walk time rather than from the copy the
 * CPU caches at MOV CR3. Guest MAXPHYADDR is GW_MAXPHYADDR. */
#ifndef KEEL_VM_GWALK_H
#define KEEL_VM_GWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"

#define GW_MAXPHYADDR 52
#define GW_FETCH_MAX 15 /* longest x86 instruction */

/* Control-register bits the walk depends on. */
#define GW_CR0_WP (1ull << 16)
#define GW_CR0_PG (1ull << 31)
#define GW_CR4_PSE (1ull << 4)
#define GW_CR4_PAE (1ull << 5)
#define GW_CR4_LA57 (1ull << 12)
#define GW_CR4_SMEP (1ull << 20)
#define GW_EFER_LMA (1ull << 10)
#define GW_EFER_NXE (1ull << 11)

/* #PF error-code bits (SDM 4.7). */
#define GW_PF_P (1u << 0)    /* 0: not present; 1: protection or reserved bit */
#define GW_PF_W (1u << 1)    /* access was a write */
#define GW_PF_U (1u << 2)    /* access was from CPL 3 */
#define GW_PF_RSVD (1u << 3) /* a reserved bit was set in a paging entry */
#define GW_PF_ID (1u << 4)   /* access was an instruction fetch (when NX/SMEP on) */

/* Reads guest-physical [gpa, gpa+len); false if any of it is not guest RAM.
 * map (optional, may be NULL) returns a host pointer to [gpa, gpa+len) when
 * that range is guest RAM, contiguous on the host and stays where it is for
 * the memo's lifetime (so a memo can re-read an entry in one load). */
struct gmem {
	void *ctx;
	bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	const void *(*map)(void *ctx, uint64_t gpa, size_t len);
};

struct gwalk_regs {
	uint64_t cr0, cr3, cr4, efer;
};

enum gwalk_access { GW_READ = 0, GW_WRITE = 1, GW_FETCH = 2 };

struct gwalk_fault {
	uint64_t gva;	     /* linear address that faulted (what CR2 would get) */
	uint32_t error_code; /* GW_PF_* bits the CPU would push */
	bool bad_gpa;	     /* a table or data lay outside guest RAM: stop the VM */
};

/* Translates gva for an access of kind acc (user: CPL 3). All pointers must be
 * non-NULL; *fault is cleared on entry.
 *   ST_OK      *gpa set.
 *   ST_ENOENT  page fault: *fault holds the address and error code to inject.
 *   ST_ERANGE  a paging entry lies outside guest RAM: fault->bad_gpa is set.
 *   ST_EINVAL  non-canonical address in long mode: inject #GP.
 *   ST_ENOTSUP 5-level paging. */
status_t gwalk_translate(const struct gmem *m, const struct gwalk_regs *r, uint64_t gva,
			 enum gwalk_access acc, bool user, uint64_t *gpa,
			 struct gwalk_fault *fault) MUST_CHECK;

/* A memo of one translation, so an exit that keeps coming from the same
 * instruction (or touching the same page) does not walk four levels each
 * time. It records the control registers, the linear page, the kind of
 * access, and a host pointer to every paging entry the walk read with the
 * value it read. It is used only when all of those still match: the walk is
 * a function of exactly those inputs, so a hit gives the walk's answer, and
 * a guest that edits any entry on the path (or loads CR3) misses. Only
 * successful walks through paging are memoized, and only with gmem->map.
 * Zero it to start empty. */
#define GW_MEMO_ENTRIES 4

struct gwalk_memo {
	bool valid;
	struct gwalk_regs r;
	uint64_t va_page; /* linear address >> 12 */
	enum gwalk_access acc;
	bool user;
	uint8_t n, entry_size;
	const void *entry[GW_MEMO_ENTRIES];
	uint64_t value[GW_MEMO_ENTRIES];
	uint64_t gpa_page; /* guest-physical address of that 4 KiB linear page */
};

/* The memo's answer for gva, if it still holds (see above); no walk, no
 * fault. gva must be what gwalk_translate would use: 32-bit outside long
 * mode. False means "walk". */
bool gwalk_memo_lookup(const struct gwalk_memo *memo, const struct gwalk_regs *r, uint64_t gva,
		       enum gwalk_access acc, bool user, uint64_t *gpa);

/* gwalk_translate with a memo (NULL: none). */
status_t gwalk_translate_memo(const struct gmem *m, const struct gwalk_regs *r, uint64_t gva,
			      enum gwalk_access acc, bool user, uint64_t *gpa,
			      struct gwalk_fault *fault, struct gwalk_memo *memo) MUST_CHECK;

/* Fetches up to want (1..GW_FETCH_MAX) instruction bytes at rip_linear into
 * buf, translating each page separately. If a later page cannot be fetched,
 * returns ST_OK with *got < want and *fault describing why (so the caller can
 * inject it if the decoder needed those bytes). If the first byte cannot be
 * fetched, returns what gwalk_translate would, or ST_ERANGE with bad_gpa if
 * the data itself is outside guest RAM. want out of range: ST_EINVAL. */
status_t gwalk_fetch(const struct gmem *m, const struct gwalk_regs *r, uint64_t rip_linear,
		     bool user, uint8_t *buf, size_t want, size_t *got,
		     struct gwalk_fault *fault) MUST_CHECK;

/* gwalk_fetch with a memo (NULL: none) used for every page it translates. */
status_t gwalk_fetch_memo(const struct gmem *m, const struct gwalk_regs *r, uint64_t rip_linear,
			  bool user, uint8_t *buf, size_t want, size_t *got,
			  struct gwalk_fault *fault, struct gwalk_memo *memo) MUST_CHECK;

#endif
