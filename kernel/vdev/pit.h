/* The PC's Intel 8254 programmable interval timer (issue 5), written from
 * the Intel 82C54 datasheet, and the speaker/gate port 0x61 of the AT.
 *
 * Wiring, as on a PC: a 1193182 Hz input clock on all three channels;
 * channel 0's GATE tied high and its OUT on line PIT_IRQ_LINE (ISA IRQ 0);
 * channel 1 present (GATE high) but driving nothing; channel 2's GATE is bit
 * 0 of port 0x61 and its OUT reads back as bit 5 there.
 *
 * Time: nothing ticks in the background. Each channel remembers the guest
 * TSC at which its clock pulses started reaching the counter, and every
 * count and OUT value is computed from "now" (vdev.h). The counter is loaded
 * on the first input clock after the count is written (datasheet), so a
 * mode 0 count of N raises OUT N + 1 clocks after the write. Pulses are
 * counted from that write (the clock phase restarts there), which keeps the
 * long-run rate exact: edges are counted from a fixed origin, never by
 * adding periods to a late wake-up.
 *
 * Ports (byte accesses only; wider ones read all-ones and are ignored):
 *   0x40-0x42 read: a latched status byte first, then a latched count, else
 *             the live count, per the access mode (LSB, MSB, or LSB then
 *             MSB with one read flip-flop shared by live and latched reads).
 *             write: the count, per the access mode.
 *   0x43      write: control word, counter latch (RW = 00) or read-back
 *             (SC = 11: count and/or status of any set of channels; a
 *             second latch before the first is read is ignored).
 *             read: all-ones (the datasheet's "no operation, 3-state").
 *   0x61      bit 0 GATE2, bit 1 speaker data enable, bits 2-3 (the AT's
 *             parity/IOCHK check enables): stored and read back; bit 4 the
 *             DRAM refresh toggle; bit 5 OUT2; bits 6-7 (error flags) read 0.
 *             The refresh toggle flips every 18 input clocks (~15.1 us, the
 *             period a BIOS programs into channel 1), computed from the
 *             guest TSC, not from channel 1: delay loops that count toggles
 *             then wait about as long as on hardware, and a polling loop
 *             always sees it move because guest time always advances.
 *
 * Modes: 0 (interrupt on terminal count), 2 (rate generator) and 3 (square
 * wave, odd counts high for (N+1)/2 clocks and low for (N-1)/2) in full;
 * 1 and 5 (hardware-triggered one-shot and strobe: the rising GATE edge
 * starts them, so on channels 0 and 1 they never start) and 4 (software
 * strobe, OUT low for the one clock at count 0) as the datasheet describes.
 * Mode bits 6 and 7 act as modes 2 and 3; the status byte reports the bits
 * as written. BCD counting is supported (decades 0-9999, count 0 = 10000);
 * a BCD digit above 9 counts with its binary value.
 * Count 0 means 65536 (10000 in BCD). Count 1 is illegal in modes 2 and 3
 * (datasheet minimum 2): it behaves as 2.
 *
 * GATE (channel 2; the others are fixed high): low stops counting in modes
 * 0, 2, 3 and 4 (and forces OUT high in 2 and 3); a rising edge resumes
 * modes 0 and 4, and restarts modes 2 and 3 (reload on the next clock) and
 * triggers modes 1 and 5. A count written while GATE is low is loaded only
 * when it rises (the datasheet would load it regardless in mode 0: nothing
 * observable before GATE rises except the count read back, which then
 * reads the previous value).
 *
 * Details the datasheet leaves open, decided here:
 *  - Mode 0: writing the first byte of a two-byte count stops counting and
 *    drives OUT low; writing any new count drives OUT low until it expires.
 *  - Modes 2 and 3: a count written while counting is loaded at the end of
 *    the current period (the next rising OUT edge). For mode 3 the datasheet
 *    says the end of the current half cycle; a full cycle keeps the model to
 *    one period shape, and no guest we know reprograms mid-cycle.
 *  - Mode 3, odd counts: during the extra high clock after the high half's
 *    count expires, the counter reads 0.
 *  - Between a count write and its load pulse the counter already reads
 *    the new count (Linux's quick calibration reads right after writing
 *    and expects it). After a control word and before a count, and in
 *    mode 0 between the two bytes of a count, it reads the value it held
 *    when it stopped (0 after init). The datasheet calls both undefined.
 *  - Init state: each channel as after a control word for mode 3, LSB then
 *    MSB, binary, with no count written: not counting, OUT high.
 *
 * Interrupts: channel 0's OUT is reported as an edge (raise then lower) at
 * each rising edge of OUT: every period in modes 2 and 3, once at terminal
 * count in mode 0 (and at the end of the pulse in modes 1, 4, 5).
 * pit_irq_due() gives the guest TSC of the next edge not yet signalled;
 * pit_update() signals every edge up to now. If several edges passed since
 * the last update (a late host timer, a descheduled vCPU), they are counted
 * in irq_edges but signalled as one interrupt (irq_coalesced counts the
 * rest): an edge-triggered PIC could not latch them separately anyway, and
 * the next due time stays on the original period grid.
 *
 * Pure logic: the caller owns the struct and serialises calls. Call
 * pit_irq_due() again after every port access and pit_update(). */
