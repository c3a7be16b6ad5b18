/* The serial transport of the management shell. */
#include "core/printk.h"
#include "cpu/timer.h"
#include "drivers/uart/uart16550.h"
#include "keel/x86.h"
#include "main/platform.h"
#include "mgmt/commands.h"
#include "vm/sched.h"

#define PROMPT "keel> "

static void serial_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	console_write(s, n);
}

/* An idle shell halts and looks at the UART every POLL_US: sooner than
 * the 16-byte receive FIFO fills at 115200 baud (1.4 ms). After a key it
 * polls without halting for TYPING_MS, so a pasted line keeps up. */
#define POLL_US 500
#define TYPING_MS 100

static uint64_t last_key;

static int read_key(void)
{
	int c = uart_getc();

	if (c >= 0)
		last_key = rdtsc();
	return c;
}

static int serial_getc(void *ctx)
{
	(void)ctx;
	return read_key();
}

/* With no other CPU, guests run here between keystrokes. */
static void serial_idle(void *ctx)
{
	uint64_t now;

	(void)ctx;
	sched_watchdog();
	if (sched_poll_bsp())
		return;
	now = rdtsc();
	if (now - last_key < tsc_hz() / 1000 * TYPING_MS)
		cpu_relax();
	else
		sched_idle_until(now + tsc_hz() / 1000000 * POLL_US);
}

static const struct shell_io serial_io = {NULL, serial_write, serial_getc, serial_idle};

/* After a message from another CPU: the prompt and what was typed so far. */
static void redraw(void *ctx)
{
	const struct line_editor *le = ctx;

	console_write(PROMPT, sizeof(PROMPT) - 1);
	console_write(le->buf, le->len);
}

_Noreturn void mgmt_serial_loop(void)
{
	static struct line_editor le;

	le_init(&le);
	console_write(PROMPT, sizeof(PROMPT) - 1);
	console_attach_shell(redraw, &le);
	for (;;) {
		int c = read_key();
		if (c < 0) {
			serial_idle(NULL);
			continue;
		}
		uint64_t f = console_line_lock();
		enum le_result r = le_feed(&le, (char)c, &serial_io);

		console_line_unlock(f);
		if (r == LE_NONE)
			continue;
		console_shell_busy(true);
		if (r == LE_LINE)
			shell_execute(mgmt_commands, mgmt_ncommands, &serial_io, le.buf);
		else if (r == LE_OVERLONG)
			shell_printf(&serial_io, "error: line too long (max %d characters)\r\n",
				     SHELL_LINE_MAX);
		f = console_line_lock();
		le_reset(&le);
		console_line_unlock(f);
		console_shell_busy(false); /* prints what was held, then the prompt */
	}
}
