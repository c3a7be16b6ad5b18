/* QEMU isa-debug-exit at DEBUG_EXIT_PORT (4 ports): how a test guest reports
 * its verdict and stops the VM.
 *
 * A write of value v to any of the 4 ports, of any size that fits in them
 * (1, 2 or 4 bytes), calls on_exit(ctx, (v << 1) | 1), where v is the value
 * truncated to the access size (as QEMU does: `outb 0xf4, 0` gives code 1)
 * and the code is computed in 32 bits, so bit 31 of a 4-byte v is lost
 * (QEMU's code is an int, and a process exit status keeps only 8 bits).
 * Every offset behaves like offset 0 because QEMU decodes the whole range
 * that way; a guest written against QEMU gets the same result here.
 *
 * Reads return all-ones: the device has no readable state, so it reads like
 * empty bus space. (QEMU returns 0; nothing in Keel's test guests reads it.)
 *
 * Pure logic: the caller owns the struct; on_exit runs on the exiting vCPU
 * inside the bus call and should only record the code and ask the VM to
 * stop. */
#ifndef KEEL_VDEV_DEBUGEXIT_H
#define KEEL_VDEV_DEBUGEXIT_H

#include <stdint.h>

#include "vdev/testdev_abi.h"
#include "vm/bus.h"

typedef void (*debugexit_fn)(void *ctx, uint32_t code);

struct debugexit {
	debugexit_fn on_exit; /* NULL: writes are dropped */
	void *ctx;
};

void debugexit_init(struct debugexit *d, debugexit_fn on_exit, void *ctx);

/* Register with bus_register(pio, DEBUG_EXIT_PORT, DEBUG_EXIT_LEN,
 * &debugexit_ops, d, "debug-exit"). */
extern const struct bus_ops debugexit_ops;

#endif
