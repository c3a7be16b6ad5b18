#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <stdint.h>

struct spinlock {
	volatile uint32_t locked;
};

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t flags;

	__asm__ volatile("pushfq; pop %0; cli" : "=r"(flags)::"memory");
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	__asm__ volatile("push %0; popfq" ::"r"(flags) : "memory", "cc");
}

#endif
