/* One status enum for every fallible call in Keel. */
#ifndef KEEL_STATUS_H
#define KEEL_STATUS_H

typedef enum {
	ST_OK = 0,
	ST_EINVAL,    /* malformed input */
	ST_ENOMEM,    /* allocator exhausted */
	ST_ERANGE,    /* value or length outside what is allowed */
	ST_ENOENT,    /* not found */
	ST_ECHECKSUM, /* checksum mismatch */
	ST_ETRUNC,    /* input ends before its declared length */
	ST_EEXIST,    /* already present / already mapped */
	ST_ENOTSUP,   /* hardware or feature not supported */
	ST_ETIMEDOUT,
	ST_EBUSY,
} status_t;

#define MUST_CHECK __attribute__((warn_unused_result))

const char *status_str(status_t s);

#endif
