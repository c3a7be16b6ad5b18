# Test guests: freestanding multiboot (v1) kernels, one per class of VM exit.
# Included by the top-level Makefile; also works alone:
#   make -f tests/guests/guests.mk BUILD=build guests
# Each guest NAME is tests/guests/NAME.c plus GUEST_EXTRA_NAME (assembly),
# linked with lib/ at 1 MiB as ELF64 ($(BUILD)/guests/NAME.elf64, for
# debugging) and converted to the ELF32 that multiboot loaders accept
# ($(BUILD)/guests/NAME.elf).
BUILD ?= build
GUEST_CC ?= gcc
GUEST_OBJCOPY ?= objcopy

GUESTS := hello cpuid msr pio mmio mmio_bad unclaimed irq exc triple spin fpu bench \
	lapic timers ioapic_pic rtc uart acpi power hostile smp

GUEST_DIR := tests/guests
GUEST_OUT := $(BUILD)/guests
GUEST_CFLAGS := -std=gnu11 -m64 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fno-strict-aliasing -I$(GUEST_DIR)/lib -MMD -MP
GUEST_ASFLAGS := -m64 -g -I$(GUEST_DIR)/lib -D__ASSEMBLY__ -MMD -MP
GUEST_LDFLAGS := -m64 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
	-Wl,--no-warn-rwx-segments -T $(GUEST_DIR)/lib/guest.ld

GUEST_LIB_OBJS := $(GUEST_OUT)/lib/entry.o $(GUEST_OUT)/lib/isr.o $(GUEST_OUT)/lib/rt.o \
	$(GUEST_OUT)/lib/print.o $(GUEST_OUT)/lib/pc.o
GUEST_EXTRA_mmio := $(GUEST_OUT)/mmio32.o
GUEST_EXTRA_fpu := $(GUEST_OUT)/fpu_regs.o
GUEST_EXTRA_smp := $(GUEST_OUT)/smp_ap.o

.PHONY: guests
guests: $(GUESTS:%=$(GUEST_OUT)/%.elf)

$(GUEST_OUT)/%.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_OUT)/%.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

define guest_rule
$(GUEST_OUT)/$(1).elf64: $(GUEST_OUT)/$(1).o $$(GUEST_EXTRA_$(1)) $(GUEST_LIB_OBJS) \
		$(GUEST_DIR)/lib/guest.ld
	$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^) -lgcc
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rule,$(g))))

# Multiboot loaders (QEMU's -kernel, Keel's mb1 loader) take ELF32 i386
# only; the 64-bit code inside is just bytes to them.
$(GUEST_OUT)/%.elf: $(GUEST_OUT)/%.elf64
	$(GUEST_OBJCOPY) -O elf32-i386 --strip-all $< $@

-include $(wildcard $(GUEST_OUT)/*.d $(GUEST_OUT)/lib/*.d)
