/* Unit tests for the management shell core: line editing and echo, the
 * tokenizer, dispatch with its error lines, help and shell_printf. All
 * output is captured through a recording struct shell_io. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/shell.h"

struct rec {
	char text[8192];
	size_t len, writes, biggest;
};

static void rec_write(void *ctx, const char *s, size_t n)
{
	struct rec *r = ctx;

	assert_true(r->len + n < sizeof(r->text));
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = '\0';
	r->writes++;
	if (n > r->biggest)
		r->biggest = n;
}

static struct rec R;
static const struct shell_io IO = {&R, rec_write, NULL, NULL};

static void rec_clear(void)
{
	memset(&R, 0, sizeof(R));
}

/* Feeds a string; returns the result of its last byte. */
static enum le_result feed(struct line_editor *le, const char *s)
{
	enum le_result r = LE_NONE;

	for (; *s; s++)
		r = le_feed(le, *s, &IO);
	return r;
}

static void feed_n(struct line_editor *le, char c, size_t n)
{
	while (n--)
		assert_int_equal(le_feed(le, c, &IO), LE_NONE);
}

static void test_line_and_echo(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	assert_int_equal(feed(&le, "help me"), LE_NONE);
	assert_int_equal(le.len, 7);
	assert_int_equal(feed(&le, "\r"), LE_LINE);
	assert_string_equal(le.buf, "help me");
	assert_string_equal(R.text, "help me\r\n");
	le_reset(&le);
	assert_int_equal(feed(&le, "x\n"), LE_LINE); /* a bare LF ends a line too */
	assert_string_equal(le.buf, "x");
}

static void test_backspace(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	assert_int_equal(feed(&le, "ab\bc\x7f\x7f"
				   "d\r"),
			 LE_LINE);
	assert_string_equal(le.buf, "d");
	assert_string_equal(R.text, "ab\b \bc\b \b\b \bd\r\n");
	/* Backspace on an empty line erases (and echoes) nothing. */
	le_reset(&le);
	rec_clear();
	assert_int_equal(feed(&le, "\b\x7f\r"), LE_LINE);
	assert_string_equal(le.buf, "");
	assert_string_equal(R.text, "\r\n");
}

static void test_ctrl_u(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	assert_int_equal(feed(&le, "abc\x15"), LE_NONE);
	assert_int_equal(le.len, 0);
	assert_string_equal(R.text, "abc\b \b\b \b\b \b");
	assert_int_equal(feed(&le, "ok\r"), LE_LINE);
	assert_string_equal(le.buf, "ok");
}

static void test_ctrl_c(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	assert_int_equal(feed(&le, "reboot\x03"), LE_INTERRUPT);
	assert_string_equal(R.text, "reboot^C\r\n");
	assert_string_equal(le.buf, "");
	le_reset(&le);
	assert_int_equal(feed(&le, "mem\r"), LE_LINE);
	assert_string_equal(le.buf, "mem");
}

static void test_crlf(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	assert_int_equal(feed(&le, "a\r"), LE_LINE);
	le_reset(&le);
	assert_int_equal(le_feed(&le, '\n', &IO), LE_NONE); /* LF of the CRLF */
	assert_int_equal(feed(&le, "b\r"), LE_LINE);
	assert_string_equal(le.buf, "b");
	le_reset(&le);
	assert_int_equal(le_feed(&le, '\n', &IO), LE_NONE);
	/* Only directly after CR: a later LF is an (empty) line. */
	assert_int_equal(le_feed(&le, '\n', &IO), LE_LINE);
	assert_string_equal(le.buf, "");
	assert_string_equal(R.text, "a\r\nb\r\n\r\n");
	/* Two CRs are two lines. */
	le_reset(&le);
	assert_int_equal(le_feed(&le, '\r', &IO), LE_LINE);
	le_reset(&le);
	assert_int_equal(le_feed(&le, '\r', &IO), LE_LINE);
}

static void test_ignored_bytes(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	assert_int_equal(feed(&le, "a\x01\x1b\x07\t\x80\xff\xe9z"), LE_NONE);
	assert_string_equal(le.buf, "az");
	assert_string_equal(R.text, "az");
}

