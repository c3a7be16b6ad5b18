"""The reference guest: Debian's own linux-image-amd64 kernel with the busybox
initramfs that tools/linux-guest.sh builds, booted by Keel from the image
`make run` boots (tools/demo-iso.sh), driven through `console NAME` like a
user would.

The guest's command line carries no workaround (no noapic, nolapic,
acpi=off, clocksource=, tsc= or lpj=): only the console and panic=1, so a
panic resets the guest and the VM's on_reboot policy decides what follows."""
import os
import re
import shutil
import subprocess
import threading
import time

from keelboot import BootError, PROMPT, QemuMachine
from guest_suite import parse_vms

VM = "demo"
# What tools/demo-iso.sh gives the guest; the checks below hold it to that.
CMDLINE = "console=ttyS0 panic=1 quiet"
DEMO_CPUS = 2
DEMO_MEM_MB = 256
BIG_VM = "big"
BIG_MEM_MB = 5120
BIG_MEM_MIN_KB = 4800 * 1024
SMALL_VM = "small"  # the smallest RAM this kernel is offered (PLATFORM.md)
SMALL_MEM_MB = 128
SMALL_MEM_MIN_KB = 64 * 1024
SHELL_READY = rb"keel-guest: shell ready"
FORBIDDEN = ["IO-APIC + timer doesn't work", "TSC unstable", "Call Trace"]
WORKAROUNDS = ["noapic", "nolapic", "acpi=off", "clocksource=", "tsc=", "lpj="]
BOOT_TIMEOUT = {"qemu": 900, "bochs": 7200}
DATE_SLACK_S = 60
DETACHED_WAIT_S = {"qemu": 10, "bochs": 60}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_demo_lock = threading.Lock()
_demo_built = set()


def linux_dir(iso):
    return os.path.join(os.path.dirname(os.path.abspath(iso)), "linux")


def build_linux_iso(iso):
    """The image `make run` boots: tools/demo-iso.sh puts Keel and the
    Debian guest (VM `demo`, autostarted) on it. Built once per run, for
    the Keel next to `iso`."""
    build = os.path.dirname(os.path.abspath(iso))
    with _demo_lock:
        if build not in _demo_built:
            r = subprocess.run([os.path.join(ROOT, "tools", "demo-iso.sh"), build],
                               capture_output=True, text=True)
            if r.returncode:
                raise BootError(f"tools/demo-iso.sh failed: {r.stderr.strip()}")
            _demo_built.add(build)
    return os.path.join(build, "keel-demo.iso")


class Console:
    """`console deb` on Keel's shell: the guest's shell, one command at a
    time, each answer found between two markers the guest computes (the
    echoed command line holds $((N+1)), the answer holds the sum)."""

    def __init__(self, m, vm=VM):
        self.m = m
        self.vm = vm
        self.n = 0

    def attach(self, timeout=60):
        self.m._write(f"console {self.vm}\r".encode())
        self.m.expect(rb"\[attached to " + self.vm.encode() + rb"; Ctrl-\] detaches\]", timeout)

    def detach(self, timeout=60):
        self.m._write(b"\x1d")
        self.m.expect(rb"\[detached from " + self.vm.encode() + rb"\]", timeout)
        self.m.expect(re.escape(PROMPT), timeout)

    def run(self, cmd, timeout=120):
        self.n += 2
        a, b = self.n, self.n + 1
        self.m._write(f"echo @@$(({a - 1}+1))@@; {cmd}; echo @@$(({b - 1}+1))@@\r".encode())
        self.m.expect(f"@@{a}@@\r*\n".encode(), timeout)
        start = self.m.pos
        self.m.expect(f"@@{b}@@".encode(), timeout)
        return bytes(self.m.out[start:self.m.pos - len(f"@@{b}@@")]).decode(errors="replace")


def interrupt_counts(text):
    """{'LOC': n, 'ttyS0': n} summed over CPUs from /proc/interrupts."""
    counts = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        nums = []
        for p in parts[1:]:
            if not p.isdigit():
                break
            nums.append(int(p))
        if parts[0] == "LOC:":
            counts["LOC"] = sum(nums)
        elif "ttyS0" in parts:
            counts["ttyS0"] = sum(nums)
    return counts


def wait_shell(c, m, con, timeout, what):
    t0 = time.monotonic()
    try:
        m.expect(SHELL_READY, timeout)
        ok = True
    except BootError as e:
        ok = False
        c.check(what, False, str(e)[-3000:])
    secs = time.monotonic() - t0
    if ok:
        c.check(what, True)
        # let the shell print its prompt before typing
        m.expect(rb"[#$] ", 60)
    return ok, secs


