/* I/O APIC model (see ioapic.h). */
#include "vdev/ioapic.h"

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull /* undefined: empty bus space */
#define ALL_ONES32 0xFFFFFFFFu
#define REG32_SIZE 4 /* the only access size the registers take */

#define REGSEL_MASK 0xFFu
#define ID_SHIFT 24
#define ID_FIELD (0xFu << ID_SHIFT) /* ID and ARB bits 27:24 */
#define VER_MAX_ENTRY_SHIFT 16

#define HALF_SHIFT 32
#define LOW_HALF 0xFFFFFFFFull
#define REDTBL_END (IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)

/* What a guest write may change; the rest is read-only or reserved. */
#define RTE_WRITABLE                                                                               \
	(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DM_MASK | IOAPIC_RTE_DEST_LOGICAL |                        \
	 IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | IOAPIC_RTE_DEST_MASK)

static unsigned rte_dm(uint64_t rte)
{
	return (unsigned)((rte & IOAPIC_RTE_DM_MASK) >> IOAPIC_RTE_DM_SHIFT);
}

/* Level only where the datasheet honours it: fixed and lowest priority. */
static bool rte_is_level(uint64_t rte)
{
	unsigned dm = rte_dm(rte);

	return (rte & IOAPIC_RTE_LEVEL) && (dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST);
}

static bool pin_active(const struct ioapic *io, unsigned pin)
{
	bool high = (io->pin_high >> pin) & 1;
	bool active_low = io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW;

	return high != active_low;
}

static void send(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];
	unsigned dm = rte_dm(rte);
	struct ioapic_msg m = {
	    .vector = (uint8_t)(rte & IOAPIC_RTE_VECTOR),
	    .delivery_mode = (uint8_t)dm,
	    .dest_logical = rte & IOAPIC_RTE_DEST_LOGICAL,
	    .dest = (uint8_t)(rte >> IOAPIC_RTE_DEST_SHIFT),
	    .level = rte_is_level(rte),
	    .pin = (uint8_t)pin,
	};

	if (dm == IOAPIC_DM_RESERVED3 || dm == IOAPIC_DM_RESERVED6)
		return;
	if (m.level)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR; /* before the callback sees it */
	io->deliver(io->ctx, &m);
}

/* A level entry delivers whenever it is unmasked, active and not waiting for
 * its EOI; delivering sets Remote IRR, so this never repeats by itself. */
static void level_check(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];

	if (!rte_is_level(rte) || (rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)))
		return;
	if (pin_active(io, pin))
		send(io, pin);
}

status_t ioapic_init(struct ioapic *io, uint8_t id, ioapic_deliver_fn deliver, void *ctx)
{
	if (!io || !deliver)
		return ST_EINVAL;
	if (id > IOAPIC_MAX_ID)
		return ST_ERANGE;
	io->id = id;
	io->regsel = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
	io->pin_high = 0;
	io->deliver = deliver;
	io->ctx = ctx;
	return ST_OK;
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	bool was_active;

	if (pin >= IOAPIC_PINS)
		return;
	was_active = pin_active(io, pin);
	io->pin_high = (io->pin_high & ~(1u << pin)) | ((uint32_t)level << pin);
	if (rte_is_level(io->rte[pin])) {
		level_check(io, pin);
		return;
	}
	if (!was_active && pin_active(io, pin) && !(io->rte[pin] & IOAPIC_RTE_MASKED))
		send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t rte = io->rte[pin];

		if (!rte_is_level(rte) || !(rte & IOAPIC_RTE_REMOTE_IRR) ||
		    (rte & IOAPIC_RTE_VECTOR) != vector)
			continue;
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
		level_check(io, pin);
	}
}

/* ---- indirect registers ---- */

static uint32_t reg_read(const struct ioapic *io, uint32_t reg)
{
	if (reg >= IOAPIC_REG_REDTBL && reg < REDTBL_END) {
		uint64_t rte = io->rte[(reg - IOAPIC_REG_REDTBL) / 2];

		return (uint32_t)(reg & 1 ? rte >> HALF_SHIFT : rte);
	}
	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (uint32_t)io->id << ID_SHIFT;
	case IOAPIC_REG_VER:
		return IOAPIC_VERSION | (IOAPIC_PINS - 1) << VER_MAX_ENTRY_SHIFT;
	default:
		return ALL_ONES32;
	}
}

static void rte_write(struct ioapic *io, unsigned pin, bool high_half, uint32_t val)
{
	uint64_t old = io->rte[pin];
	uint64_t half = high_half ? (uint64_t)val << HALF_SHIFT : val;
	uint64_t keep = high_half ? LOW_HALF : ~LOW_HALF;
	uint64_t rte = (old & keep) | (half & ~keep);

	rte = (rte & RTE_WRITABLE) | (old & IOAPIC_RTE_REMOTE_IRR);
	if (!rte_is_level(rte))
		rte &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	level_check(io, pin); /* an unmask, polarity or trigger change may deliver */
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
	if (reg >= IOAPIC_REG_REDTBL && reg < REDTBL_END) {
		rte_write(io, (reg - IOAPIC_REG_REDTBL) / 2, reg & 1, val);
		return;
	}
	if (reg == IOAPIC_REG_ID)
		io->id = (uint8_t)((val & ID_FIELD) >> ID_SHIFT); /* ARB reads the same */
}

/* ---- MMIO ---- */

static status_t mmio_read(void *dev, uint64_t off, uint8_t size, uint64_t *val)
{
	struct ioapic *io = dev;

	*val = ALL_ONES;
	if (size != REG32_SIZE)
		return ST_OK;
	if (off == IOAPIC_IOREGSEL)
		*val = io->regsel;
	else if (off == IOAPIC_IOWIN)
		*val = reg_read(io, io->regsel);
	return ST_OK;
}

static status_t mmio_write(void *dev, uint64_t off, uint8_t size, uint64_t val)
{
	struct ioapic *io = dev;

	if (size != REG32_SIZE)
		return ST_OK;
	if (off == IOAPIC_IOREGSEL)
		io->regsel = (uint32_t)val & REGSEL_MASK;
	else if (off == IOAPIC_IOWIN)
		reg_write(io, io->regsel, (uint32_t)val);
	else if (off == IOAPIC_EOI)
		ioapic_eoi(io, (uint8_t)val);
	return ST_OK;
}

const struct bus_ops ioapic_mmio_ops = {.read = mmio_read, .write = mmio_write};
