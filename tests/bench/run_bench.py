#!/usr/bin/python3
"""Keel exit-cost benchmark (`make bench`): boots Keel with one VM running the
`bench` test guest (tests/guests/bench.c) on each virtualization backend, in
an emulator that counts instructions, and prints the guest's figures: the
cost of one VM-exit round trip for CPUID, port I/O and MMIO, in TSC ticks.

- AMD-V (SVM): QEMU TCG `-cpu max` with icount (shift 0): one TSC tick is
  one emulated instruction.
- Intel VT-x: Bochs `corei7_skylake_x` with `clock: sync=none`: the TSC is
  Bochs's tick counter, which advances once per emulated instruction
  (`ips` only sets how many ticks make a second).

Each backend is booted twice (`--runs`) and its runs must give identical
figures. Standard library only. Exit status 0 when every run passed its
checks and each backend's runs agree; the targets are reported, not
enforced."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from keelboot import BochsMachine, BootError, Machine, PROMPT, QemuMachine  # noqa: E402
from guest_suite import parse_vms  # noqa: E402

VM = "bench"
VM_MEM = "16M"
# One TSC tick per instruction: icount with shift 0 advances the virtual
# clock (and so the TSC) by 1 ns per instruction; sleep=off keeps idle time
# from being added in real time; one thread and a fixed seed make the run
# repeatable.
QEMU_FLAGS = ["-accel", "tcg,thread=single", "-icount", "shift=0,sleep=off", "-smp", "1",
              "-seed", "1", "-cpu", "max", "-m", "256", "-machine", "pc"]
# Bochs: BochsMachine's bochsrc (one CPU, `ips=100000000`, `clock: sync=none`,
# COM1 on a TCP socket) plus these lines. sync=none makes emulated time follow
# the tick (instruction) count and nothing else; time0 fixes the CMOS clock
# (the default is the host's time of day); fastboot skips the BIOS boot-menu
# delay (~300 M instructions).
BOCHS_MODEL = "corei7_skylake_x"
BOCHS_RC = ["clock: sync=none, time0=946684800",
            "romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot"]
BOOT_TIMEOUT = 300   # SeaBIOS + GRUB alone take ~9 s under icount; Bochs ~6 s
BENCH_TIMEOUT = 900  # from the prompt to the guest's verdict
STOP_TIMEOUT = 120

# kind printed by the guest: (table label, target for the baseline-subtracted
# median, in instructions; None for the baseline itself)
KINDS = {
    "baseline": ("baseline (nop)", None),
    "cpuid": ("CPUID (leaf 0x40000000)", 250),
    "pio-com1": ("port I/O (COM1 THR, outb)", 300),
    "pio-testdev": ("port I/O (test device 0x520, outb)", 300),
    "mmio-write": ("MMIO (decoded mov, write)", 600),
    "mmio-read": ("MMIO (decoded mov, read)", 600),
}
RESULT = re.compile(r"^bench: (\S+) n=(\d+) min=(\d+) median=(\d+) p90=(\d+)$", re.M)
# The guest's last line, "PASS bench (N checks)" or "FAIL bench (N failed)".
# Waiting for it tolerates one of Keel's own lines inside it (below).
VERDICT_WAIT = rb"(PASS|FAIL) bench \([^)]{0,200}\)"
VERDICT = r"(PASS|FAIL) bench \(\d+ (?:checks|failed)\)"
VM_CRASHED = rb"vm " + VM.encode() + rb": crashed[^\r\n]*\r?\n"
KEEL_PANIC = rb"PANIC: [^\r\n]*"
# Keel prints "vm bench: stopped: ..." on the console while it is still
# forwarding the guest's buffered output, so the line can land inside one of
# the guest's lines (seen under Bochs, where COM1 drains at 115200 baud of
# emulated time). It is taken out before the guest's lines are parsed.
KEEL_VM_LINE = re.compile(r"vm " + VM + r": (?:stopped|crashed)[^\n]*\n")


class BenchQemu(QemuMachine):
    """QemuMachine with the benchmark's QEMU flags (icount, one thread)."""

    def __init__(self, name, log_dir, iso):
        Machine.__init__(self, name, log_dir)
        self.args = ["qemu-system-x86_64", *QEMU_FLAGS, "-cdrom", iso, "-display", "none",
                     "-monitor", "none", "-serial", "stdio", "-no-reboot"]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(log_dir, name + ".qemu.log"), "wb"))
        os.set_blocking(self.proc.stdout.fileno(), False)


