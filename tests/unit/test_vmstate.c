/* Unit tests for the VM lifecycle state machine: every (state, event) pair
 * against the table below, written from the brief, with the exact reason
 * text for each refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/vmstate.h"

#define D VM_DEFINED
#define R VM_RUNNING
#define P VM_PAUSED
#define S VM_STOPPED
#define C VM_CRASHED

struct row {
	enum vm_state from;
	enum vm_event ev;
	status_t st;
	enum vm_state to; /* == from when refused, and for destroy */
	const char *why;  /* "" on success */
};

static const struct row matrix[] = {
    /* defined */
    {D, VM_EV_START, ST_OK, R, ""},
    {D, VM_EV_PAUSE, ST_EINVAL, D, "cannot pause vm: it is defined"},
    {D, VM_EV_RESUME, ST_EINVAL, D, "cannot resume vm: it is defined"},
    {D, VM_EV_STOP, ST_EINVAL, D, "cannot stop vm: it is defined"},
    {D, VM_EV_CRASH, ST_EINVAL, D, "cannot crash vm: it is defined"},
    {D, VM_EV_DESTROY, ST_OK, D, ""},
    /* running */
    {R, VM_EV_START, ST_EINVAL, R, "cannot start vm: it is running"},
    {R, VM_EV_PAUSE, ST_OK, P, ""},
    {R, VM_EV_RESUME, ST_EINVAL, R, "cannot resume vm: it is running"},
    {R, VM_EV_STOP, ST_OK, S, ""},
    {R, VM_EV_CRASH, ST_OK, C, ""},
    {R, VM_EV_DESTROY, ST_EBUSY, R, "cannot destroy vm: it is running (stop it first)"},
    /* paused */
    {P, VM_EV_START, ST_EINVAL, P, "cannot start vm: it is paused"},
    {P, VM_EV_PAUSE, ST_EINVAL, P, "cannot pause vm: it is paused"},
    {P, VM_EV_RESUME, ST_OK, R, ""},
    {P, VM_EV_STOP, ST_OK, S, ""},
    {P, VM_EV_CRASH, ST_OK, C, ""},
    {P, VM_EV_DESTROY, ST_EBUSY, P, "cannot destroy vm: it is paused (stop it first)"},
    /* stopped */
    {S, VM_EV_START, ST_OK, R, ""},
    {S, VM_EV_PAUSE, ST_EINVAL, S, "cannot pause vm: it is stopped"},
    {S, VM_EV_RESUME, ST_EINVAL, S, "cannot resume vm: it is stopped"},
    {S, VM_EV_STOP, ST_EINVAL, S, "cannot stop vm: it is stopped"},
    {S, VM_EV_CRASH, ST_EINVAL, S, "cannot crash vm: it is stopped"},
    {S, VM_EV_DESTROY, ST_OK, S, ""},
    /* crashed */
    {C, VM_EV_START, ST_OK, R, ""},
    {C, VM_EV_PAUSE, ST_EINVAL, C, "cannot pause vm: it is crashed"},
    {C, VM_EV_RESUME, ST_EINVAL, C, "cannot resume vm: it is crashed"},
    {C, VM_EV_STOP, ST_EINVAL, C, "cannot stop vm: it is crashed"},
    {C, VM_EV_CRASH, ST_EINVAL, C, "cannot crash vm: it is crashed"},
    {C, VM_EV_DESTROY, ST_OK, C, ""},
};

static void test_matrix(void **state)
{
	bool seen[VM_STATE_COUNT][VM_EVENT_COUNT] = {{false}};
	(void)state;

	assert_int_equal(sizeof(matrix) / sizeof(matrix[0]), VM_STATE_COUNT * VM_EVENT_COUNT);
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		const struct row *r = &matrix[i];
		enum vm_state s = r->from;
		char why[128];

		memset(why, 'x', sizeof(why)); /* must be overwritten */
		why[sizeof(why) - 1] = '\0';
		assert_false(seen[r->from][r->ev]);
		seen[r->from][r->ev] = true;
		assert_int_equal(vmstate_apply(&s, r->ev, why, sizeof(why)), r->st);
		assert_int_equal(s, r->to);
		assert_string_equal(why, r->why);
	}
}

