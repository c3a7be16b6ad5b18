UNIT_TESTS += test_cr_rules
test_cr_rules_SRCS := kernel/vm/cr_rules.c
