/* Guest page-table walker (see gwalk.h). One generic loop walks every paging
 * mode; small per-mode helpers describe index widths, entry sizes, leaf rules
 * and reserved bits. The loop runs at most one iteration per level, so a
 * guest table that points at itself cannot make the walk loop. */
#include "vm/gwalk.h"
#include "keel/kstring.h"

/* Paging-structure entry bits (same positions in every mode that has them). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define ADDR_32_MASK 0xFFFFFFFFull

/* Mask of bits [hi:lo], inclusive; empty when hi < lo. */
#define BITS(hi, lo) ((hi) < (lo) ? 0ull : ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1)))

/* Physical-address bits an 8-byte entry or CR3 can hold: [MAXPHYADDR-1:12]. */
#define PHYS_PAGE_MASK BITS(GW_MAXPHYADDR - 1, PAGE_SHIFT)
/* Reserved physical-address bits [51:MAXPHYADDR] (empty when it is 52). */
#define PHYS_RSVD_51 BITS(51, GW_MAXPHYADDR)
/* PAE (not long mode) reserves everything above MAXPHYADDR up to bit 62. */
#define PHYS_RSVD_62 BITS(62, GW_MAXPHYADDR)

/* 32-bit paging 4 MiB page: bits 31:22 address, PSE-36 bits 20:13 hold
 * physical bits 39:32, bit 21 is reserved. */
#define PDE32_4M_ADDR_LO BITS(31, 22)
#define PDE32_4M_ADDR_HI BITS(20, 13)
#define PDE32_4M_HI_SHIFT (32 - 13)
#define PDE32_4M_RSVD (1ull << 21)
#define CR3_32_TABLE BITS(31, 12)
#define CR3_PAE_PDPT BITS(31, 5)

/* PAE PDPTE: bits 2:1 and 8:5 are reserved, and so is bit 63 (no XD here). */
#define PDPTE_PAE_RSVD (BITS(2, 1) | BITS(8, 5) | BITS(63, GW_MAXPHYADDR))

/* Long-mode linear addresses are 48 bits, sign-extended from bit 47. */
#define LONG_VA_BITS 48

enum gw_mode { MODE_FLAT, MODE_32, MODE_PAE, MODE_LONG };

struct walk {
	const struct gmem *m;
	const struct gwalk_regs *r;
	enum gw_mode mode;
	uint64_t va;
	enum gwalk_access acc;
	bool user;
	/* Rights accumulated over all levels: AND of RW and US, OR of XD. */
	bool rw, us, xd;
	struct gwalk_memo *rec; /* records the entries read, or NULL */
};

static bool nxe(const struct gwalk_regs *r)
{
	return (r->efer & GW_EFER_NXE) != 0;
}

static int top_level(enum gw_mode mode)
{
	if (mode == MODE_LONG)
		return 4;
	return mode == MODE_PAE ? 3 : 2;
}

static unsigned index_bits(enum gw_mode mode)
{
	return mode == MODE_32 ? 10 : 9; /* 1024 four-byte or 512 eight-byte entries */
}

static unsigned level_shift(enum gw_mode mode, int level)
{
	return PAGE_SHIFT + (unsigned)(level - 1) * index_bits(mode);
}

static size_t entry_size(enum gw_mode mode)
{
	return mode == MODE_32 ? 4 : 8;
}

static uint64_t level_index(const struct walk *w, int level)
{
	/* The PAE PDPT has only 4 entries: the shift leaves just bits 31:30. */
	uint64_t idx = w->va >> level_shift(w->mode, level);
	return idx & ((1ull << index_bits(w->mode)) - 1);
}

/* Levels at which PS=1 maps a page instead of pointing at a table. */
static bool large_allowed(const struct walk *w, int level)
{
	switch (w->mode) {
	case MODE_LONG:
		return level == 2 || level == 3;
	case MODE_PAE:
		return level == 2;
	case MODE_32:
		return level == 2 && (w->r->cr4 & GW_CR4_PSE);
	default:
		return false;
	}
}

static bool is_leaf(const struct walk *w, uint64_t e, int level)
{
	return level == 1 || ((e & PTE_PS) && large_allowed(w, level));
}

/* Offset bits below a leaf at this level, i.e. the page size minus one. */
static uint64_t page_offset_mask(const struct walk *w, int level)
{
	return (1ull << level_shift(w->mode, level)) - 1;
}

/* Low address bits of a large-page entry that must be zero: from bit 13 (just
 * above PAT) up to the page's alignment. */
