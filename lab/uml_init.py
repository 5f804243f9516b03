#!/usr/bin/python3
"""PID 1 of a lab User-Mode-Linux guest (lab.uml).

The kernel boots with the host's / as a read-only hostfs root. This init
never writes the host: it builds an overlay (lower: the host's /, upper: a
tmpfs of the guest), mounts fresh proc/sys/dev/run/tmp inside it, binds the
UML kernel modules where modprobe looks, mounts the guest's own lab
directory read-write at /host, chroots into the overlay, copies the files the
lab prepared (/host/files) over it, configures eth0 and serves commands.

Commands: one JSON object per TCP connection on port 7000 of the guest's
address, {"argv": [...], "env": {...}, "timeout": s, "input": "..."};
answer {"rc": n, "stdout": "...", "stderr": "...", "seconds": t} where t is
the command's wall time measured inside the guest. SIGTERM (or
{"argv": ["__halt__"]}) powers the guest off.

Kernel command line parameters read here (init's environment): pyha_name, pyha_ip (CIDR),
pyha_host (the guest's lab directory on the host), pyha_hostfs (more host directories).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

PORT = 7000
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C", "TMPDIR": "/tmp"}
ROOT = "/mnt/root"
LOCK = threading.Lock()
OURS: set[int] = set()


def cmdline() -> dict[str, str]:
    """The pyha_* kernel parameters (the kernel hands unknown key=value
    parameters to init as its environment; /proc is not mounted yet)."""
    return {k: v for k, v in os.environ.items() if k.startswith("pyha_")}


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, env=ENV, stdin=subprocess.DEVNULL)


def mount(fstype: str, source: str, target: str, options: str = "") -> None:
    os.makedirs(target, exist_ok=True)
    sh("mount", "-t", fstype, *(["-o", options] if options else []), source, target)


def say(text: str) -> None:
    sys.stdout.write(f"pyha-init: {text}\n")
    sys.stdout.flush()


def build_root(host_dir: str) -> None:
    mount("proc", "proc", "/proc")
    mount("sysfs", "sys", "/sys")
    if not os.path.ismount("/dev"):  # the kernel may have mounted it already
        mount("devtmpfs", "dev", "/dev")
    mount("tmpfs", "guest", "/mnt", "mode=755")
    release = os.uname().release
    sh("insmod", f"/usr/lib/uml/modules/{release}/kernel/fs/overlayfs/overlay.ko")
    for sub in ("upper", "work", "root"):
        os.makedirs(f"/mnt/{sub}")
    mount("overlay", "overlay", ROOT, "lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work")
    mount("proc", "proc", f"{ROOT}/proc")
    mount("sysfs", "sys", f"{ROOT}/sys")
    mount("devtmpfs", "dev", f"{ROOT}/dev")
    mount("devpts", "devpts", f"{ROOT}/dev/pts")
    for target, mode in (("run", "755"), ("tmp", "1777"), ("dev/shm", "1777")):
        mount("tmpfs", "guest", f"{ROOT}/{target}", f"mode={mode}")
    os.makedirs(f"{ROOT}/usr/lib/modules", exist_ok=True)
    sh("mount", "--bind", "/usr/lib/uml/modules", f"{ROOT}/usr/lib/modules")
    mount("hostfs", "hostfs", f"{ROOT}/host", host_dir)
    # pyha_hostfs=HOSTDIR:GUESTDIR,...: more host directories, read-write (fencing
    # status files, logs that must outlive a hard power-off).
    extra = os.environ.get("pyha_hostfs", "")  # noqa: SIM112 - a kernel parameter's name
    for pair in filter(None, extra.split(",")):
        source, target = pair.split(":", 1)
        mount("hostfs", "hostfs", f"{ROOT}{target}", source)
    os.chroot(ROOT)
    os.chdir("/")
    # A host-side change must not pull these away mid-run: copy them up.
    for name in ("passwd", "group", "shadow", "gshadow", "nsswitch.conf", "hosts"):
        path = f"/etc/{name}"
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            os.unlink(path)  # an overlay whiteout, not a write to the host
            with open(path, "wb") as f:
                f.write(data)
    for path in ("/run/lock", "/run/resource-agents", "/var/run"):
        os.makedirs(path, exist_ok=True)
    files = "/host/files"
    if os.path.isdir(files):
        copy_over(files, "/")


def copy_over(source: str, target: str) -> None:
    """Copy the tree source onto target, replacing what is there (the guest's root is an
    overlay: a replaced file is a copy-up, never a write to the host). Links are copied
    as links; a host that has pyha installed already has some of them."""
    for directory, subdirs, names in os.walk(source):
        here = os.path.normpath(os.path.join(target, os.path.relpath(directory, source)))
        os.makedirs(here, exist_ok=True)
        linked_dirs = [d for d in subdirs if os.path.islink(os.path.join(directory, d))]
        for name in [*names, *linked_dirs]:
            src, dst = os.path.join(directory, name), os.path.join(here, name)
            if os.path.islink(dst) or (os.path.lexists(dst) and not os.path.isdir(dst)):
                os.unlink(dst)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)


def network(name: str, address: str) -> None:
    sh("hostname", name)
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "addr", "add", address, "dev", "eth0")
    sh("ip", "link", "set", "eth0", "up")


def handle(conn: socket.socket) -> None:
    with conn:
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        req = json.loads(data)
        argv = req["argv"]
        if argv == ["__halt__"]:
            conn.sendall(b'{"rc": 0}\n')
            halt()
        env = dict(ENV)
        env.update(req.get("env") or {})
        start = time.monotonic()
        try:
            with LOCK:
                proc = subprocess.Popen(
                    argv,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    errors="replace",
                    cwd=req.get("cwd", "/"),
                    start_new_session=True,
                )
                OURS.add(proc.pid)
        except OSError as err:
            answer = {"rc": 127, "stdout": "", "stderr": str(err)}
        else:
            try:
                limit = req.get("timeout", 120)
                out, err_text = proc.communicate(req.get("input", ""), timeout=limit)
                answer = {"rc": proc.returncode, "stdout": out, "stderr": err_text}
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err_text = proc.communicate()
                answer = {"rc": -9, "stdout": out, "stderr": err_text + "\n(timeout)"}
            finally:
                with LOCK:
                    OURS.discard(proc.pid)
        answer["seconds"] = time.monotonic() - start
        conn.sendall(json.dumps(answer).encode() + b"\n")


def serve(address: str) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address.split("/", maxsplit=1)[0], PORT))
    server.listen(16)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def halt() -> None:
    import ctypes

    say("halting")
    os.sync()
    ctypes.CDLL(None, use_errno=True).reboot(0x4321FEDC)  # LINUX_REBOOT_CMD_POWER_OFF


def reap() -> None:
    """Reap orphans (zombies that are not a command's own child, which its
    thread waits for)."""
    while True:
        time.sleep(0.5)
        children = []
        for task in os.listdir("/proc/1/task"):
            try:
                with open(f"/proc/1/task/{task}/children") as f:
                    children += [int(p) for p in f.read().split()]
            except OSError:
                continue
        with LOCK:
            for pid in children:
                if pid in OURS:
                    continue
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def main() -> None:
    args = cmdline()
    build_root(args["pyha_host"])
    network(args["pyha_name"], args["pyha_ip"])
    signal.signal(signal.SIGTERM, lambda *_: halt())
    threading.Thread(target=serve, args=(args["pyha_ip"],), daemon=True).start()
    say("ready")
    reap()


if __name__ == "__main__":
    try:
        main()
    except BaseException as err:  # noqa: BLE001 - PID 1 must say why before the panic
        say(f"failed: {type(err).__name__}: {err}")
        time.sleep(1)
        raise
