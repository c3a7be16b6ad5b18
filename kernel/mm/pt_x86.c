/* x86-64 4-level paging entry format for the generic builder in pt.c. */
#include "mm/pt_x86.h"

#define X86_LEVEL_4K 1
#define X86_LEVEL_2M 2
#define X86_LEVEL_1G 3
#define X86_LEVEL_PML4 4

static uint64_t x86_table(uint64_t pa)
{
	return (pa & X86_PTE_ADDR_4K) | X86_PTE_P | X86_PTE_RW | X86_PTE_US;
}

static uint64_t addr_mask(int level)
{
	if (level == X86_LEVEL_1G)
		return X86_PTE_ADDR_1G;
	if (level == X86_LEVEL_2M)
		return X86_PTE_ADDR_2M;
	return X86_PTE_ADDR_4K;
}

static uint64_t x86_leaf(uint64_t pa, uint32_t prot, int level)
{
	uint64_t e = pa & addr_mask(level);

	if (level > X86_LEVEL_4K)
		e |= X86_PTE_PS;
	if (prot & PT_R)
		e |= X86_PTE_P;
	if (prot & PT_W)
		e |= X86_PTE_RW;
	if (!(prot & PT_X))
		e |= X86_PTE_NX;
	if (prot & PT_UC)
		e |= X86_PTE_PCD | X86_PTE_PWT;
	if (prot & PT_GLOBAL)
		e |= X86_PTE_G;
	if (prot & PT_USER)
		e |= X86_PTE_US;
	return e;
}

static bool x86_present(uint64_t e)
{
	return e & X86_PTE_P;
}

static bool x86_is_leaf(uint64_t e, int level)
{
	if (level == X86_LEVEL_4K)
		return true;
	if (level == X86_LEVEL_PML4)
		return false; /* PS is reserved in a PML4E */
	return e & X86_PTE_PS;
}

static uint64_t x86_addr(uint64_t e, int level)
{
	return e & (x86_is_leaf(e, level) ? addr_mask(level) : X86_PTE_ADDR_4K);
}

static uint32_t x86_prot(uint64_t e, int level)
{
	uint32_t p = 0;

	if (e & X86_PTE_P)
		p |= PT_R;
	if (e & X86_PTE_RW)
		p |= PT_W;
	if (!(e & X86_PTE_NX))
		p |= PT_X;
	if (e & X86_PTE_US)
		p |= PT_USER;
	if (e & X86_PTE_PCD)
		p |= PT_UC;
	if ((e & X86_PTE_G) && x86_is_leaf(e, level))
		p |= PT_GLOBAL;
	return p;
}

const struct pt_format pt_x86_format_2m = {
    .table = x86_table,
    .leaf = x86_leaf,
    .present = x86_present,
    .is_leaf = x86_is_leaf,
    .addr = x86_addr,
    .prot = x86_prot,
    .max_leaf_level = X86_LEVEL_2M,
};

const struct pt_format pt_x86_format_1g = {
    .table = x86_table,
    .leaf = x86_leaf,
    .present = x86_present,
    .is_leaf = x86_is_leaf,
    .addr = x86_addr,
    .prot = x86_prot,
    .max_leaf_level = X86_LEVEL_1G,
};
