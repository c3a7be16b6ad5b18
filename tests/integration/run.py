#!/usr/bin/python3
"""Keel boot-path integration tests: boot the ISO under QEMU (BIOS and UEFI)
and Bochs, then check what Keel's serial shell says. Prints one result line
per check and a closing 'N passed, M failed' line."""
import argparse
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keelboot import BochsMachine, BootError, QemuMachine, PROMPT  # noqa: E402
from guest_suite import SEQUENTIAL, SUITES, build_guests_iso, parse_vms, run_guest_suite  # noqa: E402
from linux_suite import build_linux_iso, run_linux_suite  # noqa: E402

SCENARIOS = {
    # name: (kind, cpus, MiB, extra)
    "qemu-bios-1cpu": ("qemu", 1, 256, {}),
    "qemu-bios-4cpu": ("qemu", 4, 512, {}),
    "qemu-q35-bios-2cpu": ("qemu", 2, 256, {"machine": "q35"}),
    "qemu-no-svm-2cpu": ("qemu", 2, 256, {"cpu": "max,-svm"}),
    "qemu-uefi-1cpu": ("qemu", 1, 512, {"uefi": True}),
    "qemu-q35-uefi-4cpu": ("qemu", 4, 512, {"uefi": True, "machine": "q35"}),
    "qemu-panic-stack-overflow": ("qemu", 2, 256, {"selftest": "stack-overflow"}),
    "qemu-panic-fault": ("qemu", 2, 256, {"selftest": "fault"}),
    "qemu-panic-1cpu": ("qemu", 1, 256, {"selftest": "fault"}),
    # A panic while guests spin (one with interrupts off): the stop NMI
    # must reach a CPU that is in guest mode (SVM: #VMEXIT, then STGI).
    "qemu-panic-guests": ("qemu", 2, 512, {"selftest": "panic", "busy": ["spin", "hog"]}),
    "bochs-panic-guests": ("bochs", 2, 512, {"selftest": "panic", "busy": ["spin", "hog"]}),
    "bochs-ryzen-panic-guests": ("bochs", 2, 512, {"selftest": "panic", "busy": ["spin", "hog"],
                                                   "model": "ryzen"}),
    "qemu-modules-cmdline": ("qemu", 2, 256, {"custom": "modules"}),
    "qemu-spcr-com2": ("qemu", 1, 256, {"custom": "spcr"}),
    "qemu-guests-2cpu": ("qemu", 2, 512, {"custom": "guests", "suite": "basic"}),
    # On one CPU the guests, the hog too, share the boot CPU with the shell.
    "qemu-guests-1cpu": ("qemu", 1, 512, {"custom": "guests", "suite": "basic"}),
    "qemu-pc-3cpu": ("qemu", 3, 512, {"custom": "guests", "suite": "pc"}),
    "bochs-guests-2cpu": ("bochs", 2, 512, {"custom": "guests", "suite": "basic"}),
    # VT-x runs the pc suite with the emulated PM timer, SVM with the host's.
    "bochs-pc-3cpu": ("bochs", 3, 512, {"custom": "guests", "suite": "pc",
                                        "keel_args": ""}),
    # Without the hog: under Bochs 2.7's SVM a guest spinning after `cli`
    # took no INTR exit in two minutes (host interrupts stayed masked,
    # though V_INTR_MASKING is set and the host's IF was 1 at VMRUN); QEMU's
    # SVM exits on the host's interrupt, as the APM says. SVM has no
    # preemption timer to fall back on.
    "bochs-ryzen-guests-2cpu": ("bochs", 2, 512,
                                {"custom": "guests", "suite": "basic", "model": "ryzen",
                                 "without": ["hog"]}),
    "bochs-1cpu": ("bochs", 1, 256, {}),
    "bochs-2cpu": ("bochs", 2, 256, {}),
    "bochs-penryn-1cpu": ("bochs", 1, 256, {"model": "core2_penryn_t9600"}),
    "bochs-ryzen-1cpu": ("bochs", 1, 256, {"model": "ryzen"}),
    # make check-slow only: the guest suite with the boot CPU running
    # guests between keystrokes, on both Bochs CPU models.
    "bochs-guests-1cpu": ("bochs", 1, 512, {"custom": "guests", "suite": "basic"}),
    "bochs-ryzen-guests-1cpu": ("bochs", 1, 512,
                                {"custom": "guests", "suite": "basic", "model": "ryzen",
                                 "without": ["hog"]}),
    "bochs-ryzen-pc-3cpu": ("bochs", 3, 512, {"custom": "guests", "suite": "pc", "model": "ryzen"}),
    "qemu-pc-1cpu": ("qemu", 1, 512, {"custom": "guests", "suite": "pc"}),
    # The Debian guest (tools/linux-guest.sh builds it into BUILD/linux).
    "qemu-linux-2cpu": ("qemu", 2, 1024, {"custom": "linux"}),
    "bochs-linux-2cpu": ("bochs", 2, 1024, {"custom": "linux"}),
}
SLOW = {"bochs-guests-1cpu", "bochs-ryzen-guests-1cpu", "bochs-ryzen-pc-3cpu", "qemu-pc-1cpu",
        "bochs-linux-2cpu"}
