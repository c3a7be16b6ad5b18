/* Backend selection: the first backend whose probe succeeds is used. */
#include "vm/virt.h"
#include "core/printk.h"
#include "keel/x86.h"

/* Tried in this order; the CPU's own vendor first, so its reason is the one
 * a user reads first when neither works. */
static const struct virt_ops *const amd_first[] = {&svm_ops, &vmx_ops};
static const struct virt_ops *const intel_first[] = {&vmx_ops, &svm_ops};
#define NBACKENDS 2
static const struct virt_ops *chosen;
static unsigned enabled_cpus;

/* A backend with a missing hook would be called through NULL later. */
static bool ops_complete(const struct virt_ops *o)
{
	return o->name && o->probe && o->describe && o->enable_cpu && o->npt_format &&
	       o->npt_ram_prot && o->vcpu_create && o->vcpu_destroy && o->vcpu_run &&
	       o->get_sregs && o->set_sregs && o->set_efer && o->set_cr && o->get_msr &&
	       o->set_msr && o->pio_passthrough;
}

static bool vendor_is_intel(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	return r[1] == 0x756E6547u; /* "Genu" of "GenuineIntel" */
}

void virt_init(void)
{
	char why[VIRT_WHY_MAX];
	char desc[VIRT_DESC_MAX];
	const struct virt_ops *const *backends = vendor_is_intel() ? intel_first : amd_first;

	for (size_t i = 0; i < NBACKENDS; i++) {
		if (!ops_complete(backends[i]))
			panic("virt: backend %zu has a missing hook", i);
		if (!backends[i]->probe(why, sizeof(why))) {
			pr_info("virt: %s not usable: %s\n", backends[i]->name, why);
			continue;
		}
		chosen = backends[i];
		chosen->describe(desc, sizeof(desc));
		pr_info("virt: using %s (%s)\n", chosen->name, desc);
		return;
	}
	pr_warn("virt: no usable virtualization backend; guests cannot run on this machine\n");
}

void virt_enable_this_cpu(unsigned cpu)
{
	status_t st;

	if (!chosen)
		return;
	st = chosen->enable_cpu(cpu);
	if (st != ST_OK) {
		pr_err("virt: %s could not be enabled on CPU %u: %s\n", chosen->name, cpu,
		       status_str(st));
		return;
	}
	__atomic_add_fetch(&enabled_cpus, 1, __ATOMIC_SEQ_CST);
}

const char *virt_backend(void)
{
	return chosen ? chosen->name : NULL;
}

const struct virt_ops *virt_ops(void)
{
	return chosen;
}

unsigned virt_cpus_enabled(void)
{
	return enabled_cpus;
}

static const char *const reason_names[VMEXIT_REASON_COUNT] = {
    [VMEXIT_CPUID] = "cpuid",
    [VMEXIT_MSR_READ] = "rdmsr",
    [VMEXIT_MSR_WRITE] = "wrmsr",
    [VMEXIT_IO] = "io",
    [VMEXIT_MMIO] = "mmio",
    [VMEXIT_HLT] = "hlt",
    [VMEXIT_HYPERCALL] = "hypercall",
    [VMEXIT_IRQ_WINDOW] = "irq-window",
    [VMEXIT_EXTINT] = "extint",
    [VMEXIT_PREEMPT] = "preempt",
    [VMEXIT_NMI] = "nmi",
    [VMEXIT_SHUTDOWN] = "shutdown",
    [VMEXIT_XSETBV] = "xsetbv",
    [VMEXIT_CR_ACCESS] = "cr",
    [VMEXIT_UD] = "ud",
    [VMEXIT_EXCEPTION] = "exception",
    [VMEXIT_NOP] = "nop",
    [VMEXIT_INVALID_STATE] = "invalid-state",
    [VMEXIT_UNKNOWN] = "unknown",
};

const char *vm_exit_reason_name(enum vm_exit_reason r)
{
	return (unsigned)r < VMEXIT_REASON_COUNT ? reason_names[r] : "?";
}
