/* Linux x86 boot protocol loader (see linux_boot.h). Field offsets and
 * rules are from Documentation/arch/x86/boot.rst ("The real-mode kernel
 * header", "Details of header fields", "32-bit boot protocol", "64-bit boot
 * protocol") and the zero-page layout in Documentation/arch/x86/zero-page.rst.
 *
 * lb_load first plans everything (header, kernel place, command line,
 * initrd place, E820 map) without touching guest memory, and only then
 * writes; the writes cannot fail except through the callbacks. */
#include <stdarg.h>

#include "vm/linux_boot.h"
#include "core/fmt.h"
#include "keel/kstring.h"

/* Setup header fields: offsets in the image, which are also their offsets
 * in boot_params, since the header is copied to the same place. */
#define HDR_START 0x1F1u /* setup_sects, the first header byte */
#define OFF_SETUP_SECTS 0x1F1u
#define OFF_SYSSIZE 0x1F4u
#define OFF_VID_MODE 0x1FAu
#define OFF_BOOT_FLAG 0x1FEu
#define OFF_JUMP 0x200u	  /* 0xEB, then a signed offset from 0x202 */
#define OFF_HEADER 0x202u /* "HdrS" */
#define OFF_VERSION 0x206u
#define HDR_PROBE_END 0x208u /* one past version: enough to tell what the image is */
#define OFF_TYPE_OF_LOADER 0x210u
#define OFF_LOADFLAGS 0x211u
#define OFF_CODE32_START 0x214u
#define OFF_RAMDISK_IMAGE 0x218u
#define OFF_RAMDISK_SIZE 0x21Cu
#define OFF_HEAP_END_PTR 0x224u
#define OFF_CMD_LINE_PTR 0x228u
#define OFF_INITRD_ADDR_MAX 0x22Cu
#define OFF_KERNEL_ALIGNMENT 0x230u
#define OFF_RELOCATABLE 0x234u
#define OFF_XLOADFLAGS 0x236u
#define OFF_CMDLINE_SIZE 0x238u
#define OFF_HARDWARE_SUBARCH 0x23Cu
#define OFF_SETUP_DATA 0x250u
#define OFF_PREF_ADDRESS 0x258u
#define OFF_INIT_SIZE 0x260u
#define HDR_FIELDS_END 0x264u /* one past init_size, the last field read or set */
#define HDR_AREA_END 0x290u   /* boot_params.hdr ends: edd_mbr_sig_buffer follows */
#define HDR_AREA (HDR_AREA_END - HDR_START)

#define BOOT_FLAG 0xAA55u
#define HDRS_MAGIC 0x53726448u /* "HdrS" read little-endian */
#define JMP_SHORT 0xEBu
#define JMP_BASE 0x202u /* the jump's offset counts from here */
#define SECTOR 512u
#define SETUP_SECTS_DEFAULT 4u /* what a 0 in setup_sects means */
#define SYSSIZE_UNIT 16u
#define STARTUP64_OFFSET 0x200u /* startup_64 from the load address */
#define LOADER_UNDEFINED 0xFFu	/* type_of_loader: no assigned ID */
#define VID_MODE_NORMAL 0xFFFFu /* "normal": only real-mode setup reads it */
#define SUBARCH_PC 0u
#define LF_KEEP_SEGMENTS (1u << 6)
#define LF_CAN_USE_HEAP (1u << 7)

/* boot_params fields outside the setup header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR 0x070u
#define BP_EXT_RAMDISK_IMAGE 0x0C0u
#define BP_EXT_RAMDISK_SIZE 0x0C4u
#define BP_EXT_CMD_LINE_PTR 0x0C8u
#define BP_E820_ENTRIES 0x1E8u
#define BP_E820_TABLE 0x2D0u
#define E820_ENTRY 20u /* packed: u64 addr, u64 size, u32 type */

/* GDT descriptor bits (Intel SDM vol. 3, 3.4.5). Accessed is preset so the
 * CPU has no reason to write the table when a selector is loaded. */
