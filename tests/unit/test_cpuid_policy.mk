UNIT_TESTS += test_cpuid_policy
test_cpuid_policy_SRCS := kernel/vm/cpuid_policy.c
