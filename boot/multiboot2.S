/* Multiboot2 header and 32-bit entry: check the loader, build bootstrap page
 * tables (identity 0-4 GiB and the kernel's higher-half window), enter long
 * mode and jump to kernel_entry(magic, mbi_phys). */
#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_LOADER_MAGIC 0x36D76289
#define MB2_TAG_END 0
#define MB2_TAG_ENTRY 3
#define KERNEL_VMA 0xFFFFFFFF80000000
#define PHYS(x) ((x) - KERNEL_VMA)
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define CR0_PG (1 << 31)
#define CR0_WP (1 << 16)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define CPUID_EXT_LM (1 << 29)
#define CPUID_EXT_NX (1 << 20)

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.word MB2_TAG_ENTRY, 0
	.long 12
	.long _start
	.balign 8
	.word MB2_TAG_END, 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %edi                 /* loader magic */
	mov %ebx, %esi                 /* multiboot2 information, physical */
	mov $PHYS(boot_stack_top), %esp

	cmp $MB2_LOADER_MAGIC, %edi
	jne fail_loader

	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb fail_no_lm
	mov $0x80000001, %eax
	cpuid
	test $CPUID_EXT_LM, %edx
	jz fail_no_lm
	mov %edx, %ebp                 /* remember NX support */

	/* PML4[0] -> identity PDPT, PML4[511] -> higher-half PDPT */
	mov $PHYS(boot_pdpt_low), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pml4)
	mov $PHYS(boot_pdpt_high), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pml4) + 511 * 8

	/* identity PDPT: four page directories of 2 MiB pages = 4 GiB */
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $12, %eax
	add $PHYS(boot_pd), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pdpt_low)(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 1b
	/* higher half: 0xFFFFFFFF80000000 -> physical 0 (first 1 GiB) */
	mov $PHYS(boot_pd), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pdpt_high) + 510 * 8

	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_RW | PTE_PS), %eax
	mov %eax, PHYS(boot_pd)(, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax                  /* high dword: (i * 2 MiB) >> 32 */
	mov %eax, PHYS(boot_pd) + 4(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	test $CPUID_EXT_NX, %ebp
	jz 3f
	or $EFER_NXE, %eax
3:	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP), %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_entry

fail_loader:
	mov $msg_loader, %esi
	jmp fail32
fail_no_lm:
	mov $msg_no_lm, %esi
fail32:
	/* COM1 may not be initialised yet; the loader usually left it usable. */
	mov $0x3F8, %dx
4:	lodsb
	test %al, %al
	jz 5f
	out %al, %dx
	jmp 4b
5:	hlt
	jmp 5b

	.code64
long_mode_entry:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	/* rdi = loader magic, rsi = multiboot2 info (both zero-extended) */
	mov %edi, %edi
	mov %esi, %esi
	movabs $kernel_entry, %rax
	call *%rax
6:	cli
	hlt
	jmp 6b

	.section .boot.data, "aw"
msg_loader:
	.asciz "keel: not started by a multiboot2 loader\r\n"
msg_no_lm:
	.asciz "keel: this CPU has no 64-bit long mode\r\n"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF       /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF       /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 4096
	.globl boot_stack_guard
boot_stack_guard:
	.skip 4096                     /* left unmapped in Keel's page tables */
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
