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
 * unless the whole value is valid. A handler that rejects a value may write
 * its own one-line message into why (MSG_MAX bytes, empty on entry);
 * otherwise the message is built from `expect`. */
struct option {
	const char *name;
	const char *expect; /* for messages: what a valid value looks like */
	bool (*parse)(struct keel_config *c, struct slice v, char *why);
};

/* Any ASCII white space separates words: a line break inside a word would
 * otherwise end up in a one-line error message. */
static bool is_space(char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
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

static bool opt_loglevel(struct keel_config *c, struct slice v, char *why)
{
	uint32_t n;

	(void)why;
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

static bool opt_console(struct keel_config *c, struct slice v, char *why)
{
	struct slice port = v, rate = {NULL, 0};
	uint32_t baud = c->baud;
	int n;

	(void)why;
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

static bool opt_maxcpus(struct keel_config *c, struct slice v, char *why)
{
	uint32_t n;

	(void)why;
	if (!parse_uint(v, 1024, &n) || n == 0)
		return false;
	c->maxcpus = n;
	return true;
}

static bool opt_pmtimer(struct keel_config *c, struct slice v, char *why)
{
	(void)why;
	if (!slice_eq(v, "host") && !slice_eq(v, "emulated"))
		return false;
	c->pmtimer_emulated = slice_eq(v, "emulated");
	return true;
}

/* A word is quoted whole up to QUOTE_MAX characters, then elided. */
static int quote_len(struct slice s)
{
	return (int)(s.n > QUOTE_MAX ? QUOTE_MAX : s.n);
}

static const char *quote_tail(struct slice s)
{
	return s.n > QUOTE_MAX ? "..." : "";
}

/* ---- vm=NAME,kernel=MODULE[,mem=SIZE][,cpus=N] ---- */

/* The text of *rest before the first sep; *rest becomes the text after it,
 * or {NULL, 0} when there is no sep. */
static struct slice next_field(struct slice *rest, char sep)
{
	struct slice f = *rest;

	for (size_t i = 0; i < rest->n; i++) {
		if (rest->p[i] == sep) {
			f.n = i;
			*rest = (struct slice){rest->p + i + 1, rest->n - i - 1};
			return f;
		}
	}
	*rest = (struct slice){NULL, 0};
	return f;
}

static bool is_name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static bool valid_vm_name(struct slice s)
{
	if (s.n == 0 || s.n > VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_name_char(s.p[i]))
			return false;
	return true;
}

static bool vm_declared(const struct keel_config *c, struct slice name)
{
	for (unsigned i = 0; i < c->nvms; i++)
		if (slice_eq(name, c->vms[i].name))
			return true;
	return false;
}

/* "vm NAME: " followed by the formatted reason. */
static void __attribute__((format(printf, 3, 4)))
vm_err(char *why, struct slice name, const char *fmt, ...)
{
	int n = ksnprintf(why, MSG_MAX, "vm %.*s: ", (int)name.n, name.p);
	va_list ap;

	if (n < 0 || n >= MSG_MAX)
		return;
	va_start(ap, fmt);
	kvsnprintf(why + n, MSG_MAX - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Printable and no space: the module's name is the first word of its
 * multiboot2 string. (A comma already ended the field.) */
static bool valid_module_name(struct slice s)
{
	if (s.n == 0 || s.n > VM_MODULE_MAX)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (ch <= ' ' || ch == 0x7F || ch == ',')
			return false;
	}
	return true;
}

static bool vm_module(char *out, const char *key, struct slice name, struct slice v, char *why)
{
	if (!valid_module_name(v)) {
		vm_err(why, name, "bad %s '%.*s%s' (expected a module name of 1-%d characters)",
		       key, quote_len(v), v.p, quote_tail(v), VM_MODULE_MAX);
		return false;
	}
	memcpy(out, v.p, v.n);
	out[v.n] = '\0';
	return true;
}

static bool vm_kernel(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	return vm_module(d->kernel, "kernel", name, v, why);
}

static bool vm_initrd(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	return vm_module(d->initrd, "initrd", name, v, why);
}

enum mem_verdict { MEM_OK, MEM_SYNTAX, MEM_SMALL, MEM_BIG, MEM_ALIGN };

/* The multiplier a size suffix stands for (binary multiples, either case),
 * 1 for none. */
static uint64_t mem_suffix(char c)
{
	switch (c) {
	case 'K':
	case 'k':
		return 1ull << 10;
	case 'M':
	case 'm':
		return 1ull << 20;
	case 'G':
	case 'g':
		return 1ull << 30;
	case 'T':
	case 't':
		return 1ull << 40;
	default:
		return 1;
	}
}

/* Decimal bytes with an optional K, M, G or T. */
static enum mem_verdict parse_mem(struct slice s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	size_t n = s.n;
	bool big = false;

	if (n > 0) {
		mult = mem_suffix(s.p[n - 1]);
		if (mult > 1)
			n--;
	}
	if (n == 0)
		return MEM_SYNTAX;
	for (size_t i = 0; i < n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return MEM_SYNTAX;
		/* Stop accumulating once too big, so v * 10 never overflows,
		 * but check the syntax of the rest. */
		if (!big)
			v = v * 10 + (uint64_t)(s.p[i] - '0');
		if (v > KEEL_VM_MAX_MEM)
			big = true;
	}
	/* Compared before multiplying, which could wrap. */
	if (big || v > KEEL_VM_MAX_MEM / mult)
		return MEM_BIG;
	v *= mult;
	if (v < KEEL_VM_MIN_MEM)
		return MEM_SMALL;
	if (v % KEEL_VM_MEM_ALIGN)
		return MEM_ALIGN;
	*out = v;
	return MEM_OK;
}

_Static_assert(KEEL_VM_MAX_MEM == 1ull << 40, "vm_mem's message says 1T");

static bool vm_mem(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	int q = quote_len(v);
	const char *t = quote_tail(v);

	switch (parse_mem(v, &d->mem)) {
	case MEM_OK:
		return true;
	case MEM_SYNTAX:
		vm_err(why, name, "bad mem '%.*s%s' (expected bytes with optional K, M, G or T)", q,
		       v.p, t);
		break;
	case MEM_SMALL:
		vm_err(why, name, "mem '%.*s%s' is below 2M (KEEL_VM_MIN_MEM)", q, v.p, t);
		break;
	case MEM_BIG:
		vm_err(why, name, "mem '%.*s%s' is above 1T (KEEL_VM_MAX_MEM)", q, v.p, t);
		break;
	case MEM_ALIGN:
		vm_err(why, name, "mem '%.*s%s' is not a multiple of 4K", q, v.p, t);
		break;
	}
	return false;
}

static bool vm_cpus(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	uint32_t n;

	if (!parse_uint(v, KEEL_MAX_VCPUS, &n) || n == 0) {
		vm_err(why, name, "bad cpus '%.*s%s' (expected 1-%d, KEEL_MAX_VCPUS)", quote_len(v),
		       v.p, quote_tail(v), KEEL_MAX_VCPUS);
		return false;
	}
	d->cpus = n;
	return true;
}

static bool parse_policy(struct slice v, enum vm_policy *out)
{
	if (slice_eq(v, "restart"))
		*out = VM_POLICY_RESTART;
	else if (slice_eq(v, "stop"))
		*out = VM_POLICY_STOP;
	else
		return false;
	return true;
}

static bool vm_policy_key(enum vm_policy *out, const char *key, struct slice name, struct slice v,
			  char *why)
{
	if (parse_policy(v, out))
		return true;
	vm_err(why, name, "bad %s '%.*s%s' (expected restart or stop)", key, quote_len(v), v.p,
	       quote_tail(v));
	return false;
}

static bool vm_on_reboot(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	return vm_policy_key(&d->on_reboot, "on_reboot", name, v, why);
}

static bool vm_on_crash(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	return vm_policy_key(&d->on_crash, "on_crash", name, v, why);
}

static bool vm_autostart(struct vm_decl *d, struct slice name, struct slice v, char *why)
{
	if (slice_eq(v, "yes") || slice_eq(v, "no")) {
		d->autostart = slice_eq(v, "yes");
		return true;
	}
	vm_err(why, name, "bad autostart '%.*s%s' (expected yes or no)", quote_len(v), v.p,
	       quote_tail(v));
	return false;
}

struct vm_key {
	const char *name;
	bool (*set)(struct vm_decl *d, struct slice name, struct slice v, char *why);
};

/* kernel= first: vm_settings requires it. */
static const struct vm_key vm_keys[] = {
    {"kernel", vm_kernel},	 {"mem", vm_mem},	    {"cpus", vm_cpus},
    {"on_reboot", vm_on_reboot}, {"on_crash", vm_on_crash}, {"autostart", vm_autostart},
    {"initrd", vm_initrd},
};

#define VM_NKEYS (sizeof(vm_keys) / sizeof(vm_keys[0]))

/* Applies the key=value fields of rest to d, each key at most once. */
static bool vm_settings(struct vm_decl *d, struct slice name, struct slice rest, char *why)
{
	bool seen[VM_NKEYS] = {false};

	while (rest.p) {
		struct slice val = next_field(&rest, ',');
		struct slice key = next_field(&val, '=');
		size_t k = 0;

		if (key.n == 0 && !val.p) {
			vm_err(why, name, "empty field (expected key=value)");
			return false;
		}
		while (k < VM_NKEYS && !slice_eq(key, vm_keys[k].name))
			k++;
		if (k == VM_NKEYS) {
			vm_err(why, name,
			       "unknown key '%.*s%s' (expected kernel=, initrd=, mem=, cpus=, "
			       "on_reboot=, on_crash= or autostart=)",
			       quote_len(key), key.p, quote_tail(key));
			return false;
		}
		if (seen[k]) {
			vm_err(why, name, "repeated key '%s'", vm_keys[k].name);
			return false;
		}
		if (!val.p) {
			vm_err(why, name, "missing value for '%s'", vm_keys[k].name);
			return false;
		}
		if (!vm_keys[k].set(d, name, val, why))
			return false;
		seen[k] = true;
	}
	if (!seen[0]) {
		vm_err(why, name, "missing kernel=MODULE");
		return false;
	}
	return true;
}

/* vm=NAME,kernel=MODULE[,mem=SIZE][,cpus=N]: appends one VM declaration. */
static bool opt_vm(struct keel_config *c, struct slice v, char *why)
{
	struct slice rest = v, name;
	struct vm_decl d;

	if (!v.p || !v.n)
		return false; /* the generic message shows the syntax */
	name = next_field(&rest, ',');
	if (c->nvms >= KEEL_MAX_VMS) {
		ksnprintf(why, MSG_MAX,
			  "vm: cannot declare '%.*s%s': too many VMs (limit %d, KEEL_MAX_VMS)",
			  quote_len(name), name.p, quote_tail(name), KEEL_MAX_VMS);
		return false;
	}
	if (!valid_vm_name(name)) {
		ksnprintf(why, MSG_MAX, "vm: bad name '%.*s%s' (expected 1-%d of A-Z a-z 0-9 _ -)",
			  quote_len(name), name.p, quote_tail(name), VM_NAME_MAX);
		return false;
	}
	if (vm_declared(c, name)) {
		ksnprintf(why, MSG_MAX, "vm: duplicate name '%.*s'", (int)name.n, name.p);
		return false;
	}
	memset(&d, 0, sizeof(d));
	memcpy(d.name, name.p, name.n);
	d.mem = KEEL_VM_DEFAULT_MEM;
	d.cpus = 1;
	d.on_reboot = VM_POLICY_RESTART;
	d.on_crash = VM_POLICY_STOP;
	d.autostart = true;
	if (!vm_settings(&d, name, rest, why))
		return false;
	c->vms[c->nvms++] = d;
	return true;
}

/* Add an option here: name, the shape of a good value, and its handler. */
static const struct option options[] = {
    {"loglevel", "0-7 or a level name", opt_loglevel},
    {"console", "com1-com4 or ttyS0-ttyS3, optionally ,9600|19200|38400|57600|115200", opt_console},
    {"maxcpus", "1-1024", opt_maxcpus},
    {"pmtimer", "host or emulated", opt_pmtimer},
    {"vm",
     "NAME,kernel=MODULE[,initrd=MODULE][,mem=SIZE][,cpus=N][,on_reboot=restart|stop]"
     "[,on_crash=stop|restart][,autostart=yes|no]",
     opt_vm},
};

static void report_unknown(cmdline_err_fn err, void *ctx, struct slice key)
{
	char m[MSG_MAX];

	ksnprintf(m, sizeof(m), "unknown option '%.*s%s'", quote_len(key), key.p, quote_tail(key));
	err(ctx, m);
}

/* why: the handler's own message, or empty for the generic one. */
static void report_bad(cmdline_err_fn err, void *ctx, const struct option *o, struct slice v,
		       const char *why)
{
	char m[MSG_MAX];

	if (why[0]) {
		err(ctx, why);
		return;
	}
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
	char why[MSG_MAX] = "";

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
		if (options[i].parse(c, val, why))
			return true;
		if (err)
			report_bad(err, ctx, &options[i], val, why);
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
	c->pmtimer_emulated = true;
	memset(c->vms, 0, sizeof(c->vms));
	c->nvms = 0;
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
