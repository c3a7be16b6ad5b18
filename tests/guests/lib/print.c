/* printf-style formatting for the guests, and the string functions a
 * freestanding compiler may emit calls to. Conversions: %d %i %u %x %X %p
 * %s %c %%, flags '-' and '0', a field width, length l, ll, z (h, hh
 * accepted and ignored). */
#include "rt.h"

struct sink {
	char *buf; /* NULL: print to COM1 */
	size_t len, pos;
};

static void emit(struct sink *k, char c)
{
	if (!k->buf)
		rt_putc(c);
	else if (k->pos + 1 < k->len)
		k->buf[k->pos] = c;
	k->pos++;
}

static void emit_str(struct sink *k, const char *s)
{
	for (; *s; s++) {
		if (!k->buf && *s == '\n')
			emit(k, '\r');
		emit(k, *s);
	}
}

struct spec {
	bool left, zero;
	unsigned width;
	unsigned longs; /* number of 'l' (z counts as one) */
};

static void pad(struct sink *k, unsigned n, char c)
{
	while (n--)
		emit(k, c);
}

static void emit_num(struct sink *k, const struct spec *sp, uint64_t v, unsigned base, bool neg,
		     bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	unsigned n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + (neg ? 1 : 0);
	if (sp->zero && !sp->left) {
		if (neg)
			emit(k, '-');
		if (sp->width > len)
			pad(k, sp->width - len, '0');
	} else {
		if (!sp->left && sp->width > len)
			pad(k, sp->width - len, ' ');
		if (neg)
			emit(k, '-');
	}
	while (n)
		emit(k, tmp[--n]);
	if (sp->left && sp->width > len)
		pad(k, sp->width - len, ' ');
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){0};
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9' && sp->width < 1000)
		sp->width = sp->width * 10 + (unsigned)(*f++ - '0');
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->longs++;
		else if (*f != 'h')
			break;
	}
	return f;
}

static void format(struct sink *k, const char *f, va_list ap)
{
	while (*f) {
		struct spec sp;
		uint64_t u;
		int64_t s;

		if (*f != '%') {
			if (!k->buf && *f == '\n')
				emit(k, '\r');
			emit(k, *f++);
			continue;
		}
		f = parse_spec(f + 1, &sp);
		switch (*f) {
		case 'd':
		case 'i':
			s = sp.longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
			emit_num(k, &sp, u, 10, s < 0, false);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = sp.longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			emit_num(k, &sp, u, *f == 'u' ? 10 : 16, false, *f == 'X');
			break;
		case 'p':
			emit_str(k, "0x");
			emit_num(k, &sp, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, false);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t n = strlen(str ? str : "(null)");
			if (!sp.left && sp.width > n)
				pad(k, sp.width - (unsigned)n, ' ');
			emit_str(k, str ? str : "(null)");
			if (sp.left && sp.width > n)
				pad(k, sp.width - (unsigned)n, ' ');
			break;
		}
		case 'c':
			emit(k, (char)va_arg(ap, int));
			break;
		case '%':
			emit(k, '%');
			break;
		case '\0':
			return;
		default:
			emit(k, '%');
			emit(k, *f);
			break;
		}
		f++;
	}
}

void rt_vprintf(const char *fmt, va_list ap)
{
	struct sink k = {0};

	format(&k, fmt, ap);
}

void rt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
}

size_t rt_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct sink k = {.buf = buf, .len = len};
	va_list ap;

	va_start(ap, fmt);
	format(&k, fmt, ap);
	va_end(ap);
	if (len)
		buf[k.pos < len ? k.pos : len - 1] = '\0';
	return k.pos;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}
