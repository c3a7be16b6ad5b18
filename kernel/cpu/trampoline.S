/* Application-processor start code. Copied to a page below 1 MiB; a SIPI
 * starts it in real mode with CS = page >> 4. It finds its own base from CS,
 * so nothing in the code is patched: the BSP only fills the parameter block at
 * the end. Path: real mode -> 32-bit protected mode -> long mode on the
 * bootstrap page tables (identity 0-4 GiB) -> ap_entry(cpu) on its own stack. */
#define CR0_PE 1
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18
#define OFF(x) ((x) - trampoline_start)

	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl trampoline_cr3, trampoline_stack, trampoline_entry, trampoline_cpu, trampoline_kcr3
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	movzwl %ax, %ebx
	shl $4, %ebx                     /* ebx = physical base of this page */
	lea OFF(tr_gdt)(%ebx), %eax
	mov %eax, OFF(tr_gdt_ptr) + 2
	lea OFF(tr_pm32)(%ebx), %eax
	mov %eax, OFF(tr_far32)
	lgdtl OFF(tr_gdt_ptr)
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl *OFF(tr_far32)

	.code32
tr_pm32:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	lea 4096(%ebx), %esp             /* top of the trampoline page, for lret */
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov OFF(trampoline_cr3)(%ebx), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP), %eax
	mov %eax, %cr0
	lea OFF(tr_lm64)(%ebx), %eax
	push $SEL_CODE64
	push %eax
	lret

	.code64
tr_lm64:
	mov %ebx, %ebx                   /* upper halves are undefined after the switch */
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov OFF(trampoline_stack)(%rbx), %rsi
	mov OFF(trampoline_cpu)(%rbx), %edi
	mov OFF(trampoline_kcr3)(%rbx), %rcx
	mov OFF(trampoline_entry)(%rbx), %rax
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF         /* 0x08: 32-bit code */
	.quad 0x00CF92000000FFFF         /* 0x10: data */
	.quad 0x00AF9A000000FFFF         /* 0x18: 64-bit code */
tr_gdt_end:
tr_gdt_ptr:
	.word tr_gdt_end - tr_gdt - 1
	.long 0
tr_far32:
	.long 0
	.word SEL_CODE32
	.balign 8
trampoline_cr3:
	.quad 0
trampoline_stack:
	.quad 0
trampoline_entry:
	.quad 0
trampoline_cpu:
	.quad 0
trampoline_kcr3:
	.quad 0
trampoline_end:

/* Reached from the trampoline on the bootstrap tables, which map kernel text
 * but not Keel's stacks: switch to Keel's tables, then to the AP's stack.
 * rdi = cpu index, rsi = stack top, rcx = Keel's CR3. */
	.text
	.globl ap_entry_asm
ap_entry_asm:
	mov %rcx, %cr3
	mov %rsi, %rsp
	xor %ebp, %ebp
	call ap_main
2:	cli
	hlt
	jmp 2b

	.section .note.GNU-stack, "", @progbits