static uint64_t large_low_rsvd(const struct walk *w, int level)
{
	return BITS(level_shift(w->mode, level) - 1, 13);
}

static uint64_t rsvd_bits_32(const struct walk *w, uint64_t e, int level)
{
	/* 32-bit paging has no XD and no physical-address reserved bits; only a
	 * 4 MiB PDE has one (bit 21, PSE-36 covering bits 20:13 at MAXPHYADDR 52). */
	if (level == 2 && is_leaf(w, e, level))
		return PDE32_4M_RSVD;
	return 0;
}

static uint64_t rsvd_bits_8byte(const struct walk *w, uint64_t e, int level)
{
	uint64_t rsvd = w->mode == MODE_PAE ? PHYS_RSVD_62 : PHYS_RSVD_51;

	if (w->mode == MODE_PAE && level == 3)
		return PDPTE_PAE_RSVD;
	if (!nxe(w->r))
		rsvd |= PTE_XD;
	if (w->mode == MODE_LONG && level == 4)
		rsvd |= PTE_PS;
	if (level > 1 && is_leaf(w, e, level))
		rsvd |= large_low_rsvd(w, level);
	return rsvd;
}

static uint64_t rsvd_bits(const struct walk *w, uint64_t e, int level)
{
	if (w->mode == MODE_32)
		return rsvd_bits_32(w, e, level);
	return rsvd_bits_8byte(w, e, level);
}

/* Physical address of the table an entry points to. */
static uint64_t next_table(const struct walk *w, uint64_t e)
{
	return e & (w->mode == MODE_32 ? CR3_32_TABLE : PHYS_PAGE_MASK);
}

static uint64_t root_table(const struct walk *w)
{
	if (w->mode == MODE_32)
		return w->r->cr3 & CR3_32_TABLE;
	if (w->mode == MODE_PAE)
		return w->r->cr3 & CR3_PAE_PDPT;
	return w->r->cr3 & PHYS_PAGE_MASK;
}

static uint64_t leaf_frame(const struct walk *w, uint64_t e, int level)
{
	if (w->mode == MODE_32 && level == 2)
		return (e & PDE32_4M_ADDR_LO) | ((e & PDE32_4M_ADDR_HI) << PDE32_4M_HI_SHIFT);
	if (w->mode == MODE_32)
		return e & CR3_32_TABLE;
	return e & PHYS_PAGE_MASK & ~page_offset_mask(w, level);
}

/* The PAE PDPTE carries no access rights (its RW/US bits are reserved). */
static void accumulate_rights(struct walk *w, uint64_t e, int level)
{
	if (w->mode == MODE_PAE && level == 3)
		return;
	w->rw = w->rw && (e & PTE_RW);
	w->us = w->us && (e & PTE_US);
	if (w->mode != MODE_32 && nxe(w->r))
		w->xd = w->xd || (e & PTE_XD);
}

/* Error-code bits that describe the access itself, whatever the cause. */
static uint32_t access_bits(const struct walk *w)
{
	uint32_t ec = 0;
	bool id_reported = (w->r->cr4 & GW_CR4_SMEP) || (w->mode != MODE_32 && nxe(w->r));

	if (w->acc == GW_WRITE)
		ec |= GW_PF_W;
	if (w->user)
		ec |= GW_PF_U;
	/* SDM 4.7: I/D is only reported when NX (under PAE/long) or SMEP is on. */
	if (w->acc == GW_FETCH && id_reported)
		ec |= GW_PF_ID;
	return ec;
}

static status_t page_fault(const struct walk *w, uint32_t cause, struct gwalk_fault *fault)
{
	fault->gva = w->va;
	fault->error_code = cause | access_bits(w);
	return ST_ENOENT;
}

static bool rights_allow(const struct walk *w)
{
	bool wp = (w->r->cr0 & GW_CR0_WP) != 0;
	bool smep = (w->r->cr4 & GW_CR4_SMEP) != 0;

	if (w->user && !w->us)
		return false;
	/* Supervisor writes ignore RW unless CR0.WP; user writes never do. */
	if (w->acc == GW_WRITE && !w->rw && (w->user || wp))
		return false;
	if (w->acc == GW_FETCH && w->xd)
		return false;
	/* SMEP: supervisor may not execute user-accessible pages. */
	if (w->acc == GW_FETCH && !w->user && smep && w->us)
		return false;
	return true;
}

static uint64_t load_entry(const void *p, size_t size)
{
	if (size == 4)
		return *(const volatile uint32_t *)p;
	return *(const volatile uint64_t *)p;
}

