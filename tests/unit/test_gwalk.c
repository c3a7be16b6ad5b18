/* Unit tests for the guest page-table walker: guest page tables are built in a
 * fake 4 MiB guest RAM at guest-physical 0 for each paging mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/gwalk.h"

#define RAM_SIZE 0x400000ull
#define KIB4 0x1000ull
#define MIB2 0x200000ull
#define MIB4 0x400000ull
#define GIB1 0x40000000ull

#define P (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)
#define ALL (P | RW | US)

#define CR0_PE 1ull
#define EFER_LME (1ull << 8)

/* Long-mode layout: one table per level, VA indices 1/2/3/4. */
#define L_PML4 0x1000ull
#define L_PDPT 0x2000ull
#define L_PD 0x3000ull
#define L_PT 0x4000ull
#define L_PAGE 0x10000ull
#define L_PAGE2 0x30000ull /* deliberately not adjacent to L_PAGE */
#define L_VA ((1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12))

static uint8_t *ram;
static uint64_t ram_limit; /* accessor refuses anything at or above this */
static unsigned nreads;

static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	nreads++;
	if (gpa >= ram_limit || len > ram_limit - gpa)
		return false;
	memcpy(buf, ram + gpa, len);
	return true;
}

static unsigned nmaps;

static const void *fake_map(void *ctx, uint64_t gpa, size_t len)
{
	(void)ctx;
	nmaps++;
	if (gpa >= ram_limit || len > ram_limit - gpa)
		return NULL;
	return ram + gpa;
}

static const struct gmem gm = {NULL, fake_read, NULL};
static const struct gmem gm_map = {NULL, fake_read, fake_map};
static struct gwalk_fault flt;
static uint64_t gpa;

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	ram_limit = RAM_SIZE;
	nreads = 0;
	nmaps = 0;
	memset(&flt, 0xA5, sizeof(flt)); /* the walker must clear it */
	gpa = 0;
	return ram ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static void w64(uint64_t pa, uint64_t v)
{
	memcpy(ram + pa, &v, sizeof(v));
}

static void w32(uint64_t pa, uint32_t v)
{
	memcpy(ram + pa, &v, sizeof(v));
}

static struct gwalk_regs long_regs(void)
{
	struct gwalk_regs r = {.cr0 = CR0_PE | GW_CR0_PG | GW_CR0_WP,
			       .cr3 = L_PML4,
			       .cr4 = GW_CR4_PAE,
			       .efer = EFER_LME | GW_EFER_LMA | GW_EFER_NXE};
	return r;
}

/* Maps L_VA -> L_PAGE (4 KiB) and L_VA + 4 KiB -> L_PAGE2, all rights. */
static void build_long(void)
{
	w64(L_PML4 + 1 * 8, L_PDPT | ALL);
	w64(L_PDPT + 2 * 8, L_PD | ALL);
	w64(L_PD + 3 * 8, L_PT | ALL);
	w64(L_PT + 4 * 8, L_PAGE | ALL);
	w64(L_PT + 5 * 8, L_PAGE2 | ALL);
}

static status_t tr(const struct gwalk_regs *r, uint64_t va, enum gwalk_access acc, bool user)
{
	return gwalk_translate(&gm, r, va, acc, user, &gpa, &flt);
}

static void expect_pf(status_t st, uint64_t va, uint32_t ec)
{
	assert_int_equal(st, ST_ENOENT);
	assert_int_equal(flt.error_code, ec);
	assert_int_equal(flt.gva, va);
	assert_false(flt.bad_gpa);
}

/* ---- paging off ---- */

static void test_paging_off(void **state)
{
	struct gwalk_regs r = {.cr0 = CR0_PE};
	(void)state;
	assert_int_equal(tr(&r, 0x123456789ull, GW_WRITE, true), ST_OK);
	assert_int_equal(gpa, 0x23456789ull);
	assert_int_equal(nreads, 0);
	assert_int_equal(flt.error_code, 0);
}

/* ---- long mode ---- */

