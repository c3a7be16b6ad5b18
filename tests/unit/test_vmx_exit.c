/* Unit tests for VMX exit decoding into struct vm_exit. The rule that
 * matters most: the VM-exit instruction length is used only for instruction
 * exits; on EPT violations it is undefined on hardware (Bochs fills it in),
 * so a decoded MMIO exit never claims to know where the instruction ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"

#define RIP 0x100000ull

static struct vm_exit decode(struct vmx_exit_raw raw)
{
	struct vm_exit e;

	raw.rip = RIP;
	vmx_decode_exit(&raw, &e);
	return e;
}

static void test_ept_violation_ignores_insn_len(void **state)
{
	/* a write, the EPT allowed nothing, guest-linear address valid and
	 * the access was the translation's (not a paging-structure walk) */
	struct vmx_exit_raw raw = {.reason = VMX_EXIT_EPT_VIOLATION,
				   .qual =
				       VMX_EPTQ_WRITE | VMX_EPTQ_GLA_VALID | VMX_EPTQ_TRANSLATION,
				   .insn_len = 3, /* what Bochs writes; hardware leaves junk */
				   .gpa = 0xFEB00040};
	struct vm_exit e = decode(raw);

	(void)state;
	assert_int_equal(e.reason, VMEXIT_MMIO);
	assert_false(e.next_rip_known);
	assert_int_equal(e.next_rip, 0);
	assert_int_equal(e.mmio.gpa, 0xFEB00040);
	assert_true(e.mmio.write);
	assert_false(e.mmio.fetch);
	assert_false(e.mmio.walk);
	/* the guest's own page walk touched it: not an instruction's access */
	raw.qual = VMX_EPTQ_READ | VMX_EPTQ_GLA_VALID;
	e = decode(raw);
	assert_true(e.mmio.walk);
	assert_false(e.next_rip_known);
}

static void test_instruction_exits_use_insn_len(void **state)
{
	static const struct {
		uint32_t reason;
		enum vm_exit_reason kind;
	} rows[] = {
	    {VMX_EXIT_CPUID, VMEXIT_CPUID},	 {VMX_EXIT_HLT, VMEXIT_HLT},
	    {VMX_EXIT_VMCALL, VMEXIT_HYPERCALL}, {VMX_EXIT_XSETBV, VMEXIT_XSETBV},
	    {VMX_EXIT_RDMSR, VMEXIT_MSR_READ},	 {VMX_EXIT_WRMSR, VMEXIT_MSR_WRITE},
	    {VMX_EXIT_WBINVD, VMEXIT_NOP},	 {VMX_EXIT_VMXON, VMEXIT_UD},
	    {VMX_EXIT_VMLAUNCH, VMEXIT_UD},	 {VMX_EXIT_INVEPT, VMEXIT_UD},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vm_exit e = decode((struct vmx_exit_raw){
		    .reason = rows[i].reason, .insn_len = 3, .rcx = 0xC0000080});
		assert_int_equal(e.reason, rows[i].kind);
		assert_true(e.next_rip_known);
		assert_int_equal(e.next_rip, RIP + 3);
	}
	assert_int_equal(
	    decode((struct vmx_exit_raw){.reason = VMX_EXIT_RDMSR, .rcx = 0x1B}).msr.index, 0x1B);
}

static void test_io(void **state)
{
	struct vm_exit e = decode((struct vmx_exit_raw){.reason = VMX_EXIT_IO,
							.qual = (0x3F8ull << VMX_IOQ_PORT_SHIFT) |
								VMX_IOQ_SIZE_4 | VMX_IOQ_IN,
							.insn_len = 1});

	(void)state;
	assert_int_equal(e.reason, VMEXIT_IO);
	assert_int_equal(e.io.port, 0x3F8);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.in);
	assert_false(e.io.string);
	assert_int_equal(e.next_rip, RIP + 1);
	e = decode((struct vmx_exit_raw){.reason = VMX_EXIT_IO,
					 .qual = (0x520ull << VMX_IOQ_PORT_SHIFT) | VMX_IOQ_SIZE_1 |
						 VMX_IOQ_STRING | VMX_IOQ_REP,
					 .insn_len = 2});
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
}

