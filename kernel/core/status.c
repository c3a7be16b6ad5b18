#include "keel/status.h"

const char *status_str(status_t s)
{
	switch (s) {
	case ST_OK:
		return "ok";
	case ST_EINVAL:
		return "malformed input";
	case ST_ENOMEM:
		return "out of memory";
	case ST_ERANGE:
		return "out of range";
	case ST_ENOENT:
		return "not found";
	case ST_ECHECKSUM:
		return "bad checksum";
	case ST_ETRUNC:
		return "truncated";
	case ST_EEXIST:
		return "already exists";
	case ST_ENOTSUP:
		return "not supported";
	case ST_ETIMEDOUT:
		return "timed out";
	case ST_EBUSY:
		return "busy";
	}
	return "unknown status";
}
