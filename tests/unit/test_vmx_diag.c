/* Unit tests for explaining VT-x failures: error and exit-reason names,
 * SVM <-> VMX segment attributes, and the guest-state checker: valid states
 * (multiboot flat 32-bit, real-mode reset under unrestricted guest, 64-bit
 * long mode, virtual-8086, paged 32-bit without unrestricted guest, PAE)
 * and one failing state per check, asserting the message names the field.
 * The CPU is Bochs 2.7's corei7_skylake_x (values read from it; see
 * test_vmx_caps.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/vmx_diag.h"

#define MAXPHY 40u
#define PAT_DEFAULT 0x0007040600070406ull
#define NONCANON 0x0000800000000000ull
#define LIMIT_4G 0xFFFFFFFFu
#define AR_CODE32 0xC09Bu /* G, D/B, P, S, type 11 */
#define AR_CODE64 0xA09Bu /* G, L, P, S, type 11 */
#define AR_DATA32 0xC093u /* G, D/B, P, S, type 3 */
#define AR_CODE16 0x9Bu
#define AR_DATA16 0x93u
#define AR_TSS_BUSY 0x8Bu
#define AR_TSS16_BUSY 0x83u
#define AR_LDT 0x82u
#define AR_UNUSABLE VMX_AR_UNUSABLE
#define EV(type, vec) (VMX_INTR_VALID | ((type) << VMX_INTR_TYPE_SHIFT) | (vec))
#define EV_EXTINT EV(VMX_INTR_TYPE_EXTINT, 0x20u)
#define EV_NMI EV(VMX_INTR_TYPE_NMI, 2u)
#define EV_GP (EV(VMX_INTR_TYPE_HW_EXCEPTION, 13u) | VMX_INTR_ERROR_VALID)
#define RFL 0x2ull /* bit 1 */
#define RFL_IF (RFL | VMX_RFLAGS_IF)

static const struct vmx_msrs SKL = {
    .cr0_fixed0 = 0x80000021,
    .cr0_fixed1 = 0xFFFFFFFF,
    .cr4_fixed0 = 0x2000,
    .cr4_fixed1 = 0x3727FF,
    .misc = 0x600401E0,
};

static char WHY[256];

static void set_seg(struct vmx_guest_state *g, enum vseg_index i, uint16_t sel, uint32_t ar,
		    uint32_t limit, uint64_t base)
{
	g->seg[i] = (struct vmx_seg){.sel = sel, .ar = ar, .limit = limit, .base = base};
}

/* Controls and CPU facts shared by every state: EPT + unrestricted guest,
 * guest EFER/PAT/debug controls loaded, as vmx_keel_policy resolves. */
static struct vmx_guest_state common(void)
{
	return (struct vmx_guest_state){
	    .cpu = &SKL,
	    .maxphyaddr = MAXPHY,
	    .pin = 0x16 | VMX_PIN_EXTINT_EXITING | VMX_PIN_NMI_EXITING,
	    .proc = 0x04006172u | VMX_PROC_HLT_EXITING | VMX_PROC_SECONDARY_CTLS,
	    .proc2 = VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST,
	    .entry = 0x11FBu | VMX_ENTRY_CTL_LOAD_DEBUG | VMX_ENTRY_CTL_LOAD_PAT |
		     VMX_ENTRY_CTL_LOAD_EFER,
	    .pat = PAT_DEFAULT,
	    .dr7 = 0x400,
	    .vmcs_link = ~0ull,
	    .rflags = RFL,
	};
}

/* Multiboot entry: 32-bit flat protected mode, paging off. */
static struct vmx_guest_state flat32(void)
{
	struct vmx_guest_state g = common();

	g.cr0 = VMX_CR0_PE | VMX_CR0_ET | VMX_CR0_NE;
	g.cr4 = VMX_CR4_VMXE;
	set_seg(&g, VSEG_CS, 0x08, AR_CODE32, LIMIT_4G, 0);
	for (enum vseg_index i = VSEG_ES; i <= VSEG_GS; i++)
		if (i != VSEG_CS)
			set_seg(&g, i, 0x10, AR_DATA32, LIMIT_4G, 0);
	set_seg(&g, VSEG_TR, 0, AR_TSS_BUSY, 0xFFFF, 0);
	set_seg(&g, VSEG_LDTR, 0, AR_UNUSABLE, 0, 0);
	g.gdtr_base = 0x1000;
	g.gdtr_limit = 0x17;
	g.rip = 0x100000;
	return g;
}

/* The state after RESET/INIT, run as an unrestricted guest. */
static struct vmx_guest_state realmode(void)
{
	struct vmx_guest_state g = common();

	g.cr0 = VMX_CR0_CD | VMX_CR0_NW | VMX_CR0_ET | VMX_CR0_NE;
	g.cr4 = VMX_CR4_VMXE;
	for (enum vseg_index i = VSEG_ES; i <= VSEG_GS; i++)
		set_seg(&g, i, 0, AR_DATA16, 0xFFFF, 0);
	set_seg(&g, VSEG_CS, 0xF000, AR_CODE16, 0xFFFF, 0xFFFF0000);
	set_seg(&g, VSEG_TR, 0, AR_TSS_BUSY, 0xFFFF, 0);
	set_seg(&g, VSEG_LDTR, 0, AR_LDT, 0xFFFF, 0);
	g.gdtr_limit = 0xFFFF;
	g.idtr_limit = 0xFFFF;
	g.rip = 0xFFF0;
	return g;
}

/* A 64-bit kernel: null DS/ES, FS/GS with bases, a 64-bit TSS. */
static struct vmx_guest_state long64(void)
{
	struct vmx_guest_state g = common();