# Run alone, after the others: their guests time interrupts and counters
# against the TSC, which a second emulator on a 2-core host would spoil
# (the Linux scenario also times its boot against QEMU's own).
EXCLUSIVE = {"qemu-pc-3cpu", "bochs-pc-3cpu", "bochs-ryzen-pc-3cpu", "qemu-pc-1cpu",
             "qemu-linux-2cpu"}
BOOT_TIMEOUT = {"qemu": 60, "bochs": 300}


def expected_backend(kind, extra):
    """The backend Keel must pick in a scenario, or the REFUSALS key."""
    if kind == "qemu":
        return "qemu-no-svm" if "-svm" in extra.get("cpu", "max") else "svm"
    model = extra.get("model", "corei7_skylake_x")
    if model == "ryzen":
        return "svm"
    return "penryn" if model.startswith("core2") else "vmx"


class Checker:
    def __init__(self, scenario):
        self.scenario = scenario
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((f"{self.scenario}: {name}", bool(ok), detail))


BACKEND_NAMES = {"svm": b"AMD SVM", "vmx": b"Intel VT-x"}
# Why a backend is refused, per scenario that has none.
REFUSALS = {"qemu-no-svm": (b"AMD SVM", b"does not offer AMD SVM"),
            "penryn": (b"Intel VT-x", b"without EPT")}


def check_virt(c, m, cpus, backend):
    if backend in BACKEND_NAMES:
        name = BACKEND_NAMES[backend]
        line = m.expect(b"virt: " + name + rb" enabled on (\d+) of (\d+) CPUs\r?\n", 30)
        c.check(f"{name.decode()} with nested paging enabled on every CPU",
                int(line.group(1)) == cpus == int(line.group(2)), line.group(0).decode())
        return
    name, reason = REFUSALS[backend]
    line = m.expect(b"virt: " + name + rb" not usable: ([^\r\n]+)\r?\n", 30)
    c.check(f"{name.decode()} refused with its reason", reason in line.group(1),
            line.group(0).decode())
    m.expect(rb"virt: no usable virtualization backend", 30)


def check_boot(c, m, cpus, mem_mb, kind, uefi, backend="svm"):
    out = m.expect(rb"Keel \S+ booting \((\w+),", BOOT_TIMEOUT[kind])
    fw = out.group(1).decode()
    c.check("firmware detected", fw == ("UEFI" if uefi else "BIOS"), f"Keel says {fw}")
    acpi = m.expect(rb"ACPI: [^\r\n]*\r?\n", 60).group(0).decode().strip()
    found = re.search(r"(\d+) CPUs?\b", acpi)
    c.check("ACPI summary names every CPU", found and int(found.group(1)) == cpus, acpi)
    start = m.pos
    up = m.expect(rb"(\d+) CPUs online\r?\n", 60)
    c.check("boot brings every CPU online", int(up.group(1)) == cpus, up.group(0).decode())
    after_up = m.pos
    m.pos = start
    check_virt(c, m, cpus, backend)
    m.pos = after_up
    wx = m.expect(rb"W\^X check: (\d+) writable\+executable", 60)
    c.check("no writable+executable mapping", wx.group(1) == b"0", wx.group(0).decode())
    m.expect(re.escape(PROMPT), 60)
    c.check("prompt appears", True)


