"""The test-guest suite: one Keel boot runs every guest of tests/guests/ as a
VM declared on Keel's command line, then the shell is asked how each ended
and what it printed. Standard library only."""
import os
import re
import shutil
import subprocess
import time

from keelboot import BootError, PROMPT

GUEST_MEM = "16M"
# name: (guest file, module string = the guest's command line, expected end,
#        extra vm= options)
# "pass": stopped by the debug-exit device with code 1 ((0 << 1) | 1) and
# "PASS name" on its console. "pass-reboots:N": the same after N guest
# resets. "crash:TEXT": crashed, the reason names TEXT. "stopped:TEXT":
# stopped without a verdict, the reason names TEXT. "runs": still running
# when the others have ended.
GUESTS = {
    "hello": ("hello", "hello", "pass", ""),
    "cpuid": ("cpuid", "cpuid", "pass", ""),
    "msr": ("msr", "msr", "pass", ""),
    "pio": ("pio", "pio", "pass", ""),
    "mmio": ("mmio", "mmio", "pass", ""),
    "unclaimed": ("unclaimed", "unclaimed", "pass", ""),
    "irq": ("irq", "irq", "pass", ""),
    "exc": ("exc", "exc", "pass", ""),
    # two VMs with different register values sharing the CPUs
    "fpu_a": ("fpu", "fpu_a", "pass", ""),
    "fpu_b": ("fpu", "fpu_b", "pass", ""),
    "mmio_bad": ("mmio_bad", "mmio_bad", "crash:cannot decode the instruction: 01", ""),
    "triple": ("triple", "triple", "crash:triple fault", ""),
    "spin": ("spin", "spin", "runs", ""),
    # spins with interrupts off and never exits: the others must still end
    "hog": ("spin", "hog spin hog", "runs", ""),
    # the virtual PC (issue 5)
    "lapic": ("lapic", "lapic", "pass", ""),
    "timers": ("timers", "timers", "pass", ""),
    "ioapic_pic": ("ioapic_pic", "ioapic_pic", "pass", ""),
    "rtc": ("rtc", "rtc", "pass", ""),
    "uart": ("uart", "uart", "pass", ""),
    # receive interrupts delivered: a line typed on `console` (see TYPE)
    "uart_rx": ("uart", "uart_rx uart rx", "pass", ""),
    "acpi": ("acpi", "acpi", "pass", ",cpus=2"),
    "smp": ("smp", "smp", "pass", ",cpus=3"),
    "s5": ("power", "s5 power s5", "stopped:ACPI power-off (S5)", ""),
    # powers off when Keel presses its ACPI power button (see PRESS)
    "button": ("power", "button power button", "stopped:ACPI power-off (S5)", ""),
    "reboot": ("power", "reboot power reset 3", "pass-reboots:2", ",on_reboot=restart"),
    "noreboot": ("power", "noreboot power reset 3", "stopped:on_reboot=stop",
                 ",on_reboot=stop"),
    "hostile": ("hostile", "hostile", "pass", ""),
    # beside timing guests: halts between port writes (LAPIC timer, ~1 kHz)
    "witness": ("spin", "witness spin paced", "runs", ""),
}
# One Keel boot per suite (a boot takes at most 16 VMs and 16 modules). In a
# sequential suite the guests start one after another, each alone with the
# spinner (which runs throughout): they time interrupts and counters against
# the TSC, and ten VMs sharing a CPU would spoil every window.
SUITES = {
    "basic": ["hello", "cpuid", "msr", "pio", "mmio", "unclaimed", "irq", "exc", "fpu_a",
              "fpu_b", "mmio_bad", "triple", "spin", "hog"],
    "pc": ["witness", "lapic", "timers", "ioapic_pic", "rtc", "uart", "uart_rx", "acpi", "smp", "s5",
           "button",
           "reboot", "noreboot", "hostile"],
}
# Guests the harness presses the power button of ("shutdown NAME") once
# their console shows the line given.
PRESS = {"button": rb"power: waiting for the power button"}
# Guests the harness types a line to on `console NAME` once it shows the
# prompt given; the guest echoes the line as a note.
TYPE = {"uart_rx": (rb"uart: type a line", b"keel typed this")}
SEQUENTIAL = {"pc"}
FINISH_TIMEOUT = 240


