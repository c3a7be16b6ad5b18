/* The exit dispatcher (DESIGN.md section 3): every exit of either backend is
 * handled here, and the run loop around the backend's vcpu_run lives here
 * too. A guest-caused problem stops or crashes that VM with a reason; it
 * never stops Keel. */
#include "vm/exit.h"

#include "core/fmt.h"
#include "core/printk.h"
#include "cpu/fpu.h"
#include "cpu/timer.h"
#include "keel/hypercall.h"
#include "keel/kstring.h"
#include "keel/x86.h"
#include "vm/cpuid_policy.h"
#include "vm/cr_rules.h"
#include "vm/emulate.h"
#include "vm/gwalk.h"
#include "vm/sched.h"

#define VEC_DE 0
#define VEC_UD 6
#define VEC_DF 8
#define VEC_TS 10
#define VEC_GP 13
#define VEC_PF 14
#define CR4_OSXSAVE (1ull << 18)
#define MSR_TSC_AUX 0xC0000103u
#define CPUID_XSAVE_LEAF 0xDu
#define BYTES_SHOWN 15
#define GW_PAGE_SIZE 4096ull
#define CPUID_EXT_EDX_RDTSCP (1u << 27)

typedef void (*exit_handler)(struct vcpu *v, struct vm_exit *e);

/* TSC_AUX exists only with RDTSCP (or RDPID). */
static bool host_has_tsc_aux(void)
{
	static int known = -1;
	uint32_t r[4];

	if (known < 0) {
		cpuid(0x80000001u, 0, r);
		known = (r[3] & CPUID_EXT_EDX_RDTSCP) != 0;
	}
	return known;
}

/* ---- events ---- */

static void raise_exc(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	v->pending_exc = (struct guest_event){
	    .type = GEV_EXCEPTION, .vector = vector, .has_error = has_error, .error = error};
}

static void raise_gp(struct vcpu *v)
{
	raise_exc(v, VEC_GP, true, 0);
}

static void raise_ud(struct vcpu *v)
{
	raise_exc(v, VEC_UD, false, 0);
}

static void raise_pf(struct vcpu *v, uint64_t cr2, uint32_t error)
{
	v->pending_exc = (struct guest_event){.type = GEV_EXCEPTION,
					      .vector = VEC_PF,
					      .has_error = true,
					      .error = error,
					      .set_cr2 = true,
					      .cr2 = cr2};
}

/* What v could take next, from the virtual PC or the test device (vCPU 0
 * only). The caller holds vm->lock. */
static bool next_interrupt(struct vcpu *v, struct guest_event *ev, bool *from_testdev)
{
	int vec = v->id == 0 ? testdev_irq_pending(&v->vm->testdev) : 0;

	*from_testdev = false;
	if (vpc_pending(v->vm, v, ev)) {
		if (ev->type == GEV_NMI || !vec)
			return true;
	}
	if (!vec)
		return false;
	*ev = (struct guest_event){.type = GEV_EXTINT, .vector = (uint8_t)vec};
	*from_testdev = true;
	return true;
}

/* NMIs are taken whatever RFLAGS.IF says; interrupts need IF. */
static bool can_take(const struct vcpu *v, const struct guest_event *ev)
{
	return ev->type == GEV_NMI || (v->regs.rflags & RFLAGS_IF);
}

static bool deliverable(struct vcpu *v)
{
	struct guest_event ev;
	bool from_testdev;

	return next_interrupt(v, &ev, &from_testdev) && can_take(v, &ev);
}

bool vcpu_irq_deliverable(struct vcpu *v)
{
	uint64_t f = vm_lock(v->vm);
	bool ok = deliverable(v);

	vm_unlock(v->vm, f);
	return ok;
}

/* Without the VM's lock, for the scheduler, which holds the list lock
 * (taking vm->lock under it would invert the order exit handling uses). A
 * stale answer only costs a short slice or a later look: the slice
 * re-checks under the lock. */
bool vcpu_irq_hint(struct vcpu *v)
{
	return deliverable(v);
}

static void take_interrupt(struct vcpu *v)
{
	struct guest_event ev;
	bool from_testdev;

	if (!next_interrupt(v, &ev, &from_testdev)) {
		v->tpr_window = (uint8_t)vpc_tpr_blocked(v->vm, v);
		return;
	}
	if (!can_take(v, &ev) || v->ctl.intr_shadow) {
		v->want_irq_window = true;
		return;
	}
	if (from_testdev)
		testdev_irq_delivered(&v->vm->testdev);
	else
		vpc_ack(v->vm, v, &ev);
	v->inject = ev;
}

/* Chooses what to deliver at this entry: an event interrupted by the exit
 * first, then an exception raised by a handler, then an interrupt if the
 * guest can take one now; otherwise asks for an exit when it can. */
