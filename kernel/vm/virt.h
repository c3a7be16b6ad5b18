/* The contract between Keel's common code and a hardware virtualization
 * backend (svm/, vmx/). Common code never includes a backend header, and a
 * backend never calls into a device: it turns its hardware exit into one
 * struct vm_exit, and kernel/vm/exit.c handles that the same way for every
 * backend (DESIGN.md sections 2 and 3). */
#ifndef KEEL_VM_VIRT_H
#define KEEL_VM_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"
#include "mm/pt.h"
#include "vm/insn.h"

#define VIRT_WHY_MAX 160
#define VIRT_DESC_MAX 320 /* the backend's one-line feature summary */

struct vm;
struct vcpu;

/* Why the guest stopped running. Both backends produce exactly these. */
enum vm_exit_reason {
	VMEXIT_CPUID,
	VMEXIT_MSR_READ,
	VMEXIT_MSR_WRITE,
	VMEXIT_IO,
	VMEXIT_MMIO, /* nested page fault on a guest-physical non-RAM address */
	VMEXIT_HLT,
	VMEXIT_HYPERCALL,  /* VMMCALL / VMCALL */
	VMEXIT_IRQ_WINDOW, /* the guest can take an interrupt now */
	VMEXIT_EXTINT,	   /* a host interrupt arrived (Keel's timer, a kick) */
	VMEXIT_PREEMPT,	   /* the backend's own timer for v->run_until ran out */
	VMEXIT_NMI,
	VMEXIT_SHUTDOWN, /* triple fault */
	VMEXIT_XSETBV,
	VMEXIT_CR_ACCESS,     /* MOV to or from a control register Keel intercepts */
	VMEXIT_UD,	      /* an instruction the guest must see as undefined (the
			       * other vendor's virtualization instructions) */
	VMEXIT_EXCEPTION,     /* a guest exception Keel intercepts (see exc) */
	VMEXIT_NOP,	      /* an intercepted instruction that does nothing here
			       * (INVD, WBINVD): skip it */
	VMEXIT_INVALID_STATE, /* the hardware refused to enter the guest */
	VMEXIT_UNKNOWN,	      /* an exit Keel did not ask for */
	VMEXIT_REASON_COUNT
};

/* An interrupt or exception to deliver to the guest, or the one the CPU was
 * delivering when the exit happened. */
enum guest_event_type {
	GEV_NONE,
	GEV_EXTINT,
	GEV_NMI,
	GEV_EXCEPTION,
	GEV_SOFTINT, /* INT n being delivered */
	GEV_SOFTEXC, /* INT3 / INTO being delivered */
	GEV_PRIVSOFT /* INT1 being delivered */
};

struct guest_event {
	enum guest_event_type type;
	uint8_t vector;
	bool has_error;
	uint32_t error;
	bool set_cr2; /* a page fault: CR2 gets cr2 as delivery starts */
	uint64_t cr2;
	uint8_t insn_len; /* software types: the instruction's length (VMX) */
};

#define VMEXIT_GPR_UNKNOWN 0xFF /* the exit does not name the register */

struct vm_exit {
	enum vm_exit_reason reason;
	/* Where the guest continues after the exiting instruction, when the
	 * hardware says so (NRIP save on SVM, EXITINFO2 of an IOIO exit, the
	 * VM-exit instruction length on VMX). Never set for MMIO: nested-page
	 * faults have no defined length; the decoder's length is used. When
	 * unknown, the dispatcher measures the `insn` instruction at RIP. */
	bool next_rip_known;
	uint64_t next_rip;
	enum insn_exit_kind insn;
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2, 4 */
			bool in, string, rep;
		} io;
		struct {
			uint32_t index; /* ECX */
		} msr;
		struct {
			uint64_t gpa;
			bool write, fetch;
			bool walk; /* the guest's own page-table walk touched it */
		} mmio;
		struct guest_event exc;
		struct {
			uint8_t cr;  /* 0, 3, 4 or 8 */
			uint8_t gpr; /* enum gpr, or VMEXIT_GPR_UNKNOWN: decode it */
			bool write;  /* MOV to CRn */
		} cr;
	};
	/* An event the CPU was delivering when the exit happened; the
	 * dispatcher delivers it again before anything new. */
	struct guest_event vectoring;
	/* The backend's raw exit code and qualifiers, for messages. */
	uint64_t hw_code, hw_info1, hw_info2;
	/* VMEXIT_INVALID_STATE: the backend's explanation, or "". */
	char detail[VIRT_WHY_MAX];
};

/* A guest segment register. attr uses the 12-bit layout of the SVM VMCB:
 * bits 3:0 type, 4 S, 6:5 DPL, 7 P, 8 AVL, 9 L, 10 D/B, 11 G (VMX access
 * rights hold the same bits, with 11:8 moved up to 15:12). */
