/* Loads and stores every SSE register (and the AVX upper halves) for the
 * fpu guest; C built with -mgeneral-regs-only cannot name them. */
	.text

/* void fpu_load_xmm(const void *src): 16 x 16 bytes into xmm0-xmm15 */
	.globl fpu_load_xmm
fpu_load_xmm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu \n*16(%rdi), %xmm\n
	.endr
	ret

/* void fpu_store_xmm(void *dst) */
	.globl fpu_store_xmm
fpu_store_xmm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu %xmm\n, \n*16(%rdi)
	.endr
	ret

/* void fpu_load_ymm(const void *src): 16 x 32 bytes into ymm0-ymm15 */
	.globl fpu_load_ymm
fpu_load_ymm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu \n*32(%rdi), %ymm\n
	.endr
	ret

/* void fpu_store_ymm(void *dst) */
	.globl fpu_store_ymm
fpu_store_ymm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu %ymm\n, \n*32(%rdi)
	.endr
	ret

	.section .note.GNU-stack, "", @progbits
