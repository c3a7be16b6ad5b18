/* The mmio guest's 32-bit hook: MMIO instruction forms in protected mode
 * with paging off (CS.D = 1), run by lib/entry.S before long mode. There is
 * no IDT yet, so nothing here may fault. Each check stores a record (see
 * mmio32.h); mmio.c checks them later. The checks run against the test
 * device's MMIO page, or against a RAM page when the command line has the
 * word "ram" (to validate the expectations without Keel).
 *
 * pm32_mmio_base and the pm32_port_* symbols are absolute symbols defined
 * in mmio.c from kernel/vdev/testdev_abi.h, whose constants carry C
 * suffixes an assembler does not accept. */
#include "layout.h"
#include "mmio32.h"

#define REC(n, field) (pm32_records + (n) * PM32_REC_BYTES + (field))

	.code32
	.text

/* Zero the device's access counter before the instruction under test. */
	.macro count_reset
	xor %eax, %eax
	mov $pm32_port_count, %edx
	out %eax, (%dx)
	.endm

/* Store EFLAGS, then the device's log registers, into record n. */
	.macro flags_rec n
	pushf
	popl REC(\n, PM32_REC_FLAGS)
	.endm

	.macro log_rec n
	mov $pm32_port_last_size, %edx
	in (%dx), %al
	mov %al, REC(\n, PM32_REC_SIZE)
	mov $pm32_port_last_dir, %edx
	in (%dx), %al
	mov %al, REC(\n, PM32_REC_DIR)
	mov $pm32_port_last_off, %edx
	in (%dx), %eax
	mov %eax, REC(\n, PM32_REC_OFF)
	mov $pm32_port_count, %edx
	in (%dx), %eax
	mov %eax, REC(\n, PM32_REC_COUNT)
	.endm

	.macro val_rec n, src
	mov \src, %ecx
	mov %ecx, REC(\n, PM32_REC_VALUE)
	.endm

/* Points the spare GDT segment at `base` (byte-granular limit 0xFFF, 32-bit
 * data) and loads it into FS. */
	.macro fs_at base
	mov $\base, %eax
	mov %ax, rt_gdt + SEL_SPARE + 2
	shr $16, %eax
	mov %al, rt_gdt + SEL_SPARE + 4
	mov %ah, rt_gdt + SEL_SPARE + 7
	movw $0x0FFF, rt_gdt + SEL_SPARE
	movb $0x92, rt_gdt + SEL_SPARE + 5
	movb $0x40, rt_gdt + SEL_SPARE + 6
	mov $SEL_SPARE, %eax
	mov %eax, %fs
	.endm