	g.entry |= VMX_ENTRY_CTL_IA32E_GUEST;
	g.cr0 = VMX_CR0_PG | VMX_CR0_WP | VMX_CR0_NE | VMX_CR0_ET | VMX_CR0_PE;
	g.cr3 = 0x1000;
	g.cr4 = VMX_CR4_VMXE | VMX_CR4_PAE | (1u << 7); /* PGE */
	g.efer = VMX_EFER_SCE | VMX_EFER_LME | VMX_EFER_LMA | VMX_EFER_NXE;
	set_seg(&g, VSEG_CS, 0x08, AR_CODE64, LIMIT_4G, 0);
	set_seg(&g, VSEG_SS, 0x10, AR_DATA32, LIMIT_4G, 0);
	set_seg(&g, VSEG_DS, 0, AR_UNUSABLE, 0, 0);
	set_seg(&g, VSEG_ES, 0, AR_UNUSABLE, 0, 0);
	set_seg(&g, VSEG_FS, 0, AR_UNUSABLE, 0, 0x00007F0000001000ull);
	set_seg(&g, VSEG_GS, 0, AR_UNUSABLE, 0, 0xFFFF888000000000ull);
	set_seg(&g, VSEG_TR, 0x18, AR_TSS_BUSY, 0x67, 0xFFFFFE0000001000ull);
	set_seg(&g, VSEG_LDTR, 0, AR_UNUSABLE, 0, 0);
	g.gdtr_base = 0xFFFFFFFF80200000ull;
	g.gdtr_limit = 0x1F;
	g.idtr_base = 0xFFFFFFFF80201000ull;
	g.idtr_limit = 0xFFF;
	g.rip = 0xFFFFFFFF80100000ull;
	g.rflags = RFL_IF;
	return g;
}

static struct vmx_guest_state v86(void)
{
	struct vmx_guest_state g = flat32();

	for (enum vseg_index i = VSEG_ES; i <= VSEG_GS; i++)
		set_seg(&g, i, 0x1234, VMX_AR_V86, 0xFFFF, 0x12340);
	g.rflags = RFL_IF | VMX_RFLAGS_VM;
	g.rip = 0x100;
	return g;
}

/* Paged protected mode without unrestricted guest (RPL rules apply). */
static struct vmx_guest_state paged32(void)
{
	struct vmx_guest_state g = flat32();

	g.proc2 = VMX_PROC2_ENABLE_EPT;
	g.cr0 |= VMX_CR0_PG;
	g.cr3 = 0x2000;
	return g;
}

static struct vmx_guest_state pae32(void)
{
	struct vmx_guest_state g = paged32();

	g.cr4 |= VMX_CR4_PAE;
	g.pdpte[0] = 0x3001;
	g.pdpte[1] = 0x4001;
	return g;
}

static void assert_valid(const struct vmx_guest_state *g)
{
	WHY[0] = 'x';
	WHY[1] = '\0';
	if (vmx_check_guest_state(g, WHY, sizeof(WHY)) != ST_OK)
		fail_msg("valid state refused: %s", WHY);
	assert_string_equal(WHY, "");
}

static void assert_fails(const struct vmx_guest_state *g, const char *expect)
{
	WHY[0] = '\0';
	assert_int_equal(vmx_check_guest_state(g, WHY, sizeof(WHY)), ST_EINVAL);
	if (strncmp(WHY, "guest ", 6) || !strstr(WHY, expect))
		fail_msg("\"%s\" does not name \"%s\"", WHY, expect);
}

/* ---- valid states ---- */

#define VALID(name, base, ...)                                                                     \
	static void name(void **state)                                                             \
	{                                                                                          \
		struct vmx_guest_state g = base();                                                 \
		(void)state;                                                                       \
		__VA_ARGS__;                                                                       \
		assert_valid(&g);                                                                  \
	}

VALID(valid_flat32, flat32)
VALID(valid_realmode_reset, realmode)
VALID(valid_long64, long64)
VALID(valid_v86, v86)
VALID(valid_paged32_no_unrestricted, paged32)
VALID(valid_pae32, pae32)
VALID(valid_tss16, flat32, g.seg[VSEG_TR].ar = AR_TSS16_BUSY)
VALID(valid_ss_unusable_64, long64, set_seg(&g, VSEG_SS, 0, AR_UNUSABLE, 0, 0))
VALID(valid_unusable_garbage, flat32, set_seg(&g, VSEG_DS, 0x13, 0x1FFFF, 0xFFFFF, 1ull << 40))
VALID(valid_conforming_cs, flat32, g.seg[VSEG_CS].ar = 0xC09F;
      g.seg[VSEG_SS].ar = AR_DATA32 | (3u << VMX_AR_DPL_SHIFT))
VALID(valid_user_mode, flat32, g.seg[VSEG_CS].ar |= 3u << VMX_AR_DPL_SHIFT;
      g.seg[VSEG_SS].ar |= 3u << VMX_AR_DPL_SHIFT)
VALID(valid_l_bit_outside_ia32e, flat32, g.seg[VSEG_CS].ar = 0xE09B)
VALID(valid_compat_mode, long64, g.seg[VSEG_CS].ar = AR_CODE32; g.rip = 0x1000)
VALID(valid_hlt_with_nmi, flat32, g.activity = VMX_ACTIVITY_HLT; g.entry_intr_info = EV_NMI)
VALID(valid_hlt_mtf, flat32, g.activity = VMX_ACTIVITY_HLT;
      g.entry_intr_info = EV(VMX_INTR_TYPE_OTHER, 0))
VALID(valid_shutdown_mc, flat32, g.activity = VMX_ACTIVITY_SHUTDOWN;
      g.entry_intr_info = EV(VMX_INTR_TYPE_HW_EXCEPTION, 18))
VALID(valid_sti_shadow, flat32, g.rflags = RFL_IF; g.interruptibility = VMX_INTERRUPTIBILITY_STI)
VALID(valid_nmi_blocked_no_vnmi, flat32, g.interruptibility = VMX_INTERRUPTIBILITY_NMI;
      g.entry_intr_info = EV_NMI)
VALID(valid_inject_extint, flat32, g.rflags = RFL_IF; g.entry_intr_info = EV_EXTINT)
VALID(valid_bs_with_tf, flat32, g.rflags = RFL_IF | VMX_RFLAGS_TF;
      g.interruptibility = VMX_INTERRUPTIBILITY_MOV_SS; g.pending_dbg = VMX_PENDING_DBG_BS)