static void test_long_4k(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	assert_int_equal(tr(&r, L_VA + 0x123, GW_READ, true), ST_OK);
	assert_int_equal(gpa, L_PAGE + 0x123);
	assert_int_equal(tr(&r, L_VA + KIB4 + 0xfff, GW_WRITE, true), ST_OK);
	assert_int_equal(gpa, L_PAGE2 + 0xfff);
	assert_int_equal(tr(&r, L_VA, GW_FETCH, false), ST_OK);
	assert_int_equal(gpa, L_PAGE);
}

static void test_long_2m(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PD + 3 * 8, 0x1200000ull | ALL | PS | (1ull << 12) /* PAT */);
	assert_int_equal(tr(&r, L_VA + 0x54321, GW_READ, false), ST_OK);
	assert_int_equal(gpa, 0x1200000ull + 0x4000 + 0x54321);
}

static void test_long_1g(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PDPT + 2 * 8, 0x3c0000000ull | ALL | PS);
	assert_int_equal(tr(&r, L_VA + 0x321, GW_READ, false), ST_OK);
	assert_int_equal(gpa, 0x3c0000000ull + (3ull << 21) + (4ull << 12) + 0x321);
}

static void test_long_high_ignored_bits(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	/* Bits 62:52 are ignored (not reserved) in 4-level paging. */
	w64(L_PT + 4 * 8, L_PAGE | ALL | (1ull << 62) | (1ull << 52));
	assert_int_equal(tr(&r, L_VA, GW_READ, false), ST_OK);
	assert_int_equal(gpa, L_PAGE);
}

static void test_write_readonly(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PT + 4 * 8, L_PAGE | P | US);
	expect_pf(tr(&r, L_VA + 8, GW_WRITE, false), L_VA + 8, GW_PF_P | GW_PF_W);
	expect_pf(tr(&r, L_VA, GW_WRITE, true), L_VA, GW_PF_P | GW_PF_W | GW_PF_U);
	assert_int_equal(tr(&r, L_VA, GW_READ, true), ST_OK);

	/* Read-only at an upper level counts too. */
	build_long();
	w64(L_PDPT + 2 * 8, L_PD | P | US);
	expect_pf(tr(&r, L_VA, GW_WRITE, false), L_VA, GW_PF_P | GW_PF_W);

	/* CR0.WP=0: the supervisor may write, the user still may not. */
	r.cr0 &= ~GW_CR0_WP;
	assert_int_equal(tr(&r, L_VA, GW_WRITE, false), ST_OK);
	assert_int_equal(gpa, L_PAGE);
	expect_pf(tr(&r, L_VA, GW_WRITE, true), L_VA, GW_PF_P | GW_PF_W | GW_PF_U);
}

static void test_user_on_supervisor(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PD + 3 * 8, L_PT | P | RW);
	expect_pf(tr(&r, L_VA, GW_READ, true), L_VA, GW_PF_P | GW_PF_U);
	expect_pf(tr(&r, L_VA, GW_FETCH, true), L_VA, GW_PF_P | GW_PF_U | GW_PF_ID);
	assert_int_equal(tr(&r, L_VA, GW_WRITE, false), ST_OK);
}

static void test_nx_fetch(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PT + 4 * 8, L_PAGE | ALL | XD);
	expect_pf(tr(&r, L_VA, GW_FETCH, false), L_VA, GW_PF_P | GW_PF_ID);
	assert_int_equal(tr(&r, L_VA, GW_READ, true), ST_OK);

	/* XD at the top level covers the whole subtree. */
	build_long();
	w64(L_PML4 + 1 * 8, L_PDPT | ALL | XD);
	expect_pf(tr(&r, L_VA, GW_FETCH, true), L_VA, GW_PF_P | GW_PF_U | GW_PF_ID);
}

