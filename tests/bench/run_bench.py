#!/usr/bin/python3
"""Keel exit-cost benchmark (`make bench`): boots Keel with one VM running the
`bench` test guest (tests/guests/bench.c) under QEMU TCG with icount, where
one TSC tick is one emulated instruction, and prints the guest's figures: the
cost in instructions of one VM-exit round trip for CPUID, port I/O and MMIO.
It boots twice and checks that both runs give identical figures.

Standard library only. Exit status 0 when every run passed its checks and
the runs agree; the targets are reported, not enforced."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from keelboot import BootError, Machine, PROMPT, QemuMachine  # noqa: E402
from guest_suite import parse_vms  # noqa: E402

VM = "bench"
VM_MEM = "16M"
# One TSC tick per instruction: icount with shift 0 advances the virtual
# clock (and so the TSC) by 1 ns per instruction; sleep=off keeps idle time
# from being added in real time; one thread and a fixed seed make the run
# repeatable.
QEMU_FLAGS = ["-accel", "tcg,thread=single", "-icount", "shift=0,sleep=off", "-smp", "1",
              "-seed", "1", "-cpu", "max", "-m", "256", "-machine", "pc"]
BOOT_TIMEOUT = 300   # SeaBIOS + GRUB alone take ~9 s under icount
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
VERDICT = rb"(PASS|FAIL) bench\b[^\r\n]*"
KEEL_PANIC = rb"PANIC: [^\r\n]*"


class BenchQemu(QemuMachine):
    """QemuMachine with the benchmark's QEMU flags (icount, one thread)."""

    def __init__(self, name, log_dir, iso):
        Machine.__init__(self, name, log_dir)
        self.args = ["qemu-system-x86_64", *QEMU_FLAGS, "-cdrom", iso, "-display", "none",
                     "-monitor", "none", "-serial", "stdio", "-no-reboot"]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(log_dir, name + ".qemu.log"), "wb"))
        os.set_blocking(self.proc.stdout.fileno(), False)


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
    hit = m.expect(until + rb"|" + KEEL_PANIC, timeout)
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


def run_once(iso, log_dir, index):
    """One boot: returns {results, verdict, vm, times} or raises BootError."""
    name = f"bench-run{index}"
    log = os.path.join(log_dir, name + ".serial.log")
    if os.path.exists(log):
        os.unlink(log)
    t0 = time.monotonic()
    m = BenchQemu(name, log_dir, iso)
    try:
        m.expect(re.escape(PROMPT), BOOT_TIMEOUT)
        t_prompt = time.monotonic()
        # Attach and wait for the verdict without polling `vms`: the shell
        # shares the one CPU with the guest, so the less it types while the
        # guest measures, the fewer samples it can touch.
        text = console_until(m, VERDICT, BENCH_TIMEOUT)
        t_done = time.monotonic()
        vm, vms_out = wait_stopped(m, STOP_TIMEOUT)
        m._write(b"poweroff\r")
        if m.wait_exit(30) is None:
            m.close()
    finally:
        m.close()
    # Drop the NULs of the COM1 benchmark and the terminal's carriage returns.
    text = text.replace("\x00", "").replace("\r", "")
    verdict = re.search(VERDICT.decode(), text)
    results = {k: tuple(int(x) for x in rest) for k, *rest in RESULT.findall(text)}
    return {"results": results, "verdict": verdict.group(0) if verdict else None,
            "vm": vm, "vms_out": vms_out, "text": text,
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/keel.iso",
                    help="Keel's ISO; keel.elf beside it is what gets booted")
    ap.add_argument("--guests", default="build/guests", help="directory with bench.elf")
    ap.add_argument("--out", default="build/bench", help="logs and the bench ISO")
    ap.add_argument("--runs", type=int, default=2, help="boots to compare (default 2)")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    keel_elf = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "keel.elf")
    iso = build_iso(keel_elf, os.path.join(args.guests, VM + ".elf"), args.out)
    print(f"QEMU: qemu-system-x86_64 {' '.join(QEMU_FLAGS)} -cdrom {iso}")
    print(f"Keel: vm={VM},kernel={VM},mem={VM_MEM}; logs in {args.out}/", flush=True)

    runs, ok = [], True
    for i in range(1, args.runs + 1):
        try:
            r = run_once(iso, args.out, i)
        except BootError as e:
            print(f"\nrun {i}: {e}")
            return 1
        runs.append(r)
        boot, bench, total = r["times"]
        vm = r["vm"]
        print(f"\nrun {i}: boot to prompt {boot:.1f} s, benchmark {bench:.1f} s, "
              f"whole run {total:.1f} s (wall clock)")
        print(f"guest: {r['verdict'] or 'no verdict on the console'}; VM {vm.get('state')}, "
              f"exit code {vm.get('code')}{' (' + vm['why'] + ')' if vm.get('why') else ''}")
        for line in r["text"].splitlines():
            if line.startswith("not ok"):
                print("  " + line.rstrip())
        exits = [ln.strip() for ln in r["vms_out"].splitlines() if ln.startswith("  exits:")]
        print("exits by reason (vms bench): " + (exits[0][len("exits:"):].strip() if exits
                                                 else "none listed"))
        counts = sorted({n for n, *_ in r["results"].values()})
        print(f"samples per row: {', '.join(map(str, counts)) or 'none'}; figures in TSC ticks "
              "(= instructions)\n")
        print(table(r["results"]))
        passed = (r["verdict"] or "").startswith("PASS") and vm.get("code") == 1
        if not passed or set(r["results"]) != set(KINDS):
            print(f"run {i}: the guest did not pass or a figure is missing; "
                  f"serial log {os.path.join(args.out, f'bench-run{i}.serial.log')}")
            ok = False

    if len(runs) > 1:
        same = all(r["results"] == runs[0]["results"] for r in runs[1:])
        print(f"\ndeterministic: {'yes' if same else 'NO'}: the figures of the {len(runs)} runs "
              f"are {'identical' if same else 'different'}")
        reasons = sorted({k for r in runs for k in r["vm"].get("exits", {})})
        differ = [f"{k} " + " vs ".join(str(r["vm"].get("exits", {}).get(k, 0)) for r in runs)
                  for k in reasons
                  if len({r["vm"].get("exits", {}).get(k, 0) for r in runs}) > 1]
        print("exit counts: " + ("identical across runs" if not differ else
                                 "differ across runs: " + "; ".join(differ)))
        ok = ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