static void test_cr_access(void **state)
{
	struct vm_exit e = decode((struct vmx_exit_raw){
	    .reason = VMX_EXIT_CR_ACCESS,
	    .qual = 0 | (VMX_CRQ_TYPE_MOV_TO_CR << VMX_CRQ_TYPE_SHIFT) | (3u << VMX_CRQ_GPR_SHIFT),
	    .insn_len = 3});

	(void)state;
	assert_int_equal(e.reason, VMEXIT_CR_ACCESS);
	assert_int_equal(e.cr.cr, 0);
	assert_int_equal(e.cr.gpr, 3);
	assert_true(e.cr.write);
	e = decode((struct vmx_exit_raw){.reason = VMX_EXIT_CR_ACCESS,
					 .qual = 8 |
						 (VMX_CRQ_TYPE_MOV_FROM_CR << VMX_CRQ_TYPE_SHIFT) |
						 (15u << VMX_CRQ_GPR_SHIFT)});
	assert_int_equal(e.cr.cr, 8);
	assert_int_equal(e.cr.gpr, 15);
	assert_false(e.cr.write);
	/* LMSW never exits with Keel's masks: treated as unexpected */
	e = decode((struct vmx_exit_raw){.reason = VMX_EXIT_CR_ACCESS,
					 .qual = VMX_CRQ_TYPE_LMSW << VMX_CRQ_TYPE_SHIFT});
	assert_int_equal(e.reason, VMEXIT_UNKNOWN);
}

static void test_events(void **state)
{
	/* an external interrupt was being delivered through the IDT */
	struct vm_exit e = decode((struct vmx_exit_raw){
	    .reason = VMX_EXIT_EPT_VIOLATION,
	    .idt_info = VMX_INTR_VALID | (VMX_INTR_TYPE_EXTINT << VMX_INTR_TYPE_SHIFT) | 0x41});

	(void)state;
	assert_int_equal(e.vectoring.type, GEV_EXTINT);
	assert_int_equal(e.vectoring.vector, 0x41);
	assert_false(e.vectoring.has_error);
	/* a #PF with its error code */
	e = decode((struct vmx_exit_raw){
	    .reason = VMX_EXIT_EPT_VIOLATION,
	    .idt_info = VMX_INTR_VALID | VMX_INTR_ERROR_VALID |
			(VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_TYPE_SHIFT) | 14,
	    .idt_error = 0x6});
	assert_int_equal(e.vectoring.type, GEV_EXCEPTION);
	assert_int_equal(e.vectoring.error, 6);
	assert_true(e.vectoring.has_error);
	/* INT3 being delivered keeps its length for re-injection */
	e = decode((struct vmx_exit_raw){
	    .reason = VMX_EXIT_EPT_VIOLATION,
	    .idt_info = VMX_INTR_VALID | (VMX_INTR_TYPE_SW_EXCEPTION << VMX_INTR_TYPE_SHIFT) | 3,
	    .insn_len = 1});
	assert_int_equal(e.vectoring.type, GEV_SOFTEXC);
	assert_int_equal(e.vectoring.insn_len, 1);
	/* NMI exits are NMIs, not guest exceptions */
	e = decode((struct vmx_exit_raw){
	    .reason = VMX_EXIT_EXCEPTION_NMI,
	    .intr_info = VMX_INTR_VALID | (VMX_INTR_TYPE_NMI << VMX_INTR_TYPE_SHIFT) | 2});
	assert_int_equal(e.reason, VMEXIT_NMI);
	assert_int_equal(vmx_intr_type(vmx_event_type(VMX_INTR_TYPE_SW_INTR)),
			 VMX_INTR_TYPE_SW_INTR);
}

static void test_entry_failure_and_others(void **state)
{
	(void)state;
	assert_int_equal(decode((struct vmx_exit_raw){.reason = VMX_EXIT_REASON_ENTRY_FAIL |
								VMX_EXIT_INVALID_GUEST_STATE})
			     .reason,
			 VMEXIT_INVALID_STATE);
	assert_int_equal(decode((struct vmx_exit_raw){.reason = VMX_EXIT_TRIPLE_FAULT}).reason,
			 VMEXIT_SHUTDOWN);
	assert_int_equal(decode((struct vmx_exit_raw){.reason = VMX_EXIT_EXTINT}).reason,
			 VMEXIT_EXTINT);
	assert_int_equal(decode((struct vmx_exit_raw){.reason = VMX_EXIT_INTR_WINDOW}).reason,
			 VMEXIT_IRQ_WINDOW);
	assert_int_equal(decode((struct vmx_exit_raw){.reason = VMX_EXIT_EPT_MISCONFIG}).reason,
			 VMEXIT_UNKNOWN);
	assert_false(
	    decode((struct vmx_exit_raw){.reason = VMX_EXIT_EXTINT, .insn_len = 2}).next_rip_known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ept_violation_ignores_insn_len),
	    cmocka_unit_test(test_instruction_exits_use_insn_len),
	    cmocka_unit_test(test_io),
	    cmocka_unit_test(test_cr_access),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_entry_failure_and_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