static void test_xd_reserved_without_nxe(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	r.efer &= ~GW_EFER_NXE;
	build_long();
	w64(L_PD + 3 * 8, L_PT | ALL | XD);
	/* No NXE and no SMEP: the I/D bit is not reported. */
	expect_pf(tr(&r, L_VA, GW_FETCH, false), L_VA, GW_PF_P | GW_PF_RSVD);
	expect_pf(tr(&r, L_VA, GW_READ, false), L_VA, GW_PF_P | GW_PF_RSVD);
}

static void test_smep(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	r.cr4 |= GW_CR4_SMEP;
	build_long();
	expect_pf(tr(&r, L_VA, GW_FETCH, false), L_VA, GW_PF_P | GW_PF_ID);
	assert_int_equal(tr(&r, L_VA, GW_READ, false), ST_OK);
	assert_int_equal(tr(&r, L_VA, GW_FETCH, true), ST_OK);
}

static void test_not_present_each_level(void **state)
{
	static const uint64_t slot[] = {L_PML4 + 1 * 8, L_PDPT + 2 * 8, L_PD + 3 * 8, L_PT + 4 * 8};
	struct gwalk_regs r = long_regs();
	(void)state;
	for (size_t i = 0; i < sizeof(slot) / sizeof(slot[0]); i++) {
		build_long();
		/* Only P clear: every other bit, even reserved ones, is ignored. */
		w64(slot[i], (L_PAGE | ALL | PS | XD) & ~P);
		expect_pf(tr(&r, L_VA, GW_READ, false), L_VA, 0);
		expect_pf(tr(&r, L_VA, GW_WRITE, true), L_VA, GW_PF_W | GW_PF_U);
		expect_pf(tr(&r, L_VA, GW_FETCH, false), L_VA, GW_PF_ID);
	}
}

static void test_long_reserved(void **state)
{
	struct gwalk_regs r = long_regs();
	const uint32_t rsvd = GW_PF_P | GW_PF_RSVD;
	(void)state;

	build_long();
	w64(L_PML4 + 1 * 8, L_PDPT | ALL | PS); /* PS is reserved in a PML4E */
	expect_pf(tr(&r, L_VA, GW_READ, false), L_VA, rsvd);

	build_long();
	w64(L_PD + 3 * 8, 0x200000ull | ALL | PS | (1ull << 13)); /* 2 MiB misaligned */
	expect_pf(tr(&r, L_VA, GW_WRITE, false), L_VA, rsvd | GW_PF_W);

	build_long();
	w64(L_PDPT + 2 * 8, GIB1 | ALL | PS | (1ull << 21)); /* 1 GiB misaligned */
	expect_pf(tr(&r, L_VA, GW_READ, true), L_VA, rsvd | GW_PF_U);

	/* A reserved bit wins over a permission violation found at the leaf. */
	build_long();
	w64(L_PD + 3 * 8, L_PT | P); /* supervisor-only */
	w64(L_PT + 4 * 8, L_PAGE | ALL | XD);
	r.efer &= ~GW_EFER_NXE;
	expect_pf(tr(&r, L_VA, GW_READ, true), L_VA, rsvd | GW_PF_U);
}

static void test_table_outside_ram(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PD + 3 * 8, 0x80000000ull | ALL);
	assert_int_equal(tr(&r, L_VA, GW_READ, false), ST_ERANGE);
	assert_true(flt.bad_gpa);
	assert_int_equal(flt.gva, L_VA);
	assert_int_equal(flt.error_code, 0);

	r.cr3 = 0xfffff000ull; /* the root itself */
	assert_int_equal(tr(&r, L_VA, GW_READ, false), ST_ERANGE);
	assert_true(flt.bad_gpa);
}

static void test_self_referencing_table(void **state)
{
	struct gwalk_regs r = long_regs();
	uint64_t va = (1ull << 39) | (1ull << 30) | (1ull << 21) | (1ull << 12) | 0x42;
	(void)state;
	w64(L_PML4 + 1 * 8, L_PML4 | ALL); /* every level reads this same entry */
	assert_int_equal(tr(&r, va, GW_READ, false), ST_OK);
	assert_int_equal(gpa, L_PML4 + 0x42); /* the PML4E doubles as the PTE */
	assert_int_equal(nreads, 4);
}

