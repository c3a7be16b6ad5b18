UNIT_TESTS += test_shell
test_shell_SRCS := mgmt/shell.c kernel/core/fmt.c
