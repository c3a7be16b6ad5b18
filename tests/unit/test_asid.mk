UNIT_TESTS += test_asid
test_asid_SRCS := kernel/vm/asid.c
