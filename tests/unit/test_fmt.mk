UNIT_TESTS += test_fmt
test_fmt_SRCS := kernel/core/fmt.c
