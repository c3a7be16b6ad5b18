/* Unit tests for the boot command-line parser. Error messages are captured
 * so each test can check both the count and the wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cmdline.h"

struct errs {
	unsigned n;
	char last[256];
	char first[256];
};

static void on_err(void *ctx, const char *msg)
{
	struct errs *e = ctx;

	assert_true(strlen(msg) < sizeof(e->last));
	assert_null(strchr(msg, '\n'));
	if (!e->n)
		strcpy(e->first, msg);
	strcpy(e->last, msg);
	e->n++;
}

static struct keel_config C;
static struct errs E;

static unsigned run(const char *s)
{
	memset(&E, 0, sizeof(E));
	cmdline_defaults(&C);
	unsigned n = cmdline_parse(s, &C, on_err, &E);
	assert_int_equal(n, E.n);
	return n;
}

static void assert_defaults(void)
{
	assert_int_equal(C.loglevel, LOG_INFO);
	assert_int_equal(C.console, 0);
	assert_int_equal(C.baud, 115200);
	assert_int_equal(C.maxcpus, 0);
	assert_int_equal(C.nvms, 0);
}

static void test_defaults_and_empty(void **state)
{
	(void)state;
	assert_int_equal(run(""), 0);
	assert_defaults();
	assert_int_equal(run(" \t  \t"), 0);
	assert_defaults();
	assert_int_equal(run(NULL), 0);
	assert_defaults();
}

static void test_loglevel_good(void **state)
{
	static const char *names[] = {"emerg", "alert",	 "crit", "err",
				      "warn",  "notice", "info", "debug"};
	char buf[32];
	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(buf, sizeof(buf), "loglevel=%d", i);
		assert_int_equal(run(buf), 0);
		assert_int_equal(C.loglevel, i);
		snprintf(buf, sizeof(buf), "loglevel=%s", names[i]);
		assert_int_equal(run(buf), 0);
		assert_int_equal(C.loglevel, i);
	}
}

static void test_loglevel_bad(void **state)
{
	static const char *bad[] = {"loglevel=8",
				    "loglevel=x",
				    "loglevel=",
				    "loglevel=-1",
				    "loglevel=Debug",
				    "loglevel=debugx",
				    "loglevel=99999999999999999999",
				    "loglevel=7 "};
	(void)state;
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(run(bad[i]), 1);
		assert_int_equal(C.loglevel, LOG_INFO);
	}
	assert_int_equal(run(bad[7]), 0); /* trailing space is a separator */
	run("loglevel=x");
	assert_string_equal(E.last, "loglevel: bad value 'x' (expected 0-7 or a level name)");
	run("loglevel");
	assert_string_equal(E.last, "loglevel: missing value (expected 0-7 or a level name)");
}

static void test_console_good(void **state)
{
	(void)state;
	assert_int_equal(run("console=com1"), 0);
	assert_int_equal(C.console, 1);
	assert_int_equal(C.baud, 115200);
	assert_int_equal(run("console=com4,9600"), 0);
	assert_int_equal(C.console, 4);
	assert_int_equal(C.baud, 9600);
	assert_int_equal(run("console=ttyS0"), 0);
	assert_int_equal(C.console, 1);
	assert_int_equal(run("console=ttyS3,57600"), 0);
	assert_int_equal(C.console, 4);
	assert_int_equal(C.baud, 57600);
	static const uint32_t rates[] = {9600, 19200, 38400, 57600, 115200};
	char buf[40];
	for (int i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "console=com2,%u", rates[i]);
		assert_int_equal(run(buf), 0);
		assert_int_equal(C.console, 2);
		assert_int_equal(C.baud, rates[i]);
	}
}

static void test_console_bad(void **state)
{
	static const char *bad[] = {
	    "console=com0",	    "console=com5",	"console=ttyS4", "console=com1,",
	    "console=com1,1200",    "console=com1,abc", "console=com",	 "console=",
	    "console=com1,9600,1",  "console=COM1",	"console",	 "console=com12",
	    "console=ttyS0,115201", "console=,9600",
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run(bad[i]), 1);
		assert_int_equal(C.console, 0);
		assert_int_equal(C.baud, 115200);
	}
	run("console=com1,1200");
	assert_string_equal(E.last, "console: bad value 'com1,1200' (expected com1-com4 or "
				    "ttyS0-ttyS3, optionally ,9600|19200|38400|57600|115200)");
}

