/* printf-style formatting without floating point. Pure logic, no globals.
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%; flags '-' '0' ' ' '+' '#';
 * width and precision (both may be '*'); length modifiers hh h l ll z t j.
 * %s of NULL prints "(null)"; %p prints "0x" and lowercase hex (NULL: "0x0").
 * An unknown conversion is printed as written (e.g. "%y"). */
#ifndef KEEL_CORE_FMT_H
#define KEEL_CORE_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives formatted output in pieces (matches shell_io.write). */
typedef void (*fmt_sink_fn)(void *ctx, const char *s, size_t n);

/* C99 vsnprintf: returns the length the full output has; writes at most
 * `size` bytes including the NUL, which is always written when size > 0. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Formats through `chunk` (chunk_size > 0 bytes) and hands the whole output
 * to `sink` in pieces of at most chunk_size bytes; nothing is cut.
 * Returns the total length. */
int kvformat(char *chunk, size_t chunk_size, fmt_sink_fn sink, void *ctx, const char *fmt,
	     va_list ap);

#endif