static void prepare_events(struct vcpu *v)
{
	uint64_t f;

	v->want_irq_window = false;
	v->tpr_window = 0;
	/* Only this vCPU writes its own TPR, so no lock is needed to read it. */
	v->ctl.cr8 = vpc_cr8(v->vm, v);
	if (v->inject.type != GEV_NONE)
		return;
	if (v->pending_exc.type != GEV_NONE) {
		v->inject = v->pending_exc;
		v->pending_exc.type = GEV_NONE;
		return;
	}
	f = vm_lock(v->vm);
	take_interrupt(v);
	vm_unlock(v->vm, f);
}

/* ---- guest memory ---- */

static bool gmem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return gram_read(ctx, gpa, buf, len);
}

static const void *gmem_map(void *ctx, uint64_t gpa, size_t len)
{
	return gram_ptr(ctx, gpa, len);
}

static void walk_regs(const struct vcpu *v, struct gwalk_regs *r)
{
	r->cr0 = v->ctl.cr0;
	r->cr3 = v->ctl.cr3;
	r->cr4 = v->ctl.cr4;
	r->efer = v->ctl.efer;
}

static void crash(struct vcpu *v, const char *what, const char *detail)
{
	vm_guest_end(v->vm, VM_EV_CRASH, "vCPU %u at RIP %#lx: %s%s", v->id, v->regs.rip, what,
		     detail);
}

/* The same instruction exiting again (a polling loop, a benchmark): the
 * memo of its page still holds and all 15 bytes lie in that page. */
static bool fetch_fast(struct vcpu *v, const struct gwalk_regs *r, uint64_t la, uint8_t *buf,
		       size_t *got)
{
	uint64_t gpa;
	const void *p;

	if ((la & (GW_PAGE_SIZE - 1)) > GW_PAGE_SIZE - INSN_MAX_LEN ||
	    !gwalk_memo_lookup(&v->fetch_memo, r, la, GW_FETCH, v->ctl.cpl == 3, &gpa))
		return false;
	p = gram_ptr(&v->vm->ram, gpa, INSN_MAX_LEN);
	if (!p)
		return false;
	memcpy(buf, p, INSN_MAX_LEN);
	*got = INSN_MAX_LEN;
	return true;
}

/* Fetches up to 15 bytes at CS:RIP. On a fault it raises #PF (or stops the
 * VM when the guest's tables leave its RAM) and returns false. */
static bool fetch(struct vcpu *v, uint8_t *buf, size_t *got)
{
	struct gmem m = {&v->vm->ram, gmem_read, gmem_map};
	struct gwalk_regs r;
	struct gwalk_fault f;
	uint64_t la = v->ctl.cs_base + v->regs.rip;
	status_t st;

	if (v->ctl.mode != INSN_MODE_64)
		la &= 0xFFFFFFFFull;
	walk_regs(v, &r);
	if (fetch_fast(v, &r, la, buf, got))
		return true;
	st = gwalk_fetch_memo(&m, &r, la, v->ctl.cpl == 3, buf, INSN_MAX_LEN, got, &f,
			      &v->fetch_memo);
	if (st == ST_OK)
		return true;
	if (st == ST_ENOENT)
		raise_pf(v, f.gva, f.error_code);
	else if (st == ST_EINVAL)
		raise_gp(v);
	else
		crash(v, "instruction fetch outside guest RAM", "");
	return false;
}

static void format_bytes(char *out, size_t len, const uint8_t *b, size_t n)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && i < BYTES_SHOWN && at + 4 < len; i++)
		at += (size_t)ksnprintf(out + at, len - at, " %02x", b[i]);
}

/* RIP wraps at the code segment's operand width. */
static uint64_t wrap_rip(const struct vcpu *v, uint64_t rip)
{
	if (v->ctl.mode == INSN_MODE_32)
		return rip & 0xFFFFFFFFull;
	if (v->ctl.mode == INSN_MODE_16)
		return rip & 0xFFFFull;
	return rip;
}

/* Moves RIP past the instruction that exited. The hardware said where it
 * ends, or the bytes are measured (SVM without NRIP save). */
static bool skip(struct vcpu *v, const struct vm_exit *e)
{
	uint8_t buf[INSN_MAX_LEN], len;
	char bytes[3 * BYTES_SHOWN + 1];
	size_t got;

	v->ctl.intr_shadow = false; /* the shadow covers only that instruction */
	if (e->next_rip_known) {
		v->regs.rip = e->next_rip;
		return true;
	}
	if (!fetch(v, buf, &got))
		return false;
	if (insn_exit_length(buf, got, v->ctl.mode, e->insn, &len) != ST_OK) {
		format_bytes(bytes, sizeof(bytes), buf, got);
		crash(v, "cannot measure the exiting instruction:", bytes);
		return false;
	}
	v->regs.rip = wrap_rip(v, v->regs.rip + len);
	return true;
}

