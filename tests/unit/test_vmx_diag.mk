UNIT_TESTS += test_vmx_diag
test_vmx_diag_SRCS := vmx/vmx_diag.c vmx/vmx_caps.c kernel/core/fmt.c
