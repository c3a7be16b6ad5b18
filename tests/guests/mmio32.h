/* Results of the mmio guest's 32-bit checks (mmio32.S), which run before
 * the runtime's console and report API exist: each check leaves one record
 * that mmio.c judges after the switch to long mode. Safe for .S files. */
#ifndef GUEST_MMIO32_H
#define GUEST_MMIO32_H

#define PM32_REC_VALUE 0  /* u32: the register or memory result */
#define PM32_REC_VALUE2 4 /* u32: a second result (string ops) */
#define PM32_REC_FLAGS 8  /* u32: EFLAGS right after the instruction */
#define PM32_REC_SIZE 12  /* u8: TESTDEV_MMIO_LAST_SIZE */
#define PM32_REC_DIR 13	  /* u8: TESTDEV_MMIO_LAST_DIR */
#define PM32_REC_OFF 16	  /* u32: TESTDEV_MMIO_LAST_OFF */
#define PM32_REC_COUNT 20 /* u32: TESTDEV_MMIO_COUNT since the reset */
#define PM32_REC_BYTES 32
#define PM32_NREC 20

#ifndef __ASSEMBLY__
#include <stdint.h>

struct pm32_rec {
	uint32_t value, value2, flags;
	uint8_t size, dir;
	uint16_t pad;
	uint32_t off, count;
	uint32_t pad2[2];
};

_Static_assert(sizeof(struct pm32_rec) == PM32_REC_BYTES, "record layout");
#endif

#endif