/* ---- CPUID ---- */

static void host_cpuid(void *ctx, uint32_t leaf, uint32_t sub, struct cpuid_regs *out)
{
	uint32_t r[4];

	(void)ctx;
	cpuid(leaf, sub, r);
	*out = (struct cpuid_regs){r[0], r[1], r[2], r[3]};
}

/* The policy's answer, cached per vCPU: it never changes for a VM. */
static const uint32_t *guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub)
{
	struct cpuid_cache_entry *c = &v->cpuid_cache[(leaf ^ (sub * 5)) % VCPU_CPUID_CACHE];
	struct cpuid_guest g = {v->id, v->vm->nvcpus, tsc_hz()};
	struct cpuid_regs out;

	if (c->valid && c->leaf == leaf && c->sub == sub)
		return c->r;
	cpuid_policy(host_cpuid, NULL, &g, leaf, sub, &out);
	*c = (struct cpuid_cache_entry){true, leaf, sub, {out.eax, out.ebx, out.ecx, out.edx}};
	return c->r;
}

static void on_cpuid(struct vcpu *v, struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.gpr[GPR_RAX], sub = (uint32_t)v->regs.gpr[GPR_RCX];
	const uint32_t *r = guest_cpuid(v, leaf, sub);
	uint32_t ecx = r[2];

	if (leaf == 1)
		ecx = (ecx & ~CPUID_1_ECX_OSXSAVE) |
		      ((v->ctl.cr4 & CR4_OSXSAVE) ? CPUID_1_ECX_OSXSAVE : 0);
	v->regs.gpr[GPR_RAX] = r[0];
	v->regs.gpr[GPR_RBX] = r[1];
	v->regs.gpr[GPR_RCX] = ecx;
	v->regs.gpr[GPR_RDX] = r[3];
	skip(v, e);
}

/* ---- MSRs ---- */

static uint64_t edx_eax(const struct vcpu *v)
{
	return (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
}

/* The LAPIC's MSRs, under the VM's lock (an x2APIC ICR write reaches other
 * vCPUs' APICs). */
static bool lapic_msr(struct vcpu *v, uint32_t index, bool write, uint64_t *val)
{
	uint64_t f = vm_lock(v->vm);
	bool ok = write ? vpc_msr_write(v->vm, v, index, *val) : vpc_msr_read(v->vm, v, index, val);

	vm_unlock(v->vm, f);
	return ok;
}

static bool hook_read(struct vcpu *v, uint32_t index, uint64_t *val)
{
	if (vpc_is_lapic_msr(index))
		return lapic_msr(v, index, false, val);
	switch (index) {
	case MSR_IA32_TSC:
		*val = rdtsc();
		return true;
	case MSR_IA32_EFER:
		*val = v->ctl.efer;
		return true;
	case MSR_IA32_TSC_AUX:
		*val = v->tsc_aux;
		return true;
	}
	return false;
}

static bool hook_write(struct vcpu *v, uint32_t index, uint64_t val)
{
	uint64_t efer;

	if (vpc_is_lapic_msr(index))
		return lapic_msr(v, index, true, &val);
	switch (index) {
	case MSR_IA32_EFER:
		if (msr_efer_write(v->ctl.efer, val, v->ctl.cr0 & CR0_PG, &efer) != MSR_OK)
			return false;
		v->ctl.efer = efer;
		virt_ops()->set_efer(v, efer);
		return true;
	case MSR_IA32_TSC_AUX:
		if ((val >> 32) || !host_has_tsc_aux())
			return false;
		v->tsc_aux = val;
		if (host_has_tsc_aux())
			wrmsr(MSR_TSC_AUX, val);
		return true;
	}
	return false; /* TSC writes: the guest TSC cannot be moved yet */
}

static void on_msr_read(struct vcpu *v, struct vm_exit *e)
{
	uint32_t index = e->msr.index;
	uint64_t val = 0;
	bool ok;

	switch (msr_read(&v->msrs, index, &val)) {
	case MSR_OK:
		ok = true;
		break;
	case MSR_HOOK:
		ok = hook_read(v, index, &val);
		break;
	case MSR_HW:
		ok = virt_ops()->get_msr(v, index, &val);
		break;
	default:
		ok = false;
	}
	if (!ok) {
		v->vm->msr_gp++;
		raise_gp(v);
		return;
	}
	v->regs.gpr[GPR_RAX] = (uint32_t)val;
	v->regs.gpr[GPR_RDX] = val >> 32;
	skip(v, e);
}

static void on_msr_write(struct vcpu *v, struct vm_exit *e)
{
	uint32_t index = e->msr.index;
	uint64_t val = edx_eax(v);
	bool ok;

	switch (msr_write(&v->msrs, index, val)) {
	case MSR_OK:
		ok = true;
		break;
	case MSR_HOOK:
		ok = hook_write(v, index, val);
		break;
	case MSR_HW:
		ok = virt_ops()->set_msr(v, index, val);
		break;
	default:
		ok = false;
	}
	if (!ok) {
		v->vm->msr_gp++;
		raise_gp(v);
		return;
	}
	skip(v, e);
}

/* ---- device access ---- */

/* A device access, with the accessing vCPU known to the models that
 * depend on it (the LAPIC page) and the timer deadline refreshed if the
 * access moved it. */
static status_t locked_bus(struct vcpu *v, struct bus *b, bool write, uint64_t addr, uint8_t size,
			   uint64_t *val)
{
	struct vm *vm = v->vm;
	uint64_t f = vm_lock(vm);
	status_t st;

	vm->vpc.accessor = v;
	st = write ? bus_write(b, addr, size, *val) : bus_read(b, addr, size, val);
	vm->vpc.accessor = NULL;
	vm_unlock(vm, f);
	return st;
}

static status_t env_translate(void *ctx, uint64_t la, bool write, uint64_t *gpa,
			      struct emu_fault *fault)
{
	struct vcpu *v = ctx;
	struct gmem m = {&v->vm->ram, gmem_read, gmem_map};
	struct gwalk_regs r;
	struct gwalk_fault f;
	status_t st;

	walk_regs(v, &r);
	st = gwalk_translate_memo(&m, &r, la, write ? GW_WRITE : GW_READ, v->ctl.cpl == 3, gpa, &f,
				  &v->data_memo);
	if (st == ST_ENOENT)
		*fault = (struct emu_fault){VEC_PF, true, f.error_code, f.gva};
	else if (st == ST_EINVAL)
		*fault = (struct emu_fault){VEC_GP, true, 0, 0};
	else
		return st;
	return ST_ENOENT;
}

static bool env_is_ram(void *ctx, uint64_t gpa, size_t len)
{
	struct vcpu *v = ctx;

	return gram_contains(&v->vm->ram, gpa, len);
}

static status_t env_ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct vcpu *v = ctx;

	return gram_read(&v->vm->ram, gpa, buf, len) ? ST_OK : ST_ERANGE;
}

