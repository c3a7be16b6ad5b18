/* The test-guest runtime: boot (lib/entry.S), exceptions and interrupts
 * (lib/isr.S, rt.c), COM1 output, fw_cfg, the debug-exit verdict and the
 * check/report API. Every guest defines rt_name and guest_main(); the
 * runtime calls guest_main() in 64-bit mode and prints the verdict when it
 * returns. */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "layout.h"
#include "multiboot.h"

#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Defined by each guest. */
extern const char rt_name[];
void guest_main(void);

/* The multiboot information the loader passed in EBX (untrusted). */
extern const struct mb_info *rt_mbi;

/* ---- output ---- */
void rt_putc(char c);
void rt_puts(const char *s);
void rt_printf(const char *fmt, ...) PRINTF(1, 2);
void rt_vprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated when len > 0); returns the length
 * the full output would have had. */
size_t rt_snprintf(char *buf, size_t len, const char *fmt, ...) PRINTF(3, 4);

/* ---- report ---- */
/* Prints "ok - what" or "not ok - what" and counts failures. Returns cond. */
bool check(bool cond, const char *what);
/* As check(); on failure appends ": " and the formatted details. */
bool checkd(bool cond, const char *what, const char *fmt, ...) PRINTF(3, 4);
/* got == want, failures print both in hex. */
bool check_eq(uint64_t got, uint64_t want, const char *what);
/* A "# ..." comment line. */
void note(const char *fmt, ...) PRINTF(1, 2);
unsigned rt_failures(void);
/* Prints "PASS NAME" or "FAIL NAME (N failed)" and exits 0 or 1 through
 * the debug-exit port. */
NORETURN void rt_finish(void);
/* Writes code to the debug-exit port; if that returns, halts forever. */
NORETURN void rt_exit(uint32_t code);

/* ---- exceptions ---- */
/* The stack on entry to the common interrupt handler (lib/isr.S). */
struct rt_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error; /* error is 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss;
};

struct rt_trap {
	uint64_t vector, error, rip, cr2;
};

/* Calls fn(arg) with exceptions armed: an exception (vector < 32, except
 * NMI, #DF and #MC) raised before fn returns is recorded in *trap and
 * rt_try returns true at once, with callee-saved registers and RFLAGS as
 * they were at the call; false when fn returned normally. Not reentrant. */
bool rt_try(void (*fn)(void *), void *arg, struct rt_trap *trap);
const char *rt_vector_name(uint64_t vector);

/* Interrupt handlers for vectors 32-255; an interrupt on a vector with no
 * handler is reported as unexpected and fails the guest. */
typedef void (*rt_irq_fn)(struct rt_frame *f);
void rt_set_irq(uint8_t vector, rt_irq_fn fn);

/* Loads an IDT with the given limit (for the triple-fault guest). */
void rt_load_idt_limit(uint16_t limit);

/* ---- memory ---- */
/* Points the alias page at RT_ALIAS_VA to the physical page phys. The
 * runtime starts with it on TESTDEV_MMIO_BASE. */
void rt_map_alias(uint64_t phys, bool uncached);

/* ---- platform helpers ---- */
/* Reads len bytes of fw_cfg item key (traditional interface). */
void rt_fwcfg_read(uint16_t key, void *buf, size_t len);
/* rdmsr/wrmsr that return false if the access raised an exception; *trap
 * (if not NULL) then holds it. */
bool rdmsr_safe(uint32_t msr, uint64_t *val, struct rt_trap *trap);
bool wrmsr_safe(uint32_t msr, uint64_t val, struct rt_trap *trap);

/* The loader's command line ("" without one). */
const char *rt_cmdline(void);
/* True when word appears as a whitespace-separated token of the command
 * line (the first token included). */
bool rt_arg(const char *word);

/* ---- freestanding string functions (the compiler may call these) ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
