"""Filesystem-py: mount and unmount a file system for the cluster (OCF 1.1).

A drop-in replacement for ocf:heartbeat:Filesystem: same parameters, defaults
and exit codes, without its defects: the device on the mount point is
verified (a different one gives 1 and is never unmounted), only processes
holding this very mount are signalled, nothing blocks on a hung server, and
stop succeeds only when the directory is really unmounted.
"""

from __future__ import annotations

import os

from ocflib.agent import Action, Agent, Context
from ocflib.errors import (
    CommandFailed,
    CommandNotFound,
    CommandTimeout,
    ConfigError,
    GenericError,
    NotInstalledError,
)
from ocflib.exitcodes import OCF
from ocflib.mounts import Mount, mounts_at, mounts_below
from ocflib.params import (
    NAME_CHARS,
    Boolean,
    Config,
    Fallback,
    Kind,
    Param,
    Path,
    Problem,
    Seconds,
    Select,
    String,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ocflib.holders import FileSystem, Holder

VERSION = "1.1"

NETWORK_FS = frozenset(
    ("nfs", "nfs4", "efs", "smbfs", "cifs", "glusterfs", "ceph", "lustre", "cvfs", "rozofs")
)
# File systems without a block device behind them (set_blockdevice_var).
NOT_BLOCK_FS = NETWORK_FS | {"none", "tmpfs", "overlay", "overlayfs", "zfs"}
# run_fsck=auto never checks these (is_fsck_needed).
NO_FSCK = frozenset(
    (
        "ext4",
        "ext4dev",
        "ext3",
        "reiserfs",
        "reiser4",
        "nss",
        "xfs",
        "jfs",
        "vfat",
        "fat",
        "nfs4",
        "nfs",
        "efs",
        "cifs",
        "smbfs",
        "ocfs2",
        "gfs2",
        "none",
        "lustre",
        "glusterfs",
        "ceph",
        "tmpfs",
        "overlay",
        "overlayfs",
        "rozofs",
        "zfs",
        "cvfs",
        "btrfs",
    )
)
LOCAL_ONLY_FS = frozenset(("ext3", "ext4", "ext4dev", "reiserfs", "reiser4", "xfs", "jfs"))
CLUSTER_SAFE_FS = frozenset(("gfs2", "ocfs2")) | NOT_BLOCK_FS
SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15}

# --- 1. Parameters ------------------------------------------------------------------


class ForceUnmount(Kind[str]):
    """true (every spelling of a boolean), false, or safe; anything else is false
    with a warning (the shell agent's ocf_is_true)."""

    def parse(self, text: str) -> str:
        word = text.strip().lower()
        if word == "safe":
            return "safe"
        try:
            return "true" if Boolean().parse(word) else "false"
        except Fallback as err:
            raise Fallback(str(err), "false") from None


class Signals(Kind["tuple[int, ...]"]):
    """A comma-separated list of signal names or numbers (TERM,HUP or 15)."""

    def parse(self, text: str) -> tuple[int, ...]:
        out = []
        for raw in text.replace(" ", ",").split(","):
            word = raw.strip().upper()
            word = word[3:] if word.startswith("SIG") else word
            if not word:
                continue
            if word.isdigit() and 0 < int(word) < 65:
                out.append(int(word))
            elif word in SIGNALS:
                out.append(SIGNALS[word])
            else:
                raise ValueError(f"has an unknown signal {word!r}")
        if not out:
            raise ValueError("names no signal")
        return tuple(out)


