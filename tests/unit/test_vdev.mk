UNIT_TESTS += test_vdev
test_vdev_SRCS := kernel/vm/bus.c kernel/vdev/console.c kernel/vdev/uart16550.c kernel/vdev/debugexit.c kernel/vdev/fwcfg.c kernel/vdev/testdev.c
