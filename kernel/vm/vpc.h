/* The virtual PC of one VM (issue 5): its device models and how they are
 * wired together. The models are pure logic in kernel/vdev/; this file
 * owns the wiring:
 *
 *   devices --ISA IRQ n--> 8259 pair (IRQ n) and IOAPIC (pin n; IRQ 0 on
 *   pin 2, as the MADT override says) --message--> vLAPICs (destination
 *   matching, lowest priority) --pending vector--> the vCPU's next entry.
 *   The 8259's INT output reaches vCPU 0 through LINT0 (ExtINT).
 *   LAPIC IPIs go to the vLAPICs they name; INIT and SIPI become requests
 *   the target vCPU applies at its next entry. A level-triggered EOI goes
 *   back to the IOAPIC.
 *
 * Time: every model reads the guest TSC, which is the host TSC (no offset
 * yet), through one struct vdev_clock. vpc_due() is the earliest moment a
 * model has something to do; vpc_timers_update() does it.
 *
 * Guest-physical layout: RAM from 0 up to 3 GiB at most, the rest of it
 * from 4 GiB (guest_ram.h); 0xE0000 the ACPI tables (RAM the memory map
 * calls reserved); 0xC0000000-0xDFFFFFFF the PCI MMIO window; 0xE0000000
 * the PCI ECAM (buses 0-255); 0xFEC00000 the IOAPIC; 0xFEE00000 the LAPIC
 * page. Ports: PIC 0x20/0xA0 (+ELCR 0x4D0), PIT
 * 0x40-0x43 and 0x61, 8042 0x60/0x64, RTC 0x70-0x71, POST 0x80, COM1
 * 0x3F8 (IRQ 4), PM1a event 0x600, PM1a control 0x604, PM timer 0x608,
 * reset control 0xCF9; the SCI is IRQ 9, level-triggered.
 *
 * Locking: everything here runs under vm->lock (vm_lock/vm_unlock, which
 * recompute vpc_due() when a model changed), except vpc_cr8(): only the
 * vCPU itself changes its TPR. */
#ifndef KEEL_VM_VPC_H
#define KEEL_VM_VPC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cmdline.h"
#include "keel/status.h"
#include "vdev/ioapic.h"
#include "vdev/lapic.h"
#include "vdev/pic.h"
#include "vdev/pit.h"
#include "vdev/pm.h"
#include "vdev/pmtimer.h"
#include "vdev/rtc.h"
#include "vdev/uart16550.h"
#include "vdev/vdev.h"
#include "vm/virt.h"

#define VPC_ACPI_GPA 0xE0000ull
#define VPC_PCI_MMIO_BASE 0xC0000000ull
#define VPC_PCI_MMIO_SIZE 0x20000000ull
#define VPC_ECAM_BASE 0xE0000000ull
#define VPC_ECAM_SIZE 0x10000000ull /* room for 256 buses x 1 MiB; the MCFG names bus 0 */
#define VPC_IOAPIC_ID 0		    /* IOAPIC and LAPIC IDs are separate name spaces */
#define VPC_SCI_IRQ 9
#define VPC_PM_EVT_PORT 0x600
#define VPC_PM_CNT_PORT 0x604
#define VPC_PM_TMR_PORT 0x608

struct vm;
struct vcpu;

/* Once at boot, before any VM: whether guests read the host's ACPI PM
 * timer directly (the default, when it can) or an emulated one. */
void vpc_platform_init(bool emulated);

/* The vCPU-side context of one vLAPIC's callbacks. */
struct vpc_cpu {
	struct vm *vm;
	unsigned index;
	struct vlapic_host host;
};

struct vpc {
	struct vdev_clock clock;
	struct vlapic lapic[KEEL_MAX_VCPUS];
	struct vpc_cpu cpu[KEEL_MAX_VCPUS];
	struct ioapic ioapic;
	struct pic pic;
	struct pit pit;
	struct pmtimer pmtimer;
	uint64_t pmtimer_cursor; /* PM timer carries already reported */
	struct rtc rtc;
	struct postcode post;
	struct uart16550 com1;
	struct pm pm;
	struct pm_host pm_host;
	bool sci_level;
	struct vcpu *accessor; /* the vCPU whose access is being handled */
	uint64_t due;	       /* earliest model deadline (VDEV_NEVER: none) */
	bool due_stale;	       /* a model changed: recompute before trusting due */
	uint64_t booted_secs;  /* boots, for `vms` */
};

/* Creates the models and registers them on the VM's buses (once). */
status_t vpc_init(struct vm *vm) MUST_CHECK;

/* The guest's MAXPHYADDR, which its CPUID shows: the host's. */
uint8_t vpc_phys_bits(void);

/* Power-on state for a start or a reboot: every model reset (CMOS RAM is
 * kept across a reboot, as on a PC); the ACPI tables are written into the
 * guest's (zeroed) RAM. */
status_t vpc_reset(struct vm *vm, bool reboot) MUST_CHECK;

/* The earliest guest-TSC time a model needs attention; its update. */
uint64_t vpc_due(struct vm *vm);
void vpc_timers_update(struct vm *vm, uint64_t now);

/* What v should take next: an NMI, an ExtINT from the 8259, a LAPIC
 * vector, in that order. false when nothing is pending. */
bool vpc_pending(struct vm *vm, struct vcpu *v, struct guest_event *ev);
/* v's entry delivers ev (from vpc_pending): acknowledge it at its source
 * (IRR -> ISR, the 8259's INTA cycle, the NMI latch). */
void vpc_ack(struct vm *vm, struct vcpu *v, struct guest_event *ev);

/* IA32_APIC_BASE, the x2APIC MSRs and IA32_TSC_DEADLINE: false = #GP. */
bool vpc_msr_read(struct vm *vm, struct vcpu *v, uint32_t msr, uint64_t *val);
bool vpc_msr_write(struct vm *vm, struct vcpu *v, uint32_t msr, uint64_t val);
bool vpc_is_lapic_msr(uint32_t msr);

/* CR8 is the TPR's upper nibble. */
uint8_t vpc_cr8(struct vm *vm, struct vcpu *v);
void vpc_set_cr8(struct vm *vm, struct vcpu *v, uint8_t cr8);
/* The class of an interrupt only the TPR holds back, else 0 (lapic.h). */
unsigned vpc_tpr_blocked(struct vm *vm, struct vcpu *v);

/* Keyboard input from an attached console for COM1; false: FIFO full. */
bool vpc_console_input(struct vm *vm, uint8_t byte);
/* Presses the ACPI power button (Keel's `shutdown`). */
void vpc_power_button(struct vm *vm);

#endif