def build_guests_iso(iso, guests_dir, log_dir, names=None, tag="guests", sequential=False,
                     keel_args=""):
    """An ISO whose Keel command line declares one VM per test guest. `tag`
    names its build directory, so scenarios running at once do not share."""
    names = names or SUITES["basic"]
    root = os.path.join(log_dir, "iso-" + tag)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "boot", "grub"))
    os.makedirs(os.path.join(root, "guests"))
    elf = os.path.join(os.path.dirname(os.path.abspath(iso)), "keel.elf")
    shutil.copy(elf, os.path.join(root, "boot", "keel.elf"))
    decls, modules = [], []
    for n in names:
        path = GUESTS[n][0] + ".elf"
        shutil.copy(os.path.join(guests_dir, path), os.path.join(root, "guests"))
        later = ",autostart=no" if sequential and GUESTS[n][2] != "runs" else ""
        decls.append(f"vm={n},kernel={GUESTS[n][1].split()[0]},mem={GUEST_MEM}{GUESTS[n][3]}"
                     + later)
        modules.append(f" module2 /guests/{path} {GUESTS[n][1]}\n")
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                "terminal_output serial\nset timeout=0\n"
                f"menuentry Keel {{\n multiboot2 /boot/keel.elf {keel_args} {' '.join(decls)}\n"
                + "".join(modules) + " boot\n}\n")
    out = os.path.join(log_dir, f"keel-{tag}.iso")
    subprocess.run(["grub-mkrescue", "-o", out, root], check=True, capture_output=True)
    return out


VM_LINE = re.compile(r"^vm (\S+): (\w+), (\d+) MiB RAM, \d+ vCPU\(s\), holds (\d+) KiB"
                     r"(?:, up [^,(]*)?(?:, booted in [^,]*)?(?:, (\d+) reboot\(s\))?(?:, exit code (\d+))?"
                     r"(?: \((.*)\))?\r?$", re.M)
EXITS_LINE = re.compile(r"^  exits:(.*)$", re.M)


def parse_vms(out):
    """{name: {state, mem, holds, code, why, exits{reason: n}}} from `vms`."""
    vms = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = VM_LINE.match(line)
        if not m:
            continue
        exits = {}
        if i + 1 < len(lines) and lines[i + 1].startswith("  exits:"):
            exits = {k: int(v) for k, v in re.findall(r"([\w/-]+)=(\d+)", lines[i + 1])}
        vms[m.group(1)] = {"state": m.group(2), "mem": int(m.group(3)), "holds": int(m.group(4)),
                           "reboots": int(m.group(5)) if m.group(5) else 0,
                           "code": int(m.group(6)) if m.group(6) else None,
                           "why": m.group(7) or "", "exits": exits}
    return vms


def wait_all_ended(m, names, timeout):
    """Polls `vms` until every guest but the spinner has left 'running'."""
    deadline = time.monotonic() + timeout
    while True:
        vms = parse_vms(m.command("vms", 60))
        waiting = [n for n in names if GUESTS[n][2] != "runs" and
                   (vms.get(n, {}).get("state") in (None, "running", "defined") or
                    "restarting" in vms.get(n, {}).get("why", ""))]
        if not waiting or time.monotonic() > deadline:
            return vms, waiting
        time.sleep(2)


