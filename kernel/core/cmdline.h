/* Boot command line -> typed configuration. Pure logic, no heap. */
#ifndef KEEL_CORE_CMDLINE_H
#define KEEL_CORE_CMDLINE_H

#include <stdint.h>

enum log_level {
	LOG_EMERG = 0,
	LOG_ALERT,
	LOG_CRIT,
	LOG_ERR,
	LOG_WARN,
	LOG_NOTICE,
	LOG_INFO,
	LOG_DEBUG
};

struct keel_config {
	int loglevel; /* enum log_level */
	int console;  /* 0: auto (SPCR or COM1), 1..4: COM1..COM4 */
	uint32_t baud;
	uint32_t maxcpus; /* 0: all */
};

/* Called once per rejected word with a one-line message (no newline). */
typedef void (*cmdline_err_fn)(void *ctx, const char *msg);

void cmdline_defaults(struct keel_config *c);

/* Apply every valid option in `s` to `c`; returns how many words were
 * rejected. A rejected word leaves `c` untouched. `err` may be NULL. */
unsigned cmdline_parse(const char *s, struct keel_config *c, cmdline_err_fn err, void *ctx);

#endif
