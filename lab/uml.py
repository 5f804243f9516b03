"""User-Mode-Linux guests on one machine: real DRBD, behind the lab's interface.

Each guest is a `linux.uml` process (Debian's user-mode-linux: a 6.1 kernel
with drbd.ko 8.4) booted on the host's / as a read-only hostfs root, with
lab/uml_init.py as PID 1 (an overlay makes the guest writable without ever
writing the host). Guests get a private disk image (ubd0 = /dev/ubda) and an
eth0 tap on a bridge inside a network namespace the lab creates; addresses
(10.99.0.0/24) exist only there. pyha is installed into each guest (a copy
in its overlay) at /usr/lib/ocf/resource.d/pyha.

Commands reach a guest over TCP from a socket made inside the lab's network
namespace (setns in a short-lived thread): run() returns the command's exit
status, output and its wall time measured inside the guest.

    with UmlLab(2, files={"/etc/drbd.d/r0.res": RES}) as lab:
        lab.run("uml1", ["drbdadm", "up", "r0"])
        lab.power_off("uml1")
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence

from lab import umlhost
from lab.ops import LabError, Lifecycle

__all__ = ["UmlLab", "Guest", "Result", "LabError", "drbd_resource"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT = os.path.join(ROOT, "lab", "uml_init.py")
KERNEL = "/usr/bin/linux.uml"
PORT = 7000
CLONE_NEWNET = 0x40000000
SUBNET = "10.99.0"
_ids = itertools.count()


def drbd_resource(
    name: str, guests: Sequence[str], *, port: int = 7789, net: str = "protocol C;"
) -> str:
    """A DRBD resource on each guest's /dev/ubda (device /dev/drbd0), with a
    fast fixed resync rate (64 MiB sync in 1-2 s instead of 14 s)."""
    hosts = "".join(
        f"  on {g} {{ address {SUBNET}.{i + 1}:{port}; }}\n" for i, g in enumerate(guests)
    )
    disk = "disk { c-plan-ahead 0; resync-rate 100M; }"
    return (
        f"resource {name} {{\n  device /dev/drbd0; disk /dev/ubda; meta-disk internal;\n"
        f"  net {{ {net} }}\n  {disk}\n{hosts}}}\n"
    )


class Result:
    """What a command in a guest did."""

    __slots__ = ("rc", "stdout", "stderr", "seconds")

    def __init__(self, rc: int, stdout: str, stderr: str, seconds: float) -> None:
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, stdout={self.stdout!r}, stderr={self.stderr!r})"


class Guest:
    """One UML guest: its name, address, tap, directory and host process."""

    def __init__(self, name: str, index: int, lab_dir: str) -> None:
        self.name = name
        self.index = index
        self.address = f"{SUBNET}.{index + 1}"
        self.tap = f"tap{index}"
        self.dir = os.path.join(lab_dir, name)
        self.disk = os.path.join(lab_dir, f"{name}.img")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _sh(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(argv)}: rc {proc.returncode}: {proc.stderr.strip()}")
    return proc


class UmlLab(Lifecycle):
    """Guests uml1..umlN on a bridge in a private network namespace."""

    def __init__(
        self,
        size: int = 2,
        *,
        disk_mib: int = 64,
        mem_mib: int = 384,
        files: Mapping[str, str] | None = None,
        keep: bool = False,
        verdict: umlhost.Verdict | None = None,
    ) -> None:
        tag = f"{os.getpid()}-{next(_ids)}"
        self.netns = f"pyha-uml-{tag}"
        # The kernel's memory file lives in TMPDIR: /dev/shm keeps it off the disk.
        self.dir = tempfile.mkdtemp(prefix=f"pyha-uml-{tag}-", dir="/dev/shm")
        self.guests = [Guest(f"uml{i + 1}", i, self.dir) for i in range(size)]
        self.disk_mib = disk_mib
        self.mem_mib = mem_mib
        self.files = dict(files or {})
        self.keep = keep
        # How linux.uml runs on this host: the run's probe decides, unless a test says.
        self.given = verdict
        self.verdict = verdict or umlhost.Verdict("none", "not probed yet")

    def guest(self, name: str) -> Guest:
        for guest in self.guests:
            if guest.name == name:
                return guest
        raise KeyError(name)

    # -- bring-up -------------------------------------------------------------------

    def up(self, timeout: float = 60) -> None:
        """Probe the host (once per run), create the network, install pyha for
        the guests, boot them all."""
        self.verdict = self.given or umlhost.probe()
        if not self.verdict.usable:
            raise LabError(self.verdict.sentence)
        _sh(["ip", "netns", "add", self.netns])
        _sh(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        _sh(["ip", "-n", self.netns, "link", "add", "br0", "type", "bridge"])
        _sh(["ip", "-n", self.netns, "addr", "add", f"{SUBNET}.254/24", "dev", "br0"])
        _sh(["ip", "-n", self.netns, "link", "set", "br0", "up"])
        staging = os.path.join(self.dir, "files")
        _sh(
            [
                "make",
                "-s",
                "-C",
                ROOT,
                "install",
                f"DESTDIR={staging}",
                "PYTHON=/usr/bin/python3",
                "PYTHON_SITELIB=/usr/lib/pyha",
            ]
        )
        _sh(["/usr/bin/python3", "-m", "compileall", "-q", f"{staging}/usr/lib/pyha"])
        hosts = "127.0.0.1 localhost\n" + "".join(f"{g.address} {g.name}\n" for g in self.guests)
        self._stage(staging, {"/etc/hosts": hosts, **self.files})
        for guest in self.guests:
            os.makedirs(guest.dir)
            shutil.copytree(staging, os.path.join(guest.dir, "files"), symlinks=True)
            with open(guest.disk, "wb") as f:
                f.truncate(self.disk_mib << 20)
            self._boot(guest)
        for guest in self.guests:
            self.wait_ready(guest.name, timeout)

    @staticmethod
    def _stage(root: str, files: Mapping[str, str]) -> None:
        for path, text in files.items():
            target = os.path.join(root, path.lstrip("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(text)

    def put(self, name: str, path: str, text: str) -> None:
        """Write a file in a running guest."""
        self.run(name, ["/usr/bin/install", "-D", "-m", "0644", "/dev/stdin", path], input=text)

    def _boot(self, guest: Guest) -> None:
        _sh(["ip", "-n", self.netns, "tuntap", "add", "dev", guest.tap, "mode", "tap"])
        _sh(["ip", "-n", self.netns, "link", "set", guest.tap, "master", "br0", "up"])
        console = open(os.path.join(guest.dir, "console.log"), "ab")  # noqa: SIM115
        try:
            guest.proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    KERNEL,
                    f"umid={guest.name}",
                    f"uml_dir={self.dir}/umid",
                    f"mem={self.mem_mib}M",
                    "rootfstype=hostfs",
                    "rootflags=/",
                    "ro",
                    f"init={INIT}",
                    f"ubd0={guest.disk}",
                    f"eth0=tuntap,{guest.tap}",
                    "con=null",
                    "con0=fd:0,fd:1",
                    "quiet",
                    f"pyha_name={guest.name}",
                    f"pyha_ip={guest.address}/24",
                    f"pyha_host={guest.dir}",
                    *self._kernel_args(guest),
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                env={
                    "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                    "TMPDIR": "/dev/shm",
                    **self.verdict.env,
                },
                start_new_session=True,
            )
        finally:
            console.close()

    def _kernel_args(self, guest: Guest) -> list[str]:
        """More key=value kernel parameters for a guest (a subclass's hook)."""
        return []

    def boot(self, name: str, timeout: float = 60) -> None:
        """Power a guest that is off on again (same disk)."""
        guest = self.guest(name)
        if guest.alive:
            raise LabError(f"{name} is running")
        _sh(["ip", "-n", self.netns, "link", "del", guest.tap], check=False)
        self._boot(guest)
        self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        guest = self.guest(name)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not guest.alive:
                raise LabError(f"{name} exited during boot; see {guest.dir}/console.log")
            try:
                self._connect(guest, 1.0).close()
                return
            except OSError:
                time.sleep(0.1)
        raise LabError(f"{name} not ready after {timeout}s; see {guest.dir}/console.log")

    # -- commands -------------------------------------------------------------------

    def _connect(self, guest: Guest, timeout: float) -> socket.socket:
        """A TCP connection to the guest, made from inside the lab's netns."""
        box: dict[str, object] = {}

        def work() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{self.netns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    box["error"] = OSError(ctypes.get_errno(), "setns")
                    return
            finally:
                os.close(fd)
            try:
                box["sock"] = socket.create_connection((guest.address, PORT), timeout=timeout)
            except OSError as err:
                box["error"] = err

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["sock"]  # type: ignore[return-value]

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        input: str = "",
        timeout: float = 120,
        check: bool = False,
    ) -> Result:
        """Run argv in guest name; its Result (check: raise unless rc 0)."""
        guest = self.guest(name)
        request = {"argv": list(argv), "env": dict(env or {}), "input": input, "timeout": timeout}
        sock = self._connect(guest, 10)
        try:
            sock.settimeout(timeout + 10)
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise LabError(f"{name}: connection closed running {argv}")
                data += chunk
        finally:
            sock.close()
        answer = json.loads(data)
        result = Result(answer["rc"], answer["stdout"], answer["stderr"], answer["seconds"])
        if check and result.rc != 0:
            raise LabError(
                f"{name}: {' '.join(argv)}: rc {result.rc}: "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    # -- failures -------------------------------------------------------------------

    def power_off(self, name: str) -> float:
        """Hard power-off: SIGKILL every host process of the guest. Returns the
        monotonic time of the kill."""
        guest = self.guest(name)
        when = time.monotonic()
        if guest.proc is not None:
            try:
                os.killpg(guest.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            guest.proc.wait(timeout=30)
        return when

    def cut_link(self, name: str) -> None:
        """Take the guest's link down (the guest keeps running)."""
        _sh(["ip", "-n", self.netns, "link", "set", self.guest(name).tap, "down"])

    def restore_link(self, name: str) -> None:
        _sh(["ip", "-n", self.netns, "link", "set", self.guest(name).tap, "up"])

    def collect_logs(self, dest: str) -> None:
        """Copy every guest's console log into dest."""
        os.makedirs(dest, exist_ok=True)
        for guest in self.guests:
            src = os.path.join(guest.dir, "console.log")
            if os.path.exists(src):
                shutil.copy(src, os.path.join(dest, f"{guest.name}-console.log"))

    # -- teardown -------------------------------------------------------------------

    def down(self) -> None:
        """Power every guest off, delete the namespace and (unless keep) the files."""
        for guest in self.guests:
            if guest.alive:
                self.power_off(guest.name)
        _sh(["ip", "netns", "del", self.netns], check=False)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
