/* Unit tests for kvsnprintf/ksnprintf/kvformat. The host's snprintf is the
 * oracle: a sweep over flags x width x precision x length x value builds
 * each format at run time and compares output and return value. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/fmt.h"

#define OUT 512

static unsigned long checked;

/* Formats with both implementations and fails on any difference. */
static void check_fmt(const char *f, ...)
{
	char want[OUT], got[OUT];
	va_list a, b;
	int rw, rg;

	memset(want, 'W', sizeof(want));
	memset(got, 'G', sizeof(got));
	va_start(a, f);
	va_copy(b, a);
	rw = vsnprintf(want, sizeof(want), f, a);
	rg = kvsnprintf(got, sizeof(got), f, b);
	va_end(b);
	va_end(a);
	checked++;
	if (rw != rg || rw < 0 || memcmp(want, got, (size_t)(rw < OUT ? rw + 1 : OUT)) != 0) {
		print_error("format \"%s\": libc \"%s\" (%d), keel \"%s\" (%d)\n", f, want, rw, got,
			    rg);
		fail();
	}
}

struct opt {
	const char *text;
	int star; /* value passed for '*' */
};

static const struct opt widths[] = {{"", 0},  {"1", 0},	 {"6", 0}, {"25", 0},
				    {"*", 8}, {"*", -8}, {"*", 0}};
static const struct opt precs[] = {{"", 0},    {".", 0},  {".0", 0},  {".1", 0}, {".4", 0},
				   {".22", 0}, {".*", 3}, {".*", -1}, {".*", 0}};
static const char *const lens[] = {"", "hh", "h", "l", "ll", "z", "t", "j"};
static const long long values[] = {0,
				   1,
				   -1,
				   7,
				   -42,
				   127,
				   -128,
				   255,
				   32767,
				   -32768,
				   65535,
				   INT_MAX,
				   INT_MIN,
				   (long long)UINT_MAX,
				   LLONG_MAX,
				   LLONG_MIN,
				   0x123456789abcdefLL};

static void flags_str(unsigned mask, char conv, char *out)
{
	static const char all[] = "-0 +#";

	for (int i = 0; i < 5; i++)
		if (mask & (1u << i) && !(all[i] == '#' && strchr("diu", conv)))
			*out++ = all[i];
	*out = '\0';
}

#define CALL(f, star, w, p, v)                                                                     \
	do {                                                                                       \
		switch (star) {                                                                    \
		case 0:                                                                            \
			check_fmt(f, v);                                                           \
			break;                                                                     \
		case 1:                                                                            \
			check_fmt(f, w, v);                                                        \
			break;                                                                     \
		case 2:                                                                            \
			check_fmt(f, p, v);                                                        \
			break;                                                                     \
		default:                                                                           \
			check_fmt(f, w, p, v);                                                     \
			break;                                                                     \
		}                                                                                  \
	} while (0)

/* Passes v as the type the length modifier names (signed or unsigned). */
static void call_typed(const char *f, int star, int w, int p, const char *len, int sgn, long long v)
{
	if (!strcmp(len, "l") && sgn)
		CALL(f, star, w, p, (long)v);
	else if (!strcmp(len, "l"))
		CALL(f, star, w, p, (unsigned long)v);
	else if (strchr("lzj", len[0] ? len[0] : 'x') || !strcmp(len, "t"))
		CALL(f, star, w, p, sgn ? v : (long long)(unsigned long long)v);
	else if (sgn)
		CALL(f, star, w, p, (int)v);
	else
		CALL(f, star, w, p, (unsigned)v);
}

static void sweep_conv(char conv)
{
	char f[64], fl[8];

	for (unsigned mask = 0; mask < 32; mask++) {
		flags_str(mask, conv, fl);
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
			for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++)
				for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
					int star = (widths[w].text[0] == '*') |
						   (strchr(precs[p].text, '*') ? 2 : 0);
					snprintf(f, sizeof(f), "[%%%s%s%s%s%c]", fl, widths[w].text,
						 precs[p].text, lens[l], conv);
					for (size_t v = 0; v < sizeof(values) / sizeof(values[0]);
					     v++)
						call_typed(f, star, widths[w].star, precs[p].star,
							   lens[l], conv == 'd' || conv == 'i',
							   values[v]);
				}
	}
}

