/* Guest CPUID policy; see cpuid_policy.h for the design and decisions.
 * Bit names and positions: Intel SDM vol. 2A, CPUID; AMD APM vol. 3, app. E. */
#include "vm/cpuid_policy.h"

#include <stdbool.h>
#include <stddef.h>

#include "keel/kstring.h"

#define BIT(n) (1u << (n))
#define ALL 0xFFFFFFFFu

/* ---- Leaf 1 ---- */
/* EBX */
#define L1_EBX_BRAND_INDEX 0x000000FFu	/* [7:0] */
#define L1_EBX_CLFLUSH_SIZE 0x0000FF00u /* [15:8] */
#define L1_EBX_MAX_LP_SHIFT 16		/* [23:16] addressable logical processors */
#define L1_EBX_APIC_ID_SHIFT 24		/* [31:24] initial APIC ID */
#define L1_EBX_FIELD_MAX 0xFFu		/* width of both fields */
/* ECX */
#define L1_ECX_SSE3 BIT(0)
#define L1_ECX_PCLMULQDQ BIT(1)
#define L1_ECX_DTES64 BIT(2)  /* hidden: debug store */
#define L1_ECX_MONITOR BIT(3) /* hidden: MONITOR/MWAIT */
#define L1_ECX_DS_CPL BIT(4)  /* hidden: debug store */
#define L1_ECX_VMX BIT(5)     /* hidden: no nested VMX */
#define L1_ECX_SMX BIT(6)     /* hidden: no GETSEC */
#define L1_ECX_EST BIT(7)     /* hidden: no P-state MSRs */
#define L1_ECX_TM2 BIT(8)     /* hidden: thermal */
#define L1_ECX_SSSE3 BIT(9)
#define L1_ECX_CNXT_ID BIT(10) /* hidden */
#define L1_ECX_SDBG BIT(11)    /* hidden: IA32_DEBUG_INTERFACE */
#define L1_ECX_FMA BIT(12)
#define L1_ECX_CX16 BIT(13)
#define L1_ECX_XTPR BIT(14) /* hidden: IA32_MISC_ENABLE bit */
#define L1_ECX_PDCM BIT(15) /* hidden: IA32_PERF_CAPABILITIES */
#define L1_ECX_PCID BIT(17)
#define L1_ECX_DCA BIT(18) /* hidden */
#define L1_ECX_SSE4_1 BIT(19)
#define L1_ECX_SSE4_2 BIT(20)
#define L1_ECX_X2APIC BIT(21) /* always on: the vLAPIC has both interfaces */
#define L1_ECX_MOVBE BIT(22)
#define L1_ECX_POPCNT BIT(23)
#define L1_ECX_TSC_DEADLINE BIT(24) /* always on: the vLAPIC timer has the mode */
#define L1_ECX_AESNI BIT(25)
#define L1_ECX_XSAVE BIT(26)
#define L1_ECX_OSXSAVE BIT(27) /* guest CR4 state: exit handler sets it */
#define L1_ECX_AVX BIT(28)
#define L1_ECX_F16C BIT(29)
#define L1_ECX_RDRAND BIT(30)
#define L1_ECX_HYPERVISOR BIT(31) /* forced on */
/* EDX */
#define L1_EDX_FPU BIT(0)
#define L1_EDX_VME BIT(1)
#define L1_EDX_DE BIT(2)
#define L1_EDX_PSE BIT(3)
#define L1_EDX_TSC BIT(4)
#define L1_EDX_MSR BIT(5)
#define L1_EDX_PAE BIT(6)
#define L1_EDX_MCE BIT(7) /* hidden: no machine-check MSRs */
#define L1_EDX_CX8 BIT(8)
#define L1_EDX_APIC BIT(9)
#define L1_EDX_SEP BIT(11)
#define L1_EDX_MTRR BIT(12)
#define L1_EDX_PGE BIT(13)
#define L1_EDX_MCA BIT(14) /* hidden */
#define L1_EDX_CMOV BIT(15)
#define L1_EDX_PAT BIT(16)
#define L1_EDX_PSE36 BIT(17)
#define L1_EDX_PSN BIT(18) /* hidden: serial number */
#define L1_EDX_CLFSH BIT(19)
#define L1_EDX_DS BIT(21)   /* hidden: debug store */
#define L1_EDX_ACPI BIT(22) /* hidden: thermal MSRs */
#define L1_EDX_MMX BIT(23)
#define L1_EDX_FXSR BIT(24)
#define L1_EDX_SSE BIT(25)
#define L1_EDX_SSE2 BIT(26)
#define L1_EDX_SS BIT(27)
#define L1_EDX_HTT BIT(28) /* forced on: EBX[23:16] is valid */
#define L1_EDX_TM BIT(29)  /* hidden: thermal monitor */
#define L1_EDX_PBE BIT(31) /* hidden */

