/* Multiboot v1 guest loader (see mb1.h). Field layouts are from the
 * Multiboot Specification 0.6.96, sections 3.1 (OS image format) and 3.3
 * (boot information format); the ELF layouts from the System V ABI (ELF32).
 *
 * The whole load runs twice through the same code: first with `commit`
 * false, where every check is made and nothing is written, then with commit
 * true, where the same walk writes guest memory. So a bad image or a module
 * that does not fit leaves guest RAM untouched, and the checks cannot drift
 * away from what is written. */
#include <stdarg.h>

#include "vm/mb1.h"
#include "core/fmt.h"
#include "keel/kstring.h"

/* Multiboot header (spec 3.1.1): magic, flags, checksum, then the address
 * fields that flag bit 16 makes valid. */
#define HDR_MIN 12u
#define HDR_ADDR_END 32u /* header_addr .. entry_addr end here */
#define HDR_FLAGS 4u
#define HDR_CHECKSUM 8u
#define HDR_HEADER_ADDR 12u
#define HDR_LOAD_ADDR 16u
#define HDR_LOAD_END 20u
#define HDR_BSS_END 24u
#define HDR_ENTRY 28u

#define FLAG_PAGE_ALIGN (1u << 0)
#define FLAG_MEMINFO (1u << 1)
#define FLAG_VIDEO (1u << 2)
#define FLAG_ADDR_VALID (1u << 16)
#define FLAGS_REQUIRED 0xFFFFu /* bits 0-15: refuse what we do not know */
#define FLAGS_KNOWN (FLAG_PAGE_ALIGN | FLAG_MEMINFO | FLAG_VIDEO)

/* Multiboot information (spec 3.3): offsets of the fields we fill. The size
 * covers every field up to the framebuffer colour info, all left zero. */
#define MBI_SIZE 116u
#define MBI_FLAGS 0u
#define MBI_MEM_LOWER 4u
#define MBI_MEM_UPPER 8u
#define MBI_CMDLINE 16u
#define MBI_MODS_COUNT 20u
#define MBI_MODS_ADDR 24u
#define MBI_MMAP_LENGTH 44u
#define MBI_MMAP_ADDR 48u
#define MBI_LOADER_NAME 64u

#define MBI_F_MEM (1u << 0)
#define MBI_F_CMDLINE (1u << 2)
#define MBI_F_MODS (1u << 3)
#define MBI_F_MMAP (1u << 6)
#define MBI_F_LOADER (1u << 9)

/* A memory-map entry is a u32 size (of what follows it: 20) and then base
 * u64, length u64, type u32; mmap_addr points at the first size field. */
#define MMAP_ENTRY 24u
#define MMAP_SIZE_FIELD 20u
#define MMAP_FIXED 3u /* low RAM, the legacy area, RAM from 1 MiB */
#define MMAP_MAX (MMAP_FIXED + MB1_HIGH_MAX)
#define MMAP_RAM 1u
#define MMAP_RESERVED 2u

#define MOD_ENTRY 16u /* mod_start, mod_end, string, reserved */
#define SCRATCH_ALIGN 8u
#define KIB 1024u
#define MEM_LOWER_KIB (MB1_LOW_RAM_END / KIB)
#define FOUR_GIB 0x100000000ull

/* ELF32 (System V ABI). */
#define EI_NIDENT 16u
#define EI_CLASS 4u
#define EI_DATA 5u
#define ELFCLASS32 1u
#define ELFCLASS64 2u
#define ELFDATA2LSB 1u
#define ET_EXEC 2u
#define EM_386 3u
#define PT_LOAD 1u
#define EH_SIZE 52u
#define EH_TYPE 16u
#define EH_MACHINE 18u
#define EH_ENTRY 24u
#define EH_PHOFF 28u
#define EH_PHENTSIZE 42u
#define EH_PHNUM 44u
#define PH_SIZE 32u
#define PH_TYPE 0u
#define PH_OFFSET 4u
#define PH_VADDR 8u
#define PH_PADDR 12u
#define PH_FILESZ 16u
#define PH_MEMSZ 20u

static const char loader_name[] = "Keel";

/* Scratch layout: the fixed-size pieces at fixed places, then the command
 * line, the module list and the module strings, each SCRATCH_ALIGN-aligned. */