def check_shell(c, m, cpus, mem_mb):
    out = m.command("cpus")
    listed = re.findall(r"cpu \d+: APIC ID \d+", out)
    c.check("cpus lists every CPU", len(listed) == cpus, out.strip())
    online = re.search(r"(\d+) CPUs online", out)
    c.check("every CPU online", online and int(online.group(1)) == cpus, out.strip())
    c.check("cpus marks each CPU online", out.count(", online") == cpus, out.strip())
    out = m.command("mem")
    usable = re.search(r"usable (\d+) KiB", out)
    kib = int(usable.group(1)) if usable else 0
    c.check("mem: usable within 5% below -m", 0.95 * mem_mb * 1024 <= kib <= mem_mb * 1024,
            f"usable {kib} KiB of {mem_mb * 1024} KiB")
    out = m.command("frobnicate")
    c.check("unknown command: one-line error",
            out.strip() == "error: unknown command 'frobnicate' (try 'help')", repr(out))
    out = m.command("x" * 300)
    c.check("over-long line rejected", "error: line too long" in out and out.count("\n") == 1,
            repr(out[-80:]))
    out = m.command("version")
    c.check("version answers", re.search(r"Keel \d+\.\d+\.\d+", out), out.strip())
    out = m.command("help")
    c.check("help lists the first command table",
            all(re.search(rf"^{w}\b", out, re.M) for w in
                ("help", "version", "cpus", "mem", "reboot", "poweroff")), out)


def check_poweroff(c, m, kind):
    if kind != "qemu":
        return
    m._write(b"poweroff\r")
    code = m.wait_exit(30)
    c.check("poweroff stops the machine (ACPI S5)", code is not None, f"exit {code}")


MODULE_BYTES = 12345
CUSTOM_CMDLINE = "maxcpus=1 bogus=1 loglevel=nonsense"


def build_modules_iso(iso, log_dir):
    """An ISO with a boot module and a command line with good and bad options."""
    root = os.path.join(log_dir, "iso-modules")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "boot", "grub"))
    elf = os.path.join(os.path.dirname(os.path.abspath(iso)), "keel.elf")
    shutil.copy(elf, os.path.join(root, "boot", "keel.elf"))
    with open(os.path.join(root, "boot", "hello.bin"), "wb") as f:
        f.write(bytes(i & 0xFF for i in range(MODULE_BYTES)))
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                "terminal_output serial\nset timeout=0\n"
                f"menuentry Keel {{\n multiboot2 /boot/keel.elf {CUSTOM_CMDLINE}\n"
                " module2 /boot/hello.bin hello-module\n boot\n}\n")
    out = os.path.join(log_dir, "keel-modules.iso")
    subprocess.run(["grub-mkrescue", "-o", out, root], check=True, capture_output=True)
    return out


def check_modules_cmdline(c, m):
    mod = m.expect(rb"module 0: (\S+) \((\d+) bytes\)", 60)
    c.check("boot module arrives with its name and size",
            mod.group(1) == b"hello-module" and int(mod.group(2)) == MODULE_BYTES,
            mod.group(0).decode())
    start = m.pos = 0
    for pattern in (rb"cmdline: unknown option 'bogus'", rb"cmdline: loglevel: bad value 'nonsense'",
                    rb"cmdline: 2 bad option\(s\)"):
        m.pos = start
        try:
            m.expect(pattern, 10)
            c.check(f"boot reports {pattern.decode()}", True)
        except BootError as e:
            c.check(f"boot reports {pattern.decode()}", False, str(e))
    m.pos = start
    up = m.expect(rb"(\d+) CPUs online\r?\n", 60)
    c.check("maxcpus=1 keeps the second CPU offline", up.group(1) == b"1", up.group(0).decode())
    m.expect(re.escape(PROMPT), 60)
    out = m.command("cpus")
    c.check("cpus shows one CPU online and one offline",
            out.count(", online") == 1 and out.count(", offline") == 1, out)


COM2 = 0x2F8


def write_spcr_table(path):
    """An ACPI SPCR table (16550 on COM2, 115200 baud) for QEMU's -acpitable,
    built from the ACPI spec's layout."""
    gas = struct.pack("<BBBBQ", 1, 8, 0, 1, COM2)  # system I/O, 8 bits, byte access
    body = struct.pack("<B3x", 0) + gas + bytes([0, 0]) + struct.pack("<I", 0)
    body += bytes([7, 0, 0, 0, 0, 0])  # 115200 baud, no parity, 1 stop bit, no flow
    body += bytes(80 - 36 - len(body))
    hdr = struct.pack("<4sIBB6s8sI4sI", b"SPCR", 80, 2, 0, b"KEELT ", b"KEELTEST", 1,
                      b"KEEL", 1)
    table = bytearray(hdr + body)
    table[9] = (-sum(table)) & 0xFF
    with open(path, "wb") as f:
        f.write(table)


def check_spcr(c, m):
    line = m.expect(rb"console: now on port (0x[0-9a-f]+) ", 60)
    c.check("console follows ACPI SPCR to COM2", int(line.group(1), 16) == COM2,
            line.group(0).decode())
    m.expect(re.escape(PROMPT), 60)
    out = m.command("version")
    c.check("shell answers on the SPCR console", re.search(r"Keel \d+\.\d+", out), out)


