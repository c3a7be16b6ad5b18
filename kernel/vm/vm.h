/* The arch-neutral VM and vCPU objects: lifecycle, guest RAM, buses and
 * devices, exit counters. The backend's hardware state hangs off vcpu->hw;
 * common code reaches it only through virt_ops (virt.h).
 *
 * Locking: vm_list_lock guards the list of VMs, every VM's state and each
 * vCPU's `cpu` (which host CPU runs it). A VM's devices and console are
 * guarded by vm->lock. Exit counters are written only by the CPU running the
 * vCPU and read without a lock (64-bit aligned: never torn). */
#ifndef KEEL_VM_VM_H
#define KEEL_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cmdline.h"
#include "core/spinlock.h"
#include "vdev/console.h"
#include "vdev/debugexit.h"
#include "vdev/fwcfg.h"
#include "vdev/testdev.h"
#include "vm/asid.h"
#include "vm/bus.h"
#include "vm/guest_ram.h"
#include "vm/gwalk.h"
#include "vm/msr_policy.h"
#include "vm/vcpu_regs.h"
#include "vm/virt.h"
#include "vm/vmstate.h"
#include "vm/vpc.h"

#define VM_WHY_MAX 160
#define VCPU_CPUID_CACHE 16 /* recent leaves, direct-mapped */

/* Per-exit snapshot of guest state the dispatcher reads on hot paths; the
 * backend fills it at every exit. */
struct vcpu_ctl {
	uint64_t cr0, cr3, cr4, efer; /* efer as the guest sees it */
	uint64_t cs_base;
	enum insn_mode mode; /* from CS.L/CS.D and EFER.LMA */
	uint8_t cpl;
	bool intr_shadow; /* STI / MOV SS shadow: no interrupt before the next insn */
	/* CR8 (the vLAPIC TPR's class) as entered; a backend whose guest
	 * writes CR8 without an exit (SVM's V_TPR) returns the new value. */
	uint8_t cr8;
};

struct cpuid_cache_entry {
	bool valid;
	uint32_t leaf, sub;
	uint32_t r[4];
};

struct decode_memo {
	bool valid;
	enum insn_mode mode;
	uint8_t bytes[INSN_MAX_LEN];
	struct insn in;
};

enum vcpu_wait {
	VCPU_READY,	/* can run */
	VCPU_HALTED,	/* in HLT: runs again when an interrupt is pending */
	VCPU_WAIT_SIPI, /* an application processor before its start-up IPI */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	struct vcpu_regs regs;
	struct vcpu_ctl ctl;
	void *hw;	/* backend state */
	uint64_t hw_pa; /* its physical address, when the backend needs one */

	enum vcpu_wait wait;
	/* INIT and SIPI another vCPU sent; applied by this vCPU's own CPU at
	 * its next entry (they change backend state). */
	bool init_pending, sipi_pending;
	uint8_t sipi_vector;
	int cpu;			/* host CPU running it, -1 when none (vm_list_lock) */
	struct guest_event inject;	/* delivered at the next entry */
	struct guest_event pending_exc; /* raised by an exit handler */
	bool want_irq_window;		/* ask to exit once interrupts can be taken */
	uint8_t tpr_window;		/* >0: ask to exit once CR8 drops below this class */
	/* TSC by which the next guest run must exit (slice end or a device
	 * deadline); Keel's LAPIC timer is armed for it, and a backend with a
	 * timer of its own (the VT-x preemption timer) arms that too. */
	uint64_t run_until;

	struct msr_state msrs;
	uint64_t tsc_aux;
	uint64_t xcr0;
	void *fpu; /* XSAVE/FXSAVE area: the guest's x87/SSE/AVX state */
	uint64_t fpu_pa;
	uint64_t dr[4]; /* DR0-DR3: neither VMRUN nor VM entry switches them */
	struct asid_vcpu asid;
	struct cpuid_cache_entry cpuid_cache[VCPU_CPUID_CACHE];
	struct gwalk_memo fetch_memo, data_memo; /* last instruction and data walks */
	struct decode_memo decode_memo;

	uint64_t exits[VMEXIT_REASON_COUNT];
};