static void test_sweep_signed(void **state)
{
	(void)state;
	sweep_conv('d');
	sweep_conv('i');
}

static void test_sweep_unsigned(void **state)
{
	(void)state;
	sweep_conv('u');
	sweep_conv('x');
	sweep_conv('X');
	sweep_conv('o');
}

static void test_strings_and_chars(void **state)
{
	static const char *const strs[] = {"", "a", "hello", "hello, world of keel"};
	static const char chars[] = {'A', ' ', 'z', '~', '\0'};
	char f[32];

	(void)state;
	for (int left = 0; left < 2; left++)
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
			int ws = widths[w].text[0] == '*';
			for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
				int star = ws | (strchr(precs[p].text, '*') ? 2 : 0);
				snprintf(f, sizeof(f), "<%%%s%s%ss>", left ? "-" : "",
					 widths[w].text, precs[p].text);
				for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
					CALL(f, star, widths[w].star, precs[p].star, strs[i]);
			}
			snprintf(f, sizeof(f), "<%%%s%sc>", left ? "-" : "", widths[w].text);
			for (size_t i = 0; i < sizeof(chars); i++)
				CALL(f, ws, widths[w].star, 0, chars[i]);
		}
}

static void test_pointer(void **state)
{
	static const char *const fmts[] = {"%p", "%20p", "%-20p|", "%1p", "%*p"};
	int x;
	void *ptrs[] = {&x, (void *)1, (void *)0xffffffff80001000UL, (void *)UINTPTR_MAX};
	char b[64];

	(void)state;
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
		for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++)
			CALL(fmts[f], (int)(f == 4), 17, 0, ptrs[i]);
	assert_int_equal(ksnprintf(b, sizeof(b), "%p", NULL), 3);
	assert_string_equal(b, "0x0");
	assert_int_equal(ksnprintf(b, sizeof(b), "[%5p]", NULL), 7);
	assert_string_equal(b, "[  0x0]");
}

static void test_literal_table(void **state)
{
	(void)state;
	check_fmt("");
	check_fmt("plain text");
	check_fmt("%%");
	check_fmt("100%% sure");
	check_fmt("a%db%sc%xd%ce", 12, "str", 0xbeef, 'Q');
	check_fmt("%hhd %hhu %hhx", 200, 300, -1);
	check_fmt("%hd %hu %ho", 70000, 70000, -1);
	check_fmt("%zu %zd %zx", SIZE_MAX, (ssize_t)-5, (size_t)0xdeadbeef);
	check_fmt("%td %tu", (ptrdiff_t)-123456789, (size_t)PTRDIFF_MAX);
	check_fmt("%jd %ju %jx", INTMAX_MIN, UINTMAX_MAX, UINTMAX_MAX);
	check_fmt("%lld %llu %llo %#llx %llX", LLONG_MIN, ULLONG_MAX, ULLONG_MAX, ULLONG_MAX,
		  0xabcdefULL);
	check_fmt("%ld %lu %lx %lX %lo", LONG_MIN, ULONG_MAX, 255UL, 255UL, 8UL);
	check_fmt("%016lx-%016lx", 0x1000UL, 0x9fbffUL);
	check_fmt("%-10s|%10s|%.2s", "left", "right", "precision");
	check_fmt("%+d % d %+d % d", 5, 5, -5, -5);
	check_fmt("%#o %#o %#.0o %#5.3o %#x %#X %#x", 0, 8, 0, 8, 0, 255, 255);
	check_fmt("%.0d|%5.0d|%-5.0x|%.0u", 0, 0, 0, 0);
	check_fmt("%08.3d|%-08d|%08d|%+08d|% 08d", -7, -7, -7, 7, 7);
	check_fmt("%*.*d|%-*.*x", 10, 4, 42, 10, 4, 42);
	check_fmt("%3c%-3c%c", 'a', 'b', 'c');
}

/* No format attribute: for inputs the compiler would (rightly) warn about. */
static int kfmt(char *b, size_t size, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = kvsnprintf(b, size, f, ap);
	va_end(ap);
	return r;
}

