/* Interrupt entry stubs for all 256 vectors, the common handler that hands
 * a struct rt_frame to rt_isr(), and rt_try(), the recovery point the
 * exception handler resumes at. */

	.code64
	.text

/* Vectors that push an error code (SDM vol. 3A 6.15, APM vol. 2 8.2). */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
		      (v) == 29 || (v) == 30)

	.macro stub v
	.balign 16
isr_stub_\v:
	.if HAS_ERROR(\v)
	.else
	pushq $0
	.endif
	pushq $\v
	jmp isr_common
	.endm

	.altmacro
	.macro stubs from, to
	stub %from
	.if \to-\from
	stubs %(from+1), \to
	.endif
	.endm

	stubs 0, 63
	stubs 64, 127
	stubs 128, 191
	stubs 192, 255

	.macro stub_addr v
	.quad isr_stub_\v
	.endm
	.macro stub_addrs from, to
	stub_addr %from
	.if \to-\from
	stub_addrs %(from+1), \to
	.endif
	.endm

	.section .rodata
	.balign 8
	.globl rt_isr_stubs
rt_isr_stubs:
	stub_addrs 0, 63
	stub_addrs 64, 127
	stub_addrs 128, 191
	stub_addrs 192, 255
	.noaltmacro

	.text
/* The CPU pushed SS, RSP, RFLAGS, CS, RIP (40 bytes, RSP 16-aligned first),
 * the stub an error code and the vector (16): with 15 registers the frame
 * is 176 bytes, so RSP is 16-aligned at the call. */
isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call rt_isr
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

/* bool rt_try(void (*fn)(void *), void *arg, struct rt_trap *trap) */
	.globl rt_try, rt_try_resume
rt_try:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	mov %rsp, rt_try_rsp(%rip)
	mov %rdx, rt_try_trap(%rip)
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	movq $0, rt_try_trap(%rip)
	xor %eax, %eax
	jmp 1f
/* rt_isr() sends a recorded exception here with RSP = rt_try_rsp. */
rt_try_resume:
	mov rt_try_rsp(%rip), %rsp
	mov $1, %eax
1:	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

	.bss
	.balign 8
	.globl rt_try_rsp, rt_try_trap
rt_try_rsp:
	.quad 0
rt_try_trap:
	.quad 0

	.section .note.GNU-stack, "", @progbits