class BenchBochs(BochsMachine):
    """BochsMachine with the benchmark's bochsrc lines; keeps a copy of the
    bochsrc in the log directory (BochsMachine removes its own)."""

    def __init__(self, name, log_dir, iso):
        super().__init__(name, log_dir, iso, cpus=1, megs=256, model=BOCHS_MODEL,
                         extra_rc=BOCHS_RC)
        shutil.copy(os.path.join(self.dir, "bochsrc"), os.path.join(log_dir, name + ".bochsrc"))


# Backends, in the order they run: what boots Keel, and the line of Keel's
# boot log that names the backend it picked.
BACKENDS = {
    "svm": {"title": "AMD-V (SVM), QEMU 7.2 TCG -cpu max, icount",
            "short": "SVM (QEMU icount)", "machine": BenchQemu,
            "virt": "virt: using AMD SVM"},
    "vmx": {"title": f"Intel VT-x, Bochs 2.7 {BOCHS_MODEL}, clock: sync=none",
            "short": "VT-x (Bochs skylake_x)", "machine": BenchBochs,
            "virt": "virt: using Intel VT-x"},
}


def build_iso(keel_elf, guest_elf, out_dir):
    """An ISO whose Keel command line declares the one bench VM."""
    root = os.path.join(out_dir, "iso")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "boot", "grub"))
    os.makedirs(os.path.join(root, "guests"))
    shutil.copy(keel_elf, os.path.join(root, "boot", "keel.elf"))
    shutil.copy(guest_elf, os.path.join(root, "guests", VM + ".elf"))
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                "terminal_output serial\nset timeout=0\n"
                f"menuentry Keel {{\n multiboot2 /boot/keel.elf vm={VM},kernel={VM},mem={VM_MEM}\n"
                f" module2 /guests/{VM}.elf {VM}\n boot\n}}\n")
    iso = os.path.join(out_dir, "keel-bench.iso")
    subprocess.run(["grub-mkrescue", "-o", iso, root], check=True, capture_output=True)
    return iso


def console_until(m, until, timeout):
    """Attaches to the VM's console, waits for `until` (regex bytes) and
    detaches; returns the console text. A Keel panic ends the wait at once."""
    m._write(f"console {VM}\r".encode())
    m.expect(rb"\[attached to " + VM.encode() + rb"; Ctrl-\] detaches\]", 60)
    start = m.pos
    hit = m.expect(until + rb"|" + VM_CRASHED + rb"|" + KEEL_PANIC, timeout)
    text = bytes(m.out[start:m.pos]).decode(errors="replace")
    if hit.group(0).startswith(b"PANIC: "):
        m.expect(rb"system halted", 30)
        tail = bytes(m.out[-2000:]).decode(errors="replace").replace("\x00", "")
        raise BootError(f"{m.name}: Keel panicked while the guest ran:\n{tail}")
    m._write(b"\x1d")
    m.expect(rb"\[detached from " + VM.encode() + rb"\]", 60)
    m.expect(re.escape(PROMPT), 60)
    return text


def wait_stopped(m, timeout):
    """Polls `vms bench` until the VM has left 'running'; returns its parsed
    entry and the command's output."""
    deadline = time.monotonic() + timeout
    while True:
        out = m.command(f"vms {VM}", 60)
        vm = parse_vms(out).get(VM, {})
        if vm.get("state") not in (None, "running", "defined") or time.monotonic() > deadline:
            return vm, out
        time.sleep(1)


