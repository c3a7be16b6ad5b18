UNIT_TESTS += test_pic
test_pic_SRCS := kernel/vm/bus.c kernel/vdev/pic.c
