/* Per-VM console ring: the bytes a guest prints (through the 8250 model, later
 * virtio-console) wait here until a management session drains them.
 *
 * A fixed ring of CONSOLE_RING_SIZE bytes that keeps the newest bytes when
 * full: a guest that prints faster than anyone reads must never block or stop
 * the VM, so old output is overwritten and counted instead.
 *
 * Readers hold a cursor: the total number of bytes written when they last
 * read (a position in the stream, not an index in the ring). Any number of
 * readers can follow one console, each with its own cursor, and a reader that
 * fell behind learns how many bytes it missed ("N bytes lost").
 *
 * Pure logic, no allocation: the caller owns the struct. Not thread-safe: the
 * caller holds the VM's lock (or otherwise serialises) around every call. */
#ifndef KEEL_VDEV_CONSOLE_H
#define KEEL_VDEV_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_RING_SIZE 65536u /* bytes kept (a Linux boot log fits); a power of two */

struct console {
	uint8_t buf[CONSOLE_RING_SIZE];
	uint64_t written; /* bytes ever put; byte n lives at buf[n % CONSOLE_RING_SIZE] */
};

/* Empties c: nothing written, nothing dropped. */
void console_init(struct console *c);

/* Appends one byte, overwriting the oldest one when the ring is full. */
void console_put(struct console *c, uint8_t byte);

/* Bytes ever put (the cursor of a reader that is up to date). */
uint64_t console_written(const struct console *c);

/* Bytes overwritten before anyone could be sure to read them: written minus
 * what the ring still holds. */
uint64_t console_dropped(const struct console *c);

/* The cursor of the oldest byte still held. Reading from it returns every
 * retained byte, oldest first, with nothing lost: use it to replay the
 * console's recent history when a session attaches. */
uint64_t console_oldest(const struct console *c);

/* Copies up to len bytes that follow *cursor into buf, oldest first, advances
 * *cursor past them and returns how many were copied (0 when the reader is up
 * to date).
 *
 * If bytes after *cursor were overwritten, the read starts at the oldest byte
 * still held and *lost (when lost is non-NULL) gets the number skipped;
 * otherwise *lost = 0. A cursor beyond console_written() can only come from a
 * console re-initialised under its reader (the VM restarted): the read starts
 * over at the oldest byte, so the new run's output is not missed. */
size_t console_read(const struct console *c, uint64_t *cursor, void *buf, size_t len,
		    uint64_t *lost);

#endif