static status_t env_ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct vcpu *v = ctx;

	return gram_write(&v->vm->ram, gpa, buf, len) ? ST_OK : ST_ERANGE;
}

static status_t env_mmio_read(void *ctx, uint64_t gpa, uint8_t size, uint64_t *val)
{
	struct vcpu *v = ctx;

	return locked_bus(v, &v->vm->mmio, false, gpa, size, val);
}

static status_t env_mmio_write(void *ctx, uint64_t gpa, uint8_t size, uint64_t val)
{
	struct vcpu *v = ctx;

	return locked_bus(v, &v->vm->mmio, true, gpa, size, &val);
}

static status_t env_pio_read(void *ctx, uint16_t port, uint8_t size, uint64_t *val)
{
	struct vcpu *v = ctx;

	return locked_bus(v, &v->vm->pio, false, port, size, val);
}

static status_t env_pio_write(void *ctx, uint16_t port, uint8_t size, uint64_t val)
{
	struct vcpu *v = ctx;

	return locked_bus(v, &v->vm->pio, true, port, size, &val);
}

/* Segment bases matter only to string instructions (the others use the
 * faulting guest-physical address), so only they pay for reading them. */
static void fill_env(struct vcpu *v, struct emu_env *env, bool segments)
{
	struct vcpu_sregs s;

	*env = (struct emu_env){
	    .ctx = v,
	    .mode = v->ctl.mode,
	    .translate = env_translate,
	    .is_ram = env_is_ram,
	    .ram_read = env_ram_read,
	    .ram_write = env_ram_write,
	    .mmio_read = env_mmio_read,
	    .mmio_write = env_mmio_write,
	    .pio_read = env_pio_read,
	    .pio_write = env_pio_write,
	};
	if (!segments)
		return;
	virt_ops()->get_sregs(v, &s);
	for (int i = 0; i < SEG_COUNT; i++)
		env->seg_base[i] = s.seg[i].base; /* enum seg and enum vseg agree on 0-5 */
}

static void emu_outcome(struct vcpu *v, enum emu_result res, const struct emu_fault *f,
			const char *why)
{
	if (res == EMU_FAULT) {
		v->pending_exc = (struct guest_event){.type = GEV_EXCEPTION,
						      .vector = f->vector,
						      .has_error = f->has_error,
						      .error = f->error,
						      .set_cr2 = f->vector == VEC_PF,
						      .cr2 = f->cr2};
	} else if (res == EMU_STOP) {
		crash(v, "emulation failed: ", why);
	}
	if (res == EMU_DONE)
		v->ctl.intr_shadow = false;
}

