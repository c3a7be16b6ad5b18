# Keel top-level build. Everything lands in build/.
BUILD    ?= build
CC       ?= gcc
HOSTCC   ?= gcc
PYTHON   ?= /usr/bin/python3

KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-omit-frame-pointer -mno-red-zone -mgeneral-regs-only \
	-mcmodel=kernel -fno-builtin -nostdinc -fno-strict-aliasing \
	-isystem $(shell $(CC) -print-file-name=include) \
	-I. -Ikernel -Ikernel/include -MMD -MP
KASFLAGS := $(filter-out -std=gnu11,$(KCFLAGS)) -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -Wl,--no-warn-rwx-segments -Wl,--build-id=none -T boot/linker.ld

KSRC_C := $(shell find boot kernel drivers mgmt vmx svm -name '*.c' 2>/dev/null | sort)
KSRC_S := $(shell find boot kernel drivers mgmt vmx svm -name '*.S' 2>/dev/null | sort)
KOBJ   := $(KSRC_C:%.c=$(BUILD)/k/%.o) $(KSRC_S:%.S=$(BUILD)/k/%.o)

HOSTCFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all -I. -Ikernel -Ikernel/include \
	-DKEEL_HOST_TEST -MMD -MP
HOSTLIBS := -lcmocka

.PHONY: all iso run run-uefi check check-slow unit integration fmt fmt-check clean deps
all: iso

deps:
	@./tools/deps.sh

$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@
$(BUILD)/k/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c $< -o $@

$(BUILD)/keel.elf: $(KOBJ) boot/linker.ld
	$(CC) $(KLDFLAGS) -o $@ $(KOBJ) -lgcc
	@./tools/check-sse.sh $@

iso: $(BUILD)/keel.iso
$(BUILD)/keel.iso: $(BUILD)/keel.elf boot/grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(BUILD)/keel.elf $(BUILD)/iso/boot/keel.elf
	cp boot/grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }

# make run boots Keel with a demo Debian guest (VM demo, tools/demo-iso.sh);
# run-uefi and run-bare boot the plain image.
.PHONY: demo-iso run run-uefi run-bare
demo-iso: iso linux-guest
	@tools/demo-iso.sh $(BUILD)
run: deps demo-iso
	@MEM=$${MEM:-1024} ./tools/run-qemu.sh $(BUILD)/keel-demo.iso bios
run-uefi: deps iso
	@./tools/run-qemu.sh $(BUILD)/keel.iso uefi
run-bare: deps iso
	@./tools/run-qemu.sh $(BUILD)/keel.iso bios

