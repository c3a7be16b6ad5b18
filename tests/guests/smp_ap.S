/* The application processors' way into long mode for the smp guest.
 *
 * smp_tramp .. smp_tramp_end is copied to a page below 1 MiB; a start-up
 * IPI with that page's vector starts an AP there in real mode with CS =
 * vector << 8, IP = 0 (SDM vol. 3 8.4.4.1). It loads the guest's GDT,
 * enters protected mode and jumps to smp_ap32 in the image (loaded at its
 * link address), which turns on the BSP's page tables and long mode and
 * calls smp_ap_main() on the stack the BSP left in smp_ap_stack. APs are
 * started one at a time, so one stack slot is enough. */
#include "layout.h"

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR0_LONG (CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)

	.section .text
	.code16
	.globl smp_tramp, smp_tramp_end
smp_tramp:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tramp_gdt_ptr - smp_tramp
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $smp_ap32

	.balign 8
tramp_gdt_ptr:
	.word RT_GDT_ENTRIES * 8 - 1
	.long rt_gdt
smp_tramp_end:

	.code32
smp_ap32:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $rt_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov $CR0_LONG, %eax
	mov %eax, %cr0
	ljmp $SEL_CODE64, $smp_ap64

	.code64
smp_ap64:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov smp_ap_stack(%rip), %rsp
	call smp_ap_main
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
