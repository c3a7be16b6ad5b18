/* Remap and mask the 8259 PICs (Intel 8259A data sheet: ICW1-ICW4, OCW1).
 * Hardware access only. */
#include "drivers/pic/pic8259.h"

#include "cpu/cpu.h"
#include "keel/x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11 /* edge triggered, cascade, ICW4 follows */
#define ICW3_MASTER_SLAVE_ON_IRQ2 0x04
#define ICW3_SLAVE_ID 0x02
#define ICW4_8086 0x01
#define MASK_ALL 0xFF
#define SPURIOUS_MASTER (PIC_VECTOR_BASE + 7)
#define SPURIOUS_SLAVE (PIC_VECTOR_BASE + 15)

static void ignore(struct regs *r)
{
	(void)r; /* a spurious 8259 interrupt: no EOI (there is nothing in service) */
}

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, MASK_ALL);
	outb(PIC2_DATA, MASK_ALL);
	irq_register(SPURIOUS_MASTER, ignore);
	irq_register(SPURIOUS_SLAVE, ignore);
}