#define L1_ECX_PASS                                                                                \
	(L1_ECX_SSE3 | L1_ECX_PCLMULQDQ | L1_ECX_SSSE3 | L1_ECX_FMA | L1_ECX_CX16 | L1_ECX_PCID |  \
	 L1_ECX_SSE4_1 | L1_ECX_SSE4_2 | L1_ECX_MOVBE | L1_ECX_POPCNT | L1_ECX_AESNI |             \
	 L1_ECX_XSAVE | L1_ECX_AVX | L1_ECX_F16C | L1_ECX_RDRAND)
/* The x87-era EDX bits AMD mirrors into 0x80000001 EDX use the same set. */
#define L1_EDX_LEGACY_PASS                                                                         \
	(L1_EDX_FPU | L1_EDX_VME | L1_EDX_DE | L1_EDX_PSE | L1_EDX_TSC | L1_EDX_MSR | L1_EDX_PAE | \
	 L1_EDX_CX8 | L1_EDX_APIC | L1_EDX_MTRR | L1_EDX_PGE | L1_EDX_CMOV | L1_EDX_PAT |          \
	 L1_EDX_PSE36 | L1_EDX_MMX | L1_EDX_FXSR)
#define L1_EDX_PASS                                                                                \
	(L1_EDX_LEGACY_PASS | L1_EDX_SEP | L1_EDX_CLFSH | L1_EDX_SSE | L1_EDX_SSE2 | L1_EDX_SS)

/* ---- Leaf 4 (deterministic cache parameters, Intel) ---- */
#define L4_EAX_TYPE 0x0000001Fu	 /* [4:0], 0 = no more caches */
#define L4_EAX_LEVEL 0x000000E0u /* [7:5] */
#define L4_EAX_LEVEL_SHIFT 5
#define L4_EAX_SELF_INIT BIT(8)	    /* self-initializing */
#define L4_EAX_FULLY_ASSOC BIT(9)   /* fully associative */
#define L4_EAX_SHARING_SHIFT 14	    /* [25:14] logical processors sharing - 1 */
#define L4_EAX_SHARING_MAX 0xFFFu   /* field width */
#define L4_EAX_CORES_SHIFT 26	    /* [31:26] cores per package - 1 */
#define L4_EAX_CORES_MAX 0x3Fu	    /* field width */
#define L4_EDX_WBINVD BIT(0)	    /* WBINVD does not flush lower-level sharers */
#define L4_EDX_INCLUSIVE BIT(1)	    /* inclusive of lower levels */
#define L4_EDX_COMPLEX_INDEX BIT(2) /* complex cache indexing */

