UNIT_TESTS += test_pit
test_pit_SRCS := kernel/vm/bus.c kernel/vdev/pit.c