DEVICE = Param(
    "device",
    String(max_len=4096),
    required=True,
    default="",
    shortdesc="block device",
    longdesc="The name of block device for the filesystem, or -U, -L options for "
    "mount (-U uuid / -L label, --uuid=, --label=, UUID=, LABEL=), or NFS device "
    "(host:/path), or CIFS share (//host/share), or the source directory of a bind mount.",
)
DIRECTORY = Param(
    "directory",
    Path(),
    required=True,
    default="",
    shortdesc="mount point",
    longdesc="The mount point for the filesystem (created if missing). Never /.",
)
FSTYPE = Param(
    "fstype",
    String(max_len=64, allowed=NAME_CHARS),
    required=True,
    enforced=False,
    default="",
    shortdesc="filesystem type",
    longdesc="The type of filesystem to be mounted; none for a bind mount. Empty: mount "
    "finds the type itself (as with the shell agent, which declares it required but "
    "works without it).",
)
OPTIONS = Param(
    "options",
    String(max_len=4096, forbid="\0\n\t "),
    default="",
    shortdesc="options",
    longdesc="Any extra options to be given as -o options to mount. For bind mounts, "
    'add "bind" here and set fstype to "none" (bind,ro makes a read-only bind).',
)
STATUSFILE_PREFIX = Param(
    "statusfile_prefix",
    String(max_len=255),
    default=".Filesystem_status/",
    shortdesc="status file prefix",
    longdesc="The prefix of the status file written and read at monitor depth 20, "
    "relative to the mount point (it cannot leave it).",
)
RUN_FSCK = Param(
    "run_fsck",
    Select("auto", "force", "no", fallback="auto"),
    default="auto",
    shortdesc="run_fsck",
    longdesc='If run_fsck is "auto" fsck runs before mounting only for file systems '
    'that need it (not journaling or network ones); "force" always, "no" never.',
)
FAST_STOP = Param(
    "fast_stop",
    Boolean(),
    default="no",
    shortdesc="fast stop",
    longdesc="Give up unmounting a busy file system after 6 seconds per mount instead of "
    "using the whole stop timeout.",
)
FORCE_CLONES = Param(
    "force_clones",
    Boolean(),
    default="false",
    shortdesc="allow running as a clone, regardless of filesystem type",
    longdesc="Allow cloning a local file system type (ext3/4, xfs, jfs, reiserfs) "
    "mounted read-write on several nodes: only with something else guaranteeing safety.",
)
FORCE_UNMOUNT = Param(
    "force_unmount",
    ForceUnmount(),
    default="true",
    shortdesc="Kill processes before unmount",
    longdesc="Stop the processes that keep the mount busy: true or safe (the same "
    "here: only processes using this very mount are signalled, found through /proc, "
    "never with fuser), or false (never signal; unmount may then fail).",
)
TERM_SIGNALS = Param(
    "term_signals",
    Signals(),
    default="TERM",
    shortdesc="signals to stop busy processes gracefully",
    longdesc="Signals (comma separated) sent first to processes holding the mount, "
    "during the first half of the unmount budget.",
)
KILL_SIGNALS = Param(
    "kill_signals",
    Signals(),
    default="KILL",
    shortdesc="signals to kill busy processes",
    longdesc="Signals sent to processes still holding the mount in the second half.",
)
SIGNAL_DELAY = Param(
    "signal_delay",
    Seconds(max=60.0),
    default="1",
    shortdesc="seconds between unmount attempts",
    longdesc="How long to wait after signalling before trying to unmount again "
    "(seconds, fractions allowed).",
)

PARAMS: Sequence[Param[object]] = (
    DEVICE,
    DIRECTORY,
    FSTYPE,
    OPTIONS,
    STATUSFILE_PREFIX,
    RUN_FSCK,
    FAST_STOP,
    FORCE_CLONES,
    FORCE_UNMOUNT,
    TERM_SIGNALS,
    KILL_SIGNALS,
    SIGNAL_DELAY,
)

# --- 2. What the parameters say ---------------------------------------------------------


class Target:
    """The resolved resource: source, how to verify it, and the mount point."""

    __slots__ = ("kind", "source", "device_tag", "directory", "fstype", "options")

    def __init__(
        self,
        kind: str,
        source: str,
        device_tag: str | None,
        directory: str,
        fstype: str,
        options: tuple[str, ...],
    ) -> None:
        self.kind = kind  # block | tag (UUID/LABEL...) | bind | network | other | loop
        self.source = source
        self.device_tag = device_tag
        self.directory = directory
        self.fstype = fstype
        self.options = options

    @property
    def is_block(self) -> bool:
        return self.kind in ("block", "tag")


def split_device(device: str) -> tuple[str | None, str]:
    """('UUID', 'x') for -U x / --uuid=x / UUID=x (and labels); (None, device) otherwise."""
    device = device.strip()
    for short, long, tag in (("-U", "--uuid", "UUID"), ("-L", "--label", "LABEL")):
        for prefix in (long + "=", long + " ", short):
            if device.startswith(prefix):
                return tag, device[len(prefix) :].lstrip(" =")
    for tag in ("UUID", "LABEL", "PARTUUID", "PARTLABEL"):
        if device.startswith(tag + "="):
            return tag, device[len(tag) + 1 :]
    return None, device


def mount_point(cfg: Config, mounts: list[Mount]) -> str:
    """The directory without trailing slashes, canonical (symlinks resolved).

    The parent is resolved; the last component only when nothing is mounted
    there: resolving a mount point stats the mounted file system's root,
    which hangs when that is a dead NFS server.
    """
    directory = os.path.normpath(cfg[DIRECTORY].rstrip("/") or "/")
    parent, name = os.path.split(directory)
    candidate = os.path.join(os.path.realpath(parent), name)
    if any(m.target == candidate for m in mounts):
        return candidate
    if os.path.lexists(candidate):
        return os.path.realpath(candidate)
    return candidate


