#!/usr/bin/python3
"""Where an exit's instructions go (`make bench-profile`): boots the bench
guest under QEMU icount with a gdb stub, single-steps whole round trips (from
one entry into svm_enter to the next: Keel's exit path, the guest's
instructions, the world switch) for each kind of exit, and prints how many
instructions each Keel function executed. Deterministic, like the bench.

Standard library only, plus gdb. Not part of `make check`."""
import argparse
import bisect
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from keelboot import Machine, PROMPT  # noqa: E402
from run_bench import QEMU_FLAGS, build_iso, BOOT_TIMEOUT  # noqa: E402

# handler symbol: label. A round trip is profiled once its handler ran.
KINDS = [("on_cpuid", "CPUID"), ("on_io", "port I/O"), ("on_mmio", "MMIO")]
KEEL_BASE = 0xFFFF800000000000

GDB_SCRIPT = r'''
import gdb
gdb.execute("set pagination off")
gdb.execute("target remote :%(port)d")
out = open(%(out)r, "w")
for handler in %(handlers)r:
    gdb.execute("hbreak " + handler)
    gdb.execute("continue")
    gdb.execute("delete")
    gdb.execute("hbreak svm_enter")
    gdb.execute("continue")
    gdb.execute("delete")
    start = int(gdb.parse_and_eval("$pc"))
    pcs = [start]
    while True:
        gdb.execute("stepi", to_string=True)
        pc = int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF
        if pc == start or len(pcs) > 100000:
            break
        pcs.append(pc)
    out.write(handler + " " + " ".join("%%x" %% p for p in pcs) + "\n")
    out.flush()
out.close()
gdb.execute("kill")
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProfQemu(Machine):
    def __init__(self, name, log_dir, iso, port):
        super().__init__(name, log_dir)
        args = ["qemu-system-x86_64", *QEMU_FLAGS, "-cdrom", iso, "-display", "none",
                "-monitor", "none", "-serial", "stdio", "-no-reboot", "-gdb", f"tcp::{port}"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _read(self, timeout):
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return b""
        try:
            return self.proc.stdout.read(65536) or b""
        except BlockingIOError:
            return b""

    def _write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()


def symbols(elf):
    out = subprocess.run(["nm", "-n", "--defined-only", elf], check=True, capture_output=True,
                         text=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    return addrs, names


def name_of(pc, addrs, names):
    if pc < KEEL_BASE:
        return "(guest)"
    i = bisect.bisect_right(addrs, pc) - 1
    return names[i] if i >= 0 else hex(pc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/keel.iso")
    ap.add_argument("--guests", default="build/guests")
    ap.add_argument("--out", default="build/bench")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    elf = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "keel.elf")
    iso = build_iso(elf, os.path.join(args.guests, "bench.elf"), args.out)
    port = free_port()
    m = ProfQemu("bench-profile", args.out, iso, port)
    trace = os.path.join(args.out, "profile.trace")
    try:
        m.expect(re.escape(PROMPT), BOOT_TIMEOUT)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(GDB_SCRIPT % {"port": port, "out": trace,
                                  "handlers": [k for k, _ in KINDS]})
            script = f.name
        subprocess.run(["gdb", "-q", "-batch", "-nx", "-ex", f"file {elf}", "-x", script],
                       check=False, capture_output=True, timeout=3600)
        os.unlink(script)
    finally:
        m.close()
    addrs, names = symbols(elf)
    labels = dict(KINDS)
    with open(trace) as f:
        for line in f:
            handler, *pcs = line.split()
            counts = collections.Counter(name_of(int(p, 16), addrs, names) for p in pcs)
            print(f"\n{labels[handler]}: {len(pcs)} instructions per round trip "
                  f"(guest included), by function:")
            for fn, n in counts.most_common():
                print(f"  {n:6d}  {fn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
