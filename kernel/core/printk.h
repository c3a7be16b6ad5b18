#ifndef KEEL_PRINTK_H
#define KEEL_PRINTK_H

#include "core/cmdline.h" /* enum log_level */

void printk_set_level(int level);
void printk(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void console_write(const char *s, unsigned long n);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

#endif