struct vm {
	char name[VM_NAME_MAX + 1];
	struct vm_decl decl;
	enum vm_state state;  /* vm_list_lock */
	char why[VM_WHY_MAX]; /* why it stopped or crashed */
	bool has_exit_code;
	uint32_t exit_code; /* debug-exit code */
	uint64_t started_tsc, starts;
	uint64_t boot_ticks; /* TSC ticks from start to the boot mark, 0 before */

	struct spinlock lock; /* devices and console */
	struct guest_ram ram;
	struct bus pio, mmio;
	struct console con;
	struct vpc vpc; /* the virtual PC: interrupt controllers, timers, UART, ACPI */
	struct debugexit dbgexit;
	struct fwcfg fwcfg;
	struct testdev testdev;

	unsigned nvcpus;
	struct vcpu *vcpus[KEEL_MAX_VCPUS];

	/* A guest reset with on_reboot=restart (or a crash with
	 * on_crash=restart) waits for the scheduler to restart the VM;
	 * `rebooting` marks the restart in progress (vm_list_lock). */
	bool reboot_pending, rebooting;
	uint64_t reboots;

	/* Counts of guest accesses Keel refused or could not place. */
	uint64_t msr_gp; /* MSRs outside the policy: #GP injected */
	struct vm *next;
};

/* Creates every VM declared on the command line and starts it; reports each
 * failure in one line and goes on with the others. */
void vm_boot_declared(void);

/* Guards the VM list, VM states and vcpu->cpu. */
struct spinlock *vm_list_lock(void);

/* Lookup by name, under vm_list_lock by the caller, or for a snapshot. */
struct vm *vm_find(const char *name);
/* First VM and the next one, for listing (the list only grows at boot and
 * shrinks on destroy, both from the management CPU). */
struct vm *vm_first(void);

/* Management actions. Each checks that the VM's state allows it and writes
 * a one-line reason to why when it does not. */
status_t vm_start(struct vm *vm, char *why, size_t len) MUST_CHECK;
status_t vm_stop(struct vm *vm, char *why, size_t len) MUST_CHECK;
status_t vm_pause(struct vm *vm, char *why, size_t len) MUST_CHECK;
status_t vm_shutdown(struct vm *vm, char *why, size_t len) MUST_CHECK;
status_t vm_resume(struct vm *vm, char *why, size_t len) MUST_CHECK;
status_t vm_destroy(struct vm *vm, char *why, size_t len) MUST_CHECK;

/* The guest reset the machine (0xCF9, the 8042, the ACPI reset register,
 * or a triple fault when `crash`): stops it or asks for a restart, as its
 * on_reboot / on_crash policy says. */
void vm_guest_reset(struct vm *vm, bool crash, const char *why);
/* Restarts a VM whose reset asked for it (the scheduler calls it once the
 * vCPUs are off their CPUs); CMOS RAM survives. */
void vm_reboot_if_pending(struct vm *vm);

/* Called from exit handling on the vCPU's CPU: the guest ended the VM.
 * ev is VM_EV_STOP or VM_EV_CRASH; why is kept for `vms`. */
void vm_guest_end(struct vm *vm, enum vm_event ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Guest timers of the VM's devices (vpc.c): the guest-TSC time the next one
 * is due (VDEV_NEVER: none; read without the lock: a cached value), and the
 * update that fires those due by now (takes the VM's lock). */
/* vm->lock. Releasing it recomputes the models' next deadline when a model
 * changed under it, so vm_timers_due() is never stale when read without
 * the lock (scheduler, idle CPUs). */
uint64_t vm_lock(struct vm *vm);
void vm_unlock(struct vm *vm, uint64_t flags);

uint64_t vm_timers_due(const struct vm *vm);
void vm_timers_update(struct vm *vm, uint64_t now);

/* INIT: v goes to the reset state and waits for a SIPI (on its own CPU). */
void vcpu_reset_state(struct vcpu *v);

/* Host bytes the VM holds: RAM, nested tables, vCPU state. */
uint64_t vm_footprint(const struct vm *vm);
/* Sum of one exit counter over the VM's vCPUs. */
uint64_t vm_exits(const struct vm *vm, enum vm_exit_reason r);

/* Host-physical allocator for guest RAM, backed by the frame allocator. */
extern const struct gram_alloc vm_host_frames;

#endif
