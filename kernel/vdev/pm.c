/* ACPI PM1 blocks, the 0xCF9 reset register and the 8042 reset (see pm.h). */
#include "vdev/pm.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define STS_DEFINED                                                                                \
	(PM1_TMR_STS | PM1_BM_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_SLPBTN_STS | PM1_RTC_STS |  \
	 PM1_WAK_STS)
#define EN_DEFINED (PM1_TMR_EN | PM1_GBL_EN | PM1_PWRBTN_EN | PM1_RTC_EN)
#define CNT_STORED PM1_CNT_SLP_TYP_MASK
#define KBC_STATUS_IDLE 0x14 /* system flag set, keyboard not inhibited, buffers empty */

void pm_init(struct pm *p, const struct pm_host *host)
{
	p->sts = 0;
	p->en = 0;
	p->cnt = PM1_CNT_SCI_EN;
	p->reset_control = 0;
	p->sci_level = false;
	p->host = host;
}

static void update_sci(struct pm *p)
{
	bool level = (p->sts & p->en & EN_DEFINED) != 0;

	if (level == p->sci_level)
		return;
	p->sci_level = level;
	if (p->host->sci)
		p->host->sci(p->host->ctx, 0, level);
}

void pm_timer_carry(struct pm *p)
{
	p->sts |= PM1_TMR_STS;
	update_sci(p);
}

void pm_power_button(struct pm *p)
{
	p->sts |= PM1_PWRBTN_STS;
	update_sci(p);
}

/* Reads and writes of 1, 2 or 4 bytes at any offset in a small block act
 * on its bytes, little-endian, as ACPI allows byte and word access. */
static uint16_t *evt_reg(struct pm *p, uint64_t off)
{
	return off < 2 ? &p->sts : &p->en;
}

static status_t evt_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct pm *p = dev;
	uint32_t both = (uint32_t)p->sts | ((uint32_t)p->en << 16);

	*val = (both >> (8 * off)) & (size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
	return ST_OK;
}

/* One byte at a time, so any access width splits the same way. */
static void evt_write_byte(struct pm *p, uint64_t off, uint8_t b)
{
	uint16_t *r = evt_reg(p, off);
	uint16_t v = (uint16_t)((uint16_t)b << (8 * (off & 1)));

	if (r == &p->sts)
		p->sts &= (uint16_t) ~(v & STS_DEFINED); /* write one to clear */
	else
		p->en = (uint16_t)((p->en & ~(0xFFu << (8 * (off & 1)))) | (v & EN_DEFINED));
}

static status_t evt_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pm *p = dev;

	for (uint8_t i = 0; i < size && off + i < PM_EVT_LEN; i++)
		evt_write_byte(p, off + i, (uint8_t)(val >> (8 * i)));
	update_sci(p);
	return ST_OK;
}

static status_t cnt_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct pm *p = dev;

	if (size > PM_CNT_LEN - off) {
		*val = ALL_ONES;
		return ST_OK;
	}
	*val = (p->cnt >> (8 * off)) & (size == 1 ? 0xFFu : 0xFFFFu);
	return ST_OK;
}

static status_t cnt_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pm *p = dev;
	uint16_t v;

	if (size > PM_CNT_LEN - off)
		return ST_OK;
	v = (uint16_t)(size == 2 ? val
				 : (off ? (val << 8) | (p->cnt & 0xFF)
					: (p->cnt & 0xFF00) | (val & 0xFF)));
	p->cnt = (uint16_t)(PM1_CNT_SCI_EN | (v & CNT_STORED));
	if ((v & PM1_CNT_SLP_EN) && p->host->sleep)
		p->host->sleep(p->host->ctx, (v & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT);
	return ST_OK;
}

static status_t reset_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct pm *p = dev;

	(void)off;
	*val = size == 1 ? p->reset_control : ALL_ONES;
	return ST_OK;
}

static status_t reset_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pm *p = dev;

	(void)off;
	if (size != 1)
		return ST_OK;
	p->reset_control = (uint8_t)(val & (RESET_CONTROL_SYS_RST | RESET_CONTROL_RST_CPU));
	if ((val & RESET_CONTROL_RST_CPU) && p->host->reset)
		p->host->reset(p->host->ctx);
	return ST_OK;
}

static status_t kbc_data_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	(void)dev;
	(void)off;
	*val = size == 1 ? 0 : ALL_ONES; /* no key, ever */
	return ST_OK;
}

static status_t kbc_cmd_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	(void)dev;
	(void)off;
	*val = size == 1 ? KBC_STATUS_IDLE : ALL_ONES;
	return ST_OK;
}

static status_t kbc_ignore(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	(void)dev;
	(void)off;
	(void)size;
	(void)val;
	return ST_OK;
}

static status_t kbc_cmd_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct pm *p = dev;

	(void)off;
	if (size == 1 && (val & 0xFF) == KBC_CMD_PULSE_RESET && p->host->reset)
		p->host->reset(p->host->ctx);
	return ST_OK;
}

const struct bus_ops pm_evt_ops = {.read = evt_read, .write = evt_write};
const struct bus_ops pm_cnt_ops = {.read = cnt_read, .write = cnt_write};
const struct bus_ops pm_reset_ops = {.read = reset_read, .write = reset_write};
const struct bus_ops pm_kbc_data_ops = {.read = kbc_data_read, .write = kbc_ignore};
const struct bus_ops pm_kbc_cmd_ops = {.read = kbc_cmd_read, .write = kbc_cmd_write};
