/* libFuzzer target for the ACPI table parser: firmware tables are input
 * Keel does not control. The input is physical memory at PHYS_BASE; its
 * first 20 bytes are the RSDP. So that the fuzzer gets past the checksums,
 * the harness gives the RSDP its signature and fixes the checksum of the
 * RSDP, the root table, each table the root names and the FADT's DSDT
 * (the parser itself checks them all). Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi/acpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PHYS_BASE 0x1000u
#define HDR_LEN 36u
#define MAX_ENTRIES 16u

struct blob {
	uint8_t *p;
	size_t n;
};

static const void *map(void *ctx, uint64_t pa, size_t len)
{
	const struct blob *b = ctx;

	if (pa < PHYS_BASE || pa - PHYS_BASE > b->n || len > b->n - (pa - PHYS_BASE))
		return NULL;
	return b->p + (pa - PHYS_BASE);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_sum(uint8_t *p, size_t len, size_t at)
{
	uint8_t sum = 0;

	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[at] = (uint8_t)-sum;
}

/* The table at pa, if its header and length lie in the blob: checksum fixed. */
static uint8_t *fix_table(struct blob *b, uint64_t pa)
{
	uint8_t *t = (uint8_t *)map(b, pa, HDR_LEN);
	uint32_t len;

	if (!t)
		return NULL;
	len = get32(t + 4);
	if (len < HDR_LEN || !map(b, pa, len))
		return NULL;
	fix_sum(t, len, 9);
	return t;
}

static void prepare(struct blob *b)
{
	uint8_t *rsdt;
	uint32_t len;

	memcpy(b->p, "RSD PTR ", 8);
	b->p[15] = 0; /* revision 0: RSDT only, 20 bytes */
	fix_sum(b->p, 20, 8);
	rsdt = fix_table(b, get32(b->p + 16));
	if (!rsdt)
		return;
	len = get32(rsdt + 4); /* a table fixed below may overlap and change it */
	for (uint32_t i = 0; i < MAX_ENTRIES && HDR_LEN + 4 * i + 4 <= len; i++) {
		uint8_t *t = fix_table(b, get32(rsdt + HDR_LEN + 4 * i));

		if (t && !memcmp(t, "FACP", 4) && get32(t + 4) >= 44)
			fix_table(b, get32(t + 40));
		fix_sum(rsdt, len, 9); /* the entry may lie inside the RSDT */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blob b = {NULL, size};
	struct acpi_mem mem = {&b, map};
	static struct acpi_info info;
	char err[128] = "", line[96];
	int n;

	if (size < 20)
		return 0;
	b.p = malloc(size); /* exact size: ASan sees overreads */
	memcpy(b.p, data, size);
	prepare(&b);
	if (acpi_parse(b.p, 20, &mem, &info, err, sizeof(err)) != ST_OK) {
		if (!err[0])
			abort();
	} else {
		if (info.ncpus > ACPI_MAX_CPUS || info.nioapics > ACPI_MAX_IOAPICS ||
		    info.nisos > ACPI_MAX_ISOS || info.nmcfg > ACPI_MAX_MCFG)
			abort();
		n = acpi_summary(&info, line, sizeof(line));
		if (n < 0 || (size_t)n >= sizeof(line) || strlen(line) != (size_t)n)
			abort();
	}
	free(b.p);
	return 0;
}
