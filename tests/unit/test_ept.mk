UNIT_TESTS += test_ept
test_ept_SRCS := vmx/ept.c kernel/mm/pt.c
