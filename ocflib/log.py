"""Logging the way ocf-shellfuncs does it (ocf_log, ha_log), without the logging module.

Destinations follow __ha_log: syslog when HA_LOGFACILITY is set (and not
"none"), HA_LOGFILE and HA_DEBUGLOG when set, stderr when on a tty or when
nothing else is configured. Debug messages only with HA_debug true.
"""

from __future__ import annotations

import os
import sys
import time

from ocflib.env import parse_bool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from ocflib.trace import Trace

__all__ = ["Log", "configure"]

_LEVELS = {"debug": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "ERROR", "crit": "CRIT"}
# syslog priorities: LOG_CRIT=2, LOG_ERR=3, LOG_WARNING=4, LOG_INFO=6, LOG_DEBUG=7
_SYSLOG_PRIO = {"debug": 7, "info": 6, "warning": 4, "error": 3, "crit": 2}
_FACILITIES = {
    "kern": 0,
    "user": 8,
    "mail": 16,
    "daemon": 24,
    "auth": 32,
    "syslog": 40,
    "lpr": 48,
    "news": 56,
    "uucp": 64,
    "cron": 72,
    "authpriv": 80,
    "local0": 128,
    "local1": 136,
    "local2": 144,
    "local3": 152,
    "local4": 160,
    "local5": 168,
    "local6": 176,
    "local7": 184,
}


class Log:
    """A small logger with the ocf-shellfuncs destinations and formats.

    The tag is ``script(instance)[pid]``, as set_logtag builds it.
    """

    def __init__(
        self,
        script: str = "ocflib",
        instance: str = "",
        *,
        facility: str | None = None,
        logfile: str | None = None,
        debuglog: str | None = None,
        debug: bool = False,
        stderr: TextIO | None = None,
        to_stderr: bool | None = None,
        datefmt: str = "%b %d %H:%M:%S ",
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.script = script
        self.instance = instance
        self.facility = facility
        self.logfile = logfile
        self.debuglog = debuglog if debuglog != logfile else None
        self.debug_enabled = debug
        self.stream = stderr
        self.datefmt = datefmt
        self.secrets = secrets
        self._syslog_open = False
        if to_stderr is None:
            stream = stderr if stderr is not None else sys.stderr
            isatty = getattr(stream, "isatty", lambda: False)()
            to_stderr = bool(isatty) or (not facility and not logfile)
        self.to_stderr = to_stderr
        # The action's trace (ocflib.trace.Trace) when trace_ra is on: every message,
        # debug included, and every command the runner ran.
        self.trace: Trace | None = None

    @property
    def tag(self) -> str:
        """``script(instance)[pid]``."""
        if self.instance:
            return f"{self.script}({self.instance})[{os.getpid()}]"
        return f"{self.script}[{os.getpid()}]"

    def add_secret(self, value: str) -> None:
        """Never write value: it is replaced by <redacted>."""
        if value and value not in self.secrets:
            self.secrets = (*self.secrets, value)

    def redact(self, text: str) -> str:
        """text with every registered secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def format(self, msg: str, args: tuple[object, ...]) -> str:
        """msg % args (joined when they do not fit), every secret redacted."""
        if args:
            try:
                msg = msg % args
            except (TypeError, ValueError):
                msg = " ".join([msg, *map(str, args)])
        return self.redact(msg)

    def log(self, level: str, msg: str, *args: object, ignore_stderr: bool = False) -> None:
        """Write one message at level (debug, info, warning, error, crit).

        ignore_stderr: the text is already on stderr (an exit reason), as
        __ha_log --ignore-stderr.
        """
        quiet = level == "debug" and not self.debug_enabled
        if quiet and self.trace is None:
            return
        msg = self.format(msg, args)
        if self.trace is not None:
            self.trace.log(level, msg)
            if quiet:
                return
        prefix = _LEVELS.get(level, level.upper())
        line = f"{prefix}: {msg}"
        if self.facility:
            self._syslog(level, line)
        now = time.strftime(self.datefmt)
        if self.logfile:
            _append(self.logfile, f"{now} {self.tag}:    {line}\n")
        if self.debuglog:
            _append(self.debuglog, f"{self.tag}:\t{now}{line}\n")
        if self.to_stderr and not ignore_stderr:
            stream = self.stream if self.stream is not None else sys.stderr
            try:
                stream.write(f"{now}{line}\n")
                stream.flush()
            except (OSError, ValueError, AttributeError):  # AttributeError: stderr closed (None)
                pass

    def _syslog(self, level: str, line: str) -> None:
        import syslog

        if not self._syslog_open:
            facility = _FACILITIES.get((self.facility or "daemon").lower(), 24)
            syslog.openlog(self.tag, 0, facility)
            self._syslog_open = True
        syslog.syslog(_SYSLOG_PRIO.get(level, 5), line.replace("\0", "\n"))

    def debug(self, msg: str, *args: object) -> None:
        """Debug: only written when HA_debug is true."""
        self.log("debug", msg, *args)

    def info(self, msg: str, *args: object) -> None:
        """Informational message."""
        self.log("info", msg, *args)

    def warning(self, msg: str, *args: object) -> None:
        """Warning."""
        self.log("warning", msg, *args)

    def error(self, msg: str, *args: object) -> None:
        """Error."""
        self.log("error", msg, *args)

    def crit(self, msg: str, *args: object) -> None:
        """Critical."""
        self.log("crit", msg, *args)


def _append(path: str, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    except OSError:
        return
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    except OSError:
        pass
    finally:
        os.close(fd)


def configure(environ: Mapping[str, str], script: str, instance: str) -> Log:
    """The Log an agent invocation uses, from the HA_* variables."""
    facility = environ.get("HA_LOGFACILITY") or environ.get("HA_logfacility") or None
    if facility and facility.lower() == "none":
        facility = None
    logfile = environ.get("HA_LOGFILE") or environ.get("HA_logfile") or None
    debuglog = environ.get("HA_DEBUGLOG") or environ.get("HA_debugfile") or None
    debug = parse_bool(environ.get("HA_debug") or environ.get("HA_DEBUG")) is True
    datefmt = environ.get("HA_DATEFMT") or "%b %d %H:%M:%S "
    return Log(
        script,
        instance,
        facility=facility,
        logfile=logfile,
        debuglog=debuglog,
        debug=debug,
        datefmt=datefmt,
    )
