UNIT_TESTS += test_insn
test_insn_SRCS := kernel/vm/insn.c
