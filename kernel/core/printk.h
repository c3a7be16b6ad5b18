#ifndef KEEL_PRINTK_H
#define KEEL_PRINTK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cmdline.h" /* enum log_level */

void printk_set_level(int level);
void printk(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void console_write(const char *s, unsigned long n);

/* The shell's CPU owns the console: a message that is not a command's own
 * output (printk'd by another CPU, or by a guest run on the shell's CPU
 * while it waits for a key) must not land inside a command's output or a
 * half-typed line. While a command runs (busy) such messages are held and
 * printed when it ends, before redraw() gives the next prompt; otherwise
 * each goes on a line of its own and redraw() puts the prompt and the typed
 * part of the line back. The line editor runs between console_line_lock()
 * and console_line_unlock(), so a redraw never sees it half-updated. */
void console_attach_shell(void (*redraw)(void *ctx), void *ctx);
void console_shell_busy(bool busy);
uint64_t console_line_lock(void);
void console_line_unlock(uint64_t flags);
/* Stops the other CPUs and takes the console for a panic report; panic()
 * calls it, and so does a report that prints before calling panic(). */
void panic_begin(void);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

#endif
