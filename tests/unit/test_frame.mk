UNIT_TESTS += test_frame
test_frame_SRCS := kernel/mm/frame.c kernel/mm/memmap.c
