/* Inside the SVM backend: what svm_enable.c tells svm.c. */
#ifndef KEEL_SVM_SVM_H
#define KEEL_SVM_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/virt.h"

bool svm_probe(char *why, size_t len);
void svm_describe(char *buf, size_t len);
status_t svm_enable_cpu(unsigned cpu) MUST_CHECK;
bool svm_has_nrips(void);
uint32_t svm_asid_count(void);

/* SVM is on for cpu, with host_save_pa as its VMSAVE page for the host. */
void svm_cpu_ready(unsigned cpu, uint64_t host_save_pa);

void svm_enter(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_save_pa);

#endif
