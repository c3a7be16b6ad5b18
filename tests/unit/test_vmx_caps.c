/* Unit tests for the VT-x capability logic. The two CPU tables below were
 * read from Bochs 2.7 (Debian 12's bochs 2.7+dfsg-4) with a boot sector that
 * executes RDMSR on each MSR, catching #GP, and prints EDX:EAX to port 0xE9:
 * cpu models corei7_skylake_x and core2_penryn_t9600. Other cases are
 * derived from them by changing the bits the SDM defines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/vmx_caps.h"

#define MSR_ABSENT UINT64_MAX /* the RDMSR raised #GP in Bochs */
#define MSR_FIRST MSR_IA32_VMX_BASIC
#define MSR_LAST MSR_IA32_VMX_VMFUNC
#define MSR_COUNT (MSR_LAST - MSR_FIRST + 1)

struct fake_cpu {
	uint64_t feature_control;
	uint64_t vmx[MSR_COUNT]; /* 0x480 .. 0x491 */
	unsigned reads[MSR_COUNT];
	unsigned fc_reads;
};

static const struct fake_cpu skylake_x = {
    .feature_control = 0x5,
    .vmx =
	{
	    0x00D810000000002Bull, /* 480 basic */
	    0x0000007F00000016ull, /* 481 pinbased */
	    0xF7F9FFFE0401E172ull, /* 482 procbased */
	    0x007FFFFF00036DFFull, /* 483 exit */
	    0x0000FFFF000011FFull, /* 484 entry */
	    0x00000000600401E0ull, /* 485 misc */
	    0x0000000080000021ull, /* 486 cr0 fixed0 */
	    0x00000000FFFFFFFFull, /* 487 cr0 fixed1 */
	    0x0000000000002000ull, /* 488 cr4 fixed0 */
	    0x00000000003727FFull, /* 489 cr4 fixed1 */
	    0x0000000000000034ull, /* 48A vmcs enum */
	    0x02177FFF00000000ull, /* 48B procbased2 */
	    0x00000F0106334141ull, /* 48C ept/vpid cap */
	    0x0000007F00000016ull, /* 48D true pinbased */
	    0xF7F9FFFE04006172ull, /* 48E true procbased */
	    0x007FFFFF00036DFBull, /* 48F true exit */
	    0x0000FFFF000011FBull, /* 490 true entry */
	    0x0000000000000001ull, /* 491 vmfunc */
	},
};

static const struct fake_cpu penryn = {
    .feature_control = 0x5,
    .vmx =
	{
	    0x00D810000000002Bull, /* 480 basic */
	    0x0000003F00000016ull, /* 481 pinbased */
	    0xF7F9FFFE0401E172ull, /* 482 procbased */
	    0x0003FFFF00036DFFull, /* 483 exit */
	    0x00003FFF000011FFull, /* 484 entry */
	    0x00000000000401E0ull, /* 485 misc */
	    0x0000000080000021ull, /* 486 */
	    0x00000000FFFFFFFFull, /* 487 */
	    0x0000000000002000ull, /* 488 */
	    0x00000000000467FFull, /* 489 */
	    0x0000000000000034ull, /* 48A */
	    0x0000004100000000ull, /* 48B procbased2: APIC accesses, WBINVD */
	    MSR_ABSENT,		   /* 48C */
	    0x0000003F00000016ull, /* 48D */
	    0xF7F9FFFE04006172ull, /* 48E */
	    0x0003FFFF00036DFBull, /* 48F */
	    0x00003FFF000011FBull, /* 490 */
	    MSR_ABSENT,		   /* 491 */
	},
};

static struct fake_cpu CPU;

static uint64_t *slot(struct fake_cpu *c, uint32_t msr)
{
	assert_in_range(msr, MSR_FIRST, MSR_LAST);
	return &c->vmx[msr - MSR_FIRST];
}