#define SEG_LIMIT_LOW 0xFFFFull	      /* limit 15:0 */
#define SEG_LIMIT_HIGH (0xFull << 48) /* limit 19:16: with G, 4 GiB */
#define SEG_ACCESSED (1ull << 40)
#define SEG_RW (1ull << 41) /* code: readable; data: writable */
#define SEG_CODE (1ull << 43)
#define SEG_S (1ull << 44) /* code or data, not a system descriptor */
#define SEG_P (1ull << 47)
#define SEG_L (1ull << 53) /* 64-bit code */
#define SEG_DB (1ull << 54)
#define SEG_G (1ull << 55)
#define SEG_FLAT (SEG_LIMIT_LOW | SEG_LIMIT_HIGH | SEG_ACCESSED | SEG_RW | SEG_S | SEG_P | SEG_G)
#define GDT_CODE32 (SEG_FLAT | SEG_CODE | SEG_DB)
#define GDT_CODE64 (SEG_FLAT | SEG_CODE | SEG_L)
#define GDT_DATA (SEG_FLAT | SEG_DB)
#define GDT_BYTES (LB_GDT_ENTRIES * 8u)

/* Page-table entry bits. */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7) /* in a page directory: a 2 MiB page */
#define PT_ENTRIES 512u
#define PT_CHUNK 64u /* entries written per callback */
#define GIB (1ull << 30)
#define PAGE_2M (1ull << 21)

#define MIB 0x100000ull
#define FOUR_GIB 0x100000000ull
#define E820_FIXED 3u /* low RAM, legacy hole, RAM above 1 MiB */
#define MAP_MAX (E820_FIXED + LB_HIGH_MAX + LB_PLAT_RESERVED_MAX)

_Static_assert(BP_E820_TABLE + LB_E820_MAX * E820_ENTRY <= LB_BOOT_PARAMS_SIZE,
	       "e820_table fits in the zero page");
_Static_assert(MAP_MAX <= LB_E820_MAX, "lb_load's map fits in e820_table");
_Static_assert(2 * SECTOR >= HDR_AREA_END, "a setup of 1 sector holds the whole header area");
/* The jump's offset is a signed byte, so the header it bounds always ends
 * inside the zero page's hdr area: no clamp is needed. */
_Static_assert(JMP_BASE + INT8_MAX <= HDR_AREA_END, "the header cannot outgrow boot_params.hdr");
_Static_assert(LB_GDT32 + GDT_BYTES <= LB_GDT64, "the two GDTs do not overlap");
_Static_assert(LB_GDT64 + GDT_BYTES <= LB_PML4, "the GDTs end before the page tables");
_Static_assert(LB_BOOT_PARAMS + LB_BOOT_PARAMS_SIZE <= LB_GDT32, "zero page before the GDTs");
_Static_assert(LB_PDPT == LB_PML4 + LB_PAGE && LB_PD == LB_PDPT + LB_PAGE,
	       "PML4, PDPT and the page directories are consecutive pages");
_Static_assert(LB_PD + LB_PD_COUNT * LB_PAGE <= LB_CMDLINE, "page tables end before cmdline");
_Static_assert(LB_CMDLINE_END <= LB_TRAMPOLINE, "cmdline ends below the decompressor's trampoline");
_Static_assert(LB_PD_COUNT *GIB <= LB_RAM_MAX, "RAM lies inside the identity map");

struct msg {
	char *why;
	size_t len;
};

/* Everything lb_load decides before it writes. */
struct lb {
	const uint8_t *img;
	const uint8_t *initrd;
	size_t initrd_len;
	const char *cmdline;
	size_t cmdline_len;
	const struct lb_mem *mem;
	const struct lb_platform *plat;
	struct msg m;
	struct lb_header h;
	uint64_t load, kend, rd_start;
	struct lb_e820 map[MAP_MAX];
	unsigned nmap;
};

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static unsigned long long ull(uint64_t v)
{
	return v;
}

static unsigned long long mib_up(uint64_t v)
{
	return (v + MIB - 1) / MIB;
}

__attribute__((format(printf, 3, 4))) static status_t fail(const struct msg *m, status_t st,
							   const char *fmt, ...)
{
	va_list ap;

	if (!m->why || !m->len)
		return st;
	va_start(ap, fmt);
	kvsnprintf(m->why, m->len, fmt, ap);
	va_end(ap);
	return st;
}

/* ---- the setup header ---- */

