/* MOV-to-CR #GP rules (see cr_rules.h). */
#include "vm/cr_rules.h"

#define CR0_RESERVED_HIGH 0xFFFFFFFF00000000ull
#define CR3_PCID_MASK 0xFFFull

bool cr0_write_faults(const struct cr_state *s, uint64_t val)
{
	if (val & CR0_RESERVED_HIGH)
		return true;
	if ((val & CR0_PG) && !(val & CR0_PE))
		return true;
	if ((val & CR0_NW) && !(val & CR0_CD))
		return true;
	/* Enabling paging with LME set activates long mode, which needs PAE. */
	if ((val & CR0_PG) && !(s->cr0 & CR0_PG) && (s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
		return true;
	/* Long mode cannot be left from 64-bit code. */
	if (!(val & CR0_PG) && (s->efer & EFER_LMA) && s->cs_long)
		return true;
	return false;
}

bool cr4_write_faults(const struct cr_state *s, uint64_t val)
{
	bool long_mode = (s->efer & EFER_LMA) != 0;

	if (val & ~s->cr4_allowed)
		return true;
	if (long_mode && !(val & CR4_PAE))
		return true;
	if (long_mode && ((val ^ s->cr4) & CR4_LA57))
		return true;
	/* PCIDs exist only in long mode, and only with CR3's PCID field 0. */
	if ((val & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) && (!long_mode || (s->cr3 & CR3_PCID_MASK)))
		return true;
	return false;
}