/* Fails the test on any MSR the CPU does not have. */
static uint64_t fake_rdmsr(void *ctx, uint32_t msr)
{
	struct fake_cpu *c = ctx;

	if (msr == MSR_IA32_FEATURE_CONTROL) {
		c->fc_reads++;
		return c->feature_control;
	}
	uint64_t v = *slot(c, msr);

	c->reads[msr - MSR_FIRST]++;
	if (v == MSR_ABSENT)
		fail_msg("read of absent MSR 0x%x (#GP)", msr);
	return v;
}

static struct vmx_msrs read_cpu(const struct fake_cpu *model)
{
	struct vmx_msrs m;

	CPU = *model;
	vmx_msrs_read(&m, fake_rdmsr, &CPU);
	return m;
}

static char WHY[512];

/* ---- reading ---- */

static void test_read_skylake(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	assert_int_equal(CPU.fc_reads, 1);
	for (unsigned i = 0; i < MSR_COUNT; i++)
		assert_int_equal(CPU.reads[i], 1);
	assert_int_equal(m.basic, 0x00D810000000002Bull);
	assert_int_equal(m.true_procbased, 0xF7F9FFFE04006172ull);
	assert_int_equal(m.procbased2, 0x02177FFF00000000ull);
	assert_int_equal(m.ept_vpid_cap, 0x00000F0106334141ull);
	assert_int_equal(m.vmfunc, 1);
	assert_int_equal(m.cr4_fixed1, 0x3727FF);
	assert_int_equal(m.vmcs_enum, 0x34);
}

static void test_read_penryn_skips_absent(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&penryn);

	assert_int_equal(CPU.reads[MSR_IA32_VMX_EPT_VPID_CAP - MSR_FIRST], 0);
	assert_int_equal(CPU.reads[MSR_IA32_VMX_VMFUNC - MSR_FIRST], 0);
	assert_int_equal(CPU.reads[MSR_IA32_VMX_PROCBASED_CTLS2 - MSR_FIRST], 1);
	assert_int_equal(m.ept_vpid_cap, 0);
	assert_int_equal(m.vmfunc, 0);
	assert_int_equal(m.procbased2, 0x0000004100000000ull);
}

static void test_read_legacy_only(void **state)
{
	(void)state;
	struct fake_cpu c = skylake_x;

	/* No TRUE controls, no secondary controls: those MSRs are absent. */
	*slot(&c, MSR_IA32_VMX_BASIC) &= ~VMX_BASIC_TRUE_CTLS;
	*slot(&c, MSR_IA32_VMX_PROCBASED_CTLS) &= ~((uint64_t)VMX_PROC_SECONDARY_CTLS << 32);
	for (uint32_t msr = MSR_IA32_VMX_PROCBASED_CTLS2; msr <= MSR_LAST; msr++)
		*slot(&c, msr) = MSR_ABSENT;
	struct vmx_msrs m = read_cpu(&c);

	assert_int_equal(m.true_pinbased | m.true_procbased | m.true_exit | m.true_entry, 0);
	assert_int_equal(m.procbased2 | m.ept_vpid_cap | m.vmfunc, 0);
	assert_int_equal(m.entry, 0x0000FFFF000011FFull);
}

static void test_read_vpid_without_ept(void **state)
{
	(void)state;
	struct fake_cpu c = skylake_x;

	/* EPT_VPID_CAP exists when either EPT or VPID may be 1. */
	*slot(&c, MSR_IA32_VMX_PROCBASED_CTLS2) &= ~((uint64_t)VMX_PROC2_ENABLE_EPT << 32);
	struct vmx_msrs m = read_cpu(&c);

	assert_int_equal(m.ept_vpid_cap, 0x00000F0106334141ull);
	*slot(&c, MSR_IA32_VMX_PROCBASED_CTLS2) &= ~((uint64_t)VMX_PROC2_ENABLE_VPID << 32);
	*slot(&c, MSR_IA32_VMX_EPT_VPID_CAP) = MSR_ABSENT;
	m = read_cpu(&c);
	assert_int_equal(m.ept_vpid_cap, 0);
}

/* ---- the allowed-0 / allowed-1 rule ---- */