static void test_maxcpus(void **state)
{
	(void)state;
	assert_int_equal(run("maxcpus=1"), 0);
	assert_int_equal(C.maxcpus, 1);
	assert_int_equal(run("maxcpus=1024"), 0);
	assert_int_equal(C.maxcpus, 1024);
	static const char *bad[] = {"maxcpus=0", "maxcpus=1025", "maxcpus=",	      "maxcpus=4x",
				    "maxcpus",	 "maxcpus=+4",	 "maxcpus=4294967297"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run(bad[i]), 1);
		assert_int_equal(C.maxcpus, 0);
	}
	run("maxcpus=0");
	assert_string_equal(E.last, "maxcpus: bad value '0' (expected 1-1024)");
}

static void test_pmtimer(void **state)
{
	(void)state;
	assert_int_equal(run(""), 0);
	assert_true(C.pmtimer_emulated); /* emulated by default */
	assert_int_equal(run("pmtimer=emulated"), 0);
	assert_true(C.pmtimer_emulated);
	assert_int_equal(run("pmtimer=emulated pmtimer=host"), 0);
	assert_false(C.pmtimer_emulated);
	assert_int_equal(run("pmtimer=off"), 1);
	assert_string_equal(E.last, "pmtimer: bad value 'off' (expected host or emulated)");
	assert_true(C.pmtimer_emulated); /* the default stays */
}

static void test_unknown_and_multiple(void **state)
{
	(void)state;
	assert_int_equal(run("foo"), 1);
	assert_string_equal(E.last, "unknown option 'foo'");
	assert_int_equal(run("foo=bar"), 1);
	assert_string_equal(E.last, "unknown option 'foo'");
	assert_int_equal(run("=x"), 1);
	assert_string_equal(E.last, "unknown option ''");

	/* Good options still apply around the bad ones; the last one wins. */
	assert_int_equal(run("\tfoo loglevel=debug maxcpus=0  console=com2,38400 bar=1 "
			     "loglevel=x maxcpus=8\t"),
			 4);
	assert_string_equal(E.first, "unknown option 'foo'");
	assert_string_equal(E.last, "loglevel: bad value 'x' (expected 0-7 or a level name)");
	assert_int_equal(C.loglevel, LOG_DEBUG);
	assert_int_equal(C.console, 2);
	assert_int_equal(C.baud, 38400);
	assert_int_equal(C.maxcpus, 8);
}

/* Line breaks and the other ASCII white space separate words too (found by
 * fuzz_cmdline: a "\n" word came back inside a one-line message). */
static void test_all_white_space(void **state)
{
	(void)state;
	assert_int_equal(run("\n"), 0);
	assert_int_equal(run("loglevel=debug\r\nmaxcpus=2\vpmtimer=host\ffoo\n"), 1);
	assert_string_equal(E.last, "unknown option 'foo'");
	assert_int_equal(C.loglevel, LOG_DEBUG);
	assert_int_equal(C.maxcpus, 2);
	assert_false(C.pmtimer_emulated);
}

static void test_path_skipping(void **state)
{
	(void)state;
	assert_int_equal(run("/boot/keel.elf loglevel=err"), 0);
	assert_int_equal(C.loglevel, LOG_ERR);
	assert_int_equal(run("  /keel"), 0);
	assert_defaults();
	/* Only the first word may be a path. */
	assert_int_equal(run("loglevel=err /boot/keel.elf"), 1);
	assert_string_equal(E.last, "unknown option '/boot/keel.elf'");
	assert_int_equal(run("/a /b"), 1);
}