PANIC_EXPECT = {
    "panic": [rb"PANIC: selftest: panic requested from the shell"],
    "stack-overflow": [rb"PANIC: exception #DF double fault \(vector 8\)",
                       rb"CR2 ffffffff8[0-9a-f]{7}",
                       rb"stack overflow: CR2 is in the guard page"],
    "fault": [rb"PANIC: exception #PF page fault \(vector 14\), error code 0x0",
              rb"CR2 ffffff0000000000"],
}


def check_busy(c, m, names):
    """Every guest in `names` is running, and a vCPU of one of them is on a
    CPU other than the shell's, so the panic finds that CPU in guest mode
    (most likely: it may leave between `vms` and the panic)."""
    for _ in range(20):
        time.sleep(0.5)
        out = m.command("vms", 60)
        vms = parse_vms(out)
        elsewhere = re.search(r"vcpus:.*on cpu [1-9]", out)
        if elsewhere and all(vms.get(n, {}).get("state") == "running" for n in names):
            break
    c.check(f"guests {', '.join(names)} run, one on a CPU other than the shell's, before "
            "the panic", elsewhere and all(vms.get(n, {}).get("state") == "running"
                                           for n in names), out)


def check_panic(c, m, test):
    m._write(f"selftest {test}\r".encode())
    start = m.pos
    dump = [] if test == "panic" else [rb"RIP ffffffff8", rb"RAX [0-9a-f]{16}",
                                       rb"stack trace:\r?\n  \[0\] ffffffff8"]
    for pattern in PANIC_EXPECT[test] + dump + [rb"system halted"]:
        try:
            m.pos = start  # each line is looked for in the whole panic report
            m.expect(pattern, 30)
            c.check(f"panic output has {pattern.decode()}", True)
        except BootError as e:
            c.check(f"panic output has {pattern.decode()}", False, str(e))
            return
    c.check("machine stays halted after panic", m.alive())
    report = bytes(m.out[start:])
    c.check("panic waited for every other CPU to stop", b"did not stop" not in report,
            report[-300:].decode(errors="replace"))
    if not hasattr(m, "monitor"):
        return  # Bochs: no monitor to read the registers from
    # Idle CPUs wait in 'sti; hlt'; a stopped one sits in 'cli; hlt'. So
    # after a panic, every CPU must show RFLAGS.IF clear.
    regs = m.monitor("info registers -a")
    flags = [int(f, 16) for f in re.findall(r"(?:EFL|RFL)=([0-9a-f]+)", regs)]
    c.check("panic stops every CPU (all with interrupts off)",
            len(flags) == m.cpus and all(not f & 0x200 for f in flags),
            f"RFLAGS of {len(flags)} CPUs: {[hex(f) for f in flags]}")


def run_scenario(name, iso, log_dir):
    kind, cpus, mem_mb, extra = SCENARIOS[name]
    extra = dict(extra)
    selftest = extra.pop("selftest", None)
    custom = extra.pop("custom", None)
    suite = extra.pop("suite", "basic")
    keel_args = extra.pop("keel_args", "")
    without = extra.pop("without", [])
    busy = extra.pop("busy", [])
    c = Checker(name)
    m = None
    try:
        if custom == "modules":
            m = QemuMachine(name, log_dir, build_modules_iso(iso, log_dir), smp=cpus,
                            mem_mb=mem_mb, **extra)
            check_modules_cmdline(c, m)
            return c.results
        if custom == "guests":
            names = [n for n in SUITES[suite] if n not in without]
            guests_iso = build_guests_iso(iso, os.path.join(os.path.dirname(iso), "guests"),
                                          log_dir, names, tag=name,
                                          sequential=suite in SEQUENTIAL, keel_args=keel_args)
            if kind == "qemu":
                m = QemuMachine(name, log_dir, guests_iso, smp=cpus, mem_mb=mem_mb, **extra)
            else:
                m = BochsMachine(name, log_dir, guests_iso, cpus=cpus, megs=mem_mb, **extra)
            run_guest_suite(c, m, names, sequential=suite in SEQUENTIAL)
            return c.results
        if custom == "linux":
            linux_iso = build_linux_iso(iso)
            if kind == "qemu":
                m = QemuMachine(name, log_dir, linux_iso, smp=cpus, mem_mb=mem_mb, **extra)
            else:
                m = BochsMachine(name, log_dir, linux_iso, cpus=cpus, megs=mem_mb, **extra)
            run_linux_suite(c, m, iso, kind)
            return c.results
        if custom == "spcr":
            spcr = os.path.join(log_dir, "spcr.bin")
            write_spcr_table(spcr)
            m = QemuMachine(name, log_dir, iso, smp=cpus, mem_mb=mem_mb,
                            extra_args=("-acpitable", f"file={spcr}"),
                            serial_args=("-serial", "null", "-serial", "stdio"))
            check_spcr(c, m)
            return c.results
        boot_iso = iso
        if busy:
            boot_iso = build_guests_iso(iso, os.path.join(os.path.dirname(iso), "guests"),
                                        log_dir, busy, tag=name)
        if kind == "qemu":
            m = QemuMachine(name, log_dir, boot_iso, smp=cpus, mem_mb=mem_mb, **extra)
        else:
            m = BochsMachine(name, log_dir, boot_iso, cpus=cpus, megs=mem_mb, **extra)
        check_boot(c, m, cpus, mem_mb, kind, extra.get("uefi", False), expected_backend(kind, extra))
        if busy:
            check_busy(c, m, busy)
        if selftest:
            check_panic(c, m, selftest)
            return c.results
        check_shell(c, m, cpus, mem_mb)
        check_poweroff(c, m, kind)
    except BootError as e:
        c.check("boot and shell reachable", False, str(e))
    except Exception:  # a harness bug must fail loudly, not hide
        c.check("harness", False, traceback.format_exc())
    finally:
        if m:
            m.close()
    return c.results