#define CAP(must1, may1) (((uint64_t)(may1) << 32) | (uint32_t)(must1))

static void test_adjust_rules(void **state)
{
	(void)state;
	uint32_t out = 0, missing = 0xdead;
	/* must1: bits 1, 4; may1: bits 0-7. */
	uint64_t cap = CAP(0x12, 0xFF);

	assert_int_equal(vmx_ctl_adjust(cap, 0, 0x01, 0x300 | 0x08, &out, &missing), ST_OK);
	assert_int_equal(missing, 0);
	/* required bit 0, wanted bit 3 kept, wanted bits 8/9 dropped, must-be-1
	 * bits 1 and 4 added although nobody asked. */
	assert_int_equal(out, 0x01 | 0x08 | 0x12);
	assert_int_equal(vmx_ctl_adjust(cap, 0, 0, 0, &out, NULL), ST_OK);
	assert_int_equal(out, 0x12);
}

static void test_adjust_required_missing(void **state)
{
	(void)state;
	uint32_t out = 0x5555, missing = 0;

	assert_int_equal(vmx_ctl_adjust(CAP(0, 0x0F), 0, 0x31, 0, &out, &missing), ST_ENOTSUP);
	assert_int_equal(missing, 0x30);
	assert_int_equal(out, 0x5555); /* untouched */
	assert_int_equal(vmx_ctl_adjust(CAP(0, 0x0F), 0, 0x31, 0, &out, NULL), ST_ENOTSUP);
}

static void test_adjust_inconsistent_cap(void **state)
{
	(void)state;
	uint32_t out;

	/* A bit that must be 1 but may not be 1. */
	assert_int_equal(vmx_ctl_adjust(CAP(0x4, 0x3), 0, 0, 0, &out, NULL), ST_EINVAL);
}

static void test_adjust_default1_unknown(void **state)
{
	(void)state;
	uint32_t out;

	/* Flexible default1 bits Keel does not know become 1, fixed-0 ones
	 * stay 0. */
	assert_int_equal(vmx_ctl_adjust(CAP(0, 0x06), 0x0E, 0, 0, &out, NULL), ST_OK);
	assert_int_equal(out, 0x06);
}

static void test_true_vs_legacy(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	uint32_t out;

	/* TRUE MSR: CR3-load/store exiting (default1 class, but known) may be
	 * 0 and are 0; save/load debug controls too. */
	assert_int_equal(vmx_ctl_cap(&m, VMX_CTL_PROC), m.true_procbased);
	assert_int_equal(vmx_ctl_resolve(&m, VMX_CTL_PROC, VMX_PROC_HLT_EXITING, 0, &out, NULL),
			 ST_OK);
	assert_int_equal(out & (VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING), 0);
	assert_int_equal(out, 0x04006172u | VMX_PROC_HLT_EXITING);
	assert_int_equal(vmx_ctl_resolve(&m, VMX_CTL_EXIT, 0, 0, &out, NULL), ST_OK);
	assert_int_equal(out & VMX_EXIT_CTL_SAVE_DEBUG, 0);

	/* Legacy MSRs (bit 55 clear): the default1 bits are must-be-1. */
	m.basic &= ~VMX_BASIC_TRUE_CTLS;
	assert_int_equal(vmx_ctl_cap(&m, VMX_CTL_PROC), m.procbased);
	assert_int_equal(vmx_ctl_resolve(&m, VMX_CTL_PROC, VMX_PROC_HLT_EXITING, 0, &out, NULL),
			 ST_OK);
	assert_int_equal(out, VMX_PROC_DEFAULT1 | VMX_PROC_HLT_EXITING);
	assert_int_equal(vmx_ctl_resolve(&m, VMX_CTL_EXIT, 0, 0, &out, NULL), ST_OK);
	assert_int_equal(out, VMX_EXIT_CTL_DEFAULT1);
}