/* The last decode: decoding is a function of the instruction's bytes and
 * the mode alone, so when the same bytes come back (a driver polling one
 * register) the answer is reused. */
static bool decode_memo_hit(const struct vcpu *v, const uint8_t *buf, size_t got, struct insn *in)
{
	const struct decode_memo *d = &v->decode_memo;

	if (!d->valid || d->mode != v->ctl.mode || got < d->in.len)
		return false;
	for (unsigned i = 0; i < d->in.len; i++)
		if (buf[i] != d->bytes[i])
			return false;
	*in = d->in;
	return true;
}

static void decode_memo_keep(struct vcpu *v, const uint8_t *buf, const struct insn *in)
{
	struct decode_memo *d = &v->decode_memo;

	d->valid = true;
	d->mode = v->ctl.mode;
	d->in = *in;
	memcpy(d->bytes, buf, in->len);
}

/* Fetches and decodes the instruction at RIP; crashes the VM with the
 * bytes when Keel cannot decode it. */
static bool decode_at_rip(struct vcpu *v, struct insn *in)
{
	uint8_t buf[INSN_MAX_LEN];
	char bytes[3 * BYTES_SHOWN + 1];
	size_t got;

	if (!fetch(v, buf, &got))
		return false;
	if (decode_memo_hit(v, buf, got, in))
		return true;
	if (insn_decode(buf, got, v->ctl.mode, in) == ST_OK) {
		decode_memo_keep(v, buf, in);
		return true;
	}
	format_bytes(bytes, sizeof(bytes), buf, got);
	crash(v, "cannot decode the instruction:", bytes);
	return false;
}

static void on_string_io(struct vcpu *v, struct vm_exit *e)
{
	struct insn in;
	struct emu_env env;
	struct emu_fault f;
	char why[VM_WHY_MAX];
	enum emu_result res;

	if (!decode_at_rip(v, &in))
		return;
	if (in.op != INSN_INS && in.op != INSN_OUTS) {
		crash(v, "string I/O exit on another instruction: ", insn_op_name(in.op));
		return;
	}
	fill_env(v, &env, true);
	res = emu_pio_string(&in, e->io.port, &v->regs, &env, &f, why, sizeof(why));
	emu_outcome(v, res, &f, why);
}

static void on_io(struct vcpu *v, struct vm_exit *e)
{
	uint64_t mask = e->io.size == 4 ? 0xFFFFFFFFull : (1ull << (8 * e->io.size)) - 1;
	uint64_t val = v->regs.gpr[GPR_RAX] & mask;
	status_t st;

	if (e->io.string) {
		on_string_io(v, e);
		return;
	}
	st = locked_bus(v, &v->vm->pio, !e->io.in, e->io.port, e->io.size, &val);
	if (st != ST_OK) {
		crash(v, "port access failed: ", status_str(st));
		return;
	}
	if (e->io.in && e->io.size == 4) /* a 32-bit destination zero-extends */
		v->regs.gpr[GPR_RAX] = val & mask;
	else if (e->io.in)
		v->regs.gpr[GPR_RAX] = (v->regs.gpr[GPR_RAX] & ~mask) | (val & mask);
	skip(v, e);
}

static void on_mmio(struct vcpu *v, struct vm_exit *e)
{
	char detail[VM_WHY_MAX];
	struct insn in;
	struct emu_env env;
	struct emu_fault f;
	enum emu_result res;

	if (e->mmio.walk || gram_contains(&v->vm->ram, e->mmio.gpa, 1)) {
		ksnprintf(detail, sizeof(detail), "%#lx%s", e->mmio.gpa,
			  e->mmio.walk ? " (its page tables are not in RAM)" : "");
		crash(v, "nested page fault at guest-physical ", detail);
		return;
	}
	if (e->mmio.fetch) {
		ksnprintf(detail, sizeof(detail), "%#lx", e->mmio.gpa);
		crash(v, "executing from non-RAM guest-physical ", detail);
		return;
	}
	if (!decode_at_rip(v, &in))
		return;
	fill_env(v, &env, in.op == INSN_STOS || in.op == INSN_MOVS);
	res = emu_mmio(&in, e->mmio.gpa, &v->regs, &env, &f, detail, sizeof(detail));
	emu_outcome(v, res, &f, detail);
}

/* ---- the rest ---- */

static void on_hlt(struct vcpu *v, struct vm_exit *e)
{
	if (!skip(v, e))
		return;
	if (!vcpu_irq_deliverable(v))
		v->wait = VCPU_HALTED;
}

static void on_hypercall(struct vcpu *v, struct vm_exit *e)
{
	switch (v->regs.gpr[GPR_RAX]) {
	case KEEL_HC_ABI_VERSION:
		v->regs.gpr[GPR_RAX] = KEEL_HC_ABI;
		skip(v, e);
		return;
	}
	raise_ud(v);
}