VALID(valid_no_load_debug, flat32, g.entry &= ~VMX_ENTRY_CTL_LOAD_DEBUG; g.dr7 = 1ull << 40)
VALID(valid_no_load_pat, flat32, g.entry &= ~VMX_ENTRY_CTL_LOAD_PAT; g.pat = 0x02)
VALID(valid_no_load_efer, long64, g.entry &= ~VMX_ENTRY_CTL_LOAD_EFER; g.efer = 0)
VALID(valid_link_pointer, flat32, g.vmcs_link = 0x5000)
VALID(valid_pdpte_not_present, pae32, g.pdpte[3] = 0xFFFFFFFFFFFFFFFEull)
VALID(valid_pdpte_without_ept, pae32, g.proc2 = 0; g.cr0 |= VMX_CR0_PG;
      g.pdpte[2] = 0xFFFFFFFFFFFFFFFFull)
VALID(valid_cr0_cd_nw_unchecked, paged32, g.cr0 |= VMX_CR0_CD | VMX_CR0_NW)

/* ---- one failing state per check ---- */

#define FAILS(name, base, expect, ...)                                                             \
	static void name(void **state)                                                             \
	{                                                                                          \
		struct vmx_guest_state g = base();                                                 \
		(void)state;                                                                       \
		__VA_ARGS__;                                                                       \
		assert_fails(&g, expect);                                                          \
	}

static struct vmx_msrs cpu_with(uint64_t cr4_fixed1_extra, uint64_t misc)
{
	struct vmx_msrs m = SKL;

	m.cr4_fixed1 |= cr4_fixed1_extra;
	m.misc = misc;
	return m;
}

/* control registers, DR7, MSRs */
FAILS(cr0_fixed0, flat32, "guest CR0 0x11: bits 0x20 must be 1", g.cr0 &= ~VMX_CR0_NE)
FAILS(cr0_pg_needed_without_ug, flat32, "guest CR0 0x31: bits 0x80000000 must be 1",
      g.proc2 &= ~VMX_PROC2_UNRESTRICTED_GUEST)
FAILS(cr0_ug_needs_secondary_active, flat32, "guest CR0 0x31: bits 0x80000000 must be 1",
      g.proc &= ~VMX_PROC_SECONDARY_CTLS)
FAILS(cr0_fixed1, flat32, "guest CR0 0x100000031: bits 0x100000000 must be 0", g.cr0 |= 1ull << 32)
FAILS(cr0_pg_without_pe, flat32, "guest CR0 0x80000030: PG=1 needs PE=1",
      g.cr0 = VMX_CR0_PG | VMX_CR0_NE | VMX_CR0_ET)
FAILS(cr4_fixed0, flat32, "guest CR4 0x0: bits 0x2000 must be 1", g.cr4 = 0)
FAILS(cr4_fixed1, flat32, "guest CR4 0x3000: bits 0x1000 must be 0", g.cr4 |= 1u << 12)
static struct vmx_msrs CPU_CET;
FAILS(cr4_cet_needs_wp, flat32, "guest CR4 0x802000: CET=1 needs CR0.WP=1",
      CPU_CET = cpu_with(VMX_CR4_CET, SKL.misc);
      g.cpu = &CPU_CET; g.cr4 |= VMX_CR4_CET)
FAILS(ia32e_needs_pg, long64, "guest CR0 0x10031: IA-32e mode guest needs PG=1",
      g.cr0 &= ~VMX_CR0_PG)
FAILS(ia32e_needs_pae, long64, "guest CR4 0x2080: IA-32e mode guest needs PAE=1",
      g.cr4 &= ~VMX_CR4_PAE)
FAILS(pcide_needs_ia32e, flat32, "guest CR4 0x22000: PCIDE=1 needs IA-32e mode guest",
      g.cr4 |= VMX_CR4_PCIDE)
FAILS(cr3_beyond_maxphyaddr, long64, "guest CR3 0x10000001000: bits at or above MAXPHYADDR (40)",
      g.cr3 |= 1ull << 40)
FAILS(dr7_high, flat32, "guest DR7 0x100000400: bits 63:32 must be 0", g.dr7 |= 1ull << 32)
FAILS(sysenter_esp, long64, "guest IA32_SYSENTER_ESP 0x800000000000: not canonical",
      g.sysenter_esp = NONCANON)
FAILS(sysenter_eip, long64, "guest IA32_SYSENTER_EIP 0xffff000000000000: not canonical",
      g.sysenter_eip = 0xFFFF000000000000ull)
FAILS(pat_entry, flat32, "guest IA32_PAT 0x7040600070402: entry 0 holds 0x2",
      g.pat = 0x0007040600070402ull)
FAILS(efer_reserved, long64, "guest IA32_EFER 0x1d01: reserved bits 0x1000 must be 0",
      g.efer |= 1u << 12)
FAILS(efer_lma, long64, "guest IA32_EFER 0x901: LMA must equal IA-32e mode guest (1)",
      g.efer &= ~VMX_EFER_LMA)
FAILS(efer_lma_without_ia32e, flat32, "guest IA32_EFER 0x400: LMA must equal IA-32e mode guest (0)",
      g.efer = VMX_EFER_LMA)
FAILS(efer_lme, long64, "guest IA32_EFER 0xc01: with CR0.PG=1, LME must equal",
      g.efer &= ~VMX_EFER_LME)

/* selectors */
FAILS(tr_selector_ti, long64, "guest TR selector 0x1c: TI must be 0", g.seg[VSEG_TR].sel = 0x1C)
FAILS(ldtr_selector_ti, realmode, "guest LDTR selector 0x4: TI must be 0", g.seg[VSEG_LDTR].sel = 4)
FAILS(ss_rpl, paged32, "guest SS selector 0x13: RPL must equal CS RPL (CS selector 0x8)",
      g.seg[VSEG_SS].sel = 0x13)

/* bases */
FAILS(v86_base, v86, "guest DS base 0x0: virtual-8086 mode needs selector << 4 (0x12340)",
      g.seg[VSEG_DS].base = 0)
