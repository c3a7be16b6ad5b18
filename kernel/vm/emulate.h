/* MMIO and string port I/O instruction emulator: executes one instruction
 * decoded by insn.c against the guest's registers, its RAM, the device bus
 * and the I/O ports. Pure logic: all memory, device and port access goes
 * through the callbacks in struct emu_env.
 *
 * Written from the Intel SDM vol. 2 and AMD APM vol. 3 instruction pages
 * (MOV, MOVZX, MOVSX/MOVSXD, AND, OR, XOR, TEST, CMP, STOS, MOVS, INS, OUTS,
 * REP).
 *
 * Non-string instructions access the guest-physical address the hardware
 * reported (fault_gpa) with in->size bytes, through the bus; their effective
 * address is never recomputed. String instructions compute their linear
 * addresses from rSI/rDI and the segment bases, translate them with
 * env->translate, and send each side to RAM or to the bus by env->is_ram.
 * INS and OUTS have one memory side (INS writes ES:[rDI], OUTS reads
 * seg:[rSI], DS unless overridden); the other side is the port, one access
 * of in->size per iteration. Both sides of an iteration are located before
 * either is accessed, so a fault never consumes a port read or a device
 * read.
 *
 * REP: each call runs at most EMU_REP_BATCH iterations, and ends a batch
 * early before an iteration whose source or destination would leave the page
 * the batch's first iteration touched (so each side is translated once per
 * batch). If rCX is not zero afterwards the result is EMU_AGAIN with RIP
 * unchanged: the guest re-executes the instruction, which lets the CPU take
 * interrupts between batches, runs RAM-only iterations natively, and exits
 * again on the next MMIO access (or port access, for INS/OUTS). This bounds
 * the time spent per exit whatever count the guest asks for.
 *
 * Flags: AND/OR/XOR/TEST clear CF, OF and AF (AF is architecturally
 * undefined; clearing it is what common implementations do) and set SF, ZF,
 * PF from the result. CMP sets all six as SUB does. No other RFLAGS bit ever
 * changes.
 *
 * Not modelled: segment limit and access-rights checks, alignment checks,
 * canonical-address checks (env->translate must report a non-canonical
 * address as the #GP/#SS fault to inject), LOCK atomicity (one vCPU's MMIO
 * access is already serialised by its exit), and A20 masking. */
#ifndef KEEL_VM_EMULATE_H
#define KEEL_VM_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/status.h"
#include "vm/insn.h"
#include "vm/vcpu_regs.h"

/* Most string iterations one emu_mmio or emu_pio_string call performs. */
#define EMU_REP_BATCH 64

/* An exception to inject into the guest. */
struct emu_fault {
	uint8_t vector;
	bool has_error;
	uint32_t error;
	uint64_t cr2; /* meaningful for #PF only */
};

struct emu_env {
	void *ctx;
	enum insn_mode mode; /* the guest's code-segment mode */
	/* Segment bases. In 64-bit mode only FS and GS apply; ES, CS, SS and DS
	 * count as 0 whatever is stored here. Outside 64-bit mode linear
	 * addresses wrap at 2^32. */
	uint64_t seg_base[SEG_COUNT];
	/* Translates a guest-linear address for a data access (write: a store).
	 *   ST_OK      *gpa set.
	 *   ST_ENOENT  the access faults: *fault holds the exception to inject.
	 *   anything else (ST_ERANGE: the guest's page tables point outside its
	 *   RAM) stops the VM. */
	status_t (*translate)(void *ctx, uint64_t la, bool write, uint64_t *gpa,
			      struct emu_fault *fault);
	/* Is all of [gpa, gpa+len) guest RAM? RAM goes through ram_read and
	 * ram_write, everything else through mmio_read and mmio_write. */
	bool (*is_ram)(void *ctx, uint64_t gpa, size_t len);
	status_t (*ram_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	status_t (*ram_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* size is 1, 2, 4 or 8. Bits of *val above size are ignored; the write
	 * gets val with them already cleared. */
	status_t (*mmio_read)(void *ctx, uint64_t gpa, uint8_t size, uint64_t *val);
	status_t (*mmio_write)(void *ctx, uint64_t gpa, uint8_t size, uint64_t val);
	/* I/O port access for INS/OUTS; size is 1, 2 or 4, and bits above it
	 * are treated as for mmio_read/mmio_write. Only emu_pio_string needs
	 * them: emu_mmio callers may leave them NULL. */
	status_t (*pio_read)(void *ctx, uint16_t port, uint8_t size, uint64_t *val);
	status_t (*pio_write)(void *ctx, uint16_t port, uint8_t size, uint64_t val);
};

enum emu_result {
	EMU_DONE,  /* executed; RIP advanced by in->len (wrapped to 16/32 bits
		    * outside 64-bit mode) */
	EMU_AGAIN, /* a REP batch ran but rCX is not zero: RIP unchanged, the
		    * guest re-executes the instruction */
	EMU_FAULT, /* inject *fault; RIP unchanged, and registers as they were
		    * before the faulting iteration (earlier iterations of a
		    * batch stay done, as on hardware) */
	EMU_STOP,  /* the VM must stop: a bus, port or RAM access failed,
		    * the guest's page tables point outside its RAM, or the
		    * arguments are malformed. `why` holds a one-line reason.
		    * Iterations before the failing one stay done. */
};

/* Executes `in`, decoded from the instruction at r->rip. fault_gpa is the
 * guest-physical address of the MMIO access that caused the exit (used by
 * non-string instructions; the caller guarantees it is not RAM). All env
 * callbacks but pio_read and pio_write must be set. INS and OUTS are
 * EMU_STOP here: they go to emu_pio_string. *fault is cleared on entry and
 * meaningful only for EMU_FAULT. why (whylen bytes, may be NULL/0) receives
 * a NUL-terminated reason on EMU_STOP. */
enum emu_result emu_mmio(const struct insn *in, uint64_t fault_gpa, struct vcpu_regs *r,
			 const struct emu_env *env, struct emu_fault *fault, char *why,
			 size_t whylen);

/* Executes an INS or OUTS (anything else is EMU_STOP) after an I/O exit.
 * port is the port the exit reported, i.e. DX. The memory side may be RAM
 * or MMIO, so every env callback must be set, pio_read and pio_write
 * included. Results, *fault and why as for emu_mmio. */
enum emu_result emu_pio_string(const struct insn *in, uint16_t port, struct vcpu_regs *r,
			       const struct emu_env *env, struct emu_fault *fault, char *why,
			       size_t whylen);

#endif
