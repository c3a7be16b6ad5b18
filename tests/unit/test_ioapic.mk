UNIT_TESTS += test_ioapic
test_ioapic_SRCS := kernel/vm/bus.c kernel/vdev/ioapic.c