def target(cfg: Config, mounts: list[Mount]) -> Target:
    """What the parameters name; mounts: the mount table, if already read."""
    fstype = (cfg.get(FSTYPE) or "").strip()
    options = tuple(o for o in (cfg.get(OPTIONS) or "").split(",") if o)
    tag, source = split_device(cfg[DEVICE])
    directory = mount_point(cfg, mounts)
    if "bind" in options or "rbind" in options:
        kind = "bind"
    elif fstype in NETWORK_FS:
        kind = "network"
    elif "loop" in options:
        kind = "loop"
    elif tag is not None:
        kind = "tag"
    elif fstype in NOT_BLOCK_FS or os.path.isdir(source):
        kind = "other"
    else:
        kind = "block"
    return Target(kind, source, tag, directory, fstype, options)


def status_file(cfg: Config, ctx: Context) -> tuple[list[str], str]:
    """(prefix directories, file name) of the depth-20 status file, relative to
    the mount point: <prefix><instance>[_<clone>]_<node>, as Filesystem names it."""
    prefix = cfg.get(STATUSFILE_PREFIX) or ".Filesystem_status/"
    parts = prefix.split("/")
    dirs, stem = [p for p in parts[:-1] if p], parts[-1]
    suffix = ctx.env.instance
    if ctx.env.clone is not None:
        suffix += f"_{ctx.env.clone}"
    suffix += f"_{os.uname().nodename}"
    return dirs, (stem + suffix).replace("/", "_")


# --- 3. Validation ------------------------------------------------------------------------


def check_config(cfg: Config, ctx: Context) -> list[Problem]:
    problems: list[Problem] = []
    device = cfg[DEVICE]
    if device.startswith("-") and split_device(device)[0] is None:
        problems.append(
            Problem(
                f"device [{device}] must not begin with '-' (mount and fsck "
                "would read it as an option); -U/-L/--uuid=/--label= name "
                "a device by UUID or label"
            )
        )
    if cfg[DIRECTORY].rstrip("/") == "" or os.path.realpath(cfg[DIRECTORY]) == "/":
        problems.append(
            Problem(
                "directory must not be / (the root file system is never "
                "mounted or unmounted by a cluster)"
            )
        )
    prefix = cfg.get(STATUSFILE_PREFIX) or ""
    if prefix.startswith("/") or ".." in prefix.split("/") or "\0" in prefix:
        problems.append(
            Problem(
                f"statusfile_prefix [{prefix}] must stay inside the mount point (relative, no '..')"
            )
        )
    return problems


def check_local(cfg: Config, ctx: Context) -> list[Problem]:
    problems: list[Problem] = []
    for program in ("mount", "umount"):
        if ctx.runner.which(program) is None:
            problems.append(
                Problem(f"Setup problem: couldn't find command: {program}", OCF.ERR_INSTALLED)
            )
    if ctx.action in ("start", "stop") and ctx.host.euid() != 0:
        problems.append(Problem(f"You must be root for {ctx.action} operation.", OCF.ERR_PERM))
    return problems


# --- 4. The mount table -----------------------------------------------------------------


def resolve_tag(ctx: Context, t: Target) -> str | None:
    """The block device behind UUID=/LABEL=... (blkid), or None."""
    result = ctx.runner.run(
        ["blkid", "-t", f"{t.device_tag}={t.source}", "-o", "device"], ok=None, timeout=10
    )
    lines = result.stdout.split()
    return lines[0] if result.returncode == 0 and lines else None


def is_ours(ctx: Context, t: Target, m: Mount, mounts: list[Mount]) -> bool:
    """Does mount m carry our file system?"""
    if t.kind in ("block", "tag"):
        path = t.source if t.kind == "block" else resolve_tag(ctx, t)
        number = ctx.mounts.device_number(path) if path else None
        return number is not None and number == m.dev
    if t.kind == "bind":
        return is_bind_of(ctx, t.source, m, mounts)
    if t.kind == "network":
        return m.source.rstrip("/") == t.source.rstrip("/")
    if t.kind == "loop":
        return _loop_backing(m) == os.path.realpath(t.source)
    return m.source == t.source and (not t.fstype or m.fstype == t.fstype)