FAILS(tr_base, long64, "guest TR base 0x800000000000: not canonical",
      g.seg[VSEG_TR].base = NONCANON)
FAILS(fs_base_unusable_too, long64, "guest FS base 0x800000000000: not canonical",
      g.seg[VSEG_FS].base = NONCANON)
FAILS(gs_base, long64, "guest GS base 0x800000000000: not canonical",
      g.seg[VSEG_GS].base = NONCANON)
FAILS(ldtr_base, long64, "guest LDTR base 0x800000000000: not canonical",
      set_seg(&g, VSEG_LDTR, 0x20, AR_LDT, 0xFF, NONCANON))
FAILS(cs_base_high, long64, "guest CS base 0x100000000: bits 63:32 must be 0",
      g.seg[VSEG_CS].base = 1ull << 32)
FAILS(ds_base_high, flat32, "guest DS base 0x100000000: bits 63:32 must be 0",
      g.seg[VSEG_DS].base = 1ull << 32)

/* virtual-8086 limits and access rights */
FAILS(v86_limit, v86, "guest ES limit 0xfffff: virtual-8086 mode needs 0xffff",
      g.seg[VSEG_ES].limit = 0xFFFFF)
FAILS(v86_ar, v86, "guest GS access rights 0x93: virtual-8086 mode needs 0xf3",
      g.seg[VSEG_GS].ar = AR_DATA16)

/* CS access rights */
FAILS(cs_type, realmode,
      "guest CS access rights 0x91: type 1 is not an accessed code segment nor accessed "
      "read/write data",
      g.seg[VSEG_CS].ar = 0x91)
FAILS(cs_data_without_ug, paged32, "guest CS access rights 0xc093: type 3 is not an accessed code",
      g.seg[VSEG_CS].ar = AR_DATA32)
FAILS(cs_unusable_still_checked, long64, "guest CS access rights 0x10000: type 0",
      g.seg[VSEG_CS].ar = AR_UNUSABLE)
FAILS(cs_s, flat32, "guest CS access rights 0xc08b: S must be 1", g.seg[VSEG_CS].ar = 0xC08B)
FAILS(cs_data_dpl, realmode, "guest CS access rights 0xb3: a data-type CS (type 3) must have DPL 0",
      g.seg[VSEG_CS].ar = 0xB3)
FAILS(cs_nonconforming_dpl, flat32,
      "guest CS access rights 0xc0fb: non-conforming code DPL 3 must equal SS.DPL 0",
      g.seg[VSEG_CS].ar = 0xC0FB)
FAILS(cs_conforming_dpl, flat32,
      "guest CS access rights 0xc0df: conforming code DPL 2 must not exceed SS.DPL 0",
      g.seg[VSEG_CS].ar = 0xC0DF)
FAILS(cs_present, flat32, "guest CS access rights 0xc01b: P must be 1", g.seg[VSEG_CS].ar = 0xC01B)
FAILS(cs_reserved_11_8, flat32, "guest CS access rights 0xc19b: reserved bits 11:8 must be 0",
      g.seg[VSEG_CS].ar = 0xC19B)
FAILS(cs_l_and_db, long64,
      "guest CS access rights 0xe09b: a 64-bit code segment (L=1) must have D/B=0",
      g.seg[VSEG_CS].ar = 0xE09B)
FAILS(cs_g_low_limit, flat32, "guest CS access rights 0xc09b: G=1 needs limit bits 11:0 all 1",
      g.seg[VSEG_CS].limit = 0xFFFFF000)
FAILS(cs_g_high_limit, realmode, "guest CS access rights 0x9b: G=0 needs limit bits 31:20 all 0",
      g.seg[VSEG_CS].limit = 0x100000)
FAILS(cs_reserved_31_17, flat32, "guest CS access rights 0x2c09b: reserved bits 31:17 must be 0",
      g.seg[VSEG_CS].ar = 0x2C09B)

/* SS access rights */
FAILS(ss_type, flat32, "guest SS access rights 0xc091: type 1 is not accessed read/write data",
      g.seg[VSEG_SS].ar = 0xC091)
FAILS(ss_s, flat32, "guest SS access rights 0xc083: S must be 1", g.seg[VSEG_SS].ar = 0xC083)
/* CS is checked first: its DPL must match SS.DPL for the SS rule to be reached. */
FAILS(ss_dpl_rpl, paged32, "guest SS access rights 0xc0f3: DPL 3 must equal the selector's RPL 0",
      g.seg[VSEG_CS].ar = 0xC0FB;
      g.seg[VSEG_SS].ar = 0xC0F3)
FAILS(ss_dpl_data_cs, flat32,
      "guest SS access rights 0xc0f3: DPL must be 0 when CS is a data segment",
      g.seg[VSEG_CS].ar = AR_DATA32;
      g.seg[VSEG_SS].ar = 0xC0F3)
FAILS(ss_dpl_real_mode, realmode, "guest SS access rights 0xf3: DPL must be 0 in real mode",
      g.seg[VSEG_CS].ar = 0xFB;
      g.seg[VSEG_SS].ar = 0xF3)
FAILS(ss_present, flat32, "guest SS access rights 0xc013: P must be 1", g.seg[VSEG_SS].ar = 0xC013)

/* DS, ES, FS, GS access rights */
FAILS(ds_not_accessed, flat32, "guest DS access rights 0xc092: type 2 is not accessed",
      g.seg[VSEG_DS].ar = 0xC092)
FAILS(ds_execute_only, flat32, "guest DS access rights 0xc099: type 9 is execute-only code",
      g.seg[VSEG_DS].ar = 0xC099)
FAILS(ds_s, flat32, "guest DS access rights 0xc083: S must be 1", g.seg[VSEG_DS].ar = 0xC083)
FAILS(ds_dpl_rpl, paged32, "guest DS access rights 0xc093: DPL 0 is below the selector's RPL 3",
      g.seg[VSEG_DS].sel = 0x13)
FAILS(es_granularity, flat32, "guest ES access rights 0x4093: G=0 needs limit bits 31:20 all 0",
      g.seg[VSEG_ES].ar = 0x4093)