/* Reads the entry through a host pointer and records it for the memo;
 * false when there is no pointer for it (the walk then reads normally and
 * the result is not memoized). */
static bool read_recorded(const struct walk *w, uint64_t gpa, size_t size, uint64_t *e)
{
	struct gwalk_memo *rec = w->rec;
	const void *p = w->m->map ? w->m->map(w->m->ctx, gpa, size) : NULL;

	if (!p || rec->n >= GW_MEMO_ENTRIES) {
		rec->n = GW_MEMO_ENTRIES + 1; /* spoiled */
		return false;
	}
	*e = load_entry(p, size);
	rec->entry[rec->n] = p;
	rec->value[rec->n++] = *e;
	return true;
}

static status_t read_entry(const struct walk *w, uint64_t table, int level, uint64_t *e,
			   struct gwalk_fault *fault)
{
	size_t size = entry_size(w->mode);
	uint64_t gpa = table + level_index(w, level) * size;
	uint32_t e32 = 0;
	bool ok;

	if (w->rec && read_recorded(w, gpa, size, e))
		return ST_OK;
	if (size == 4) {
		ok = w->m->read(w->m->ctx, gpa, &e32, sizeof(e32));
		*e = e32;
	} else {
		ok = w->m->read(w->m->ctx, gpa, e, sizeof(*e));
	}
	if (!ok) {
		fault->gva = w->va;
		fault->bad_gpa = true;
		return ST_ERANGE;
	}
	return ST_OK;
}

static status_t walk_tables(struct walk *w, uint64_t *gpa, struct gwalk_fault *fault)
{
	uint64_t table = root_table(w);

	for (int level = top_level(w->mode); level >= 1; level--) {
		uint64_t e;
		status_t st = read_entry(w, table, level, &e, fault);

		if (st != ST_OK)
			return st;
		if (!(e & PTE_P))
			return page_fault(w, 0, fault);
		if (e & rsvd_bits(w, e, level))
			return page_fault(w, GW_PF_P | GW_PF_RSVD, fault);
		accumulate_rights(w, e, level);
		if (is_leaf(w, e, level)) {
			if (!rights_allow(w))
				return page_fault(w, GW_PF_P, fault);
			*gpa = leaf_frame(w, e, level) | (w->va & page_offset_mask(w, level));
			return ST_OK;
		}
		table = next_table(w, e);
	}
	return ST_EINVAL; /* unreachable: level 1 entries are always leaves */
}

static status_t paging_mode(const struct gwalk_regs *r, enum gw_mode *mode)
{
	if (!(r->cr0 & GW_CR0_PG))
		*mode = MODE_FLAT;
	else if (r->efer & GW_EFER_LMA)
		*mode = MODE_LONG;
	else if (r->cr4 & GW_CR4_PAE)
		*mode = MODE_PAE;
	else
		*mode = MODE_32;
	if (*mode == MODE_LONG && (r->cr4 & GW_CR4_LA57))
		return ST_ENOTSUP;
	return ST_OK;
}

static bool canonical48(uint64_t va)
{
	uint64_t upper = va >> (LONG_VA_BITS - 1); /* bits 63:47 all equal */
	return upper == 0 || upper == (~0ull >> (LONG_VA_BITS - 1));
}

/* Outside long mode linear addresses are 32 bits wide. */
static uint64_t linear(enum gw_mode mode, uint64_t va)
{
	return mode == MODE_LONG ? va : va & ADDR_32_MASK;
}

static bool same_regs(const struct gwalk_regs *a, const struct gwalk_regs *b)
{
	return a->cr0 == b->cr0 && a->cr3 == b->cr3 && a->cr4 == b->cr4 && a->efer == b->efer;
}

static bool memo_hit(const struct gwalk_memo *memo, const struct gwalk_regs *r, uint64_t va,
		     enum gwalk_access acc, bool user)
{
	if (!memo->valid || memo->va_page != va >> PAGE_SHIFT || memo->acc != acc ||
	    memo->user != user || !same_regs(&memo->r, r))
		return false;
	for (unsigned i = 0; i < memo->n; i++)
		if (load_entry(memo->entry[i], memo->entry_size) != memo->value[i])
			return false;
	return true;
}

bool gwalk_memo_lookup(const struct gwalk_memo *memo, const struct gwalk_regs *r, uint64_t gva,
		       enum gwalk_access acc, bool user, uint64_t *gpa)
{
	if (!memo_hit(memo, r, gva, acc, user))
		return false;
	*gpa = memo->gpa_page | (gva & (PAGE_SIZE - 1));
	return true;
}

