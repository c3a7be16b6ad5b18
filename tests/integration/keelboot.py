"""Boot Keel under an emulator and talk to its serial shell.

Standard library only. A Machine is a running emulator with a byte stream to
Keel's COM1; tests send lines and wait for text with a deadline."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

PROMPT = b"keel> "


class BootError(Exception):
    pass


class Machine:
    def __init__(self, name, log_dir):
        self.name = name
        self.out = bytearray()
        self.pos = 0  # everything before pos has been consumed by expect()
        self.log_path = os.path.join(log_dir, name + ".serial.log")
        self.proc = None

    # transport hooks
    def _read(self, timeout):
        raise NotImplementedError

    def _write(self, data):
        raise NotImplementedError

    def expect(self, pattern, timeout):
        """Wait for a regex (bytes) after the last match; return the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self.alive():
                tail = bytes(self.out[-600:]).decode(errors="replace")
                state = "running" if self.alive() else "exited"
                raise BootError(f"{self.name}: no {pattern!r} within {timeout}s "
                                f"(emulator {state}); serial tail:\n{tail}")
            chunk = self._read(min(left, 0.5))
            if chunk:
                self.out += chunk
                with open(self.log_path, "ab") as f:
                    f.write(chunk)

    def command(self, line, timeout=30):
        """Send a command; return its output (between echo and next prompt)."""
        self._write(line.encode() + b"\r")
        self.expect(re.escape(line.encode()[-40:]) + rb"\r\n", timeout)
        start = self.pos
        self.expect(re.escape(PROMPT), timeout)
        return bytes(self.out[start:self.pos - len(PROMPT)]).decode(errors="replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class QemuMachine(Machine):
    def __init__(self, name, log_dir, iso, smp=1, mem_mb=256, uefi=False, machine="pc", cpu="max",
                 extra_args=(), serial_args=("-serial", "stdio")):
        super().__init__(name, log_dir)
        self.cpus = smp
        self.monitor_path = os.path.join(log_dir, name + ".monitor.sock")
        if os.path.exists(self.monitor_path):
            os.unlink(self.monitor_path)
        args = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", cpu, "-machine", machine,
                "-smp", str(smp), "-m", str(mem_mb), *(("-cdrom", iso) if iso else ()),
                "-display", "none",
                "-monitor", f"unix:{self.monitor_path},server,nowait", *serial_args, "-no-reboot", *extra_args]
        if uefi:
            args += ["-bios", "/usr/share/ovmf/OVMF.fd"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(log_dir, name + ".qemu.log"), "wb"))
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

    def monitor(self, command, timeout=10):
        """Run one QEMU human-monitor command; return its output."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(self.monitor_path)
            buf = b""
            while not buf.endswith(b"(qemu) "):
                buf += s.recv(65536)
            s.sendall(command.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"(qemu) "):
                buf += s.recv(65536)
        return buf.decode(errors="replace")

    def _write(self, data):
        for b in data:  # a real terminal types; do not overrun the UART FIFO
            self.proc.stdin.write(bytes([b]))
            self.proc.stdin.flush()
            time.sleep(0.002)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BochsMachine(Machine):
    def __init__(self, name, log_dir, iso, cpus=1, megs=256, model="corei7_skylake_x",
                 extra_rc=()):
        """extra_rc: more bochsrc lines, written after the defaults (a later
        line sets again the options it names, e.g. `clock: sync=none, time0=1`)."""
        super().__init__(name, log_dir)
        self.dir = tempfile.mkdtemp(prefix="keel-bochs-", dir=log_dir)
        port = free_port()
        rc = os.path.join(self.dir, "bochsrc")
        with open(rc, "w") as f:
            f.write(f"""megs: {megs}
cpu: model={model}, count={cpus}, ips=100000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path={os.path.abspath(iso)}, status=inserted
boot: cdrom
com1: enabled=1, mode=socket-server, dev=localhost:{port}
display_library: rfb, options="timeout=0"
clock: sync=none
log: {os.path.join(log_dir, name + '.bochs.log')}
panic: action=fatal
mouse: enabled=0
magic_break: enabled=1
""")
            f.writelines(line + "\n" for line in extra_rc)
        dbg = os.path.join(self.dir, "dbg.rc")
        with open(dbg, "w") as f:
            f.write("c\nquit\n")
        self.proc = subprocess.Popen(
            ["bochs", "-q", "-f", rc, "-rc", dbg], stdin=subprocess.DEVNULL,
            stdout=open(os.path.join(log_dir, name + ".bochs.out"), "wb"),
            stderr=subprocess.STDOUT, cwd=self.dir)
        self.sock = None
        deadline = time.monotonic() + 30
        while self.sock is None:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                if time.monotonic() > deadline or not self.alive():
                    self.close()
                    raise BootError(f"{name}: Bochs did not open its serial port {port}")
                time.sleep(0.2)
        self.sock.setblocking(False)

    def _read(self, timeout):
        import select
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return b""
        try:
            return self.sock.recv(65536)
        except BlockingIOError:
            return b""

    def _write(self, data):
        for b in data:
            self.sock.sendall(bytes([b]))
            time.sleep(0.01)

    def close(self):
        if self.sock:
            self.sock.close()
        super().close()
        shutil.rmtree(self.dir, ignore_errors=True)
