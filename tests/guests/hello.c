/* hello: the smallest useful guest. Prints its command line, the fw_cfg
 * signature, RAM size and CPU count, and checks that fw_cfg and the
 * multiboot information agree about memory. Passes under QEMU and Keel. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define MIB ((uint64_t)0x100000)
#define KIB ((uint64_t)1024)
#define MMAP_MAX_ENTRIES 128 /* more than any loader writes: stop walking */
#define MMAP_MIN_SIZE 20     /* addr, len, type after the size field */
#define LOADER_NAME_MAX 64
#define FOUR_GIB ((uint64_t)1 << 32)

const char rt_name[] = "hello";

struct cover {
	uint64_t end;	    /* grows while an entry starts at or below it */
	bool reserved_only; /* only non-RAM entries count */
};

/* Walks the multiboot memory map; calls fn for each entry. Returns false
 * when the map is malformed (entry too small, too many entries). */
static bool walk_mmap(void (*fn)(const struct mb_mmap_entry *e, void *arg), void *arg)
{
	uint64_t p = rt_mbi->mmap_addr;
	uint64_t end = p + rt_mbi->mmap_length;
	unsigned n = 0;

	while (p < end) {
		const struct mb_mmap_entry *e = (const void *)(uintptr_t)p;
		if (e->size < MMAP_MIN_SIZE || ++n > MMAP_MAX_ENTRIES)
			return false;
		fn(e, arg);
		p += (uint64_t)e->size + 4;
	}
	return true;
}

static void print_entry(const struct mb_mmap_entry *e, void *arg)
{
	(void)arg;
	note("mmap 0x%016lx-0x%016lx type %u", e->addr, e->addr + e->len, e->type);
}

/* Extends c->end over an entry that starts at or below it. */
static void extend_cover(const struct mb_mmap_entry *e, void *arg)
{
	struct cover *c = arg;

	if (c->reserved_only && e->type == MMAP_TYPE_RAM)
		return;
	if (e->len && e->addr <= c->end && e->addr + e->len > c->end)
		c->end = e->addr + e->len;
}

/* The end of the area from `from` that map entries cover without a gap:
 * one pass per entry at most, as each pass can only grow the end. */
static uint64_t covered_to(uint64_t from, bool reserved_only)
{
	struct cover c = {.end = from, .reserved_only = reserved_only};
	uint64_t prev;

	do {
		prev = c.end;
		walk_mmap(extend_cover, &c);
	} while (c.end != prev);
	return c.end;
}

struct ram_scan {
	uint64_t ram_size;
	bool starts_at_1m;
	uint64_t end_1m; /* end of the RAM entry at 1 MiB */
	uint64_t beyond; /* first RAM byte at or above ram_size below 4 GiB, 0 if none */
};

static void scan_ram(const struct mb_mmap_entry *e, void *arg)
{
	struct ram_scan *s = arg;
	uint64_t end = e->addr + e->len;

	if (e->type != MMAP_TYPE_RAM || !e->len)
		return;
	if (e->addr == MIB) {
		s->starts_at_1m = true;
		s->end_1m = end;
	}
	if (end > s->ram_size && e->addr < RT_IDENTITY_END && !s->beyond)
		s->beyond = e->addr > s->ram_size ? e->addr : s->ram_size;
}

static void show_basics(void)
{
	const char *name = (const char *)(uintptr_t)rt_mbi->boot_loader_name;

	rt_printf("hello: command line \"%s\"\n", rt_cmdline());
	if ((rt_mbi->flags & MBI_FLAG_LOADER_NAME) && name) {
		char buf[LOADER_NAME_MAX];
		size_t i;
		for (i = 0; i + 1 < sizeof(buf) && name[i]; i++)
			buf[i] = name[i];
		buf[i] = '\0';
		rt_printf("hello: boot loader \"%s\"\n", buf);
	}
	check(rt_arg("hello"), "command line names the guest");
}