def machine_now(con, kind):
    """The time of day the guest should see, and what it is. Under QEMU the
    RTC follows the host's clock. Bochs (`clock: sync=none`) runs its clock
    at emulated speed, so there it is Keel's RTC reading at boot plus the
    VM's uptime (`vms`, TSC), the machine's own clock."""
    if kind != "bochs":
        return time.time(), "the host's clock"
    m = con.m
    rtc = re.search(rb"rtc: host clock (\d+) s since 1970", m.out)
    con.detach()
    up = re.search(r", up ([\d.]+)s", m.command(f"vms {con.vm}", 60))
    con.attach()
    m._write(b"\r")
    if not rtc or not up:
        return 0, "the emulated machine's clock (not found)"
    return int(rtc.group(1)) + float(up.group(1)), "the emulated machine's clock"


def check_guest_shell(c, con, version, kind):
    out = con.run("uname -r")
    c.check("uname -r names the Debian kernel", out.strip() == version, out)
    first = interrupt_counts(con.run("cat /proc/interrupts"))
    time.sleep(2)
    second = interrupt_counts(con.run("cat /proc/interrupts"))
    c.check("/proc/interrupts: LOC grows", second.get("LOC", 0) > first.get("LOC", 0) > 0,
            f"{first} -> {second}")
    c.check("/proc/interrupts: ttyS0 grows", second.get("ttyS0", 0) > first.get("ttyS0", 0) > 0,
            f"{first} -> {second}")
    out = con.run("date +%s")
    host, what = machine_now(con, kind)
    try:
        guest = int(out.strip())
    except ValueError:
        guest = 0
    c.check(f"date is within a minute of {what}", abs(guest - host) < DATE_SLACK_S,
            f"guest {out.strip()!r}, reference {int(host)}")
    out = con.run("cat /proc/cmdline")
    c.check("the guest's command line carries no workaround",
            CMDLINE in out and not any(w in out for w in WORKAROUNDS), out)
    out = con.run("grep -m1 flags /proc/cpuinfo")
    c.check("the guest sees an invariant TSC with TSC_ADJUST (Linux 6.1 then keeps no "
            "clocksource watchdog over it)",
            {"constant_tsc", "nonstop_tsc", "tsc_adjust"} <= set(out.split()), out)
    dmesg = con.run("dmesg", 300)
    bad = [f for f in FORBIDDEN if f in dmesg]
    c.check("dmesg: no 'IO-APIC + timer doesn't work', 'TSC unstable' or call trace",
            not bad and "Linux version" in dmesg, f"found {bad}\n" + dmesg[-3000:])
    check_tsc_rate(c, con.m.out, dmesg)
    if "GenuineIntel" in con.run("grep -m1 vendor_id /proc/cpuinfo"):
        # Linux on Intel reads the TSC rate from CPUID 0x15/0x16, which Keel
        # fills from its own measurement: a rate it takes as known, so it
        # neither calibrates against the PIT nor refines the figure later.
        c.check("Intel guest: the TSC rate comes from CPUID (no PIT calibration, no "
                "refinement)",
                "tsc: Detected" in dmesg and "Fast TSC calibration" not in dmesg and
                "Refined TSC" not in dmesg,
                "\n".join(l for l in dmesg.splitlines() if "tsc" in l.lower()))
    return dmesg


def check_tsc_rate(c, keel_log, dmesg):
    """Keel derives every emulated clock from its own TSC measurement; a
    guest that compares two of them needs it right. Linux's own figure is
    the reference (refined if it got that far). On Intel, Linux takes the
    rate from CPUID 0x15, which is Keel's figure: the check then only shows
    that the guest read it right; the AMD runs compare two measurements."""
    keel = re.search(rb"timer: TSC (\d+\.\d+) MHz", keel_log)
    linux = (re.search(r"Refined TSC clocksource calibration: (\d+\.\d+) MHz", dmesg) or
             re.search(r"tsc: Detected (\d+\.\d+) MHz TSC", dmesg) or
             re.search(r"tsc: Detected (\d+\.\d+) MHz processor", dmesg))
    k = float(keel.group(1)) if keel else 0.0
    g = float(linux.group(1)) if linux else 0.0
    c.check("Keel's TSC rate is within 0.05% of the guest's own calibration",
            g > 0 and abs(k - g) / g < 0.0005, f"Keel {k} MHz, Linux {g} MHz")


