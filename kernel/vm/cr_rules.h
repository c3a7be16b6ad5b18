/* Which guest writes to CR0 and CR4 the CPU would refuse with #GP (Intel SDM
 * vol. 2 "MOV to/from Control Registers" and vol. 3 2.5; AMD APM vol. 2
 * 3.1). Used when a backend intercepts such a write and the dispatcher must
 * decide it as the CPU would. Pure logic. */
#ifndef KEEL_VM_CR_RULES_H
#define KEEL_VM_CR_RULES_H

#include <stdbool.h>
#include <stdint.h>

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_PAE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_PCIDE (1ull << 17)
#define CR4_LA57 (1ull << 12)

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* The guest state a rule depends on. */
struct cr_state {
	uint64_t cr0, cr3, cr4, efer; /* as the guest sees them */
	bool cs_long;		      /* executing 64-bit code (CS.L = 1 in long mode) */
	uint64_t cr4_allowed;	      /* CR4 bits this guest may set */
};

/* Would MOV CR0, val fault? (ET reads as 1 whatever is written.) */
bool cr0_write_faults(const struct cr_state *s, uint64_t val);
/* Would MOV CR4, val fault? */
bool cr4_write_faults(const struct cr_state *s, uint64_t val);

#endif