#define SCRATCH_UP(x) (((x) + SCRATCH_ALIGN - 1) & ~(uint64_t)(SCRATCH_ALIGN - 1))
#define MBI_ADDR MB1_SCRATCH_BASE
#define MMAP_ADDR SCRATCH_UP(MBI_ADDR + MBI_SIZE)
#define NAME_ADDR SCRATCH_UP(MMAP_ADDR + MMAP_MAX * MMAP_ENTRY)
#define VAR_BASE SCRATCH_UP(NAME_ADDR + sizeof(loader_name))
_Static_assert(VAR_BASE <= MB1_SCRATCH_END, "fixed mbi pieces fit in the scratch area");
_Static_assert(MB1_SCRATCH_END % SCRATCH_ALIGN == 0, "take() relies on an aligned end");

static const uint8_t elf_magic[4] = {0x7F, 'E', 'L', 'F'};

struct ld {
	const uint8_t *img;
	uint64_t len;
	const char *cmdline;
	const struct mb1_module *mods;
	unsigned nmods;
	const struct mb1_mem *mem;
	char *why;
	size_t whylen;
	bool commit; /* false: check only; true: write guest memory */
	uint64_t kstart, kend, highest;
	uint32_t entry;
};

/* One piece of the kernel: filesz bytes from file offset off to paddr, then
 * zeros up to memsz. vaddr is only used to translate an ELF entry. */
struct seg {
	uint32_t type;
	uint64_t off, vaddr, paddr, filesz, memsz;
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

__attribute__((format(printf, 3, 4))) static status_t fail(struct ld *l, status_t st,
							   const char *fmt, ...)
{
	va_list ap;

	if (!l->why || !l->whylen)
		return st;
	va_start(ap, fmt);
	kvsnprintf(l->why, l->whylen, fmt, ap);
	va_end(ap);
	return st;
}

/* ---- guest memory ---- */

static status_t put(struct ld *l, uint64_t gpa, const void *buf, size_t len)
{
	if (!l->commit || len == 0)
		return ST_OK;
	if (l->mem->write(l->mem->ctx, gpa, buf, len))
		return ST_OK;
	return fail(l, ST_ERANGE, "guest memory write of 0x%zx bytes at 0x%llx failed", len,
		    ull(gpa));
}

static status_t put_zero(struct ld *l, uint64_t gpa, uint64_t len)
{
	if (!l->commit || len == 0)
		return ST_OK;
	if (l->mem->zero(l->mem->ctx, gpa, (size_t)len))
		return ST_OK;
	return fail(l, ST_ERANGE, "guest memory zeroing of 0x%llx bytes at 0x%llx failed", ull(len),
		    ull(gpa));
}

static status_t check_ram(struct ld *l)
{
	uint64_t ram = l->mem->ram_size;

	if (ram < MB1_RAM_MIN)
		return fail(l, ST_ERANGE, "VM RAM 0x%llx is below the 2 MiB minimum", ull(ram));
	if (ram > MB1_RAM_MAX)
		return fail(l, ST_ERANGE,
			    "VM RAM 0x%llx is above the 0x%llx limit (4 GiB - 256 MiB, below the "
			    "PCI hole)",
			    ull(ram), ull(MB1_RAM_MAX));
	if (ram % MB1_PAGE)
		return fail(l, ST_EINVAL, "VM RAM 0x%llx is not a multiple of 4 KiB", ull(ram));
	return ST_OK;
}

/* High ranges come in address order above ram_size, so the memory map is
 * sorted and nothing in it overlaps. */
static status_t check_high(struct ld *l)
{
	const struct mb1_mem *m = l->mem;
	uint64_t end = m->ram_size;

	if (m->nhigh > MB1_HIGH_MAX)
		return fail(l, ST_EINVAL, "%u high RAM ranges, at most %u", m->nhigh, MB1_HIGH_MAX);
	for (unsigned i = 0; i < m->nhigh; i++) {
		const struct mb1_range *r = &m->high[i];

		if (r->len == 0 || r->base % MB1_PAGE || r->len % MB1_PAGE || r->base < end ||
		    r->len > UINT64_MAX - r->base)
			return fail(l, ST_EINVAL,
				    "high RAM range %u [0x%llx, +0x%llx) is empty, unaligned, "
				    "wraps or lies below 0x%llx",
				    i, ull(r->base), ull(r->len), ull(end));
		end = r->base + r->len;
	}
	return ST_OK;
}

/* ---- the multiboot header ---- */

enum scan { SCAN_FOUND, SCAN_NONE, SCAN_BADSUM, SCAN_CUT };

/* The first magic at a 4-byte-aligned offset whose 12-byte header lies in
 * the first MB1_SEARCH_LIMIT bytes and has a valid checksum. Failing that,
 * *off names the first bad-checksum header, or else a magic whose header is
 * cut off by the end of the image, so the caller can say what is wrong. */
static enum scan scan_header(const uint8_t *img, uint64_t len, uint64_t *off)
{
	enum scan res = SCAN_NONE;

