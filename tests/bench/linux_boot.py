#!/usr/bin/python3
"""The Debian guest's boot under Keel (`make bench`, after the exit-cost
figures): the image `make run` boots (tools/demo-iso.sh: VM `demo`, 256 MiB,
2 vCPUs, `console=ttyS0 panic=1 quiet`) under QEMU TCG with icount
(shift 0, one thread, fixed seed), so a TSC tick is one emulated
instruction. Booted three times; per boot it prints the TSC ticks from the
VM's start to the guest's boot-mark write (port 0x544), the kernel's uptime
at that point (the guest's /init prints it) and the exits by reason from
`vms demo`, then how far the two `-cpu max` boots differ (the guest's RTC
starts at the host's time of day, so they differ a little).

Boots 1 and 2 run on `-cpu max`, as the tests do: QEMU reports that CPU
as AuthenticAMD family 15, and on AMD families 0xf-0x11 Linux searches
every slot of all 256 PCI buses for an AGP bridge, twice ("AGP: No AGP
bridge found"), through the configuration ports: about 33,000 exits that a
current AMD host would not see. Boot 3 runs on `-cpu EPYC` (family 0x17)
with SVM and NPT added, for the figures such a host gives.

The same kernel booted directly by QEMU is not measured here: QEMU 7.2
with icount and two vCPUs stops at "Booting SMP configuration" (seen with
and without sleep=off). The integration test qemu-linux-2cpu gives the
wall-time ratio against QEMU -kernel without icount. Standard library
only; exits 1 when a boot does not reach its mark."""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from keelboot import BootError, Machine, PROMPT  # noqa: E402
from guest_suite import parse_vms  # noqa: E402
from linux_suite import DEMO_CPUS, VM, build_linux_iso  # noqa: E402

ICOUNT = ["-accel", "tcg,thread=single", "-icount", "shift=0,sleep=off", "-seed", "1",
          "-machine", "pc", "-smp", str(DEMO_CPUS)]
CPU_AS_TESTED = "max"
CPU_CURRENT_AMD = "EPYC,+svm,+npt"
KEEL_MEM_MB = 1024
UPTIME = rb"keel-guest: boot mark at uptime ([\d.]+) s"
KEEL_MARK = rb"vm " + VM.encode() + rb": boot mark after (\d+) TSC ticks"
TIMEOUT = 1200  # 40-100 s on this machine


class IcountQemu(Machine):
    def __init__(self, name, log_dir, args):
        super().__init__(name, log_dir)
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        self.proc = subprocess.Popen(
            ["qemu-system-x86_64", *ICOUNT, *args, "-display", "none", "-monitor", "none",
             "-serial", "stdio", "-no-reboot"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(log_dir, name + ".qemu.log"), "wb"))
        os.set_blocking(self.proc.stdout.fileno(), False)

    _read = __import__("keelboot").QemuMachine._read
    _write = __import__("keelboot").QemuMachine._write


def boot_keel(iso, out_dir, n, cpu):
    """Ticks to the mark, guest uptime at the mark, exits, wall seconds."""
    t0 = time.monotonic()
    m = IcountQemu(f"linux-keel-{n}", out_dir,
                   ["-cpu", cpu, "-m", str(KEEL_MEM_MB), "-cdrom", build_linux_iso(iso)])
    try:
        ticks = int(m.expect(KEEL_MARK, TIMEOUT).group(1))
        wall = time.monotonic() - t0
        m.expect(re.escape(PROMPT), 60)
        m._write(f"console {VM}\r".encode())  # the guest's output so far, from the ring
        uptime = float(m.expect(UPTIME, 60).group(1))
        m._write(b"\x1d")
        m.expect(rb"\[detached from", 60)
        m.expect(re.escape(PROMPT), 60)
        vm = parse_vms(m.command(f"vms {VM}", 60)).get(VM, {})
        return ticks, uptime, dict(vm.get("exits", {})), wall
    finally:
        m.close()


def report(n, cpu, keel):
    ticks, uptime, exits, wall = keel
    total = exits.pop("total", 0)
    reasons = sorted(((k, v) for k, v in exits.items()
                      if k != "msr-gp" and not k.startswith("unclaimed")), key=lambda kv: -kv[1])
    mmio = exits.get("mmio", 0)
    print(f"\nDebian guest boot {n} under Keel (QEMU TCG -cpu {cpu}, icount shift=0: "
          "1 tick = 1 instruction)\n")
    print(f"- TSC ticks from VM start to the boot mark: {ticks:,}")
    print(f"- kernel uptime at the boot mark: {uptime:.2f} s")
    print(f"- wall time to the boot mark on this machine: {wall:.1f} s")
    print(f"- VM exits by then: {total:,}, of them MMIO {mmio:,} "
          f"({100.0 * mmio / total if total else 0:.1f}%)\n")
    print("| reason | exits | share |")
    print("|---|---|---|")
    for k, v in reasons:
        print(f"| {k} | {v:,} | {100.0 * v / total if total else 0:.1f}% |")
    for k in ("unclaimed-pio", "unclaimed-mmio"):
        if k in exits:  # `vms` shows reads/writes; parse_vms keeps the reads
            print(f"\n{k}: {exits[k]:,} reads", end="")
    print()
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iso", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=2, help="boots on -cpu max")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cpus = [CPU_AS_TESTED] * args.runs + [CPU_CURRENT_AMD]
    ticks = []
    for n, cpu in enumerate(cpus, 1):
        print(f"linux-boot: boot {n} of {len(cpus)}, Keel with the demo guest under icount "
              f"on -cpu {cpu} (1-2 minutes) ...", flush=True)
        try:
            keel = boot_keel(args.iso, args.out, n, cpu)
        except BootError as e:
            print(f"linux-boot: FAIL: {e}")
            return 1
        if cpu == CPU_AS_TESTED:
            ticks.append(keel[0])
        report(n, cpu, keel)
    if len(ticks) > 1:
        spread = (max(ticks) - min(ticks)) / min(ticks)
        print(f"\nlinux-boot: boot-mark ticks over the {len(ticks)} boots on -cpu max: "
              f"{min(ticks):,} to {max(ticks):,} ({100 * spread:.2f}% apart)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
