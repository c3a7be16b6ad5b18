/* The management shell core shared by every transport: a byte-at-a-time
 * line editor, a tokenizer and a table-driven command dispatcher.
 * Pure logic; all output goes through a struct shell_io. */
#ifndef KEEL_MGMT_SHELL_H
#define KEEL_MGMT_SHELL_H

#include <stdbool.h>
#include <stddef.h>

#define SHELL_LINE_MAX 256 /* longest accepted line, in characters */
#define SHELL_MAX_ARGS 16  /* most words a line may have, command included */

struct shell_io {
	void *ctx;
	void (*write)(void *ctx, const char *s, size_t n);
	/* Interactive transports only (NULL otherwise): a byte the user typed,
	 * or -1 when none is waiting; never blocks. */
	int (*getc)(void *ctx);
	/* Called while a command waits for input, so the CPU can do other
	 * work (run vCPUs when it is the only CPU). May be NULL. */
	void (*idle)(void *ctx);
};

struct line_editor {
	char buf[SHELL_LINE_MAX + 1];
	size_t len;    /* characters stored in buf */
	bool overlong; /* characters were typed past SHELL_LINE_MAX */
	size_t extra;  /* how many (echoed, not stored) */
	bool after_cr; /* last byte was '\r': swallow a following '\n' */
};

enum le_result {
	LE_NONE,      /* keep feeding */
	LE_LINE,      /* a line is in le->buf, NUL-terminated */
	LE_OVERLONG,  /* Enter on a line longer than SHELL_LINE_MAX: rejected */
	LE_INTERRUPT, /* Ctrl-C: the line was abandoned */
};

/* Start from scratch (use once, before the first byte). */
void le_init(struct line_editor *le);
/* Start the next line after any result other than LE_NONE. Unlike le_init it
 * remembers a just-seen '\r', so the '\n' of a CRLF is not an empty line. */
void le_reset(struct line_editor *le);
/* Feed one received byte; `echo` (may be NULL) receives what to echo. */
enum le_result le_feed(struct line_editor *le, char c, const struct shell_io *echo);

/* Split `line` in place on spaces and tabs; "double quotes" group words and
 * are removed. Returns argc, -1 if there are more than `max` words, -2 on an
 * unterminated quote. argv needs room for `max` entries. */
int shell_split(char *line, char **argv, int max);

struct shell_cmd {
	const char *name;
	const char *args; /* usage of the arguments, e.g. "NAME"; "" if none */
	const char *help;
	int min_args, max_args; /* not counting the name; max_args < 0: no limit */
	void (*run)(const struct shell_io *io, int argc, char **argv);
};

/* Split `line` (modified), find and validate the command, then run it.
 * Every error is reported as one line starting with "error: ". */
void shell_execute(const struct shell_cmd *cmds, size_t ncmds, const struct shell_io *io,
		   char *line);
/* One line per command: name and args padded to a column, then the help. */
void shell_help(const struct shell_cmd *cmds, size_t ncmds, const struct shell_io *io);
/* Formatted output of any length: formatted through a 512-byte stack buffer
 * and written in pieces when longer, never cut. */
void shell_printf(const struct shell_io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
