/* mmio_bad: an MMIO access Keel's decoder does not support. `add %eax,
 * mem` (opcode 01 /r) is outside the set in kernel/vm/insn.h, so Keel must
 * stop the VM at that instruction and say why. If the guest is still
 * running afterwards (plain QEMU simply drops the write), it fails. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define OFFSET 0x10

const char rt_name[] = "mmio_bad";

void guest_main(void)
{
	uint64_t base = TESTDEV_MMIO_BASE;

	rt_printf("mmio_bad: add %%eax, 0x%lx (opcode 01 /r) on the test device\n", base + OFFSET);
	asm volatile(".byte 0x01, 0x43, %c[off]" /* add %eax, OFFSET(%rbx) */
		     :
		     : "a"(1), "b"(base), [off] "i"(OFFSET)
		     : "memory", "cc");
	rt_puts("FAIL mmio_bad: still running\n");
	rt_exit(1);
}
