UNIT_TESTS += test_gwalk
test_gwalk_SRCS := kernel/vm/gwalk.c