# ---- host unit tests (cmocka, ASan + UBSan) ----
# Each tests/unit/NAME.mk adds NAME to UNIT_TESTS and sets NAME_SRCS.
UNIT_TESTS :=
include $(wildcard tests/unit/*.mk)
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/unit/%)

# ---- test guests (multiboot v1 kernels run under Keel) ----
-include tests/guests/guests.mk

# Every header is a prerequisite: a test built from several sources in one
# compiler run gets no reliable dependency file, and a stale test binary
# would hide a broken build.
UNIT_HEADERS := $(shell find kernel drivers mgmt vmx svm -name '*.h' 2>/dev/null)

define unit_rule
$(BUILD)/unit/$(1): tests/unit/$(1).c $$($(1)_SRCS) $$(UNIT_HEADERS)
	@mkdir -p $$(dir $$@)
	$$(HOSTCC) $$(HOSTCFLAGS) -o $$@ $$(filter %.c,$$^) $$(HOSTLIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_BINS)
	@$(PYTHON) tests/run_unit.py $(UNIT_BINS)

integration: iso guests linux-guest
	@$(PYTHON) tests/integration/run.py --iso $(BUILD)/keel.iso

# Debian's kernel and busybox, downloaded (cached outside the clone) and
# unpacked into $(BUILD)/linux with the test initramfs.
.PHONY: linux-guest
linux-guest:
	@tools/linux-guest.sh $(BUILD)/linux

# Slower emulator runs, not part of check (see README, Tests).
check-slow: deps iso guests linux-guest
	@$(PYTHON) tests/integration/run.py --iso $(BUILD)/keel.iso --slow

# Exit-cost figures under QEMU icount (not part of check; see README, Benchmarks).
.PHONY: bench bench-profile
bench: iso guests linux-guest
	@$(PYTHON) tests/bench/run_bench.py --iso $(BUILD)/keel.iso --guests $(BUILD)/guests \
		--out $(BUILD)/bench
	@$(PYTHON) tests/bench/linux_boot.py --iso $(BUILD)/keel.iso --out $(BUILD)/bench
bench-profile: iso guests
	@$(PYTHON) tests/bench/profile_exits.py --iso $(BUILD)/keel.iso --guests $(BUILD)/guests \
		--out $(BUILD)/bench

check: deps
	@$(MAKE) --no-print-directory fmt-check
	@$(MAKE) --no-print-directory iso
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration

# ---- fuzz targets (libFuzzer, clang; tests/fuzz/fuzz_NAME.c) ----
# make fuzz runs each for FUZZ_SECONDS with its corpus kept in
# $(BUILD)/fuzz/corpus-NAME; make check runs each for FUZZ_SMOKE_RUNS inputs
# from a fixed seed, so the targets keep building and find shallow bugs.
FUZZCC ?= clang
FUZZCFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -I. -Ikernel -Ikernel/include \
	-DKEEL_HOST_TEST
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 200000
FUZZ_TARGETS := insn linux_boot acpi mb2 shell cmdline
fuzz_insn_SRCS := kernel/vm/insn.c
fuzz_linux_boot_SRCS := kernel/vm/linux_boot.c kernel/core/fmt.c
fuzz_acpi_SRCS := drivers/acpi/acpi.c kernel/core/fmt.c
fuzz_mb2_SRCS := kernel/boot/mb2.c kernel/core/fmt.c
fuzz_shell_SRCS := mgmt/shell.c kernel/core/fmt.c
fuzz_cmdline_SRCS := kernel/core/cmdline.c kernel/core/fmt.c
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

define fuzz_rule
$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(fuzz_$(1)_SRCS) $$(UNIT_HEADERS)
	@mkdir -p $$(dir $$@)
	$$(FUZZCC) $$(FUZZCFLAGS) -o $$@ $$(filter %.c,$$^)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz fuzz-smoke
fuzz-smoke: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		d=$(BUILD)/fuzz/smoke-$$t; rm -rf $$d; mkdir -p $$d; \
		$(BUILD)/fuzz/fuzz_$$t -runs=$(FUZZ_SMOKE_RUNS) -seed=1 -artifact_prefix=$$d/ \
			$$d >$$d.log 2>&1 || { tail -40 $$d.log; echo "fuzz: $$t FAILED (log $$d.log)"; exit 1; }; \
		echo "fuzz: $$t: $(FUZZ_SMOKE_RUNS) inputs, no failure"; \
	done
fuzz: deps $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		d=$(BUILD)/fuzz/corpus-$$t; mkdir -p $$d; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s (corpus $$d) ..."; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/$$t- $$d >$(BUILD)/fuzz/$$t.log 2>&1 || \
			{ tail -40 $(BUILD)/fuzz/$$t.log; echo "fuzz: $$t FAILED"; exit 1; }; \
		grep -E "stat::number_of_executed_units" $(BUILD)/fuzz/$$t.log; \
	done

FMT_FILES = $(shell find boot kernel drivers mgmt vmx svm tests -name '*.[ch]' 2>/dev/null)
fmt:
	clang-format -i $(FMT_FILES)
fmt-check:
	@clang-format --dry-run --Werror $(FMT_FILES)

clean:
	rm -rf $(BUILD)

-include $(KOBJ:.o=.d) $(wildcard $(BUILD)/unit/*.d)
