UNIT_TESTS += test_acpi
test_acpi_SRCS := drivers/acpi/acpi.c kernel/core/fmt.c
