/* printf-style formatting without floating point (see fmt.h).
 *
 * One engine writes every character through struct out, which either fills
 * a caller's buffer and counts what does not fit (kvsnprintf) or flushes a
 * chunk buffer to a sink whenever it is full (kvformat). */
#include <stdbool.h>
#include <stdint.h>

#include "core/fmt.h"
#include "keel/kstring.h"

#define F_LEFT 0x01u
#define F_ZERO 0x02u
#define F_SPACE 0x04u
#define F_PLUS 0x08u
#define F_ALT 0x10u

#define NUM_MAX 100000000 /* widths/precisions are clamped to about this */

enum len_mod { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_T, L_J };

struct spec {
	unsigned flags;
	int width;
	int prec; /* -1: none given */
	enum len_mod len;
	char conv;
};

struct out {
	char *buf;
	size_t cap; /* characters buf can take (excluding any NUL) */
	size_t used;
	size_t total;
	fmt_sink_fn sink; /* NULL: drop what does not fit */
	void *ctx;
};

static void out_flush(struct out *o)
{
	if (o->sink && o->used)
		o->sink(o->ctx, o->buf, o->used);
	o->used = 0;
}

static void out_putc(struct out *o, char c)
{
	o->total++;
	if (o->used == o->cap) {
		if (!o->sink)
			return;
		out_flush(o);
	}
	o->buf[o->used++] = c;
}

static void out_rep(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_putc(o, c);
}

static void out_str(struct out *o, const char *s, size_t n)
{
	while (n--)
		out_putc(o, *s++);
}

static const char *parse_flags(const char *p, unsigned *flags)
{
	for (;; p++) {
		switch (*p) {
		case '-':
			*flags |= F_LEFT;
			break;
		case '0':
			*flags |= F_ZERO;
			break;
		case ' ':
			*flags |= F_SPACE;
			break;
		case '+':
			*flags |= F_PLUS;
			break;
		case '#':
			*flags |= F_ALT;
			break;
		default:
			return p;
		}
	}
}

/* A decimal number or '*'; *v is untouched when neither is there. */
static const char *parse_num(const char *p, int *v, va_list *ap)
{
	if (*p == '*') {
		*v = va_arg(*ap, int);
		return p + 1;
	}
	if (*p < '0' || *p > '9')
		return p;
	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		if (*v < NUM_MAX)
			*v = *v * 10 + (*p - '0');
	return p;
}

static const char *parse_width(const char *p, struct spec *s, va_list *ap)
{
	p = parse_num(p, &s->width, ap);
	if (s->width < 0) { /* from '*': a negative width means '-' */
		s->flags |= F_LEFT;
		s->width = s->width < -NUM_MAX ? NUM_MAX : -s->width;
	}
	if (s->width > NUM_MAX)
		s->width = NUM_MAX;
	return p;
}

static const char *parse_prec(const char *p, struct spec *s, va_list *ap)
{
	if (*p != '.')
		return p;
	s->prec = 0;
	p = parse_num(p + 1, &s->prec, ap);
	if (s->prec < 0) /* from '*': as if no precision was given */
		s->prec = -1;
	if (s->prec > NUM_MAX)
		s->prec = NUM_MAX;
	return p;
}

static const char *parse_len(const char *p, enum len_mod *len)
{
	switch (*p) {
	case 'h':
		*len = p[1] == 'h' ? L_HH : L_H;
		return p + (p[1] == 'h' ? 2 : 1);
	case 'l':
		*len = p[1] == 'l' ? L_LL : L_L;
		return p + (p[1] == 'l' ? 2 : 1);
	case 'z':
		*len = L_Z;
		return p + 1;
	case 't':
		*len = L_T;
		return p + 1;
	case 'j':
		*len = L_J;
		return p + 1;
	default:
		*len = L_NONE;
		return p;
	}
}

