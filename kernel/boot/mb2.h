/* Multiboot2 boot-information (MBI) parser: turns the loader's tag list into
 * the loader-neutral struct boot_info. Pure logic, no hardware access. */
#ifndef KEEL_BOOT_MB2_H
#define KEEL_BOOT_MB2_H

#include <stddef.h>

#include "keel/boot_info.h"
#include "keel/status.h"

/* Parse the MBI at `info`, reading at most `max_len` bytes. `out` is zeroed
 * first. On failure returns ST_EINVAL (malformed), ST_ETRUNC (data runs past
 * what is readable) or ST_ERANGE (a boot_info limit was exceeded), and writes
 * a one-line message into `err` (if errlen > 0). */
status_t mb2_parse(const void *info, size_t max_len, struct boot_info *out, char *err,
		   size_t errlen) MUST_CHECK;

#endif
