/* One world switch into a VMX guest and back (Intel SDM vol. 3 chapters 27
 * and 28).
 *
 *   int vmx_enter(uint64_t *gprs, int launched)
 *
 * gprs is struct vcpu_regs.gpr (index = x86 register number); the guest's
 * RSP, RIP and RFLAGS live in the VMCS. HOST_RSP is written here, so a VM
 * exit lands in vmx_exit_entry (HOST_RIP) with the stack this function
 * built. Called with interrupts off (in VMX non-root operation a host
 * interrupt exits whatever RFLAGS.IF says, so one already pending exits at
 * once); a VM exit clears RFLAGS, so they are off again on return.
 * Returns 0 after a VM exit, 1 when VMLAUNCH/VMRESUME failed and the guest
 * never ran (the VM-instruction error field says why). */
#define GPR(n) ((n) * 8)
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7
#define VMCS_HOST_RSP 0x6C14

	.text
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi			/* 0(%rsp): guest registers */

	mov $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	test %esi, %esi			/* flags survive the loads below */

	mov GPR(RAX)(%rdi), %rax
	mov GPR(RCX)(%rdi), %rcx
	mov GPR(RDX)(%rdi), %rdx
	mov GPR(RBX)(%rdi), %rbx
	mov GPR(RBP)(%rdi), %rbp
	mov GPR(RSI)(%rdi), %rsi
	mov GPR(8)(%rdi), %r8
	mov GPR(9)(%rdi), %r9
	mov GPR(10)(%rdi), %r10
	mov GPR(11)(%rdi), %r11
	mov GPR(12)(%rdi), %r12
	mov GPR(13)(%rdi), %r13
	mov GPR(14)(%rdi), %r14
	mov GPR(15)(%rdi), %r15
	mov GPR(RDI)(%rdi), %rdi

	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* Only reached when the instruction failed: the host stack is ours. */
	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	mov $1, %eax
	ret
	.size vmx_enter, . - vmx_enter

	.globl vmx_exit_entry
	.type vmx_exit_entry, @function
vmx_exit_entry:
	push %rdi
	mov 8(%rsp), %rdi
	popq GPR(RDI)(%rdi)
	mov %rax, GPR(RAX)(%rdi)
	mov %rcx, GPR(RCX)(%rdi)
	mov %rdx, GPR(RDX)(%rdi)
	mov %rbx, GPR(RBX)(%rdi)
	mov %rbp, GPR(RBP)(%rdi)
	mov %rsi, GPR(RSI)(%rdi)
	mov %r8, GPR(8)(%rdi)
	mov %r9, GPR(9)(%rdi)
	mov %r10, GPR(10)(%rdi)
	mov %r11, GPR(11)(%rdi)
	mov %r12, GPR(12)(%rdi)
	mov %r13, GPR(13)(%rdi)
	mov %r14, GPR(14)(%rdi)
	mov %r15, GPR(15)(%rdi)

	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret
	.size vmx_exit_entry, . - vmx_exit_entry

	.section .note.GNU-stack, "", @progbits
