#!/bin/sh
# Keel must never contain SSE/AVX instructions of its own: they would clobber
# guest register state. Fail the build if the compiler produced any.
set -eu
if objdump -d "$1" | grep -E '\s(%xmm|%ymm|%zmm)|\s(movaps|movups|movdqa|movdqu|pxor|xorps)\s' >/dev/null; then
	echo "error: $1 contains SSE/AVX instructions" >&2
	objdump -d "$1" | grep -E '%xmm|%ymm|%zmm' | head >&2
	exit 1
fi
