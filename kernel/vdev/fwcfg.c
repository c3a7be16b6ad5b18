/* QEMU fw_cfg traditional interface (see fwcfg.h). Items are tiny, so the
 * selected one is rebuilt into a small buffer on every data read instead of
 * being kept as state that could go stale. */
#include <stddef.h>

#include "vdev/fwcfg.h"
#include "keel/kstring.h"

#define OFF_SELECTOR 0

#define KEY_ARCH 0x8000	 /* bit 15: architecture-specific item */
#define KEY_INDEX 0x3FFF /* item number; bit 14 (write channel) is ignored for reads */

#define ID_TRADITIONAL 0x1u /* FW_CFG_ID bit 0; bit 1 (DMA) clear */
#define SIGNATURE "QEMU"
#define ITEM_MAX 8 /* largest item: FW_CFG_RAM_SIZE */

#define ALL_ONES 0xFFFFFFFFFFFFFFFFull
#define BITS_PER_BYTE 8u

void fwcfg_init(struct fwcfg *f, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus)
{
	memset(f, 0, sizeof(*f));
	f->ram_size = ram_size;
	f->nb_cpus = nb_cpus;
	f->max_cpus = max_cpus;
	f->key = FW_CFG_SIGNATURE;
}

static size_t put_le(uint8_t *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (i * BITS_PER_BYTE));
	return n;
}

/* Fills out with the item named by key and returns its length (0: no such
 * item). */
static size_t item_bytes(const struct fwcfg *f, uint16_t key, uint8_t out[ITEM_MAX])
{
	if (key & KEY_ARCH)
		return 0;
	switch (key & KEY_INDEX) {
	case FW_CFG_SIGNATURE:
		memcpy(out, SIGNATURE, sizeof(SIGNATURE) - 1);
		return sizeof(SIGNATURE) - 1;
	case FW_CFG_ID:
		return put_le(out, ID_TRADITIONAL, sizeof(uint32_t));
	case FW_CFG_RAM_SIZE:
		return put_le(out, f->ram_size, sizeof(uint64_t));
	case FW_CFG_NB_CPUS:
		return put_le(out, f->nb_cpus, sizeof(uint16_t));
	case FW_CFG_MAX_CPUS:
		return put_le(out, f->max_cpus, sizeof(uint16_t));
	default:
		return 0;
	}
}

static uint8_t next_byte(struct fwcfg *f)
{
	uint8_t data[ITEM_MAX];
	size_t len = item_bytes(f, f->key, data);

	if (f->offset >= len)
		return 0;
	return data[f->offset++];
}

static status_t fwcfg_read(void *dev, uint64_t offset, uint8_t size, uint64_t *val)
{
	if (offset >= FWCFG_PIO_LEN)
		return ST_ERANGE;
	*val = size == 1 ? next_byte(dev) : ALL_ONES;
	return ST_OK;
}

static status_t fwcfg_write(void *dev, uint64_t offset, uint8_t size, uint64_t val)
{
	struct fwcfg *f = dev;

	if (offset >= FWCFG_PIO_LEN)
		return ST_ERANGE;
	if (offset == OFF_SELECTOR && size == sizeof(uint16_t)) {
		f->key = (uint16_t)val;
		f->offset = 0;
	}
	/* Anything else is a data write (ignored by the traditional interface)
	 * or an access QEMU rejects. */
	return ST_OK;
}

const struct bus_ops fwcfg_ops = {.read = fwcfg_read, .write = fwcfg_write};