static void test_non_canonical(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	assert_int_equal(tr(&r, 0x0000800000000000ull, GW_READ, false), ST_EINVAL);
	assert_int_equal(tr(&r, 0xfff0000000001000ull, GW_READ, false), ST_EINVAL);
	assert_int_equal(nreads, 0);
	/* The highest canonical lower-half and lowest upper-half addresses walk. */
	expect_pf(tr(&r, 0x00007ffffffff000ull, GW_READ, false), 0x00007ffffffff000ull, 0);
	expect_pf(tr(&r, 0xffff800000000000ull, GW_READ, false), 0xffff800000000000ull, 0);
}

static void test_la57_unsupported(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	r.cr4 |= GW_CR4_LA57;
	assert_int_equal(tr(&r, L_VA, GW_READ, false), ST_ENOTSUP);
}

/* ---- 32-bit paging ---- */

#define N_PD 0x1000ull
#define N_PT 0x2000ull

static struct gwalk_regs regs_32(void)
{
	struct gwalk_regs r = {
	    .cr0 = CR0_PE | GW_CR0_PG | GW_CR0_WP, .cr3 = N_PD, .cr4 = GW_CR4_PSE};
	return r;
}

static void test_32bit_4k_and_4m(void **state)
{
	struct gwalk_regs r = regs_32();
	(void)state;
	w32(N_PD + 3 * 4, (uint32_t)(N_PT | ALL));
	w32(N_PT + 3 * 4, (uint32_t)(0x5000 | ALL));
	assert_int_equal(tr(&r, 0x00c03456ull, GW_WRITE, true), ST_OK);
	assert_int_equal(gpa, 0x5456);
	/* Bits 63:32 of the linear address do not exist outside long mode. */
	assert_int_equal(tr(&r, 0xabcd000000c03456ull, GW_READ, true), ST_OK);
	assert_int_equal(gpa, 0x5456);

	w32(N_PD + 1 * 4, (uint32_t)(0x00c00000 | ALL | PS));
	assert_int_equal(tr(&r, 0x00712345ull, GW_READ, false), ST_OK);
	assert_int_equal(gpa, 0x00c00000ull + 0x312345);

	/* PSE-36: PDE bits 20:13 are physical bits 39:32. */
	w32(N_PD + 1 * 4, (uint32_t)(0x00c00000 | ALL | PS | (0x81u << 13)));
	assert_int_equal(tr(&r, 0x00712345ull, GW_READ, false), ST_OK);
	assert_int_equal(gpa, (0x81ull << 32) + 0x00c00000ull + 0x312345);

	/* Bit 21 is reserved in a 4 MiB PDE. */
	w32(N_PD + 1 * 4, (uint32_t)(0x00c00000 | ALL | PS | (1u << 21)));
	expect_pf(tr(&r, 0x00712345ull, GW_READ, false), 0x00712345ull, GW_PF_P | GW_PF_RSVD);
}

static void test_32bit_pse_off_ps_ignored(void **state)
{
	struct gwalk_regs r = regs_32();
	(void)state;
	r.cr4 = 0;
	/* Without CR4.PSE the PDE's PS bit is ignored: it points at a table. */
	w32(N_PD + 0 * 4, (uint32_t)(N_PT | ALL | PS));
	w32(N_PT + 7 * 4, (uint32_t)(0x9000 | ALL));
	assert_int_equal(tr(&r, 0x7abcull, GW_READ, false), ST_OK);
	assert_int_equal(gpa, 0x9abc);
}

