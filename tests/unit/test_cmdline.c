/* Unit tests for the boot command-line parser. Error messages are captured
 * so each test can check both the count and the wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cmdline.h"

struct errs {
	unsigned n;
	char last[256];
	char first[256];
};

static void on_err(void *ctx, const char *msg)
{
	struct errs *e = ctx;

	assert_true(strlen(msg) < sizeof(e->last));
	assert_null(strchr(msg, '\n'));
	if (!e->n)
		strcpy(e->first, msg);
	strcpy(e->last, msg);
	e->n++;
}

static struct keel_config C;
static struct errs E;

static unsigned run(const char *s)
{
	memset(&E, 0, sizeof(E));
	cmdline_defaults(&C);
	unsigned n = cmdline_parse(s, &C, on_err, &E);
	assert_int_equal(n, E.n);
	return n;
}

static void assert_defaults(void)
{
	assert_int_equal(C.loglevel, LOG_INFO);
	assert_int_equal(C.console, 0);
	assert_int_equal(C.baud, 115200);
	assert_int_equal(C.maxcpus, 0);
}

static void test_defaults_and_empty(void **state)
{
	(void)state;
	assert_int_equal(run(""), 0);
	assert_defaults();
	assert_int_equal(run(" \t  \t"), 0);
	assert_defaults();
	assert_int_equal(run(NULL), 0);
	assert_defaults();
}

static void test_loglevel_good(void **state)
{
	static const char *names[] = {"emerg", "alert",	 "crit", "err",
				      "warn",  "notice", "info", "debug"};
	char buf[32];
	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(buf, sizeof(buf), "loglevel=%d", i);
		assert_int_equal(run(buf), 0);
		assert_int_equal(C.loglevel, i);
		snprintf(buf, sizeof(buf), "loglevel=%s", names[i]);
		assert_int_equal(run(buf), 0);
		assert_int_equal(C.loglevel, i);
	}
}

static void test_loglevel_bad(void **state)
{
	static const char *bad[] = {"loglevel=8",
				    "loglevel=x",
				    "loglevel=",
				    "loglevel=-1",
				    "loglevel=Debug",
				    "loglevel=debugx",
				    "loglevel=99999999999999999999",
				    "loglevel=7 "};
	(void)state;
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(run(bad[i]), 1);
		assert_int_equal(C.loglevel, LOG_INFO);
	}
	assert_int_equal(run(bad[7]), 0); /* trailing space is a separator */
	run("loglevel=x");
	assert_string_equal(E.last, "loglevel: bad value 'x' (expected 0-7 or a level name)");
	run("loglevel");
	assert_string_equal(E.last, "loglevel: missing value (expected 0-7 or a level name)");
}

static void test_console_good(void **state)
{
	(void)state;
	assert_int_equal(run("console=com1"), 0);
	assert_int_equal(C.console, 1);
	assert_int_equal(C.baud, 115200);
	assert_int_equal(run("console=com4,9600"), 0);
	assert_int_equal(C.console, 4);
	assert_int_equal(C.baud, 9600);
	assert_int_equal(run("console=ttyS0"), 0);
	assert_int_equal(C.console, 1);
	assert_int_equal(run("console=ttyS3,57600"), 0);
	assert_int_equal(C.console, 4);
	assert_int_equal(C.baud, 57600);
	static const uint32_t rates[] = {9600, 19200, 38400, 57600, 115200};
	char buf[40];
	for (int i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "console=com2,%u", rates[i]);
		assert_int_equal(run(buf), 0);
		assert_int_equal(C.console, 2);
		assert_int_equal(C.baud, rates[i]);
	}
}

static void test_console_bad(void **state)
{
	static const char *bad[] = {
	    "console=com0",	    "console=com5",	"console=ttyS4", "console=com1,",
	    "console=com1,1200",    "console=com1,abc", "console=com",	 "console=",
	    "console=com1,9600,1",  "console=COM1",	"console",	 "console=com12",
	    "console=ttyS0,115201", "console=,9600",
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run(bad[i]), 1);
		assert_int_equal(C.console, 0);
		assert_int_equal(C.baud, 115200);
	}
	run("console=com1,1200");
	assert_string_equal(E.last, "console: bad value 'com1,1200' (expected com1-com4 or "
				    "ttyS0-ttyS3, optionally ,9600|19200|38400|57600|115200)");
}

