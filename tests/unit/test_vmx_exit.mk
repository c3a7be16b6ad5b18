UNIT_TESTS += test_vmx_exit
test_vmx_exit_SRCS := vmx/vmx_exit.c vmx/ept.c kernel/mm/pt.c
