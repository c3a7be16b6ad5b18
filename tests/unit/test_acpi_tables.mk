UNIT_TESTS += test_acpi_tables
test_acpi_tables_SRCS := kernel/vdev/acpi_tables.c kernel/vdev/aml.c drivers/acpi/acpi.c kernel/core/fmt.c