FAILS(fs_present, flat32, "guest FS access rights 0xc013: P must be 1", g.seg[VSEG_FS].ar = 0xC013)
FAILS(gs_reserved, flat32, "guest GS access rights 0xc893: reserved bits 11:8 must be 0",
      g.seg[VSEG_GS].ar = 0xC893)

/* TR and LDTR access rights */
FAILS(tr_unusable, long64, "guest TR access rights 0x1008b: TR must be usable",
      g.seg[VSEG_TR].ar |= AR_UNUSABLE)
FAILS(tr_type, flat32, "guest TR access rights 0x89: type 9 is not a busy TSS (3 or 11)",
      g.seg[VSEG_TR].ar = 0x89)
FAILS(tr_tss16_in_ia32e, long64,
      "guest TR access rights 0x83: type 3 is not a busy 64-bit TSS (11) in IA-32e mode",
      g.seg[VSEG_TR].ar = AR_TSS16_BUSY)
FAILS(tr_s, flat32, "guest TR access rights 0x9b: S must be 0", g.seg[VSEG_TR].ar = 0x9B)
FAILS(tr_present, flat32, "guest TR access rights 0xb: P must be 1", g.seg[VSEG_TR].ar = 0x0B)
FAILS(ldtr_type, realmode, "guest LDTR access rights 0x83: type 3 is not an LDT (2)",
      g.seg[VSEG_LDTR].ar = 0x83)
FAILS(ldtr_s, realmode, "guest LDTR access rights 0x92: S must be 0", g.seg[VSEG_LDTR].ar = 0x92)

/* GDTR, IDTR */
FAILS(gdtr_base, long64, "guest GDTR base 0x800000000000: not canonical", g.gdtr_base = NONCANON)
FAILS(idtr_limit, flat32, "guest IDTR limit 0x10000: bits 31:16 must be 0", g.idtr_limit = 0x10000)

/* RIP, RFLAGS */
FAILS(rip_high_32bit, flat32, "guest RIP 0x100000000: bits 63:32 must be 0 outside 64-bit mode",
      g.rip = 1ull << 32)
FAILS(rip_high_compat, long64, "guest RIP 0xffffffff80100000: bits 63:32 must be 0",
      g.seg[VSEG_CS].ar = AR_CODE32)
FAILS(rip_canonical, long64, "guest RIP 0x800000000000: not canonical", g.rip = NONCANON)
FAILS(rflags_reserved, flat32, "guest RFLAGS 0x8002: reserved bits 0x8000 must be 0",
      g.rflags |= 1u << 15)
FAILS(rflags_bit1, flat32, "guest RFLAGS 0x0: bit 1 must be 1", g.rflags = 0)
FAILS(rflags_vm_ia32e, long64, "guest RFLAGS 0x20202: VM=1 needs CR0.PE=1 and no IA-32e mode",
      g.rflags |= VMX_RFLAGS_VM)
FAILS(rflags_vm_real, realmode, "guest RFLAGS 0x20002: VM=1 needs CR0.PE=1",
      g.rflags |= VMX_RFLAGS_VM)
FAILS(rflags_if_extint, flat32, "guest RFLAGS 0x2: IF must be 1 to inject an external interrupt",
      g.entry_intr_info = EV_EXTINT)

/* activity state */
static struct vmx_msrs CPU_NO_HLT;
FAILS(activity_range, flat32, "guest activity state 4: must be 0-3", g.activity = 4)
FAILS(activity_unsupported, flat32,
      "guest activity state 1 (HLT): not supported by this CPU (IA32_VMX_MISC)",
      CPU_NO_HLT = cpu_with(0, SKL.misc & ~VMX_MISC_ACTIVITY_HLT);
      g.cpu = &CPU_NO_HLT; g.activity = VMX_ACTIVITY_HLT)
FAILS(activity_hlt_cpl3, flat32,
      "guest activity state 1 (HLT): needs SS.DPL=0 (SS access rights 0xc0f3)",
      g.seg[VSEG_CS].ar = 0xC0FB;
      g.seg[VSEG_SS].ar = 0xC0F3; g.activity = VMX_ACTIVITY_HLT)
FAILS(activity_blocking, flat32, "guest activity state 1 (HLT): blocking by STI or MOV SS",
      g.rflags = RFL_IF;
      g.interruptibility = VMX_INTERRUPTIBILITY_STI; g.activity = VMX_ACTIVITY_HLT)
FAILS(activity_hlt_event, flat32,
      "guest activity state 1 (HLT): cannot take the injected event (type 3, vector 13)",
      g.activity = VMX_ACTIVITY_HLT;
      g.entry_intr_info = EV_GP)
FAILS(activity_shutdown_event, flat32, "guest activity state 2 (shutdown): cannot take",
      g.rflags = RFL_IF;
      g.activity = VMX_ACTIVITY_SHUTDOWN; g.entry_intr_info = EV_EXTINT)
FAILS(activity_sipi_event, flat32, "guest activity state 3 (wait-for-SIPI): cannot take",
      g.activity = VMX_ACTIVITY_WAIT_SIPI;
      g.entry_intr_info = EV_NMI)
FAILS(activity_sipi_smm, flat32,
      "guest activity state 3 (wait-for-SIPI): not allowed with entry to SMM",
      g.activity = VMX_ACTIVITY_WAIT_SIPI;
      g.entry |= VMX_ENTRY_CTL_SMM)

/* interruptibility state */
FAILS(intr_reserved, flat32, "guest interruptibility state 0x20: reserved bits 31:5",
      g.interruptibility = 1u << 5)
FAILS(intr_sti_and_mov_ss, flat32,
      "guest interruptibility state 0x3: blocking by both STI and MOV SS", g.rflags = RFL_IF;
      g.interruptibility = 3)
FAILS(intr_sti_needs_if, flat32,
      "guest interruptibility state 0x1: blocking by STI needs RFLAGS.IF=1 (RFLAGS 0x2)",
      g.interruptibility = VMX_INTERRUPTIBILITY_STI)
