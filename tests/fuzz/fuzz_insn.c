/* libFuzzer target for the instruction decoder and insn_exit_length. Built
 * and run by `make fuzz` (and briefly by `make check`). The first input
 * byte selects the mode (byte % 3) and the exit kind (byte / 3 %
 * INSN_EXIT_KIND_COUNT); the rest is copied into a buffer of exactly that
 * size so ASan catches any read past `avail`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_decode(const uint8_t *buf, size_t avail, enum insn_mode mode)
{
	struct insn out;
	status_t st = insn_decode(buf, avail, mode, &out);

	if (st == ST_OK) {
		if (out.len < 1 || out.len > INSN_MAX_LEN || out.len > avail)
			abort();
		if (out.size != 1 && out.size != 2 && out.size != 4 && out.size != 8)
			abort();
		/* A port element is never 8 bytes, whatever REX.W says. */
		if ((out.op == INSN_INS || out.op == INSN_OUTS) && out.size == 8)
			abort();
		/* Decoding the exact instruction bytes must give the same result. */
		struct insn again;
		if (insn_decode(buf, out.len, mode, &again) != ST_OK || again.len != out.len)
			abort();
	} else if (st != ST_ETRUNC && st != ST_ENOTSUP && st != ST_EINVAL) {
		abort();
	}
	(void)insn_op_name(out.op);
}

static void fuzz_exit_length(const uint8_t *buf, size_t avail, enum insn_mode mode,
			     enum insn_exit_kind kind)
{
	uint8_t len = 0, again = 0;
	status_t st = insn_exit_length(buf, avail, mode, kind, &len);

	if (st != ST_OK) {
		if (st != ST_ETRUNC && st != ST_EINVAL)
			abort();
		return;
	}
	if (len < 1 || len > INSN_MAX_LEN || len > avail)
		abort();
	/* The instruction's own bytes give the same length, and one byte
	 * fewer is truncated: the length depends on nothing after it. */
	if (insn_exit_length(buf, len, mode, kind, &again) != ST_OK || again != len)
		abort();
	if (insn_exit_length(buf, len - 1u, mode, kind, &again) != ST_ETRUNC)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum insn_mode mode;
	enum insn_exit_kind kind;
	uint8_t *buf;
	size_t avail;

	if (size < 1)
		return 0;
	mode = (enum insn_mode)(data[0] % 3);
	kind = (enum insn_exit_kind)(data[0] / 3 % INSN_EXIT_KIND_COUNT);
	avail = size - 1;
	buf = avail ? malloc(avail) : NULL;
	if (avail && !buf)
		return 0;
	if (avail)
		memcpy(buf, data + 1, avail);
	fuzz_decode(buf, avail, mode);
	fuzz_exit_length(buf, avail, mode, kind);
	free(buf);
	return 0;
}
