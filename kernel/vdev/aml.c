/* AML encoder (see aml.h). Opcode and descriptor values are from the ACPI
 * 6.x specification: section 20.2 (AML grammar) and 6.4 (resource data
 * types). */
#include "vdev/aml.h"
#include "keel/kstring.h"

/* 20.2.2 name objects, 20.2.3 data objects, 20.2.5 term objects */
#define AML_NULL_NAME 0x00
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_STRING_PREFIX 0x0D
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2E
#define AML_MULTI_NAME_PREFIX 0x2F
#define AML_EXT_OP_PREFIX 0x5B
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR 0x5C
#define AML_PARENT_PREFIX 0x5E
#define AML_RETURN_OP 0xA4

/* PkgLength (20.2.4): the lead byte's bits 7-6 count the bytes that follow;
 * a one-byte encoding holds 6 bits, longer ones 4 bits in the lead byte
 * and 8 in each following byte. */
#define PKGLEN_ONE_BYTE_MAX 0x3Fu
#define PKGLEN_LEAD_NIBBLE 0x0Fu
#define PKGLEN_COUNT_SHIFT 6

#define METHOD_SERIALIZED 0x08
#define INT_MAX_BYTES 9		 /* QWordPrefix + 8 */
#define MAX_MULTI_NAME_SEGS 255u /* SegCount is a byte */
#define MAX_PACKAGE_ELEMENTS 255u

/* 6.4 resource descriptors */
#define RT_SMALL_IO 0x47 /* item 0x08, 7 data bytes */
#define RT_IO_DECODE16 0x01
#define RT_END_TAG 0x79 /* item 0x0F, 1 data byte */
#define RT_QWORD_ADDR 0x8A
#define RT_DWORD_ADDR 0x87
#define RT_WORD_ADDR 0x88
#define RT_ADDR_FIXED_LEN 3 /* type, general flags, type-specific flags */
#define RT_ADDR_FIELDS 5    /* granularity, min, max, translation, length */
#define RT_TYPE_MEMORY 0
#define RT_TYPE_IO 1
#define RT_TYPE_BUS 2
#define RT_GEN_MIN_FIXED 0x04
#define RT_GEN_MAX_FIXED 0x08
#define RT_MEM_READ_WRITE 0x01 /* and NonCacheable, AddressRangeMemory */
#define RT_IO_ENTIRE_RANGE 0x03

/* EISA IDs: letters are 5 bits each, 'A' = 1. */
#define EISAID_LEN 7
#define EISAID_LETTERS 3
#define EISAID_LETTER_BASE 0x40

/* ---- the buffer ---- */

void aml_init(struct aml *a, void *buf, size_t cap)
{
	a->buf = buf;
	a->cap = buf ? cap : 0;
	a->len = 0;
	a->st = buf || cap == 0 ? ST_OK : ST_EINVAL;
}

status_t aml_status(const struct aml *a)
{
	return a->st;
}

size_t aml_len(const struct aml *a)
{
	return a->len;
}

static void fail(struct aml *a, status_t st)
{
	if (a->st == ST_OK)
		a->st = st;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->st != ST_OK || n == 0)
		return;
	if (n > a->cap - a->len) {
		fail(a, ST_ERANGE);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[sizeof(uint64_t)];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/* ---- PkgLength ---- */

static unsigned pkglen_bytes(uint32_t value)
{
	if (value <= PKGLEN_ONE_BYTE_MAX)
		return 1;
	if (value <= 0xFFFu)
		return 2;
	if (value <= 0xFFFFFu)
		return 3;
	return value <= AML_PKGLEN_MAX ? 4 : 0;
}

unsigned aml_pkglen_encode(uint32_t value, uint8_t out[AML_PKGLEN_MAX_BYTES])
{
	unsigned n = pkglen_bytes(value);

	if (n <= 1) {
		out[0] = (uint8_t)value;
		return n;
	}
	out[0] = (uint8_t)((n - 1) << PKGLEN_COUNT_SHIFT | (value & PKGLEN_LEAD_NIBBLE));
	for (unsigned i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

/* The PkgLength for `content` bytes after it: it counts itself, so pick the
 * first width whose value fits that width. */
static unsigned pkglen_for(size_t content, uint8_t out[AML_PKGLEN_MAX_BYTES])
{
	for (unsigned n = 1; n <= AML_PKGLEN_MAX_BYTES; n++) {
		if (content + n <= AML_PKGLEN_MAX && pkglen_bytes((uint32_t)(content + n)) == n)
			return aml_pkglen_encode((uint32_t)(content + n), out);
	}
	return 0;
}

/* ---- names ---- */

static bool lead_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_name_char(c) || (c >= '0' && c <= '9');
}

static size_t seg_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != '.')
		n++;
	return n;
}