static void test_long_garbage(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1);
	(void)state;
	assert_non_null(s);

	memset(s, 'z', n);
	s[n] = '\0';
	assert_int_equal(run(s), 1);
	assert_true(strlen(E.last) < 100);
	assert_non_null(strstr(E.last, "...'"));

	memcpy(s, "loglevel=", 9);
	assert_int_equal(run(s), 1);
	assert_non_null(strstr(E.last, "loglevel: bad value 'zzz"));
	assert_true(strstr(E.last, "(expected 0-7 or a level name)") != NULL);

	/* Many short words, separators of every kind, embedded junk bytes. */
	for (size_t i = 0; i < n; i++)
		s[i] = "a= \t,\x01\xff/"[i % 8]; /* 8 chars, never the NUL */
	assert_true(run(s) > 0);
	assert_defaults();

	memset(s, '=', n);
	assert_int_equal(run(s), 1);
	free(s);
}

static void test_null_err_callback(void **state)
{
	(void)state;
	cmdline_defaults(&C);
	assert_int_equal(cmdline_parse("foo loglevel=3 maxcpus=x", &C, NULL, NULL), 2);
	assert_int_equal(C.loglevel, 3);
}

/* ---- vm=NAME,kernel=MODULE[,mem=SIZE][,cpus=N] ---- */

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define VM_SYNTAX                                                                                  \
	"(expected "                                                                               \
	"NAME,kernel=MODULE[,initrd=MODULE][,mem=SIZE][,cpus=N][,on_reboot=restart|stop][,on_"     \
	"crash="                                                                                   \
	"stop|restart][,autostart=yes|no])"

static void assert_vm(unsigned i, const char *name, const char *kernel, uint64_t mem, uint32_t cpus)
{
	assert_true(i < C.nvms);
	assert_string_equal(C.vms[i].name, name);
	assert_string_equal(C.vms[i].kernel, kernel);
	assert_int_equal(C.vms[i].mem, mem);
	assert_int_equal(C.vms[i].cpus, cpus);
}

/* One rejected declaration: one error with exactly this text, no VM added. */
static void vm_rejected(const char *line, const char *msg)
{
	assert_int_equal(run(line), 1);
	assert_string_equal(E.last, msg);
	assert_int_equal(C.nvms, 0);
}

static void test_vm_good(void **state)
{
	(void)state;
	assert_int_equal(run("vm=web,kernel=vmlinuz,mem=256M,cpus=4"), 0);
	assert_int_equal(C.nvms, 1);
	assert_vm(0, "web", "vmlinuz", 256 * MiB, 4);
	/* Keys in any order; every name character class; longest name and
	 * module name. */
	assert_int_equal(run("vm=Az09_-xxxxxxxxx,cpus=16,mem=3G,kernel="
			     "m23456789012345678901234567890123456789012345678901234567890123"),
			 0);
	assert_vm(0, "Az09_-xxxxxxxxx",
		  "m23456789012345678901234567890123456789012345678901234567890123", 3 * GiB, 16);
	/* A module name may carry any printable character but space and comma. */
	assert_int_equal(run("vm=1,kernel=/boot/linux-6.1=x.gz,cpus=1"), 0);
	assert_vm(0, "1", "/boot/linux-6.1=x.gz", 32 * MiB, 1);
	/* Behind the kernel path GRUB may pass first. */
	assert_int_equal(run("/boot/keel.elf vm=a,kernel=k"), 0);
	assert_vm(0, "a", "k", 32 * MiB, 1);
}

static void test_vm_defaults(void **state)
{
	(void)state;
	assert_int_equal(run("vm=t1,kernel=hello"), 0);
	assert_vm(0, "t1", "hello", 32 * MiB, 1);
	assert_int_equal(run("vm=t1,kernel=hello,cpus=2"), 0);
	assert_vm(0, "t1", "hello", 32 * MiB, 2);
	assert_int_equal(run("vm=t1,mem=64M,kernel=hello"), 0);
	assert_vm(0, "t1", "hello", 64 * MiB, 1);
	/* Other options keep their defaults. */
	assert_int_equal(C.loglevel, LOG_INFO);
	assert_int_equal(C.maxcpus, 0);
	/* libvirt's defaults: a reboot restarts, a crash stops. */
	assert_int_equal(C.vms[0].on_reboot, VM_POLICY_RESTART);
	assert_int_equal(C.vms[0].on_crash, VM_POLICY_STOP);
	assert_true(C.vms[0].autostart);
}

