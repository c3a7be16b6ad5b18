/* smp: application processors started through INIT and start-up IPIs.
 *
 * The MADT lists the LAPICs; the BSP starts every other enabled one as an
 * OS does (INIT, 10 ms, SIPI, 200 us, SIPI: the MP specification's
 * sequence, whose second SIPI an AP already running ignores) with the
 * real-mode trampoline of smp_ap.S copied to 0x7000. Each AP loads the
 * IDT, enables its LAPIC, records its LAPIC ID and CPUID.1 APIC ID, sends
 * the BSP an IPI and waits in HLT for IPIs.
 *  - Every AP checks in within 1 s, exactly once (the second SIPI is
 *    ignored); its LAPIC ID is the MADT's and CPUID.1 EBX[31:24] agrees.
 *  - The BSP gets each AP's IPI (fixed, physical destination), awaited
 *    before the next AP starts.
 *  - A fixed IPI from the BSP to each AP (physical destination) arrives
 *    there once; "all excluding self" reaches every AP once and not the
 *    BSP.
 *  - INIT again puts the first AP back to waiting for SIPI (an IPI to it is
 *    not taken), and a new SIPI restarts it from the trampoline (it checks
 *    in a second time and answers IPIs again).
 * Run with 2 or more vCPUs (the suite uses 3). Passes under QEMU. */
#include "pc.h"

#define TRAMP_PAGE 0x7000u /* below the multiboot scratch at 0x8000 */
#define TRAMP_VECTOR (TRAMP_PAGE >> 12)
#define MAX_CPUS 16
#define AP_STACK_SIZE 0x2000
#define VEC_TO_BSP 0x60
#define VEC_TO_AP 0x61
#define VEC_BCAST 0x62
#define CHECKIN_MS 1000
#define INIT_WAIT_MS 10
#define SIPI_WAIT_US 200
#define IPI_WAIT_MS 20	   /* settling time before checking nothing more came */
#define IPI_TIMEOUT_MS 200 /* generous: a nested host can preempt a vCPU */
#define US_PER_MS 1000
#define IDT_LIMIT (256 * 16 - 1)
#define APIC_ID_SHIFT 24
#define MADT_LAPIC_ID 3
#define MADT_LAPIC_FLAGS 4

const char rt_name[] = "smp";

extern const char smp_tramp[], smp_tramp_end[];
uint64_t smp_ap_stack; /* read by smp_ap.S */