static void test_no_echo(void **state)
{
	struct line_editor le;

	(void)state;
	le_init(&le);
	assert_int_equal(le_feed(&le, 'q', NULL), LE_NONE);
	assert_int_equal(le_feed(&le, '\b', NULL), LE_NONE);
	assert_int_equal(le_feed(&le, 'w', NULL), LE_NONE);
	assert_int_equal(le_feed(&le, '\r', NULL), LE_LINE);
	assert_string_equal(le.buf, "w");
}

static void test_line_limit(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	feed_n(&le, 'a', SHELL_LINE_MAX);
	assert_false(le.overlong);
	assert_int_equal(le_feed(&le, '\r', &IO), LE_LINE);
	assert_int_equal(strlen(le.buf), SHELL_LINE_MAX);
	le_reset(&le);
	feed_n(&le, 'b', SHELL_LINE_MAX + 1);
	assert_true(le.overlong);
	assert_int_equal(le.len, SHELL_LINE_MAX);
	assert_int_equal(le_feed(&le, '\r', &IO), LE_OVERLONG);
	le_reset(&le);
	assert_false(le.overlong);
	assert_int_equal(feed(&le, "next\r"), LE_LINE);
	assert_string_equal(le.buf, "next");
}

static void test_line_limit_edit(void **state)
{
	struct line_editor le;

	(void)state;
	rec_clear();
	le_init(&le);
	feed_n(&le, 'c', SHELL_LINE_MAX + 2);
	assert_true(le.overlong);
	feed_n(&le, '\b', 2); /* back within the limit: acceptable again */
	assert_false(le.overlong);
	assert_int_equal(le_feed(&le, '\r', &IO), LE_LINE);
	assert_int_equal(strlen(le.buf), SHELL_LINE_MAX);
	le_reset(&le);
	feed_n(&le, 'd', SHELL_LINE_MAX + 5);
	assert_int_equal(le_feed(&le, 0x15, &IO), LE_NONE); /* Ctrl-U clears it all */
	assert_false(le.overlong);
	assert_int_equal(le.len, 0);
	assert_int_equal(le_feed(&le, 0x03, &IO), LE_INTERRUPT);
}

static void test_split(void **state)
{
	char line[] = "  set\tname  \"two words\" x\"y z\"w \"\" end ";
	char *argv[SHELL_MAX_ARGS];

	(void)state;
	assert_int_equal(shell_split(line, argv, SHELL_MAX_ARGS), 6);
	assert_string_equal(argv[0], "set");
	assert_string_equal(argv[1], "name");
	assert_string_equal(argv[2], "two words");
	assert_string_equal(argv[3], "xy zw");
	assert_string_equal(argv[4], "");
	assert_string_equal(argv[5], "end");
}

static void test_split_edges(void **state)
{
	char empty[] = "", blank[] = " \t ", three[] = "a b c", open[] = "say \"hi there";
	char exact[] = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
	char over[] = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17";
	char *argv[SHELL_MAX_ARGS];

	(void)state;
	assert_int_equal(shell_split(empty, argv, SHELL_MAX_ARGS), 0);
	assert_int_equal(shell_split(blank, argv, SHELL_MAX_ARGS), 0);
	assert_int_equal(shell_split(three, argv, 2), -1);
	assert_int_equal(shell_split(open, argv, SHELL_MAX_ARGS), -2);
	assert_int_equal(shell_split(exact, argv, SHELL_MAX_ARGS), SHELL_MAX_ARGS);
	assert_string_equal(argv[15], "16");
	assert_int_equal(shell_split(over, argv, SHELL_MAX_ARGS), -1);
}

static int got_argc;
static char got_argv[SHELL_MAX_ARGS][64];
static int runs;

static void cmd_record(const struct shell_io *io, int argc, char **argv)
{
	runs++;
	got_argc = argc;
	for (int i = 0; i < argc; i++)
		snprintf(got_argv[i], sizeof(got_argv[i]), "%s", argv[i]);
	shell_printf(io, "ran %s\r\n", argv[0]);
}

