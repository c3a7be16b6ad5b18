/* power: ACPI S5 power-off and the 0xCF9 reset.
 *
 * Every mode first checks what it needs: the FADT's PM1a control block,
 * SLP_TYPa/b from the DSDT's \_S5 package, and a CMOS RAM byte.
 *
 *  "power"          those checks only, then PASS.
 *  "power s5"       enters ACPI mode if SCI_EN is clear (SMI_CMD), prints
 *                   "power: S5 ...", writes SLP_TYP and then SLP_TYP|SLP_EN
 *                   to PM1a_CNT (and PM1b_CNT when present). The VM must
 *                   stop there: Keel reports it "stopped", QEMU exits with
 *                   status 0. Still running 200 ms later: FAIL.
 *  "power reset N"  counts its boots in CMOS byte 0x7F (0x7E holds the
 *                   complement; a mismatch means a fresh CMOS, count 0),
 *                   prints "power: boot K of N" and, while K < N, prints
 *                   "power: reset through 0xCF9" and writes 0x02 then 0x06
 *                   to the reset control register (a hard reset: RST_CPU
 *                   rising with SYS_RST). Still running 200 ms later: FAIL.
 *                   At K == N it clears the count and passes. Under Keel
 *                   with a "restart" policy the VM must come back with its
 *                   CMOS kept; with "stop" it must stop after "boot 1".
 *                   Under QEMU run it without -no-reboot (which turns the
 *                   reset into an exit with status 0): QEMU keeps CMOS RAM
 *                   across a reset and reloads the -kernel image.
 *  "power button"   enters ACPI mode, enables PWRBTN_EN, routes the SCI
 *                   (MADT override) and prints "power: waiting for the
 *                   power button"; then idles until the SCI comes (a
 *                   harness presses the button: Keel's "shutdown NAME").
 *                   The handler must see PWRBTN_STS, which clears when
 *                   written 1; then it powers off as "power s5" does.
 *                   No SCI within 600 s: FAIL.
 * Runs in well under 0.1 s per boot. */
#include "pc.h"

#define CMOS_COUNT 0x7F
#define CMOS_COUNT_CHECK 0x7E
#define CMOS_TEST_BYTE 0x7D
#define CMOS_PATTERN 0x3C
#define RESET_CTL 0xCF9
#define RESET_SYS 0x02 /* SYS_RST: hard reset */
#define RESET_CPU 0x04 /* RST_CPU: a 0 -> 1 transition resets */
#define STILL_RUNNING_MS 200
#define SLP_TYP_MASK (7u << PM1_CNT_SLP_TYP_SHIFT)
#define MAX_BOOTS 200
#define VEC_SCI 0x39
#define PIC_VECTORS 0x20
#define BUTTON_WAIT_MS 600000

const char rt_name[] = "power";

static struct pc_fadt fadt;
static uint8_t typ_a, typ_b;

static bool prerequisites(void)
{
	uint8_t old, got;

	if (!check(pc_fadt(&fadt), "a valid FADT"))
		return false;
	note("PM1a_CNT 0x%x, PM1b_CNT 0x%x, SMI_CMD 0x%x, flags 0x%x", fadt.pm1a_cnt, fadt.pm1b_cnt,
	     fadt.smi_cmd, fadt.flags);
	if (!check(fadt.pm1a_cnt, "the FADT names PM1a_CNT"))
		return false;
	if (!check(pc_acpi_s5(&typ_a, &typ_b), "the DSDT has a \\_S5 package"))
		return false;
	note("\\_S5: SLP_TYPa %u, SLP_TYPb %u", typ_a, typ_b);
	old = pc_cmos_read(CMOS_TEST_BYTE);
	pc_cmos_write(CMOS_TEST_BYTE, CMOS_PATTERN);
	got = pc_cmos_read(CMOS_TEST_BYTE);
	pc_cmos_write(CMOS_TEST_BYTE, old);
	return check_eq(got, CMOS_PATTERN, "CMOS RAM reads back");
}

static void sleep_write(uint32_t port, uint8_t typ)
{
	uint16_t v;

	if (!port)
		return;
	v = (uint16_t)((inw((uint16_t)port) & ~(SLP_TYP_MASK | PM1_CNT_SLP_EN)) |
		       (uint16_t)(typ << PM1_CNT_SLP_TYP_SHIFT));
	outw((uint16_t)port, v);
	outw((uint16_t)port, (uint16_t)(v | PM1_CNT_SLP_EN));
}

