/* The exception panic path: everything a developer needs from one screen. */
#include "core/printk.h"
#include "cpu/cpu.h"
#include "keel/x86.h"
#include "mm/kmem.h"

#define MAX_TRACE_FRAMES 16
#define KERNEL_TEXT_LOW 0xFFFFFFFF80000000ull

static const char *const exception_names[NUM_EXCEPTIONS] = {"#DE divide error",
							    "#DB debug",
							    "NMI",
							    "#BP breakpoint",
							    "#OF overflow",
							    "#BR bound range",
							    "#UD invalid opcode",
							    "#NM device not available",
							    "#DF double fault",
							    "coprocessor overrun",
							    "#TS invalid TSS",
							    "#NP segment not present",
							    "#SS stack fault",
							    "#GP general protection",
							    "#PF page fault",
							    "reserved",
							    "#MF x87 error",
							    "#AC alignment check",
							    "#MC machine check",
							    "#XM SIMD error",
							    "#VE virtualization",
							    "#CP control protection",
							    "reserved",
							    "reserved",
							    "reserved",
							    "reserved",
							    "reserved",
							    "reserved",
							    "#HV hypervisor injection",
							    "#VC VMM communication",
							    "#SX security",
							    "reserved"};

static const char *vector_name(uint64_t v)
{
	return v < NUM_EXCEPTIONS ? exception_names[v] : "unexpected interrupt";
}

static void dump_regs(const struct regs *r)
{
	printk(LOG_EMERG, "RIP %016lx  CS %04lx  RFLAGS %016lx\n", r->rip, r->cs, r->rflags);
	printk(LOG_EMERG, "RSP %016lx  SS %04lx  CR2 %016lx  CR3 %016lx\n", r->rsp, r->ss,
	       read_cr2(), read_cr3());
	printk(LOG_EMERG, "RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", r->rax, r->rbx, r->rcx,
	       r->rdx);
	printk(LOG_EMERG, "RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", r->rsi, r->rdi, r->rbp,
	       r->r8);
	printk(LOG_EMERG, "R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", r->r9, r->r10, r->r11,
	       r->r12);
	printk(LOG_EMERG, "R13 %016lx R14 %016lx R15 %016lx\n", r->r13, r->r14, r->r15);
}

/* Walks saved frame pointers; stops at the first one outside the kernel. */
static void dump_trace(uint64_t rbp)
{
	printk(LOG_EMERG, "stack trace:\n");
	for (int i = 0; i < MAX_TRACE_FRAMES; i++) {
		if (rbp < KERNEL_TEXT_LOW || (rbp & 7))
			break;
		const uint64_t *frame = (const uint64_t *)rbp;
		if (frame[1] < KERNEL_TEXT_LOW)
			break;
		printk(LOG_EMERG, "  [%d] %016lx\n", i, frame[1]);
		rbp = frame[0];
	}
}

_Noreturn void panic_exception(const struct regs *r)
{
	panic_begin();
	printk(LOG_EMERG, "\nPANIC: exception %s (vector %lu), error code 0x%lx\n",
	       vector_name(r->vector), r->vector, r->error);
	dump_regs(r);
	if (kmem_is_stack_guard(read_cr2()))
		printk(LOG_EMERG, "stack overflow: CR2 is in the guard page under a stack\n");
	dump_trace(r->rbp);
	panic("unhandled exception");
}
