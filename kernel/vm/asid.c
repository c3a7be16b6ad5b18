/* Per-CPU tag allocation with generations (see asid.h). */
#include "vm/asid.h"

void asid_cpu_init(struct asid_cpu *c, uint32_t first, uint32_t max)
{
	c->gen = 1;
	c->first = first;
	c->next = first;
	c->max = max;
}

bool asid_assign(struct asid_cpu *c, int cpu, struct asid_vcpu *v)
{
	bool flush = false;

	if (v->cpu == cpu && v->gen == c->gen)
		return false;
	if (c->next >= c->max) {
		c->gen++;
		c->next = c->first;
		flush = true;
	}
	v->asid = c->next++;
	v->gen = c->gen;
	v->cpu = cpu;
	return flush;
}
