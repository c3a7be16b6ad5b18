/* The VMCB (AMD APM vol. 2, appendix B, tables B-1 and B-2) with named
 * fields and asserted offsets, and the SVM constants Keel uses. */
#ifndef KEEL_SVM_VMCB_H
#define KEEL_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

/* Intercept vector 3 (offset 0x0C). */
#define ICPT3_INTR (1u << 0)
#define ICPT3_NMI (1u << 1)
#define ICPT3_SMI (1u << 2)
#define ICPT3_INIT (1u << 3)
#define ICPT3_VINTR (1u << 4)
#define ICPT3_CPUID (1u << 18)
#define ICPT3_INVD (1u << 22)
#define ICPT3_HLT (1u << 24)
#define ICPT3_INVLPGA (1u << 26)
#define ICPT3_IOIO_PROT (1u << 27)
#define ICPT3_MSR_PROT (1u << 28)
#define ICPT3_SHUTDOWN (1u << 31)
/* Intercept vector 4 (offset 0x10). */
#define ICPT4_VMRUN (1u << 0)
#define ICPT4_VMMCALL (1u << 1)
#define ICPT4_VMLOAD (1u << 2)
#define ICPT4_VMSAVE (1u << 3)
#define ICPT4_STGI (1u << 4)
#define ICPT4_CLGI (1u << 5)
#define ICPT4_SKINIT (1u << 6)
#define ICPT4_WBINVD (1u << 9)
#define ICPT4_MONITOR (1u << 10)
#define ICPT4_MWAIT (1u << 11)
#define ICPT4_MWAIT_COND (1u << 12)
#define ICPT4_XSETBV (1u << 13)
#define ICPT4_RDPRU (1u << 14)

/* int_ctl (offset 0x60). */
#define INTCTL_V_TPR_MASK 0xFu /* bits 7:4 are reserved */
#define INTCTL_V_IRQ (1u << 8)
#define INTCTL_V_INTR_PRIO_SHIFT 16
#define INTCTL_V_IGN_TPR (1u << 20)
#define INTCTL_V_INTR_MASKING (1u << 24)
/* int_state (offset 0x68). */
#define INTSTATE_SHADOW (1u << 0)

#define TLB_CONTROL_NONE 0
#define TLB_CONTROL_FLUSH_ALL 1
#define NP_ENABLE (1ull << 0)

/* EVENTINJ and EXITINTINFO. */
#define EVT_VECTOR_MASK 0xFFu
#define EVT_TYPE_SHIFT 8
#define EVT_TYPE_MASK (7u << EVT_TYPE_SHIFT)
#define EVT_TYPE_INTR 0u
#define EVT_TYPE_NMI 2u
#define EVT_TYPE_EXCEPTION 3u
#define EVT_TYPE_SOFTINT 4u
#define EVT_ERROR_VALID (1u << 11)
#define EVT_VALID (1u << 31)

/* Exit codes (table C-1). */
#define SVM_EXIT_WRITE_CR8 0x18
#define CR8_BIT (1u << 8)
/* EXITINFO1 of a CR intercept with decode assists: MOV, and its GPR. */
#define CRX_MOV (1ull << 63)
#define CRX_GPR_MASK 0xFull
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7A
#define SVM_EXIT_IOIO 0x7B
#define SVM_EXIT_MSR 0x7C
#define SVM_EXIT_SHUTDOWN 0x7F
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8A
#define SVM_EXIT_MWAIT 0x8B
#define SVM_EXIT_MWAIT_COND 0x8C
#define SVM_EXIT_XSETBV 0x8D
#define SVM_EXIT_RDPRU 0x8E
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xFFFFFFFFFFFFFFFFull

/* IOIO EXITINFO1 (15.10.2). */
#define IOIO_IN (1u << 0)
#define IOIO_STR (1u << 2)
#define IOIO_REP (1u << 3)
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)
#define IOIO_SZ32 (1u << 6)
#define IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 (15.25.6): #PF error code bits plus where it happened. */
#define NPF_WRITE (1ull << 1)
#define NPF_FETCH (1ull << 4)
#define NPF_FINAL (1ull << 32)
#define NPF_WALK (1ull << 33)

struct vmcb_seg {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};