/* The checks, against the page at `base`. The record numbers are the
 * indices mmio.c's pm32_expect() uses. */
	.macro pm32_checks base
	mov $\base, %ebx

	/* 0: 89 mov m32, r32 */
	movl $0x11111111, 0x10(%ebx)
	mov $0xCAFEF00D, %eax
	count_reset
	mov $0xCAFEF00D, %eax
	mov %eax, 0x10(%ebx)
	log_rec 0
	val_rec 0, 0x10(%ebx)

	/* 1: 8B mov r32, m32 */
	count_reset
	mov 0x10(%ebx), %esi
	log_rec 1
	val_rec 1, %esi

	/* 2: 66 89 mov m16, r16 */
	movl $0x11111111, 0x20(%ebx)
	count_reset
	mov $0xCAFEF00D, %eax
	mov %ax, 0x20(%ebx)
	log_rec 2
	val_rec 2, 0x20(%ebx)

	/* 3: 66 8B mov r16, m16: the upper half of the register stays */
	count_reset
	mov $0xAAAAAAAA, %edi
	mov 0x20(%ebx), %di
	val_rec 3, %edi
	log_rec 3

	/* 4: C6 mov m8, imm8 */
	movl $0, 0x30(%ebx)
	count_reset
	movb $0x5A, 0x30(%ebx)
	log_rec 4
	val_rec 4, 0x30(%ebx)

	/* 5: 66 C7 mov m16, imm16 */
	count_reset
	movw $0xBEEF, 0x32(%ebx)
	log_rec 5
	val_rec 5, 0x30(%ebx)

	/* 6: 0F B6 movzx r32, m8 */
	count_reset
	movzbl 0x33(%ebx), %esi
	val_rec 6, %esi
	log_rec 6

	/* 7: 0F BF movsx r32, m16 */
	count_reset
	movswl 0x32(%ebx), %esi
	val_rec 7, %esi
	log_rec 7

	/* 8: A1 mov eax, moffs32 */
	count_reset
	mov \base + 0x10, %eax
	mov %eax, %esi
	log_rec 8
	val_rec 8, %esi

	/* 9: 66 A3 mov moffs32, ax */
	movl $0x22222222, 0x40(%ebx)
	count_reset
	mov $0xCAFEF00D, %eax
	mov %ax, \base + 0x40
	log_rec 9
	val_rec 9, 0x40(%ebx)

	/* 10: C7 05 mov m32, imm32 with a disp32 absolute address (ModRM mod 0
	 * rm 5 is not RIP-relative outside 64-bit mode) */
	count_reset
	movl $0x01020304, \base + 0x44
	log_rec 10
	val_rec 10, 0x44(%ebx)

	/* 11: F3 AB rep stosl, 4 dwords */
	count_reset
	lea 0x50(%ebx), %edi
	mov $4, %ecx
	mov $0x5A5A5A5A, %eax
	rep stosl
	mov %ecx, REC(11, PM32_REC_VALUE2)
	sub %ebx, %edi
	mov %edi, %esi
	log_rec 11
	val_rec 11, %esi

	/* 12: 83 /1 or m32, imm8 (sign-extended) */
	movl $0, 0x60(%ebx)
	count_reset
	orl $-128, 0x60(%ebx)
	flags_rec 12
	log_rec 12
	val_rec 12, 0x60(%ebx)

	/* 13: 66 81 /7 cmp m16, imm16 */
	count_reset
	cmpw $0x1234, 0x60(%ebx)
	flags_rec 13
	log_rec 13

	/* 14: 64 A3 mov fs:moffs32, eax, FS base = the page */
	fs_at \base
	count_reset
	mov $0x0BADCAFE, %eax
	mov %eax, %fs:0x70
	log_rec 14
	val_rec 14, 0x70(%ebx)

	/* 15: 64 89 mov fs:[disp32], r32 */
	count_reset
	mov $0x600DF00D, %ecx
	mov %ecx, %fs:0x74
	log_rec 15
	val_rec 15, 0x74(%ebx)

	/* 16: 64 67 89 mov fs:[bx+si+disp8], r32: 16-bit addressing */
	count_reset
	mov $0x70, %ebx
	mov $0x10, %esi
	mov $0x12345678, %ecx
	mov %ecx, %fs:0x8(%bx, %si)
	mov $\base, %ebx
	log_rec 16
	val_rec 16, 0x88(%ebx)
	mov $SEL_DATA, %eax
	mov %eax, %fs

	/* 17: F3 A4 rep movsb from MMIO to RAM, 4 bytes */
	count_reset
	lea 0x10(%ebx), %esi
	mov $pm32_buf, %edi
	mov $4, %ecx
	rep movsb
	log_rec 17
	val_rec 17, pm32_buf

	/* 18: F7 /0 test m32, imm32 */
	count_reset
	testl $0x80000000, 0x10(%ebx)
	flags_rec 18
	log_rec 18

	/* 19: 31 xor m32, r32 */
	count_reset
	mov $0xCAFEF00D, %ecx
	xor %ecx, 0x10(%ebx)
	flags_rec 19
	log_rec 19
	val_rec 19, 0x10(%ebx)
	.endm

pm32_checks_mmio:
	pm32_checks pm32_mmio_base
	ret

pm32_checks_ram:
	pm32_checks mmio_ram_page
	ret

/* eax = mbi (physical). Returns eax = 1 when the command line has the
 * word "ram", else 0. Bounded: at most 4096 bytes are looked at. */
has_ram_word:
	xor %edx, %edx
	testl $(1 << 2), (%eax)                /* mbi flags: cmdline valid */
	jz 9f
	mov 16(%eax), %esi                      /* mbi cmdline */
	test %esi, %esi
	jz 9f
	mov $4096, %ecx
	mov $' ', %ah                           /* previous byte: a separator */
1:	mov (%esi), %al
	test %al, %al
	jz 9f
	cmp $' ', %ah
	jne 2f
	cmpb $'r', 0(%esi)
	jne 2f
	cmpb $'a', 1(%esi)
	jne 2f
	cmpb $'m', 2(%esi)
	jne 2f
	movzbl 3(%esi), %edi
	cmp $' ', %edi
	je 8f
	test %edi, %edi
	jz 8f
2:	mov %al, %ah
	inc %esi
	loop 1b
	jmp 9f
8:	inc %edx
9:	mov %edx, %eax
	ret

/* void rt_pm32_hook(uint32_t mbi), cdecl. */
	.globl rt_pm32_hook
rt_pm32_hook:
	push %ebp
	push %ebx
	push %esi
	push %edi
	mov 20(%esp), %eax
	call has_ram_word
	mov %eax, pm32_ram
	test %eax, %eax
	jnz 1f
	call pm32_checks_mmio
	jmp 2f
1:	call pm32_checks_ram
2:	movl $1, pm32_ran
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

	.bss
	.balign 8
	.globl pm32_records, pm32_ran, pm32_ram
pm32_records:
	.skip PM32_NREC * PM32_REC_BYTES
pm32_ran:
	.long 0
pm32_ram:
	.long 0
pm32_buf:
	.long 0, 0

	.section .note.GNU-stack, "", @progbits