static bool seg_valid(const char *s, size_t n)
{
	if (n == 0 || n > AML_NAMESEG_LEN || !lead_name_char(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* Counts the dot-separated segments of p; 0 for an invalid path. */
static unsigned count_segs(const char *p)
{
	unsigned n = 0;

	for (;;) {
		size_t len = seg_len(p);

		if (!seg_valid(p, len) || n == MAX_MULTI_NAME_SEGS)
			return 0;
		n++;
		if (!p[len])
			return n;
		p += len + 1;
	}
}

static void emit_seg(struct aml *a, const char *s)
{
	uint8_t seg[AML_NAMESEG_LEN] = {'_', '_', '_', '_'};

	memcpy(seg, s, seg_len(s));
	aml_bytes(a, seg, sizeof(seg));
}

static void emit_segs(struct aml *a, const char *p, unsigned n)
{
	if (n == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (n > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)n);
	}
	for (unsigned i = 0; i < n; i++) {
		emit_seg(a, p);
		p += seg_len(p) + 1;
	}
}

/* Emits RootChar or ParentPrefixChars; returns what follows them. */
static const char *emit_prefix(struct aml *a, const char *p)
{
	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		return p + 1;
	}
	for (; *p == '^'; p++)
		aml_byte(a, AML_PARENT_PREFIX);
	return p;
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *p;
	unsigned n;

	if (!path || !*path) {
		fail(a, ST_EINVAL);
		return;
	}
	p = emit_prefix(a, path);
	if (!*p && p != path) { /* "\\" or "^": the prefix and NullName */
		aml_byte(a, AML_NULL_NAME);
		return;
	}
	n = count_segs(p);
	if (n == 0) {
		fail(a, ST_EINVAL);
		return;
	}
	emit_segs(a, p, n);
}

/* ---- data objects ---- */

static unsigned int_encode(uint64_t v, uint8_t out[INT_MAX_BYTES])
{
	unsigned n;

	if (v == 0 || v == 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (unsigned i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[INT_MAX_BYTES];

	aml_bytes(a, b, int_encode(v, b));
}

void aml_string(struct aml *a, const char *s)
{
	size_t n;

	if (!s) {
		fail(a, ST_EINVAL);
		return;
	}
	n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		if ((uint8_t)s[i] > 0x7F) { /* AsciiCharList: 0x01-0x7F */
			fail(a, ST_EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, n + 1); /* with the NullChar */
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

status_t aml_eisaid_value(const char *id, uint32_t *out)
{
	uint32_t letters = 0, digits = 0;

	if (!id || !out || strnlen(id, EISAID_LEN + 1) != EISAID_LEN)
		return ST_EINVAL;
	for (unsigned i = 0; i < EISAID_LETTERS; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return ST_EINVAL;
		letters = letters << 5 | (uint32_t)(id[i] - EISAID_LETTER_BASE);
	}
	for (unsigned i = EISAID_LETTERS; i < EISAID_LEN; i++) {
		int d = hex_digit(id[i]);

		if (d < 0)
			return ST_EINVAL;
		digits = digits << 4 | (uint32_t)d;
	}
	/* Stored big-endian in the DWord's bytes: letters in bytes 0-1, the
	 * digits in bytes 2-3. */
	*out = (letters >> 8) | (letters & 0xFF) << 8 | (digits >> 8) << 16 | (digits & 0xFF) << 24;
	return ST_OK;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (aml_eisaid_value(id, &v) != ST_OK) {
		fail(a, ST_EINVAL);
		return;
	}
	aml_byte(a, AML_DWORD_PREFIX);
	put_le(a, v, sizeof(v));
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

/* ---- terms with a PkgLength ---- */

/* Nothing is reserved: aml_end() inserts the PkgLength (and a Buffer's
 * BufferSize) once the body's length is known, so a buffer exactly the size
 * of the output is enough. */
static struct aml_pkg open_pkg(struct aml *a, bool sized)
{
	struct aml_pkg p = {.pkglen_at = a->len, .sized = sized};

	return p;
}

void aml_end(struct aml *a, struct aml_pkg p)
{
	uint8_t hdr[AML_PKGLEN_MAX_BYTES + INT_MAX_BYTES];
	size_t body, nsize = 0, npkg;

	if (a->st != ST_OK)
		return;
	if (p.pkglen_at > a->len) { /* not a mark from this builder */
		fail(a, ST_EINVAL);
		return;
	}
	body = a->len - p.pkglen_at;
	if (p.sized)
		nsize = int_encode(body, hdr + AML_PKGLEN_MAX_BYTES);
	npkg = pkglen_for(nsize + body, hdr);
	if (npkg == 0 || npkg + nsize > a->cap - a->len) {
		fail(a, ST_ERANGE);
		return;
	}
	memmove(hdr + npkg, hdr + AML_PKGLEN_MAX_BYTES, nsize);
	memmove(a->buf + p.pkglen_at + npkg + nsize, a->buf + p.pkglen_at, body);
	memcpy(a->buf + p.pkglen_at, hdr, npkg + nsize);
	a->len += npkg + nsize;
}

struct aml_pkg aml_scope(struct aml *a, const char *path)
{
	struct aml_pkg p;

	aml_byte(a, AML_SCOPE_OP);
	p = open_pkg(a, false);
	aml_name_string(a, path);
	return p;
}

struct aml_pkg aml_device(struct aml *a, const char *path)
{
	struct aml_pkg p;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	p = open_pkg(a, false);
	aml_name_string(a, path);
	return p;
}

struct aml_pkg aml_method(struct aml *a, const char *path, unsigned nargs, bool serialized)
{
	struct aml_pkg p;

	if (nargs > AML_MAX_ARGS)
		fail(a, ST_EINVAL);
	aml_byte(a, AML_METHOD_OP);
	p = open_pkg(a, false);
	aml_name_string(a, path);
	aml_byte(a, (uint8_t)(nargs | (serialized ? METHOD_SERIALIZED : 0)));
	return p;
}

struct aml_pkg aml_package(struct aml *a, unsigned nelems)
{
	struct aml_pkg p;

	if (nelems > MAX_PACKAGE_ELEMENTS)
		fail(a, ST_EINVAL);
	aml_byte(a, AML_PACKAGE_OP);
	p = open_pkg(a, false);
	aml_byte(a, (uint8_t)nelems);
	return p;
}

struct aml_pkg aml_buffer(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	return open_pkg(a, true);
}

void aml_return_integer(struct aml *a, uint64_t v)
{
	aml_byte(a, AML_RETURN_OP);
	aml_integer(a, v);
}

void aml_return_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_RETURN_OP);
	aml_name_string(a, path);
}

/* ---- resource descriptors ---- */

static void rt_address(struct aml *a, uint8_t tag, unsigned width, uint8_t type, uint8_t gen,
		       uint8_t specific, uint64_t min, uint64_t max)
{
	aml_byte(a, tag);
	put_le(a, RT_ADDR_FIXED_LEN + RT_ADDR_FIELDS * width, 2);
	aml_byte(a, type);
	aml_byte(a, gen | RT_GEN_MIN_FIXED | RT_GEN_MAX_FIXED);
	aml_byte(a, specific);
	put_le(a, 0, width); /* granularity: none, the window is fixed */
	put_le(a, min, width);
	put_le(a, max, width);
	put_le(a, 0, width); /* translation offset */
	put_le(a, max - min + 1, width);
}

/* min..max must be ordered and its length fit in `limit`. */
static bool range_ok(struct aml *a, uint64_t min, uint64_t max, uint64_t limit)
{
	if (min > max || max - min >= limit) {
		fail(a, ST_EINVAL);
		return false;
	}
	return true;
}

void aml_rt_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
	if (range_ok(a, min, max, UINT16_MAX))
		rt_address(a, RT_WORD_ADDR, 2, RT_TYPE_BUS, AML_RT_PRODUCER, 0, min, max);
}

void aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	if (!range_ok(a, min, max, UINT16_MAX + 1ull))
		return;
	aml_byte(a, RT_SMALL_IO);
	aml_byte(a, RT_IO_DECODE16);
	put_le(a, min, 2);
	put_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	if (range_ok(a, min, max, UINT16_MAX))
		rt_address(a, RT_WORD_ADDR, 2, RT_TYPE_IO, AML_RT_PRODUCER, RT_IO_ENTIRE_RANGE, min,
			   max);
}

void aml_rt_dword_memory(struct aml *a, enum aml_rt_usage usage, uint32_t min, uint32_t max)
{
	if (range_ok(a, min, max, UINT32_MAX))
		rt_address(a, RT_DWORD_ADDR, 4, RT_TYPE_MEMORY, (uint8_t)usage, RT_MEM_READ_WRITE,
			   min, max);
}

void aml_rt_qword_memory(struct aml *a, enum aml_rt_usage usage, uint64_t min, uint64_t max)
{
	if (range_ok(a, min, max, UINT64_MAX))
		rt_address(a, RT_QWORD_ADDR, 8, RT_TYPE_MEMORY, (uint8_t)usage, RT_MEM_READ_WRITE,
			   min, max);
}

void aml_rt_end_tag(struct aml *a)
{
	aml_byte(a, RT_END_TAG);
	aml_byte(a, 0); /* checksum 0: the template counts as valid */
}
