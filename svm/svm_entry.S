/* One world switch into an SVM guest and back (AMD APM vol. 2, 15.5).
 *
 *   void svm_enter(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_save_pa)
 *
 * gprs is struct vcpu_regs.gpr (index = x86 register number); RAX and RSP
 * travel in the VMCB instead. VMRUN does not switch FS, GS, TR, LDTR,
 * KernelGSBase, STAR/LSTAR/CSTAR/SFMASK or the SYSENTER MSRs: VMSAVE and
 * VMLOAD do, host and guest, with GIF clear so no host interrupt handler
 * runs with the guest's GS base. With V_INTR_MASKING set and RFLAGS.IF = 1
 * (the caller runs with interrupts on), a host interrupt arriving in the
 * guest exits; it is taken right after STGI. */
#define GPR(n) ((n) * 8)
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

	.text
	.globl svm_enter
	.type svm_enter, @function
svm_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdx		/* 16(%rsp): host save area */
	push %rdi		/*  8(%rsp): VMCB */
	push %rsi		/*  0(%rsp): guest registers */

	clgi
	mov %rdx, %rax
	vmsave
	mov %rdi, %rax
	vmload

	mov GPR(RCX)(%rsi), %rcx
	mov GPR(RDX)(%rsi), %rdx
	mov GPR(RBX)(%rsi), %rbx
	mov GPR(RBP)(%rsi), %rbp
	mov GPR(RDI)(%rsi), %rdi
	mov GPR(8)(%rsi), %r8
	mov GPR(9)(%rsi), %r9
	mov GPR(10)(%rsi), %r10
	mov GPR(11)(%rsi), %r11
	mov GPR(12)(%rsi), %r12
	mov GPR(13)(%rsi), %r13
	mov GPR(14)(%rsi), %r14
	mov GPR(15)(%rsi), %r15
	mov GPR(RSI)(%rsi), %rsi

	/* Called with IF=0. Host IF=1 at VMRUN makes a host interrupt leave
	 * the guest (V_INTR_MASKING); GIF=0 holds one that is already pending
	 * until the guest runs, so it exits at once instead of being lost. */
	sti
	vmrun			/* RAX = VMCB; returns at #VMEXIT, RAX/RSP restored */
	cli			/* pending interrupts wait for the caller's sti */

	push %rsi
	mov 8(%rsp), %rsi
	popq GPR(RSI)(%rsi)
	mov %rcx, GPR(RCX)(%rsi)
	mov %rdx, GPR(RDX)(%rsi)
	mov %rbx, GPR(RBX)(%rsi)
	mov %rbp, GPR(RBP)(%rsi)
	mov %rdi, GPR(RDI)(%rsi)
	mov %r8, GPR(8)(%rsi)
	mov %r9, GPR(9)(%rsi)
	mov %r10, GPR(10)(%rsi)
	mov %r11, GPR(11)(%rsi)
	mov %r12, GPR(12)(%rsi)
	mov %r13, GPR(13)(%rsi)
	mov %r14, GPR(14)(%rsi)
	mov %r15, GPR(15)(%rsi)

	mov 8(%rsp), %rax
	vmsave
	mov 16(%rsp), %rax
	vmload
	stgi

	add $24, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size svm_enter, . - svm_enter

	.section .note.GNU-stack, "", @progbits
