/* EPT entry format for the common page-table builder, EPTP, and the EPT
 * rules of Intel SDM vol. 3, 29.3 (28.2 in older editions). Pure. */
#include <stddef.h>

#include "vmx/ept.h"

#define EPT_EMPTY 0ull
#define EPT_PML4E_RESERVED 0xF8ull   /* bits 7:3 */
#define EPT_NONLEAF_RESERVED 0x78ull /* bits 6:3 of a PDPTE/PDE pointing at a table */
#define EPT_PA_BITS_MAX 52u
#define EPT_PA_LIMIT (1ull << EPT_PA_BITS_MAX)
#define EPT_PAGE_MASK 0xFFFull

static uint64_t addr_mask(int level)
{
	if (level == EPT_LEVEL_1G)
		return EPT_ADDR_1G;
	if (level == EPT_LEVEL_2M)
		return EPT_ADDR_2M;
	return EPT_ADDR_4K;
}

static uint64_t memtype_bits(unsigned type)
{
	return ((uint64_t)type << EPT_MEMTYPE_SHIFT) & EPT_MEMTYPE_MASK;
}

static unsigned memtype_of(uint64_t e)
{
	return (unsigned)((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT);
}

static uint64_t ept_table(uint64_t pa)
{
	return (pa & EPT_ADDR_4K) | EPT_RWX;
}

static uint64_t ept_leaf(uint64_t pa, uint32_t prot, int level)
{
	/* No R: W alone or W|X is always a misconfiguration, X alone is one
	 * without execute-only support. An empty entry makes pt_map refuse. */
	if (!(prot & PT_R))
		return EPT_EMPTY;
	uint64_t e = (pa & addr_mask(level)) | EPT_R;

	if (prot & PT_W)
		e |= EPT_W;
	if (prot & PT_X)
		e |= EPT_X;
	e |= memtype_bits((prot & PT_UC) ? VMX_MEMTYPE_UC : VMX_MEMTYPE_WB);
	if (level > EPT_LEVEL_4K)
		e |= EPT_LARGE;
	return e;
}

static bool ept_present(uint64_t e)
{
	return e & EPT_RWX;
}

static bool ept_is_leaf(uint64_t e, int level)
{
	if (level == EPT_LEVEL_4K)
		return true;
	if (level == EPT_LEVEL_PML4)
		return false;
	return e & EPT_LARGE;
}

static uint64_t ept_addr(uint64_t e, int level)
{
	return e & (ept_is_leaf(e, level) ? addr_mask(level) : EPT_ADDR_4K);
}

static uint32_t ept_prot(uint64_t e, int level)
{
	uint32_t p = 0;

	if (e & EPT_R)
		p |= PT_R;
	if (e & EPT_W)
		p |= PT_W;
	if (e & EPT_X)
		p |= PT_X;
	/* Bits 5:3 are a memory type only in leaves; the formats write WB or
	 * UC, and any other type is reported as not write-back. */
	if (ept_is_leaf(e, level) && memtype_of(e) != VMX_MEMTYPE_WB)
		p |= PT_UC;
	return p;
}

#define EPT_FORMAT(max_level)                                                                      \
	{                                                                                          \
		.table = ept_table, .leaf = ept_leaf, .present = ept_present,                      \
		.is_leaf = ept_is_leaf, .addr = ept_addr, .prot = ept_prot,                        \
		.max_leaf_level = (max_level),                                                     \
	}

const struct pt_format ept_format_4k = EPT_FORMAT(EPT_LEVEL_4K);
const struct pt_format ept_format_2m = EPT_FORMAT(EPT_LEVEL_2M);
const struct pt_format ept_format_1g = EPT_FORMAT(EPT_LEVEL_1G);

const struct pt_format *ept_format_for(uint64_t ept_vpid_cap)
{
	if (!(ept_vpid_cap & VMX_EPT_CAP_2M))
		return &ept_format_4k;
	if (!(ept_vpid_cap & VMX_EPT_CAP_1G))
		return &ept_format_2m;
	return &ept_format_1g;
}

/* ---- EPTP ---- */

status_t ept_make_eptp(uint64_t pml4_pa, bool ad, uint64_t *eptp)
{
	if ((pml4_pa & EPT_PAGE_MASK) || pml4_pa >= EPT_PA_LIMIT)
		return ST_EINVAL;
	*eptp = pml4_pa | VMX_MEMTYPE_WB | EPTP_WALK_4 | (ad ? EPTP_AD : 0);
	return ST_OK;
}

/* Bits at or above MAXPHYADDR (bits 63:52 are checked separately). */
static uint64_t beyond_pa(unsigned maxphyaddr)
{
	if (maxphyaddr == 0 || maxphyaddr > EPT_PA_BITS_MAX)
		maxphyaddr = EPT_PA_BITS_MAX;
	return ~((1ull << maxphyaddr) - 1);
}

static const char *eptp_memtype_problem(uint64_t eptp, uint64_t cap)
{
	unsigned type = (unsigned)(eptp & EPTP_MEMTYPE_MASK);

	if (type == VMX_MEMTYPE_WB)
		return (cap & VMX_EPT_CAP_WB) ? NULL : "EPTP memory type WB not supported";
	if (type == VMX_MEMTYPE_UC)
		return (cap & VMX_EPT_CAP_UC) ? NULL : "EPTP memory type UC not supported";
	return "EPTP memory type is neither UC nor WB";
}

static const char *eptp_walk_problem(uint64_t eptp, uint64_t cap)
{
	uint64_t walk = eptp & EPTP_WALK_MASK;

	if (walk == EPTP_WALK_4)
		return (cap & VMX_EPT_CAP_WALK4) ? NULL : "EPTP: 4-level walk not supported";
	if (walk == EPTP_WALK_5)
		return (cap & VMX_EPT_CAP_WALK5) ? NULL : "EPTP: 5-level walk not supported";
	return "EPTP page-walk length is neither 4 nor 5";
}

const char *ept_eptp_problem(uint64_t eptp, uint64_t ept_vpid_cap, unsigned maxphyaddr)
{
	const char *why = eptp_memtype_problem(eptp, ept_vpid_cap);

	if (!why)
		why = eptp_walk_problem(eptp, ept_vpid_cap);
	if (why)
		return why;
	if ((eptp & EPTP_AD) && !(ept_vpid_cap & VMX_EPT_CAP_AD))
		return "EPTP enables accessed/dirty flags the CPU does not support";
	if ((eptp & EPTP_SSS) && !(ept_vpid_cap & VMX_EPT_CAP_SSS))
		return "EPTP enables shadow-stack control the CPU does not support";
	if (eptp & EPTP_RESERVED_11_8)
		return "EPTP reserved bits 11:8 are set";
	if (eptp & beyond_pa(maxphyaddr))
		return "EPTP address is beyond MAXPHYADDR";
	return NULL;
}

/* ---- misconfiguration ---- */

static const char *perm_problem(uint64_t e, uint64_t cap)
{
	if ((e & EPT_W) && !(e & EPT_R))
		return "writable but not readable";
	if ((e & EPT_X) && !(e & EPT_R) && !(cap & VMX_EPT_CAP_EXEC_ONLY))
		return "execute-only, which the CPU does not support";
	return NULL;
}

static bool memtype_reserved(unsigned type)
{
	return type != VMX_MEMTYPE_UC && type != VMX_MEMTYPE_WC && type != VMX_MEMTYPE_WT &&
	       type != VMX_MEMTYPE_WP && type != VMX_MEMTYPE_WB;
}

static const char *large_problem(uint64_t e, int level, uint64_t cap)
{
	if (level == EPT_LEVEL_1G && !(cap & VMX_EPT_CAP_1G))
		return "a 1 GiB page, which the CPU does not support";
	if (level == EPT_LEVEL_2M && !(cap & VMX_EPT_CAP_2M))
		return "a 2 MiB page, which the CPU does not support";
	if (e & EPT_ADDR_4K & ~addr_mask(level))
		return "a large page with reserved low address bits set";
	return NULL;
}

static const char *leaf_problem(uint64_t e, int level, uint64_t cap)
{
	if (level > EPT_LEVEL_4K) {
		const char *why = large_problem(e, level, cap);

		if (why)
			return why;
	}
	if (memtype_reserved(memtype_of(e)))
		return "a reserved memory type (2, 3 or 7)";
	return NULL;
}

const char *ept_entry_problem(uint64_t e, int level, uint64_t ept_vpid_cap, unsigned maxphyaddr)
{
	if (!ept_present(e))
		return NULL;
	const char *why = perm_problem(e, ept_vpid_cap);

	if (why)
		return why;
	if (e & EPT_ADDR_4K & beyond_pa(maxphyaddr))
		return "an address beyond MAXPHYADDR";
	if (level == EPT_LEVEL_PML4)
		return (e & EPT_PML4E_RESERVED) ? "a PML4E with reserved bits 7:3 set" : NULL;
	if (ept_is_leaf(e, level))
		return leaf_problem(e, level, ept_vpid_cap);
	return (e & EPT_NONLEAF_RESERVED) ? "a table pointer with reserved bits 6:3 set" : NULL;
}

/* ---- EPT violations ---- */

void ept_violation_decode(uint64_t qual, struct ept_violation *v)
{
	*v = (struct ept_violation){
	    .read = qual & VMX_EPTQ_READ,
	    .write = qual & VMX_EPTQ_WRITE,
	    .fetch = qual & VMX_EPTQ_FETCH,
	    .readable = qual & VMX_EPTQ_READABLE,
	    .writable = qual & VMX_EPTQ_WRITABLE,
	    .executable = qual & VMX_EPTQ_EXECUTABLE,
	    .gla_valid = qual & VMX_EPTQ_GLA_VALID,
	    .nmi_unblocking = qual & VMX_EPTQ_NMI_UNBLOCKING,
	};
	/* Bit 8 means something only when bit 7 is set (SDM table 28-7). */
	v->walk = !v->gla_valid || !(qual & VMX_EPTQ_TRANSLATION);
}