/* ---- Leaf 7 sub 0 ---- */
/* EBX */
#define L7_EBX_FSGSBASE BIT(0)
#define L7_EBX_TSC_ADJUST BIT(1) /* forced on: IA32_TSC_ADJUST reads 0 (msr_policy.c) */
#define L7_EBX_SGX BIT(2)	 /* hidden */
#define L7_EBX_BMI1 BIT(3)
#define L7_EBX_HLE BIT(4) /* hidden: TSX (TAA; often fused off or disabled) */
#define L7_EBX_AVX2 BIT(5)
#define L7_EBX_FDP_EXCPTN_ONLY BIT(6)
#define L7_EBX_SMEP BIT(7)
#define L7_EBX_BMI2 BIT(8)
#define L7_EBX_ERMS BIT(9)
#define L7_EBX_INVPCID BIT(10)
#define L7_EBX_RTM BIT(11)   /* hidden: TSX */
#define L7_EBX_RDT_M BIT(12) /* hidden: resource monitoring */
#define L7_EBX_FPU_CSDS_DEPRECATED BIT(13)
#define L7_EBX_MPX BIT(14)   /* hidden: removed from Linux, needs XSAVE state */
#define L7_EBX_RDT_A BIT(15) /* hidden: resource allocation */
#define L7_EBX_AVX512F BIT(16)
#define L7_EBX_AVX512DQ BIT(17)
#define L7_EBX_RDSEED BIT(18)
#define L7_EBX_ADX BIT(19)
#define L7_EBX_SMAP BIT(20)
#define L7_EBX_AVX512_IFMA BIT(21)
#define L7_EBX_CLFLUSHOPT BIT(23)
#define L7_EBX_CLWB BIT(24)
#define L7_EBX_INTEL_PT BIT(25) /* hidden: processor trace */
#define L7_EBX_AVX512PF BIT(26)
#define L7_EBX_AVX512ER BIT(27)
#define L7_EBX_AVX512CD BIT(28)
#define L7_EBX_SHA BIT(29)
#define L7_EBX_AVX512BW BIT(30)
#define L7_EBX_AVX512VL BIT(31)
/* ECX */
#define L7_ECX_PREFETCHWT1 BIT(0)
#define L7_ECX_AVX512_VBMI BIT(1)
#define L7_ECX_UMIP BIT(2)
#define L7_ECX_PKU BIT(3)     /* hidden: PKRU state not handled */
#define L7_ECX_OSPKE BIT(4)   /* hidden */
#define L7_ECX_WAITPKG BIT(5) /* hidden: UMWAIT/TPAUSE */
#define L7_ECX_AVX512_VBMI2 BIT(6)
#define L7_ECX_CET_SS BIT(7) /* hidden: CET state/MSRs not handled */
#define L7_ECX_GFNI BIT(8)
#define L7_ECX_VAES BIT(9)
#define L7_ECX_VPCLMULQDQ BIT(10)
#define L7_ECX_AVX512_VNNI BIT(11)
#define L7_ECX_AVX512_BITALG BIT(12)
#define L7_ECX_TME BIT(13) /* hidden: memory encryption MSRs */
#define L7_ECX_AVX512_VPOPCNTDQ BIT(14)
#define L7_ECX_LA57 BIT(16) /* hidden: 4-level guest paging only */
#define L7_ECX_RDPID BIT(22)
#define L7_ECX_KL BIT(23)	       /* hidden: key locker */
#define L7_ECX_BUS_LOCK_DETECT BIT(24) /* hidden */
#define L7_ECX_CLDEMOTE BIT(25)
#define L7_ECX_MOVDIRI BIT(27)
#define L7_ECX_MOVDIR64B BIT(28)
#define L7_ECX_ENQCMD BIT(29) /* hidden: PASID */
#define L7_ECX_SGX_LC BIT(30) /* hidden */
#define L7_ECX_PKS BIT(31)    /* hidden */
/* EDX */
#define L7_EDX_AVX512_4VNNIW BIT(2)
#define L7_EDX_AVX512_4FMAPS BIT(3)
#define L7_EDX_FSRM BIT(4)
#define L7_EDX_UINTR BIT(5) /* hidden */
#define L7_EDX_AVX512_VP2INTERSECT BIT(8)
#define L7_EDX_SRBDS_CTRL BIT(9) /* hidden: MSR not emulated */
#define L7_EDX_MD_CLEAR BIT(10)
#define L7_EDX_TSX_FORCE_ABORT BIT(13) /* hidden */
#define L7_EDX_SERIALIZE BIT(14)
#define L7_EDX_HYBRID BIT(15)	/* hidden */
#define L7_EDX_TSXLDTRK BIT(16) /* hidden: TSX */
#define L7_EDX_PCONFIG BIT(18)	/* hidden */
#define L7_EDX_CET_IBT BIT(20)	/* hidden */
#define L7_EDX_AMX_BF16 BIT(22) /* hidden: AMX needs XFD and large state */
#define L7_EDX_AVX512_FP16 BIT(23)
#define L7_EDX_AMX_TILE BIT(24)		 /* hidden */
#define L7_EDX_AMX_INT8 BIT(25)		 /* hidden */
#define L7_EDX_SPEC_CTRL BIT(26)	 /* hidden: IBRS/IBPB, IA32_SPEC_CTRL not emulated */
#define L7_EDX_STIBP BIT(27)		 /* hidden */
#define L7_EDX_L1D_FLUSH BIT(28)	 /* hidden */
#define L7_EDX_ARCH_CAPABILITIES BIT(29) /* hidden */
#define L7_EDX_CORE_CAPABILITIES BIT(30) /* hidden */
#define L7_EDX_SSBD BIT(31)		 /* hidden */

#define L7_EBX_PASS                                                                                \
	(L7_EBX_FSGSBASE | L7_EBX_BMI1 | L7_EBX_AVX2 | L7_EBX_FDP_EXCPTN_ONLY | L7_EBX_SMEP |      \
	 L7_EBX_BMI2 | L7_EBX_ERMS | L7_EBX_INVPCID | L7_EBX_FPU_CSDS_DEPRECATED |                 \
	 L7_EBX_AVX512F | L7_EBX_AVX512DQ | L7_EBX_RDSEED | L7_EBX_ADX | L7_EBX_SMAP |             \
	 L7_EBX_AVX512_IFMA | L7_EBX_CLFLUSHOPT | L7_EBX_CLWB | L7_EBX_AVX512PF |                  \
	 L7_EBX_AVX512ER | L7_EBX_AVX512CD | L7_EBX_SHA | L7_EBX_AVX512BW | L7_EBX_AVX512VL)
#define L7_ECX_PASS                                                                                \
	(L7_ECX_PREFETCHWT1 | L7_ECX_AVX512_VBMI | L7_ECX_UMIP | L7_ECX_AVX512_VBMI2 |             \
	 L7_ECX_GFNI | L7_ECX_VAES | L7_ECX_VPCLMULQDQ | L7_ECX_AVX512_VNNI |                      \
	 L7_ECX_AVX512_BITALG | L7_ECX_AVX512_VPOPCNTDQ | L7_ECX_RDPID | L7_ECX_CLDEMOTE |         \
	 L7_ECX_MOVDIRI | L7_ECX_MOVDIR64B)
#define L7_EDX_PASS                                                                                \
	(L7_EDX_AVX512_4VNNIW | L7_EDX_AVX512_4FMAPS | L7_EDX_FSRM | L7_EDX_AVX512_VP2INTERSECT |  \
	 L7_EDX_MD_CLEAR | L7_EDX_SERIALIZE | L7_EDX_AVX512_FP16)
#define L7_MAX_SUBLEAF 1u /* guest sees subleaves 0 and 1 */

