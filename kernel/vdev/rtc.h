/* The PC's CMOS RAM and real-time clock (issue 5), written from the
 * Motorola MC146818A datasheet, and the POST code port 0x80.
 *
 * Ports (byte accesses only; wider ones read all-ones and are ignored):
 *   0x70 write: bits 6-0 select a byte of the 128-byte CMOS, bit 7 masks
 *        NMI (stored for the core: rtc_nmi_masked()). Read: all-ones (the
 *        AT's index register is write-only).
 *   0x71 the selected byte. The index does not move after an access.
 *
 * Clock: the time of day is computed, never ticked: the wall-clock seconds
 * at init (the host's time, read by the core, as seconds since 1970-01-01
 * 00:00:00 UTC, and the guest TSC at that moment) plus the guest TSC
 * elapsed since, so it shares its timebase with the PIT and PM timer. Each
 * second's update happens exactly when the TSC crosses the second (the
 * first at init's TSC + 1 s); the update itself is instantaneous, so time
 * registers always read a consistent time. Registers 0-9:
 *   0 seconds, 2 minutes, 4 hours, 6 day of week (1 = Sunday), 7 day of
 *   month, 8 month, 9 year (00-99), and the century byte 0x32 (the FADT's
 *   CENTURY; not an MC146818 register, but the clock keeps it, in the same
 *   format, so dates past 2099 need no OS help). 1, 3, 5 are the alarm.
 *   Encoding per register B: BCD or binary (DM), 24-hour or 12-hour with
 *   bit 7 = PM (12 AM is 12). A format change applies at once to reads
 *   (the chip would keep the old bytes until rewritten).
 * Register A: bit 7 UIP (read-only) is 1 for the 244 us before each update,
 * computed from the TSC, so a guest polling it sees it rise and fall. It
 * falls at the update itself (the chip keeps it up through its ~2 ms update
 * cycle; here the update takes no time), and reads 0 while SET is set or the
 * divider is in reset (no update is coming).
 *   Bits 6-4 DV: 11x holds the divider in reset (time stops, no updates, no
 *   periodic interrupt); leaving reset makes the first update come 500 ms
 *   later, per the datasheet. Every other DV value runs the clock normally
 *   (there is no other time base to select). Bits 3-0 RS: periodic rate,
 *   32768 >> (RS - 1) Hz for RS >= 3, 256 and 128 Hz for 1 and 2, none for 0.
 * Register B: SET (bit 7) stops updates and clears UIE: the time registers
 *   then hold bytes, written by the guest as it likes; clearing SET (or
 *   leaving divider reset) reads them as a time and the clock runs from it,
 *   keeping the sub-second phase of the divider. Out-of-range fields are
 *   clamped (seconds and minutes to 59, hours to 23, month to 1-12, day to
 *   the month's days). A time register written while the clock runs moves
 *   the clock the same way at once. PIE, AIE, UIE enable interrupts; SQWE
 *   is stored (there is no SQW pin); DM and 24/12 as above.
 * Register C: IRQF, PF, AF, UF; reading returns and clears them. PF, AF, UF
 *   are set whether or not enabled; IRQF = any flag whose enable is set.
 * Register D: VRT = 1 (battery good), read-only.
 * The day of week is computed from the date; writing it sets an offset.
 * Alarm bytes with bits 7-6 both set match any value ("don't care").
 *
 * Interrupt: line RTC_IRQ_LINE (ISA IRQ 8) follows IRQF, as the chip's IRQ
 * pin does: raised when an enabled flag is set, lowered when register C is
 * read. rtc_irq_due() says when the next enabled event comes (periodic
 * tick, update, alarm match), VDEV_NEVER while IRQF is already set (no new
 * interrupt until register C is read); rtc_update() sets the flags up to
 * now and drives the line. Port accesses also bring the flags up to date
 * (a guest polling register C sees UF without the core's help).
 *
 * CMOS RAM (bytes 0x0E-0x7F), zero after init except:
 *   0x15/0x16  base memory in KiB (640, or less if RAM below 4 GiB is less)
 *   0x17/0x18  extended memory above 1 MiB in KiB, at most 0xFFFF (as POST
 *   0x30/0x31  reports it in both places)
 *   0x34/0x35  RAM between 16 MiB and 4 GiB, in 64 KiB units
 *   0x5B-0x5D  RAM above 4 GiB, in 64 KiB units (24 bits, the convention
 *              SeaBIOS-style firmware reads)
 *   0x2E/0x2F  the AT checksum of bytes 0x10-0x2D (big-endian sum), set at
 *              init; guest writes do not update it, as on a PC
 *   0x32       the century (computed, see above)
 * All multi-byte values are little-endian (low byte first) except the
 * checksum. Guest writes to RAM bytes are kept.
 *
 * Port 0x80 (POST codes): struct postcode keeps the last byte written
 * (diagnostics for the core); a byte read returns it, 0xFF before any
 * write (like a POST card latch that reads back; Linux only writes it,
 * as an I/O delay). It lives here because port 0x80 sits next to the CMOS
 * on every PC and has no state worth a file of its own.
 *
 * Pure logic: the caller owns the structs and serialises calls. Call
 * rtc_irq_due() again after every port access and rtc_update(). */