static void test_true_default1_unknown_set(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	uint32_t out;

	/* A TRUE MSR that lets default1 bits 1 (unknown) and 15 (CR3-load
	 * exiting, known) be 0: the unknown one is still set, the known one
	 * follows Keel's wish. */
	m.true_procbased &= ~(uint64_t)((1u << 1) | VMX_PROC_CR3_LOAD_EXITING);
	assert_int_equal(vmx_ctl_resolve(&m, VMX_CTL_PROC, 0, 0, &out, NULL), ST_OK);
	assert_true(out & (1u << 1));
	assert_false(out & VMX_PROC_CR3_LOAD_EXITING);
	assert_int_equal(
	    vmx_ctl_resolve(&m, VMX_CTL_PROC, 0, VMX_PROC_CR3_LOAD_EXITING, &out, NULL), ST_OK);
	assert_true(out & VMX_PROC_CR3_LOAD_EXITING);
}

static void test_proc2_needs_secondary(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	uint32_t out, missing;

	m.procbased &= ~((uint64_t)VMX_PROC_SECONDARY_CTLS << 32);
	assert_int_equal(vmx_ctl_cap(&m, VMX_CTL_PROC2), 0);
	assert_int_equal(
	    vmx_ctl_resolve(&m, VMX_CTL_PROC2, VMX_PROC2_ENABLE_EPT, 0, &out, &missing),
	    ST_ENOTSUP);
	assert_int_equal(missing, VMX_PROC2_ENABLE_EPT);
	assert_int_equal(vmx_ctl_resolve(&m, (enum vmx_ctl_kind)99, 0, 0, &out, NULL), ST_EINVAL);
}

static void test_flexible(void **state)
{
	(void)state;
	assert_true(vmx_ctl_flexible(CAP(0x1, 0x7), 0x6));
	assert_false(vmx_ctl_flexible(CAP(0x1, 0x7), 0x1)); /* must be 1 */
	assert_false(vmx_ctl_flexible(CAP(0x1, 0x7), 0x8)); /* must be 0 */
}

/* ---- names ---- */

static void test_bit_names(void **state)
{
	(void)state;
	int n;

	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 1), "enable EPT");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 7), "unrestricted guest");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_EXIT, 15), "acknowledge interrupt on exit");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_ENTRY, 9), "IA-32e mode guest");
	assert_null(vmx_ctl_bit_name(VMX_CTL_PIN, 1));
	assert_null(vmx_ctl_bit_name(VMX_CTL_PIN, 32));
	assert_null(vmx_ctl_bit_name((enum vmx_ctl_kind)7, 0));
	n = vmx_ctl_bits_str(VMX_CTL_PROC2,
			     VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST | (1u << 21), WHY,
			     sizeof(WHY));
	assert_string_equal(WHY, "enable EPT, unrestricted guest, bit 21");
	assert_int_equal(n, (int)strlen(WHY));
	/* A short buffer is cut, NUL-terminated, and the full length returned. */
	char small[8];

	assert_int_equal(
	    vmx_ctl_bits_str(VMX_CTL_PROC2, VMX_PROC2_ENABLE_EPT, small, sizeof(small)), 10);
	assert_string_equal(small, "enable ");
	assert_int_equal(vmx_ctl_bits_str(VMX_CTL_PROC2, 0, WHY, sizeof(WHY)), 0);
	assert_string_equal(WHY, "");
	assert_string_equal(vmx_ctl_kind_name(VMX_CTL_ENTRY), "VM-entry controls");
}

static void test_known_and_default1(void **state)
{
	(void)state;
	assert_int_equal(vmx_ctl_default1(VMX_CTL_PIN), 0x16);
	assert_int_equal(vmx_ctl_default1(VMX_CTL_PROC), 0x0401E172);
	assert_int_equal(vmx_ctl_default1(VMX_CTL_PROC2), 0);
	assert_int_equal(vmx_ctl_default1(VMX_CTL_EXIT), 0x00036DFF);
	assert_int_equal(vmx_ctl_default1(VMX_CTL_ENTRY), 0x000011FF);
	assert_int_equal(vmx_ctl_known(VMX_CTL_PIN), 0xE9);
	/* The only known default1 bits are the CR3 and debug-control ones. */
	assert_int_equal(vmx_ctl_known(VMX_CTL_PROC) & VMX_PROC_DEFAULT1,
			 VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING);
	assert_int_equal(vmx_ctl_known(VMX_CTL_EXIT) & VMX_EXIT_CTL_DEFAULT1,
			 VMX_EXIT_CTL_SAVE_DEBUG);
	assert_int_equal(vmx_ctl_known(VMX_CTL_ENTRY) & VMX_ENTRY_CTL_DEFAULT1,
			 VMX_ENTRY_CTL_LOAD_DEBUG);
}