static void test_null_string(void **state)
{
	char b[32];

	(void)state;
	assert_int_equal(kfmt(b, sizeof(b), "%s", (char *)NULL), 6);
	assert_string_equal(b, "(null)");
	assert_int_equal(kfmt(b, sizeof(b), "[%8s]", (char *)NULL), 10);
	assert_string_equal(b, "[  (null)]");
	assert_int_equal(kfmt(b, sizeof(b), "[%-8s]", (char *)NULL), 10);
	assert_string_equal(b, "[(null)  ]");
}

static void test_unknown_conversion(void **state)
{
	char b[32];

	(void)state;
	assert_int_equal(kfmt(b, sizeof(b), "a%yb"), 4);
	assert_string_equal(b, "a%yb");
	assert_int_equal(kfmt(b, sizeof(b), "x%-5"), 4);
	assert_string_equal(b, "x%-5");
}

/* Every buffer size from 0 to past the full length, with guard bytes. */
static void test_truncation(void **state)
{
	const char *f = "%s=%08x (%d)";
	char full[64], b[80];
	int n = snprintf(full, sizeof(full), f, "name", 0xc0ffee, -1234567);

	(void)state;
	for (size_t size = 0; size <= (size_t)n + 3; size++) {
		memset(b, 'Z', sizeof(b));
		assert_int_equal(ksnprintf(b, size, f, "name", 0xc0ffee, -1234567), n);
		if (size) {
			size_t k = size - 1 < (size_t)n ? size - 1 : (size_t)n;
			assert_memory_equal(b, full, k);
			assert_int_equal(b[k], '\0');
		}
		for (size_t i = size; i < sizeof(b); i++)
			assert_int_equal(b[i], 'Z');
	}
	assert_int_equal(ksnprintf(NULL, 0, "%d-%s", 12345, "abc"), 9);
}

static void test_long_output_counted(void **state)
{
	char b[8];

	(void)state;
	assert_int_equal(ksnprintf(b, sizeof(b), "%300d", 1), 300);
	assert_string_equal(b, "       ");
	assert_int_equal(ksnprintf(b, sizeof(b), "%-300d|", 1), 301);
	assert_string_equal(b, "1      ");
}

struct pieces {
	char text[4096];
	size_t len, calls, biggest;
};

static void sink(void *ctx, const char *s, size_t n)
{
	struct pieces *p = ctx;

	assert_true(n > 0);
	assert_true(p->len + n < sizeof(p->text));
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->calls++;
	if (n > p->biggest)
		p->biggest = n;
}

static int format_via(struct pieces *p, size_t chunk_size, const char *f, ...)
{
	char chunk[64];
	va_list ap;
	int r;

	memset(p, 0, sizeof(*p));
	va_start(ap, f);
	r = kvformat(chunk_size ? chunk : NULL, chunk_size, sink, p, f, ap);
	va_end(ap);
	return r;
}

static void test_kvformat_chunks(void **state)
{
	struct pieces p;
	char want[4096];
	int n = snprintf(want, sizeof(want), "%s-%1000d-%x", "start", 42, 0xabc);

	(void)state;
	assert_int_equal(format_via(&p, 7, "%s-%1000d-%x", "start", 42, 0xabc), n);
	assert_int_equal(p.len, (size_t)n);
	assert_memory_equal(p.text, want, (size_t)n);
	assert_true(p.biggest <= 7);
	assert_int_equal(p.calls, ((size_t)n + 6) / 7);
	assert_int_equal(format_via(&p, 64, "short %d", 1), 7);
	assert_int_equal(p.calls, 1);
	assert_int_equal(format_via(&p, 64, "%s", ""), 0);
	assert_int_equal(p.calls, 0);
	assert_int_equal(format_via(&p, 0, "x"), -1);
}

static void test_sweep_count(void **state)
{
	(void)state;
	/* The sweeps above really ran (guards against an empty table). */
	assert_true(checked > 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sweep_signed),	cmocka_unit_test(test_sweep_unsigned),
	    cmocka_unit_test(test_strings_and_chars),	cmocka_unit_test(test_pointer),
	    cmocka_unit_test(test_literal_table),	cmocka_unit_test(test_null_string),
	    cmocka_unit_test(test_unknown_conversion),	cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_long_output_counted), cmocka_unit_test(test_kvformat_chunks),
	    cmocka_unit_test(test_sweep_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
