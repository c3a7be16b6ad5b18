/* VMX instructions as inline functions (Intel SDM vol. 3 chapter 31 and
 * vol. 2C). Each reports VMfailInvalid (CF) or VMfailValid (ZF) as false.
 * Hardware access only. */
#ifndef KEEL_VMX_HW_H
#define KEEL_VMX_HW_H

#include <stdbool.h>
#include <stdint.h>

/* "setna" is 1 when CF or ZF is set: the instruction failed. */
#define VMX_INSN_1(insn, operand)                                                                  \
	({                                                                                         \
		uint8_t failed_;                                                                   \
		__asm__ volatile(insn " %1; setna %0"                                              \
				 : "=qm"(failed_)                                                  \
				 : "m"(operand)                                                    \
				 : "cc", "memory");                                                \
		!failed_;                                                                          \
	})

static inline bool vmxon(uint64_t pa)
{
	return VMX_INSN_1("vmxon", pa);
}

static inline bool vmptrld(uint64_t pa)
{
	return VMX_INSN_1("vmptrld", pa);
}

static inline bool vmclear(uint64_t pa)
{
	return VMX_INSN_1("vmclear", pa);
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;

	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static inline void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(field), "rm"(v) : "cc");
}

struct invept_desc {
	uint64_t eptp, zero;
};

struct invvpid_desc {
	uint64_t vpid, addr;
};

static inline void invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc d = {eptp, 0};

	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(type) : "cc", "memory");
}

static inline void invvpid(uint64_t type, uint16_t vpid)
{
	struct invvpid_desc d = {vpid, 0};

	__asm__ volatile("invvpid %0, %1" ::"m"(d), "r"(type) : "cc", "memory");
}

#endif