static void s5(void)
{
	note("ACPI mode: SCI_EN %s", pc_acpi_enable(&fadt) ? "set" : "clear");
	rt_printf("power: S5 through PM1a_CNT 0x%x (SLP_TYPa %u)\n", fadt.pm1a_cnt, typ_a);
	sleep_write(fadt.pm1a_cnt, typ_a);
	sleep_write(fadt.pm1b_cnt, typ_b);
	pc_tsc_wait(pc_ms(STILL_RUNNING_MS));
	checkd(false, "S5 powers the VM off", "still running %u ms later", STILL_RUNNING_MS);
}

static volatile uint32_t n_sci;
static volatile uint16_t sts_seen;

static uint16_t pm1_en_port(void)
{
	return (uint16_t)(fadt.pm1a_evt + fadt.pm1_evt_len / 2);
}

/* The SCI is level-triggered: writing PWRBTN_STS back drops it. */
static void on_sci(struct rt_frame *f)
{
	uint16_t sts = inw((uint16_t)fadt.pm1a_evt);

	(void)f;
	sts_seen |= sts;
	outw((uint16_t)fadt.pm1a_evt, (uint16_t)(sts & PM1_STS_PWRBTN));
	n_sci++;
	pc_lapic_eoi();
}

static void button(void)
{
	unsigned pin;

	if (!check(fadt.pm1a_evt && fadt.sci, "the FADT names PM1a_EVT and the SCI"))
		return;
	check(pc_acpi_enable(&fadt), "ACPI mode: SCI_EN is set");
	pc_pic_init(PIC_VECTORS, PIC_VECTORS + 8); /* off the exception vectors, masked */
	pc_lapic_enable();
	pc_ioapic_init();
	pc_ioapic_mask_all();
	rt_set_irq(VEC_SCI, on_sci);
	outw(pm1_en_port(), PM1_EN_PWRBTN);
	pin = pc_ioapic_route_isa((uint8_t)fadt.sci, VEC_SCI, false, false);
	rt_puts("power: waiting for the power button\n");
	pc_idle_until(&n_sci, 1, BUTTON_WAIT_MS);
	pc_ioapic_set_rte(pin, RTE_MASKED);
	if (!check(n_sci >= 1, "the power button raises the SCI"))
		return;
	check(sts_seen & PM1_STS_PWRBTN, "PWRBTN_STS is set in the SCI handler");
	check_eq(inw((uint16_t)fadt.pm1a_evt) & PM1_STS_PWRBTN, 0,
		 "PWRBTN_STS clears when written 1");
	s5();
}

static void set_count(uint8_t n)
{
	pc_cmos_write(CMOS_COUNT, n);
	pc_cmos_write(CMOS_COUNT_CHECK, (uint8_t)~n);
}

static void reset(uint64_t want)
{
	uint8_t c = pc_cmos_read(CMOS_COUNT), k = pc_cmos_read(CMOS_COUNT_CHECK);
	uint8_t boots = (uint8_t)(k ^ c) == 0xFF ? c : 0; /* k is ~c */

	if (!checkd(want >= 1 && want <= MAX_BOOTS, "the boot count asked for is 1-200", "%lu",
		    want))
		return;
	boots++;
	set_count(boots);
	check_eq(pc_cmos_read(CMOS_COUNT), boots, "the boot count is stored in CMOS 0x7F");
	rt_printf("power: boot %u of %lu\n", boots, want);
	if (boots < want) {
		rt_puts("power: reset through 0xCF9\n");
		outb(RESET_CTL, RESET_SYS);
		outb(RESET_CTL, RESET_SYS | RESET_CPU);
		pc_tsc_wait(pc_ms(STILL_RUNNING_MS));
		set_count(0);
		checkd(false, "a 0xCF9 reset restarts the VM", "still running %u ms later",
		       STILL_RUNNING_MS);
		return;
	}
	set_count(0);
	checkd(boots == want, "booted the asked number of times, the count kept in CMOS",
	       "boot %u, asked for %lu", boots, want);
}

void guest_main(void)
{
	uint64_t n;

	if (!prerequisites())
		return;
	if (rt_arg("s5"))
		s5();
	else if (rt_arg("button"))
		button();
	else if (pc_arg_num("reset", &n))
		reset(n);
	else if (rt_arg("reset"))
		checkd(false, "power reset N", "N missing or not a number");
	else
		note("no action asked (\"s5\", \"button\" or \"reset N\"): prerequisites only");
}
