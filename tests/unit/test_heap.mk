UNIT_TESTS += test_heap
test_heap_SRCS := kernel/mm/heap.c