static status_t check_magic(const struct msg *m, const uint8_t *img, size_t len)
{
	uint16_t v;

	if (len < HDR_PROBE_END)
		return fail(m, ST_ETRUNC,
			    "image is 0x%zx bytes, too short for a bzImage header (0x%x)", len,
			    HDR_PROBE_END);
	if (ld16(img + OFF_BOOT_FLAG) != BOOT_FLAG)
		return fail(
		    m, ST_EINVAL,
		    "no boot flag 0xaa55 at offset 0x1fe (found 0x%04x): not a Linux kernel",
		    ld16(img + OFF_BOOT_FLAG));
	if (ld32(img + OFF_HEADER) != HDRS_MAGIC)
		return fail(
		    m, ST_EINVAL,
		    "no \"HdrS\" signature at offset 0x202: not a bzImage (protocol 2.00+)");
	v = ld16(img + OFF_VERSION);
	if (v < LB_PROTO_MIN)
		return fail(m, ST_ENOTSUP, "boot protocol %u.%02u is older than 2.12", v >> 8,
			    v & 0xFFu);
	return ST_OK;
}

/* Where the setup sectors end and how far the header runs. setup_sects is
 * at least 1 here, so the header area lies inside the checked setup. */
static status_t check_layout(const struct msg *m, const uint8_t *img, size_t len,
			     struct lb_header *h)
{
	unsigned end;

	h->setup_sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : SETUP_SECTS_DEFAULT;
	h->pm_offset = ((size_t)h->setup_sects + 1) * SECTOR;
	if (h->pm_offset >= len)
		return fail(m, ST_ETRUNC,
			    "setup is %u sectors, so the kernel starts at 0x%zx, but the image is "
			    "only 0x%zx bytes",
			    h->setup_sects, h->pm_offset, len);
	if (img[OFF_JUMP] != JMP_SHORT)
		return fail(m, ST_EINVAL, "no short jump (0xeb) at offset 0x200 (found 0x%02x)",
			    img[OFF_JUMP]);
	end = (unsigned)((int)JMP_BASE + (int8_t)img[OFF_JUMP + 1]);
	if (end < HDR_FIELDS_END)
		return fail(
		    m, ST_EINVAL,
		    "setup header ends at 0x%x (jump at 0x200), before init_size's end 0x%x", end,
		    HDR_FIELDS_END);
	h->hdr_end = end;
	return ST_OK;
}

static void read_fields(const uint8_t *img, struct lb_header *h)
{
	h->version = ld16(img + OFF_VERSION);
	h->loadflags = img[OFF_LOADFLAGS];
	h->syssize = ld32(img + OFF_SYSSIZE);
	h->code32_start = ld32(img + OFF_CODE32_START);
	h->initrd_addr_max = ld32(img + OFF_INITRD_ADDR_MAX);
	h->kernel_alignment = ld32(img + OFF_KERNEL_ALIGNMENT);
	h->relocatable = img[OFF_RELOCATABLE] != 0;
	h->xloadflags = ld16(img + OFF_XLOADFLAGS);
	h->cmdline_size = ld32(img + OFF_CMDLINE_SIZE);
	h->pref_address = ld64(img + OFF_PREF_ADDRESS);
	h->init_size = ld32(img + OFF_INIT_SIZE);
}

/* The protected-mode kernel is syssize * 16 bytes after the setup. Bytes
 * past it (a signature appended to a signed kernel) are not loaded. */
static status_t check_fields(const struct msg *m, size_t len, struct lb_header *h)
{
	uint32_t a = h->kernel_alignment;

	if (!(h->loadflags & LB_LOADED_HIGH))
		return fail(
		    m, ST_ENOTSUP,
		    "loadflags 0x%02x lack LOADED_HIGH: a zImage (loaded at 0x10000) is not "
		    "supported",
		    h->loadflags);
	if (h->syssize == 0)
		return fail(m, ST_EINVAL, "syssize is 0: the image has no protected-mode kernel");
	h->pm_size = (size_t)h->syssize * SYSSIZE_UNIT;
	if (h->pm_size > len - h->pm_offset)
		return fail(m, ST_ETRUNC,
			    "the kernel is 0x%zx bytes (syssize) from offset 0x%zx, but the image "
			    "is only 0x%zx bytes",
			    h->pm_size, h->pm_offset, len);
	if (h->relocatable && (a == 0 || (a & (a - 1))))
		return fail(m, ST_EINVAL, "kernel_alignment 0x%x is not a power of two", a);
	if (h->init_size < h->pm_size)
		return fail(m, ST_EINVAL, "init_size 0x%x is smaller than the 0x%zx-byte kernel",
			    h->init_size, h->pm_size);
	return ST_OK;
}

