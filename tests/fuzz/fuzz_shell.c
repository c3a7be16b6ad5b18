/* libFuzzer target for the management shell's input side: bytes as a
 * serial or TCP client sends them, through the line editor, the tokenizer
 * and the command dispatcher (with a small table of commands that check
 * what they are given). Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t out_bytes;

static void out(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (n && !s)
		abort();
	out_bytes += n;
}

static void args_ok(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!argv[i] || strlen(argv[i]) > SHELL_LINE_MAX)
			abort();
}

static void run_none(const struct shell_io *io, int argc, char **argv)
{
	if (argc != 1)
		abort(); /* the dispatcher enforces max_args = 0 */
	args_ok(argc, argv);
	shell_printf(io, "none\r\n");
}

static void run_one(const struct shell_io *io, int argc, char **argv)
{
	if (argc != 2)
		abort();
	args_ok(argc, argv);
	shell_printf(io, "one %s\r\n", argv[1]);
}

static void run_any(const struct shell_io *io, int argc, char **argv)
{
	if (argc < 1 || argc > SHELL_MAX_ARGS)
		abort();
	args_ok(argc, argv);
	for (int i = 0; i < argc; i++)
		shell_printf(io, "%s ", argv[i]);
}

static const struct shell_cmd cmds[] = {
    {"none", "", "no arguments", 0, 0, run_none},
    {"one", "X", "exactly one", 1, 1, run_one},
    {"any", "[X...]", "any number", 0, -1, run_any},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shell_io io = {NULL, out, NULL, NULL};
	struct line_editor le;

	le_init(&le);
	for (size_t i = 0; i < size; i++) {
		enum le_result r = le_feed(&le, (char)data[i], &io);

		if (le.len > SHELL_LINE_MAX)
			abort();
		if (r == LE_NONE)
			continue;
		if (r == LE_LINE) {
			if (strlen(le.buf) != le.len)
				abort(); /* a NUL byte typed in must not hide the rest */
			out_bytes = 0;
			shell_execute(cmds, sizeof(cmds) / sizeof(cmds[0]), &io, le.buf);
			if (!out_bytes && le.len && strspn(le.buf, " \t") != le.len)
				abort(); /* every non-blank line gets an answer or an error */
		}
		le_reset(&le);
	}
	return 0;
}