FAILS(intr_blocked_extint, flat32,
      "guest interruptibility state 0x2: blocking by STI or MOV SS while injecting an external",
      g.rflags = RFL_IF;
      g.interruptibility = VMX_INTERRUPTIBILITY_MOV_SS; g.entry_intr_info = EV_EXTINT)
FAILS(intr_mov_ss_nmi, flat32,
      "guest interruptibility state 0x2: blocking by MOV SS while injecting an NMI",
      g.interruptibility = VMX_INTERRUPTIBILITY_MOV_SS;
      g.entry_intr_info = EV_NMI)
FAILS(intr_smi, flat32, "guest interruptibility state 0x4: blocking by SMI outside SMM",
      g.interruptibility = VMX_INTERRUPTIBILITY_SMI)
FAILS(intr_smm_entry, flat32,
      "guest interruptibility state 0x0: entry to SMM needs blocking by SMI",
      g.entry |= VMX_ENTRY_CTL_SMM)
FAILS(intr_nmi_virtual_nmis, flat32,
      "guest interruptibility state 0x8: blocking by NMI with virtual NMIs while injecting",
      g.pin |= VMX_PIN_VIRTUAL_NMIS;
      g.interruptibility = VMX_INTERRUPTIBILITY_NMI; g.entry_intr_info = EV_NMI)
FAILS(intr_enclave_mov_ss, flat32, "guest interruptibility state 0x12: enclave interruption",
      g.interruptibility = VMX_INTERRUPTIBILITY_ENCLAVE | VMX_INTERRUPTIBILITY_MOV_SS)

/* pending debug exceptions */
FAILS(pending_dbg_reserved, flat32, "guest pending debug exceptions 0x10: reserved bits 0x10",
      g.pending_dbg = 0x10)
FAILS(pending_dbg_bs_needed, flat32, "guest pending debug exceptions 0x0: BS must be 1",
      g.rflags = RFL_IF | VMX_RFLAGS_TF;
      g.interruptibility = VMX_INTERRUPTIBILITY_STI)
FAILS(pending_dbg_bs_without_tf, flat32, "guest pending debug exceptions 0x4000: BS must be 0",
      g.activity = VMX_ACTIVITY_HLT;
      g.pending_dbg = VMX_PENDING_DBG_BS)
FAILS(pending_dbg_bs_with_btf, flat32, "guest pending debug exceptions 0x4000: BS must be 0",
      g.rflags = RFL | VMX_RFLAGS_TF;
      g.debugctl = VMX_DEBUGCTL_BTF; g.activity = VMX_ACTIVITY_HLT;
      g.pending_dbg = VMX_PENDING_DBG_BS)

/* VMCS link pointer, PDPTEs */
FAILS(link_pointer_alignment, flat32,
      "guest VMCS link pointer 0x1234: must be all-ones or 4 KiB aligned", g.vmcs_link = 0x1234)
FAILS(link_pointer_maxphyaddr, flat32,
      "guest VMCS link pointer 0x10000000000: beyond MAXPHYADDR (40)", g.vmcs_link = 1ull << 40)
FAILS(pdpte_reserved, pae32, "guest PDPTE1 0x4003: reserved bits 0x2 must be 0",
      g.pdpte[1] = 0x4003)
FAILS(pdpte_maxphyaddr, pae32, "guest PDPTE3 0x10000000001: reserved bits 0x10000000000",
      g.pdpte[3] = (1ull << 40) | 1)

/* ---- names ---- */

static void test_insn_errors(void **state)
{
	(void)state;
	static const uint32_t defined[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
					   15, 16, 17, 18, 19, 20, 22, 23, 24, 25, 26, 28};
	static const uint32_t undefined[] = {0, 14, 21, 27, 29, 1000, UINT32_MAX};

	for (unsigned i = 0; i < sizeof(defined) / sizeof(defined[0]); i++)
		assert_string_not_equal(vmx_insn_error_str(defined[i]),
					"unknown VM-instruction error");
	for (unsigned i = 0; i < sizeof(undefined) / sizeof(undefined[0]); i++)
		assert_string_equal(vmx_insn_error_str(undefined[i]),
				    "unknown VM-instruction error");
	assert_string_equal(vmx_insn_error_str(7), "VM entry with invalid control field(s)");
	assert_string_equal(vmx_insn_error_str(8), "VM entry with invalid host-state field(s)");
	assert_string_equal(vmx_insn_error_str(4), "VMLAUNCH with non-clear VMCS");
	assert_string_equal(vmx_insn_error_str(5), "VMRESUME with non-launched VMCS");
	assert_string_equal(vmx_insn_error_str(26), "VM entry with events blocked by MOV SS");
	assert_string_equal(vmx_insn_error_str(28), "invalid operand to INVEPT/INVVPID");
}

static void test_exit_reasons(void **state)
{
	(void)state;
	assert_string_equal(vmx_exit_reason_str(VMX_EXIT_CPUID), "CPUID");
	assert_string_equal(vmx_exit_reason_str(VMX_EXIT_EPT_VIOLATION), "EPT violation");
	assert_string_equal(vmx_exit_reason_str(VMX_EXIT_XRSTORS), "XRSTORS");
	assert_string_equal(vmx_exit_reason_str(VMX_EXIT_REASON_ENTRY_FAIL | 33),
			    "VM-entry failure: invalid guest state");
	static const uint32_t gaps[] = {35, 38, 42, 65, 0xFFFF};

	for (unsigned i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++)
		assert_string_equal(vmx_exit_reason_str(gaps[i]), "unknown exit reason");
	for (uint32_t r = 0; r < VMX_EXIT_REASON_LIMIT; r++)
		assert_non_null(vmx_exit_reason_str(r));
}

/* ---- access rights ---- */