static const struct shell_cmd cmds[] = {
    {"help", "", "list commands", 0, 0, cmd_record},
    {"vm-create", "NAME [MEM]", "create a VM", 1, 2, cmd_record},
    {"echo", "WORDS...", "print words", 0, -1, cmd_record},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void exec(const char *s)
{
	char line[SHELL_LINE_MAX + 1];

	snprintf(line, sizeof(line), "%s", s);
	rec_clear();
	runs = 0;
	got_argc = -1;
	shell_execute(cmds, NCMDS, &IO, line);
}

static void test_execute_runs(void **state)
{
	(void)state;
	exec("  vm-create \"my vm\" 512 ");
	assert_int_equal(runs, 1);
	assert_int_equal(got_argc, 3);
	assert_string_equal(got_argv[0], "vm-create");
	assert_string_equal(got_argv[1], "my vm");
	assert_string_equal(got_argv[2], "512");
	assert_string_equal(R.text, "ran vm-create\r\n");
	exec("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"); /* max_args < 0: no limit */
	assert_int_equal(got_argc, SHELL_MAX_ARGS);
}

static void test_execute_blank(void **state)
{
	(void)state;
	exec("");
	assert_int_equal(runs, 0);
	assert_int_equal(R.len, 0);
	exec(" \t  ");
	assert_int_equal(runs, 0);
	assert_int_equal(R.len, 0);
}

static void test_execute_unknown(void **state)
{
	(void)state;
	exec("foo bar");
	assert_int_equal(runs, 0);
	assert_string_equal(R.text, "error: unknown command 'foo' (try 'help')\r\n");
	exec("HELP"); /* names are case-sensitive */
	assert_string_equal(R.text, "error: unknown command 'HELP' (try 'help')\r\n");
}

static void test_execute_usage(void **state)
{
	(void)state;
	exec("vm-create");
	assert_int_equal(runs, 0);
	assert_string_equal(R.text, "error: usage: vm-create NAME [MEM]\r\n");
	exec("vm-create a b c");
	assert_int_equal(runs, 0);
	assert_string_equal(R.text, "error: usage: vm-create NAME [MEM]\r\n");
	exec("help extra");
	assert_string_equal(R.text, "error: usage: help\r\n");
}

static void test_execute_split_errors(void **state)
{
	(void)state;
	exec("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
	assert_int_equal(runs, 0);
	assert_string_equal(R.text, "error: too many words (max 16)\r\n");
	exec("echo \"open");
	assert_int_equal(runs, 0);
	assert_string_equal(R.text, "error: unterminated quote\r\n");
}

static void test_help(void **state)
{
	(void)state;
	rec_clear();
	shell_help(cmds, NCMDS, &IO);
	assert_string_equal(R.text, "help"
				    "                  "
				    "list commands\r\n"
				    "vm-create NAME [MEM]  create a VM\r\n"
				    "echo WORDS..."
				    "         "
				    "print words\r\n");
}

static void test_printf_long(void **state)
{
	char big[3000], want[4000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(want, sizeof(want), "<%s|%600d>", big, 7);
	rec_clear();
	shell_printf(&IO, "<%s|%600d>", big, 7);
	assert_int_equal(R.len, strlen(want));
	assert_string_equal(R.text, want);
	assert_true(R.biggest <= 512);
	assert_true(R.writes > 1);
	rec_clear();
	shell_printf(&IO, "short %d\r\n", 42);
	assert_string_equal(R.text, "short 42\r\n");
	assert_int_equal(R.writes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_and_echo),
	    cmocka_unit_test(test_backspace),
	    cmocka_unit_test(test_ctrl_u),
	    cmocka_unit_test(test_ctrl_c),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_ignored_bytes),
	    cmocka_unit_test(test_no_echo),
	    cmocka_unit_test(test_line_limit),
	    cmocka_unit_test(test_line_limit_edit),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_split_edges),
	    cmocka_unit_test(test_execute_runs),
	    cmocka_unit_test(test_execute_blank),
	    cmocka_unit_test(test_execute_unknown),
	    cmocka_unit_test(test_execute_usage),
	    cmocka_unit_test(test_execute_split_errors),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_printf_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
