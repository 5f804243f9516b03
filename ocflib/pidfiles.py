"""Pid files and the agents' own bookkeeping files: read as untrusted input, written
only as files of our own.

A pid file is read only when it is a small regular file (never a FIFO, a device or
a directory, never through a symbolic link, never blocking). A bookkeeping file is
written to a fresh temporary file and renamed into place (a symlink planted at its
path is replaced, never followed), and read back only when it is a regular file
that this user owns.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["PidFile", "read_pid_file", "write_private_file", "read_private_file", "remove_own_file"]

# --- pid files written by someone else ---------------------------------------------


class PidFile:
    """What a pid file holds, and who wrote it.

    pid is None when the file is not a small regular file holding an integer;
    problem then says why (for the log; the file is never trusted further).
    """

    __slots__ = ("path", "pid", "words", "uid", "mtime", "problem")

    def __init__(
        self,
        path: str,
        pid: int | None,
        words: list[str],
        uid: int,
        mtime: float,
        problem: str | None,
    ) -> None:
        self.path = path
        self.pid = pid
        self.words = words
        self.uid = uid
        self.mtime = mtime
        self.problem = problem

    @property
    def plain(self) -> bool:
        """Exactly one integer (a server's own pid file)."""
        return self.pid is not None and len(self.words) == 1

    def __repr__(self) -> str:
        return f"PidFile({self.path!r}, pid={self.pid}, problem={self.problem!r})"


def read_pid_file(path: str, limit: int = 64) -> PidFile | None:
    """The pid file at path, or None when nothing is there.

    Never opens anything but a regular file (a FIFO would block the reader
    forever, a device could act on open), never follows a symbolic link,
    never reads more than limit bytes.
    """
    import stat

    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        return PidFile(path, None, [], -1, 0.0, f"cannot be examined: {err.strerror}")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a symbolic link"
            if stat.S_ISLNK(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "not a regular file"
        )
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"is {kind}")
    if st.st_size > limit:
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"is larger than {limit} bytes")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as err:
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"cannot be read: {err.strerror}")
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(fst.st_mode):
            return PidFile(path, None, [], fst.st_uid, fst.st_mtime, "changed while being read")
        data = os.read(fd, limit + 1)
    except OSError as err:
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"cannot be read: {err.strerror}")
    finally:
        os.close(fd)
    try:
        words = data.decode("ascii").split()
    except UnicodeDecodeError:
        words = []
    head = words[0] if words else ""
    if not (head.isascii() and head.isdigit()) or len(head) > 10 or int(head) <= 1:
        return PidFile(path, None, words, fst.st_uid, fst.st_mtime, "does not hold a process id")
    return PidFile(path, int(head), words, fst.st_uid, fst.st_mtime, None)


# --- our own bookkeeping files ----------------------------------------------------------


def write_private_file(path: str, text: str) -> None:
    """Write text to path (mode 0600), replacing only our own file.

    Written to a fresh temporary file and renamed into place: an existing
    symlink at path is replaced, never followed.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_private_file(path: str, limit: int = 128) -> tuple[str, float] | None:
    """(text, mtime) of a regular file at path that root wrote (our own
    bookkeeping), never through a symlink, never blocking; None otherwise."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        return os.read(fd, limit).decode("ascii", "replace"), st.st_mtime
    except OSError:
        return None
    finally:
        os.close(fd)


def remove_own_file(path: str, log_warning: Callable[..., object] | None = None) -> bool:
    """Remove a bookkeeping file of ours; a file system that refuses (read-only,
    full, gone) is not an error for the caller. True when removed or absent."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError as err:
        if log_warning is not None:
            log_warning("cannot remove %s: %s", path, err.strerror)
        return False
    return True
