/* Per-VM port-I/O and MMIO buses: devices register the address ranges they
 * decode, and guest accesses are dispatched to the range that contains them.
 *
 * Pure logic with no allocation: the caller owns the struct bus and each
 * device's ops and state. The guest is hostile, so an access nobody claims
 * behaves like empty bus space on a PC: reads return all-ones of the access
 * size, writes are dropped, and both are counted. Not thread-safe: one bus
 * belongs to one VM and is serialised by its caller. */
#ifndef KEEL_VM_BUS_H
#define KEEL_VM_BUS_H

#include <stdint.h>

#include "keel/status.h"

#define BUS_MAX_DEVICES 32
#define BUS_PIO_LIMIT 0x10000ull    /* 64 KiB of x86 I/O ports */
#define BUS_MMIO_LIMIT (1ull << 52) /* architectural MAXPHYADDR ceiling */

/* Device callbacks. offset is relative to the range base and the whole access
 * [offset, offset+size) lies inside the range. read must set *val; write gets
 * only the low size bytes of the guest value. A non-ST_OK return is passed
 * back to the bus caller unchanged. */
struct bus_ops {
	status_t (*read)(void *dev, uint64_t offset, uint8_t size, uint64_t *val);
	status_t (*write)(void *dev, uint64_t offset, uint8_t size, uint64_t val);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

struct bus {
	const char *name;
	uint64_t limit;				  /* addresses must stay below this */
	struct bus_range ranges[BUS_MAX_DEVICES]; /* sorted by base, disjoint */
	unsigned n;
	unsigned last; /* index of the range that answered last (a hint) */
	uint64_t unclaimed_reads, unclaimed_writes;
};

/* Empties b; its ranges must end at or below limit (BUS_PIO_LIMIT, BUS_MMIO_LIMIT). */
void bus_init(struct bus *b, const char *name, uint64_t limit);

/* Claims [base, base+len) for dev. ops, ops->read and ops->write must be
 * non-NULL; name may be NULL.
 *   ST_EINVAL  NULL pointer or len == 0.
 *   ST_ERANGE  the range wraps past 2^64, ends above b->limit, or the bus
 *              already holds BUS_MAX_DEVICES ranges.
 *   ST_EEXIST  the range overlaps one already registered. */
status_t bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		      void *dev, const char *name) MUST_CHECK;

/* Removes the range that starts exactly at base; ST_ENOENT if there is none. */
status_t bus_unregister(struct bus *b, uint64_t base) MUST_CHECK;

/* Guest read of size bytes (1, 2, 4 or 8; else ST_EINVAL) at addr.
 * If one range contains the whole access, its read is called with
 * offset = addr - base and its status is returned; on success *val is masked
 * to the access size, on failure *val is all-ones. Otherwise the access is
 * unclaimed: *val = all-ones of the access size, unclaimed_reads++, ST_OK.
 *
 * An access that straddles a range's end (into a gap or a neighbour) counts
 * as unclaimed: handing it to the device would ask it to decode bytes past
 * its own registers, which a hostile guest could use to reach outside the
 * device's state, and splitting it across devices has no defined byte-lane
 * semantics on a PC. Treating it as empty bus space is safe and predictable. */
status_t bus_read(struct bus *b, uint64_t addr, uint8_t size, uint64_t *val);

/* Guest write; same rules as bus_read. The device sees val masked to size.
 * Unclaimed writes are dropped, unclaimed_writes++, ST_OK. */
status_t bus_write(struct bus *b, uint64_t addr, uint8_t size, uint64_t val);

/* The range containing addr, or NULL. Binary search over the sorted ranges. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);

#endif