#ifndef KEEL_VDEV_RTC_H
#define KEEL_VDEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/vdev.h"
#include "vm/bus.h"

#define RTC_PORT_BASE 0x70
#define RTC_PORT_LEN 2
#define RTC_CMOS_SIZE 128
#define RTC_IRQ_LINE 0	 /* the chip's IRQ pin: ISA IRQ 8 */
#define RTC_CENTURY 0x32 /* for the FADT's CENTURY field */

struct rtc_config {
	const struct vdev_clock *clock; /* must outlive the rtc */
	vdev_irq_fn irq;		/* NULL: not wired */
	void *irq_ctx;
	int64_t wall_secs;     /* UTC seconds since 1970-01-01 00:00:00 ... */
	uint64_t wall_tsc;     /* ... at this guest TSC */
	uint64_t ram_below_4g; /* bytes of guest RAM below 4 GiB, from 0 */
	uint64_t ram_above_4g; /* bytes of guest RAM from 4 GiB up */
};

struct rtc {
	const struct vdev_clock *clock;
	vdev_irq_fn irq;
	void *irq_ctx;
	uint8_t index;
	bool nmi_masked;
	uint8_t cmos[RTC_CMOS_SIZE]; /* time bytes are live only while frozen */

	/* The divider: its position, in guest TSC ticks into the current
	 * second at origin, is skew; updates come at multiples of clock->hz
	 * of (TSC - origin + skew). origin_secs is the time at origin. */
	uint64_t origin, skew;
	int64_t origin_secs;
	bool frozen;	    /* SET or divider reset: the time bytes hold the time */
	uint8_t dow_offset; /* day-of-week register minus the computed one, mod 7 */
	uint64_t uip_tsc;   /* 244 us in TSC ticks */

	uint8_t flags;	 /* register C: PF, AF, UF */
	uint64_t synced; /* guest TSC up to which flags are set */
	bool line;	 /* level of the IRQ line as last driven */
};

struct postcode {
	uint8_t last;	 /* 0xFF until written */
	uint64_t writes; /* how many bytes the guest wrote */
};

/* Resets the RTC: register A 0x26 (32.768 kHz, 1024 Hz periodic rate), B
 * 0x02 (24-hour, BCD, no interrupts), C 0, D 0x80, the clock at
 * cfg->wall_secs, the memory bytes from the RAM sizes. */
void rtc_init(struct rtc *r, const struct rtc_config *cfg);

/* Guest TSC of the next enabled RTC event, or VDEV_NEVER. */
uint64_t rtc_irq_due(const struct rtc *r);

/* Sets the flags of every event up to now and drives the IRQ line. */
void rtc_update(struct rtc *r);

/* Bit 7 of the last write to port 0x70. */
bool rtc_nmi_masked(const struct rtc *r);

/* Register with bus_register(pio, RTC_PORT_BASE, RTC_PORT_LEN, &rtc_ops, r,
 * "rtc"). */
extern const struct bus_ops rtc_ops;

#define POSTCODE_PORT 0x80
#define POSTCODE_LEN 1

void postcode_init(struct postcode *pc);

/* Register with bus_register(pio, POSTCODE_PORT, POSTCODE_LEN,
 * &postcode_ops, pc, "post"). */
extern const struct bus_ops postcode_ops;

#endif
