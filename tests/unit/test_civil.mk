UNIT_TESTS += test_civil
test_civil_SRCS := drivers/rtc/civil.c