static status_t parse(const struct msg *m, const uint8_t *img, size_t len, struct lb_header *h)
{
	status_t st = check_magic(m, img, len);

	if (!st)
		st = check_layout(m, img, len, h);
	if (st)
		return st;
	read_fields(img, h);
	return check_fields(m, len, h);
}

status_t lb_parse(const uint8_t *image, size_t len, struct lb_header *out, char *why, size_t whylen)
{
	struct msg m = {why, whylen};
	struct lb_header h = {0};
	status_t st;

	if (why && whylen)
		why[0] = '\0';
	if (!image || !out)
		return fail(&m, ST_EINVAL, "lb_parse: NULL argument");
	st = parse(&m, image, len, &h);
	if (!st)
		*out = h;
	return st;
}

/* ---- E820 ---- */

static status_t check_range(const struct msg *m, const char *what, unsigned i,
			    const struct lb_range *r)
{
	if (r->len == 0)
		return fail(m, ST_EINVAL, "E820: %s range %u at 0x%llx is empty", what, i,
			    ull(r->base));
	if (r->len > UINT64_MAX - r->base)
		return fail(m, ST_EINVAL, "E820: %s range %u at 0x%llx + 0x%llx wraps", what, i,
			    ull(r->base), ull(r->len));
	return ST_OK;
}

/* Usable pieces of a RAM range: the parts below the legacy area and above
 * 1 MiB (the legacy area itself is one reserved entry of its own). */
static unsigned ram_pieces(const struct lb_range *r, struct lb_e820 *p)
{
	uint64_t end = r->base + r->len;
	unsigned n = 0;

	if (r->base < LB_LOW_RAM_END)
		p[n++] = (struct lb_e820){
		    r->base, (end < LB_LOW_RAM_END ? end : LB_LOW_RAM_END) - r->base, LB_E820_RAM};
	if (end > LB_KERNEL_MIN) {
		uint64_t b = r->base > LB_KERNEL_MIN ? r->base : LB_KERNEL_MIN;

		p[n++] = (struct lb_e820){b, end - b, LB_E820_RAM};
	}
	return n;
}

/* Inserts e into the n sorted entries of out (room for one more). */
static void insert(struct lb_e820 *out, unsigned *n, struct lb_e820 e)
{
	unsigned i = *n;

	while (i > 0 && out[i - 1].addr > e.addr) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = e;
	(*n)++;
}

/* Checks n ranges and adds the entries they become to *entries. */
static status_t check_list(const struct msg *m, bool is_ram, const struct lb_range *r, unsigned n,
			   uint64_t *entries)
{
	struct lb_e820 p[2];

	for (unsigned i = 0; i < n; i++) {
		status_t st = check_range(m, is_ram ? "RAM" : "reserved", i, &r[i]);

		if (st)
			return st;
		*entries += is_ram ? ram_pieces(&r[i], p) : 1;
	}
	return ST_OK;
}

static status_t check_overlaps(const struct msg *m, const struct lb_e820 *e, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		const struct lb_e820 *a = &e[i - 1], *b = &e[i];

		if (a->addr + a->size <= b->addr)
			continue;
		return fail(m, ST_EINVAL,
			    "E820: [0x%llx, 0x%llx) type %u overlaps [0x%llx, 0x%llx) type %u",
			    ull(a->addr), ull(a->addr + a->size), a->type, ull(b->addr),
			    ull(b->addr + b->size), b->type);
	}
	return ST_OK;
}

