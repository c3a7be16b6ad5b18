/* libFuzzer target for the MMIO instruction decoder. Not built by make.
 * Build and run from the repository root:
 *   clang -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *       -I. -Ikernel -Ikernel/include \
 *       tests/fuzz/fuzz_insn.c kernel/vm/insn.c -o build/fuzz_insn
 *   ./build/fuzz_insn -max_total_time=60
 * The first input byte selects the mode; the rest is copied into a buffer of
 * exactly that size so ASan catches any read past `avail`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insn out;
	enum insn_mode mode;
	uint8_t *buf;
	size_t avail;
	status_t st;

	if (size < 1)
		return 0;
	mode = (enum insn_mode)(data[0] % 3);
	avail = size - 1;
	buf = avail ? malloc(avail) : NULL;
	if (avail && !buf)
		return 0;
	if (avail)
		memcpy(buf, data + 1, avail);
	st = insn_decode(buf, avail, mode, &out);
	if (st == ST_OK) {
		if (out.len < 1 || out.len > INSN_MAX_LEN || out.len > avail)
			abort();
		if (out.size != 1 && out.size != 2 && out.size != 4 && out.size != 8)
			abort();
		/* Decoding the exact instruction bytes must give the same result. */
		struct insn again;
		if (insn_decode(buf, out.len, mode, &again) != ST_OK || again.len != out.len)
			abort();
	} else if (st != ST_ETRUNC && st != ST_ENOTSUP && st != ST_EINVAL) {
		abort();
	}
	(void)insn_op_name(out.op);
	free(buf);
	return 0;
}
