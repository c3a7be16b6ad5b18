UNIT_TESTS += test_memmap
test_memmap_SRCS := kernel/mm/memmap.c