static void test_32bit_faults(void **state)
{
	struct gwalk_regs r = regs_32();
	(void)state;
	r.efer = GW_EFER_NXE; /* no effect without PAE: no XD bit, no I/D */
	w32(N_PD + 3 * 4, (uint32_t)(N_PT | P | US));
	w32(N_PT + 3 * 4, (uint32_t)(0x5000 | ALL));
	expect_pf(tr(&r, 0x00c03000ull, GW_WRITE, true), 0x00c03000ull,
		  GW_PF_P | GW_PF_W | GW_PF_U);
	expect_pf(tr(&r, 0x00c04000ull, GW_FETCH, false), 0x00c04000ull, 0);
	expect_pf(tr(&r, 0x01000000ull, GW_READ, false), 0x01000000ull, 0);
}

/* ---- PAE paging ---- */

#define A_PDPT 0x1020ull /* only 32-byte aligned, as CR3 allows */
#define A_PD 0x2000ull
#define A_PT 0x3000ull
#define A_VA ((2ull << 30) | (3ull << 21) | (4ull << 12))

static struct gwalk_regs regs_pae(void)
{
	struct gwalk_regs r = {.cr0 = CR0_PE | GW_CR0_PG | GW_CR0_WP,
			       .cr3 = A_PDPT,
			       .cr4 = GW_CR4_PAE,
			       .efer = GW_EFER_NXE};
	return r;
}

static void build_pae(void)
{
	w64(A_PDPT + 2 * 8, A_PD | P);
	w64(A_PD + 3 * 8, A_PT | ALL);
	w64(A_PT + 4 * 8, 0x7000 | ALL);
}

static void test_pae_4k_and_2m(void **state)
{
	struct gwalk_regs r = regs_pae();
	(void)state;
	build_pae();
	assert_int_equal(tr(&r, A_VA + 0x321, GW_WRITE, true), ST_OK);
	assert_int_equal(gpa, 0x7321);

	w64(A_PD + 5 * 8, 0x123400000ull | ALL | PS);
	assert_int_equal(tr(&r, (2ull << 30) | (5ull << 21) | 0xabcde, GW_READ, true), ST_OK);
	assert_int_equal(gpa, 0x123400000ull + 0xabcde);
}

static void test_pae_pdpte(void **state)
{
	struct gwalk_regs r = regs_pae();
	(void)state;
	build_pae();
	w64(A_PDPT + 2 * 8, A_PD); /* not present */
	expect_pf(tr(&r, A_VA, GW_READ, false), A_VA, 0);
	expect_pf(tr(&r, A_VA, GW_FETCH, true), A_VA, GW_PF_U | GW_PF_ID);

	w64(A_PDPT + 2 * 8, A_PD | P | RW); /* RW is reserved in a PDPTE */
	expect_pf(tr(&r, A_VA, GW_READ, false), A_VA, GW_PF_P | GW_PF_RSVD);

	w64(A_PDPT + 2 * 8, A_PD | P | XD); /* so is bit 63, even with NXE */
	expect_pf(tr(&r, A_VA, GW_READ, false), A_VA, GW_PF_P | GW_PF_RSVD);
}

static void test_pae_reserved_and_nx(void **state)
{
	struct gwalk_regs r = regs_pae();
	(void)state;
	build_pae();
	/* Unlike 4-level paging, PAE reserves bits 62:MAXPHYADDR. */
	w64(A_PT + 4 * 8, 0x7000 | ALL | (1ull << 62));
	expect_pf(tr(&r, A_VA, GW_READ, false), A_VA, GW_PF_P | GW_PF_RSVD);

	w64(A_PT + 4 * 8, 0x7000 | ALL | XD);
	expect_pf(tr(&r, A_VA, GW_FETCH, false), A_VA, GW_PF_P | GW_PF_ID);
	r.efer = 0;
	expect_pf(tr(&r, A_VA, GW_FETCH, false), A_VA, GW_PF_P | GW_PF_RSVD);
}

/* ---- instruction fetch ---- */

static uint8_t buf[GW_FETCH_MAX];
static size_t got;

static status_t fetch(const struct gwalk_regs *r, uint64_t rip, bool user, size_t want)
{
	memset(buf, 0, sizeof(buf));
	return gwalk_fetch(&gm, r, rip, user, buf, want, &got, &flt);
}

