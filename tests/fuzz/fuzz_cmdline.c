/* libFuzzer target for the boot command-line parser (options and VM
 * declarations). Every word is accepted or reported, and what is accepted
 * stays within the documented limits. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned reports;

static void err(void *ctx, const char *msg)
{
	(void)ctx;
	if (!msg || !msg[0] || strchr(msg, '\n'))
		abort(); /* one line, not empty */
	reports++;
}

static void check_vm(const struct vm_decl *v)
{
	if (!memchr(v->name, 0, sizeof(v->name)) || !v->name[0] ||
	    !memchr(v->kernel, 0, sizeof(v->kernel)) || !v->kernel[0] ||
	    !memchr(v->initrd, 0, sizeof(v->initrd)))
		abort();
	if (v->mem < KEEL_VM_MIN_MEM || v->mem > KEEL_VM_MAX_MEM || v->mem % KEEL_VM_MEM_ALIGN)
		abort();
	if (v->cpus < 1 || v->cpus > KEEL_MAX_VCPUS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keel_config c;
	char *s = malloc(size + 1);
	unsigned bad;

	memcpy(s, data, size);
	s[size] = '\0';
	cmdline_defaults(&c);
	reports = 0;
	bad = cmdline_parse(s, &c, err, NULL);
	if (bad != reports || c.nvms > KEEL_MAX_VMS)
		abort();
	for (unsigned i = 0; i < c.nvms; i++) {
		check_vm(&c.vms[i]);
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c.vms[i].name, c.vms[j].name))
				abort(); /* names are unique */
	}
	free(s);
	return 0;
}
