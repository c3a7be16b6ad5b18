/* Multiboot2 boot-information parser (Multiboot2 specification 1.0, section
 * "Boot information format"). Every length read from the MBI is checked
 * against the bytes the caller said are readable before it is used. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot/mb2.h"
#include "core/fmt.h"
#include "keel/kstring.h"

enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_EFI32_ST = 11,
	MB2_TAG_EFI64_ST = 12,
	MB2_TAG_RSDP_OLD = 14,
	MB2_TAG_RSDP_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
};

#define MB2_HDR_LEN 8u /* total_size + reserved, also each tag header */
#define MB2_MMAP_ENTRY_MIN 24u
#define RSDP_V1_LEN 20u

struct mb2_ctx {
	const uint8_t *base;
	uint32_t total;
	struct boot_info *out;
	char *err;
	size_t errlen;
	bool rsdp_new; /* tag 15 seen: it wins over tag 14 whatever the order */
};

/* The tag currently being parsed; payload excludes the 8-byte header. */
struct mb2_tag {
	uint32_t type;
	uint32_t off;
	const uint8_t *p;
	uint32_t plen;
};

/* Unaligned-safe loads: callers may hand us any buffer. */
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

__attribute__((format(printf, 3, 4))) static status_t fail(struct mb2_ctx *c, status_t st,
							   const char *fmt, ...)
{
	va_list ap;

	if (!c->err || !c->errlen)
		return st;
	va_start(ap, fmt);
	kvsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return st;
}

static status_t need(struct mb2_ctx *c, const struct mb2_tag *t, uint32_t min)
{
	if (t->plen >= min)
		return ST_OK;
	return fail(c, ST_EINVAL, "multiboot2: tag %u at offset %u has size %u (< %u)", t->type,
		    t->off, t->plen + MB2_HDR_LEN, min + MB2_HDR_LEN);
}

/* Copy a string that must end inside [p, p+len) into dst[dstsize]. */
static status_t copy_str(struct mb2_ctx *c, const struct mb2_tag *t, const uint8_t *p, uint32_t len,
			 char *dst, size_t dstsize, const char *limit)
{
	size_t n = strnlen((const char *)p, len);

	if (n == len)
		return fail(c, ST_EINVAL,
			    "multiboot2: tag %u at offset %u: string not NUL-terminated", t->type,
			    t->off);
	if (n >= dstsize)
		return fail(c, ST_ERANGE,
			    "multiboot2: tag %u at offset %u: string of %u bytes exceeds %s (%u)",
			    t->type, t->off, (unsigned)n, limit, (unsigned)dstsize);
	memcpy(dst, p, n + 1);
	return ST_OK;
}

static status_t tag_module(struct mb2_ctx *c, const struct mb2_tag *t)
{
	struct boot_info *o = c->out;
	status_t st = need(c, t, 9); /* two u32 plus at least the NUL */
	uint32_t start, end;

	if (st)
		return st;
	start = ld32(t->p);
	end = ld32(t->p + 4);
	if (end < start)
		return fail(c, ST_EINVAL,
			    "multiboot2: module at offset %u ends (%u) before it starts (%u)",
			    t->off, end, start);
	if (o->module_count >= BOOT_MAX_MODULES)
		return fail(c, ST_ERANGE, "multiboot2: more than BOOT_MAX_MODULES (%u) modules",
			    BOOT_MAX_MODULES);
	st = copy_str(c, t, t->p + 8, t->plen - 8, o->modules[o->module_count].name,
		      BOOT_MODNAME_MAX, "BOOT_MODNAME_MAX");
	if (st)
		return st;
	o->modules[o->module_count].start = start;
	o->modules[o->module_count].end = end;
	o->module_count++;
	return ST_OK;
}

static uint32_t mem_type_of(uint32_t mb2_type)
{
	switch (mb2_type) {
	case 1:
		return MEM_USABLE;
	case 3:
		return MEM_ACPI_RECLAIM;
	case 4:
		return MEM_ACPI_NVS;
	case 5:
		return MEM_BAD;
	}
	return MEM_RESERVED; /* spec: every other value is reserved */
}

static status_t mmap_entry(struct mb2_ctx *c, const uint8_t *e)
{
	struct boot_info *o = c->out;
	uint64_t len = ld64(e + 8);

	if (!len)
		return ST_OK; /* some firmware reports empty ranges; they mean nothing */
	if (o->memmap_count >= BOOT_MAX_MEMMAP)
		return fail(c, ST_ERANGE,
			    "multiboot2: more than BOOT_MAX_MEMMAP (%u) memory map entries",
			    BOOT_MAX_MEMMAP);
	o->memmap[o->memmap_count].base = ld64(e);
	o->memmap[o->memmap_count].len = len;
	o->memmap[o->memmap_count].type = mem_type_of(ld32(e + 16));
	o->memmap_count++;
	return ST_OK;
}

static status_t tag_mmap(struct mb2_ctx *c, const struct mb2_tag *t)
{
	status_t st = need(c, t, 8);
	uint32_t esz, body;

	if (st)
		return st;
	esz = ld32(t->p);
	/* Larger entries are allowed (future fields), so step by entry_size. */
	if (esz < MB2_MMAP_ENTRY_MIN || esz % 8)
		return fail(c, ST_EINVAL,
			    "multiboot2: memory map at offset %u has entry_size %u (need >= 24, "
			    "multiple of 8)",
			    t->off, esz);
	body = t->plen - 8;
	if (body % esz)
		return fail(c, ST_EINVAL,
			    "multiboot2: memory map at offset %u: %u bytes is not a whole number "
			    "of %u-byte entries",
			    t->off, body, esz);
	for (uint32_t i = 0; i < body; i += esz) {
		st = mmap_entry(c, t->p + 8 + i);
		if (st)
			return st;
	}
	return ST_OK;
}

