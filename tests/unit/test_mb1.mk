UNIT_TESTS += test_mb1
test_mb1_SRCS := kernel/vm/mb1.c kernel/core/fmt.c