/* XSETBV (SDM vol. 2, XSETBV; vol. 1 13.3): only XCR0, only components the
 * guest's CPUID offers, x87 always on, AVX with SSE, AVX-512 all or none. */
static bool xcr0_ok(struct vcpu *v, uint64_t val)
{
	const uint32_t *r = guest_cpuid(v, CPUID_XSAVE_LEAF, 0);
	uint64_t allowed = ((uint64_t)r[3] << 32) | r[0];
	uint64_t avx512 = FPU_XCR0_OPMASK | FPU_XCR0_ZMM_HI256 | FPU_XCR0_HI16_ZMM;

	if ((val & ~allowed) || !(val & FPU_XCR0_X87))
		return false;
	if ((val & FPU_XCR0_AVX) && !(val & FPU_XCR0_SSE))
		return false;
	if ((val & avx512) && ((val & avx512) != avx512 || !(val & FPU_XCR0_AVX)))
		return false;
	return true;
}

static void on_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	uint64_t val = edx_eax(v);

	if ((uint32_t)v->regs.gpr[GPR_RCX] != 0 || v->ctl.cpl != 0 || !xcr0_ok(v, val)) {
		raise_gp(v);
		return;
	}
	v->xcr0 = val;
	fpu_set_xcr0(val);
	skip(v, e);
}

/* CR4 bits a guest may set: the architectural ones Keel does not hide.
 * LA57 (5-level paging), VMXE, SMXE, CET and PKS stay 0, as CPUID says. */
#define GUEST_CR4_ALLOWED                                                                          \
	(0x7FFull | (1ull << 11) | (1ull << 16) | (1ull << 17) | (1ull << 18) | (1ull << 20) |     \
	 (1ull << 21) | (1ull << 22))
#define CR8_TPR_MASK 0xFull

static uint64_t cr_source(const struct vcpu *v, uint8_t gpr)
{
	uint64_t val = v->regs.gpr[gpr & (GPR_COUNT - 1)];

	return v->ctl.mode == INSN_MODE_64 ? val : val & 0xFFFFFFFFull;
}

/* MOV to or from CR8: the LAPIC's task priority, bits 7:4 of its TPR. */
static bool on_cr8(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val, f;

	if (!e->cr.write) {
		f = vm_lock(v->vm);
		v->regs.gpr[e->cr.gpr & (GPR_COUNT - 1)] = vpc_cr8(v->vm, v);
		vm_unlock(v->vm, f);
		return true;
	}
	val = cr_source(v, e->cr.gpr);
	if (val & ~CR8_TPR_MASK)
		return false;
	f = vm_lock(v->vm);
	vpc_set_cr8(v->vm, v, (uint8_t)val);
	vm_unlock(v->vm, f);
	return true;
}

static bool on_cr0_cr4(struct vcpu *v, const struct vm_exit *e)
{
	struct cr_state s = {
	    v->ctl.cr0,	      v->ctl.cr3, v->ctl.cr4, v->ctl.efer, v->ctl.mode == INSN_MODE_64,
	    GUEST_CR4_ALLOWED};
	uint64_t val = cr_source(v, e->cr.gpr);

	if (e->cr.cr == 0 && cr0_write_faults(&s, val))
		return false;
	if (e->cr.cr == 4 && cr4_write_faults(&s, val))
		return false;
	if (e->cr.cr == 0)
		val |= CR0_ET; /* hard-wired to 1 */
	virt_ops()->set_cr(v, e->cr.cr, val);
	return true;
}

/* Names the register (and length) an exit left out, from the bytes. */
static bool decode_mov_cr(struct vcpu *v, struct vm_exit *e)
{
	uint8_t buf[INSN_MAX_LEN];
	char bytes[3 * BYTES_SHOWN + 1];
	struct insn_mov_cr m;
	size_t got;

	if (!fetch(v, buf, &got))
		return false;
	if (insn_decode_mov_cr(buf, got, v->ctl.mode, &m) != ST_OK || m.cr != e->cr.cr ||
	    m.write != e->cr.write) {
		format_bytes(bytes, sizeof(bytes), buf, got);
		crash(v, "control-register exit on another instruction:", bytes);
		return false;
	}
	e->cr.gpr = m.gpr;
	e->next_rip_known = true;
	e->next_rip = wrap_rip(v, v->regs.rip + m.len);
	return true;
}

static void on_cr(struct vcpu *v, struct vm_exit *e)
{
	bool ok;

	if (e->cr.gpr == VMEXIT_GPR_UNKNOWN && !decode_mov_cr(v, e))
		return;

	if (e->cr.cr == 8)
		ok = on_cr8(v, e);
	else if ((e->cr.cr == 0 || e->cr.cr == 4) && e->cr.write)
		ok = on_cr0_cr4(v, e);
	else {
		crash(v, "unexpected control-register exit", "");
		return;
	}
	if (!ok) {
		raise_gp(v);
		return;
	}
	skip(v, e);
}