def console_text(m, name, until, timeout=30):
    """Attaches to a VM's console, waits for `until` (regex bytes), detaches;
    returns what the console showed."""
    m._write(f"console {name}\r".encode())
    m.expect(rb"\[attached to " + re.escape(name.encode()) + rb"; Ctrl-\] detaches\]", timeout)
    start = m.pos
    found = True
    try:
        m.expect(until, timeout)
    except BootError:
        found = False
    text = bytes(m.out[start:]).decode(errors="replace")
    m._write(b"\x1d")
    m.expect(rb"\[detached from " + re.escape(name.encode()) + rb"\]", timeout)
    m.expect(re.escape(PROMPT), timeout)
    return found, text


def check_verdicts(c, m, names, vms):
    for n in names:
        want = GUESTS[n][2]
        vm = vms.get(n)
        if vm is None:
            c.check(f"guest {n}: listed by vms", False, "not in vms output")
            continue
        if want == "pass" or want.startswith("pass-reboots:"):
            rt_name = GUESTS[n][0].encode()
            found, text = console_text(m, n, rb"(PASS|FAIL) " + re.escape(rt_name))
            ok = vm["state"] == "stopped" and vm["code"] == 1 and f"PASS {GUESTS[n][0]}" in text
            c.check(f"guest {n}: passes (debug exit code 1, PASS on its console)", ok,
                    f"state {vm['state']}, code {vm['code']}, why '{vm['why']}'\n"
                    + text[-3000:])
            if want.startswith("pass-reboots:"):
                c.check(f"guest {n}: reset {want[13:]} times and restarted each time",
                        vm["reboots"] == int(want[13:]), str(vm))
        elif want.startswith("stopped:"):
            ok = vm["state"] == "stopped" and want[8:] in vm["why"] and vm["code"] is None
            c.check(f"guest {n}: stopped because '{want[8:]}'", ok,
                    f"state {vm['state']}, why '{vm['why']}', code {vm['code']}")
        elif want.startswith("crash:"):
            ok = vm["state"] == "crashed" and want[6:] in vm["why"]
            c.check(f"guest {n}: crashed with the reason '{want[6:]}'", ok,
                    f"state {vm['state']}, why '{vm['why']}'")
            found, text = console_text(m, n, rb"still running", 3)
            c.check(f"guest {n}: stopped at the faulting instruction", not found, text[-800:])
        else:
            c.check(f"guest {n}: still running", vm["state"] == "running", str(vm))


def check_isolation(c, m, spinner):
    """The spinner keeps making progress after other VMs crashed."""
    before = parse_vms(m.command(f"vms {spinner}")).get(spinner, {})
    time.sleep(3)
    after = parse_vms(m.command(f"vms {spinner}")).get(spinner, {})
    b, a = before.get("exits", {}).get("io", 0), after.get("exits", {}).get("io", 0)
    c.check("a second VM keeps running after others crashed", a > b > 0,
            f"spin port exits {b} -> {a}")


def free_kib(m):
    out = m.command("mem")
    found = re.search(r"free (\d+) KiB", out)
    return int(found.group(1)) if found else -1


def check_lifecycle(c, m):
    out = m.command("destroy spin")
    c.check("destroy refuses a running VM with a reason",
            out.strip().startswith("error: ") and "running" in out and out.count("\n") == 1,
            out)
    out = m.command("pause spin")
    st = parse_vms(m.command("vms spin")).get("spin", {})
    c.check("pause: the VM is paused", "paused" in out and st.get("state") == "paused", out)
    io1 = st.get("exits", {}).get("io", 0)
    time.sleep(1)
    io2 = parse_vms(m.command("vms spin")).get("spin", {}).get("exits", {}).get("io", 0)
    c.check("a paused VM does not run", io1 == io2, f"{io1} -> {io2}")
    out = m.command("resume spin")
    c.check("resume: the VM runs again", "resumed" in out, out)
    out = m.command("stop spin")
    st = parse_vms(m.command("vms spin")).get("spin", {})
    c.check("stop: the VM is stopped", st.get("state") == "stopped", out)
    holds = st.get("holds", 0)
    free0 = free_kib(m)
    out = m.command("destroy spin")
    free1 = free_kib(m)
    c.check("destroy returns every byte the VM held", free1 - free0 == holds and holds > 16384,
            f"free {free0} -> {free1} KiB, the VM held {holds} KiB; {out.strip()}")
    out = m.command("vms spin")
    c.check("a destroyed VM is gone", out.strip() == "error: no VM named 'spin' (see 'vms')", out)
    out = m.command("start hello")
    vms, waiting = wait_all_ended(m, ["hello"], 60)
    c.check("a stopped VM starts again and passes again",
            "started" in out and vms.get("hello", {}).get("code") == 1 and
            vms["hello"]["state"] == "stopped", f"{out.strip()} / {vms.get('hello')}")
    out = m.command("start nosuch")
    c.check("bad VM name: one-line error", out.strip() == "error: no VM named 'nosuch' (see 'vms')",
            out)


