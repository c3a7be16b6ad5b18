UNIT_TESTS += test_vmstate
test_vmstate_SRCS := kernel/vm/vmstate.c kernel/core/fmt.c
