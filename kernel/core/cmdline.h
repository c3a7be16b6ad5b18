/* Boot command line -> typed configuration. Pure logic, no heap. */
#ifndef KEEL_CORE_CMDLINE_H
#define KEEL_CORE_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_EMERG = 0,
	LOG_ALERT,
	LOG_CRIT,
	LOG_ERR,
	LOG_WARN,
	LOG_NOTICE,
	LOG_INFO,
	LOG_DEBUG
};

/* VM declarations, once per VM:
 * vm=NAME,kernel=MODULE[,initrd=MODULE][,mem=SIZE][,cpus=N][,on_reboot=restart|stop]
 *    [,on_crash=stop|restart][,autostart=yes|no] */
#define KEEL_MAX_VMS 16
#define KEEL_MAX_VCPUS 16 /* per VM */
#define VM_NAME_MAX 15	  /* characters of [A-Za-z0-9_-] */
#define VM_MODULE_MAX 63  /* first word of a multiboot2 module string */
#define KEEL_VM_MIN_MEM (2ull << 20)
#define KEEL_VM_MAX_MEM (1ull << 40) /* 1T: RAM past 3 GiB continues at 4 GiB */
#define KEEL_VM_DEFAULT_MEM (32ull << 20)
#define KEEL_VM_MEM_ALIGN 4096ull

/* What a guest-initiated reset (on_reboot) or a crash (on_crash) does, with
 * libvirt's meanings: restart the guest, or stop it (libvirt "destroy"). */
enum vm_policy { VM_POLICY_RESTART, VM_POLICY_STOP };

struct vm_decl {
	char name[VM_NAME_MAX + 1];	/* NUL-terminated, unique */
	char kernel[VM_MODULE_MAX + 1]; /* boot module name, NUL-terminated */
	char initrd[VM_MODULE_MAX + 1]; /* a Linux kernel's initrd module, or "" */
	uint64_t mem;			/* bytes */
	uint32_t cpus;
	enum vm_policy on_reboot; /* default restart */
	enum vm_policy on_crash;  /* default stop */
	bool autostart;		  /* start at boot (default), or wait for `start` */
};

struct keel_config {
	int loglevel; /* enum log_level */
	int console;  /* 0: auto (SPCR or COM1), 1..4: COM1..COM4 */
	uint32_t baud;
	uint32_t maxcpus;      /* 0: all */
	bool pmtimer_emulated; /* guests get an emulated PM timer even when the host has one */
	struct vm_decl vms[KEEL_MAX_VMS]; /* in command-line order */
	unsigned nvms;
};

/* Called once per rejected word with a one-line message (no newline). */
typedef void (*cmdline_err_fn)(void *ctx, const char *msg);

void cmdline_defaults(struct keel_config *c);

/* Apply every valid option in `s` to `c`; returns how many words were
 * rejected. A rejected word leaves `c` untouched. `err` may be NULL. */
unsigned cmdline_parse(const char *s, struct keel_config *c, cmdline_err_fn err, void *ctx);

#endif