static void fill_map(const struct lb_range *ram, unsigned nram, const struct lb_range *res,
		     unsigned nres, struct lb_e820 *out, unsigned *n)
{
	struct lb_e820 p[2];

	*n = 0;
	insert(out, n,
	       (struct lb_e820){LB_LOW_RAM_END, LB_KERNEL_MIN - LB_LOW_RAM_END, LB_E820_RESERVED});
	for (unsigned i = 0; i < nram; i++) {
		unsigned k = ram_pieces(&ram[i], p);

		for (unsigned j = 0; j < k; j++)
			insert(out, n, p[j]);
	}
	for (unsigned i = 0; i < nres; i++)
		insert(out, n, (struct lb_e820){res[i].base, res[i].len, LB_E820_RESERVED});
}

status_t lb_e820_build(const struct lb_range *ram, unsigned nram, const struct lb_range *reserved,
		       unsigned nreserved, struct lb_e820 *out, unsigned max, unsigned *count,
		       char *why, size_t whylen)
{
	struct msg m = {why, whylen};
	uint64_t entries = 1; /* the legacy area */
	unsigned n;
	status_t st;

	if (why && whylen)
		why[0] = '\0';
	if ((nram && !ram) || (nreserved && !reserved) || !out || !count)
		return fail(&m, ST_EINVAL, "lb_e820_build: NULL argument");
	st = check_list(&m, true, ram, nram, &entries);
	if (!st)
		st = check_list(&m, false, reserved, nreserved, &entries);
	if (st)
		return st;
	if (entries > max)
		return fail(&m, ST_ERANGE, "E820 map needs %llu entries, the table holds %u",
			    ull(entries), max);
	fill_map(ram, nram, reserved, nreserved, out, &n);
	st = check_overlaps(&m, out, n);
	if (!st)
		*count = n;
	return st;
}

/* ---- planning ---- */

static status_t check_ram(struct lb *l)
{
	uint64_t ram = l->mem->ram_size;

	if (ram % LB_PAGE)
		return fail(&l->m, ST_EINVAL, "VM RAM 0x%llx is not a multiple of 4 KiB", ull(ram));
	if (ram < LB_KERNEL_MIN)
		return fail(&l->m, ST_ERANGE, "VM RAM 0x%llx is below 1 MiB", ull(ram));
	if (ram > LB_RAM_MAX)
		return fail(&l->m, ST_ERANGE,
			    "VM RAM at 0 (0x%llx bytes) ends above 4 GiB: RAM past the PCI "
			    "hole goes in the high ranges",
			    ull(ram));
	return ST_OK;
}

/* pref_address is where a relocatable kernel should go if it can and where
 * a non-relocatable one moves itself anyway, so both are loaded there; a
 * relocatable one rounded up to kernel_alignment, as init_size counts from
 * the aligned runtime address. 0 means the traditional 1 MiB. */
static status_t place_kernel(struct lb *l)
{
	const struct lb_header *h = &l->h;
	uint64_t ram = l->mem->ram_size;
	uint64_t load = h->pref_address ? h->pref_address : LB_KERNEL_MIN;

	if (load > LB_RAM_MAX)
		return fail(&l->m, ST_ERANGE, "pref_address 0x%llx lies above 4 GiB", ull(load));
	if (h->relocatable)
		load = (load + h->kernel_alignment - 1) & ~(uint64_t)(h->kernel_alignment - 1);
	if (load < LB_KERNEL_MIN)
		return fail(&l->m, ST_ERANGE, "kernel load address 0x%llx lies below 1 MiB",
			    ull(load));
	if (load + h->init_size > ram)
		return fail(
		    &l->m, ST_ENOMEM,
		    "the kernel needs %llu MiB of RAM from 0x%llx (%llu MiB in all), the VM "
		    "has %llu MiB",
		    mib_up(h->init_size), ull(load), mib_up(load + h->init_size), ull(ram / MIB));
	l->load = load;
	l->kend = load + h->init_size;
	return ST_OK;
}

/* cmdline_size counts characters without the NUL; never cut silently. */
static status_t check_cmdline(struct lb *l)
{
	size_t n = strlen(l->cmdline);

	if (n > l->h.cmdline_size)
		return fail(
		    &l->m, ST_ERANGE,
		    "command line is %zu bytes, the kernel accepts at most %u (cmdline_size)", n,
		    l->h.cmdline_size);
	if (n >= LB_CMDLINE_END - LB_CMDLINE)
		return fail(&l->m, ST_ERANGE,
			    "command line is %zu bytes, Keel's command line area holds %u", n,
			    LB_CMDLINE_END - LB_CMDLINE - 1);
	l->cmdline_len = n;
	return ST_OK;
}

