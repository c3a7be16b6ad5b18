UNIT_TESTS += test_guest_ram
test_guest_ram_SRCS := kernel/vm/guest_ram.c kernel/mm/pt.c kernel/mm/pt_x86.c