	for (uint64_t o = 0; o + 4 <= len && o + HDR_MIN <= MB1_SEARCH_LIMIT; o += 4) {
		const uint8_t *h = img + o;

		if (ld32(h) != MB1_HEADER_MAGIC)
			continue;
		if (o + HDR_MIN > len) {
			if (res == SCAN_NONE) {
				res = SCAN_CUT;
				*off = o;
			}
			break; /* no later header can be complete either */
		}
		if ((uint32_t)(ld32(h) + ld32(h + HDR_FLAGS) + ld32(h + HDR_CHECKSUM)) == 0) {
			*off = o;
			return SCAN_FOUND;
		}
		if (res == SCAN_NONE) {
			res = SCAN_BADSUM;
			*off = o;
		}
	}
	return res;
}

static status_t find_header(struct ld *l, uint64_t *off)
{
	const uint8_t *h;

	switch (scan_header(l->img, l->len, off)) {
	case SCAN_FOUND:
		return ST_OK;
	case SCAN_BADSUM:
		h = l->img + *off;
		return fail(l, ST_ECHECKSUM,
			    "multiboot header at offset 0x%llx has a bad checksum (magic+flags+"
			    "checksum = 0x%08x, must be 0)",
			    ull(*off),
			    (uint32_t)(ld32(h) + ld32(h + HDR_FLAGS) + ld32(h + HDR_CHECKSUM)));
	case SCAN_CUT:
		return fail(l, ST_ETRUNC,
			    "multiboot header at offset 0x%llx runs past the end of the image "
			    "(0x%llx bytes)",
			    ull(*off), ull(l->len));
	default:
		return fail(l, ST_ENOENT, "multiboot header not found in the first %u bytes",
			    MB1_SEARCH_LIMIT);
	}
}

/* ---- placing kernel bytes ---- */

static status_t check_place(struct ld *l, const char *what, uint64_t start, uint64_t end)
{
	uint64_t ram = l->mem->ram_size;

	if (start < MB1_KERNEL_MIN)
		return fail(l, ST_ERANGE, "%s at 0x%08llx lies below 1 MiB", what, ull(start));
	if (end > ram)
		return fail(l, ST_ERANGE,
			    "%s ends at 0x%llx: kernel needs 0x%llx bytes of RAM, VM has 0x%llx",
			    what, ull(end), ull(end), ull(ram));
	return ST_OK;
}

/* Checks s (already known to lie in the file and below 4 GiB), records the
 * kernel bounds, and in the commit pass copies and zeroes it. */
static status_t place_seg(struct ld *l, const char *what, const struct seg *s)
{
	status_t st = check_place(l, what, s->paddr, s->paddr + s->memsz);

	if (st)
		return st;
	if (s->paddr < l->kstart)
		l->kstart = s->paddr;
	if (s->paddr + s->memsz > l->kend)
		l->kend = s->paddr + s->memsz;
	if (s->filesz) { /* a bss-only segment's p_offset need not lie in the file */
		st = put(l, s->paddr, l->img + s->off, (size_t)s->filesz);
		if (st)
			return st;
	}
	return put_zero(l, s->paddr + s->filesz, s->memsz - s->filesz);
}

/* ---- kernel described by the header's address fields (flag bit 16) ---- */

/* The file range [*foff, *foff + *flen) that load_addr.. maps to. */
static status_t aout_file_range(struct ld *l, uint64_t hoff, uint64_t *foff, uint64_t *flen)
{
	const uint8_t *h = l->img + hoff;
	uint32_t header_addr = ld32(h + HDR_HEADER_ADDR);
	uint32_t load_addr = ld32(h + HDR_LOAD_ADDR);
	uint32_t load_end = ld32(h + HDR_LOAD_END);
	uint64_t delta;

	if (load_addr > header_addr)
		return fail(l, ST_EINVAL, "multiboot load_addr 0x%08x is above header_addr 0x%08x",
			    load_addr, header_addr);
	delta = header_addr - load_addr;
	if (delta > hoff)
		return fail(l, ST_EINVAL,
			    "multiboot header_addr - load_addr = 0x%llx is more than the header's "
			    "file offset 0x%llx",
			    ull(delta), ull(hoff));
	*foff = hoff - delta;
	if (load_end == 0) {
		*flen = l->len - *foff;
		return ST_OK;
	}
	if (load_end < load_addr)
		return fail(l, ST_EINVAL,
			    "multiboot load_end_addr 0x%08x is below load_addr 0x%08x", load_end,
			    load_addr);
	*flen = load_end - load_addr;
	if (*flen > l->len - *foff)
		return fail(l, ST_ETRUNC,
			    "multiboot load range needs 0x%llx bytes from file offset 0x%llx, "
			    "image has 0x%llx",
			    ull(*flen), ull(*foff), ull(l->len));
	return ST_OK;
}

static status_t load_aout(struct ld *l, uint64_t hoff)
{
	const uint8_t *h = l->img + hoff;
	uint32_t load_addr = ld32(h + HDR_LOAD_ADDR);
	uint32_t bss_end = ld32(h + HDR_BSS_END);
	uint32_t entry = ld32(h + HDR_ENTRY);
	struct seg s = {.paddr = load_addr};
	uint64_t fend;
	status_t st = aout_file_range(l, hoff, &s.off, &s.filesz);

	if (st)
		return st;
	if (s.filesz > FOUR_GIB - load_addr)
		return fail(l, ST_EINVAL, "multiboot load range 0x%08x + 0x%llx wraps past 4 GiB",
			    load_addr, ull(s.filesz));
	fend = load_addr + s.filesz;
	if (bss_end && bss_end < fend)
		return fail(l, ST_EINVAL,
			    "multiboot bss_end_addr 0x%08x is below the load end 0x%llx", bss_end,
			    ull(fend));
	s.memsz = (bss_end ? bss_end : fend) - load_addr;
	if (entry < load_addr || entry >= fend)
		return fail(l, ST_EINVAL,
			    "multiboot entry_addr 0x%08x lies outside the loaded range "
			    "[0x%08x, 0x%llx)",
			    entry, load_addr, ull(fend));
	l->entry = entry;
	return place_seg(l, "multiboot load range", &s);
}

/* ---- ELF32 kernel (no address fields) ---- */

static status_t check_ehdr(struct ld *l)
{
	const uint8_t *e = l->img;
	uint64_t phoff, phbytes;

	if (l->len < EI_NIDENT || memcmp(e, elf_magic, sizeof(elf_magic)))
		return fail(l, ST_EINVAL,
			    "image has no multiboot address fields (flag 16) and is not ELF");
	if (e[EI_CLASS] == ELFCLASS64)
		return fail(l, ST_ENOTSUP, "ELF64 image: a multiboot kernel must be 32-bit ELF");
	if (e[EI_CLASS] != ELFCLASS32)
		return fail(l, ST_ENOTSUP, "ELF class %u is not ELFCLASS32", e[EI_CLASS]);
	if (l->len < EH_SIZE)
		return fail(l, ST_ETRUNC, "ELF header needs %u bytes, image has 0x%llx", EH_SIZE,
			    ull(l->len));
	if (e[EI_DATA] != ELFDATA2LSB)
		return fail(l, ST_ENOTSUP, "ELF data encoding %u is not little-endian", e[EI_DATA]);
	if (ld16(e + EH_TYPE) != ET_EXEC)
		return fail(l, ST_ENOTSUP, "ELF type %u is not ET_EXEC (2)", ld16(e + EH_TYPE));
	if (ld16(e + EH_MACHINE) != EM_386)
		return fail(l, ST_ENOTSUP, "ELF machine %u is not EM_386 (3)",
			    ld16(e + EH_MACHINE));
	if (ld16(e + EH_PHENTSIZE) < PH_SIZE)
		return fail(l, ST_EINVAL, "ELF program header size %u is below %u",
			    ld16(e + EH_PHENTSIZE), PH_SIZE);
	if (ld16(e + EH_PHNUM) == 0)
		return fail(l, ST_EINVAL, "ELF has no program headers");
	phoff = ld32(e + EH_PHOFF);
	phbytes = (uint64_t)ld16(e + EH_PHNUM) * ld16(e + EH_PHENTSIZE);
	if (phoff > l->len || phbytes > l->len - phoff)
		return fail(l, ST_ETRUNC,
			    "ELF program headers (%u x %u bytes at offset 0x%llx) run past the end "
			    "of the image (0x%llx bytes)",
			    ld16(e + EH_PHNUM), ld16(e + EH_PHENTSIZE), ull(phoff), ull(l->len));
	return ST_OK;
}

/* Program header i; check_ehdr has made sure it lies in the image. */
static void read_phdr(const struct ld *l, unsigned i, struct seg *s)
{
	const uint8_t *p =
	    l->img + ld32(l->img + EH_PHOFF) + (uint64_t)i * ld16(l->img + EH_PHENTSIZE);

	s->type = ld32(p + PH_TYPE);
	s->off = ld32(p + PH_OFFSET);
	s->vaddr = ld32(p + PH_VADDR);
	s->paddr = ld32(p + PH_PADDR);
	s->filesz = ld32(p + PH_FILESZ);
	s->memsz = ld32(p + PH_MEMSZ);
}

static status_t load_phdr(struct ld *l, unsigned i, const struct seg *s)
{
	char what[32];

	if (s->filesz > s->memsz)
		return fail(l, ST_EINVAL, "ELF segment %u: filesz 0x%llx exceeds memsz 0x%llx", i,
			    ull(s->filesz), ull(s->memsz));
	if (s->filesz && (s->off > l->len || s->filesz > l->len - s->off))
		return fail(l, ST_ETRUNC,
			    "ELF segment %u: file bytes 0x%llx+0x%llx run past the end of the "
			    "image (0x%llx bytes)",
			    i, ull(s->off), ull(s->filesz), ull(l->len));
	if (s->paddr + s->memsz > FOUR_GIB)
		return fail(l, ST_EINVAL, "ELF segment %u at 0x%08llx + 0x%llx wraps past 4 GiB", i,
			    ull(s->paddr), ull(s->memsz));
	if (s->memsz == 0)
		return ST_OK;
	ksnprintf(what, sizeof(what), "ELF segment %u", i);
	return place_seg(l, what, s);
}

/* e_entry as a physical address: inside some segment's file bytes, by
 * virtual address first (a kernel linked high but loaded low, as GRUB and
 * QEMU translate it), else by physical address. */
static status_t elf_entry(struct ld *l)
{
	uint32_t e = ld32(l->img + EH_ENTRY);
	unsigned n = ld16(l->img + EH_PHNUM);
	struct seg s;

	for (int phys = 0; phys < 2; phys++) {
		for (unsigned i = 0; i < n; i++) {
			uint64_t base;

			read_phdr(l, i, &s);
			base = phys ? s.paddr : s.vaddr;
			if (s.type != PT_LOAD || e < base || e - base >= s.filesz)
				continue;
			l->entry = (uint32_t)(s.paddr + (e - base));
			return ST_OK;
		}
	}
	return fail(l, ST_EINVAL, "ELF entry 0x%08x lies outside every loaded segment", e);
}

static status_t load_elf(struct ld *l)
{
	unsigned n;
	struct seg s;
	status_t st = check_ehdr(l);

	if (st)
		return st;
	n = ld16(l->img + EH_PHNUM);
	for (unsigned i = 0; i < n; i++) {
		read_phdr(l, i, &s);
		if (s.type != PT_LOAD)
			continue;
		st = load_phdr(l, i, &s);
		if (st)
			return st;
	}
	if (l->kend == 0)
		return fail(l, ST_EINVAL, "ELF has no loadable segment");
	return elf_entry(l);
}

static status_t load_kernel(struct ld *l)
{
	uint64_t hoff;
	uint32_t flags, unknown;
	status_t st = find_header(l, &hoff);

	if (st)
		return st;
	flags = ld32(l->img + hoff + HDR_FLAGS);
	unknown = flags & FLAGS_REQUIRED & ~FLAGS_KNOWN;
	if (unknown)
		return fail(l, ST_ENOTSUP,
			    "multiboot header flags 0x%08x ask for unsupported features (bits "
			    "0x%04x)",
			    flags, unknown);
	l->kstart = UINT64_MAX;
	l->kend = 0;
	if (!(flags & FLAG_ADDR_VALID))
		return load_elf(l);
	if (hoff + HDR_ADDR_END > l->len)
		return fail(l, ST_ETRUNC,
			    "multiboot header at offset 0x%llx: address fields run past the end of "
			    "the image (0x%llx bytes)",
			    ull(hoff), ull(l->len));
	if (hoff + HDR_ADDR_END > MB1_SEARCH_LIMIT)
		return fail(l, ST_EINVAL,
			    "multiboot header at offset 0x%llx: address fields extend past the "
			    "first %u bytes",
			    ull(hoff), MB1_SEARCH_LIMIT);
	return load_aout(l, hoff);
}

/* ---- the multiboot information in the scratch area ---- */

/* Reserves len bytes at *cur, aligned; false when the scratch area is
 * full. *cur never passes MB1_SCRATCH_END, which is aligned, so neither
 * does the aligned start. */
static bool take(uint64_t *cur, uint64_t len, uint64_t *addr)
{
	uint64_t a = SCRATCH_UP(*cur);

	if (len > MB1_SCRATCH_END - a)
		return false;
	*addr = a;
	*cur = a + len;
	return true;
}

static status_t scratch_full(struct ld *l, const char *what, uint64_t len)
{
	return fail(l, ST_ENOMEM,
		    "%s (0x%llx bytes) does not fit in the multiboot scratch area [0x%x, 0x%x)",
		    what, ull(len), MB1_SCRATCH_BASE, MB1_SCRATCH_END);
}

static void mmap_entry(uint8_t *e, uint64_t base, uint64_t len, uint32_t type)
{
	st32(e, MMAP_SIZE_FIELD);
	st64(e + 4, base);
	st64(e + 12, len);
	st32(e + 20, type);
}

static unsigned mmap_count(const struct ld *l)
{
	return MMAP_FIXED + l->mem->nhigh;
}

static status_t put_mmap(struct ld *l)
{
	uint8_t map[MMAP_MAX * MMAP_ENTRY];
	uint8_t *e = map + MMAP_FIXED * MMAP_ENTRY;

	mmap_entry(map, 0, MB1_LOW_RAM_END, MMAP_RAM);
	mmap_entry(map + MMAP_ENTRY, MB1_LOW_RAM_END, MB1_KERNEL_MIN - MB1_LOW_RAM_END,
		   MMAP_RESERVED);
	mmap_entry(map + 2 * MMAP_ENTRY, MB1_KERNEL_MIN, l->mem->ram_size - MB1_KERNEL_MIN,
		   MMAP_RAM);
	for (unsigned i = 0; i < l->mem->nhigh; i++, e += MMAP_ENTRY)
		mmap_entry(e, l->mem->high[i].base, l->mem->high[i].len, MMAP_RAM);
	return put(l, MMAP_ADDR, map, mmap_count(l) * MMAP_ENTRY);
}

/* A NUL-terminated copy of str in the scratch area at *addr. */
static status_t put_str(struct ld *l, uint64_t *cur, const char *str, const char *what,
			uint64_t *addr)
{
	size_t len = strlen(str) + 1;

	if (!take(cur, len, addr))
		return scratch_full(l, what, len);
	return put(l, *addr, str, len);
}

/* Module i goes at the first page boundary at or above *next; its string
 * goes in the scratch area and its 16-byte entry at slot. */
static status_t put_module(struct ld *l, unsigned i, uint64_t *cur, uint64_t *next, uint64_t slot)
{
	const struct mb1_module *m = &l->mods[i];
	uint64_t ram = l->mem->ram_size;
	uint64_t start = (*next + MB1_PAGE - 1) & ~(uint64_t)(MB1_PAGE - 1);
	uint64_t str_addr;
	uint8_t ent[MOD_ENTRY] = {0};
	char what[40];
	status_t st;

	if (m->len && !m->data)
		return fail(l, ST_EINVAL, "module %u has 0x%zx bytes but no data", i, m->len);
	if (start > ram || m->len > ram - start)
		return fail(l, ST_ENOMEM,
			    "module %u (0x%zx bytes at 0x%llx) does not fit in RAM (0x%llx bytes)",
			    i, m->len, ull(start), ull(ram));
	ksnprintf(what, sizeof(what), "module %u's string", i);
	st = put_str(l, cur, m->string ? m->string : "", what, &str_addr);
	if (st)
		return st;
	st = put(l, start, m->data, m->len);
	if (st)
		return st;
	st32(ent, (uint32_t)start);
	st32(ent + 4, (uint32_t)(start + m->len));
	st32(ent + 8, (uint32_t)str_addr);
	*next = start + m->len;
	return put(l, slot, ent, sizeof(ent));
}

static status_t put_modules(struct ld *l, uint64_t *cur, uint64_t *addr)
{
	uint64_t bytes = (uint64_t)l->nmods * MOD_ENTRY;
	uint64_t next = l->kend;
	char what[40];
	status_t st;

	if (!take(cur, bytes, addr)) {
		ksnprintf(what, sizeof(what), "the list of %u modules", l->nmods);
		return scratch_full(l, what, bytes);
	}
	for (unsigned i = 0; i < l->nmods; i++) {
		st = put_module(l, i, cur, &next, *addr + (uint64_t)i * MOD_ENTRY);
		if (st)
			return st;
	}
	l->highest = next;
	return ST_OK;
}

static status_t build_info(struct ld *l)
{
	uint8_t mbi[MBI_SIZE] = {0};
	uint64_t cur = VAR_BASE, cmd = 0, mods = 0;
	status_t st = put_mmap(l);

	if (!st)
		st = put(l, NAME_ADDR, loader_name, sizeof(loader_name));
	if (!st)
		st = put_str(l, &cur, l->cmdline, "the command line", &cmd);
	if (!st)
		st = put_modules(l, &cur, &mods);
	if (st)
		return st;
	st32(mbi + MBI_FLAGS, MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP | MBI_F_LOADER);
	st32(mbi + MBI_MEM_LOWER, MEM_LOWER_KIB);
	/* Only the RAM contiguous from 1 MiB, as the field means; the
	 * memory map shows the rest. */
	st32(mbi + MBI_MEM_UPPER, (uint32_t)((l->mem->ram_size - MB1_KERNEL_MIN) / KIB));
	st32(mbi + MBI_CMDLINE, (uint32_t)cmd);
	st32(mbi + MBI_MODS_COUNT, l->nmods);
	st32(mbi + MBI_MODS_ADDR, (uint32_t)mods);
	st32(mbi + MBI_MMAP_LENGTH, mmap_count(l) * MMAP_ENTRY);
	st32(mbi + MBI_MMAP_ADDR, MMAP_ADDR);
	st32(mbi + MBI_LOADER_NAME, NAME_ADDR);
	return put(l, MBI_ADDR, mbi, sizeof(mbi));
}

static status_t load_all(struct ld *l)
{
	status_t st = load_kernel(l);

	if (st)
		return st;
	return build_info(l);
}

bool mb1_probe(const uint8_t *image, size_t image_len)
{
	uint64_t off;

	return image && scan_header(image, image_len, &off) == SCAN_FOUND;
}

status_t mb1_load(const uint8_t *image, size_t image_len, const char *cmdline,
		  const struct mb1_module *mods, unsigned nmods, const struct mb1_mem *mem,
		  struct mb1_result *out, char *why, size_t whylen)
{
	struct ld l = {.img = image,
		       .len = image_len,
		       .cmdline = cmdline ? cmdline : "",
		       .mods = mods,
		       .nmods = nmods,
		       .mem = mem,
		       .why = why,
		       .whylen = whylen};
	status_t st;

	if (why && whylen)
		why[0] = '\0';
	if (!image || !mem || !mem->write || !mem->zero || !out || (nmods && !mods) ||
	    (mem->nhigh && !mem->high))
		return fail(&l, ST_EINVAL, "mb1_load: NULL argument");
	st = check_ram(&l);
	if (!st)
		st = check_high(&l);
	if (!st)
		st = load_all(&l);
	if (st)
		return st;
	l.commit = true;
	st = load_all(&l);
	if (st)
		return st;
	out->entry = l.entry;
	out->mbi = MBI_ADDR;
	out->kernel_start = l.kstart;
	out->kernel_end = l.kend;
	out->highest = l.highest;
	return ST_OK;
}