static void on_ud(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	raise_ud(v);
}

/* Is an SVM instruction (whose rAX check fires before its intercept, APM
 * vol. 3 VMRUN/VMLOAD/VMSAVE) at RIP? */
static bool svm_insn_at_rip(struct vcpu *v)
{
	static const enum insn_exit_kind kinds[] = {INSN_EXIT_VMRUN, INSN_EXIT_VMLOAD,
						    INSN_EXIT_VMSAVE};
	uint8_t buf[INSN_MAX_LEN], len;
	size_t got;

	if (!fetch(v, buf, &got))
		return false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (insn_exit_length(buf, got, v->ctl.mode, kinds[i], &len) == ST_OK)
			return true;
	return false;
}

static bool contributory(uint8_t vector)
{
	return vector == VEC_DE || (vector >= VEC_TS && vector <= VEC_GP);
}

/* An intercepted guest exception; only #GP is intercepted. An SVM
 * instruction gets #UD, as on a CPU without SVM. A #GP raised while the CPU
 * delivered another event replaces it by the double-fault rules (SDM vol. 3
 * table 6-5): after a contributory exception or #PF it is #DF, after #DF the
 * guest shuts down; re-delivering the first event would only fault again. */
static void on_exception(struct vcpu *v, struct vm_exit *e)
{
	const struct guest_event *first = &e->vectoring;

	v->inject.type = GEV_NONE;
	if (first->type == GEV_EXCEPTION && first->vector == VEC_DF) {
		crash(v, "triple fault (a fault while delivering #DF)", "");
		return;
	}
	if (first->type == GEV_EXCEPTION &&
	    (contributory(first->vector) || first->vector == VEC_PF)) {
		raise_exc(v, VEC_DF, true, 0);
		return;
	}
	if (first->type == GEV_NONE && e->exc.error == 0 && svm_insn_at_rip(v)) {
		if (v->pending_exc.type == GEV_NONE) /* no #PF from the fetch */
			raise_ud(v);
		return;
	}
	v->pending_exc = e->exc;
}

static void on_nop(struct vcpu *v, struct vm_exit *e)
{
	skip(v, e);
}

static void on_nothing(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	(void)e;
}

static void on_shutdown(struct vcpu *v, struct vm_exit *e)
{
	char why[VM_WHY_MAX];

	(void)e;
	ksnprintf(why, sizeof(why), "vCPU %u at RIP %#lx: triple fault (shutdown)", v->id,
		  v->regs.rip);
	vm_guest_reset(v->vm, true, why);
}

static void on_invalid(struct vcpu *v, struct vm_exit *e)
{
	char d[VM_WHY_MAX];

	if (e->reason == VMEXIT_INVALID_STATE && e->detail[0]) {
		crash(v, e->detail, "");
		return;
	}
	ksnprintf(d, sizeof(d), " (exit code %#lx, info %#lx %#lx)", e->hw_code, e->hw_info1,
		  e->hw_info2);
	crash(v,
	      e->reason == VMEXIT_INVALID_STATE ? "the CPU refused the guest state"
						: "unexpected exit",
	      d);
}

static const exit_handler handlers[VMEXIT_REASON_COUNT] = {
    [VMEXIT_CPUID] = on_cpuid,
    [VMEXIT_MSR_READ] = on_msr_read,
    [VMEXIT_MSR_WRITE] = on_msr_write,
    [VMEXIT_IO] = on_io,
    [VMEXIT_MMIO] = on_mmio,
    [VMEXIT_HLT] = on_hlt,
    [VMEXIT_HYPERCALL] = on_hypercall,
    [VMEXIT_IRQ_WINDOW] = on_nothing, /* prepare_events injects next */
    [VMEXIT_EXTINT] = on_nothing,     /* Keel's handler already ran */
    [VMEXIT_PREEMPT] = on_nothing,    /* may_enter looks at the time */
    [VMEXIT_NMI] = on_nothing,
    [VMEXIT_SHUTDOWN] = on_shutdown,
    [VMEXIT_XSETBV] = on_xsetbv,
    [VMEXIT_CR_ACCESS] = on_cr,
    [VMEXIT_UD] = on_ud,
    [VMEXIT_EXCEPTION] = on_exception,
    [VMEXIT_NOP] = on_nop,
    [VMEXIT_INVALID_STATE] = on_invalid,
    [VMEXIT_UNKNOWN] = on_invalid,
};