static void test_maxcpus(void **state)
{
	(void)state;
	assert_int_equal(run("maxcpus=1"), 0);
	assert_int_equal(C.maxcpus, 1);
	assert_int_equal(run("maxcpus=1024"), 0);
	assert_int_equal(C.maxcpus, 1024);
	static const char *bad[] = {"maxcpus=0", "maxcpus=1025", "maxcpus=",	      "maxcpus=4x",
				    "maxcpus",	 "maxcpus=+4",	 "maxcpus=4294967297"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run(bad[i]), 1);
		assert_int_equal(C.maxcpus, 0);
	}
	run("maxcpus=0");
	assert_string_equal(E.last, "maxcpus: bad value '0' (expected 1-1024)");
}

static void test_unknown_and_multiple(void **state)
{
	(void)state;
	assert_int_equal(run("foo"), 1);
	assert_string_equal(E.last, "unknown option 'foo'");
	assert_int_equal(run("foo=bar"), 1);
	assert_string_equal(E.last, "unknown option 'foo'");
	assert_int_equal(run("=x"), 1);
	assert_string_equal(E.last, "unknown option ''");

	/* Good options still apply around the bad ones; the last one wins. */
	assert_int_equal(run("\tfoo loglevel=debug maxcpus=0  console=com2,38400 bar=1 "
			     "loglevel=x maxcpus=8\t"),
			 4);
	assert_string_equal(E.first, "unknown option 'foo'");
	assert_string_equal(E.last, "loglevel: bad value 'x' (expected 0-7 or a level name)");
	assert_int_equal(C.loglevel, LOG_DEBUG);
	assert_int_equal(C.console, 2);
	assert_int_equal(C.baud, 38400);
	assert_int_equal(C.maxcpus, 8);
}

static void test_path_skipping(void **state)
{
	(void)state;
	assert_int_equal(run("/boot/keel.elf loglevel=err"), 0);
	assert_int_equal(C.loglevel, LOG_ERR);
	assert_int_equal(run("  /keel"), 0);
	assert_defaults();
	/* Only the first word may be a path. */
	assert_int_equal(run("loglevel=err /boot/keel.elf"), 1);
	assert_string_equal(E.last, "unknown option '/boot/keel.elf'");
	assert_int_equal(run("/a /b"), 1);
}

static void test_long_garbage(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1);
	(void)state;
	assert_non_null(s);

	memset(s, 'z', n);
	s[n] = '\0';
	assert_int_equal(run(s), 1);
	assert_true(strlen(E.last) < 100);
	assert_non_null(strstr(E.last, "...'"));

	memcpy(s, "loglevel=", 9);
	assert_int_equal(run(s), 1);
	assert_non_null(strstr(E.last, "loglevel: bad value 'zzz"));
	assert_true(strstr(E.last, "(expected 0-7 or a level name)") != NULL);

	/* Many short words, separators of every kind, embedded junk bytes. */
	for (size_t i = 0; i < n; i++)
		s[i] = "a= \t,\x01\xff/"[i % 8]; /* 8 chars, never the NUL */
	assert_true(run(s) > 0);
	assert_defaults();

	memset(s, '=', n);
	assert_int_equal(run(s), 1);
	free(s);
}

static void test_null_err_callback(void **state)
{
	(void)state;
	cmdline_defaults(&C);
	assert_int_equal(cmdline_parse("foo loglevel=3 maxcpus=x", &C, NULL, NULL), 2);
	assert_int_equal(C.loglevel, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_empty),	 cmocka_unit_test(test_loglevel_good),
	    cmocka_unit_test(test_loglevel_bad),	 cmocka_unit_test(test_console_good),
	    cmocka_unit_test(test_console_bad),		 cmocka_unit_test(test_maxcpus),
	    cmocka_unit_test(test_unknown_and_multiple), cmocka_unit_test(test_path_skipping),
	    cmocka_unit_test(test_long_garbage),	 cmocka_unit_test(test_null_err_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
