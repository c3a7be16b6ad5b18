UNIT_TESTS += test_pt
test_pt_SRCS := kernel/mm/pt.c kernel/mm/pt_x86.c