/* ---- Keel's policy ---- */

static void test_ctls_resolve_skylake(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_ctls c;

	assert_int_equal(vmx_ctls_resolve(&m, &vmx_keel_policy, &c, WHY, sizeof(WHY)), ST_OK);
	assert_int_equal(c.pin, 0x16 | VMX_PIN_EXTINT_EXITING | VMX_PIN_NMI_EXITING |
				    VMX_PIN_VIRTUAL_NMIS | VMX_PIN_PREEMPTION_TIMER);
	assert_int_equal(c.proc, 0x04006172u | VMX_PROC_HLT_EXITING | VMX_PROC_MWAIT_EXITING |
				     VMX_PROC_CR8_LOAD_EXITING | VMX_PROC_CR8_STORE_EXITING |
				     VMX_PROC_USE_IO_BITMAPS | VMX_PROC_USE_MSR_BITMAPS |
				     VMX_PROC_MONITOR_EXITING | VMX_PROC_SECONDARY_CTLS);
	assert_int_equal(c.proc2, VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST |
				      VMX_PROC2_ENABLE_VPID | VMX_PROC2_ENABLE_RDTSCP |
				      VMX_PROC2_ENABLE_INVPCID | VMX_PROC2_ENABLE_XSAVES |
				      VMX_PROC2_WBINVD_EXITING);
	assert_int_equal(c.exit, 0x00036DFBu | VMX_EXIT_CTL_SAVE_DEBUG | VMX_EXIT_CTL_HOST_ADDR64 |
				     VMX_EXIT_CTL_SAVE_PAT | VMX_EXIT_CTL_LOAD_PAT |
				     VMX_EXIT_CTL_SAVE_EFER | VMX_EXIT_CTL_LOAD_EFER);
	assert_int_equal(c.entry, 0x000011FBu | VMX_ENTRY_CTL_LOAD_DEBUG | VMX_ENTRY_CTL_LOAD_PAT |
				      VMX_ENTRY_CTL_LOAD_EFER);
	/* Toggled bits are left 0 for the backend to switch. */
	assert_false(c.proc & VMX_PROC_INTR_WINDOW_EXITING);
	assert_false(c.entry & VMX_ENTRY_CTL_IA32E_GUEST);
	assert_false(c.exit & VMX_EXIT_CTL_ACK_INTR);
}

static void test_ctls_missing_named(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_ctls c = {.pin = 0x1234};

	m.true_exit &= ~((uint64_t)VMX_EXIT_CTL_LOAD_EFER << 32);
	assert_int_equal(vmx_ctls_resolve(&m, &vmx_keel_policy, &c, WHY, sizeof(WHY)), ST_ENOTSUP);
	assert_string_equal(WHY, "VT-x lacks required VM-exit controls: load IA32_EFER");
	assert_int_equal(c.pin, 0x1234);
	assert_int_equal(vmx_ctls_resolve(&m, &vmx_keel_policy, &c, NULL, 0), ST_ENOTSUP);
}