#ifndef KEEL_VDEV_PIT_H
#define KEEL_VDEV_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/vdev.h"
#include "vm/bus.h"

#define PIT_HZ 1193182u
#define PIT_PORT_BASE 0x40
#define PIT_PORT_LEN 4 /* three channels and the control word */
#define PIT_PORT61 0x61
#define PIT_PORT61_LEN 1
#define PIT_CHANNELS 3
#define PIT_IRQ_LINE 0 /* channel 0's OUT */

struct pit_channel {
	/* Programming: control word and count register. */
	uint8_t mode_bits; /* M2..M0 as written */
	uint8_t mode;	   /* 0-5 */
	uint8_t access;	   /* RW field: 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	uint16_t cr;	 /* count register, raw */
	bool write_msb;	 /* two-byte access: the next write is the MSB */
	bool read_msb;	 /* two-byte access: the next read is the MSB */
	bool has_count;	 /* a whole count was written since the control word */
	bool null_count; /* status bit 6: the last count is not loaded yet */
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;

	/* Counting, as a "segment" that starts when a count is (re)started:
	 * its clock C = base + pulses since origin (while counting) - seg_off,
	 * C = 1 is the load pulse, C - 1 pulses have counted down since. */
	bool gate;
	bool armed;	  /* a segment exists */
	bool counting;	  /* the GATE lets pulses reach it */
	bool fresh;	  /* the segment loads the latest count register */
	bool out_hold;	  /* OUT before the load pulse, or when not armed */
	uint16_t ce_hold; /* counter when not armed */
	uint32_t n;	  /* the count in use */
	uint64_t origin;  /* guest TSC */
	uint64_t base, seg_off;
	bool pending; /* modes 2/3: pending_n loads at segment clock pending_at */
	uint32_t pending_n;
	uint64_t pending_at;
	uint64_t edges_seen; /* rising OUT edges of this segment accounted */
};

struct pit {
	const struct vdev_clock *clock;
	vdev_irq_fn irq; /* NULL: channel 0 not wired */
	void *irq_ctx;
	uint64_t start_tsc; /* refresh toggle phase */
	uint8_t port61;	    /* bits 0-3 as written */
	struct pit_channel ch[PIT_CHANNELS];

	/* Channel 0 interrupts. */
	uint64_t owed;	     /* edges seen by a port access, not signalled */
	uint64_t owed_since; /* guest TSC when they were seen */
	uint64_t irq_edges, irq_raised, irq_coalesced;
};

/* Resets the PIT (see "Init state") and wires channel 0's OUT to irq(irq_ctx,
 * PIT_IRQ_LINE, ...). clock must outlive p; irq may be NULL. */
void pit_init(struct pit *p, const struct vdev_clock *clock, vdev_irq_fn irq, void *irq_ctx);

/* Guest TSC of the next channel 0 interrupt not yet signalled (in the past
 * if one is overdue), or VDEV_NEVER. */
uint64_t pit_irq_due(const struct pit *p);

/* Signals channel 0's edges up to now: at most one raise-then-lower. */
void pit_update(struct pit *p);

/* Register with bus_register(pio, PIT_PORT_BASE, PIT_PORT_LEN, &pit_ops, p,
 * "pit") and bus_register(pio, PIT_PORT61, PIT_PORT61_LEN, &pit_port61_ops,
 * p, "port61"). */
extern const struct bus_ops pit_ops;
extern const struct bus_ops pit_port61_ops;

#endif