static void test_ar_conversion(void **state)
{
	(void)state;
	/* SVM attr -> VMX access rights: AVL/L/D-B/G move from 11:8 to 15:12. */
	assert_int_equal(vmx_ar_from_attr(0xA9B), 0xA09B);
	assert_int_equal(vmx_ar_from_attr(0xC93), 0xC093);
	assert_int_equal(vmx_ar_from_attr(0x9B), 0x9B);
	assert_int_equal(vmx_ar_from_attr(0x18B), 0x108B); /* AVL */
	/* P=0 is unusable, whatever the selector; the other bits are kept. */
	assert_int_equal(vmx_ar_from_attr(0), VMX_AR_UNUSABLE);
	assert_int_equal(vmx_ar_from_attr(0xC13), VMX_AR_UNUSABLE | 0xC013);
	/* Back: usable round-trips exactly; unusable keeps only DPL. */
	for (unsigned attr = 0; attr < 0x1000; attr++)
		if (attr & VSEG_P)
			assert_int_equal(vmx_attr_from_ar(vmx_ar_from_attr(attr)), attr);
	assert_int_equal(vmx_attr_from_ar(VMX_AR_UNUSABLE | 0xC0F3), 0x60);
	assert_int_equal(vmx_attr_from_ar(VMX_AR_UNUSABLE), 0);
	assert_int_equal(vmx_attr_from_ar(0xA09B), 0xA9B);
}

static void test_from_sregs_long64(void **state)
{
	(void)state;
	struct vcpu_sregs s = {
	    .cr0 = 0x80010031,
	    .cr3 = 0x1000,
	    .cr4 = VMX_CR4_VMXE | VMX_CR4_PAE,
	    .efer = 0xD01,
	    .gdt_base = 0x2000,
	    .gdt_limit = 0x1F,
	};

	s.seg[VSEG_CS] = (struct vseg){
	    0x08, VSEG_G | VSEG_L | VSEG_P | VSEG_S | VSEG_TYPE_CODE_RX_ACC, LIMIT_4G, 0};
	s.seg[VSEG_SS] = (struct vseg){
	    0x10, VSEG_G | VSEG_DB | VSEG_P | VSEG_S | VSEG_TYPE_DATA_RW_ACC, LIMIT_4G, 0};
	s.seg[VSEG_TR] = (struct vseg){0x18, VSEG_P | VSEG_TYPE_TSS_BUSY, 0x67, 0x3000};
	/* DS, ES, FS, GS, LDTR: attr 0 (null), which becomes unusable. */
	struct vmx_guest_state g = common();

	g.entry |= VMX_ENTRY_CTL_IA32E_GUEST;
	g.rip = 0x400000;
	vmx_guest_state_from_sregs(&g, &s);
	assert_int_equal(g.seg[VSEG_CS].ar, AR_CODE64);
	assert_int_equal(g.seg[VSEG_DS].ar, AR_UNUSABLE);
	assert_int_equal(g.seg[VSEG_TR].base, 0x3000);
	assert_int_equal(g.gdtr_limit, 0x1F);
	assert_int_equal(g.efer, 0xD01);
	assert_valid(&g);
	/* The SVM-style state the SVM backend would use for a 64-bit guest
	 * with D/B set on CS: named as the brief's example. */
	g.seg[VSEG_CS].ar = vmx_ar_from_attr(VSEG_G | VSEG_L | VSEG_DB | VSEG_P | VSEG_S | 0xB);
	assert_fails(&g,
		     "guest CS access rights 0xe09b: a 64-bit code segment (L=1) must have D/B=0");
}

static void test_from_sregs_reset(void **state)
{
	(void)state;
	struct vcpu_sregs s = {
	    .cr0 = 0x60000030, .cr4 = VMX_CR4_VMXE, .gdt_limit = 0xFFFF, .idt_limit = 0xFFFF};
	struct vmx_guest_state g = common();

	for (unsigned i = 0; i < VSEG_COUNT; i++)
		s.seg[i] = (struct vseg){0, VSEG_P | VSEG_S | VSEG_TYPE_DATA_RW_ACC, 0xFFFF, 0};
	s.seg[VSEG_CS] =
	    (struct vseg){0xF000, VSEG_P | VSEG_S | VSEG_TYPE_CODE_RX_ACC, 0xFFFF, 0xFFFF0000};
	s.seg[VSEG_TR] = (struct vseg){0, VSEG_P | VSEG_TYPE_TSS_BUSY, 0xFFFF, 0};
	s.seg[VSEG_LDTR] = (struct vseg){0, VSEG_P | VSEG_TYPE_LDT, 0xFFFF, 0};
	g.rip = 0xFFF0;
	vmx_guest_state_from_sregs(&g, &s);
	assert_valid(&g);
	struct vmx_guest_state want = realmode();

	assert_memory_equal(g.seg, want.seg, sizeof(g.seg));
}

/* ---- failed entries ---- */

static void test_explain(void **state)
{
	(void)state;
	char buf[300];
	struct vmx_guest_state g = long64();

	g.seg[VSEG_CS].ar = 0xE09B;
	vmx_explain_entry_failure(VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_INVALID_GUEST_STATE, 0, &g,
				  buf, sizeof(buf));
	assert_string_equal(buf, "VM entry failed: invalid guest state: guest CS access rights "
				 "0xe09b: a 64-bit code segment (L=1) must have D/B=0");
	g = long64();
	vmx_explain_entry_failure(VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_INVALID_GUEST_STATE,
				  VMX_ENTRY_FAIL_QUAL_NMI_STI, &g, buf, sizeof(buf));
	assert_string_equal(buf,
			    "VM entry failed: invalid guest state (NMI injected while blocking "
			    "by STI); no check Keel knows fails");
	vmx_explain_entry_failure(VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_INVALID_GUEST_STATE,
				  VMX_ENTRY_FAIL_QUAL_LINK_PTR, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "VM entry failed: invalid guest state (VMCS link pointer)");
	vmx_explain_entry_failure(VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_MSR_LOADING, 3, NULL, buf,
				  sizeof(buf));
	assert_string_equal(
	    buf, "VM entry failed loading entry 3 (from 1) of the VM-entry MSR-load list");
	vmx_explain_entry_failure(VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_MACHINE_CHECK, 0, NULL, buf,
				  sizeof(buf));
	assert_string_equal(buf, "VM entry failed: machine-check event during VM entry");
	vmx_explain_entry_failure(VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_HLT, 0, NULL, buf,
				  sizeof(buf));
	assert_string_equal(buf, "VM entry failed with exit reason 12 (HLT)");
	vmx_explain_entry_failure(VMX_EXIT_INVALID_GUEST_STATE, 0, NULL, NULL, 0); /* no crash */
}