def run_once(backend, iso, log_dir, index):
    """One boot: returns {results, verdict, vm, times, ...} or raises BootError."""
    name = f"bench-{backend}-run{index}"
    log = os.path.join(log_dir, name + ".serial.log")
    if os.path.exists(log):
        os.unlink(log)
    t0 = time.monotonic()
    m = BACKENDS[backend]["machine"](name, log_dir, iso)
    try:
        m.expect(re.escape(PROMPT), BOOT_TIMEOUT)
        t_prompt = time.monotonic()
        boot_log = bytes(m.out).decode(errors="replace")
        # Attach and wait for the verdict without polling `vms`: the shell
        # shares the one CPU with the guest, so the less it types while the
        # guest measures, the fewer samples it can touch.
        text = console_until(m, VERDICT_WAIT, BENCH_TIMEOUT)
        t_done = time.monotonic()
        vm, vms_out = wait_stopped(m, STOP_TIMEOUT)
        m._write(b"poweroff\r")
        if m.wait_exit(30) is None:
            m.close()
    finally:
        m.close()
    # Drop the NULs of the COM1 benchmark and the terminal's carriage returns,
    # then Keel's own lines.
    text = text.replace("\x00", "").replace("\r", "")
    keel_lines = [x.rstrip("\n") for x in KEEL_VM_LINE.findall(text)]
    text = KEEL_VM_LINE.sub("", text)
    verdict = re.search(VERDICT, text)
    results = {k: tuple(int(x) for x in rest) for k, *rest in RESULT.findall(text)}
    virt = [ln.strip() for ln in boot_log.splitlines() if ln.startswith("virt: using")]
    return {"results": results, "verdict": verdict.group(0) if verdict else None,
            "vm": vm, "vms_out": vms_out, "text": text, "keel_lines": keel_lines,
            "virt": virt[0] if virt else None, "log": log,
            "times": (t_prompt - t0, t_done - t_prompt, time.monotonic() - t0)}


def table(results):
    base = results.get("baseline")
    rows = ["| round trip | min | median | p90 | median - baseline | target |",
            "|---|---:|---:|---:|---:|---:|"]
    for kind, (label, target) in KINDS.items():
        r = results.get(kind)
        if r is None:
            rows.append(f"| {label} | missing | | | | |")
            continue
        _, lo, med, p90 = r
        if target is None:
            rows.append(f"| {label} | {lo} | {med} | {p90} | - | - |")
            continue
        if base is None:
            rows.append(f"| {label} | {lo} | {med} | {p90} | ? | <= {target} |")
            continue
        sub = med - base[2]
        verdict = " (met)" if sub <= target else " (OVER)"
        rows.append(f"| {label} | {lo} | {med} | {p90} | {sub} | <= {target}{verdict} |")
    for kind in results:
        if kind not in KINDS:
            rows.append(f"| {kind} (unknown kind) | {results[kind][1]} | {results[kind][2]} "
                        f"| {results[kind][3]} | | |")
    return "\n".join(rows)


def report_run(backend, i, r):
    """Prints one run; returns whether it passed."""
    boot, bench, total = r["times"]
    vm = r["vm"]
    print(f"\n{backend} run {i}: boot to prompt {boot:.1f} s, benchmark {bench:.1f} s, "
          f"whole run {total:.1f} s (wall clock)")
    print(f"Keel: {r['virt'] or 'no virt: using line in the boot log'}")
    print(f"guest: {r['verdict'] or 'no verdict on the console'}; VM {vm.get('state')}, "
          f"exit code {vm.get('code')}{' (' + vm['why'] + ')' if vm.get('why') else ''}")
    for line in r["text"].splitlines():
        if line.startswith("not ok"):
            print("  " + line.rstrip())
    for line in r["keel_lines"]:
        print(f"  (Keel's line {line!r} was inside the guest's output; taken out)")
    exits = [ln.strip() for ln in r["vms_out"].splitlines() if ln.startswith("  exits:")]
    print("exits by reason (vms bench): " + (exits[0][len("exits:"):].strip() if exits
                                             else "none listed"))
    counts = sorted({n for n, *_ in r["results"].values()})
    print(f"samples per row: {', '.join(map(str, counts)) or 'none'}; figures in TSC ticks "
          "(= instructions)\n")
    print(table(r["results"]))
    passed = ((r["verdict"] or "").startswith("PASS") and vm.get("code") == 1
              and set(r["results"]) == set(KINDS)
              and (r["virt"] or "").startswith(BACKENDS[backend]["virt"]))
    if not passed:
        print(f"{backend} run {i}: the guest did not pass, a figure is missing or Keel used "
              f"another backend; serial log {r['log']}")
    return passed


