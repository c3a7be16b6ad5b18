UNIT_TESTS += test_cmdline
test_cmdline_SRCS := kernel/core/cmdline.c kernel/core/fmt.c