def press_button(c, m, name):
    """Waits for the guest to be ready, then `shutdown NAME`."""
    found, text = console_text(m, name, PRESS[name], 120)
    out = m.command(f"shutdown {name}") if found else ""
    c.check(f"guest {name}: shutdown presses the power button",
            found and out.strip() == f"vm {name}: power button pressed", out + text[-1500:])
    _, still = wait_all_ended(m, [name], 60)
    if still:
        return
    found, text = console_text(m, name, rb"power: S5", 10)
    c.check(f"guest {name}: the SCI came with PWRBTN_STS, then S5",
            found and "ok - PWRBTN_STS is set in the SCI handler" in text and "not ok" not in text,
            text[-1500:])
    out = m.command(f"shutdown {name}")
    c.check("shutdown of a stopped VM: one-line error",
            out.strip() == f"error: cannot shut down vm {name}: it is stopped", out)


def type_line(c, m, name):
    """Attaches to the console, types the line when asked, detaches."""
    prompt, line = TYPE[name]
    m._write(f"console {name}\r".encode())
    m.expect(rb"\[attached to " + re.escape(name.encode()) + rb"; Ctrl-\] detaches\]", 60)
    start = m.pos
    try:
        m.expect(prompt, 120)
        m._write(line + b"\r")
        m.expect(rb'the line: "' + re.escape(line) + rb'"', 60)
        ok = True
    except BootError:
        ok = False
    text = bytes(m.out[start:]).decode(errors="replace")
    m._write(b"\x1d")
    m.expect(rb"\[detached from " + re.escape(name.encode()) + rb"\]", 60)
    m.expect(re.escape(PROMPT), 60)
    c.check(f"guest {name}: a line typed on its console arrives", ok, text[-1500:])


def run_in_sequence(c, m, names):
    """Starts each guest when the one before has ended."""
    waiting = []
    for n in names:
        if GUESTS[n][2] == "runs":
            continue
        out = m.command(f"start {n}")
        if "started" not in out:
            c.check(f"guest {n}: starts", False, out)
            continue
        if n in PRESS:
            press_button(c, m, n)
        if n in TYPE:
            type_line(c, m, n)
        _, still = wait_all_ended(m, [n], FINISH_TIMEOUT)
        waiting += still
    return parse_vms(m.command("vms", 60)), waiting


def run_guest_suite(c, m, names=None, sequential=False):
    names = names or SUITES["basic"]
    m.expect(re.escape(PROMPT), 120)
    if sequential:
        vms, waiting = run_in_sequence(c, m, names)
    else:
        vms, waiting = wait_all_ended(m, names, FINISH_TIMEOUT)
    c.check("every test guest ends", not waiting, f"still running: {waiting}")
    check_verdicts(c, m, names, vms)
    if "spin" in names:
        check_isolation(c, m, "spin")
        check_lifecycle(c, m)
    if "witness" in names:
        check_isolation(c, m, "witness")
