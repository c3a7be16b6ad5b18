/* Keel's test device: the registers of vdev/testdev_abi.h, which test guests
 * use to exercise port I/O, MMIO decoding and interrupt injection and to
 * check the results from inside the guest.
 *
 * One struct serves two ranges: the PIO block (testdev_pio_ops at
 * TESTDEV_PIO_BASE, TESTDEV_PIO_LEN bytes) and the MMIO page
 * (testdev_mmio_ops at TESTDEV_MMIO_BASE, TESTDEV_MMIO_LEN bytes).
 *
 * PIO: a register is reached only by the accesses testdev_abi.h names for
 * it; every other access (another size, a misaligned offset, an access that
 * covers two registers, a reserved offset such as 0x06 or 0x0E) reads
 * all-ones and is ignored on write, like empty bus space, with no side
 * effect. Details the ABI leaves open:
 *  - SCRATCH: any access that lies within its 4 bytes (1 byte at +0..+3,
 *    2 bytes at +0..+2, 4 bytes at +0) reads or replaces just those bytes.
 *  - HASH and MMIO_COUNT: a write of any size that lies within the 4-byte
 *    register resets it to 0, whatever the value.
 *  - COUNTER, HASH_IN, IRQ_RAISE, MMIO_LAST_SIZE, MMIO_LAST_DIR: 1-byte
 *    accesses only. BOOT_MARK: 1-byte writes only, reads all-ones. HASH, MMIO_LAST_OFF, MMIO_COUNT,
 * IRQ_DELIVERED, HOST_EPOCH: 4-byte reads only.
 *  - IRQ_RAISE write of v: v < 32 (an exception vector) is ignored and
 *    counted in bad_raises; otherwise v becomes the pending vector, and if
 *    one was already pending it is replaced and counted in overruns.
 *
 * MMIO: 4 KiB of RAM-like bytes, zero after init; accesses of 1, 2, 4 or 8
 * bytes at any offset that fits in the page (alignment not required), little
 * endian. Every access records its size, direction and offset in the
 * MMIO_LAST_* registers and increments MMIO_COUNT (a u32 that wraps).
 *
 * Pure logic: the caller owns the struct and serialises calls (both ranges
 * of one VM are serialised by the VM's bus caller). */
#ifndef KEEL_VDEV_TESTDEV_H
#define KEEL_VDEV_TESTDEV_H

#include <stdint.h>

#include "vdev/testdev_abi.h"
#include "vm/bus.h"

#define TESTDEV_IRQ_FIRST_VECTOR 32 /* 0-31 are exceptions, not interrupts */

struct testdev {
	uint32_t scratch;
	uint8_t counter;
	uint32_t hash;

	/* MMIO log, guest-visible through the PIO block. */
	uint8_t last_size, last_dir;
	uint32_t last_off, mmio_count;

	/* Interrupt source; the counters are for Keel's diagnostics. */
	uint8_t pending;     /* vector waiting for injection, or 0 */
	uint32_t delivered;  /* guest-visible as IRQ_DELIVERED */
	uint32_t bad_raises; /* raises of a vector below 32, ignored */
	uint32_t overruns;   /* raises that replaced a pending vector */

	uint8_t page[TESTDEV_MMIO_LEN];

	/* The host's wall clock (Unix seconds) for TESTDEV_HOST_EPOCH, so a
	 * guest can compare its RTC with it; NULL reads 0. */
	int64_t (*host_epoch)(void);

	/* Called on a 1-byte write to TESTDEV_BOOT_MARK; NULL ignores it. */
	void (*boot_mark)(void *ctx);
	void *boot_mark_ctx;
};

/* All registers, counters and the page to 0; nothing pending. */
void testdev_init(struct testdev *t);

/* The vector the VM core should inject on vCPU 0, or 0 if none. */
int testdev_irq_pending(const struct testdev *t);

/* The VM core injected the pending vector: clears it and counts it in
 * delivered. Does nothing if no vector is pending. */
void testdev_irq_delivered(struct testdev *t);

extern const struct bus_ops testdev_pio_ops;  /* at TESTDEV_PIO_BASE */
extern const struct bus_ops testdev_mmio_ops; /* at TESTDEV_MMIO_BASE */

#endif
