/* Unit tests for the MOV-to-CR0/CR4 #GP rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/cr_rules.h"

#define CR4_OSFXSR (1ull << 9)
#define ALLOWED (CR4_PAE | CR4_OSFXSR | CR4_PCIDE | (1ull << 7))

static struct cr_state prot32(void)
{
	return (struct cr_state){.cr0 = CR0_PE | CR0_ET, .cr4_allowed = ALLOWED};
}

static struct cr_state long64(void)
{
	return (struct cr_state){.cr0 = CR0_PE | CR0_ET | CR0_PG,
				 .cr4 = CR4_PAE,
				 .efer = EFER_LME | EFER_LMA,
				 .cs_long = true,
				 .cr4_allowed = ALLOWED};
}

static void test_cr0(void **state)
{
	struct cr_state s = prot32();
	(void)state;
	assert_false(cr0_write_faults(&s, CR0_PE | CR0_NE | CR0_WP));
	assert_true(cr0_write_faults(&s, CR0_PE | (1ull << 32))); /* reserved high bits */
	assert_true(cr0_write_faults(&s, CR0_PG));		  /* paging without protection */
	assert_true(cr0_write_faults(&s, CR0_PE | CR0_NW));	  /* NW without CD */
	assert_false(cr0_write_faults(&s, CR0_PE | CR0_NW | CR0_CD));
	assert_false(cr0_write_faults(&s, 0)); /* back to real mode is fine */
	/* long-mode activation needs PAE */
	s.efer = EFER_LME;
	assert_true(cr0_write_faults(&s, CR0_PE | CR0_PG));
	s.cr4 = CR4_PAE;
	assert_false(cr0_write_faults(&s, CR0_PE | CR0_PG));
}

static void test_cr0_leaving_long_mode(void **state)
{
	struct cr_state s = long64();
	(void)state;
	assert_true(cr0_write_faults(&s, CR0_PE));
	s.cs_long = false; /* compatibility mode may turn paging off */
	assert_false(cr0_write_faults(&s, CR0_PE));
	s.cs_long = true;
	assert_false(cr0_write_faults(&s, s.cr0 | CR0_WP)); /* other bits: fine */
}

static void test_cr4(void **state)
{
	struct cr_state s = prot32();
	(void)state;
	assert_false(cr4_write_faults(&s, CR4_PAE | CR4_OSFXSR));
	assert_true(cr4_write_faults(&s, CR4_VMXE));  /* not offered to guests */
	assert_true(cr4_write_faults(&s, CR4_PCIDE)); /* PCIDE outside long mode */
	s = long64();
	assert_true(cr4_write_faults(&s, CR4_OSFXSR)); /* PAE cleared in long mode */
	assert_false(cr4_write_faults(&s, CR4_PAE | CR4_PCIDE));
	s.cr3 = 0x1000 | 5; /* PCID field not 0 */
	assert_true(cr4_write_faults(&s, CR4_PAE | CR4_PCIDE));
	s.cr4_allowed |= CR4_LA57;
	assert_true(cr4_write_faults(&s, CR4_PAE | CR4_LA57)); /* LA57 changes only outside */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cr0),
	    cmocka_unit_test(test_cr0_leaving_long_mode),
	    cmocka_unit_test(test_cr4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