static uint8_t stacks[MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static uint32_t ids[MAX_CPUS]; /* MADT order; ids[bsp] is the BSP's */
static unsigned ncpus, bsp;
static volatile int starting = -1; /* the index an AP being started takes */
static volatile uint32_t checkins[MAX_CPUS], cpuid_ids[MAX_CPUS], lapic_ids[MAX_CPUS];
static volatile uint32_t to_ap[MAX_CPUS], bcast[MAX_CPUS], to_bsp;

static void collect(uint8_t type, const uint8_t *e, uint8_t len, void *arg)
{
	(void)arg;
	if (type == MADT_TYPE_LAPIC && len >= 8 && (e[MADT_LAPIC_FLAGS] & MADT_LAPIC_ENABLED) &&
	    ncpus < MAX_CPUS)
		ids[ncpus++] = e[MADT_LAPIC_ID];
}

static int index_of(uint32_t id)
{
	for (unsigned i = 0; i < ncpus; i++)
		if (ids[i] == id)
			return (int)i;
	return -1;
}

static void send(uint32_t dest, uint32_t lo)
{
	pc_lapic_write(LAPIC_ICR_HI, dest << APIC_ID_SHIFT);
	pc_lapic_write(LAPIC_ICR_LO, lo);
}

static void on_to_bsp(struct rt_frame *f)
{
	(void)f;
	to_bsp++;
	pc_lapic_eoi();
}

static void on_to_ap(struct rt_frame *f)
{
	int i = index_of(pc_lapic_id());

	(void)f;
	if (i >= 0)
		__atomic_add_fetch(&to_ap[i], 1, __ATOMIC_SEQ_CST);
	pc_lapic_eoi();
}

static void on_bcast(struct rt_frame *f)
{
	int i = index_of(pc_lapic_id());

	(void)f;
	if (i >= 0)
		__atomic_add_fetch(&bcast[i], 1, __ATOMIC_SEQ_CST);
	pc_lapic_eoi();
}

/* An AP, in long mode on its own stack (smp_ap.S). */
void smp_ap_main(void);
void smp_ap_main(void)
{
	int i = starting;

	rt_load_idt_limit(IDT_LIMIT);
	pc_lapic_enable();
	lapic_ids[i] = pc_lapic_id();
	cpuid_ids[i] = cpuid(1, 0).b >> APIC_ID_SHIFT;
	__atomic_add_fetch(&checkins[i], 1, __ATOMIC_SEQ_CST);
	send(ids[bsp], VEC_TO_BSP | ICR_ASSERT);
	for (;;)
		asm volatile("sti; hlt; cli" ::: "memory");
}

static bool wait_for(volatile uint32_t *v, uint32_t want, uint64_t ms)
{
	uint64_t t0 = pc_rdtsc(), limit = pc_ms(ms);

	sti();
	while (__atomic_load_n(v, __ATOMIC_SEQ_CST) < want && pc_rdtsc() - t0 < limit)
		asm volatile("pause" ::: "memory");
	cli();
	return __atomic_load_n(v, __ATOMIC_SEQ_CST) >= want;
}

static void sipi(unsigned i)
{
	send(ids[i], LVT_DM_SIPI | ICR_ASSERT | TRAMP_VECTOR);
}

/* INIT, 10 ms, SIPI, 200 us, SIPI; true when the AP checked in. */
static bool start_ap(unsigned i)
{
	uint32_t before = checkins[i];

	starting = (int)i;
	smp_ap_stack = (uint64_t)(uintptr_t)&stacks[i][AP_STACK_SIZE];
	send(ids[i], LVT_DM_INIT | ICR_ASSERT);
	pc_tsc_wait(pc_ms(INIT_WAIT_MS));
	sipi(i);
	pc_tsc_wait(pc_ms(1) * SIPI_WAIT_US / US_PER_MS);
	sipi(i);
	return wait_for(&checkins[i], before + 1, CHECKIN_MS);
}

/* Each AP's IPI to the BSP is awaited before the next AP starts: two with
 * one vector pending at once would rightly be taken once. */
static void start_all(void)
{
	uint32_t started = 0;

	for (unsigned i = 0; i < ncpus; i++) {
		if (i == bsp)
			continue;
		if (!checkd(start_ap(i), "an AP checks in after INIT-SIPI-SIPI", "APIC ID %u",
			    ids[i]))
			continue;
		started++;
		checkd(wait_for(&to_bsp, started, IPI_TIMEOUT_MS), "the BSP gets the AP's IPI",
		       "APIC ID %u: %u of %u", ids[i], to_bsp, started);
		pc_tsc_wait(pc_ms(IPI_WAIT_MS));
		checkd(checkins[i] == 1, "the second SIPI is ignored by a running AP",
		       "APIC ID %u checked in %u times", ids[i], checkins[i]);
		checkd(lapic_ids[i] == ids[i] && cpuid_ids[i] == ids[i],
		       "the AP's LAPIC ID and CPUID.1 APIC ID are the MADT's",
		       "MADT %u, LAPIC %u, CPUID %u", ids[i], lapic_ids[i], cpuid_ids[i]);
	}
}

static void ipis(void)
{
	for (unsigned i = 0; i < ncpus; i++) {
		if (i == bsp)
			continue;
		send(ids[i], VEC_TO_AP | ICR_ASSERT);
		checkd(wait_for(&to_ap[i], 1, IPI_TIMEOUT_MS) && to_ap[i] == 1,
		       "a fixed IPI reaches the AP it names, once", "APIC ID %u: %u", ids[i],
		       to_ap[i]);
	}
	pc_lapic_write(LAPIC_ICR_LO, VEC_BCAST | ICR_ASSERT | ICR_ALL_EXCL);
	for (unsigned i = 0; i < ncpus; i++)
		if (i != bsp)
			checkd(wait_for(&bcast[i], 1, IPI_TIMEOUT_MS) && bcast[i] == 1,
			       "all-excluding-self reaches every AP once", "APIC ID %u: %u", ids[i],
			       bcast[i]);
	check_eq(bcast[bsp], 0, "all-excluding-self does not reach the BSP");
}

static void reinit(void)
{
	unsigned i = bsp == 0 ? 1 : 0;
	uint32_t n = to_ap[i];

	send(ids[i], LVT_DM_INIT | ICR_ASSERT);
	pc_tsc_wait(pc_ms(INIT_WAIT_MS));
	send(ids[i], VEC_TO_AP | ICR_ASSERT);
	pc_tsc_wait(pc_ms(IPI_WAIT_MS));
	check_eq(to_ap[i], n, "after INIT the AP takes no interrupt (waiting for SIPI)");
	starting = (int)i;
	smp_ap_stack = (uint64_t)(uintptr_t)&stacks[i][AP_STACK_SIZE];
	sipi(i);
	check(wait_for(&checkins[i], 2, CHECKIN_MS), "a SIPI after INIT restarts the AP");
	send(ids[i], VEC_TO_AP | ICR_ASSERT);
	check(wait_for(&to_ap[i], n + 1, IPI_TIMEOUT_MS), "the restarted AP answers IPIs");
}

void guest_main(void)
{
	size_t len = (size_t)(smp_tramp_end - smp_tramp);

	pc_pic_init(0x20, 0x28);
	pc_lapic_enable();
	rt_set_irq(VEC_TO_BSP, on_to_bsp);
	rt_set_irq(VEC_TO_AP, on_to_ap);
	rt_set_irq(VEC_BCAST, on_bcast);
	if (!check(pc_madt_walk(collect, NULL), "a valid MADT"))
		return;
	bsp = (unsigned)index_of(pc_lapic_id());
	note("%u enabled LAPICs in the MADT, the BSP is APIC ID %u", ncpus, pc_lapic_id());
	if (!check(ncpus >= 2 && index_of(pc_lapic_id()) >= 0,
		   "the MADT lists the BSP and at least one AP (run with cpus=2 or more)"))
		return;
	memcpy((void *)(uintptr_t)TRAMP_PAGE, smp_tramp, len);
	start_all();
	ipis();
	reinit();
}