static void fill(uint64_t pa, uint8_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ram[pa + i] = (uint8_t)(first + i);
}

static void test_fetch_within_page(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	fill(L_PAGE + 0x100, 1, 15);
	assert_int_equal(fetch(&r, L_VA + 0x100, true, 15), ST_OK);
	assert_int_equal(got, 15);
	for (size_t i = 0; i < 15; i++)
		assert_int_equal(buf[i], i + 1);
	assert_int_equal(flt.error_code, 0);
}

static void test_fetch_straddle(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	fill(L_PAGE + KIB4 - 6, 1, 6);
	fill(L_PAGE2, 7, 9);
	fill(L_PAGE + KIB4, 0xEE, 9); /* what a naive contiguous read would see */
	assert_int_equal(fetch(&r, L_VA + KIB4 - 6, false, 15), ST_OK);
	assert_int_equal(got, 15);
	for (size_t i = 0; i < 15; i++)
		assert_int_equal(buf[i], i + 1);
}

static void test_fetch_straddle_unmapped(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PT + 5 * 8, 0);
	fill(L_PAGE + KIB4 - 6, 1, 6);
	assert_int_equal(fetch(&r, L_VA + KIB4 - 6, false, 15), ST_OK);
	assert_int_equal(got, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(buf[i], i + 1);
	/* The fault the decoder would need if it wanted more bytes. */
	assert_int_equal(flt.gva, L_VA + KIB4);
	assert_int_equal(flt.error_code, GW_PF_ID);

	/* Second page supervisor-only for a user fetch: also partial. */
	w64(L_PT + 5 * 8, L_PAGE2 | P | RW);
	assert_int_equal(fetch(&r, L_VA + KIB4 - 6, true, 15), ST_OK);
	assert_int_equal(got, 6);
	assert_int_equal(flt.error_code, GW_PF_P | GW_PF_U | GW_PF_ID);
}

static void test_fetch_first_byte_faults(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	w64(L_PT + 4 * 8, L_PAGE | ALL | XD);
	assert_int_equal(fetch(&r, L_VA + KIB4 - 1, false, 15), ST_ENOENT);
	assert_int_equal(got, 0);
	assert_int_equal(flt.gva, L_VA + KIB4 - 1);
	assert_int_equal(flt.error_code, GW_PF_P | GW_PF_ID);

	assert_int_equal(fetch(&r, 0x0000800000000000ull, false, 15), ST_EINVAL);
	assert_int_equal(got, 0);
}