# Guest-suite scenarios: the matrix column each one fills.
MATRIX_COLUMNS = {
    "qemu-guests-2cpu": "SVM, QEMU TCG",
    "qemu-pc-3cpu": "SVM, QEMU TCG",
    "qemu-guests-1cpu": "SVM, QEMU TCG, 1 CPU",
    "qemu-pc-1cpu": "SVM, QEMU TCG, 1 CPU",
    "bochs-guests-2cpu": "VT-x, Bochs skylake_x",
    "bochs-pc-3cpu": "VT-x, Bochs skylake_x",
    "bochs-ryzen-guests-2cpu": "SVM+NRIPS, Bochs ryzen",
    "bochs-ryzen-pc-3cpu": "SVM+NRIPS, Bochs ryzen",
    "bochs-guests-1cpu": "VT-x, Bochs skylake_x, 1 CPU",
    "bochs-ryzen-guests-1cpu": "SVM+NRIPS, Bochs ryzen, 1 CPU",
}


def print_matrix(results):
    """guest x backend x emulator: PASS when every check on that guest in
    that scenario passed."""
    cells, guests, cols = {}, [], []
    for name, ok, _ in results:
        scen, _, rest = name.partition(": ")
        found = re.match(r"guest (\S+):", rest)
        if scen not in MATRIX_COLUMNS or not found:
            continue
        g, col = found.group(1), MATRIX_COLUMNS[scen]
        if g not in guests:
            guests.append(g)
        if col not in cols:
            cols.append(col)
        cells[(g, col)] = cells.get((g, col), True) and ok
    if not cols:
        return
    heads = cols
    print("\n| guest | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(cols))
    for g in guests:
        row = ["PASS" if cells.get((g, s)) else ("FAIL" if (g, s) in cells else "-")
               for s in cols]
        print(f"| {g} | " + " | ".join(row) + " |")
    print()


def report(results):
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
        if not ok and detail:
            print("      " + detail.replace("\n", "\n      "))
    sys.stdout.flush()
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iso", required=True)
    ap.add_argument("--only", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--slow", action="store_true", help="run the slow scenarios instead")
    args = ap.parse_args()
    names = args.only or [n for n in SCENARIOS if (n in SLOW) == args.slow]
    log_dir = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "test")
    os.makedirs(log_dir, exist_ok=True)
    for f in os.listdir(log_dir):
        if f.endswith(".log") and f.split(".")[0] in names:
            os.unlink(os.path.join(log_dir, f))
    everything = []
    # Longest first, so the pool's other worker runs the short ones meanwhile.
    shared = sorted((n for n in names if n not in EXCLUSIVE),
                    key=lambda n: SCENARIOS[n][3].get("custom") != "linux")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        futures = {ex.submit(run_scenario, n, args.iso, log_dir): n for n in shared}
        for fut in concurrent.futures.as_completed(futures):
            everything += report(fut.result())
    for n in names:
        if n in EXCLUSIVE:
            everything += report(run_scenario(n, args.iso, log_dir))
    passed = sum(ok for _, ok, _ in everything)
    failed = len(everything) - passed
    print_matrix(everything)
    print(f"integration: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