static void test_vm_policies(void **state)
{
	(void)state;
	assert_int_equal(run("vm=p,kernel=k,on_reboot=stop,on_crash=restart"), 0);
	assert_int_equal(C.vms[0].on_reboot, VM_POLICY_STOP);
	assert_int_equal(C.vms[0].on_crash, VM_POLICY_RESTART);
	assert_int_equal(run("vm=p,on_crash=stop,kernel=k,on_reboot=restart"), 0);
	assert_int_equal(C.vms[0].on_reboot, VM_POLICY_RESTART);
	assert_int_equal(C.vms[0].on_crash, VM_POLICY_STOP);
	vm_rejected("vm=p,kernel=k,on_reboot=destroy",
		    "vm p: bad on_reboot 'destroy' (expected restart or stop)");
	vm_rejected("vm=p,kernel=k,on_crash=", "vm p: bad on_crash '' (expected restart or stop)");
	vm_rejected("vm=p,kernel=k,on_crash=stop,on_crash=stop", "vm p: repeated key 'on_crash'");
	assert_int_equal(C.nvms, 0);
}

static void test_vm_initrd(void **state)
{
	(void)state;
	assert_int_equal(run("vm=deb,kernel=vmlinuz,initrd=initrd.img,mem=256M"), 0);
	assert_string_equal(C.vms[0].kernel, "vmlinuz");
	assert_string_equal(C.vms[0].initrd, "initrd.img");
	assert_int_equal(run("vm=deb,kernel=vmlinuz"), 0);
	assert_string_equal(C.vms[0].initrd, "");
	vm_rejected("vm=deb,kernel=k,initrd=",
		    "vm deb: bad initrd '' (expected a module name of 1-63 characters)");
	vm_rejected("vm=deb,kernel=k,initrd=a,initrd=b", "vm deb: repeated key 'initrd'");
	/* initrd= alone does not name a kernel. */
	vm_rejected("vm=deb,initrd=i", "vm deb: missing kernel=MODULE");
}

static void test_vm_mem_sizes(void **state)
{
	static const struct {
		const char *mem;
		uint64_t bytes;
	} good[] = {
	    {"2M", 2 * MiB},
	    {"2097152", 2 * MiB},
	    {"2048K", 2 * MiB},
	    {"2052K", 2 * MiB + 4096},
	    {"2101248", 2 * MiB + 4096},
	    {"64m", 64 * MiB},
	    {"1g", GiB},
	    {"1G", GiB},
	    {"3072M", 3 * GiB},
	    {"3G", 3 * GiB},
	    {"0003G", 3 * GiB},
	    {"3221225472", 3 * GiB},
	    /* past the PCI hole: the rest of RAM goes above 4 GiB */
	    {"3074M", 3 * GiB + 2 * MiB},
	    {"5G", 5 * GiB},
	    {"5g", 5 * GiB},
	    {"1T", 1024 * GiB},
	    {"1t", 1024 * GiB},
	    {"1024G", 1024 * GiB},
	    {"1048576M", 1024 * GiB},
	    {"1099511627776", 1024 * GiB},
	};
	char buf[64];
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "vm=m,kernel=k,mem=%s", good[i].mem);
		assert_int_equal(run(buf), 0);
		assert_vm(0, "m", "k", good[i].bytes, 1);
	}
}

