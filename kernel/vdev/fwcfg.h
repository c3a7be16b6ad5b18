/* QEMU fw_cfg, traditional interface (no DMA), written from QEMU's
 * docs/specs/fw_cfg.rst. Lets a guest (test guests today, firmware later)
 * ask how much RAM and how many CPUs it has.
 *
 * One PIO range [FW_CFG_PORT_SEL, FW_CFG_PORT_SEL + FWCFG_PIO_LEN): the
 * selector at offset 0 and the data port at offset 1.
 *
 * Items (multi-byte values little-endian, values fixed at init):
 *   FW_CFG_SIGNATURE  "QEMU" (4 bytes)
 *   FW_CFG_ID         u32 1: traditional interface, no DMA
 *   FW_CFG_RAM_SIZE   u64 bytes of RAM in all, below and above 4 GiB (as
 *                     QEMU's ram_size; the layout is the memory map's)
 *   FW_CFG_NB_CPUS    u16
 *   FW_CFG_MAX_CPUS   u16
 *
 * Guest-visible behaviour:
 *  - A 2-byte write at offset 0 selects an item and sets the data offset to
 *    0. Bit 14 of the key (the "write channel") does not change which item
 *    is read (the spec maps 0x4000-0x7FFF onto items 0x0000-0x3FFF); keys
 *    with bit 15 set name architecture-specific items, of which Keel has
 *    none. Init selects FW_CFG_SIGNATURE, as QEMU does on reset.
 *  - A 1-byte read at offset 1 returns the next byte of the selected item
 *    and advances the offset. Past the item's end, and for an unknown item,
 *    it reads 0 and the offset stays put.
 *  - The selector is write-only in the spec. QEMU's x86 port decoder treats
 *    the two ports as one register pair in which any 1-byte read is a data
 *    read and any 1-byte write is a data write; we follow it so guests see
 *    what they see under QEMU: a 1-byte read at offset 0 reads the next data
 *    byte, and a 1-byte write at either offset is a data write, which the
 *    traditional interface ignores (since QEMU 2.4). A 1-byte write to the
 *    selector therefore does not select anything.
 *  - Accesses QEMU rejects (a 2-byte read, 2-byte accesses at offset 1, any
 *    4- or 8-byte access) read all-ones and are ignored on write, like empty
 *    bus space.
 *
 * Pure logic: the caller owns the struct and serialises calls. */
#ifndef KEEL_VDEV_FWCFG_H
#define KEEL_VDEV_FWCFG_H

#include <stdint.h>

#include "vdev/testdev_abi.h"
#include "vm/bus.h"

#define FWCFG_PIO_LEN 2 /* selector and data port */

struct fwcfg {
	uint64_t ram_size;
	uint16_t nb_cpus, max_cpus;
	uint16_t key;	 /* selected item, as the guest wrote it */
	uint32_t offset; /* next byte of the item; never beyond its length */
};

void fwcfg_init(struct fwcfg *f, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus);

/* Register with bus_register(pio, FW_CFG_PORT_SEL, FWCFG_PIO_LEN, &fwcfg_ops,
 * f, "fw_cfg"). */
extern const struct bus_ops fwcfg_ops;

#endif
