UNIT_TESTS += test_uart16550
test_uart16550_SRCS := kernel/vdev/uart16550.c kernel/vdev/console.c kernel/vm/bus.c