def bind_origin(source: str, mounts: list[Mount]) -> tuple[int, int, str] | None:
    """(major, minor, root) that a bind mount of source shows in the mount table,
    worked out from the mount table alone: the mount the source path lies on
    and the path inside it."""
    path = os.path.normpath(source)
    best = None
    for m in mounts:
        under = path == m.target or path.startswith(m.target.rstrip("/") + "/")
        if under and (best is None or len(m.target) >= len(best.target)):
            best = m
    if best is None:
        return None
    rel = os.path.relpath(path, best.target)
    root = best.root if rel == "." else os.path.normpath(os.path.join(best.root, rel))
    return best.major, best.minor, root


def is_bind_of(ctx: Context, source: str, m: Mount, mounts: list[Mount]) -> bool:
    """Is m a bind mount of source? Decided from the mount table (nothing is
    stat()ed: a dead NFS server behind the source or the mount point cannot hang
    monitor or stop). Only when the source's path has symbolic links in it does
    the comparison of the two directories' identities run, in a child that the
    deadline bounds."""
    origin = bind_origin(source, [x for x in mounts if x.mount_id != m.mount_id])
    if origin == (m.major, m.minor, m.root):
        return True

    def same() -> int:
        try:
            a, b = os.stat(source), os.stat(m.target)
        except OSError:
            return 1
        return 0 if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino) else 1

    return in_child(ctx, same) == 0


def _loop_backing(m: Mount) -> str | None:
    try:
        with open(f"/sys/dev/block/{m.major}:{m.minor}/loop/backing_file") as f:
            return f.read().strip()
    except OSError:
        return None


class MountPointState:
    """What the mount table says about our mount point."""

    __slots__ = ("ours", "foreign", "below", "mounts")

    def __init__(
        self, ours: list[Mount], foreign: list[Mount], below: list[Mount], mounts: list[Mount]
    ) -> None:
        self.ours = ours
        self.foreign = foreign
        self.below = below
        self.mounts = mounts

    @property
    def visible(self) -> Mount | None:
        """The top mount on the mount point."""
        stack = self.ours + self.foreign
        return max(stack, key=lambda m: m.mount_id) if stack else None


def examine(ctx: Context, t: Target, mounts: list[Mount] | None = None) -> MountPointState:
    mounts = ctx.mounts.table() if mounts is None else mounts
    at = mounts_at(mounts, t.directory)
    ours = [m for m in at if is_ours(ctx, t, m, mounts)]
    foreign = [m for m in at if m not in ours]
    return MountPointState(ours, foreign, mounts_below(mounts, t.directory), mounts)


def describe(m: Mount) -> str:
    return f"{m.source} ({m.fstype})"


# --- 5. Actions ------------------------------------------------------------------------------


def fstype_supported(ctx: Context, fstype: str) -> None:
    """The kernel knows fstype, loading its module if needed; else rc 5."""
    if not fstype or fstype == "none":
        return
    support = (
        "fuse"
        if fstype.startswith("fuse.") or fstype in ("glusterfs", "rozofs")
        else ("nfs4" if fstype == "efs" else fstype)
    )
    if ctx.mounts.supports(support):
        return
    if ctx.runner.which("modprobe") is not None:
        ctx.runner.run(["modprobe", support], ok=None, timeout=30)
        if ctx.mounts.supports(support):
            return
    raise NotInstalledError(
        f"Couldn't find filesystem {fstype} in /proc/filesystems "
        "and failed to load its kernel module"
    )


def wait_for_device(ctx: Context, path: str) -> bool:
    """A block device node may appear a moment late (udev); wait a little."""
    return ctx.deadline.wait_until(
        lambda: ctx.mounts.device_number(path) is not None, within=5.0, keep=1.0
    )


def fsck_needed(cfg: Config, fstype: str) -> bool:
    mode = cfg[RUN_FSCK]
    if mode == "force":
        return True
    if mode == "no":
        return False
    return fstype not in NO_FSCK


