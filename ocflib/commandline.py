"""Command lines as text: quoted for copy and paste, failures described in one line.

Kept apart from the runner (ocflib.run) so that ocflib.errors can describe a failed
command without importing the runner (which imports the errors).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["quote", "quote_argv", "squeeze", "describe_failure"]

_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
_SIGNAMES = {
    1: "SIGHUP",
    2: "SIGINT",
    6: "SIGABRT",
    9: "SIGKILL",
    11: "SIGSEGV",
    13: "SIGPIPE",
    15: "SIGTERM",
}


def quote(word: str) -> str:
    """shlex.quote without importing shlex (and re)."""
    if not word:
        return "''"
    if all(c in _SAFE_CHARS for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def quote_argv(argv: Sequence[str]) -> str:
    """A copy-pasteable command line (shlex.join)."""
    return " ".join(quote(w) for w in argv)


def squeeze(text: str, limit: int = 400) -> str:
    """Output on one line, as ocf_run logs it."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_failure(argv: Sequence[str], returncode: int, stderr: str) -> str:
    """A specific reason: killed by a signal, not found, or returned N."""
    name = os.path.basename(argv[0]) if argv else "command"
    if returncode < 0:
        sig = _SIGNAMES.get(-returncode, f"signal {-returncode}")
        what = f"killed by {sig}"
    elif returncode == 127:
        what = "not found (rc 127)"
    else:
        what = f"returned {returncode}"
    detail = squeeze(stderr, 300)
    return f"{name} {what}" + (f": {detail}" if detail else "")