def check_scrollback(c, m, con, wait_s):
    """What the guest prints while nobody is attached is kept and replayed
    on attach: the guest prints a line a second after the detach, and the
    next attach comes wait_s later."""
    m._write(b"sleep 1; echo while-detached-$((40+2))\r")
    con.detach()
    time.sleep(wait_s)
    con.attach()
    try:
        m.expect(rb"while-detached-42", 30)
        ok, why = True, ""
    except BootError as e:
        ok, why = False, str(e)
    c.check("console: what the guest printed while detached is shown on attach", ok, why)


def exits_report(c, m):
    """Exit counts by reason and the MMIO share, from `vms demo`."""
    out = m.command(f"vms {VM}", 60)
    vm = parse_vms(out).get(VM, {})
    exits = dict(vm.get("exits", {}))
    total = exits.pop("total", 0)
    mmio = exits.get("mmio", 0)
    found = re.search(r"booted in ([\d.]+)s \((\d+) TSC ticks\)", out)
    c.check("Keel recorded the guest's boot mark (port 0x544)", found is not None, out)
    share = 100.0 * mmio / total if total else 0.0
    by = ", ".join(f"{k}={v}" for k, v in sorted(exits.items(), key=lambda kv: -kv[1])
                   if k not in ("msr-gp",) and not k.startswith("unclaimed"))
    print(f"linux guest: boot mark {found.group(2) if found else '?'} TSC ticks, "
          f"{total} exits ({share:.1f}% MMIO): {by}", flush=True)
    return out


def check_panic_restart(c, m, con, timeout):
    """panic=1: the panicking guest resets, on_reboot=restart boots it again."""
    m._write(b"echo c > /proc/sysrq-trigger\r")
    try:
        m.expect(rb"Kernel panic", 120)
        panicked = True
    except BootError as e:
        panicked = False
        c.check("sysrq c panics the guest", False, str(e))
    if panicked:
        c.check("sysrq c panics the guest", True)
        ok, _ = wait_shell(c, m, con, timeout, "after the panic the guest boots again "
                           "(panic=1 reset, on_reboot=restart)")
        return ok
    return False


def check_poweroff(c, m, con):
    m._write(b"poweroff -f\r")
    time.sleep(5)
    con.detach()
    deadline = time.monotonic() + 120
    while True:
        vm = parse_vms(m.command(f"vms {VM}", 60)).get(VM, {})
        if vm.get("state") != "running" or time.monotonic() > deadline:
            break
        time.sleep(2)
    c.check("poweroff -f stops the VM (ACPI S5)",
            vm.get("state") == "stopped" and "S5" in vm.get("why", ""), str(vm))
    out = m.command("version")
    c.check("Keel still answers after the guest powered off", "Keel" in out, out)


def direct_qemu_secs(iso, log_dir):
    """Wall seconds from power-on to the shell for the same kernel, initramfs
    and command line booted directly by QEMU (-kernel), the same CPU model
    and vCPU count: the yardstick for Keel's figure. None if it failed."""
    src = linux_dir(iso)
    t0 = time.monotonic()
    m = QemuMachine("qemu-linux-direct", log_dir, None, smp=DEMO_CPUS, mem_mb=DEMO_MEM_MB,
                    extra_args=("-kernel", os.path.join(src, "vmlinuz"),
                                "-initrd", os.path.join(src, "initrd.img"), "-append", CMDLINE))
    try:
        m.expect(SHELL_READY, 300)
        return time.monotonic() - t0
    except BootError as e:
        print(f"qemu-linux-direct: no shell: {str(e)[-500:]}", flush=True)
        return None
    finally:
        m.close()


def report_boot(m, kind, iso, secs_vm, secs_on):
    """One line per boot: Keel's figures next to QEMU's own (TCG only)."""
    line = (f"{m.name}: Debian guest shell {secs_vm:.1f} s after `vm {VM}: started` "
            f"({secs_on:.1f} s after power-on, GRUB and Keel included)")
    if kind == "qemu":
        direct = direct_qemu_secs(iso, os.path.dirname(m.log_path))
        if direct:
            line += (f"; QEMU -kernel alone: {direct:.1f} s after power-on; "
                     f"ratio {secs_vm / direct:.2f} (from VM start)")
    print(line, flush=True)


