UNIT_TESTS += test_aml
test_aml_SRCS := kernel/vdev/aml.c
