UNIT_TESTS += test_bus
test_bus_SRCS := kernel/vm/bus.c