static intmax_t get_signed(enum len_mod len, va_list *ap)
{
	switch (len) {
	case L_HH:
		return (signed char)va_arg(*ap, int);
	case L_H:
		return (short)va_arg(*ap, int);
	case L_L:
		return va_arg(*ap, long);
	case L_LL:
		return va_arg(*ap, long long);
	case L_Z:
	case L_T:
		return va_arg(*ap, ptrdiff_t);
	case L_J:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static uintmax_t get_unsigned(enum len_mod len, va_list *ap)
{
	switch (len) {
	case L_HH:
		return (unsigned char)va_arg(*ap, unsigned);
	case L_H:
		return (unsigned short)va_arg(*ap, unsigned);
	case L_L:
		return va_arg(*ap, unsigned long);
	case L_LL:
		return va_arg(*ap, unsigned long long);
	case L_Z:
	case L_T:
		return va_arg(*ap, size_t);
	case L_J:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

/* Digits of v, least significant first; none for 0 with precision 0. */
static int to_digits(uintmax_t v, const struct spec *s, char *d)
{
	const char *set = s->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned base = 10;
	int n = 0;

	if (s->conv == 'o')
		base = 8;
	else if (s->conv == 'x' || s->conv == 'X' || s->conv == 'p')
		base = 16;
	if (v == 0 && s->prec == 0)
		return 0;
	do {
		d[n++] = set[v % base];
		v /= base;
	} while (v);
	return n;
}

static const char *int_prefix(const struct spec *s, uintmax_t v)
{
	if (s->conv == 'p')
		return "0x";
	if (!(s->flags & F_ALT) || v == 0)
		return "";
	if (s->conv == 'x')
		return "0x";
	return s->conv == 'X' ? "0X" : "";
}

static char int_sign(const struct spec *s, bool neg)
{
	if (s->conv != 'd' && s->conv != 'i')
		return 0;
	if (neg)
		return '-';
	if (s->flags & F_PLUS)
		return '+';
	return (s->flags & F_SPACE) ? ' ' : 0;
}

/* Leading zeros: from the precision, '#' with 'o', or the '0' flag. */
static int int_zeros(const struct spec *s, const char *d, int n, int head)
{
	int zeros = s->prec > n ? s->prec - n : 0;

	if (s->conv == 'o' && (s->flags & F_ALT) && zeros == 0 && (n == 0 || d[n - 1] != '0'))
		zeros = 1;
	if ((s->flags & F_ZERO) && !(s->flags & F_LEFT) && s->prec < 0 &&
	    s->width - head - n > zeros)
		zeros = s->width - head - n;
	return zeros;
}

static void emit_int(struct out *o, const struct spec *s, uintmax_t v, bool neg)
{
	char d[24]; /* 22 octal digits cover 64 bits */
	int n = to_digits(v, s, d);
	char sign = int_sign(s, neg);
	const char *prefix = int_prefix(s, v);
	int head = (sign ? 1 : 0) + (int)strlen(prefix);
	int zeros = int_zeros(s, d, n, head);
	int pad = s->width - head - zeros - n;

	if (!(s->flags & F_LEFT))
		out_rep(o, ' ', pad);
	if (sign)
		out_putc(o, sign);
	out_str(o, prefix, strlen(prefix));
	out_rep(o, '0', zeros);
	while (n > 0)
		out_putc(o, d[--n]);
	if (s->flags & F_LEFT)
		out_rep(o, ' ', pad);
}

static void emit_padded(struct out *o, const struct spec *s, const char *str, size_t n)
{
	int pad = (size_t)s->width > n ? s->width - (int)n : 0;

	if (!(s->flags & F_LEFT))
		out_rep(o, ' ', pad);
	out_str(o, str, n);
	if (s->flags & F_LEFT)
		out_rep(o, ' ', pad);
}

static void emit_str(struct out *o, const struct spec *s, const char *str)
{
	if (!str)
		str = "(null)";
	emit_padded(o, s, str, s->prec >= 0 ? strnlen(str, (size_t)s->prec) : strlen(str));
}

/* Returns false for an unknown conversion. */
static bool emit_conv(struct out *o, const struct spec *s, va_list *ap)
{
	char c;
	intmax_t v;

	switch (s->conv) {
	case 'd':
	case 'i':
		v = get_signed(s->len, ap);
		emit_int(o, s, v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0);
		return true;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		emit_int(o, s, get_unsigned(s->len, ap), false);
		return true;
	case 'p':
		emit_int(o, s, (uintptr_t)va_arg(*ap, void *), false);
		return true;
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_padded(o, s, &c, 1);
		return true;
	case 's':
		emit_str(o, s, va_arg(*ap, const char *));
		return true;
	case '%':
		out_putc(o, '%');
		return true;
	default:
		return false;
	}
}

/* `start` points at '%'; returns where the text after the conversion starts. */
static const char *do_spec(struct out *o, const char *start, va_list *ap)
{
	struct spec s = {0, 0, -1, L_NONE, 0};
	const char *p = parse_flags(start + 1, &s.flags);

	p = parse_width(p, &s, ap);
	p = parse_prec(p, &s, ap);
	p = parse_len(p, &s.len);
	s.conv = *p;
	if (s.conv && emit_conv(o, &s, ap))
		return p + 1;
	/* Unknown or cut-off conversion: print it as written. */
	if (s.conv)
		p++;
	out_str(o, start, (size_t)(p - start));
	return p;
}

static int run(struct out *o, const char *fmt, va_list ap)
{
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = do_spec(o, fmt, &args);
		else
			out_putc(o, *fmt++);
	}
	va_end(args);
	return o->total > 0x7fffffff ? -1 : (int)o->total;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size ? size - 1 : 0, 0, 0, NULL, NULL};
	int r = run(&o, fmt, ap);

	if (size)
		buf[o.used] = '\0';
	return r;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

int kvformat(char *chunk, size_t chunk_size, fmt_sink_fn sink, void *ctx, const char *fmt,
	     va_list ap)
{
	struct out o = {chunk, chunk_size, 0, 0, sink, ctx};
	int r;

	if (!chunk || !chunk_size || !sink)
		return -1;
	r = run(&o, fmt, ap);
	out_flush(&o);
	return r;
}
