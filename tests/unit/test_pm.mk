UNIT_TESTS += test_pm
test_pm_SRCS := kernel/vdev/pm.c