struct vseg {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};

#define VSEG_TYPE_CODE_RX_ACC 0xB
#define VSEG_TYPE_DATA_RW_ACC 0x3
#define VSEG_TYPE_TSS_BUSY 0xB
#define VSEG_TYPE_LDT 0x2
#define VSEG_S (1u << 4)
#define VSEG_P (1u << 7)
#define VSEG_L (1u << 9)
#define VSEG_DB (1u << 10)
#define VSEG_G (1u << 11)

enum vseg_index {
	VSEG_ES,
	VSEG_CS,
	VSEG_SS,
	VSEG_DS,
	VSEG_FS,
	VSEG_GS,
	VSEG_TR,
	VSEG_LDTR,
	VSEG_COUNT
};

/* Guest system state that only changes through set_sregs or the guest. */
struct vcpu_sregs {
	struct vseg seg[VSEG_COUNT];
	uint64_t gdt_base, idt_base;
	uint32_t gdt_limit, idt_limit;
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t efer; /* as the guest sees it: never SVME */
};

struct virt_ops {
	const char *name;
	/* Can this machine run the backend? On no, `why` says why in one line. */
	bool (*probe)(char *why, size_t whylen);
	/* One line describing the features found (after a successful probe). */
	void (*describe)(char *buf, size_t len);
	/* Turn the hardware on for the calling CPU. */
	status_t (*enable_cpu)(unsigned cpu) MUST_CHECK;

	/* Nested page-table entry format and the protection guest RAM gets. */
	const struct pt_format *npt_format;
	uint32_t npt_ram_prot;

	/* Host bytes one vCPU's hardware state takes (for accounting). */
	uint64_t vcpu_bytes;

	/* Hardware state of one vCPU (VMCB/VMCS, bitmaps); the vCPU starts
	 * with the registers in v->regs and the system state in *s. */
	status_t (*vcpu_create)(struct vcpu *v, const struct vcpu_sregs *s) MUST_CHECK;
	void (*vcpu_destroy)(struct vcpu *v);
	/* Enters the guest with v->regs, v->inject (cleared once handed to
	 * the hardware), v->want_irq_window and v->ctl.intr_shadow, and
	 * returns at the next exit with v->regs, v->ctl and *exit filled.
	 * Called with interrupts disabled on the CPU that runs v; a host
	 * interrupt pending at entry or arriving in the guest makes a
	 * VMEXIT_EXTINT (at once for a pending one) and runs when the caller
	 * enables interrupts again. Returns with interrupts disabled. */
	void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
	void (*get_sregs)(struct vcpu *v, struct vcpu_sregs *s);
	void (*set_sregs)(struct vcpu *v, const struct vcpu_sregs *s);
	/* The guest-visible EFER changed (after the policy accepted it). */
	void (*set_efer)(struct vcpu *v, uint64_t efer);
	/* The guest wrote CR0 or CR4 (validated by the dispatcher) in a way
	 * that exited: the backend does what the CPU would (long-mode
	 * activation, TLB flush) and keeps what the guest reads back. */
	void (*set_cr)(struct vcpu *v, unsigned cr, uint64_t val);
	/* Optional: v starts (load) or ends (put) a slice on this CPU, so a
	 * backend can move per-CPU hardware state with it. */
	void (*vcpu_load)(struct vcpu *v);
	void (*vcpu_put)(struct vcpu *v);
	/* MSRs the hardware holds for the guest (MSR_KIND_HW), should the
	 * guest's access ever reach Keel. */
	bool (*get_msr)(struct vcpu *v, uint32_t index, uint64_t *val);
	bool (*set_msr)(struct vcpu *v, uint32_t index, uint64_t val);
	/* Every guest's accesses to ports [port, port + len) reach the host
	 * device without an exit from now on (the I/O bitmaps are shared). */
	status_t (*pio_passthrough)(uint16_t port, uint16_t len) MUST_CHECK;
};

/* Picks the backend at boot and reports the choice. */
void virt_init(void);
/* Enables the chosen backend on the calling CPU (BSP and every AP). */
void virt_enable_this_cpu(unsigned cpu);
/* Name of the backend in use, or NULL when none is usable. */
const char *virt_backend(void);
/* The backend in use, or NULL. */
const struct virt_ops *virt_ops(void);
/* Number of CPUs on which the backend was enabled. */
unsigned virt_cpus_enabled(void);

const char *vm_exit_reason_name(enum vm_exit_reason r);

extern const struct virt_ops svm_ops;
extern const struct virt_ops vmx_ops;

#endif