struct vmcb {
	/* control area */
	uint16_t cr_read, cr_write; /* 0x000: bit n intercepts CRn */
	uint16_t dr_read, dr_write; /* 0x004 */
	uint32_t exceptions;	    /* 0x008 */
	uint32_t intercept3;	    /* 0x00C */
	uint32_t intercept4;	    /* 0x010 */
	uint32_t intercept5;	    /* 0x014 */
	uint8_t rsvd0[0x3C - 0x18];
	uint16_t pause_threshold; /* 0x03C */
	uint16_t pause_count;	  /* 0x03E */
	uint64_t iopm_pa;	  /* 0x040 */
	uint64_t msrpm_pa;	  /* 0x048 */
	uint64_t tsc_offset;	  /* 0x050 */
	uint32_t asid;		  /* 0x058 */
	uint8_t tlb_control;	  /* 0x05C */
	uint8_t rsvd1[3];
	uint32_t int_ctl;    /* 0x060: V_TPR, V_IRQ, masking */
	uint32_t int_vector; /* 0x064 */
	uint32_t int_state;  /* 0x068: interrupt shadow */
	uint8_t rsvd2[4];
	uint64_t exit_code;	/* 0x070 */
	uint64_t exit_info1;	/* 0x078 */
	uint64_t exit_info2;	/* 0x080 */
	uint64_t exit_int_info; /* 0x088 */
	uint64_t np_ctl;	/* 0x090 */
	uint64_t avic_apic_bar; /* 0x098 */
	uint64_t ghcb_pa;	/* 0x0A0 */
	uint64_t event_inj;	/* 0x0A8 */
	uint64_t n_cr3;		/* 0x0B0 */
	uint64_t lbr_ctl;	/* 0x0B8 */
	uint32_t clean;		/* 0x0C0 */
	uint32_t rsvd3;
	uint64_t next_rip;	/* 0x0C8 */
	uint8_t insn_len;	/* 0x0D0 */
	uint8_t insn_bytes[15]; /* 0x0D1 */
	uint8_t rsvd4[0x400 - 0xE0];
	/* state save area */
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x400 */
	struct vmcb_seg gdtr, ldtr, idtr, tr;	/* 0x460 */
	uint8_t rsvd5[0x4CB - 0x4A0];
	uint8_t cpl; /* 0x4CB */
	uint32_t rsvd6;
	uint64_t efer; /* 0x4D0 */
	uint8_t rsvd7[0x548 - 0x4D8];
	uint64_t cr4;	 /* 0x548 */
	uint64_t cr3;	 /* 0x550 */
	uint64_t cr0;	 /* 0x558 */
	uint64_t dr7;	 /* 0x560 */
	uint64_t dr6;	 /* 0x568 */
	uint64_t rflags; /* 0x570 */
	uint64_t rip;	 /* 0x578 */
	uint8_t rsvd8[0x5D8 - 0x580];
	uint64_t rsp; /* 0x5D8 */
	uint8_t rsvd9[0x5F8 - 0x5E0];
	uint64_t rax;					  /* 0x5F8 */
	uint64_t star, lstar, cstar, sfmask;		  /* 0x600 */
	uint64_t kernel_gs_base;			  /* 0x620 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip; /* 0x628 */
	uint64_t cr2;					  /* 0x640 */
	uint8_t rsvd10[0x668 - 0x648];
	uint64_t g_pat;	 /* 0x668 */
	uint64_t dbgctl; /* 0x670 */
	uint8_t rsvd11[0x1000 - 0x678];
};

#define VMCB_AT(field, off) _Static_assert(offsetof(struct vmcb, field) == (off), #field)
VMCB_AT(intercept3, 0x00C);
VMCB_AT(pause_threshold, 0x03C);
VMCB_AT(iopm_pa, 0x040);
VMCB_AT(asid, 0x058);
VMCB_AT(tlb_control, 0x05C);
VMCB_AT(int_ctl, 0x060);
VMCB_AT(int_state, 0x068);
VMCB_AT(exit_code, 0x070);
VMCB_AT(exit_int_info, 0x088);
VMCB_AT(np_ctl, 0x090);
VMCB_AT(event_inj, 0x0A8);
VMCB_AT(n_cr3, 0x0B0);
VMCB_AT(clean, 0x0C0);
VMCB_AT(next_rip, 0x0C8);
VMCB_AT(insn_bytes, 0x0D1);
VMCB_AT(es, 0x400);
VMCB_AT(cs, 0x410);
VMCB_AT(gdtr, 0x460);
VMCB_AT(ldtr, 0x470);
VMCB_AT(idtr, 0x480);
VMCB_AT(tr, 0x490);
VMCB_AT(cpl, 0x4CB);
VMCB_AT(efer, 0x4D0);
VMCB_AT(cr4, 0x548);
VMCB_AT(cr0, 0x558);
VMCB_AT(dr6, 0x568);
VMCB_AT(rflags, 0x570);
VMCB_AT(rip, 0x578);
VMCB_AT(rsp, 0x5D8);
VMCB_AT(rax, 0x5F8);
VMCB_AT(star, 0x600);
VMCB_AT(kernel_gs_base, 0x620);
VMCB_AT(sysenter_cs, 0x628);
VMCB_AT(cr2, 0x640);
VMCB_AT(g_pat, 0x668);
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");

#endif
