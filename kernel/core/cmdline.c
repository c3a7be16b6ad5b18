/* Boot command-line parser. Words are handled in place as (pointer, length)
 * slices of the input, so arbitrarily long words need no buffer; only the
 * error message is built in a fixed buffer, quoting at most a prefix. */
#include <stdbool.h>
#include <stddef.h>

#include "core/cmdline.h"
#include "core/fmt.h"
#include "keel/kstring.h"

#define MSG_MAX 160
#define QUOTE_MAX 48 /* longest slice of a word quoted in a message */

struct slice {
	const char *p;
	size_t n;
};

/* Handlers get v.p == NULL for a bare word; they must not modify `c`
 * unless the whole value is valid. */
struct option {
	const char *name;
	const char *expect; /* for messages: what a valid value looks like */
	bool (*parse)(struct keel_config *c, struct slice v);
};

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool slice_eq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Decimal digits only; false on empty, non-digits or a value above max. */
static bool parse_uint(struct slice s, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;

	if (!s.p || !s.n)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s.p[i] - '0');
		if (v > max) /* checked per digit, so v*10 never overflows */
			return false;
	}
	*out = v;
	return true;
}

static const char *const level_names[] = {"emerg", "alert",  "crit", "err",
					  "warn",  "notice", "info", "debug"};

static bool opt_loglevel(struct keel_config *c, struct slice v)
{
	uint32_t n;

	if (parse_uint(v, LOG_DEBUG, &n)) {
		c->loglevel = (int)n;
		return true;
	}
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (v.p && slice_eq(v, level_names[i])) {
			c->loglevel = i;
			return true;
		}
	}
	return false;
}

/* "com1".."com4" or "ttyS0".."ttyS3" -> 1..4, else 0. */
static int console_port(struct slice s)
{
	if (s.n == 4 && memcmp(s.p, "com", 3) == 0 && s.p[3] >= '1' && s.p[3] <= '4')
		return s.p[3] - '0';
	if (s.n == 5 && memcmp(s.p, "ttyS", 4) == 0 && s.p[4] >= '0' && s.p[4] <= '3')
		return s.p[4] - '0' + 1;
	return 0;
}

static bool valid_baud(uint32_t b)
{
	static const uint32_t rates[] = {9600, 19200, 38400, 57600, 115200};

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		if (rates[i] == b)
			return true;
	return false;
}

static bool opt_console(struct keel_config *c, struct slice v)
{
	struct slice port = v, rate = {NULL, 0};
	uint32_t baud = c->baud;
	int n;

	if (!v.p)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] == ',') {
			port.n = i;
			rate = (struct slice){v.p + i + 1, v.n - i - 1};
			break;
		}
	}
	n = console_port(port);
	if (!n)
		return false;
	if (rate.p && (!parse_uint(rate, 115200, &baud) || !valid_baud(baud)))
		return false;
	c->console = n;
	c->baud = baud;
	return true;
}

static bool opt_maxcpus(struct keel_config *c, struct slice v)
{
	uint32_t n;

	if (!parse_uint(v, 1024, &n) || n == 0)
		return false;
	c->maxcpus = n;
	return true;
}

/* Add an option here: name, the shape of a good value, and its handler. */
static const struct option options[] = {
    {"loglevel", "0-7 or a level name", opt_loglevel},
    {"console", "com1-com4 or ttyS0-ttyS3, optionally ,9600|19200|38400|57600|115200", opt_console},
    {"maxcpus", "1-1024", opt_maxcpus},
};

/* A word is quoted whole up to QUOTE_MAX characters, then elided. */
static int quote_len(struct slice s)
{
	return (int)(s.n > QUOTE_MAX ? QUOTE_MAX : s.n);
}

static const char *quote_tail(struct slice s)
{
	return s.n > QUOTE_MAX ? "..." : "";
}

static void report_unknown(cmdline_err_fn err, void *ctx, struct slice key)
{
	char m[MSG_MAX];

	ksnprintf(m, sizeof(m), "unknown option '%.*s%s'", quote_len(key), key.p, quote_tail(key));
	err(ctx, m);
}

static void report_bad(cmdline_err_fn err, void *ctx, const struct option *o, struct slice v)
{
	char m[MSG_MAX];

	if (v.p)
		ksnprintf(m, sizeof(m), "%s: bad value '%.*s%s' (expected %s)", o->name,
			  quote_len(v), v.p, quote_tail(v), o->expect);
	else
		ksnprintf(m, sizeof(m), "%s: missing value (expected %s)", o->name, o->expect);
	err(ctx, m);
}

/* Handle one word; returns true if it was accepted. */
static bool apply_word(struct slice w, struct keel_config *c, cmdline_err_fn err, void *ctx)
{
	struct slice key = w, val = {NULL, 0};

	for (size_t i = 0; i < w.n; i++) {
		if (w.p[i] == '=') {
			key.n = i;
			val = (struct slice){w.p + i + 1, w.n - i - 1};
			break;
		}
	}
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (!slice_eq(key, options[i].name))
			continue;
		if (options[i].parse(c, val))
			return true;
		if (err)
			report_bad(err, ctx, &options[i], val);
		return false;
	}
	if (err)
		report_unknown(err, ctx, key);
	return false;
}

void cmdline_defaults(struct keel_config *c)
{
	c->loglevel = LOG_INFO;
	c->console = 0;
	c->baud = 115200;
	c->maxcpus = 0;
}

unsigned cmdline_parse(const char *s, struct keel_config *c, cmdline_err_fn err, void *ctx)
{
	unsigned errors = 0;
	bool first = true;

	if (!s)
		return 0;
	for (;;) {
		struct slice w;

		while (is_space(*s))
			s++;
		if (!*s)
			return errors;
		w.p = s;
		while (*s && !is_space(*s))
			s++;
		w.n = (size_t)(s - w.p);
		/* GRUB may pass the kernel image path as the first word. */
		if (!(first && w.p[0] == '/') && !apply_word(w, c, err, ctx))
			errors++;
		first = false;
	}
}