def compare_runs(backend, runs):
    """Prints whether a backend's runs agree; returns whether their figures do."""
    same = all(r["results"] == runs[0]["results"] for r in runs[1:])
    print(f"\n{backend}: deterministic: {'yes' if same else 'NO'}: the figures of the "
          f"{len(runs)} runs are {'identical' if same else 'different'}")
    reasons = sorted({k for r in runs for k in r["vm"].get("exits", {})})
    differ = [f"{k} " + " vs ".join(str(r["vm"].get("exits", {}).get(k, 0)) for r in runs)
              for k in reasons
              if len({r["vm"].get("exits", {}).get(k, 0) for r in runs}) > 1]
    print(f"{backend}: exit counts: " + ("identical across runs" if not differ else
                                       "differ across runs: " + "; ".join(differ)))
    return same


def summary(done):
    """One table, a column per backend: median minus the baseline median
    (the baseline row: its own median), from each backend's first run."""
    names = list(done)
    rows = ["| round trip | " + " | ".join(BACKENDS[b]["short"] for b in names) + " | target |",
            "|---|" + "---:|" * len(names) + "---:|"]
    for kind, (label, target) in KINDS.items():
        cells = []
        for b in names:
            res = done[b][0]["results"]
            r, base = res.get(kind), res.get("baseline")
            if r is None or base is None:
                cells.append("missing")
                continue
            cell = str(r[2] if target is None else r[2] - base[2])
            if r[1] != r[3]:
                cell += f" (min {r[1]}, p90 {r[3]})"
            cells.append(cell)
        goal = "-" if target is None else f"<= {target}"
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {goal} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/keel.iso",
                    help="Keel's ISO; keel.elf beside it is what gets booted")
    ap.add_argument("--guests", default="build/guests", help="directory with bench.elf")
    ap.add_argument("--out", default="build/bench", help="logs and the bench ISO")
    ap.add_argument("--runs", type=int, default=2, help="boots per backend to compare (default 2)")
    ap.add_argument("--backend", default=",".join(BACKENDS),
                    help="comma-separated backends to run: " + ", ".join(BACKENDS)
                    + " (default: all)")
    args = ap.parse_args()
    backends = [b for b in args.backend.split(",") if b]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        ap.error(f"unknown backend(s) {', '.join(unknown) or '(none)'}; "
                 f"known: {', '.join(BACKENDS)}")

    args.out = os.path.abspath(args.out)  # Bochs runs in a directory of its own
    os.makedirs(args.out, exist_ok=True)
    keel_elf = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "keel.elf")
    iso = build_iso(keel_elf, os.path.join(args.guests, VM + ".elf"), args.out)
    print(f"Keel: vm={VM},kernel={VM},mem={VM_MEM}; ISO {iso}; logs in {args.out}/")
    if "svm" in backends:
        print(f"svm: qemu-system-x86_64 {' '.join(QEMU_FLAGS)} -cdrom {iso}")
    if "vmx" in backends:
        print(f"vmx: bochs, cpu: model={BOCHS_MODEL}, count=1, ips=100000000; "
              + "; ".join(BOCHS_RC) + f" (whole bochsrc: {args.out}/bench-vmx-run1.bochsrc)")
    sys.stdout.flush()

    ok, done, t_all = True, {}, time.monotonic()
    for backend in backends:
        print(f"\n=== {backend}: {BACKENDS[backend]['title']}", flush=True)
        runs = []
        for i in range(1, args.runs + 1):
            try:
                r = run_once(backend, iso, args.out, i)
            except BootError as e:
                print(f"\n{backend} run {i}: {e}")
                ok = False
                break
            runs.append(r)
            ok = report_run(backend, i, r) and ok
            sys.stdout.flush()
        if runs:
            done[backend] = runs
        if len(runs) > 1:
            ok = compare_runs(backend, runs) and ok

    if done:
        print("\n=== summary: median minus the baseline median, in TSC ticks (= instructions); "
              "the baseline row is its own median; first run of each backend\n")
        print(summary(done))
    print(f"\nmake bench: {'passed' if ok else 'FAILED'} in {time.monotonic() - t_all:.0f} s "
          "(wall clock)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