static status_t tag_rsdp(struct mb2_ctx *c, const struct mb2_tag *t)
{
	struct boot_info *o = c->out;
	bool is_new = t->type == MB2_TAG_RSDP_NEW;
	status_t st = need(c, t, RSDP_V1_LEN);
	uint32_t n;

	if (st)
		return st;
	if (!is_new && c->rsdp_new)
		return ST_OK;
	n = is_new ? t->plen : RSDP_V1_LEN;
	if (n > BOOT_RSDP_MAX)
		n = BOOT_RSDP_MAX; /* bytes past the ACPI 2.0 RSDP are not part of it */
	memset(o->rsdp, 0, sizeof(o->rsdp));
	memcpy(o->rsdp, t->p, n);
	o->rsdp_len = n;
	c->rsdp_new = c->rsdp_new || is_new;
	return ST_OK;
}

static status_t tag_efi(struct mb2_ctx *c, const struct mb2_tag *t)
{
	status_t st = ST_OK;

	if (t->type == MB2_TAG_EFI64_ST) {
		st = need(c, t, 8);
		if (!st)
			c->out->efi_system_table = ld64(t->p);
	} else if (t->type == MB2_TAG_EFI32_ST) {
		/* A 32-bit table is unusable from long mode; it only tells us the
		 * firmware kind. */
		st = need(c, t, 4);
	}
	if (!st)
		c->out->firmware = FW_UEFI;
	return st;
}

static status_t handle_tag(struct mb2_ctx *c, const struct mb2_tag *t)
{
	struct boot_info *o = c->out;

	switch (t->type) {
	case MB2_TAG_CMDLINE:
		return copy_str(c, t, t->p, t->plen, o->cmdline, BOOT_CMDLINE_MAX,
				"BOOT_CMDLINE_MAX");
	case MB2_TAG_LOADER:
		return copy_str(c, t, t->p, t->plen, o->loader_name, BOOT_LOADER_NAME_MAX,
				"BOOT_LOADER_NAME_MAX");
	case MB2_TAG_MODULE:
		return tag_module(c, t);
	case MB2_TAG_MMAP:
		return tag_mmap(c, t);
	case MB2_TAG_RSDP_OLD:
	case MB2_TAG_RSDP_NEW:
		return tag_rsdp(c, t);
	case MB2_TAG_EFI32_ST:
	case MB2_TAG_EFI64_ST:
	case MB2_TAG_EFI_MMAP:
		return tag_efi(c, t);
	}
	return ST_OK; /* unknown tags are skipped, as the spec requires */
}

/* Validate the tag header at off; on success fill *t. */
static status_t read_tag(struct mb2_ctx *c, uint32_t off, struct mb2_tag *t)
{
	uint32_t size = ld32(c->base + off + 4);

	t->type = ld32(c->base + off);
	t->off = off;
	if (size < MB2_HDR_LEN)
		return fail(c, ST_EINVAL, "multiboot2: tag %u at offset %u has size %u (< 8)",
			    t->type, off, size);
	if (size > c->total - off)
		return fail(c, ST_ETRUNC,
			    "multiboot2: tag %u at offset %u has size %u, past total_size %u",
			    t->type, off, size, c->total);
	if (t->type == MB2_TAG_END && size != MB2_HDR_LEN)
		return fail(c, ST_EINVAL, "multiboot2: end tag at offset %u has size %u (!= 8)",
			    off, size);
	t->p = c->base + off + MB2_HDR_LEN;
	t->plen = size - MB2_HDR_LEN;
	return ST_OK;
}

static status_t walk_tags(struct mb2_ctx *c)
{
	/* 64-bit so that rounding a size near 4 GiB up cannot wrap. */
	uint64_t off = MB2_HDR_LEN;
	struct mb2_tag t;
	status_t st;

	while (off + MB2_HDR_LEN <= c->total) {
		st = read_tag(c, (uint32_t)off, &t);
		if (st)
			return st;
		if (t.type == MB2_TAG_END)
			return ST_OK;
		st = handle_tag(c, &t);
		if (st)
			return st;
		off += ((uint64_t)t.plen + MB2_HDR_LEN + 7) & ~7ull; /* tags are 8-aligned */
	}
	return fail(c, ST_EINVAL, "multiboot2: no end tag within total_size %u", c->total);
}

status_t mb2_parse(const void *info, size_t max_len, struct boot_info *out, char *err,
		   size_t errlen)
{
	struct mb2_ctx c = {.base = info, .out = out, .err = err, .errlen = errlen};

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return fail(&c, ST_EINVAL, "multiboot2: no output record");
	memset(out, 0, sizeof(*out));
	if (!info)
		return fail(&c, ST_EINVAL, "multiboot2: no boot information pointer");
	if (max_len < 16)
		return fail(&c, ST_ETRUNC, "multiboot2: only %u readable bytes (< 16)",
			    (unsigned)max_len);
	c.total = ld32(c.base);
	if (c.total < 16)
		return fail(&c, ST_EINVAL, "multiboot2: total_size %u (< 16)", c.total);
	if (c.total > max_len)
		return fail(&c, ST_ETRUNC, "multiboot2: total_size %u exceeds %u readable bytes",
			    c.total, max_len > UINT32_MAX ? UINT32_MAX : (unsigned)max_len);
	return walk_tags(&c);
}
