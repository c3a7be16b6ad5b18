/* Multiboot (v1) header and the 32-bit entry of every test guest: check the
 * loader magic, clear .bss, load our GDT, run the guest's optional 32-bit
 * hook (protected mode, paging off), build the page tables described in
 * layout.h, enter long mode and call rt_main(mbi). */
#include "layout.h"

#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define PAGE 4096
#define LARGE_PAGE 0x200000
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
/* Also clears CD and NW: some loaders leave the reset value there. */
#define CR0_LONG (CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define DEBUG_EXIT 0xF4
#define UART_LSR 5
#define LSR_THRE 0x20
#define SPIN_LIMIT 100000

	.section .multiboot, "a"
	.balign 4
	.long RT_MB1_HEADER_MAGIC
	.long RT_MB1_FLAGS
	.long -(RT_MB1_HEADER_MAGIC + RT_MB1_FLAGS)

	.section .text.entry, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	cmp $RT_MB1_BOOT_MAGIC, %eax
	jne bad_magic
	mov %ebx, rt_mbi_phys

	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov $rt_stack_top, %esp

	/* cdecl: rt_pm32_hook(uint32_t mbi); the default does nothing. */
	pushl rt_mbi_phys
	call rt_pm32_hook
	add $4, %esp
	cld

	call build_page_tables
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
	ljmp $SEL_CODE64, $start64

/* PML4[0] -> 4 PDs of 2 MiB pages covering 0-4 GiB; PML4[511] ->
 * PDPT[511] -> PD[0] -> the alias page table (entries filled in by C). */
build_page_tables:
	movl $rt_pdpt_lo + PTE_P + PTE_RW, rt_pml4
	movl $rt_pdpt_hi + PTE_P + PTE_RW, rt_pml4 + 511 * 8
	movl $rt_pd_hi + PTE_P + PTE_RW, rt_pdpt_hi + 511 * 8
	movl $rt_pt_alias + PTE_P + PTE_RW, rt_pd_hi

	mov $rt_pd_lo + PTE_P + PTE_RW, %eax
	xor %ecx, %ecx
1:	mov %eax, rt_pdpt_lo(, %ecx, 8)
	add $PAGE, %eax
	inc %ecx
	cmp $4, %ecx
	jb 1b

	mov $PTE_P + PTE_RW + PTE_PS, %eax
	xor %ecx, %ecx
2:	mov %eax, rt_pd_lo(, %ecx, 8)
	add $LARGE_PAGE, %eax
	inc %ecx
	cmp $4 * 512, %ecx
	jb 2b
	ret

/* Not loaded by a multiboot loader: say so on COM1 and exit 1. */
bad_magic:
	mov $bad_magic_msg, %esi
1:	movzbl (%esi), %ebx
	test %ebx, %ebx
	jz 3f
	mov $SPIN_LIMIT, %ecx
	mov $RT_COM1 + UART_LSR, %edx
2:	inb %dx, %al
	test $LSR_THRE, %al
	jnz 4f
	loop 2b
4:	mov $RT_COM1, %edx
	mov %bl, %al
	outb %al, %dx
	inc %esi
	jmp 1b
3:	mov $1, %eax
	outl %eax, $DEBUG_EXIT
5:	cli
	hlt
	jmp 5b

	.weak rt_pm32_hook
rt_pm32_hook:
	ret

	.code64
start64:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov $rt_stack_top, %rsp
	mov rt_mbi_phys(%rip), %edi
	call rt_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
bad_magic_msg:
	.asciz "FAIL: not started by a multiboot loader (EAX != 0x2BADB002)\r\n"

	.section .data
	.balign 8
	.globl rt_gdt
rt_gdt:
	.quad 0                        /* null */
	.quad 0x00AF9A000000FFFF       /* SEL_CODE64: L=1, DPL 0 */
	.quad 0x00CF92000000FFFF       /* SEL_DATA: flat 4 GiB read/write */
	.quad 0x00CF9A000000FFFF       /* SEL_CODE32: flat 4 GiB, D=1 */
	.quad 0, 0                     /* SEL_TSS */
	.quad 0                        /* SEL_SPARE */
rt_gdt_end:
	/* One pseudo-descriptor for both modes: lgdt reads a 32-bit base in
	 * protected mode and a 64-bit one in long mode. */
	.balign 8
	.word 0, 0, 0
	.globl gdt_ptr
gdt_ptr:
	.word rt_gdt_end - rt_gdt - 1
	.quad rt_gdt

	.globl rt_mbi_phys
rt_mbi_phys:
	.long 0

	.section .bss
	.balign PAGE
	.globl rt_pml4, rt_pt_alias
rt_pml4:	.skip PAGE
rt_pdpt_lo:	.skip PAGE
rt_pd_lo:	.skip 4 * PAGE
rt_pdpt_hi:	.skip PAGE
rt_pd_hi:	.skip PAGE
rt_pt_alias:	.skip PAGE
	.balign 16
	.globl rt_stack_top, rt_ist_stack_top
	.skip RT_STACK_SIZE
rt_stack_top:
	.skip RT_IST_STACK_SIZE
rt_ist_stack_top:

	.section .note.GNU-stack, "", @progbits
