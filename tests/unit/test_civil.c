/* Unit tests for RTC calendar arithmetic: days since 1970 across leap
 * years, the 2100 non-leap century and month ends. Expected values computed
 * independently (Python's datetime). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/rtc/civil.h"

static void test_days(void **state)
{
	(void)state;
	assert_int_equal(civil_days(1970, 1, 1), 0);
	assert_int_equal(civil_days(2000, 1, 1), 10957);
	assert_int_equal(civil_days(2024, 2, 29), 19782);
	assert_int_equal(civil_days(2024, 3, 1), 19783);
	assert_int_equal(civil_days(2026, 12, 1), 20788);
	assert_int_equal(civil_days(2099, 12, 31), 47481);
	assert_int_equal(civil_days(2100, 3, 1), 47541); /* 2100 is not a leap year */
	assert_int_equal(civil_days(2100, 2, 28) + 1, civil_days(2100, 3, 1));
	assert_int_equal(civil_days(2024, 13, 1), civil_days(2024, 1, 1)); /* bad month */
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_days)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