static void test_checker_edges(void **state)
{
	(void)state;
	struct vmx_guest_state g = long64();
	char small[12];

	g.seg[VSEG_CS].ar = 0xE09B;
	assert_int_equal(vmx_check_guest_state(&g, NULL, 0), ST_EINVAL);
	assert_int_equal(vmx_check_guest_state(&g, small, sizeof(small)), ST_EINVAL);
	assert_string_equal(small, "guest CS ac");
	assert_int_equal(vmx_check_guest_state(NULL, small, sizeof(small)), ST_EINVAL);
	g = long64();
	g.cpu = NULL;
	assert_int_equal(vmx_check_guest_state(&g, small, sizeof(small)), ST_EINVAL);
	/* MAXPHYADDR 0 means "unknown": no address bit is refused below 52. */
	g = long64();
	g.maxphyaddr = 0;
	g.cr3 = 1ull << 51;
	assert_valid(&g);
	g.cr3 = 1ull << 52;
	assert_fails(&g, "guest CR3");
}

#define T(fn) cmocka_unit_test(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(valid_flat32),
	    T(valid_realmode_reset),
	    T(valid_long64),
	    T(valid_v86),
	    T(valid_paged32_no_unrestricted),
	    T(valid_pae32),
	    T(valid_tss16),
	    T(valid_ss_unusable_64),
	    T(valid_unusable_garbage),
	    T(valid_conforming_cs),
	    T(valid_user_mode),
	    T(valid_l_bit_outside_ia32e),
	    T(valid_compat_mode),
	    T(valid_hlt_with_nmi),
	    T(valid_hlt_mtf),
	    T(valid_shutdown_mc),
	    T(valid_sti_shadow),
	    T(valid_nmi_blocked_no_vnmi),
	    T(valid_inject_extint),
	    T(valid_bs_with_tf),
	    T(valid_no_load_debug),
	    T(valid_no_load_pat),
	    T(valid_no_load_efer),
	    T(valid_link_pointer),
	    T(valid_pdpte_not_present),
	    T(valid_pdpte_without_ept),
	    T(valid_cr0_cd_nw_unchecked),

	    T(cr0_fixed0),
	    T(cr0_pg_needed_without_ug),
	    T(cr0_ug_needs_secondary_active),
	    T(cr0_fixed1),
	    T(cr0_pg_without_pe),
	    T(cr4_fixed0),
	    T(cr4_fixed1),
	    T(cr4_cet_needs_wp),
	    T(ia32e_needs_pg),
	    T(ia32e_needs_pae),
	    T(pcide_needs_ia32e),
	    T(cr3_beyond_maxphyaddr),
	    T(dr7_high),
	    T(sysenter_esp),
	    T(sysenter_eip),
	    T(pat_entry),
	    T(efer_reserved),
	    T(efer_lma),
	    T(efer_lma_without_ia32e),
	    T(efer_lme),

	    T(tr_selector_ti),
	    T(ldtr_selector_ti),
	    T(ss_rpl),
	    T(v86_base),
	    T(tr_base),
	    T(fs_base_unusable_too),
	    T(gs_base),
	    T(ldtr_base),
	    T(cs_base_high),
	    T(ds_base_high),
	    T(v86_limit),
	    T(v86_ar),

	    T(cs_type),
	    T(cs_data_without_ug),
	    T(cs_unusable_still_checked),
	    T(cs_s),
	    T(cs_data_dpl),
	    T(cs_nonconforming_dpl),
	    T(cs_conforming_dpl),
	    T(cs_present),
	    T(cs_reserved_11_8),
	    T(cs_l_and_db),
	    T(cs_g_low_limit),
	    T(cs_g_high_limit),
	    T(cs_reserved_31_17),
	    T(ss_type),
	    T(ss_s),
	    T(ss_dpl_rpl),
	    T(ss_dpl_data_cs),
	    T(ss_dpl_real_mode),
	    T(ss_present),
	    T(ds_not_accessed),
	    T(ds_execute_only),
	    T(ds_s),
	    T(ds_dpl_rpl),
	    T(es_granularity),
	    T(fs_present),
	    T(gs_reserved),
	    T(tr_unusable),
	    T(tr_type),
	    T(tr_tss16_in_ia32e),
	    T(tr_s),
	    T(tr_present),
	    T(ldtr_type),
	    T(ldtr_s),

	    T(gdtr_base),
	    T(idtr_limit),
	    T(rip_high_32bit),
	    T(rip_high_compat),
	    T(rip_canonical),
	    T(rflags_reserved),
	    T(rflags_bit1),
	    T(rflags_vm_ia32e),
	    T(rflags_vm_real),
	    T(rflags_if_extint),

	    T(activity_range),
	    T(activity_unsupported),
	    T(activity_hlt_cpl3),
	    T(activity_blocking),
	    T(activity_hlt_event),
	    T(activity_shutdown_event),
	    T(activity_sipi_event),
	    T(activity_sipi_smm),
	    T(intr_reserved),
	    T(intr_sti_and_mov_ss),
	    T(intr_sti_needs_if),
	    T(intr_blocked_extint),
	    T(intr_mov_ss_nmi),
	    T(intr_smi),
	    T(intr_smm_entry),
	    T(intr_nmi_virtual_nmis),
	    T(intr_enclave_mov_ss),
	    T(pending_dbg_reserved),
	    T(pending_dbg_bs_needed),
	    T(pending_dbg_bs_without_tf),
	    T(pending_dbg_bs_with_btf),
	    T(link_pointer_alignment),
	    T(link_pointer_maxphyaddr),
	    T(pdpte_reserved),
	    T(pdpte_maxphyaddr),

	    T(test_insn_errors),
	    T(test_exit_reasons),
	    T(test_ar_conversion),
	    T(test_from_sregs_long64),
	    T(test_from_sregs_reset),
	    T(test_explain),
	    T(test_checker_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