void vm_exit_dispatch(struct vcpu *v, struct vm_exit *e)
{
	if ((unsigned)e->reason >= VMEXIT_REASON_COUNT)
		e->reason = VMEXIT_UNKNOWN;
	v->exits[e->reason]++;
	if (e->vectoring.type != GEV_NONE)
		v->inject = e->vectoring;
	handlers[e->reason](v, e);
}

/* ---- the run loop ---- */

static void load_guest_extended(struct vcpu *v)
{
	fpu_load(v->fpu, v->xcr0);
	if (host_has_tsc_aux())
		wrmsr(MSR_TSC_AUX, v->tsc_aux);
	__asm__ volatile(
	    "mov %0, %%db0; mov %1, %%db1; mov %2, %%db2; mov %3, %%db3" ::"r"(v->dr[0]),
	    "r"(v->dr[1]), "r"(v->dr[2]), "r"(v->dr[3]));
}

static void save_guest_extended(struct vcpu *v)
{
	uint64_t xcr0 = fpu_save(v->fpu);

	/* XSETBV exits on AMD and Intel hardware, but QEMU 7.2's TCG ignores
	 * the intercept and lets the guest set XCR0 itself: keep what was
	 * live, or the next slice would load a stale value. */
	if (xcr0)
		v->xcr0 = xcr0;
	__asm__ volatile("mov %%db0, %0; mov %%db1, %1; mov %%db2, %2; mov %%db3, %3"
			 : "=r"(v->dr[0]), "=r"(v->dr[1]), "=r"(v->dr[2]), "=r"(v->dr[3]));
}

/* INIT: the vCPU waits for a start-up IPI, its APIC reset (SDM 9.4.1,
 * 11.4.7.3). SIPI: it starts in real mode at vector * 4 KiB (SDM 9.4.4). */
static void apply_startup(struct vcpu *v)
{
	struct vcpu_sregs s;
	uint64_t f;

	if (v->init_pending) {
		v->init_pending = false;
		f = vm_lock(v->vm);
		vlapic_reset_init(&v->vm->vpc.lapic[v->id]);
		vm_unlock(v->vm, f);
		vcpu_reset_state(v);
	}
	if (!v->sipi_pending || v->wait != VCPU_WAIT_SIPI)
		return;
	v->sipi_pending = false;
	virt_ops()->get_sregs(v, &s);
	s.seg[VSEG_CS].sel = (uint16_t)(v->sipi_vector << 8);
	s.seg[VSEG_CS].base = (uint64_t)v->sipi_vector << 12;
	virt_ops()->set_sregs(v, &s);
	v->regs.rip = 0;
	v->wait = VCPU_READY;
}

/* Guest timers due now fire first (they may make an interrupt
 * deliverable); the slice ends at its time or when the vCPU has nothing to
 * do. */
static bool may_enter(struct vcpu *v, uint64_t slice_end)
{
	uint64_t now = rdtsc();

	if (v->init_pending || v->sipi_pending)
		apply_startup(v);
	if (now >= vm_timers_due(v->vm))
		vm_timers_update(v->vm, now);
	if (now >= slice_end || v->vm->state != VM_RUNNING)
		return false;
	if (v->wait == VCPU_HALTED && vcpu_irq_deliverable(v))
		v->wait = VCPU_READY;
	return v->wait == VCPU_READY;
}

/* The guest wrote CR8 without an exit (SVM V_TPR): the vLAPIC follows. */
static void cr8_changed(struct vcpu *v)
{
	uint64_t f = vm_lock(v->vm);

	vpc_set_cr8(v->vm, v, v->ctl.cr8);
	vm_unlock(v->vm, f);
}

void vcpu_run_slice(struct vcpu *v)
{
	const struct virt_ops *ops = virt_ops();
	uint64_t slice_end = rdtsc() + sched_slice_tsc(), due;
	struct vm_exit e;
	uint8_t cr8;

	__asm__ volatile("sti");
	if (ops->vcpu_load)
		ops->vcpu_load(v);
	load_guest_extended(v);
	while (may_enter(v, slice_end)) {
		prepare_events(v);
		/* Interrupts off from arming the timer to the guest entry: a timer
		 * already due stays pending and makes the entry exit at once.
		 * Taken here instead, it would leave the guest running with no
		 * timer armed, which a guest spinning with IF=0 for a vCPU that
		 * waits its turn never ends (a 2-vCPU Linux hung so). */
		__asm__ volatile("cli");
		due = vm_timers_due(v->vm);
		v->run_until = due < slice_end ? due : slice_end;
		sched_arm(v->run_until);
		cr8 = v->ctl.cr8;
		ops->vcpu_run(v, &e);
		__asm__ volatile("sti");
		if (v->ctl.cr8 != cr8)
			cr8_changed(v);
		vm_exit_dispatch(v, &e);
	}
	save_guest_extended(v);
	if (ops->vcpu_put)
		ops->vcpu_put(v);
}
