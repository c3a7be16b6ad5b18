/* Per-CPU GDT and TSS, one shared IDT. */
#include "cpu/cpu.h"
#include "core/printk.h"
#include "keel/kstring.h"
#include "mm/kmem.h"

#define IST_STACK_SIZE 8192
#define IDT_INTERRUPT_GATE 0x8E
#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */
#define SEG_CODE64 0x00AF9A000000FFFFull
#define SEG_DATA 0x00CF92000000FFFFull
#define TSS_TYPE_AVAILABLE 0x89

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct table_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct cpu_tables {
	uint64_t gdt[GDT_ENTRIES];
	struct tss tss;
	uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));
};

extern char isr_stubs[];
static struct idt_entry idt[256];
/* The BSP's are static (no heap yet); each AP's come from the heap. */
static struct cpu_tables bsp_tables;
static irq_handler_fn handlers[256];

static void idt_set(unsigned vec, uint8_t ist)
{
	uint64_t a = (uint64_t)isr_stubs + 16 * vec;

	idt[vec] = (struct idt_entry){
	    .offset_lo = (uint16_t)a,
	    .selector = GDT_KCODE,
	    .ist = ist,
	    .type = IDT_INTERRUPT_GATE,
	    .offset_mid = (uint16_t)(a >> 16),
	    .offset_hi = (uint32_t)(a >> 32),
	};
}

static void idt_build(void)
{
	for (unsigned v = 0; v < 256; v++)
		idt_set(v, 0);
	/* Faults that can hit with a broken stack get a known-good one. */
	idt_set(VEC_DOUBLE_FAULT, IST_DOUBLE_FAULT);
	idt_set(VEC_NMI, IST_NMI);
	idt_set(VEC_MACHINE_CHECK, IST_MACHINE_CHECK);
}

static void gdt_build(struct cpu_tables *t)
{
	uint64_t base = (uint64_t)&t->tss;
	uint64_t limit = sizeof(t->tss) - 1;

	memset(t, 0, sizeof(*t));
	t->gdt[1] = SEG_CODE64;
	t->gdt[2] = SEG_DATA;
	t->gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		    ((uint64_t)TSS_TYPE_AVAILABLE << 40) | (((base >> 24) & 0xFF) << 56);
	t->gdt[4] = base >> 32;
	for (int i = 0; i < 3; i++)
		t->tss.ist[i] = (uint64_t)&t->ist_stacks[i][IST_STACK_SIZE];
	t->tss.iomap_base = sizeof(t->tss);
}

void cpu_init_tables(unsigned cpu)
{
	struct cpu_tables *t = cpu == 0 ? &bsp_tables : kzalloc(sizeof(*t));

	if (!t)
		panic("cpu %u: no memory for its GDT and TSS", cpu);
	struct table_ptr gp = {sizeof(t->gdt) - 1, (uint64_t)t->gdt};
	struct table_ptr ip = {sizeof(idt) - 1, (uint64_t)idt};

	if (cpu == 0)
		idt_build();
	gdt_build(t);
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%eax\n\t"
			 "mov %%eax, %%ds\n\t"
			 "mov %%eax, %%es\n\t"
			 "mov %%eax, %%ss\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gp), "i"(GDT_KCODE), "i"(GDT_KDATA), "r"(GDT_TSS), "m"(ip)
			 : "rax", "memory");
}

void irq_register(uint8_t vector, irq_handler_fn fn)
{
	handlers[vector] = fn;
}

void isr_dispatch(struct regs *r)
{
	irq_handler_fn fn = handlers[r->vector & 0xFF];

	if (fn) {
		fn(r);
		return;
	}
	panic_exception(r);
}
