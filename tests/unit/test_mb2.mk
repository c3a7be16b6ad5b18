UNIT_TESTS += test_mb2
test_mb2_SRCS := kernel/boot/mb2.c kernel/core/fmt.c
