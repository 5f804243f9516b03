"""trace_ra: a readable record of one action, for the administrator who asked for it.

resource-agents' shell library turns on `set -x` when OCF_RESKEY_trace_ra (or
OCF_TRACE_RA) is true, and writes it where `crm resource trace` says:
<trace_dir>/<type>/<resource>.<action>.<YYYY-mm-dd.HH:MM:SS>, trace_dir defaulting to
$HA_VARLIB/trace_ra. A Python agent has no `set -x`; what helps its user is what it did:
the parameters (secret ones redacted), each command with its argv, exit code, time and
output, every log message (debug included), and the exit code and reason.

The destination is the same as the shell library's: OCF_TRACE_FILE or trace_file (an
absolute path, or a file descriptor 3-9 the caller opened), else the trace directory,
else stderr when run from a terminal or without a resource name. Writing a trace never
changes an action's result: a destination that cannot be written safely is skipped with
a warning. Files are created 0600 without following a link, in a directory that only
root (or the agent's user) can write; an existing trace_file is appended to only when it
is a pyha trace, so a mistyped path never damages another file.

Imported only when tracing is asked for (the monitor's import budget).
"""

from __future__ import annotations

import os
import stat
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["MAGIC", "Trace", "wanted"]

MAGIC = "# pyha trace"
_OUTPUT_LIMIT = 4000


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether this invocation is traced (OCF_TRACE_RA, else OCF_RESKEY_trace_ra)."""
    value = environ.get("OCF_TRACE_RA") or environ.get("OCF_RESKEY_trace_ra") or ""
    from ocflib.env import ocf_is_true

    return ocf_is_true(value)


class Trace:
    """An open trace destination (a file descriptor) and the action's start time."""

    def __init__(self, fd: int, where: str, *, owned: bool = True) -> None:
        self.fd: int | None = fd
        self.where = where
        self.owned = owned
        self.started = time.monotonic()
        self.reason = ""

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        environ: Mapping[str, str],
        agent: str,
        instance: str,
        action: str,
        warn: Callable[[str], None],
    ) -> Trace | None:
        """The trace for this action, or None (warn says why) when it cannot be written."""
        target = environ.get("OCF_TRACE_FILE") or environ.get("OCF_RESKEY_trace_file") or ""
        try:
            if len(target) == 1 and target in "3456789":
                return cls(os.dup(int(target)), f"file descriptor {target}", owned=True)
            if target.startswith("/"):
                return cls._append_to(target)
            if target:
                warn(f"trace_file {target!r} is neither an absolute path nor a descriptor 3-9")
            if not environ.get("OCF_RESOURCE_INSTANCE") or _on_a_terminal():
                return cls(os.dup(2), "stderr")
            directory = environ.get("OCF_RESKEY_trace_dir") or os.path.join(
                environ.get("HA_VARLIB") or "/var/lib/heartbeat", "trace_ra"
            )
            kind = environ.get("OCF_RESOURCE_TYPE") or agent
            stamp = time.strftime("%Y-%m-%d.%H:%M:%S")
            return cls._create_in(
                os.path.join(directory, _name(kind)), f"{_name(instance)}.{_name(action)}.{stamp}"
            )
        except OSError as error:
            where = error.filename or target
            warn(f"trace_ra: cannot write the trace: {where}: {error.strerror or error}")
        except ValueError as error:
            warn(f"trace_ra: cannot write the trace: {error}")
        return None

    @classmethod
    def _create_in(cls, directory: str, name: str) -> Trace:
        os.makedirs(directory, mode=0o755, exist_ok=True)
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _check_directory(os.fstat(dir_fd), directory)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            for n in range(100):
                candidate = name if n == 0 else f"{name}.{n}"
                try:
                    fd = os.open(candidate, flags, 0o600, dir_fd=dir_fd)
                except FileExistsError:
                    continue
                return cls(fd, os.path.join(directory, candidate))
            raise ValueError(f"{directory}: 100 traces named {name} already exist")
        finally:
            os.close(dir_fd)

    @classmethod
    def _append_to(cls, path: str) -> Trace:
        directory, name = os.path.split(path)
        if not name:
            raise ValueError(f"trace_file {path!r} names a directory")
        # The file itself is checked after opening (a link is never followed, a file of
        # another user, a second hard link or a non-trace is refused), so the
        # administrator's choice of directory, /tmp included, is safe.
        dir_fd = os.open(directory or "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                raise ValueError(f"{path} is not a plain file")
            if info.st_uid != os.geteuid():
                raise ValueError(f"{path} belongs to uid {info.st_uid}")
            if info.st_size and os.pread(fd, len(MAGIC), 0).decode("utf-8", "replace") != MAGIC:
                raise ValueError(f"{path} exists and is not a pyha trace: left untouched")
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    # -- writing ---------------------------------------------------------------

    def write(self, text: str) -> None:
        """Append text; after a failed write the trace is closed (never fatal)."""
        if self.fd is None:
            return
        data = text.encode("utf-8", "replace")
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:
            self.close()

    def _at(self) -> str:
        return f"+{time.monotonic() - self.started:8.3f}s"

    def header(
        self,
        agent: str,
        version: str,
        action: str,
        argv: Sequence[str],
        environ: Mapping[str, str],
        redact: Callable[[str], str],
        secret_names: Sequence[str],
    ) -> None:
        """What ran, with which parameters and environment."""
        from ocflib import __version__

        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        lines = [
            f"{MAGIC}: {agent} {version} (ocflib {__version__}), action {action or '(none)'}, "
            f"resource {environ.get('OCF_RESOURCE_INSTANCE', '(none)')}",
            f"# started {stamp}.{int(now * 1000) % 1000:03d} {time.strftime('%Z')}, "
            f"pid {os.getpid()}, uid {os.geteuid()}, python {sys.version.split()[0]}",
            f"argv: {redact(' '.join(argv))}",
        ]
        params, meta, other = [], [], []
        for key in sorted(environ):
            value = environ[key]
            if key.startswith("OCF_RESKEY_CRM_meta_"):
                meta.append(f"  {key[11:]}={redact(value)}")
            elif key.startswith("OCF_RESKEY_"):
                shown = "<redacted>" if key[11:] in secret_names and value else redact(value)
                params.append(f"  {key[11:]}={shown}")
            elif key.startswith(("OCF_", "HA_", "PCMK_", "CIB_")) or key in (
                "PATH",
                "LANG",
                "LC_ALL",
            ):
                other.append(f"  {key}={redact(value)}")
        lines += ["parameters:", *params, "meta:", *meta, "environment:", *other, ""]
        self.write("\n".join(lines) + "\n")

    def log(self, level: str, message: str) -> None:
        """A log message (already redacted)."""
        self.write(f"{self._at()} {level.upper()}: {message}\n")

    def command(
        self, argv: str, rc: int | None, seconds: float, stdout: str, stderr: str, note: str = ""
    ) -> None:
        """One command: argv (already redacted), exit code, time, output (redacted)."""
        outcome = note or f"rc {rc}"
        lines = [f"{self._at()} run: {argv}", f"           {outcome} in {seconds * 1000:.1f} ms"]
        for label, output in (("stdout", stdout), ("stderr", stderr)):
            text = output.rstrip("\n")
            if not text:
                continue
            if len(text) > _OUTPUT_LIMIT:
                more = len(text) - _OUTPUT_LIMIT
                text = f"{text[:_OUTPUT_LIMIT]}\n... ({more} more characters)"
            lines += [f"           {label}| {line}" for line in text.split("\n")]
        self.write("\n".join(lines) + "\n")

    def finish(self, rc: int) -> None:
        """The exit code and reason; closes the trace."""
        from ocflib.exitcodes import OCF

        name = OCF(rc).name if OCF.is_valid(rc) else "?"
        lines = [f"{self._at()} exit {rc} ({name})"]
        if self.reason:
            lines.append(f"           exit reason: {self.reason}")
        self.write("\n".join(lines) + "\n")
        self.close()

    def close(self) -> None:
        if self.fd is not None and self.owned:
            try:
                os.close(self.fd)
            except OSError:
                pass
        self.fd = None


def _on_a_terminal() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


def _name(text: str) -> str:
    """One path component from untrusted text: no separators, never . or .."""
    cleaned = text.replace("/", "_").replace("\0", "_")
    return cleaned if cleaned not in ("", ".", "..") else "_"


def _check_directory(info: os.stat_result, directory: str) -> None:
    if info.st_uid not in (0, os.geteuid()):
        raise ValueError(f"{directory} belongs to uid {info.st_uid}, not to root")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ValueError(f"{directory} is writable by others")
