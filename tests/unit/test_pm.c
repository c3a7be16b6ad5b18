/* Unit tests for the PM1 blocks, the SCI, sleep requests and the reset
 * paths (0xCF9, 8042). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/pm.h"

struct rec {
	int sleeps, resets, sci_changes;
	unsigned last_typ;
	bool sci;
};

static struct rec R;

static void on_sleep(void *ctx, unsigned typ)
{
	(void)ctx;
	R.sleeps++;
	R.last_typ = typ;
}

static void on_reset(void *ctx)
{
	(void)ctx;
	R.resets++;
}

static void on_sci(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	assert_int_equal(line, 0);
	R.sci_changes++;
	R.sci = level;
}

static const struct pm_host HOST = {NULL, on_sleep, on_reset, on_sci};
static struct pm P;

static int setup(void **state)
{
	(void)state;
	memset(&R, 0, sizeof(R));
	pm_init(&P, &HOST);
	return 0;
}

static uint64_t rd(const struct bus_ops *ops, uint64_t off, uint8_t size)
{
	uint64_t v = 0;

	assert_int_equal(ops->read(&P, off, size, &v), ST_OK);
	return v;
}

static void wr(const struct bus_ops *ops, uint64_t off, uint8_t size, uint64_t v)
{
	assert_int_equal(ops->write(&P, off, size, v), ST_OK);
}

static void test_power_button_sci(void **state)
{
	(void)state;
	pm_power_button(&P);
	assert_int_equal(rd(&pm_evt_ops, 0, 2), PM1_PWRBTN_STS);
	assert_false(R.sci); /* not enabled: no SCI */
	wr(&pm_evt_ops, 2, 2, PM1_PWRBTN_EN);
	assert_true(R.sci);
	assert_int_equal(rd(&pm_evt_ops, 0, 4), PM1_PWRBTN_STS | (PM1_PWRBTN_EN << 16));
	/* writing 0 to status changes nothing; writing the bit clears it */
	wr(&pm_evt_ops, 0, 2, 0);
	assert_true(R.sci);
	wr(&pm_evt_ops, 0, 2, PM1_PWRBTN_STS);
	assert_false(R.sci);
	assert_int_equal(rd(&pm_evt_ops, 0, 2), 0);
	assert_int_equal(R.sci_changes, 2);
}

static void test_timer_carry_and_byte_access(void **state)
{
	(void)state;
	wr(&pm_evt_ops, 2, 1, PM1_TMR_EN); /* byte write of PM1_EN's low byte */
	pm_timer_carry(&P);
	assert_true(R.sci);
	assert_int_equal(rd(&pm_evt_ops, 0, 1), PM1_TMR_STS);
	wr(&pm_evt_ops, 0, 1, PM1_TMR_STS);
	assert_false(R.sci);
	/* a 4-byte write at offset 0 covers status and enable at once */
	pm_power_button(&P);
	wr(&pm_evt_ops, 0, 4, PM1_PWRBTN_STS | ((uint32_t)PM1_PWRBTN_EN << 16));
	assert_int_equal(rd(&pm_evt_ops, 2, 2), PM1_PWRBTN_EN);
	assert_false(R.sci);
	/* undefined enable bits do not stick */
	wr(&pm_evt_ops, 2, 2, 0xFFFF);
	assert_int_equal(rd(&pm_evt_ops, 2, 2),
			 PM1_TMR_EN | PM1_GBL_EN | PM1_PWRBTN_EN | PM1_RTC_EN);
}

static void test_control_and_sleep(void **state)
{
	(void)state;
	assert_int_equal(rd(&pm_cnt_ops, 0, 2), PM1_CNT_SCI_EN); /* always ACPI mode */
	wr(&pm_cnt_ops, 0, 2, 5u << PM1_CNT_SLP_TYP_SHIFT);	 /* type without SLP_EN */
	assert_int_equal(R.sleeps, 0);
	assert_int_equal(rd(&pm_cnt_ops, 0, 2), PM1_CNT_SCI_EN | (5u << PM1_CNT_SLP_TYP_SHIFT));
	wr(&pm_cnt_ops, 0, 2, (5u << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
	assert_int_equal(R.sleeps, 1);
	assert_int_equal(R.last_typ, 5);
	assert_int_equal(rd(&pm_cnt_ops, 0, 2) & PM1_CNT_SLP_EN, 0); /* write-only */
	/* the high byte alone, as some guests write it */
	wr(&pm_cnt_ops, 1, 1, (PM1_CNT_SLP_EN | (2u << PM1_CNT_SLP_TYP_SHIFT)) >> 8);
	assert_int_equal(R.sleeps, 2);
	assert_int_equal(R.last_typ, 2);
	assert_int_equal(rd(&pm_cnt_ops, 1, 2), ~0ull); /* past the block: empty bus */
}

static void test_reset_paths(void **state)
{
	(void)state;
	wr(&pm_reset_ops, 0, 1, RESET_CONTROL_SYS_RST); /* prepares, no reset */
	assert_int_equal(R.resets, 0);
	assert_int_equal(rd(&pm_reset_ops, 0, 1), RESET_CONTROL_SYS_RST);
	wr(&pm_reset_ops, 0, 1, 0x06);
	assert_int_equal(R.resets, 1);
	wr(&pm_reset_ops, 0, 2, 0x06); /* not a byte write: ignored */
	assert_int_equal(R.resets, 1);
	/* the 8042: input buffer empty so wait loops end; 0xFE resets */
	assert_int_equal(rd(&pm_kbc_cmd_ops, 0, 1) & 0x02, 0);
	wr(&pm_kbc_cmd_ops, 0, 1, 0xAD);
	assert_int_equal(R.resets, 1);
	wr(&pm_kbc_cmd_ops, 0, 1, KBC_CMD_PULSE_RESET);
	assert_int_equal(R.resets, 2);
	wr(&pm_kbc_data_ops, 0, 1, KBC_CMD_PULSE_RESET); /* data port: no */
	assert_int_equal(R.resets, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_power_button_sci, setup),
	    cmocka_unit_test_setup(test_timer_carry_and_byte_access, setup),
	    cmocka_unit_test_setup(test_control_and_sleep, setup),
	    cmocka_unit_test_setup(test_reset_paths, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
