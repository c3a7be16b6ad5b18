/* The ACPI fixed-feature power hardware of the virtual PC (ACPI 6.x 4.8.3)
 * and the PC's reset paths:
 *
 *  - PM1a event block (PM1_STS, PM1_EN; 2 bytes each): TMR_STS (the PM
 *    timer's top bit toggled), PWRBTN_STS (the power button was pressed),
 *    WAK_STS; status bits are write-one-to-clear. The SCI is a level line,
 *    asserted while any enabled status bit is set.
 *  - PM1a control block (PM1_CNT, 2 bytes): SCI_EN reads 1 (there is no SMI
 *    handler: the platform is always in ACPI mode), SLP_TYP and the
 *    write-only SLP_EN; writing SLP_EN asks the core to enter that sleep
 *    state (Keel supports S5, power-off).
 *  - The reset control register at 0xCF9 (also the FADT reset register):
 *    a write with RST_CPU set resets the machine.
 *  - The 8042 keyboard controller's two ports, just enough for the classic
 *    reset: command 0xFE on port 0x64 pulses the reset line. Status reads
 *    say "input buffer empty, no data", so reset loops that wait for it
 *    terminate; everything else is ignored.
 *
 * Pure logic; the core owns the struct and serialises calls. */
#ifndef KEEL_VDEV_PM_H
#define KEEL_VDEV_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/vdev.h"
#include "vm/bus.h"

#define PM_EVT_LEN 4 /* PM1_STS then PM1_EN */
#define PM_CNT_LEN 2
#define PM1_TMR_STS (1u << 0)
#define PM1_BM_STS (1u << 4)
#define PM1_GBL_STS (1u << 5)
#define PM1_PWRBTN_STS (1u << 8)
#define PM1_SLPBTN_STS (1u << 9)
#define PM1_RTC_STS (1u << 10)
#define PM1_WAK_STS (1u << 15)
#define PM1_TMR_EN (1u << 0)
#define PM1_GBL_EN (1u << 5)
#define PM1_PWRBTN_EN (1u << 8)
#define PM1_RTC_EN (1u << 10)
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN (1u << 13)

#define RESET_CONTROL_PORT 0xCF9
#define RESET_CONTROL_SYS_RST (1u << 1)
#define RESET_CONTROL_RST_CPU (1u << 2)
#define KBC_DATA_PORT 0x60
#define KBC_CMD_PORT 0x64
#define KBC_CMD_PULSE_RESET 0xFE

struct pm_host {
	void *ctx;
	void (*sleep)(void *ctx, unsigned slp_typ); /* SLP_EN was written */
	void (*reset)(void *ctx);		    /* a reset path was taken */
	vdev_irq_fn sci;			    /* line 0: the SCI */
};

struct pm {
	uint16_t sts, en, cnt;
	uint8_t reset_control;
	bool sci_level;
	const struct pm_host *host;
};

void pm_init(struct pm *p, const struct pm_host *host);

/* The PM timer's top bit toggled (the core asks the PM timer model). */
void pm_timer_carry(struct pm *p);
/* Somebody pressed the power button (Keel's `shutdown`). */
void pm_power_button(struct pm *p);

extern const struct bus_ops pm_evt_ops;	     /* PM_EVT_LEN ports */
extern const struct bus_ops pm_cnt_ops;	     /* PM_CNT_LEN ports */
extern const struct bus_ops pm_reset_ops;    /* 1 port at RESET_CONTROL_PORT */
extern const struct bus_ops pm_kbc_data_ops; /* 1 port at KBC_DATA_PORT */
extern const struct bus_ops pm_kbc_cmd_ops;  /* 1 port at KBC_CMD_PORT */

#endif