/* The highest page-aligned start in [lo, hi) for len bytes, or false. */
static bool fit_high(uint64_t lo, uint64_t hi, uint64_t len, uint64_t *start)
{
	uint64_t s;

	if (hi <= lo || hi - lo < len)
		return false;
	s = (hi - len) & ~(uint64_t)(LB_PAGE - 1);
	if (s < lo)
		return false;
	*start = s;
	return true;
}

/* initrd_addr_max is the highest address an initrd byte may use, unless the
 * kernel says it can take one above 4 GiB. The initrd goes as high as it
 * can (out of the way of the decompressor, as boot.rst advises), above the
 * kernel's init_size span, or else between 1 MiB and the kernel. */
static status_t place_initrd(struct lb *l)
{
	uint64_t lim = l->mem->ram_size;
	uint64_t len = l->initrd_len;

	if (len == 0)
		return ST_OK;
	if (!(l->h.xloadflags & LB_XLF_CAN_BE_LOADED_ABOVE_4G) &&
	    (uint64_t)l->h.initrd_addr_max + 1 < lim)
		lim = (uint64_t)l->h.initrd_addr_max + 1;
	if (fit_high(l->kend, lim, len, &l->rd_start) ||
	    fit_high(LB_KERNEL_MIN, l->load < lim ? l->load : lim, len, &l->rd_start))
		return ST_OK;
	return fail(&l->m, ST_ENOMEM,
		    "initrd of 0x%llx bytes (%llu MiB) does not fit below 0x%llx beside the kernel "
		    "at [0x%llx, 0x%llx)",
		    ull(len), mib_up(len), ull(lim), ull(l->load), ull(l->kend));
}

/* RAM from 0, where everything is placed, and the high ranges, which E820
 * reports and lb_e820_build checks for overlaps like any other range. */
static status_t plan_map(struct lb *l)
{
	struct lb_range ram[1 + LB_HIGH_MAX] = {{0, l->mem->ram_size}};

	if (l->plat->nreserved > LB_PLAT_RESERVED_MAX)
		return fail(&l->m, ST_EINVAL, "platform has %u reserved ranges, at most %u",
			    l->plat->nreserved, LB_PLAT_RESERVED_MAX);
	if (l->mem->nhigh > LB_HIGH_MAX)
		return fail(&l->m, ST_EINVAL, "%u high RAM ranges, at most %u", l->mem->nhigh,
			    LB_HIGH_MAX);
	for (unsigned i = 0; i < l->mem->nhigh; i++)
		ram[1 + i] = l->mem->high[i];
	return lb_e820_build(ram, 1 + l->mem->nhigh, l->plat->reserved, l->plat->nreserved, l->map,
			     MAP_MAX, &l->nmap, l->m.why, l->m.len);
}

static status_t plan(struct lb *l, size_t len)
{
	status_t st = check_ram(l);

	if (!st)
		st = parse(&l->m, l->img, len, &l->h);
	if (!st)
		st = place_kernel(l);
	if (!st)
		st = check_cmdline(l);
	if (!st)
		st = place_initrd(l);
	if (!st)
		st = plan_map(l);
	return st;
}

/* ---- writing guest memory ---- */

static status_t put(struct lb *l, uint64_t gpa, const void *buf, size_t len)
{
	if (len == 0 || l->mem->write(l->mem->ctx, gpa, buf, len))
		return ST_OK;
	return fail(&l->m, ST_ERANGE, "guest memory write of 0x%zx bytes at 0x%llx failed", len,
		    ull(gpa));
}

static uint8_t *hdr_at(uint8_t *hdr, unsigned off)
{
	return hdr + (off - HDR_START);
}

/* The image's header with the fields a boot loader owns filled in. The
 * fields set here all lie before HDR_FIELDS_END <= hdr_end, so they are
 * inside what is copied. */
