/* Leveled kernel log on the serial console. */
#include <stdarg.h>

#include "core/fmt.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "drivers/uart/uart16550.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "main/platform.h"

#define PRINTK_BUF 512
#define HELD_MAX 4096
#define TRUNCATED " [...truncated]\n"

static int log_level = LOG_INFO;
static struct spinlock console_lock;

/* The shell's claim on the console (printk.h). line_lock is taken before
 * console_lock, never after. */
static struct spinlock line_lock;
static void (*shell_redraw)(void *ctx);
static void *shell_ctx;
static unsigned shell_cpu;
static bool shell_busy;
static char held[HELD_MAX];
static unsigned long held_len, held_lost;

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

void console_attach_shell(void (*redraw)(void *ctx), void *ctx)
{
	shell_cpu = this_cpu();
	shell_ctx = ctx;
	shell_redraw = redraw;
}

uint64_t console_line_lock(void)
{
	return spin_lock_irqsave(&line_lock);
}

void console_line_unlock(uint64_t flags)
{
	spin_unlock_irqrestore(&line_lock, flags);
}

static void flush_held(void)
{
	char note[64];
	int n;

	console_write(held, held_len);
	if (held_lost) {
		n = ksnprintf(note, sizeof(note), "[%lu bytes of log lost while busy]\n",
			      held_lost);
		console_write(note, (unsigned long)n);
	}
	held_len = held_lost = 0;
}

void console_shell_busy(bool busy)
{
	uint64_t f = spin_lock_irqsave(&line_lock);

	shell_busy = busy;
	if (!busy) {
		flush_held();
		shell_redraw(shell_ctx); /* the prompt, under the lock: no message cuts in */
	}
	spin_unlock_irqrestore(&line_lock, f);
}

static void hold(const char *s, unsigned long n)
{
	unsigned long room = HELD_MAX - held_len, take = n < room ? n : room;

	for (unsigned long i = 0; i < take; i++)
		held[held_len + i] = s[i];
	held_len += take;
	held_lost += n - take;
}

/* A message: straight out while the shell's CPU runs a command (its own
 * output), else around the shell's line as printk.h says. With one CPU,
 * guests run on the shell's CPU between keystrokes: their messages are not
 * a command's output and must not land inside the line being typed. Only
 * the shell's CPU changes shell_busy, so it reads it without the lock. */
static void emit(const char *s, unsigned long n)
{
	uint64_t f;

	if (!shell_redraw || (shell_busy && this_cpu() == shell_cpu)) {
		console_write(s, n);
		return;
	}
	f = spin_lock_irqsave(&line_lock);
	if (shell_busy) {
		hold(s, n);
	} else {
		console_write("\n", 1);
		console_write(s, n);
		shell_redraw(shell_ctx);
	}
	spin_unlock_irqrestore(&line_lock, f);
}

static void vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_BUF];
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	if ((unsigned)n >= sizeof(buf)) {
		/* Say that the message was cut rather than cut it silently. */
		memcpy(buf + sizeof(buf) - sizeof(TRUNCATED), TRUNCATED, sizeof(TRUNCATED));
		n = sizeof(buf) - 1;
	}
	emit(buf, (unsigned long)n);
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

void panic_begin(void)
{
	static int owner = -1;
	int none = -1, self;
	unsigned running;

	__asm__ volatile("cli");
	/* With one CPU online this may be early boot, before this_cpu() works. */
	self = platform_cpus_online() > 1 ? (int)this_cpu() : 0;
	if (!__atomic_compare_exchange_n(&owner, &none, self, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		if (none == self)
			return;		  /* panic_exception() began, panic() goes on */
		platform_stop_this_cpu(); /* one report at a time: the first one's */
	}
	running = platform_stop_others();
	console_lock.locked = 0; /* a stopped CPU, or this one, may have held it */
	shell_redraw = NULL;	 /* straight out: the line lock may be held too */
	flush_held();		 /* what other CPUs said while a command ran */
	if (running)
		printk(LOG_EMERG, "\npanic: %u other CPU(s) did not stop\n", running);
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	console_write("\nPANIC: ", 8);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	console_write("\nsystem halted\n", 15);
	halt_forever();
}