/* A short or absent reason buffer never changes the outcome; a short one
 * gets a cut, NUL-terminated reason (ASan catches any overflow). */
static void test_reason_buffers(void **state)
{
	enum vm_state s = VM_STOPPED;
	char small[12];
	(void)state;

	assert_int_equal(vmstate_apply(&s, VM_EV_PAUSE, NULL, 0), ST_EINVAL);
	assert_int_equal(s, VM_STOPPED);
	assert_int_equal(vmstate_apply(&s, VM_EV_PAUSE, small, 0), ST_EINVAL);
	assert_int_equal(vmstate_apply(&s, VM_EV_PAUSE, small, sizeof(small)), ST_EINVAL);
	assert_string_equal(small, "cannot paus");
	assert_int_equal(vmstate_apply(&s, VM_EV_START, NULL, 0), ST_OK);
	assert_int_equal(s, VM_RUNNING);
}

static void test_out_of_range(void **state)
{
	enum vm_state s = VM_RUNNING;
	enum vm_state bad = (enum vm_state)VM_STATE_COUNT;
	char why[80];
	(void)state;

	assert_int_equal(vmstate_apply(&s, (enum vm_event)VM_EVENT_COUNT, why, sizeof(why)),
			 ST_EINVAL);
	assert_int_equal(s, VM_RUNNING);
	assert_string_equal(why, "cannot unknown vm: unknown state or event");
	assert_int_equal(vmstate_apply(&s, (enum vm_event) - 1, why, sizeof(why)), ST_EINVAL);
	assert_int_equal(s, VM_RUNNING);
	assert_int_equal(vmstate_apply(&bad, VM_EV_START, why, sizeof(why)), ST_EINVAL);
	assert_int_equal(bad, VM_STATE_COUNT);
	assert_string_equal(why, "cannot start vm: unknown state or event");
	assert_int_equal(vmstate_apply(NULL, VM_EV_START, why, sizeof(why)), ST_EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vmstate_name(VM_DEFINED), "defined");
	assert_string_equal(vmstate_name(VM_RUNNING), "running");
	assert_string_equal(vmstate_name(VM_PAUSED), "paused");
	assert_string_equal(vmstate_name(VM_STOPPED), "stopped");
	assert_string_equal(vmstate_name(VM_CRASHED), "crashed");
	assert_string_equal(vmstate_name(VM_STATE_COUNT), "unknown");
	assert_string_equal(vmstate_name((enum vm_state) - 1), "unknown");
	assert_string_equal(vmevent_name(VM_EV_START), "start");
	assert_string_equal(vmevent_name(VM_EV_PAUSE), "pause");
	assert_string_equal(vmevent_name(VM_EV_RESUME), "resume");
	assert_string_equal(vmevent_name(VM_EV_STOP), "stop");
	assert_string_equal(vmevent_name(VM_EV_CRASH), "crash");
	assert_string_equal(vmevent_name(VM_EV_DESTROY), "destroy");
	assert_string_equal(vmevent_name(VM_EVENT_COUNT), "unknown");
}

/* A whole life: define, start, pause, resume, crash, restart, stop, destroy. */
static void test_lifecycle(void **state)
{
	static const enum vm_event evs[] = {VM_EV_START, VM_EV_PAUSE, VM_EV_RESUME, VM_EV_CRASH,
					    VM_EV_START, VM_EV_STOP,  VM_EV_DESTROY};
	static const enum vm_state after[] = {VM_RUNNING, VM_PAUSED,  VM_RUNNING, VM_CRASHED,
					      VM_RUNNING, VM_STOPPED, VM_STOPPED};
	enum vm_state s = VM_DEFINED;
	(void)state;

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		assert_int_equal(vmstate_apply(&s, evs[i], NULL, 0), ST_OK);
		assert_int_equal(s, after[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix),	 cmocka_unit_test(test_reason_buffers),
	    cmocka_unit_test(test_out_of_range), cmocka_unit_test(test_names),
	    cmocka_unit_test(test_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