def start(cfg: Config, ctx: Context) -> OCF:
    mounts = ctx.mounts.table()
    t = target(cfg, mounts)
    if ctx.env.is_clone:
        check_clone_safety(cfg, ctx, t)
    state = examine(ctx, t, mounts)
    if state.ours:
        ctx.log.info("Filesystem %s is already mounted.", t.directory)
        return OCF.SUCCESS
    if state.foreign:
        raise GenericError(
            f"{describe(state.foreign[-1])} is already mounted on {t.directory}; "
            "refusing to mount over it"
        )
    if state.below:
        raise ConfigError(
            f"There is one or more mounts mounted under {t.directory}: "
            f"{', '.join(m.target for m in state.below[:3])}"
        )
    fstype_supported(ctx, t.fstype)
    device = t.source
    if t.kind == "tag":
        resolved = resolve_tag(ctx, t)
        if resolved is None:
            raise NotInstalledError(
                f"Couldn't find device [{t.device_tag}={t.source}]: "
                "no block device carries it (blkid)"
            )
        device = resolved
    if t.kind in ("block", "tag"):
        if not wait_for_device(ctx, device):
            raise NotInstalledError(
                f"Couldn't find device [{device}]. Expected /dev/??? to "
                "exist (and be a block device)"
            )
        if fsck_needed(cfg, t.fstype):
            argv = ["fsck"] + (["-t", t.fstype] if t.fstype else []) + ["-p", device]
            ctx.log.info("Starting filesystem check on %s", device)
            result = ctx.runner.run(argv, ok=None)
            if result.returncode >= 4:
                raise GenericError(
                    f"Couldn't successfully fsck filesystem for {device} "
                    f"(fsck returned {result.returncode})"
                )
    elif t.kind == "bind" and not os.path.isdir(t.source) and not os.path.exists(t.source):
        raise NotInstalledError(f"bind source [{t.source}] does not exist")
    if not os.path.isdir(t.directory):
        try:
            os.makedirs(t.directory, mode=0o755, exist_ok=True)
        except OSError as err:
            raise NotInstalledError(
                f"Couldn't create the mount point [{t.directory}]: {err.strerror}"
            ) from err
    argv = ["mount"]
    if t.fstype and t.fstype != "none":
        argv += ["-t", t.fstype]
    if t.options:
        argv += ["-o", ",".join(t.options)]
    argv += ["--", device, t.directory]
    try:
        ctx.runner.run(argv)
    except CommandFailed as err:
        raise GenericError(
            f"Couldn't mount device [{device}] as {t.directory}: {err.reason}"
        ) from err
    state = examine(ctx, target(cfg, ctx.mounts.table()))  # re-resolved: the mount point may be new
    if not state.ours:
        raise GenericError(
            f"mount of {device} on {t.directory} returned success but the "
            "mount table does not show it"
        )
    return OCF.SUCCESS


def check_clone_safety(cfg: Config, ctx: Context, t: Target) -> None:
    """A local file system mounted read-write on several nodes corrupts it."""
    if t.fstype in LOCAL_ONLY_FS:
        if cfg[FORCE_CLONES] or "ro" in t.options:
            ctx.log.warning(
                "Cloning %s on %s: force_clones or ro is set, so be it", t.fstype, t.source
            )
            return
        raise ConfigError(
            f"DANGER! {t.fstype} on {t.source} is NOT cluster-aware! "
            "(set force_clones=true only if something else makes it safe)"
        )


def monitor(cfg: Config, ctx: Context) -> OCF:
    mounts = ctx.mounts.table()
    t = target(cfg, mounts)
    state = examine(ctx, t, mounts)
    if not state.ours:
        if state.foreign:
            raise GenericError(
                f"{describe(state.foreign[-1])} is mounted on {t.directory}, not {cfg[DEVICE]}"
            )
        return OCF.NOT_RUNNING
    visible = state.visible
    if visible is not None and visible not in state.ours:
        raise GenericError(
            f"{describe(visible)} is mounted over {t.directory}, hiding {cfg[DEVICE]}"
        )
    level = ctx.env.effective_check_level((0, 10, 20))
    if level >= 10 and state.ours:
        if level == 10:
            read_device(ctx, t, state.ours[-1])
        else:
            write_status_file(cfg, ctx, t)
    return OCF.SUCCESS


def read_device(ctx: Context, t: Target, m: Mount) -> None:
    """Depth 10: read the first 4 KiB of the device with direct I/O, in a child the
    deadline bounds; a short read (a vanished or shrunken device) is a failure."""
    if not t.is_block:
        ctx.log.warning("%s is not a block device, monitor 10 is noop", t.source)
        return
    device = t.source if t.kind == "block" else (resolve_tag(ctx, t) or t.source)
    code = in_child(ctx, lambda: _read_io(device))
    if code is None:
        raise GenericError(f"reading {device} did not complete in time: the device hangs")
    if code != 0:
        what = (
            "short read: the device is gone or empty"
            if code == 71
            else (_STATUS_ERRORS.get(code) or os.strerror(code))
        )
        raise GenericError(f"Failed to read device {device}: {what}")


def _read_io(device: str) -> int:
    import errno
    import mmap

    try:
        fd = os.open(device, os.O_RDONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, 4096)
        return 0 if os.preadv(fd, [buf], 0) == 4096 else 71
    except OSError as err:
        return err.errno if err.errno and err.errno < 64 else errno.EIO


