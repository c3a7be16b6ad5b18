UNIT_TESTS += test_msr_policy
test_msr_policy_SRCS := kernel/vm/msr_policy.c