/* ---- Leaf 7 sub 1 ---- */
#define L7S1_EAX_AVX_VNNI BIT(4)
#define L7S1_EAX_AVX512_BF16 BIT(5)
#define L7S1_EAX_FZRM BIT(10)	/* fast zero-length REP MOVSB */
#define L7S1_EAX_FSRS BIT(11)	/* fast short REP STOSB */
#define L7S1_EAX_FSRC BIT(12)	/* fast short REP CMPSB/SCASB */
#define L7S1_EAX_HRESET BIT(22) /* hidden */
#define L7S1_EAX_LAM BIT(26)	/* hidden: linear address masking */
#define L7S1_EAX_PASS                                                                              \
	(L7S1_EAX_AVX_VNNI | L7S1_EAX_AVX512_BF16 | L7S1_EAX_FZRM | L7S1_EAX_FSRS | L7S1_EAX_FSRC)

/* ---- Leaf 0xB (extended topology) ---- */
#define LB_ECX_TYPE_SHIFT 8
#define LB_TYPE_INVALID 0u
#define LB_TYPE_SMT 1u
#define LB_TYPE_CORE 2u
#define LB_EAX_SHIFT_MASK 0x1Fu /* [4:0] x2APIC ID shift to the next level */
#define LB_EBX_COUNT_MASK 0xFFFFu
#define LB_ECX_LEVEL_MASK 0xFFu

