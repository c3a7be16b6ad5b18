/* The contract between Keel's common code and a hardware virtualization
 * backend (svm/, later vmx/). Common code never includes a backend header.
 * This first cut covers finding and enabling the hardware; running vCPUs
 * grows the table in the next steps (DESIGN.md section 2). */
#ifndef KEEL_VIRT_H
#define KEEL_VIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "keel/status.h"

#define VIRT_WHY_MAX 160

struct virt_ops {
	const char *name;
	/* Can this machine run the backend? On no, `why` says why in one line. */
	bool (*probe)(char *why, size_t whylen);
	/* One line describing the features found (after a successful probe). */
	void (*describe)(char *buf, size_t len);
	/* Turn the hardware on for the calling CPU. */
	status_t (*enable_cpu)(unsigned cpu) MUST_CHECK;
};

/* Picks the backend at boot and reports the choice. */
void virt_init(void);
/* Enables the chosen backend on the calling CPU (BSP and every AP). */
void virt_enable_this_cpu(unsigned cpu);
/* Name of the backend in use, or NULL when none is usable. */
const char *virt_backend(void);
/* Number of CPUs on which the backend was enabled. */
unsigned virt_cpus_enabled(void);

extern const struct virt_ops svm_ops;

#endif
