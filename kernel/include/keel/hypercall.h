/* Keel's hypercall ABI, the same on both backends (VMMCALL on AMD, VMCALL
 * on Intel): the call number in RAX, arguments in RBX, RCX and RDX, the
 * result in RAX. An unknown number raises #UD in the guest, as the
 * instruction does on a machine without a hypervisor. Nothing a guest needs
 * to boot depends on a hypercall. Constants only: safe for guest code. */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#define KEEL_HC_ABI 1 /* version of this ABI */

/* Returns KEEL_HC_ABI. Lets a guest confirm it runs on Keel. */
#define KEEL_HC_ABI_VERSION 0

#endif