static void test_vm_many_and_mixed(void **state)
{
	(void)state;
	assert_int_equal(run("loglevel=debug vm=a,kernel=ka vm=b,kernel=kb,mem=8M maxcpus=2 "
			     "vm=c,kernel=kc,cpus=3"),
			 0);
	assert_int_equal(C.nvms, 3);
	assert_vm(0, "a", "ka", 32 * MiB, 1);
	assert_vm(1, "b", "kb", 8 * MiB, 1);
	assert_vm(2, "c", "kc", 32 * MiB, 3);
	assert_int_equal(C.loglevel, LOG_DEBUG);
	assert_int_equal(C.maxcpus, 2);

	/* A bad declaration in the middle rejects only itself. */
	assert_int_equal(run("vm=a,kernel=ka vm=b,kernel=kb,mem=1M vm=c,kernel=kc"), 1);
	assert_string_equal(E.last, "vm b: mem '1M' is below 2M (KEEL_VM_MIN_MEM)");
	assert_int_equal(C.nvms, 2);
	assert_vm(0, "a", "ka", 32 * MiB, 1);
	assert_vm(1, "c", "kc", 32 * MiB, 1);
}

static void test_vm_bad_name(void **state)
{
	(void)state;
	vm_rejected("vm=a.b,kernel=k", "vm: bad name 'a.b' (expected 1-15 of A-Z a-z 0-9 _ -)");
	vm_rejected("vm=web!,kernel=k", "vm: bad name 'web!' (expected 1-15 of A-Z a-z 0-9 _ -)");
	vm_rejected("vm=1234567890123456,kernel=k",
		    "vm: bad name '1234567890123456' (expected 1-15 of A-Z a-z 0-9 _ -)");
	vm_rejected("vm=,kernel=k", "vm: bad name '' (expected 1-15 of A-Z a-z 0-9 _ -)");
	vm_rejected("vm=kernel=k", "vm: bad name 'kernel=k' (expected 1-15 of A-Z a-z 0-9 _ -)");
	vm_rejected("vm=w\xc3\xa9,kernel=k",
		    "vm: bad name 'w\xc3\xa9' (expected 1-15 of A-Z a-z 0-9 _ -)");
	vm_rejected("vm", "vm: missing value " VM_SYNTAX);
	vm_rejected("vm=", "vm: bad value '' " VM_SYNTAX);
}

static void test_vm_bad_kernel(void **state)
{
	(void)state;
	vm_rejected("vm=web", "vm web: missing kernel=MODULE");
	vm_rejected("vm=web,mem=8M,cpus=2", "vm web: missing kernel=MODULE");
	vm_rejected("vm=web,kernel=",
		    "vm web: bad kernel '' (expected a module name of 1-63 characters)");
	vm_rejected("vm=web,kernel", "vm web: missing value for 'kernel'");
	vm_rejected("vm=web,kernel=a\x01"
		    "b",
		    "vm web: bad kernel 'a\x01"
		    "b' (expected a module name of 1-63 characters)");
	/* 64 characters: too long; the quote is cut at 48 and says so. */
	vm_rejected(
	    "vm=web,kernel=m234567890123456789012345678901234567890123456789012345678901234",
	    "vm web: bad kernel 'm23456789012345678901234567890123456789012345678...' "
	    "(expected a module name of 1-63 characters)");
}

