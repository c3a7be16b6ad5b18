"""The reference guest: Debian's own linux-image-amd64 kernel with the busybox
initramfs that tools/linux-guest.sh builds, booted by Keel, driven through
`console NAME` like a user would.

The guest's command line carries no workaround (no noapic, nolapic,
acpi=off, clocksource=, tsc= or lpj=): only the console and panic=1, so a
panic resets the guest and the VM's on_reboot policy decides what follows."""
import os
import re
import shutil
import subprocess
import time

from keelboot import BootError, PROMPT
from guest_suite import parse_vms

VM = "deb"
GUEST_MEM = "256M"
GUEST_CPUS = 2
CMDLINE = "console=ttyS0 panic=1 quiet"
SHELL_READY = rb"keel-guest: shell ready"
FORBIDDEN = ["IO-APIC + timer doesn't work", "TSC unstable", "Call Trace"]
WORKAROUNDS = ["noapic", "nolapic", "acpi=off", "clocksource=", "tsc=", "lpj="]
BOOT_TIMEOUT = {"qemu": 900, "bochs": 7200}
DATE_SLACK_S = 60


def linux_dir(iso):
    return os.path.join(os.path.dirname(os.path.abspath(iso)), "linux")


def build_linux_iso(iso, log_dir, tag, cpus=GUEST_CPUS):
    """An ISO whose Keel command line declares VM `deb` booting vmlinuz with
    the test initramfs."""
    src = linux_dir(iso)
    root = os.path.join(log_dir, "iso-" + tag)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "boot", "grub"))
    os.makedirs(os.path.join(root, "linux"))
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(iso)), "keel.elf"),
                os.path.join(root, "boot", "keel.elf"))
    for f in ("vmlinuz", "initrd.img"):
        shutil.copy(os.path.join(src, f), os.path.join(root, "linux", f))
    decl = (f"vm={VM},kernel=vmlinuz,initrd=initrd.img,mem={GUEST_MEM},cpus={cpus},"
            "on_reboot=restart")
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                "terminal_output serial\nset timeout=0\n"
                f"menuentry Keel {{\n multiboot2 /boot/keel.elf pmtimer=host {decl}\n"
                f" module2 /linux/vmlinuz vmlinuz {CMDLINE}\n"
                " module2 /linux/initrd.img initrd.img\n boot\n}\n")
    out = os.path.join(log_dir, f"keel-{tag}.iso")
    subprocess.run(["grub-mkrescue", "-o", out, root], check=True, capture_output=True)
    return out


class Console:
    """`console deb` on Keel's shell: the guest's shell, one command at a
    time, each answer found between two markers the guest computes (the
    echoed command line holds $((N+1)), the answer holds the sum)."""

    def __init__(self, m):
        self.m = m
        self.n = 0

    def attach(self, timeout=60):
        self.m._write(f"console {VM}\r".encode())
        self.m.expect(rb"\[attached to " + VM.encode() + rb"; Ctrl-\] detaches\]", timeout)

    def detach(self, timeout=60):
        self.m._write(b"\x1d")
        self.m.expect(rb"\[detached from " + VM.encode() + rb"\]", timeout)
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


def check_guest_shell(c, con, version):
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
    host = time.time()
    try:
        guest = int(out.strip())
    except ValueError:
        guest = 0
    c.check("date is within a minute of the host's", abs(guest - host) < DATE_SLACK_S,
            f"guest {out.strip()!r}, host {int(host)}")
    out = con.run("cat /proc/cmdline")
    c.check("the guest's command line carries no workaround",
            CMDLINE in out and not any(w in out for w in WORKAROUNDS), out)
    dmesg = con.run("dmesg", 300)
    bad = [f for f in FORBIDDEN if f in dmesg]
    c.check("dmesg: no 'IO-APIC + timer doesn't work', 'TSC unstable' or call trace",
            not bad and "Linux version" in dmesg, f"found {bad}\n" + dmesg[-3000:])
    return dmesg


def exits_report(c, m):
    """Exit counts by reason and the MMIO share, from `vms deb`."""
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


def run_linux_suite(c, m, iso, kind):
    with open(os.path.join(linux_dir(iso), "kernel-version")) as f:
        version = f.read().strip()
    m.expect(re.escape(PROMPT), 300)
    con = Console(m)
    con.attach()
    t0 = time.monotonic()
    ok, _ = wait_shell(c, m, con, BOOT_TIMEOUT[kind], "the Debian guest boots to its shell")
    if not ok:
        con.detach()
        return
    print(f"{m.name}: Debian guest shell after {time.monotonic() - t0:.0f} s wall", flush=True)
    check_guest_shell(c, con, version)
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