def in_child(ctx: Context, work: Callable[[], int]) -> int | None:
    """Run work() in a forked child; its exit code, or None if the deadline passed
    first (the child, maybe stuck in uninterruptible I/O, is killed and left)."""
    procs = ctx.procs
    pid = procs.fork(work)
    code: list[int] = []

    def finished() -> bool:
        got = procs.reap(pid)
        if got is not None:
            code.append(got)
        return bool(code)

    if ctx.deadline.wait_until(finished, step=0.01, first=0.001) or finished():
        return code[0]
    procs.kill_child(pid)  # maybe stuck in uninterruptible I/O: killed and left
    return None


def write_status_file(cfg: Config, ctx: Context, t: Target) -> None:
    """Depth 20: write the status file with synchronous (direct where possible)
    I/O, then read it back, in a child process the deadline bounds: a read-only
    or hung file system fails with a reason instead of hanging the monitor."""
    dirs, name = status_file(cfg, ctx)
    content = (ctx.env.instance + "\n").encode()
    code = in_child(ctx, lambda: _status_io(t.directory, dirs, name, content, t.is_block))
    if code is None:
        raise GenericError(
            f"status file I/O on {t.directory} did not complete in time: the file system hangs"
        )
    if code != 0:
        what = _STATUS_ERRORS.get(code) or os.strerror(code)
        path = "/".join([t.directory, *dirs, name])
        raise GenericError(f"Failed to write status file {path}: {what}")


_STATUS_ERRORS = {
    30: "read-only file system",
    28: "no space left on device",
    5: "I/O error",
    40: "a symbolic link or foreign file is in the way",
    71: "cannot read it back",
    72: "what was read back differs",
}


