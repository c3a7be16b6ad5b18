UNIT_TESTS += test_rtc
test_rtc_SRCS := kernel/vm/bus.c kernel/vdev/rtc.c
