/* The legacy 8259 pair: Keel takes interrupts through the LAPIC only. */
#ifndef KEEL_PIC8259_H
#define KEEL_PIC8259_H

#define PIC_VECTOR_BASE 0x20 /* IRQ 0-15 land on 0x20-0x2F, clear of exceptions */

/* Moves the PICs off the exception vectors (firmware leaves IRQ 0 on vector
 * 8, #DF) and masks every line. A spurious IRQ 7 or 15 can still arrive
 * after masking; it is ignored. */
void pic_disable(void);

#endif
