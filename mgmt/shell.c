/* The management shell core (see shell.h): line editing, splitting a line
 * into words, and 'decode then invoke' dispatch against a command table. */
#include <stdarg.h>

#include "core/fmt.h"
#include "keel/kstring.h"
#include "mgmt/shell.h"

#define SHELL_PRINTF_BUF 512
#define CTRL_C 0x03
#define CTRL_U 0x15
#define BS 0x08
#define DEL 0x7f

static void put(const struct shell_io *io, const char *s, size_t n)
{
	if (io && io->write)
		io->write(io->ctx, s, n);
}

void le_init(struct line_editor *le)
{
	memset(le, 0, sizeof(*le));
}

void le_reset(struct line_editor *le)
{
	bool after_cr = le->after_cr;

	le_init(le);
	le->after_cr = after_cr;
}

static void le_insert(struct line_editor *le, char c, const struct shell_io *echo)
{
	if (le->len < SHELL_LINE_MAX) {
		le->buf[le->len++] = c;
		le->buf[le->len] = '\0';
	} else {
		le->extra++; /* echoed so the user sees it, but not stored */
		le->overlong = true;
	}
	put(echo, &c, 1);
}

/* Erase up to n characters from the end, newest (unstored) ones first. */
static void le_erase(struct line_editor *le, size_t n, const struct shell_io *echo)
{
	for (; n && le->len + le->extra; n--) {
		if (le->extra)
			le->extra--;
		else
			le->len--;
		put(echo, "\b \b", 3);
	}
	le->buf[le->len] = '\0';
	le->overlong = le->extra != 0;
}

static enum le_result le_enter(struct line_editor *le, const struct shell_io *echo)
{
	put(echo, "\r\n", 2);
	le->buf[le->len] = '\0';
	return le->overlong ? LE_OVERLONG : LE_LINE;
}

static enum le_result le_interrupt(struct line_editor *le, const struct shell_io *echo)
{
	put(echo, "^C\r\n", 4);
	le->len = 0;
	le->extra = 0;
	le->overlong = false;
	le->buf[0] = '\0';
	return LE_INTERRUPT;
}

enum le_result le_feed(struct line_editor *le, char c, const struct shell_io *echo)
{
	unsigned char u = (unsigned char)c;
	bool after_cr = le->after_cr;

	le->after_cr = u == '\r';
	if (u == '\n' && after_cr)
		return LE_NONE; /* second half of a CRLF */
	if (u == '\r' || u == '\n')
		return le_enter(le, echo);
	if (u == CTRL_C)
		return le_interrupt(le, echo);
	if (u == BS || u == DEL)
		le_erase(le, 1, echo);
	else if (u == CTRL_U)
		le_erase(le, le->len + le->extra, echo);
	else if (u >= 0x20 && u < 0x7f)
		le_insert(le, c, echo);
	return LE_NONE;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Compacts the word starting at r in place (dropping quotes) and returns
 * where scanning continues, or NULL if a quote is left open. */
static char *take_word(char *r)
{
	char *w = r;
	bool quoted = false;

	for (; *r && (quoted || !is_blank(*r)); r++) {
		if (*r == '"')
			quoted = !quoted;
		else
			*w++ = *r;
	}
	if (quoted)
		return NULL;
	if (*r)
		r++; /* the separator; w <= r - 1, so it may be overwritten */
	*w = '\0';
	return r;
}

int shell_split(char *line, char **argv, int max)
{
	int argc = 0;

	for (;;) {
		while (is_blank(*line))
			line++;
		if (!*line)
			return argc;
		if (argc == max)
			return -1;
		argv[argc++] = line;
		line = take_word(line);
		if (!line)
			return -2;
	}
}

static const char *usage_args(const struct shell_cmd *c)
{
	return c->args ? c->args : "";
}

static size_t usage_len(const struct shell_cmd *c)
{
	size_t n = strlen(usage_args(c));

	return strlen(c->name) + (n ? n + 1 : 0);
}

static const struct shell_cmd *find_cmd(const struct shell_cmd *cmds, size_t ncmds,
					const char *name)
{
	for (size_t i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static bool nargs_ok(const struct shell_cmd *c, int nargs)
{
	return nargs >= c->min_args && (c->max_args < 0 || nargs <= c->max_args);
}

static void split_error(const struct shell_io *io, int err)
{
	if (err == -1)
		shell_printf(io, "error: too many words (max %d)\r\n", SHELL_MAX_ARGS);
	else
		shell_printf(io, "error: unterminated quote\r\n");
}

void shell_execute(const struct shell_cmd *cmds, size_t ncmds, const struct shell_io *io,
		   char *line)
{
	char *argv[SHELL_MAX_ARGS];
	int argc = shell_split(line, argv, SHELL_MAX_ARGS);
	const struct shell_cmd *c;

	if (argc < 0) {
		split_error(io, argc);
		return;
	}
	if (argc == 0)
		return;
	c = find_cmd(cmds, ncmds, argv[0]);
	if (!c) {
		shell_printf(io, "error: unknown command '%s' (try 'help')\r\n", argv[0]);
		return;
	}
	if (!nargs_ok(c, argc - 1)) {
		shell_printf(io, "error: usage: %s%s%s\r\n", c->name, *usage_args(c) ? " " : "",
			     usage_args(c));
		return;
	}
	c->run(io, argc, argv);
}

void shell_help(const struct shell_cmd *cmds, size_t ncmds, const struct shell_io *io)
{
	size_t width = 0;

	for (size_t i = 0; i < ncmds; i++)
		if (usage_len(&cmds[i]) > width)
			width = usage_len(&cmds[i]);
	for (size_t i = 0; i < ncmds; i++) {
		const struct shell_cmd *c = &cmds[i];
		const char *args = usage_args(c);

		shell_printf(io, "%s%s%s%*s  %s\r\n", c->name, *args ? " " : "", args,
			     (int)(width - usage_len(c)), "", c->help ? c->help : "");
	}
}

void shell_printf(const struct shell_io *io, const char *fmt, ...)
{
	char buf[SHELL_PRINTF_BUF];
	va_list ap;

	if (!io || !io->write)
		return;
	va_start(ap, fmt);
	kvformat(buf, sizeof(buf), io->write, io->ctx, fmt, ap);
	va_end(ap);
}
