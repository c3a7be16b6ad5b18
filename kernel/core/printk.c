/* Leveled kernel log on the serial console. */
#include <stdarg.h>

#include "core/fmt.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "drivers/uart/uart16550.h"
#include "keel/x86.h"
#include "main/platform.h"

#define PRINTK_BUF 512

static int log_level = LOG_INFO;
static struct spinlock console_lock;

void printk_set_level(int level)
{
	log_level = level;
}

void console_write(const char *s, unsigned long n)
{
	uint64_t f = spin_lock_irqsave(&console_lock);

	uart_write(s, n);
	spin_unlock_irqrestore(&console_lock, f);
}

static void vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_BUF];
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	if ((unsigned)n >= sizeof(buf)) {
		/* Say that the message was cut rather than cut it silently. */
		console_write(buf, sizeof(buf) - 1);
		console_write(" [...truncated]\n", 16);
		return;
	}
	console_write(buf, (unsigned long)n);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	__asm__ volatile("cli");
	platform_stop_others();
	console_lock.locked = 0; /* the panicking CPU may have held it */
	console_write("\nPANIC: ", 8);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	console_write("\nsystem halted\n", 15);
	halt_forever();
}