static void test_ctls_toggled_fixed(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_ctls c;

	/* Interrupt-window exiting forced to 1: the backend could not clear it. */
	m.true_procbased |= VMX_PROC_INTR_WINDOW_EXITING;
	assert_int_equal(vmx_ctls_resolve(&m, &vmx_keel_policy, &c, WHY, sizeof(WHY)), ST_ENOTSUP);
	assert_string_equal(WHY, "VT-x cannot switch primary processor-based controls: "
				 "interrupt-window exiting");
	/* IA-32e mode guest not allowed at all. */
	m = read_cpu(&skylake_x);
	m.true_entry &= ~((uint64_t)VMX_ENTRY_CTL_IA32E_GUEST << 32);
	assert_int_equal(vmx_ctls_resolve(&m, &vmx_keel_policy, &c, WHY, sizeof(WHY)), ST_ENOTSUP);
	assert_non_null(strstr(WHY, "IA-32e mode guest"));
}

static void test_ctls_inconsistent(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_ctls c;

	m.true_pinbased = CAP(0x80000016, 0x7F);
	assert_int_equal(vmx_ctls_resolve(&m, &vmx_keel_policy, &c, WHY, sizeof(WHY)), ST_EINVAL);
	assert_non_null(strstr(WHY, "inconsistent pin-based controls"));
}

/* ---- CR0 / CR4 ---- */

static void test_cr_fixed(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	/* Reset CR0 (CD|NW|ET): NE, PE, PG forced on, unless unrestricted. */
	assert_int_equal(vmx_cr0_apply_fixed(&m, 0x60000010, false), 0xE0000031);
	assert_int_equal(vmx_cr0_apply_fixed(&m, 0x60000010, true), 0x60000030);
	assert_int_equal(vmx_cr0_bad_bits(&m, 0x60000010, false), 0x80000021);
	assert_int_equal(vmx_cr0_bad_bits(&m, 0x60000010, true), VMX_CR0_NE);
	assert_int_equal(vmx_cr0_bad_bits(&m, 0x60000030, true), 0);
	/* Bits above 31 are 0 in FIXED1: never allowed. */
	assert_int_equal(vmx_cr0_bad_bits(&m, 0x80000031ull | (1ull << 40), false), 1ull << 40);
	assert_int_equal(vmx_cr0_apply_fixed(&m, 1ull << 40, true), VMX_CR0_NE);
	/* CR4: VMXE forced on; LA57 (bit 12) and PKE (bit 22) not allowed. */
	assert_int_equal(vmx_cr4_apply_fixed(&m, 0x20), 0x2020);
	assert_int_equal(vmx_cr4_apply_fixed(&m, 0x20 | (1u << 12) | (1u << 22)), 0x2020);
	assert_int_equal(vmx_cr4_bad_bits(&m, 0x20), VMX_CR4_VMXE);
	assert_int_equal(vmx_cr4_bad_bits(&m, 0x2020 | (1u << 12)), 1u << 12);
	assert_int_equal(vmx_cr4_bad_bits(&m, 0x3727FF), 0);
}

/* ---- features ---- */

static void test_features_skylake(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_features f;

	vmx_features_parse(&m, &f);
	assert_int_equal(f.revision, 0x2b);
	assert_int_equal(f.vmcs_size, 4096);
	assert_int_equal(f.vmcs_memtype, VMX_MEMTYPE_WB);
	assert_true(f.true_ctls && f.ins_outs_info && !f.pa32_only);
	assert_true(f.fc_locked && f.fc_vmxon_outside_smx);
	assert_true(f.secondary && f.ept && f.unrestricted && f.vpid && f.vmfunc);
	assert_true(f.rdtscp && f.invpcid && f.xsaves);
	assert_true(f.ept_exec_only && f.ept_walk4 && f.ept_uc && f.ept_wb);
	assert_true(f.ept_2m && f.ept_1g && f.ept_ad);
	assert_true(f.invept && f.invept_single && f.invept_all);
	assert_true(f.invvpid && f.invvpid_addr && f.invvpid_single && f.invvpid_all &&
		    f.invvpid_single_globals);
	assert_true(f.virtual_nmis && f.preemption_timer && f.tpr_shadow && f.msr_bitmaps);
	assert_true(f.io_bitmaps && !f.mtf); /* Bochs offers no monitor trap flag */
	assert_true(f.ack_intr_on_exit && f.save_efer && f.load_efer_exit && f.load_efer_entry);
	assert_true(f.save_pat && f.load_pat_exit && f.load_pat_entry && f.ia32e_guest);
	assert_int_equal(f.preemption_rate, 0);
	assert_true(f.act_hlt && f.act_shutdown && f.act_wait_sipi);
	assert_int_equal(f.cr3_targets, 4);
	assert_int_equal(f.max_msr_list, 512);
}