static void fill_header(const struct lb *l, uint8_t *hdr)
{
	uint8_t lf =
	    (uint8_t)((l->h.loadflags | LB_LOADED_HIGH) & ~(LF_KEEP_SEGMENTS | LF_CAN_USE_HEAP));

	memcpy(hdr, l->img + HDR_START, l->h.hdr_end - HDR_START);
	st16(hdr_at(hdr, OFF_VID_MODE), VID_MODE_NORMAL);
	*hdr_at(hdr, OFF_TYPE_OF_LOADER) = LOADER_UNDEFINED;
	/* No real-mode setup runs: it is the only user of the heap and of
	 * KEEP_SEGMENTS, so both stay clear. */
	*hdr_at(hdr, OFF_LOADFLAGS) = lf;
	st32(hdr_at(hdr, OFF_CODE32_START), (uint32_t)l->load);
	st32(hdr_at(hdr, OFF_RAMDISK_IMAGE), (uint32_t)l->rd_start);
	st32(hdr_at(hdr, OFF_RAMDISK_SIZE), (uint32_t)l->initrd_len);
	st16(hdr_at(hdr, OFF_HEAP_END_PTR), 0);
	st32(hdr_at(hdr, OFF_CMD_LINE_PTR), LB_CMDLINE);
	st32(hdr_at(hdr, OFF_HARDWARE_SUBARCH), SUBARCH_PC);
	st64(hdr_at(hdr, OFF_SETUP_DATA), 0); /* no setup_data list is passed */
}

/* The high halves of the 64-bit ramdisk and command line addresses. */
static status_t put_ext(struct lb *l)
{
	uint8_t ext[12];

	st32(ext, (uint32_t)(l->rd_start >> 32));
	st32(ext + 4, (uint32_t)((uint64_t)l->initrd_len >> 32));
	st32(ext + 8, (uint32_t)((uint64_t)LB_CMDLINE >> 32));
	return put(l, LB_BOOT_PARAMS + BP_EXT_RAMDISK_IMAGE, ext, sizeof(ext));
}

static status_t put_e820(struct lb *l)
{
	uint8_t tab[MAP_MAX * E820_ENTRY];
	uint8_t n = (uint8_t)l->nmap;
	status_t st;

	for (unsigned i = 0; i < l->nmap; i++) {
		uint8_t *e = tab + i * E820_ENTRY;

		st64(e, l->map[i].addr);
		st64(e + 8, l->map[i].size);
		st32(e + 16, l->map[i].type);
	}
	st = put(l, LB_BOOT_PARAMS + BP_E820_ENTRIES, &n, sizeof(n));
	if (st)
		return st;
	return put(l, LB_BOOT_PARAMS + BP_E820_TABLE, tab, l->nmap * E820_ENTRY);
}

static status_t put_boot_params(struct lb *l)
{
	uint8_t hdr[HDR_AREA];
	uint8_t rsdp[8];
	status_t st = ST_OK;

	if (!l->mem->zero(l->mem->ctx, LB_BOOT_PARAMS, LB_BOOT_PARAMS_SIZE))
		return fail(&l->m, ST_ERANGE,
			    "guest memory zeroing of the zero page at 0x%x failed", LB_BOOT_PARAMS);
	fill_header(l, hdr);
	st64(rsdp, l->plat->rsdp);
	st = put(l, LB_BOOT_PARAMS + HDR_START, hdr, l->h.hdr_end - HDR_START);
	if (!st)
		st = put(l, LB_BOOT_PARAMS + BP_ACPI_RSDP_ADDR, rsdp, sizeof(rsdp));
	if (!st)
		st = put_ext(l);
	if (!st)
		st = put_e820(l);
	return st;
}

/* Entries 0 and 1 stay null; 2 and 3 are __BOOT_CS and __BOOT_DS. */
static status_t put_gdts(struct lb *l)
{
	uint64_t g32[LB_GDT_ENTRIES] = {0, 0, GDT_CODE32, GDT_DATA};
	uint64_t g64[LB_GDT_ENTRIES] = {0, 0, GDT_CODE64, GDT_DATA};
	status_t st = put(l, LB_GDT32, g32, sizeof(g32));

	if (st)
		return st;
	return put(l, LB_GDT64, g64, sizeof(g64));
}

