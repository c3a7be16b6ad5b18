/* A small AML encoder: the byte-buffer builder behind the DSDT Keel writes
 * for its guests (issue 5). Encodings are from the ACPI 6.x specification,
 * chapter 20 (AML grammar) and section 6.4 (resource descriptors).
 *
 * Usage: aml_init() over a caller buffer, then emit terms in order. Terms
 * that contain a PkgLength (Scope, Device, Method, Package, Buffer) are
 * opened by a call that returns a struct aml_pkg and closed by aml_end();
 * the length is only known at the end, so aml_end() inserts the PkgLength
 * (shortest encoding) in front of the body. The buffer never needs more
 * room than the finished output.
 *
 * Errors are sticky: the first failure is kept in the builder and every
 * later call does nothing. Running out of buffer gives ST_ERANGE and never
 * writes past the end; a malformed name, string, ID or range gives
 * ST_EINVAL. Check aml_status() once at the end.
 *
 * Names use ASL syntax: "\\_SB.PCI0" (root prefix), "^^FOO" (parent
 * prefixes), "_S5" (one segment, padded with '_' to four characters), "\\"
 * (the root itself: RootChar then NullName). One segment is a NameSeg, two a
 * DualNamePath, three or more a MultiNamePath.
 *
 * Integers take the smallest encoding: ZeroOp, OneOp, then Byte, Word,
 * DWord or QWord prefix. OnesOp is never used: its value depends on the
 * table revision. Pure logic, no allocation. */
#ifndef KEEL_VDEV_AML_H
#define KEEL_VDEV_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"

#define AML_PKGLEN_MAX_BYTES 4
#define AML_PKGLEN_MAX 0x0FFFFFFFu /* 28 bits */
#define AML_NAMESEG_LEN 4
#define AML_MAX_ARGS 7

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	status_t st; /* first error, sticky */
};

/* An open term, from its opener to aml_end(). */
struct aml_pkg {
	size_t pkglen_at; /* where the PkgLength goes */
	bool sized;	  /* a Buffer: BufferSize follows the PkgLength */
};

void aml_init(struct aml *a, void *buf, size_t cap);
status_t aml_status(const struct aml *a) MUST_CHECK;
size_t aml_len(const struct aml *a);

/* Encodes a PkgLength value (which counts its own bytes) in the fewest
 * bytes into out. Returns the byte count, or 0 if value > AML_PKGLEN_MAX. */
unsigned aml_pkglen_encode(uint32_t value, uint8_t out[AML_PKGLEN_MAX_BYTES]);

/* Raw bytes; also the escape hatch for opcodes this builder lacks. */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

void aml_name_string(struct aml *a, const char *path);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s); /* ASCII 0x01-0x7F */

/* "PNP0A08" -> 0x080AD041: three letters A-Z packed 5 bits each, then four
 * hex digits; the value a DWordConst holds. */
status_t aml_eisaid_value(const char *id, uint32_t *out) MUST_CHECK;
/* EISAID(id) as ASL compilers emit it: always a DWordConst. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(path, <object>): emits NameOp and the name; the caller emits the
 * object next. */
void aml_name(struct aml *a, const char *path);

struct aml_pkg aml_scope(struct aml *a, const char *path);
struct aml_pkg aml_device(struct aml *a, const char *path);
/* nargs <= AML_MAX_ARGS; sync level 0. */
struct aml_pkg aml_method(struct aml *a, const char *path, unsigned nargs, bool serialized);
/* nelems <= 255: the caller emits exactly that many elements. */
struct aml_pkg aml_package(struct aml *a, unsigned nelems);
/* A Buffer whose size is the bytes emitted before aml_end(). */
struct aml_pkg aml_buffer(struct aml *a);
void aml_end(struct aml *a, struct aml_pkg p);

/* Return(integer) / Return(name), for simple methods. */
void aml_return_integer(struct aml *a, uint64_t v);
void aml_return_name(struct aml *a, const char *path);

/* ---- resource descriptors: emit inside aml_buffer() ... aml_end() ---- */

/* Address space descriptor general flags (ACPI 6.x 6.4.3.5.4). */
enum aml_rt_usage {
	AML_RT_PRODUCER = 0, /* ResourceProducer: a bridge's window */
	AML_RT_CONSUMER = 1, /* ResourceConsumer: the device decodes it */
};

/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min,
 * max, 0, max - min + 1). */
void aml_rt_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
/* IO(Decode16, min, max, align, len). */
void aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0,
 * min, max, 0, max - min + 1). The length must fit in 16 bits. */
void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max);
/* DWordMemory / QWordMemory(usage, PosDecode, MinFixed, MaxFixed,
 * NonCacheable, ReadWrite, 0, min, max, 0, max - min + 1). The length must
 * fit the descriptor's width. */
void aml_rt_dword_memory(struct aml *a, enum aml_rt_usage usage, uint32_t min, uint32_t max);
void aml_rt_qword_memory(struct aml *a, enum aml_rt_usage usage, uint64_t min, uint64_t max);
/* EndTag with checksum 0 ("treat as valid"); last in every template. */
void aml_rt_end_tag(struct aml *a);

#endif
