/* pio: port I/O exits against the test device (kernel/vdev/testdev_abi.h).
 * SCRATCH at every size and sub-offset, COUNTER through rep insb, HASH_IN
 * through rep outsb forwards and backwards, rep with RCX = 0, outsb to
 * COM1, and all-ones from an unclaimed port. Fails under plain QEMU, which
 * has no test device. */
#include "rt.h"

#include "../../kernel/vdev/testdev_abi.h"

#define PORT(reg) ((uint16_t)(TESTDEV_PIO_BASE + (reg)))
#define UNCLAIMED_PORT 0x700
/* The test device's ports do not fit in an imm8, so the imm8 forms of in
 * and out are exercised on a port no PC device decodes. */
#define UNCLAIMED_PORT_IMM8 0xE0
#define COUNTER_START 0xF0 /* wraps past 255 within the 300 bytes */
#define COUNTER_LEN 300
#define HASH_MULT 31u
#define UART_LSR 5
#define LSR_THRE 0x20
#define THRE_SPIN_LIMIT 100000

const char rt_name[] = "pio";

static uint8_t buf[COUNTER_LEN + 16];

static void check_scratch(void)
{
	uint16_t p = PORT(TESTDEV_SCRATCH);
	bool bytes_ok = true;

	outl(p, 0x11223344);
	check_eq(inl(p), 0x11223344, "SCRATCH: outl/inl (DX) round trip");
	for (unsigned i = 0; i < 4; i++)
		bytes_ok &= inb(p + i) == (uint8_t)(0x11223344 >> (8 * i));
	checkd(bytes_ok, "SCRATCH: inb at +0..+3 are the little-endian bytes",
	       "%02x %02x %02x %02x", inb(p), inb(p + 1), inb(p + 2), inb(p + 3));
	check_eq(inw(p), 0x3344, "SCRATCH: inw at +0");
	check_eq(inw(p + 1), 0x2233, "SCRATCH: inw at +1");
	check_eq(inw(p + 2), 0x1122, "SCRATCH: inw at +2");

	outb(p + 1, 0xAA);
	check_eq(inl(p), 0x1122AA44, "SCRATCH: outb at +1 changes only byte 1");
	outb(p + 3, 0x55);
	check_eq(inl(p), 0x5522AA44, "SCRATCH: outb at +3 changes only byte 3");
	outw(p + 2, 0xBEEF);
	check_eq(inl(p), 0xBEEFAA44, "SCRATCH: outw at +2 changes only bytes 2-3");
	outw(p + 1, 0x1234);
	check_eq(inl(p), 0xBE123444, "SCRATCH: outw at +1 changes only bytes 1-2");
	outw(p, 0xCAFE);
	check_eq(inl(p), 0xBE12CAFE, "SCRATCH: outw at +0 changes only bytes 0-1");
}

/* rep insb from COUNTER: n, n+1, ... mod 256, one read per byte. */
static void check_counter(void)
{
	uint8_t *dst = buf + 8;
	uint64_t rdi = (uint64_t)(uintptr_t)dst, rcx = COUNTER_LEN;
	unsigned bad = 0, first_bad = 0;

	memset(buf, 0xEE, sizeof(buf));
	outb(PORT(TESTDEV_COUNTER), COUNTER_START);
	asm volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT(TESTDEV_COUNTER)) : "memory");
	for (unsigned i = 0; i < COUNTER_LEN; i++) {
		if (dst[i] != (uint8_t)(COUNTER_START + i) && !bad++)
			first_bad = i;
	}
	checkd(!bad, "COUNTER: rep insb of 300 bytes reads n..n+299 mod 256",
	       "%u wrong, first at %u: got 0x%02x want 0x%02x", bad, first_bad, dst[first_bad],
	       (uint8_t)(COUNTER_START + first_bad));
	check_eq(rcx, 0, "COUNTER: rep insb leaves RCX = 0");
	check_eq(rdi - (uint64_t)(uintptr_t)dst, COUNTER_LEN,
		 "COUNTER: rep insb advances RDI by 300");
	checkd(buf[7] == 0xEE && dst[COUNTER_LEN] == 0xEE,
	       "COUNTER: rep insb writes nothing outside", "before 0x%02x after 0x%02x", buf[7],
	       dst[COUNTER_LEN]);
	check_eq(inb(PORT(TESTDEV_COUNTER)), (uint8_t)(COUNTER_START + COUNTER_LEN),
		 "COUNTER: next read is n+300 (no extra reads)");
}