def _status_io(directory: str, dirs: list[str], name: str, content: bytes, direct: bool) -> int:
    """The depth-20 I/O, in the forked child. Returns an exit code (errno or 40/71/72).

    Every path component is opened relative to the mount point without
    following symlinks: the status file can never be outside the mount or
    a link planted to make root overwrite another file.
    """
    import errno
    import mmap
    import stat

    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        for part in dirs:
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_SYNC
        buf = mmap.mmap(-1, 4096)
        buf.write(content.ljust(4096, b"\0"))
        try:
            file_fd = os.open(name, flags | (os.O_DIRECT if direct else 0), 0o644, dir_fd=fd)
        except OSError as err:
            if err.errno != errno.EINVAL:
                raise
            file_fd = os.open(name, flags, 0o644, dir_fd=fd)
        info = os.fstat(file_fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            return 40
        try:
            os.pwrite(file_fd, buf, 0)
        except OSError as err:
            if err.errno != errno.EINVAL:
                raise
            os.pwrite(file_fd, bytes(buf), 0)
        os.fsync(file_fd)
        back = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT requires
        if os.preadv(file_fd, [back], 0) <= 0:
            return 71
        return 0 if back[: len(content)] == content else 72
    except OSError as err:
        if err.errno == errno.ELOOP:
            return 40
        return err.errno if err.errno and err.errno < 64 else 5


def stop(cfg: Config, ctx: Context) -> OCF:
    """Unmount submounts, other mounts of the same device, then the mount point;
    succeed only when the directory is really unmounted."""

    mounts = ctx.mounts.table()
    t = target(cfg, mounts)
    state = examine(ctx, t, mounts)
    if not state.ours:
        if state.foreign:
            ctx.log.warning(
                "%s is mounted on %s, not %s: leaving it alone",
                describe(state.foreign[-1]),
                t.directory,
                cfg[DEVICE],
            )
        return OCF.SUCCESS
    top = state.visible
    if top is not None and top not in state.ours:
        raise GenericError(
            f"{describe(top)} is mounted over {t.directory}; it is not ours, "
            f"so {cfg[DEVICE]} underneath cannot be unmounted"
        )
    if ctx.env.check_level >= 20:
        dirs, name = status_file(cfg, ctx)
        try:
            os.unlink(os.path.join(t.directory, *dirs, name))
        except OSError:
            pass
    ours_dev = state.ours[-1].dev if t.is_block else None
    targets = [m.target for m in state.below]
    if ours_dev is not None and t.kind != "bind":
        others = [
            m.target
            for m in state.mounts
            if m.dev == ours_dev and m.target != t.directory and m.target not in targets
        ]
        targets += sorted(set(others), reverse=True)
    targets.append(t.directory)
    budget_end = None
    if cfg[FAST_STOP]:
        budget_end = ctx.deadline.now() + 6.0 * len(targets)
    ours = state.ours[-1]
    for path in targets:
        unmount(cfg, ctx, t, path, ours, budget_end)
    clear_elsewhere(cfg, ctx, ours, budget_end)
    return OCF.SUCCESS


def unmount(
    cfg: Config, ctx: Context, t: Target, path: str, ours: Mount, budget_end: float | None
) -> None:
    """umount path until it is gone: signal its holders (TERM for the first half of
    the budget, then KILL) between attempts; fail when the budget is spent.

    The holders are looked for in every mount namespace of the node: a copy of
    the mount in another namespace (a container, a service with private mounts)
    keeps this one busy when it is a propagated (slave) copy.
    """

    force = ["-f"] if t.fstype in ("nfs", "nfs4", "efs", "cifs", "smbfs") else []
    rounds = Rounds(cfg, ctx, budget_end)
    detail = "still mounted"
    while True:
        left = rounds.end - ctx.deadline.now()
        try:
            result = ctx.runner.run(["umount", *force, "--", path], ok=None, timeout=max(left, 0.5))
            if result.stderr.strip():
                detail = result.stderr.strip().splitlines()[-1]
        except CommandTimeout:
            detail = "umount hangs"
        current = [m for m in ctx.mounts.table() if m.target == path]
        if not current:
            ctx.log.info("unmounted %s successfully", path)
            return
        if rounds.over():
            break
        holders = []
        if rounds.mode != "false":
            holders = ctx.procs.find_holders(ctx.procs.locate(ours), own_mount=current[-1].mount_id)
        rounds.signal(holders, path)
    raise GenericError(f"Couldn't unmount {path}, giving up: {detail}{rounds.held_by()}")


def clear_elsewhere(cfg: Config, ctx: Context, ours: Mount, budget_end: float | None) -> None:
    """Unmount the file system in every other mount namespace of the node.

    A copy of the mount that stays in a container or a service's private
    namespace is the file system still mounted on this node: the peer must not
    mount it. Its holders are signalled (per force_unmount); once none is
    left the copy is unmounted inside that namespace (nsenter umount). Fails,
    naming the namespace and what holds it, when that does not succeed in time.
    """

    rounds = Rounds(cfg, ctx, budget_end)
    while True:
        fs = ctx.procs.locate(ours)
        left = fs.elsewhere()
        if not left:
            return
        holders = ctx.procs.find_holders(fs, elsewhere_only=True)
        if not holders:
            for ns, mounts in left.items():
                unmount_in_namespace(ctx, fs, ns, mounts, rounds.end)
            fs = ctx.procs.locate(ours)
            left = fs.elsewhere()
            if not left:
                return
        if rounds.over():
            raise GenericError(
                f"{ours.source} is still mounted in "
                f"{fs.describe(next(iter(left)))}{rounds.held_by()}"
            )
        if rounds.mode == "false":
            rounds.note(holders)
            holders = []
        rounds.signal(holders, ours.source)


def unmount_in_namespace(
    ctx: Context, fs: FileSystem, ns: str, mounts: list[Mount], end: float
) -> None:
    """umount the mounts of another namespace inside it, deepest first.

    The namespace is pinned by an open fd on its ns/mnt file that nsenter
    enters (/proc/self/fd/N), so a recycled pid can never lead into another
    namespace."""

    pids = fs.members.get(ns, [])
    if not pids:
        return
    pinned = None
    try:
        # the namespace and the root directory its mountinfo paths are relative to
        pinned = ctx.procs.pin_namespace(ns, pids[0])
        if pinned is None:
            return
        for m in sorted(mounts, key=lambda m: m.target, reverse=True):
            ctx.log.info("unmounting %s in %s", m.target, fs.describe(ns))
            argv = [
                "nsenter",
                f"--mount={pinned.mount}",
                f"--root={pinned.root}",
                "--",
                "umount",
                "--",
                m.target,
            ]
            result = ctx.runner.run(argv, ok=None, timeout=max(end - ctx.deadline.now(), 0.5))
            if result.returncode != 0:
                ctx.log.warning("umount %s in %s: %s", m.target, ns, result.stderr.strip()[-200:])
    except OSError as err:
        ctx.log.warning("cannot unmount in %s: %s", ns, err)
    except (CommandTimeout, CommandNotFound) as err:  # stop then fails with what holds it
        ctx.log.warning("cannot unmount in %s: %s", ns, err.reason)
    finally:
        if pinned is not None:
            pinned.close()


class Rounds:
    """The signalling rounds of a stop: TERM signals in the first half of the time
    budget, KILL signals after it, a pause of signal_delay between rounds (cut
    short as soon as the signalled processes are gone)."""

    def __init__(self, cfg: Config, ctx: Context, budget_end: float | None) -> None:

        self.cfg = cfg
        self.ctx = ctx
        start_at = ctx.deadline.now()
        self.end = start_at + max(ctx.deadline.remaining() - 0.5, 0.5)  # room for a last umount
        if budget_end is not None:
            self.end = min(self.end, max(budget_end, start_at + 6.0))
        self.half = start_at + (self.end - start_at) / 2
        self.delay = cfg[SIGNAL_DELAY]
        self.mode = cfg[FORCE_UNMOUNT]
        self.seen: list[str] = []
        self.first = True

    def over(self) -> bool:

        return self.ctx.deadline.now() >= self.end

    def note(self, holders: list[Holder]) -> None:
        self.seen += [f"{h.name}[{h.pid}]" for h in holders]

    def held_by(self) -> str:
        return f"; held by {', '.join(sorted(set(self.seen))[:5])}" if self.seen else ""

    def signal(self, holders: list[Holder], what: str) -> None:
        """Signal the holders for this round, then wait for them (or the pause)."""

        if holders:
            late = self.ctx.deadline.now() >= self.half
            phase = self.cfg[KILL_SIGNALS] if late else self.cfg[TERM_SIGNALS]
            for holder in holders:
                self.seen.append(f"{holder.name}[{holder.pid}]")
                for sig in phase:
                    self.ctx.log.info(
                        "sending signal %d to %s[%d] (%s) holding %s",
                        sig,
                        holder.name,
                        holder.pid,
                        ", ".join(holder.how[:3]),
                        what,
                    )
                    self.ctx.procs.send_signal(holder.process, sig)
        elif self.first:
            self.ctx.log.info(
                "No processes on %s were signalled. force_unmount is set to '%s'", what, self.mode
            )
        self.first = False
        pause = min(self.delay if holders else 0.2, max(self.end - self.ctx.deadline.now(), 0.0))
        if holders:
            self.ctx.procs.wait_gone([h.process for h in holders], pause)
        else:
            self.ctx.deadline.nap(pause)


def validate(cfg: Config, ctx: Context) -> OCF:
    t = target(cfg, ctx.mounts.table())
    fstype = t.fstype
    if fstype and fstype != "none" and not ctx.mounts.supports(fstype):
        ctx.log.info("It seems we do not have %s support", fstype)
    return OCF.SUCCESS


def status(cfg: Config, ctx: Context) -> OCF:
    mounts = ctx.mounts.table()
    t = target(cfg, mounts)
    rc = OCF.SUCCESS if examine(ctx, t, mounts).ours else OCF.NOT_RUNNING
    ctx.log.info("%s is %s", t.directory, "mounted (running)" if rc == 0 else "unmounted (stopped)")
    return rc


AGENT = Agent(
    "Filesystem-py",
    version=VERSION,
    shortdesc="Manages filesystem mounts",
    longdesc="Resource script for Filesystem. It manages a Filesystem on a shared storage "
    "medium.\n\n"
    "The monitor at depth 0 (also the probe) checks that the file system is mounted on "
    "the directory. Deeper checks: OCF_CHECK_LEVEL=10 reads the first 4 KiB of the "
    "device (a no-op for NFS, CIFS and bind mounts); OCF_CHECK_LEVEL=20 writes, syncs "
    "and reads back a status file in the file system. The status file must be writable "
    "by root, which an NFS export with root_squash (the usual setting) does not allow: "
    "there, use depth 10, export with no_root_squash, or let everyone write the "
    "directory of the status file (statusfile_prefix).\n\n"
    "Filesystem-py is a drop-in replacement for ocf:heartbeat:Filesystem written in "
    "Python on ocflib: the same parameters and defaults, and the same exit codes but for "
    "these: another device mounted on the directory makes monitor and start return 1 "
    "(Filesystem: 0) and stop leave it alone; a probe with device empty, or on a node "
    "without mount or umount, is 7 and a stop with device empty 0 (Filesystem: 6, 5, "
    "6); stop is 1 while the file system is still mounted in another mount namespace; "
    "an OCF_CHECK_LEVEL other than 0, 10 or 20 counts as the next lower one (Filesystem: "
    "6); a statusfile_prefix leaving the mount point, a device beginning with '-' and "
    "signal names that name no signal are 6. It signals only the processes that hold "
    "this very mount and never blocks on a hung server.",
    params=PARAMS,
    actions=(
        Action("start", start, timeout=60),
        Action("stop", stop, timeout=60),
        Action("monitor", monitor, timeout=40, interval=20, depth=0),
        Action("status", status, timeout=40),
        Action("validate-all", validate, timeout=5),
        Action("meta-data", timeout=5),
    ),
    check_config=check_config,
    check_local=check_local,
)
