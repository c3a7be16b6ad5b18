/* Unit tests for per-CPU ASID/VPID assignment with generations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/asid.h"

static void test_keeps_tag_on_same_cpu(void **state)
{
	struct asid_cpu c;
	struct asid_vcpu v = {0};

	(void)state;
	asid_cpu_init(&c, 1, 16);
	assert_false(asid_assign(&c, 0, &v));
	assert_int_equal(v.asid, 1);
	for (int i = 0; i < 100; i++)
		assert_false(asid_assign(&c, 0, &v));
	assert_int_equal(v.asid, 1);
	assert_int_equal(c.next, 2);
}

static void test_distinct_tags_per_vcpu(void **state)
{
	struct asid_cpu c;
	struct asid_vcpu v[5] = {0};

	(void)state;
	asid_cpu_init(&c, 1, 16);
	for (int i = 0; i < 5; i++)
		assert_false(asid_assign(&c, 3, &v[i]));
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			assert_int_not_equal(v[i].asid, v[j].asid);
}

static void test_migration_gets_new_tag(void **state)
{
	struct asid_cpu c0, c1;
	struct asid_vcpu a = {0}, b = {0};

	(void)state;
	asid_cpu_init(&c0, 1, 16);
	asid_cpu_init(&c1, 1, 16);
	asid_assign(&c0, 0, &a); /* a: tag 1 on CPU 0 */
	asid_assign(&c1, 1, &b); /* b: tag 1 on CPU 1 */
	asid_assign(&c1, 1, &a); /* a moves to CPU 1: must not share b's tag */
	assert_int_not_equal(a.asid, b.asid);
	assert_int_equal(a.cpu, 1);
	/* back to CPU 0: its old tag may hold stale entries of a's old run, but
	 * they are a's own; a fresh tag is still given, never b's */
	asid_assign(&c0, 0, &a);
	assert_int_equal(a.cpu, 0);
	assert_int_equal(a.asid, 2);
}

static void test_rollover_flushes_once(void **state)
{
	struct asid_cpu c;
	struct asid_vcpu v[4] = {0};

	(void)state;
	asid_cpu_init(&c, 1, 4); /* tags 1, 2, 3 */
	for (int i = 0; i < 3; i++)
		assert_false(asid_assign(&c, 0, &v[i]));
	assert_true(asid_assign(&c, 0, &v[3])); /* out of tags: new generation */
	assert_int_equal(v[3].asid, 1);
	/* the old vCPUs are from the previous generation: new tags, no flush */
	assert_false(asid_assign(&c, 0, &v[0]));
	assert_int_equal(v[0].asid, 2);
	assert_false(asid_assign(&c, 0, &v[3]));
	assert_int_equal(v[3].asid, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keeps_tag_on_same_cpu),
	    cmocka_unit_test(test_distinct_tags_per_vcpu),
	    cmocka_unit_test(test_migration_gets_new_tag),
	    cmocka_unit_test(test_rollover_flushes_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
