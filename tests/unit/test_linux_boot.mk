UNIT_TESTS += test_linux_boot
test_linux_boot_SRCS := kernel/vm/linux_boot.c kernel/core/fmt.c