static status_t put_page_dir(struct lb *l, unsigned pd)
{
	uint64_t chunk[PT_CHUNK];

	for (unsigned c = 0; c < PT_ENTRIES; c += PT_CHUNK) {
		uint64_t gpa = LB_PD + (uint64_t)pd * LB_PAGE + c * sizeof(uint64_t);
		status_t st;

		for (unsigned i = 0; i < PT_CHUNK; i++)
			chunk[i] = (pd * GIB + (c + i) * PAGE_2M) | PTE_P | PTE_RW | PTE_PS;
		st = put(l, gpa, chunk, sizeof(chunk));
		if (st)
			return st;
	}
	return ST_OK;
}

/* Identity map of [0, 4 GiB) in 2 MiB pages: the 64-bit protocol needs the
 * kernel's init_size span, boot_params and the command line mapped. The
 * PML4 and PDPT are zeroed first so that their unused entries are not
 * present even if the caller did not zero RAM. */
static status_t put_page_tables(struct lb *l)
{
	uint64_t pml4e = LB_PDPT | PTE_P | PTE_RW;
	uint64_t pdpt[LB_PD_COUNT];
	status_t st;

	for (unsigned i = 0; i < LB_PD_COUNT; i++)
		pdpt[i] = (LB_PD + (uint64_t)i * LB_PAGE) | PTE_P | PTE_RW;
	if (!l->mem->zero(l->mem->ctx, LB_PML4, LB_PD - LB_PML4))
		return fail(&l->m, ST_ERANGE,
			    "guest memory zeroing of the page tables at 0x%x failed", LB_PML4);
	st = put(l, LB_PML4, &pml4e, sizeof(pml4e));
	if (!st)
		st = put(l, LB_PDPT, pdpt, sizeof(pdpt));
	for (unsigned i = 0; !st && i < LB_PD_COUNT; i++)
		st = put_page_dir(l, i);
	return st;
}

static status_t commit(struct lb *l)
{
	status_t st = put_boot_params(l);

	if (!st)
		st = put_gdts(l);
	if (!st)
		st = put_page_tables(l);
	if (!st)
		st = put(l, LB_CMDLINE, l->cmdline, l->cmdline_len + 1);
	if (!st)
		st = put(l, l->load, l->img + l->h.pm_offset, l->h.pm_size);
	if (!st)
		st = put(l, l->rd_start, l->initrd, l->initrd_len);
	return st;
}

static void fill_result(const struct lb *l, struct lb_result *out)
{
	bool k64 = (l->h.xloadflags & LB_XLF_KERNEL_64) != 0;

	*out = (struct lb_result){
	    .entry32 = l->load,
	    .entry64 = k64 ? l->load + STARTUP64_OFFSET : 0,
	    .boot_params = LB_BOOT_PARAMS,
	    .gdt_base = LB_GDT32,
	    .gdt64_base = LB_GDT64,
	    .gdt_limit = GDT_BYTES - 1,
	    .cr3 = LB_PML4,
	    .cmdline = LB_CMDLINE,
	    .kernel_start = l->load,
	    .kernel_end = l->kend,
	    .initrd_start = l->rd_start,
	    .initrd_end = l->initrd_len ? l->rd_start + l->initrd_len : 0,
	    .has_entry64 = k64,
	};
}

status_t lb_load(const uint8_t *image, size_t len, const uint8_t *initrd, size_t initrd_len,
		 const char *cmdline, const struct lb_mem *mem, const struct lb_platform *plat,
		 struct lb_result *out, char *why, size_t whylen)
{
	struct lb l = {.img = image,
		       .initrd = initrd,
		       .initrd_len = initrd_len,
		       .cmdline = cmdline ? cmdline : "",
		       .mem = mem,
		       .plat = plat,
		       .m = {why, whylen}};
	status_t st;

	if (why && whylen)
		why[0] = '\0';
	if (!image || !mem || !mem->write || !mem->zero || !plat || !out ||
	    (initrd_len && !initrd) || (plat->nreserved && !plat->reserved) ||
	    (mem->nhigh && !mem->high))
		return fail(&l.m, ST_EINVAL, "lb_load: NULL argument");
	st = plan(&l, len);
	if (!st)
		st = commit(&l);
	if (!st)
		fill_result(&l, out);
	return st;
}
