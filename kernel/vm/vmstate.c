/* VM lifecycle state machine (see vmstate.h). One table of allowed
 * transitions; everything not in it is refused. */
#include <stdbool.h>

#include "vm/vmstate.h"
#include "core/fmt.h"

#define NONE VM_STATE_COUNT	  /* table entry: event not allowed */
#define STAY (VM_STATE_COUNT + 1) /* table entry: allowed, state unchanged */

static const char *const state_names[VM_STATE_COUNT] = {
    [VM_DEFINED] = "defined", [VM_RUNNING] = "running", [VM_PAUSED] = "paused",
    [VM_STOPPED] = "stopped", [VM_CRASHED] = "crashed",
};

static const char *const event_names[VM_EVENT_COUNT] = {
    [VM_EV_START] = "start", [VM_EV_PAUSE] = "pause", [VM_EV_RESUME] = "resume",
    [VM_EV_STOP] = "stop",   [VM_EV_CRASH] = "crash", [VM_EV_DESTROY] = "destroy",
};

/* next[state][event]: the new state, NONE or STAY. Columns in enum
 * vm_event order: start, pause, resume, stop, crash, destroy. */
static const unsigned next[VM_STATE_COUNT][VM_EVENT_COUNT] = {
    [VM_DEFINED] = {VM_RUNNING, NONE, NONE, NONE, NONE, STAY},
    [VM_RUNNING] = {NONE, VM_PAUSED, NONE, VM_STOPPED, VM_CRASHED, NONE},
    [VM_PAUSED] = {NONE, NONE, VM_RUNNING, VM_STOPPED, VM_CRASHED, NONE},
    [VM_STOPPED] = {VM_RUNNING, NONE, NONE, NONE, NONE, STAY},
    [VM_CRASHED] = {VM_RUNNING, NONE, NONE, NONE, NONE, STAY},
};
_Static_assert(VM_EV_START == 0 && VM_EV_PAUSE == 1 && VM_EV_RESUME == 2 && VM_EV_STOP == 3 &&
		   VM_EV_CRASH == 4 && VM_EV_DESTROY == 5 && VM_EVENT_COUNT == 6,
	       "columns of next[] follow enum vm_event");

const char *vmstate_name(enum vm_state s)
{
	return (unsigned)s < VM_STATE_COUNT ? state_names[s] : "unknown";
}

const char *vmevent_name(enum vm_event ev)
{
	return (unsigned)ev < VM_EVENT_COUNT ? event_names[ev] : "unknown";
}

static bool can_run(enum vm_state s)
{
	return s == VM_RUNNING || s == VM_PAUSED;
}

status_t vmstate_apply(enum vm_state *s, enum vm_event ev, char *why, size_t len)
{
	bool say = why && len;
	bool busy;
	unsigned to;

	if (say)
		why[0] = '\0';
	if (!s || (unsigned)*s >= VM_STATE_COUNT || (unsigned)ev >= VM_EVENT_COUNT) {
		if (say)
			ksnprintf(why, len, "cannot %s vm: unknown state or event",
				  vmevent_name(ev));
		return ST_EINVAL;
	}
	to = next[*s][ev];
	if (to == STAY)
		return ST_OK;
	if (to != NONE) {
		*s = (enum vm_state)to;
		return ST_OK;
	}
	/* Destroying a VM that can still run would pull memory from under
	 * its vCPUs: a different refusal from a meaningless event. */
	busy = ev == VM_EV_DESTROY && can_run(*s);
	if (say)
		ksnprintf(why, len, "cannot %s vm: it is %s%s", vmevent_name(ev), vmstate_name(*s),
			  busy ? " (stop it first)" : "");
	return busy ? ST_EBUSY : ST_EINVAL;
}
