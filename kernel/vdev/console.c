/* Per-VM console ring (see console.h). Positions are 64-bit byte counts, so a
 * position maps to a ring slot with one modulo and never needs a wrap flag:
 * 2^64 bytes is more than a guest can print. */
#include "vdev/console.h"
#include "keel/kstring.h"

_Static_assert((CONSOLE_RING_SIZE & (CONSOLE_RING_SIZE - 1)) == 0,
	       "CONSOLE_RING_SIZE must be a power of two so positions map to slots cheaply");

void console_init(struct console *c)
{
	memset(c, 0, sizeof(*c));
}

void console_put(struct console *c, uint8_t byte)
{
	c->buf[c->written % CONSOLE_RING_SIZE] = byte;
	c->written++;
}

uint64_t console_written(const struct console *c)
{
	return c->written;
}

uint64_t console_oldest(const struct console *c)
{
	return c->written > CONSOLE_RING_SIZE ? c->written - CONSOLE_RING_SIZE : 0;
}

uint64_t console_dropped(const struct console *c)
{
	/* Every byte before the oldest retained one was overwritten. */
	return console_oldest(c);
}

/* Copies n retained bytes starting at stream position pos; the caller has
 * checked that [pos, pos+n) is still held, so n <= CONSOLE_RING_SIZE. */
static void copy_out(const struct console *c, uint64_t pos, uint8_t *dst, size_t n)
{
	size_t start = pos % CONSOLE_RING_SIZE;
	size_t first = CONSOLE_RING_SIZE - start;

	if (n == 0)
		return; /* buf may be NULL when len is 0 */
	if (first > n)
		first = n;
	memcpy(dst, &c->buf[start], first);
	memcpy(dst + first, c->buf, n - first);
}

size_t console_read(const struct console *c, uint64_t *cursor, void *buf, size_t len,
		    uint64_t *lost)
{
	uint64_t oldest = console_oldest(c);
	uint64_t pos = *cursor;
	uint64_t skipped = 0;

	if (pos > c->written)
		pos = oldest;
	if (pos < oldest) {
		skipped = oldest - pos;
		pos = oldest;
	}

	uint64_t avail = c->written - pos;
	size_t n = len < avail ? len : (size_t)avail;

	copy_out(c, pos, buf, n);
	*cursor = pos + n;
	if (lost)
		*lost = skipped;
	return n;
}