static void check_rep_zero(void)
{
	uint64_t rdi = (uint64_t)(uintptr_t)buf, rcx = 0;

	memset(buf, 0xEE, sizeof(buf));
	outb(PORT(TESTDEV_COUNTER), 5);
	asm volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT(TESTDEV_COUNTER)) : "memory");
	checkd(buf[0] == 0xEE && rdi == (uint64_t)(uintptr_t)buf,
	       "rep insb with RCX = 0 stores nothing and keeps RDI", "buf[0] 0x%02x RDI moved %ld",
	       buf[0], (int64_t)(rdi - (uint64_t)(uintptr_t)buf));
	check_eq(inb(PORT(TESTDEV_COUNTER)), 5, "rep insb with RCX = 0 reads no port");
}

static uint32_t hash_of(const char *s, size_t n, bool backwards)
{
	uint32_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = h * HASH_MULT + (uint8_t)s[backwards ? n - 1 - i : i];
	return h;
}

static void check_hash(void)
{
	static const char msg[] = "Keel test device: rep outsb into HASH_IN";
	size_t n = sizeof(msg) - 1;
	uint64_t rsi = (uint64_t)(uintptr_t)msg, rcx = n;

	outl(PORT(TESTDEV_HASH), 0);
	check_eq(inl(PORT(TESTDEV_HASH)), 0, "HASH: a write resets it to 0");
	asm volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(PORT(TESTDEV_HASH_IN)) : "memory");
	check_eq(inl(PORT(TESTDEV_HASH)), hash_of(msg, n, false),
		 "HASH: rep outsb of a string hashes every byte in order");
	checkd(rcx == 0 && rsi == (uint64_t)(uintptr_t)msg + n,
	       "HASH: rep outsb ends RCX 0, RSI +n", "RCX %lu, RSI moved %ld", rcx,
	       (int64_t)(rsi - (uint64_t)(uintptr_t)msg));

	/* DF = 1: from the last byte down to the first. */
	outl(PORT(TESTDEV_HASH), 0);
	rsi = (uint64_t)(uintptr_t)(msg + n - 1);
	rcx = n;
	asm volatile("std; rep outsb; cld"
		     : "+S"(rsi), "+c"(rcx)
		     : "d"(PORT(TESTDEV_HASH_IN))
		     : "memory");
	check_eq(inl(PORT(TESTDEV_HASH)), hash_of(msg, n, true),
		 "HASH: rep outsb with DF=1 hashes the string backwards");
	check_eq(rsi, (uint64_t)(uintptr_t)msg - 1, "HASH: rep outsb with DF=1 ends RSI one below");
}

/* One outsb per byte, polling LSR first as a driver would. */
static void check_outsb_com1(void)
{
	static const char line[] = "pio: this line was written with outsb\r\n";
	uint64_t rsi = (uint64_t)(uintptr_t)line;

	for (size_t i = 0; i + 1 < sizeof(line); i++) {
		for (unsigned s = 0; s < THRE_SPIN_LIMIT; s++) {
			if (inb(RT_COM1 + UART_LSR) & LSR_THRE)
				break;
		}
		asm volatile("outsb" : "+S"(rsi) : "d"(RT_COM1) : "memory");
	}
	check_eq(rsi - (uint64_t)(uintptr_t)line, sizeof(line) - 1, "outsb to COM1 advances RSI");
}

static void check_unclaimed(void)
{
	uint8_t b;
	uint16_t w;
	uint32_t l;

	check_eq(inb(UNCLAIMED_PORT), 0xFF, "unclaimed port 0x700: inb (DX) is 0xFF");
	check_eq(inw(UNCLAIMED_PORT), 0xFFFF, "unclaimed port 0x700: inw (DX) is 0xFFFF");
	check_eq(inl(UNCLAIMED_PORT), 0xFFFFFFFF, "unclaimed port 0x700: inl (DX) is 0xFFFFFFFF");

	asm volatile("outb %%al, %[p]\n\toutw %%ax, %[p]\n\toutl %%eax, %[p]"
		     :
		     : "a"(0x12345678), [p] "i"(UNCLAIMED_PORT_IMM8));
	asm volatile("inb %[p], %%al" : "=a"(b) : [p] "i"(UNCLAIMED_PORT_IMM8));
	check_eq(b, 0xFF, "unclaimed port 0xE0: out imm8 dropped, inb imm8 is 0xFF");
	asm volatile("inw %[p], %%ax" : "=a"(w) : [p] "i"(UNCLAIMED_PORT_IMM8));
	check_eq(w, 0xFFFF, "unclaimed port 0xE0: inw imm8 is 0xFFFF");
	asm volatile("inl %[p], %%eax" : "=a"(l) : [p] "i"(UNCLAIMED_PORT_IMM8));
	check_eq(l, 0xFFFFFFFF, "unclaimed port 0xE0: inl imm8 is 0xFFFFFFFF");
}

void guest_main(void)
{
	check_scratch();
	check_counter();
	check_rep_zero();
	check_hash();
	check_outsb_com1();
	check_unclaimed();
}
