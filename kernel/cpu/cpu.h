#ifndef KEEL_CPU_H
#define KEEL_CPU_H

#include <stdint.h>

/* Saved by isr_common, in push order reversed. */
struct regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_TSS 0x18

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14
#define VEC_MACHINE_CHECK 18
#define NUM_EXCEPTIONS 32

typedef void (*irq_handler_fn)(struct regs *r);

void cpu_init_tables(unsigned cpu); /* GDT, TSS, IDT on this CPU */
void irq_register(uint8_t vector, irq_handler_fn fn);
void isr_dispatch(struct regs *r);
_Noreturn void panic_exception(const struct regs *r);

#endif
