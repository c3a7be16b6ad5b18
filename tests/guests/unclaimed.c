/* unclaimed: guest-physical space and ports nobody claims behave like an
 * empty PC bus: reads at every size return all-ones and writes are
 * dropped. Probed at 0xC0000000 (the PCI hole), right above the top of RAM
 * and a few ports; then the guest passes. */
#include "rt.h"

#define PCI_HOLE 0xC0000000ull
#define MMAP_MAX_ENTRIES 128
#define MMAP_MIN_SIZE 20

const char rt_name[] = "unclaimed";

static const uint16_t ports[] = {0x700, 0xE8, 0xFF00};

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t read_at(uint64_t a, unsigned size)
{
	switch (size) {
	case 1:
		return *(volatile uint8_t *)(uintptr_t)a;
	case 2:
		return *(volatile uint16_t *)(uintptr_t)a;
	case 4:
		return *(volatile uint32_t *)(uintptr_t)a;
	default:
		return *(volatile uint64_t *)(uintptr_t)a;
	}
}

static void write_at(uint64_t a, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*(volatile uint8_t *)(uintptr_t)a = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)(uintptr_t)a = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)(uintptr_t)a = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)(uintptr_t)a = v;
		break;
	}
}

/* Reads at 1/2/4/8 bytes, then writes a pattern at each size and reads it
 * back: all-ones every time. */
static void probe(const char *where, uint64_t a)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	char what[96];

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned sz = sizes[i];
		uint64_t got;

		rt_snprintf(what, sizeof(what), "%s 0x%lx: %u-byte read is all-ones", where, a, sz);
		check_eq(read_at(a + 8 * i, sz), ones(sz), what);
		write_at(a + 8 * i, sz, 0x5A5A5A5A5A5A5A5Aull);
		got = read_at(a + 8 * i, sz);
		rt_snprintf(what, sizeof(what), "%s 0x%lx: %u-byte write is dropped", where, a, sz);
		check_eq(got, ones(sz), what);
	}
}

/* The end of RAM per the multiboot map: the highest end of a RAM entry
 * below 4 GiB, carried on through reserved entries that start exactly
 * there (firmware keeps tables in RAM it reserves). 0 without a map. */
static uint64_t top_of_ram(void)
{
	uint64_t top = 0, prev;

	if (!(rt_mbi->flags & MBI_FLAG_MMAP))
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		do {
			uint64_t p = rt_mbi->mmap_addr, end = p + rt_mbi->mmap_length;
			unsigned n = 0;

			prev = top;
			while (p < end && n++ < MMAP_MAX_ENTRIES) {
				const struct mb_mmap_entry *e = (const void *)(uintptr_t)p;
				uint64_t e_end = e->addr + e->len;

				if (e->size < MMAP_MIN_SIZE)
					return 0;
				if (e_end <= RT_IDENTITY_END && e_end > top &&
				    (pass == 0 ? e->type == MMAP_TYPE_RAM : e->addr == top))
					top = e_end;
				p += (uint64_t)e->size + 4;
			}
		} while (pass == 1 && top != prev);
	}
	return top;
}

void guest_main(void)
{
	uint64_t top = top_of_ram();

	note("top of RAM from the multiboot map: 0x%lx", top);
	probe("PCI hole", PCI_HOLE);
	if (checkd(top && top < PCI_HOLE, "the memory map gives a top of RAM below 0xC0000000",
		   "got 0x%lx", top))
		probe("above RAM", top);
	for (unsigned i = 0; i < ARRAY_SIZE(ports); i++) {
		char what[64];
		uint16_t p = ports[i];

		outl(p, 0x12345678);
		rt_snprintf(what, sizeof(what), "port 0x%x: inb/inw/inl are all-ones", p);
		checkd(inb(p) == 0xFF && inw(p) == 0xFFFF && inl(p) == 0xFFFFFFFF, what,
		       "0x%x 0x%x 0x%x", inb(p), inw(p), inl(p));
	}
}