def build_sizes_iso(iso, log_dir):
    """Keel with VM `big` of BIG_MEM_MB (more than the 3 GiB below the PCI
    hole) and VM `small` of SMALL_MEM_MB, both booting the same kernel and
    initramfs."""
    build = os.path.dirname(os.path.abspath(iso))
    root = os.path.join(log_dir, "iso-linux-big")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "boot", "grub"))
    os.makedirs(os.path.join(root, "linux"))
    shutil.copy(os.path.join(build, "keel.elf"), os.path.join(root, "boot", "keel.elf"))
    for f in ("vmlinuz", "initrd.img"):
        shutil.copy(os.path.join(linux_dir(iso), f), os.path.join(root, "linux", f))
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                "terminal_output serial\nset timeout=0\nmenuentry Keel {\n"
                f" multiboot2 /boot/keel.elf pmtimer=host vm={BIG_VM},kernel=vmlinuz,"
                f"initrd=initrd.img,mem={BIG_MEM_MB}M vm={SMALL_VM},kernel=vmlinuz,"
                f"initrd=initrd.img,mem={SMALL_MEM_MB}M\n"
                f" module2 /linux/vmlinuz vmlinuz {CMDLINE}\n"
                " module2 /linux/initrd.img initrd.img\n boot\n}\n")
    out = os.path.join(log_dir, "keel-linux-sizes.iso")
    subprocess.run(["grub-mkrescue", "-o", out, root], check=True, capture_output=True)
    return out


def mem_total_kb(con):
    out = con.run("grep MemTotal /proc/meminfo")
    found = re.search(r"MemTotal:\s+(\d+) kB", out)
    return (int(found.group(1)) if found else 0), out


def check_big(c, m):
    """RAM above 4 GiB: the E820 map shows the range and the kernel counts
    it in MemTotal (less its own image, struct pages and reservations)."""
    con = Console(m, BIG_VM)
    con.attach()
    ok, _ = wait_shell(c, m, con, BOOT_TIMEOUT["qemu"], f"a {BIG_MEM_MB} MiB guest boots to its shell")
    if ok:
        e820 = con.run("dmesg | grep 'BIOS-e820'")
        top = 0x100000000 + (BIG_MEM_MB - 3072) * 2**20 - 1
        c.check(f"E820 shows the RAM above 4 GiB ({BIG_MEM_MB - 3072} MiB from 4 GiB)",
                f"[mem 0x0000000100000000-0x{top:016x}] usable" in e820, e820)
        kb, out = mem_total_kb(con)
        c.check(f"the kernel counts the RAM above 4 GiB (MemTotal > {BIG_MEM_MIN_KB} kB)",
                kb > BIG_MEM_MIN_KB, out)
    con.detach()


def check_small(c, m):
    con = Console(m, SMALL_VM)
    con.attach()
    ok, _ = wait_shell(c, m, con, BOOT_TIMEOUT["qemu"],
                       f"a {SMALL_MEM_MB} MiB guest boots to its shell")
    if ok:
        kb, out = mem_total_kb(con)
        c.check(f"the {SMALL_MEM_MB} MiB guest has MemTotal > {SMALL_MEM_MIN_KB} kB",
                kb > SMALL_MEM_MIN_KB, out)
    con.detach()


def check_guest_sizes(c, iso, log_dir):
    """The smallest and a large guest, side by side in one Keel."""
    m = QemuMachine("qemu-linux-sizes", log_dir, build_sizes_iso(iso, log_dir), smp=2,
                    mem_mb=BIG_MEM_MB + SMALL_MEM_MB + 1024)
    try:
        m.expect(re.escape(PROMPT), 300)
        check_big(c, m)
        check_small(c, m)
    finally:
        m.close()


def run_linux_suite(c, m, iso, kind):
    t_on = time.monotonic()  # the emulator was started just before
    with open(os.path.join(linux_dir(iso), "kernel-version")) as f:
        version = f.read().strip()
    m.expect(rb"vm " + VM.encode() + rb": started", 300)
    t_vm = time.monotonic()
    m.expect(re.escape(PROMPT), 300)
    c.check("the demo guest autostarts and the Keel prompt stays on the serial console", True)
    con = Console(m)
    con.attach()
    t_attach = time.monotonic()
    ok, secs = wait_shell(c, m, con, BOOT_TIMEOUT[kind], "the Debian guest boots to its shell")
    if not ok:
        con.detach()
        return
    t_shell = t_attach + secs
    check_guest_shell(c, con, version, kind)
    check_scrollback(c, m, con, DETACHED_WAIT_S[kind])
    con.detach()
    exits_report(c, m)
    con.attach()
    m._write(b"\r")
    if not check_panic_restart(c, m, con, BOOT_TIMEOUT[kind]):
        con.detach()
        return
    out = con.run("uname -r")
    c.check("the restarted guest answers", out.strip() == version, out)
    check_poweroff(c, m, con)
    m.close()  # the emulator is done: the figures below are measured alone
    report_boot(m, kind, iso, t_shell - t_vm, t_shell - t_on)
    if kind == "qemu":
        check_guest_sizes(c, iso, os.path.dirname(m.log_path))
