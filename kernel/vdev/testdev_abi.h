/* The guest-visible interface of Keel's test devices: register offsets
 * shared by the device models (kernel/vdev/testdev.c) and the test guests
 * (tests/guests/), so both sides name the same numbers. Constants only;
 * safe to include from freestanding guest code.
 *
 * Every VM has these devices while issue 3's test suite needs them; they
 * decode nothing a PC uses (ports 0x520-0x53F are free on PC chipsets, and
 * 0xFEB00000 lies in the PCI hole below the IOAPIC). */
#ifndef KEEL_VDEV_TESTDEV_ABI_H
#define KEEL_VDEV_TESTDEV_ABI_H

/* QEMU isa-debug-exit semantics: writing v (any size) stops the VM with
 * exit code (v << 1) | 1. Test guests write 0 for pass (exit code 1). */
#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_LEN 4

/* QEMU fw_cfg, traditional (non-DMA) interface. */
#define FW_CFG_PORT_SEL 0x510	/* 16-bit write: select item, reset offset */
#define FW_CFG_PORT_DATA 0x511	/* 8-bit read: next byte of the item */
#define FW_CFG_SIGNATURE 0x0000 /* "QEMU" */
#define FW_CFG_ID 0x0001	/* u32 LE, bit 0: traditional interface */
#define FW_CFG_RAM_SIZE 0x0003	/* u64 LE, bytes */
#define FW_CFG_NB_CPUS 0x0005	/* u16 LE */
#define FW_CFG_MAX_CPUS 0x000F	/* u16 LE */

/* Test device, port-I/O block. All multi-byte values little-endian. */
#define TESTDEV_PIO_BASE 0x520
#define TESTDEV_PIO_LEN 0x28
#define TESTDEV_SCRATCH 0x00	    /* 4-byte r/w register; 1/2/4-byte access at +0..+3 */
#define TESTDEV_COUNTER 0x04	    /* 1-byte read: returns n, then n+1 (mod 256); write sets n */
#define TESTDEV_HASH_IN 0x05	    /* 1-byte write: hash = hash * 31 + byte (u32) */
#define TESTDEV_HASH 0x08	    /* 4-byte read: hash; any write resets it to 0 */
#define TESTDEV_MMIO_LAST_SIZE 0x0C /* 1-byte read: size of the last MMIO access */
#define TESTDEV_MMIO_LAST_DIR 0x0D  /* 1-byte read: 0 read, 1 write */
#define TESTDEV_MMIO_LAST_OFF 0x10  /* 4-byte read: offset of the last MMIO access */
#define TESTDEV_MMIO_COUNT 0x14	    /* 4-byte read: MMIO accesses so far; write resets */
#define TESTDEV_IRQ_RAISE                                                                          \
	0x18			   /* 1-byte write: raise vector 32..255 on vCPU 0;                \
				    * read: the vector still pending, or 0 */
#define TESTDEV_IRQ_DELIVERED 0x1C /* 4-byte read: interrupts Keel has injected */
#define TESTDEV_HOST_EPOCH 0x20	   /* 4-byte read: the host's time, Unix seconds */
#define TESTDEV_BOOT_MARK                                                                          \
	0x24 /* 1-byte write: "booted"; Keel records the TSC ticks since the VM started            \
	      * (the first write after each start counts). Port 0x544. */

/* Test device, MMIO page: 4 KiB that behaves like RAM (byte-addressable,
 * little-endian, accesses of 1/2/4/8 bytes), except that every access
 * exits to Keel and is logged in the MMIO_LAST_* registers above. */
#define TESTDEV_MMIO_BASE 0xFEB00000u
#define TESTDEV_MMIO_LEN 0x1000u

#endif
