/* triple: loads an IDT with limit 0 and executes ud2. The #UD cannot be
 * delivered (#GP), neither can that (#DF), so the CPU shuts down: a triple
 * fault. QEMU with -no-reboot exits; Keel must mark the VM crashed. */
#include "rt.h"

const char rt_name[] = "triple";

void guest_main(void)
{
	rt_puts("triple: about to fault\n");
	cli();
	rt_load_idt_limit(0);
	asm volatile("ud2");
	/* Only reached if the fault was somehow absorbed. */
	rt_puts("FAIL triple: still running\n");
	rt_exit(1);
}
