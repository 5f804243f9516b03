"""Errors that carry an OCF exit code; only ocflib.agent turns them into an exit."""

from __future__ import annotations

from ocflib.exitcodes import OCF

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import ClassVar

__all__ = [
    "OCFError",
    "GenericError",
    "ArgsError",
    "UnimplementedError",
    "PermError",
    "NotInstalledError",
    "ConfigError",
    "CommandFailed",
    "CommandTimeout",
    "CommandNotFound",
]


class OCFError(Exception):
    """A failure with a reason (one sentence, no trailing period) and an OCF code.

    Raised where the fact is known; ``Agent.dispatch`` is the one place that
    writes the ``ocf-exit-reason:`` line and returns ``rc``.
    """

    default_rc: ClassVar[OCF] = OCF.ERR_GENERIC

    def __init__(self, reason: str, *, rc: OCF | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rc: OCF = self.default_rc if rc is None else rc


class GenericError(OCFError):
    """Soft failure: Pacemaker recovers the resource (rc 1)."""


class ArgsError(OCFError):
    """Parameters invalid on this node (rc 2)."""

    default_rc = OCF.ERR_ARGS


class UnimplementedError(OCFError):
    """Action not implemented (rc 3)."""

    default_rc = OCF.ERR_UNIMPLEMENTED


class PermError(OCFError):
    """Insufficient privilege (rc 4)."""

    default_rc = OCF.ERR_PERM


class NotInstalledError(OCFError):
    """Required software missing on this node (rc 5)."""

    default_rc = OCF.ERR_INSTALLED


class ConfigError(OCFError):
    """Configuration inherently invalid (rc 6)."""

    default_rc = OCF.ERR_CONFIGURED


class CommandFailed(GenericError):
    """A command exited with a status its caller does not accept."""

    def __init__(
        self, argv: Sequence[str], returncode: int, stderr: str, *, reason: str = ""
    ) -> None:
        from ocflib.commandline import describe_failure

        super().__init__(reason or describe_failure(argv, returncode, stderr))
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr


class CommandTimeout(GenericError):
    """A command outlived its share of the action's deadline and was killed."""

    def __init__(self, argv: Sequence[str], timeout_s: float) -> None:
        from ocflib.commandline import quote_argv

        super().__init__(f"timed out after {timeout_s:.1f}s running: {quote_argv(argv)}")
        self.argv = tuple(argv)
        self.timeout_s = timeout_s


class CommandNotFound(NotInstalledError):
    """The program to run is not installed (the shell's rc 127)."""

    def __init__(self, program: str) -> None:
        super().__init__(f"Setup problem: couldn't find command: {program}")
        self.program = program
