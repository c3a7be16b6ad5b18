/* Inside the VT-x backend: what vmx_enable.c tells vmx.c. */
#ifndef KEEL_VMX_VMX_H
#define KEEL_VMX_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/asid.h"
#include "vm/virt.h"
#include "vmx/vmx_caps.h"

bool vmx_probe(char *why, size_t len);
void vmx_describe(char *buf, size_t len);
status_t vmx_enable_cpu(unsigned cpu) MUST_CHECK;

/* What the probe learned; valid once it succeeded. */
extern struct vmx_msrs vmx_msrs;
extern struct vmx_features vmx_feat;
extern struct vmx_ctls vmx_ctls;

/* Per host CPU: the VMXON region and the VPID allocator. */
struct vmx_cpu {
	uint64_t vmxon_pa;
	struct asid_cpu vpid;
};
struct vmx_cpu *vmx_this_cpu(void);

/* One world switch (vmx_entry.S): returns 0 after a VM exit with the guest's
 * registers in gprs, or 1 when VMLAUNCH/VMRESUME failed (nothing ran). */
int vmx_enter(uint64_t *gprs, int launched);

#endif
