/* Turns the VMCS exit-information fields into Keel's struct vm_exit. Pure
 * logic, so the rules are unit-tested: in particular the VM-exit
 * instruction length is used only for exits the SDM defines it for
 * (instruction exits); on EPT violations Bochs fills it in, real CPUs do
 * not, and MMIO takes its length from the decoder. */
#ifndef KEEL_VMX_EXIT_H
#define KEEL_VMX_EXIT_H

#include <stdint.h>

#include "vm/virt.h"

/* What the backend read from the VMCS after the exit. */
struct vmx_exit_raw {
	uint32_t reason;     /* VMCS_EXIT_REASON */
	uint64_t qual;	     /* VMCS_EXIT_QUAL */
	uint32_t insn_len;   /* VMCS_EXIT_INSN_LEN, whatever the exit */
	uint32_t intr_info;  /* VMCS_EXIT_INTR_INFO */
	uint32_t intr_error; /* VMCS_EXIT_INTR_ERROR */
	uint32_t idt_info;   /* VMCS_IDT_VECTORING_INFO */
	uint32_t idt_error;  /* VMCS_IDT_VECTORING_ERROR */
	uint64_t gpa;	     /* VMCS_GUEST_PHYS_ADDR (EPT exits) */
	uint64_t rip;	     /* guest RIP at the exit */
	uint64_t rcx;	     /* guest RCX (RDMSR/WRMSR) */
};

void vmx_decode_exit(const struct vmx_exit_raw *raw, struct vm_exit *e);

/* The guest_event type for a VMX interruption type, and back. */
enum guest_event_type vmx_event_type(uint32_t vmx_type);
uint32_t vmx_intr_type(enum guest_event_type t);

#endif
