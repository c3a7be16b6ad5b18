UNIT_TESTS += test_pmtimer
test_pmtimer_SRCS := kernel/vm/bus.c kernel/vdev/pmtimer.c