static void test_features_penryn(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&penryn);
	struct vmx_features f;

	vmx_features_parse(&m, &f);
	assert_true(f.secondary && !f.ept && !f.unrestricted && !f.vpid);
	assert_false(f.ept_wb || f.ept_walk4 || f.invept || f.invvpid);
	assert_true(f.virtual_nmis && !f.preemption_timer);
	assert_true(f.ack_intr_on_exit && !f.save_efer && !f.load_efer_entry && !f.load_pat_entry);
	assert_true(f.ia32e_guest);
}

static void test_features_cap_ignored_without_control(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_features f;

	/* VPID allowed but EPT not: EPT bits of the shared MSR mean nothing. */
	m.procbased2 &= ~((uint64_t)VMX_PROC2_ENABLE_EPT << 32);
	vmx_features_parse(&m, &f);
	assert_false(f.ept || f.ept_wb || f.invept || f.invept_all);
	assert_true(f.vpid && f.invvpid_all);
}

static void test_describe(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);
	struct vmx_features f;

	vmx_features_parse(&m, &f);
	int n = vmx_features_describe(&f, WHY, sizeof(WHY));

	assert_int_equal(n, (int)strlen(WHY));
	assert_non_null(strstr(WHY, "VMCS revision 0x2b (4096 bytes)"));
	assert_non_null(strstr(WHY, "EPT (4-level yes, WB yes, 2M yes, 1G yes, A/D yes, "
				    "INVEPT single all)"));
	assert_non_null(strstr(WHY, "unrestricted guest yes; VPID yes"));
	assert_non_null(strstr(WHY, "preemption timer yes (TSC/1)"));
	m = read_cpu(&penryn);
	vmx_features_parse(&m, &f);
	vmx_features_describe(&f, WHY, sizeof(WHY));
	assert_non_null(strstr(WHY, "no EPT; unrestricted guest no"));
}

/* ---- usable? ---- */

static void assert_unusable(const struct vmx_msrs *m, const char *expect)
{
	WHY[0] = '\0';
	assert_false(vmx_usable(m, WHY, sizeof(WHY)));
	if (!strstr(WHY, expect))
		fail_msg("\"%s\" does not contain \"%s\"", WHY, expect);
}

static void test_usable_skylake(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	assert_true(vmx_usable(&m, WHY, sizeof(WHY)));
	assert_string_equal(WHY, "VT-x with EPT and unrestricted guest is usable");
	assert_true(vmx_usable(&m, NULL, 0));
	/* An unlocked IA32_FEATURE_CONTROL is fine: the backend locks it. */
	m.feature_control = 0;
	assert_true(vmx_usable(&m, NULL, 0));
}

static void test_usable_penryn(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&penryn);

	assert_unusable(&m, "VT-x without EPT (extended page tables) is not supported");
}

static void test_unusable_firmware(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	m.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_IN_SMX;
	assert_unusable(&m, "disabled by the firmware");
}

static void test_unusable_basic(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	m.basic &= ~VMX_BASIC_MEMTYPE_MASK; /* UC */
	assert_unusable(&m, "uncached");
	m = read_cpu(&skylake_x);
	m.basic |= VMX_BASIC_PA32;
	assert_unusable(&m, "32 bits");
	m = read_cpu(&skylake_x);
	m.basic = (m.basic & ~VMX_BASIC_SIZE_MASK) | (6000ull << VMX_BASIC_SIZE_SHIFT);
	assert_unusable(&m, "VMCS region of 6000 bytes");
}