static void test_vm_bad_mem(void **state)
{
	static const char *syntax[] = {"",   "M",  "1MB", "-1", "+1M", "0x100000", "1.5G",
				       "1P", "G1", "4M4", "kK", "1TB", "T"};
	char line[64], msg[160];
	(void)state;

	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
		snprintf(line, sizeof(line), "vm=web,kernel=k,mem=%s", syntax[i]);
		snprintf(msg, sizeof(msg),
			 "vm web: bad mem '%s' (expected bytes with optional K, M, G or T)",
			 syntax[i]);
		vm_rejected(line, msg);
	}
	vm_rejected("vm=web,kernel=k,mem=1M", "vm web: mem '1M' is below 2M (KEEL_VM_MIN_MEM)");
	vm_rejected("vm=web,kernel=k,mem=0", "vm web: mem '0' is below 2M (KEEL_VM_MIN_MEM)");
	vm_rejected("vm=web,kernel=k,mem=2093056",
		    "vm web: mem '2093056' is below 2M (KEEL_VM_MIN_MEM)"); /* 2M - 4K */
	vm_rejected("vm=web,kernel=k,mem=2T", "vm web: mem '2T' is above 1T (KEEL_VM_MAX_MEM)");
	vm_rejected("vm=web,kernel=k,mem=1025G",
		    "vm web: mem '1025G' is above 1T (KEEL_VM_MAX_MEM)");
	vm_rejected("vm=web,kernel=k,mem=1048577M",
		    "vm web: mem '1048577M' is above 1T (KEEL_VM_MAX_MEM)");
	vm_rejected("vm=web,kernel=k,mem=1099511631872",
		    "vm web: mem '1099511631872' is above 1T (KEEL_VM_MAX_MEM)"); /* 1T + 4K */
	vm_rejected("vm=web,kernel=k,mem=99999999999999999999999999G",
		    "vm web: mem '99999999999999999999999999G' is above 1T (KEEL_VM_MAX_MEM)");
	/* The number alone is below the limit, its product with T would wrap
	 * 64 bits (2^24 T = 2^64): still too big, never a small size. */
	vm_rejected("vm=web,kernel=k,mem=16777216T",
		    "vm web: mem '16777216T' is above 1T (KEEL_VM_MAX_MEM)");
	vm_rejected("vm=web,kernel=k,mem=17179869184G",
		    "vm web: mem '17179869184G' is above 1T (KEEL_VM_MAX_MEM)"); /* 2^64 bytes */
	/* Too big but malformed further on: the syntax error wins. */
	vm_rejected("vm=web,kernel=k,mem=99999999999x",
		    "vm web: bad mem '99999999999x' (expected bytes with optional K, M, G or T)");
	vm_rejected("vm=web,kernel=k,mem=2097153",
		    "vm web: mem '2097153' is not a multiple of 4K"); /* 2M + 1 */
	vm_rejected("vm=web,kernel=k,mem=2050K", "vm web: mem '2050K' is not a multiple of 4K");
}

static void test_vm_bad_cpus(void **state)
{
	static const char *bad[] = {"0", "17", "", "x", "-1", "+2", "1K", "4294967297"};
	char line[64], msg[160];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "vm=web,kernel=k,cpus=%s", bad[i]);
		snprintf(msg, sizeof(msg), "vm web: bad cpus '%s' (expected 1-16, KEEL_MAX_VCPUS)",
			 bad[i]);
		vm_rejected(line, msg);
	}
}

static void test_vm_bad_keys(void **state)
{
	static const char *const keys[] = {"foo", "name", "KERNEL", ""};
	char line[64], msg[160];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(line, sizeof(line), "vm=web,kernel=k,%s=1", keys[i]);
		snprintf(msg, sizeof(msg),
			 "vm web: unknown key '%s' (expected kernel=, initrd=, mem=, cpus=, "
			 "on_reboot=, on_crash= or autostart=)",
			 keys[i]);
		vm_rejected(line, msg);
	}
	vm_rejected("vm=web,name=x,kernel=k", "vm web: unknown key 'name' (expected kernel=, "
					      "initrd=, mem=, cpus=, on_reboot=, on_crash= or "
					      "autostart=)");
	vm_rejected("vm=web,kernel=k,mem=8M,mem=16M", "vm web: repeated key 'mem'");
	vm_rejected("vm=web,kernel=k,kernel=k", "vm web: repeated key 'kernel'");
	vm_rejected("vm=web,cpus=1,kernel=k,cpus=1", "vm web: repeated key 'cpus'");
	vm_rejected("vm=web,,kernel=k", "vm web: empty field (expected key=value)");
	vm_rejected("vm=web,kernel=k,", "vm web: empty field (expected key=value)");
	vm_rejected("vm=web,", "vm web: empty field (expected key=value)");
	vm_rejected("vm=web,cpus", "vm web: missing value for 'cpus'");
}