/* ---- Leaf 0xD (XSAVE) ---- */
#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)
#define XCR0_BNDREGS BIT(3) /* hidden: MPX */
#define XCR0_BNDCSR BIT(4)  /* hidden: MPX */
#define XCR0_OPMASK BIT(5)  /* AVX-512 k0-k7 */
#define XCR0_ZMM_HI256 BIT(6)
#define XCR0_HI16_ZMM BIT(7)
#define XCR0_PKRU BIT(9)      /* hidden: PKU */
#define XCR0_TILECFG BIT(17)  /* hidden: AMX */
#define XCR0_TILEDATA BIT(18) /* hidden: AMX */
#define XCR0_GUEST_MASK                                                                            \
	(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
#define XSAVE_LEGACY_SIZE 512u /* x87 + SSE legacy region */
#define XSAVE_HEADER_SIZE 64u
#define XSAVE_FIRST_EXT 2u  /* first component with its own subleaf */
#define XSAVE_LAST_GUEST 7u /* highest component in XCR0_GUEST_MASK */
#define XSAVE_ALIGN 64u
#define LD_SUB_MAIN 0u
#define LD_SUB_EXT 1u
#define LD1_EAX_XSAVEOPT BIT(0)
#define LD1_EAX_XSAVEC BIT(1)
#define LD1_EAX_XGETBV_ECX1 BIT(2)
#define LD1_EAX_XSAVES BIT(3) /* hidden: IA32_XSS not emulated */
#define LD1_EAX_XFD BIT(4)    /* hidden */
#define LD1_EAX_PASS (LD1_EAX_XSAVEOPT | LD1_EAX_XSAVEC | LD1_EAX_XGETBV_ECX1)
#define LDN_ECX_SUPERVISOR BIT(0) /* component is in IA32_XSS, not XCR0 */
#define LDN_ECX_ALIGNED BIT(1)	  /* 64-byte aligned in the compacted format */

/* ---- Extended leaves ---- */
#define EXT_BASE 0x80000000u
#define EXT_END 0x8000FFFFu
#define HV_END 0x400000FFu /* end of the range reserved for hypervisors */
#define HV_TSC_KHZ_MAX 0xFFFFFFFFull
/* 0x80000001 ECX */
#define E1_ECX_LAHF_SAHF BIT(0)
#define E1_ECX_CMP_LEGACY BIT(1)     /* hidden: topology comes from 0x80000008 */
#define E1_ECX_SVM BIT(2)	     /* hidden: no nested SVM */
#define E1_ECX_EXT_APIC_SPACE BIT(3) /* hidden */
#define E1_ECX_ALT_MOV_CR8 BIT(4)    /* hidden */
#define E1_ECX_ABM BIT(5)	     /* LZCNT */
#define E1_ECX_SSE4A BIT(6)
#define E1_ECX_MISALIGN_SSE BIT(7)
#define E1_ECX_PREFETCHW BIT(8) /* 3DNowPrefetch */
#define E1_ECX_OSVW BIT(9)	/* hidden: OS visible workaround MSRs */
#define E1_ECX_IBS BIT(10)	/* hidden */
#define E1_ECX_XOP BIT(11)
#define E1_ECX_SKINIT BIT(12) /* hidden */
#define E1_ECX_WDT BIT(13)    /* hidden */
#define E1_ECX_LWP BIT(15)    /* hidden: lightweight profiling */
#define E1_ECX_FMA4 BIT(16)
#define E1_ECX_TCE BIT(17)    /* hidden */
#define E1_ECX_NODEID BIT(19) /* hidden */
#define E1_ECX_TBM BIT(21)
#define E1_ECX_TOPOEXT BIT(22)	     /* hidden: 0x8000001D/1E not offered */
#define E1_ECX_PERFCTR_CORE BIT(23)  /* hidden: no PMU */
#define E1_ECX_PERFCTR_NB BIT(24)    /* hidden */
#define E1_ECX_DBX BIT(26)	     /* hidden: data breakpoint extension */
#define E1_ECX_PERF_TSC BIT(27)	     /* hidden */
#define E1_ECX_PERFCTR_LLC BIT(28)   /* hidden */
#define E1_ECX_MWAITX BIT(29)	     /* hidden */
#define E1_ECX_ADDR_MASK_EXT BIT(30) /* hidden */
#define E1_ECX_PASS                                                                                \
	(E1_ECX_LAHF_SAHF | E1_ECX_ABM | E1_ECX_SSE4A | E1_ECX_MISALIGN_SSE | E1_ECX_PREFETCHW |   \
	 E1_ECX_XOP | E1_ECX_FMA4 | E1_ECX_TBM)
/* 0x80000001 EDX */
#define E1_EDX_SYSCALL BIT(11)
#define E1_EDX_NX BIT(20)
#define E1_EDX_MMXEXT BIT(22)
#define E1_EDX_FFXSR BIT(25)
#define E1_EDX_PAGE1GB BIT(26)
#define E1_EDX_RDTSCP BIT(27)
#define E1_EDX_LM BIT(29)
#define E1_EDX_3DNOWEXT BIT(30)
#define E1_EDX_3DNOW BIT(31)
#define E1_EDX_PASS                                                                                \
	(L1_EDX_LEGACY_PASS | E1_EDX_SYSCALL | E1_EDX_NX | E1_EDX_MMXEXT | E1_EDX_FFXSR |          \
	 E1_EDX_PAGE1GB | E1_EDX_RDTSCP | E1_EDX_LM | E1_EDX_3DNOWEXT | E1_EDX_3DNOW)
/* 0x80000007 EDX */
#define E7_EDX_INVARIANT_TSC BIT(8) /* forced on: the guest TSC is invariant */
/* 0x80000008 */
#define E8_EAX_PHYS_ADDR 0x000000FFu /* [7:0] */
#define E8_EAX_LIN_ADDR 0x0000FF00u  /* [15:8] */
#define E8_EBX_CLZERO BIT(0)
#define E8_EBX_INST_RET_CNT_MSR BIT(1) /* hidden */
#define E8_EBX_RSTR_FP_ERR_PTRS BIT(2)
#define E8_EBX_INVLPGB BIT(3) /* hidden */
#define E8_EBX_RDPRU BIT(4)   /* hidden */
#define E8_EBX_MCOMMIT BIT(8) /* hidden */
#define E8_EBX_WBNOINVD BIT(9)
#define E8_EBX_IBPB BIT(12)	 /* hidden: speculation controls, as leaf 7 EDX */
#define E8_EBX_IBRS BIT(14)	 /* hidden */
#define E8_EBX_STIBP BIT(15)	 /* hidden */
#define E8_EBX_SSBD BIT(24)	 /* hidden */
#define E8_EBX_VIRT_SSBD BIT(25) /* hidden */
#define E8_EBX_PASS (E8_EBX_CLZERO | E8_EBX_RSTR_FP_ERR_PTRS | E8_EBX_WBNOINVD)
#define E8_ECX_NC_MASK 0xFFu	     /* [7:0] cores in package - 1 */
#define E8_ECX_APIC_ID_SIZE_SHIFT 12 /* [15:12] APIC ID bits for the core number */
#define E8_ECX_APIC_ID_SIZE_MAX 0xFu

/* Rule flags: which computation runs after the masks. */
enum cpuid_fix {
	FIX_NONE = 0,
	FIX_MAX_BASIC,	 /* leaf 0 */
	FIX_LEAF1,	 /* APIC ID, logical processor count */
	FIX_CACHE4,	 /* leaf 4 topology fields */
	FIX_LEAF7,	 /* subleaf count */
	FIX_TOPO_B,	 /* leaf 0xB, fully computed */
	FIX_XSAVE,	 /* leaf 0xD, fully computed */
	FIX_HV_BASE,	 /* 0x40000000 */
	FIX_HV_TSC,	 /* 0x40000001 */
	FIX_MAX_EXT,	 /* 0x80000000 */
	FIX_EXT8,	 /* 0x80000008 core count */
	FIX_TSC_CRYSTAL, /* 0x15, fully computed */
	FIX_TSC_FREQ,	 /* 0x16, fully computed */
};

enum { R_EAX, R_EBX, R_ECX, R_EDX, R_NUM };

struct cpuid_rule {
	uint32_t leaf;
	uint32_t sub;	       /* CPUID_SUB_ANY: every subleaf */
	uint32_t pass[R_NUM];  /* host bits shown to the guest */
	uint32_t force[R_NUM]; /* bits always set */
	enum cpuid_fix fix;
};

/* Every leaf the guest may see something non-zero in. A leaf (or subleaf)
 * absent here reads as all zeros: zero is the safe default, since it means
 * "feature absent / leaf invalid" in every leaf's encoding, and a leaf nobody
 * has reviewed must not leak host state or promise unemulated hardware. That
 * makes these zero on purpose: 3 (serial number), 5 (MONITOR), 6 (thermal and
 * power), 0xA (PMU), 0xF/0x10 (RDT), 0x12 (SGX), 0x14 (PT), 0x8000000A (SVM),
 * and every other unlisted leaf. 0x15/0x16 are Keel's own (tsc_leaf()). */
static const struct cpuid_rule rules[] = {
    /* Max basic leaf (computed) and vendor string. */
    {0x0, CPUID_SUB_ANY, {0, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_MAX_BASIC},
    /* Family/model/stepping; features. */
    {0x1,
     CPUID_SUB_ANY,
     {ALL, L1_EBX_BRAND_INDEX | L1_EBX_CLFLUSH_SIZE, L1_ECX_PASS, L1_EDX_PASS},
     {0, 0, L1_ECX_HYPERVISOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE, L1_EDX_HTT | L1_EDX_APIC},
     FIX_LEAF1},
    /* Cache/TLB descriptors. */
    {0x2, CPUID_SUB_ANY, {ALL, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_NONE},
    /* Cache parameters; sharing fields computed. */
    {0x4,
     CPUID_SUB_ANY,
     {L4_EAX_TYPE | L4_EAX_LEVEL | L4_EAX_SELF_INIT | L4_EAX_FULLY_ASSOC, ALL, ALL,
      L4_EDX_WBINVD | L4_EDX_INCLUSIVE | L4_EDX_COMPLEX_INDEX},
     {0, 0, 0, 0},
     FIX_CACHE4},
    /* Structured extended features. */
    {0x7, 0, {0, L7_EBX_PASS, L7_ECX_PASS, L7_EDX_PASS}, {0, L7_EBX_TSC_ADJUST, 0, 0}, FIX_LEAF7},
    {0x7, 1, {L7S1_EAX_PASS, 0, 0, 0}, {0, 0, 0, 0}, FIX_LEAF7},
    {0xB, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, 0}, FIX_TOPO_B},
    {0xD, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, 0}, FIX_XSAVE},
    /* TSC and core clock: the guest's, never the host's (tsc_leaf()). */
    {0x15, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, 0}, FIX_TSC_CRYSTAL},
    {0x16, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, 0}, FIX_TSC_FREQ},
    /* Hypervisor leaves: Keel's own, never the host's. */
    {CPUID_HV_BASE, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, 0}, FIX_HV_BASE},
    {CPUID_HV_BASE + 1, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, 0}, FIX_HV_TSC},
    /* Max extended leaf (computed); AMD repeats the vendor string here. */
    {EXT_BASE, CPUID_SUB_ANY, {0, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_MAX_EXT},
    {EXT_BASE + 1, CPUID_SUB_ANY, {ALL, ALL, E1_ECX_PASS, E1_EDX_PASS}, {0, 0, 0, 0}, FIX_NONE},
    /* Brand string. */
    {EXT_BASE + 2, CPUID_SUB_ANY, {ALL, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_NONE},
    {EXT_BASE + 3, CPUID_SUB_ANY, {ALL, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_NONE},
    {EXT_BASE + 4, CPUID_SUB_ANY, {ALL, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_NONE},
    /* L1 and L2/L3 cache and TLB information. */
    {EXT_BASE + 5, CPUID_SUB_ANY, {ALL, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_NONE},
    {EXT_BASE + 6, CPUID_SUB_ANY, {ALL, ALL, ALL, ALL}, {0, 0, 0, 0}, FIX_NONE},
    /* Power management: only the invariant TSC. */
    {EXT_BASE + 7, CPUID_SUB_ANY, {0, 0, 0, 0}, {0, 0, 0, E7_EDX_INVARIANT_TSC}, FIX_NONE},
    /* Address sizes, AMD extended features, core count (computed). */
    {EXT_BASE + 8,
     CPUID_SUB_ANY,
     {E8_EAX_PHYS_ADDR | E8_EAX_LIN_ADDR, E8_EBX_PASS, 0, 0},
     {0, 0, 0, 0},
     FIX_EXT8},
};

static const struct cpuid_rule *find_rule(uint32_t leaf, uint32_t sub)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].leaf == leaf && (rules[i].sub == CPUID_SUB_ANY || rules[i].sub == sub))
			return &rules[i];
	}
	return NULL;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Bits needed to number n items (0 for n <= 1). */
static uint32_t order(uint32_t n)
{
	uint32_t bits = 0;
	while (bits < 32 && (1ull << bits) < n)
		bits++;
	return bits;
}

static uint32_t guest_nvcpus(const struct cpuid_guest *g)
{
	return g->nvcpus ? g->nvcpus : 1;
}

static uint32_t host_max_basic(cpuid_host_fn host, void *ctx)
{
	struct cpuid_regs r = {0};
	host(ctx, 0, 0, &r);
	return min_u32(r.eax, CPUID_GUEST_MAX_BASIC);
}

/* 0 when the host has no extended leaves. */
static uint32_t host_max_ext(cpuid_host_fn host, void *ctx)
{
	struct cpuid_regs r = {0};
	host(ctx, EXT_BASE, 0, &r);
	if (r.eax < EXT_BASE)
		return 0;
	return min_u32(r.eax, CPUID_GUEST_MAX_EXT);
}

/* Leaf 0xB: vCPUs are cores of one package, one thread each. */
static void topo_leaf_b(const struct cpuid_guest *g, uint32_t sub, struct cpuid_regs *out)
{
	uint32_t n = guest_nvcpus(g);

	*out = (struct cpuid_regs){0};
	out->ecx = sub & LB_ECX_LEVEL_MASK;
	out->edx = g->vcpu_id;
	if (sub == 0) {
		out->eax = 0; /* no thread bits in the x2APIC ID */
		out->ebx = 1;
		out->ecx |= LB_TYPE_SMT << LB_ECX_TYPE_SHIFT;
	} else if (sub == 1) {
		out->eax = order(n) & LB_EAX_SHIFT_MASK;
		out->ebx = n & LB_EBX_COUNT_MASK;
		out->ecx |= LB_TYPE_CORE << LB_ECX_TYPE_SHIFT;
	} else {
		out->ecx |= LB_TYPE_INVALID << LB_ECX_TYPE_SHIFT;
	}
}

/* Leaf 0xD: host values restricted to XCR0_GUEST_MASK; sizes recomputed
 * from the host's per-component subleaves. Sub 0 EBX should be the size for
 * the guest's current XCR0; we report the size for all offered components,
 * which is exact for a guest (like Linux) that enables all of them and an
 * overestimate (still safe for buffer sizing) otherwise. */
static void xsave_leaf_d(cpuid_host_fn host, void *ctx, uint32_t sub, struct cpuid_regs *out)
{
	struct cpuid_regs r0 = {0}, r = {0};
	uint32_t comps;

	*out = (struct cpuid_regs){0};
	host(ctx, 0xD, LD_SUB_MAIN, &r0);
	comps = r0.eax & XCR0_GUEST_MASK;
	if (!(comps & XCR0_X87) || !(comps & XCR0_SSE))
		return; /* host XSAVE enumeration is unusable: offer none */

	if (sub == LD_SUB_MAIN || sub == LD_SUB_EXT) {
		uint32_t std = XSAVE_LEGACY_SIZE + XSAVE_HEADER_SIZE;
		uint32_t cmp = std;
		for (uint32_t i = XSAVE_FIRST_EXT; i <= XSAVE_LAST_GUEST; i++) {
			if (!(comps & BIT(i)))
				continue;
			host(ctx, 0xD, i, &r);
			if (r.ebx + r.eax > std)
				std = r.ebx + r.eax;
			if (r.ecx & LDN_ECX_ALIGNED)
				cmp = (cmp + XSAVE_ALIGN - 1) & ~(XSAVE_ALIGN - 1);
			cmp += r.eax;
		}
		if (sub == LD_SUB_MAIN) {
			out->eax = comps;
			out->ebx = std;
			out->ecx = std;
			out->edx = 0; /* no XCR0 bits above 31 offered */
		} else {
			host(ctx, 0xD, LD_SUB_EXT, &r);
			out->eax = r.eax & LD1_EAX_PASS;
			/* Compacted size for XCR0 | IA32_XSS; XSS offers nothing. */
			out->ebx = (out->eax & LD1_EAX_XSAVEC) ? cmp : 0;
			out->ecx = 0; /* IA32_XSS bits [31:0]: none */
			out->edx = 0; /* IA32_XSS bits [63:32]: none */
		}
		return;
	}
	if (sub <= XSAVE_LAST_GUEST && (comps & BIT(sub))) {
		host(ctx, 0xD, sub, &r);
		out->eax = r.eax; /* size */
		out->ebx = r.ebx; /* offset in the standard format */
		out->ecx = r.ecx & LDN_ECX_ALIGNED;
	}
}

/* Leaves 0x15 and 0x16 say what Keel measured, so that a guest that reads
 * them (Linux on Intel) need not calibrate its TSC against the PIT: some
 * 16,000 port exits at boot. 0x15 gives the TSC as a "crystal" of the TSC's
 * own frequency times 1/1: Linux also takes the crystal as the LAPIC timer's
 * input clock, and Keel's virtual LAPIC timer counts the TSC. A TSC too fast
 * for the 32-bit crystal field, or not measured, leaves the leaves zero
 * (the guest calibrates as before). 0x16 gives base and maximum frequency
 * in MHz, which Linux reads for the CPU's speed. */
static void tsc_leaf(const struct cpuid_guest *g, uint32_t leaf, struct cpuid_regs *out)
{
	uint64_t mhz = (g->tsc_hz + 500000) / 1000000;

	*out = (struct cpuid_regs){0};
	if (!g->tsc_hz || g->tsc_hz > UINT32_MAX)
		return;
	if (leaf == 0x15)
		*out = (struct cpuid_regs){1, 1, (uint32_t)g->tsc_hz, 0};
	else /* at most 4295: fits 0x16's 16-bit MHz fields */
		*out = (struct cpuid_regs){(uint32_t)mhz, (uint32_t)mhz, 0, 0};
}

static void apply_fix(cpuid_host_fn host, void *ctx, const struct cpuid_guest *g,
		      const struct cpuid_rule *rule, uint32_t sub, struct cpuid_regs *out)
{
	uint32_t n = guest_nvcpus(g);
	struct cpuid_regs r = {0};

	switch (rule->fix) {
	case FIX_NONE:
		break;
	case FIX_MAX_BASIC:
		out->eax = host_max_basic(host, ctx);
		break;
	case FIX_LEAF1:
		out->ebx |= (min_u32(n, L1_EBX_FIELD_MAX) << L1_EBX_MAX_LP_SHIFT) |
			    ((g->vcpu_id & L1_EBX_FIELD_MAX) << L1_EBX_APIC_ID_SHIFT);
		break;
	case FIX_CACHE4:
		if (out->eax & L4_EAX_TYPE) {
			uint32_t level = (out->eax & L4_EAX_LEVEL) >> L4_EAX_LEVEL_SHIFT;
			uint32_t pkg = (1u << order(n)) - 1;
			/* L1/L2 private to a vCPU; L3 and beyond shared by all. */
			uint32_t share = level >= 3 ? pkg : 0;
			out->eax |= (min_u32(share, L4_EAX_SHARING_MAX) << L4_EAX_SHARING_SHIFT) |
				    (min_u32(pkg, L4_EAX_CORES_MAX) << L4_EAX_CORES_SHIFT);
		}
		break;
	case FIX_LEAF7:
		host(ctx, 0x7, 0, &r);
		if (sub == 0)
			out->eax = min_u32(r.eax, L7_MAX_SUBLEAF);
		else if (r.eax < sub)
			*out = (struct cpuid_regs){0}; /* host has no such subleaf */
		break;
	case FIX_TOPO_B:
		topo_leaf_b(g, sub, out);
		break;
	case FIX_XSAVE:
		xsave_leaf_d(host, ctx, sub, out);
		break;
	case FIX_HV_BASE:
		out->eax = CPUID_HV_MAX;
		memcpy(&out->ebx, CPUID_HV_SIG, 4);
		memcpy(&out->ecx, CPUID_HV_SIG + 4, 4);
		memcpy(&out->edx, CPUID_HV_SIG + 8, 4);
		break;
	case FIX_HV_TSC: {
		uint64_t khz = g->tsc_hz / 1000;
		struct cpuid_regs h;

		out->eax = khz > HV_TSC_KHZ_MAX ? (uint32_t)HV_TSC_KHZ_MAX : (uint32_t)khz;
		out->ebx = out->eax; /* the virtual LAPIC timer counts the TSC */
		host(ctx, 1, 0, &h);
		out->ecx = (h.ecx & L1_ECX_HYPERVISOR) ? CPUID_HV_FREQ_ECX_HOST_VIRTUAL : 0;
		break;
	}
	case FIX_MAX_EXT:
		out->eax = host_max_ext(host, ctx);
		break;
	case FIX_EXT8:
		out->ecx = (min_u32(n - 1, E8_ECX_NC_MASK)) |
			   ((order(n) & E8_ECX_APIC_ID_SIZE_MAX) << E8_ECX_APIC_ID_SIZE_SHIFT);
		break;
	case FIX_TSC_CRYSTAL:
		tsc_leaf(g, 0x15, out);
		break;
	case FIX_TSC_FREQ:
		tsc_leaf(g, 0x16, out);
		break;
	}
}

void cpuid_policy(cpuid_host_fn host, void *ctx, const struct cpuid_guest *g, uint32_t leaf,
		  uint32_t sub, struct cpuid_regs *out)
{
	const struct cpuid_rule *rule;
	struct cpuid_regs h = {0};
	bool in_range;

	*out = (struct cpuid_regs){0};
	if (leaf >= CPUID_HV_BASE && leaf <= HV_END)
		in_range = leaf <= CPUID_HV_MAX; /* independent of the host */
	else if (leaf < CPUID_HV_BASE)
		in_range = leaf <= host_max_basic(host, ctx);
	else if (leaf >= EXT_BASE && leaf <= EXT_END)
		in_range = leaf <= host_max_ext(host, ctx);
	else
		in_range = false;
	/* Out of range: zeros. (Intel would return the highest basic leaf.) */
	if (!in_range)
		return;

	rule = find_rule(leaf, sub);
	if (!rule)
		return; /* in range but not reviewed: zeros, see rules[] */

	if (leaf < CPUID_HV_BASE || leaf > HV_END)
		host(ctx, leaf, sub, &h);
	out->eax = (h.eax & rule->pass[R_EAX]) | rule->force[R_EAX];
	out->ebx = (h.ebx & rule->pass[R_EBX]) | rule->force[R_EBX];
	out->ecx = (h.ecx & rule->pass[R_ECX]) | rule->force[R_ECX];
	out->edx = (h.edx & rule->pass[R_EDX]) | rule->force[R_EDX];
	apply_fix(host, ctx, g, rule, sub, out);
}