static void test_unusable_no_secondary(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	m.procbased &= ~((uint64_t)VMX_PROC_SECONDARY_CTLS << 32);
	m.true_procbased &= ~((uint64_t)VMX_PROC_SECONDARY_CTLS << 32);
	assert_unusable(&m, "without secondary controls");
}

static void test_unusable_no_unrestricted(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	/* Like a first-generation EPT CPU (Nehalem): EPT, no unrestricted. */
	m.procbased2 &= ~((uint64_t)VMX_PROC2_UNRESTRICTED_GUEST << 32);
	assert_unusable(&m, "without unrestricted guest");
}

static void test_unusable_ept_caps(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	m.ept_vpid_cap &= ~VMX_EPT_CAP_WALK4;
	assert_unusable(&m, "4-level page walk");
	m = read_cpu(&skylake_x);
	m.ept_vpid_cap &= ~VMX_EPT_CAP_WB;
	assert_unusable(&m, "no WB EPT type");
	m = read_cpu(&skylake_x);
	m.ept_vpid_cap &= ~VMX_EPT_CAP_INVEPT;
	assert_unusable(&m, "without INVEPT");
	m = read_cpu(&skylake_x);
	m.ept_vpid_cap &= ~(VMX_EPT_CAP_INVEPT_SINGLE | VMX_EPT_CAP_INVEPT_ALL);
	assert_unusable(&m, "without INVEPT");
	/* One INVEPT type is enough. */
	m = read_cpu(&skylake_x);
	m.ept_vpid_cap &= ~VMX_EPT_CAP_INVEPT_SINGLE;
	assert_true(vmx_usable(&m, NULL, 0));
}

static void test_unusable_policy(void **state)
{
	(void)state;
	struct vmx_msrs m = read_cpu(&skylake_x);

	m.true_procbased &= ~((uint64_t)(VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_HLT_EXITING) << 32);
	assert_unusable(&m, "VT-x lacks required primary processor-based controls: HLT exiting, "
			    "use MSR bitmaps");
	/* Wanted bits may be missing. */
	m = read_cpu(&skylake_x);
	m.procbased2 &= ~((uint64_t)(VMX_PROC2_ENABLE_VPID | VMX_PROC2_ENABLE_XSAVES) << 32);
	m.true_pinbased &= ~((uint64_t)VMX_PIN_VIRTUAL_NMIS << 32);
	assert_true(vmx_usable(&m, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_skylake),
	    cmocka_unit_test(test_read_penryn_skips_absent),
	    cmocka_unit_test(test_read_legacy_only),
	    cmocka_unit_test(test_read_vpid_without_ept),
	    cmocka_unit_test(test_adjust_rules),
	    cmocka_unit_test(test_adjust_required_missing),
	    cmocka_unit_test(test_adjust_inconsistent_cap),
	    cmocka_unit_test(test_adjust_default1_unknown),
	    cmocka_unit_test(test_true_vs_legacy),
	    cmocka_unit_test(test_true_default1_unknown_set),
	    cmocka_unit_test(test_proc2_needs_secondary),
	    cmocka_unit_test(test_flexible),
	    cmocka_unit_test(test_bit_names),
	    cmocka_unit_test(test_known_and_default1),
	    cmocka_unit_test(test_ctls_resolve_skylake),
	    cmocka_unit_test(test_ctls_missing_named),
	    cmocka_unit_test(test_ctls_toggled_fixed),
	    cmocka_unit_test(test_ctls_inconsistent),
	    cmocka_unit_test(test_cr_fixed),
	    cmocka_unit_test(test_features_skylake),
	    cmocka_unit_test(test_features_penryn),
	    cmocka_unit_test(test_features_cap_ignored_without_control),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_usable_skylake),
	    cmocka_unit_test(test_usable_penryn),
	    cmocka_unit_test(test_unusable_firmware),
	    cmocka_unit_test(test_unusable_basic),
	    cmocka_unit_test(test_unusable_no_secondary),
	    cmocka_unit_test(test_unusable_no_unrestricted),
	    cmocka_unit_test(test_unusable_ept_caps),
	    cmocka_unit_test(test_unusable_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
