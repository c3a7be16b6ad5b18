UNIT_TESTS += test_emulate
test_emulate_SRCS := kernel/vm/emulate.c kernel/vm/insn.c kernel/core/fmt.c kernel/core/status.c
