/* VM lifecycle state machine. Pure logic: the caller owns the state and
 * does the work (creating vCPUs, stopping them, freeing the VM) around each
 * transition.
 *
 *   event     from                        to
 *   start     defined, stopped, crashed   running
 *   pause     running                     paused
 *   resume    paused                      running
 *   stop      running, paused             stopped   (guest power-off,
 *                                                    debug exit, management)
 *   crash     running, paused             crashed   (triple fault,
 *                                                    undecodable MMIO,
 *                                                    invalid guest state)
 *   destroy   defined, stopped, crashed   (unchanged: the caller frees the
 *                                          VM; refused while it can run)
 *
 * Every other (state, event) pair is refused and changes nothing. */
#ifndef KEEL_VM_VMSTATE_H
#define KEEL_VM_VMSTATE_H

#include <stddef.h>

#include "keel/status.h"

enum vm_state { VM_DEFINED, VM_RUNNING, VM_PAUSED, VM_STOPPED, VM_CRASHED, VM_STATE_COUNT };

enum vm_event {
	VM_EV_START,
	VM_EV_PAUSE,
	VM_EV_RESUME,
	VM_EV_STOP,
	VM_EV_CRASH,
	VM_EV_DESTROY,
	VM_EVENT_COUNT
};

/* Applies ev to *s. On success returns ST_OK, moves *s and leaves why empty.
 * A refused event leaves *s unchanged and writes a one-line reason to why
 * ("cannot pause vm: it is stopped"):
 *   ST_EBUSY   destroy of a running or paused VM (stop it first);
 *   ST_EINVAL  any other event the state does not allow, or *s / ev out of
 *              range (s NULL included).
 * why may be NULL or len 0; the reason is then not written. */
status_t vmstate_apply(enum vm_state *s, enum vm_event ev, char *why, size_t len) MUST_CHECK;

/* "defined", "running", ...; "unknown" out of range. */
const char *vmstate_name(enum vm_state s);

/* "start", "pause", ...; "unknown" out of range. */
const char *vmevent_name(enum vm_event ev);

#endif