static uint64_t check_fwcfg(void)
{
	char sig[5] = {0};
	uint64_t ram = 0;
	uint16_t cpus = 0;

	rt_fwcfg_read(FW_CFG_SIGNATURE, sig, 4);
	rt_fwcfg_read(FW_CFG_RAM_SIZE, &ram, sizeof(ram));
	rt_fwcfg_read(FW_CFG_NB_CPUS, &cpus, sizeof(cpus));
	rt_printf("hello: fw_cfg signature \"%s\", RAM %lu MiB (0x%lx bytes), %u CPU(s)\n", sig,
		  ram / MIB, ram, cpus);
	checkd(memcmp(sig, "QEMU", 4) == 0, "fw_cfg signature is QEMU", "got \"%s\"", sig);
	checkd(cpus >= 1, "fw_cfg CPU count is at least 1", "got %u", cpus);
	checkd(ram >= 2 * MIB, "fw_cfg RAM size is at least 2 MiB", "got 0x%lx", ram);
	return ram;
}

/* mem_upper is the RAM from 1 MiB to the first hole, in whole KiB. The map
 * may reserve the top of RAM (SeaBIOS keeps its tables there), so mem_upper
 * plus the reserved entries above it must add up to the RAM below 4 GiB. */
static void check_meminfo(uint64_t ram, const struct ram_scan *scan)
{
	uint64_t upper_end, top;

	if (!checkd(rt_mbi->flags & MBI_FLAG_MEM, "mbi has mem_lower/mem_upper", "flags 0x%x",
		    rt_mbi->flags))
		return;
	upper_end = ((uint64_t)rt_mbi->mem_upper + KIB) * KIB;
	rt_printf("hello: mem_lower %u KiB, mem_upper %u KiB\n", rt_mbi->mem_lower,
		  rt_mbi->mem_upper);
	checkd(rt_mbi->mem_lower >= 512 && rt_mbi->mem_lower <= 640, "mem_lower is 512..640 KiB",
	       "got %u", rt_mbi->mem_lower);
	checkd(scan->end_1m >= upper_end && scan->end_1m - upper_end < KIB,
	       "(mem_upper + 1024) KiB is the end of the RAM entry at 1 MiB", "0x%lx vs 0x%lx",
	       upper_end, scan->end_1m);
	top = upper_end >= ram ? upper_end : covered_to(upper_end, true);
	checkd(upper_end <= ram && top >= ram,
	       "(mem_upper + 1024) KiB plus reserved entries above it == RAM below 4 GiB",
	       "mem_upper ends 0x%lx, reserved to 0x%lx, RAM 0x%lx", upper_end, top, ram);
}

static void add_high(const struct mb_mmap_entry *e, void *arg)
{
	uint64_t *high = arg;

	if (e->type == MMAP_TYPE_RAM && e->addr >= FOUR_GIB)
		*high += e->len;
}

/* On a PC the RAM that does not fit below the PCI hole continues at 4 GiB
 * (Keel and QEMU alike); fw_cfg counts all of it. Returns the part below. */
static uint64_t ram_below_4g(uint64_t ram)
{
	uint64_t high = 0;

	walk_mmap(add_high, &high);
	if (high)
		rt_printf("hello: memory map: %lu MiB of RAM from 4 GiB\n", high / MIB);
	checkd(high <= ram, "RAM from 4 GiB is part of the fw_cfg RAM size",
	       "0x%lx from 4 GiB, fw_cfg 0x%lx", high, ram);
	return high <= ram ? ram - high : ram;
}

static bool check_mmap(uint64_t *ram_out, struct ram_scan *scan)
{
	uint64_t cover, ram;

	if (!checkd(rt_mbi->flags & MBI_FLAG_MMAP, "mbi has a memory map", "flags 0x%x",
		    rt_mbi->flags))
		return false;
	if (!check(walk_mmap(print_entry, NULL), "memory map is well formed"))
		return false;
	ram = *ram_out = ram_below_4g(*ram_out);
	scan->ram_size = ram;
	cover = covered_to(MIB, false);
	walk_mmap(scan_ram, scan);
	checkd(cover >= ram, "memory map covers 1 MiB up to the RAM below 4 GiB",
	       "covered to 0x%lx, RAM ends 0x%lx", cover, ram);
	check(scan->starts_at_1m, "memory map has RAM starting at 1 MiB");
	checkd(!scan->beyond, "memory map has no RAM between the RAM size and 4 GiB",
	       "RAM at 0x%lx", scan->beyond);
	return true;
}

void guest_main(void)
{
	struct ram_scan scan = {0};
	uint64_t ram;

	show_basics();
	ram = check_fwcfg();
	if (check_mmap(&ram, &scan))
		check_meminfo(ram, &scan);
}