static void memo_keep(struct gwalk_memo *memo, const struct walk *w, uint64_t gpa)
{
	memo->valid = memo->n <= GW_MEMO_ENTRIES;
	memo->r = *w->r;
	memo->va_page = w->va >> PAGE_SHIFT;
	memo->acc = w->acc;
	memo->user = w->user;
	memo->entry_size = (uint8_t)entry_size(w->mode);
	memo->gpa_page = gpa & ~(PAGE_SIZE - 1);
}

status_t gwalk_translate_memo(const struct gmem *m, const struct gwalk_regs *r, uint64_t gva,
			      enum gwalk_access acc, bool user, uint64_t *gpa,
			      struct gwalk_fault *fault, struct gwalk_memo *memo)
{
	struct walk w = {.m = m, .r = r, .acc = acc, .user = user, .rw = true, .us = true};
	status_t st = paging_mode(r, &w.mode);

	memset(fault, 0, sizeof(*fault));
	w.va = linear(w.mode, gva);
	if (st != ST_OK)
		return st;
	if (w.mode == MODE_LONG && !canonical48(gva)) {
		fault->gva = gva;
		return ST_EINVAL;
	}
	if (w.mode == MODE_FLAT) {
		*gpa = w.va;
		return ST_OK;
	}
	if (memo && gwalk_memo_lookup(memo, r, w.va, acc, user, gpa))
		return ST_OK;
	if (memo) {
		memo->valid = false;
		memo->n = 0;
		w.rec = memo;
	}
	st = walk_tables(&w, gpa, fault);
	if (memo && st == ST_OK)
		memo_keep(memo, &w, *gpa);
	return st;
}

status_t gwalk_translate(const struct gmem *m, const struct gwalk_regs *r, uint64_t gva,
			 enum gwalk_access acc, bool user, uint64_t *gpa, struct gwalk_fault *fault)
{
	return gwalk_translate_memo(m, r, gva, acc, user, gpa, fault, NULL);
}

/* Reads the longest readable prefix of [gpa, gpa+len) into buf: the last
 * page of guest RAM may end part-way through a page-sized chunk. */
static size_t read_prefix(const struct gmem *m, uint64_t gpa, uint8_t *buf, size_t len)
{
	size_t n = 0;

	if (m->read(m->ctx, gpa, buf, len))
		return len;
	while (n < len && m->read(m->ctx, gpa + n, buf + n, 1))
		n++;
	return n;
}

/* Fetches the bytes of one page: translate, then read. Returns how many bytes
 * landed in buf; on 0, st and fault say why. */
static size_t fetch_chunk(const struct gmem *m, const struct gwalk_regs *r, uint64_t va, bool user,
			  uint8_t *buf, size_t len, status_t *st, struct gwalk_fault *fault,
			  struct gwalk_memo *memo)
{
	uint64_t gpa;
	size_t n;

	*st = gwalk_translate_memo(m, r, va, GW_FETCH, user, &gpa, fault, memo);
	if (*st != ST_OK)
		return 0;
	n = read_prefix(m, gpa, buf, len);
	if (n < len) {
		/* Data outside guest RAM is not a #PF: the VM must be stopped. */
		fault->gva = va + n;
		fault->bad_gpa = true;
		*st = ST_ERANGE;
	}
	return n;
}

status_t gwalk_fetch(const struct gmem *m, const struct gwalk_regs *r, uint64_t rip_linear,
		     bool user, uint8_t *buf, size_t want, size_t *got, struct gwalk_fault *fault)
{
	return gwalk_fetch_memo(m, r, rip_linear, user, buf, want, got, fault, NULL);
}

status_t gwalk_fetch_memo(const struct gmem *m, const struct gwalk_regs *r, uint64_t rip_linear,
			  bool user, uint8_t *buf, size_t want, size_t *got,
			  struct gwalk_fault *fault, struct gwalk_memo *memo)
{
	status_t st = ST_OK;

	*got = 0;
	memset(fault, 0, sizeof(*fault));
	if (want == 0 || want > GW_FETCH_MAX)
		return ST_EINVAL;
	while (*got < want) {
		uint64_t va = rip_linear + *got;
		size_t page_left = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		size_t len = want - *got < page_left ? want - *got : page_left;
		size_t n = fetch_chunk(m, r, va, user, buf + *got, len, &st, fault, memo);

		*got += n;
		if (st != ST_OK)
			break;
	}
	/* A failure after the first byte only truncates: the decoder decides
	 * whether it needed the missing bytes; *fault keeps the reason. */
	return *got > 0 ? ST_OK : st;
}