static void test_vm_duplicates(void **state)
{
	(void)state;
	assert_int_equal(run("vm=a,kernel=x vm=a,kernel=y,mem=8M"), 1);
	assert_string_equal(E.last, "vm: duplicate name 'a'");
	assert_int_equal(C.nvms, 1);
	assert_vm(0, "a", "x", 32 * MiB, 1);
	/* Names are case-sensitive; the same module may boot many VMs. */
	assert_int_equal(run("vm=a,kernel=x vm=A,kernel=x"), 0);
	assert_int_equal(C.nvms, 2);
	/* A rejected declaration does not reserve its name. */
	assert_int_equal(run("vm=a,kernel=x,cpus=99 vm=a,kernel=y"), 1);
	assert_int_equal(C.nvms, 1);
	assert_vm(0, "a", "y", 32 * MiB, 1);
}

static void test_vm_limit(void **state)
{
	char line[1024];
	size_t n = 0;
	(void)state;

	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "vm=v%d,kernel=k%d ", i, i);
	assert_int_equal(run(line), 1);
	assert_string_equal(E.last,
			    "vm: cannot declare 'v16': too many VMs (limit 16, KEEL_MAX_VMS)");
	assert_int_equal(C.nvms, 16);
	for (unsigned i = 0; i < 16; i++) {
		char name[8], kernel[8];

		snprintf(name, sizeof(name), "v%u", i);
		snprintf(kernel, sizeof(kernel), "k%u", i);
		assert_vm(i, name, kernel, 32 * MiB, 1);
	}
	/* Exactly 16 is fine. */
	line[strlen(line) - strlen("vm=v16,kernel=k16 ")] = '\0';
	assert_int_equal(run(line), 0);
	assert_int_equal(C.nvms, 16);
}

static void test_vm_long_value(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1);
	(void)state;
	assert_non_null(s);

	memset(s, 'a', n);
	s[n] = '\0';
	memcpy(s, "vm=", 3);
	assert_int_equal(run(s), 1);
	assert_true(strlen(E.last) < 160);
	assert_non_null(strstr(E.last, "vm: bad name 'aaaa"));
	assert_non_null(strstr(E.last, "...' (expected"));

	memcpy(s, "vm=web,kernel=", 14);
	assert_int_equal(run(s), 1);
	assert_non_null(strstr(E.last, "vm web: bad kernel 'aaa"));

	memcpy(s, "vm=web,kernel=k,mem=", 20);
	for (size_t i = 20; i < n; i++)
		s[i] = '9';
	assert_int_equal(run(s), 1);
	assert_non_null(strstr(E.last, "is above 1T"));

	/* Many commas. */
	memcpy(s, "vm=web,kernel=k", 15);
	for (size_t i = 15; i < n; i++)
		s[i] = ',';
	assert_int_equal(run(s), 1);
	assert_string_equal(E.last, "vm web: empty field (expected key=value)");
	assert_int_equal(C.nvms, 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_empty),
	    cmocka_unit_test(test_loglevel_good),
	    cmocka_unit_test(test_loglevel_bad),
	    cmocka_unit_test(test_console_good),
	    cmocka_unit_test(test_console_bad),
	    cmocka_unit_test(test_maxcpus),
	    cmocka_unit_test(test_unknown_and_multiple),
	    cmocka_unit_test(test_all_white_space),
	    cmocka_unit_test(test_path_skipping),
	    cmocka_unit_test(test_long_garbage),
	    cmocka_unit_test(test_null_err_callback),
	    cmocka_unit_test(test_vm_good),
	    cmocka_unit_test(test_vm_defaults),
	    cmocka_unit_test(test_vm_policies),
	    cmocka_unit_test(test_vm_initrd),
	    cmocka_unit_test(test_pmtimer),
	    cmocka_unit_test(test_vm_mem_sizes),
	    cmocka_unit_test(test_vm_many_and_mixed),
	    cmocka_unit_test(test_vm_bad_name),
	    cmocka_unit_test(test_vm_bad_kernel),
	    cmocka_unit_test(test_vm_bad_mem),
	    cmocka_unit_test(test_vm_bad_cpus),
	    cmocka_unit_test(test_vm_bad_keys),
	    cmocka_unit_test(test_vm_duplicates),
	    cmocka_unit_test(test_vm_limit),
	    cmocka_unit_test(test_vm_long_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
