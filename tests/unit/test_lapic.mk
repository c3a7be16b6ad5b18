UNIT_TESTS += test_lapic
test_lapic_SRCS := kernel/vm/bus.c kernel/vdev/lapic.c