static void test_fetch_end_of_ram(void **state)
{
	struct gwalk_regs r = {.cr0 = CR0_PE};
	(void)state;
	fill(RAM_SIZE - 4, 0x10, 4);
	assert_int_equal(fetch(&r, RAM_SIZE - 4, false, 15), ST_OK);
	assert_int_equal(got, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(buf[i], 0x10 + i);
	assert_true(flt.bad_gpa);
	assert_int_equal(flt.gva, RAM_SIZE);

	assert_int_equal(fetch(&r, RAM_SIZE, false, 15), ST_ERANGE);
	assert_int_equal(got, 0);
	assert_true(flt.bad_gpa);
}

static void test_fetch_ram_ends_mid_page(void **state)
{
	struct gwalk_regs r = long_regs();
	(void)state;
	build_long();
	ram_limit = L_PAGE + 0x803;
	fill(L_PAGE + 0x800, 0x20, 3);
	assert_int_equal(fetch(&r, L_VA + 0x800, false, 15), ST_OK);
	assert_int_equal(got, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(buf[i], 0x20 + i);
	assert_true(flt.bad_gpa);
	assert_int_equal(flt.gva, L_VA + 0x803);
}

static void test_fetch_bad_want(void **state)
{
	struct gwalk_regs r = {.cr0 = CR0_PE};
	(void)state;
	assert_int_equal(fetch(&r, 0x1000, false, 0), ST_EINVAL);
	assert_int_equal(gwalk_fetch(&gm, &r, 0x1000, false, buf, GW_FETCH_MAX + 1, &got, &flt),
			 ST_EINVAL);
	assert_int_equal(got, 0);
	assert_int_equal(nreads, 0);
}

/* ---- the memo ---- */

static status_t trm(const struct gwalk_regs *r, uint64_t va, enum gwalk_access acc, bool user,
		    struct gwalk_memo *memo)
{
	return gwalk_translate_memo(&gm_map, r, va, acc, user, &gpa, &flt, memo);
}

static void test_memo_hit_reads_nothing_new(void **state)
{
	struct gwalk_regs r = long_regs();
	struct gwalk_memo memo = {0};
	(void)state;
	build_long();
	assert_int_equal(trm(&r, L_VA + 0x10, GW_READ, false, &memo), ST_OK);
	assert_true(memo.valid);
	assert_int_equal(memo.n, 4);
	assert_int_equal(nmaps, 4);
	assert_int_equal(nreads, 0);
	nmaps = 0;
	assert_int_equal(trm(&r, L_VA + 0xabc, GW_READ, false, &memo), ST_OK);
	assert_int_equal(gpa, L_PAGE + 0xabc);
	assert_int_equal(nmaps, 0); /* the recorded entries were re-read in place */
	assert_int_equal(nreads, 0);
}

static void test_memo_misses_when_an_entry_changes(void **state)
{
	struct gwalk_regs r = long_regs();
	struct gwalk_memo memo = {0};
	(void)state;
	build_long();
	assert_int_equal(trm(&r, L_VA, GW_READ, false, &memo), ST_OK);
	w64(L_PT + 4 * 8, L_PAGE2 | ALL); /* the guest remaps the page */
	assert_int_equal(trm(&r, L_VA + 8, GW_READ, false, &memo), ST_OK);
	assert_int_equal(gpa, L_PAGE2 + 8);
	w64(L_PD + 3 * 8, L_PT | P); /* a higher level loses RW: a write must fault */
	expect_pf(trm(&r, L_VA, GW_WRITE, true, &memo), L_VA, GW_PF_P | GW_PF_W | GW_PF_U);
	assert_false(memo.valid); /* faults are not memoized */
	w64(L_PD + 3 * 8, L_PT | ALL);
	w64(L_PML4 + 1 * 8, 0); /* the top level goes away */
	expect_pf(trm(&r, L_VA, GW_READ, false, &memo), L_VA, 0);
}

static void test_memo_keyed_by_regs_page_and_access(void **state)
{
	struct gwalk_regs r = long_regs(), other = long_regs();
	struct gwalk_memo memo = {0};
	(void)state;
	build_long();
	assert_int_equal(trm(&r, L_VA, GW_READ, false, &memo), ST_OK);
	/* another page of the same table: a new walk, not the memo's page */
	assert_int_equal(trm(&r, L_VA + KIB4, GW_READ, false, &memo), ST_OK);
	assert_int_equal(gpa, L_PAGE2);
	/* a new CR3 with nothing mapped must not hit the old memo */
	other.cr3 = L_PAGE;
	expect_pf(trm(&other, L_VA + KIB4, GW_READ, false, &memo), L_VA + KIB4, 0);
	/* user vs supervisor and fetch vs read are separate answers */
	w64(L_PT + 5 * 8, L_PAGE2 | P | RW | XD);
	assert_int_equal(trm(&r, L_VA + KIB4, GW_READ, false, &memo), ST_OK);
	expect_pf(trm(&r, L_VA + KIB4, GW_READ, true, &memo), L_VA + KIB4, GW_PF_P | GW_PF_U);
	expect_pf(trm(&r, L_VA + KIB4, GW_FETCH, false, &memo), L_VA + KIB4, GW_PF_P | GW_PF_ID);
}

static void test_memo_32bit_entries(void **state)
{
	struct gwalk_regs r = regs_32();
	struct gwalk_memo memo = {0};
	uint64_t first;
	(void)state;
	w32(0x1000 + 1 * 4, 0x2000 | (uint32_t)ALL); /* PDE for VA 0x400000 */
	w32(0x2000 + 2 * 4, 0x5000 | (uint32_t)ALL); /* PTE for VA 0x402000 */
	r.cr3 = 0x1000;
	assert_int_equal(trm(&r, 0x402010, GW_READ, false, &memo), ST_OK);
	first = gpa;
	assert_int_equal(first, 0x5010);
	assert_int_equal(memo.entry_size, 4);
	/* the byte next to the 4-byte PTE changes: not part of the entry */
	ram[0x2000 + 3 * 4] = 0x77;
	nmaps = 0;
	assert_int_equal(trm(&r, 0x402020, GW_READ, false, &memo), ST_OK);
	assert_int_equal(nmaps, 0);
	w32(0x2000 + 2 * 4, 0x6000 | (uint32_t)ALL);
	assert_int_equal(trm(&r, 0x402020, GW_READ, false, &memo), ST_OK);
	assert_int_equal(gpa, 0x6020);
}

static void test_memo_needs_map(void **state)
{
	struct gwalk_regs r = long_regs();
	struct gwalk_memo memo = {0};
	(void)state;
	build_long();
	assert_int_equal(gwalk_translate_memo(&gm, &r, L_VA, GW_READ, false, &gpa, &flt, &memo),
			 ST_OK);
	assert_false(memo.valid);
	assert_int_equal(gpa, L_PAGE);
}

static void test_fetch_memo(void **state)
{
	struct gwalk_regs r = long_regs();
	struct gwalk_memo memo = {0};
	(void)state;
	build_long();
	fill(L_PAGE + 0x100, 0x40, GW_FETCH_MAX);
	assert_int_equal(gwalk_fetch_memo(&gm_map, &r, L_VA + 0x100, false, buf, GW_FETCH_MAX, &got,
					  &flt, &memo),
			 ST_OK);
	assert_int_equal(got, GW_FETCH_MAX);
	assert_int_equal(buf[0], 0x40);
	assert_true(memo.valid);
	assert_int_equal(memo.acc, GW_FETCH);
	fill(L_PAGE2 + 0x100, 0x80, GW_FETCH_MAX);
	w64(L_PT + 4 * 8, L_PAGE2 | ALL); /* self-modifying mapping: new bytes */
	assert_int_equal(gwalk_fetch_memo(&gm_map, &r, L_VA + 0x100, false, buf, GW_FETCH_MAX, &got,
					  &flt, &memo),
			 ST_OK);
	assert_int_equal(buf[0], 0x80);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_memo_hit_reads_nothing_new, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memo_misses_when_an_entry_changes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_memo_keyed_by_regs_page_and_access, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_memo_32bit_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memo_needs_map, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_memo, setup, teardown),
	    T(test_paging_off),
	    T(test_long_4k),
	    T(test_long_2m),
	    T(test_long_1g),
	    T(test_long_high_ignored_bits),
	    T(test_write_readonly),
	    T(test_user_on_supervisor),
	    T(test_nx_fetch),
	    T(test_xd_reserved_without_nxe),
	    T(test_smep),
	    T(test_not_present_each_level),
	    T(test_long_reserved),
	    T(test_table_outside_ram),
	    T(test_self_referencing_table),
	    T(test_non_canonical),
	    T(test_la57_unsupported),
	    T(test_32bit_4k_and_4m),
	    T(test_32bit_pse_off_ps_ignored),
	    T(test_32bit_faults),
	    T(test_pae_4k_and_2m),
	    T(test_pae_pdpte),
	    T(test_pae_reserved_and_nx),
	    T(test_fetch_within_page),
	    T(test_fetch_straddle),
	    T(test_fetch_straddle_unmapped),
	    T(test_fetch_first_byte_faults),
	    T(test_fetch_end_of_ram),
	    T(test_fetch_ram_ends_mid_page),
	    T(test_fetch_bad_want),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
