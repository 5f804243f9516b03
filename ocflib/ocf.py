"""A compatible implementation of resource-agents' ocf.py API, written for pyha.

Agents written for resource-agents' ``ocf`` module run on this one unchanged:
point OCF_FUNCTIONS_DIR at a directory holding it (the RPM and ``make
install`` provide /usr/lib/ocf/lib/pyha/ocf.py) so that their ``import ocf``
finds it. It keeps the API and behaviour of ocf.py 4.12 (module globals,
Parameter/Action/Agent, run() binding handler arguments by name, exit codes)
and fixes its defects:

- meta-data is built with ElementTree, so ``<`` and ``&`` in a description
  stay well-formed;
- HA_debug is read as a Pacemaker boolean ("0" means off);
- is_true() accepts every spelling ocf-shellfuncs and Pacemaker accept;
- have_binary() honours OCF_TESTER_FAIL_HAVE_BINARY, as ocf-binaries does;
- a handler raising an ocflib OCFError exits with that error's code;
- the logger is set up on first use, not at import (logging costs ~7 ms).

Self-contained (standard library only), so it also works when imported as a
top-level module from its own directory.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable
    from typing import Any, NoReturn

argv = sys.argv
env = os.environ

OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_ARGS = 2
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_PERM = 4
OCF_ERR_INSTALLED = 5
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7
OCF_RUNNING_MASTER = 8
OCF_FAILED_MASTER = 9
# Pacemaker 2.1 names, not in ocf.py 4.12.
OCF_RUNNING_PROMOTED = 8
OCF_FAILED_PROMOTED = 9
OCF_DEGRADED = 190
OCF_DEGRADED_PROMOTED = 191

OCF_RESOURCE_INSTANCE: str | None = env.get("OCF_RESOURCE_INSTANCE")
OCF_ACTION: str | None = env.get("__OCF_ACTION")
if OCF_ACTION is None and len(argv) == 2:
    OCF_ACTION = argv[1]

HA_DEBUG = env.get("HA_debug", 0)
HA_DATEFMT = env.get("HA_DATEFMT", "%b %d %T ")
HA_LOGFACILITY = env.get("HA_LOGFACILITY")
HA_LOGFILE = env.get("HA_LOGFILE")
HA_DEBUGLOG = env.get("HA_DEBUGLOG")

_exit_reason_set = False
_TRUE_WORDS = frozenset(("yes", "true", "1", "ja", "on", "y"))
_LOG_FORMAT = (
    "%(filename)s(%(OCF_RESOURCE_INSTANCE)s)[%(process)s]:\t%(asctime)s%(levelname)s: %(message)s"
)
_loggers: dict[str, Any] = {}


def _debug_enabled() -> bool:
    value = env.get("HA_debug")
    return value is not None and str(value).strip().lower() in _TRUE_WORDS


def _make_logger() -> tuple[logging.Logger, logging.LoggerAdapter[logging.Logger]]:
    """The module's logger, with the handlers ocf.py attaches at import."""
    import logging
    import syslog

    class SyslogHandler(logging.StreamHandler):  # type: ignore[type-arg]
        """Pushes records into syslog with a matching priority."""

        def emit(self, record: logging.LogRecord) -> None:
            level = {
                logging.CRITICAL: syslog.LOG_CRIT,
                logging.ERROR: syslog.LOG_ERR,
                logging.WARNING: syslog.LOG_WARNING,
                logging.INFO: syslog.LOG_INFO,
            }.get(record.levelno, syslog.LOG_DEBUG)
            syslog.syslog(level, self.format(record).replace("\x00", "\n"))

    globals()["SyslogLibHandler"] = SyslogHandler
    log = logging.getLogger(os.path.basename(argv[0]) if argv else "ocf")
    log.setLevel(logging.DEBUG)
    floor = logging.DEBUG if _debug_enabled() else logging.WARNING
    handlers: list[logging.Handler] = []
    if sys.stdout.isatty():
        handlers.append(logging.StreamHandler(stream=sys.stderr))
    if HA_LOGFACILITY and HA_LOGFACILITY.lower() != "none":
        syslog_handler = SyslogHandler()
        syslog_handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handlers.append(syslog_handler)
    if HA_LOGFILE:
        handlers.append(logging.FileHandler(HA_LOGFILE))
    if HA_DEBUGLOG and HA_LOGFILE != HA_DEBUGLOG:
        handlers.append(logging.FileHandler(HA_DEBUGLOG))
    for handler in handlers:
        handler.setLevel(floor)
        if handler.formatter is None:
            handler.setFormatter(logging.Formatter(_LOG_FORMAT, datefmt=HA_DATEFMT))
        log.addHandler(handler)
    adapter = logging.LoggerAdapter(log, {"OCF_RESOURCE_INSTANCE": OCF_RESOURCE_INSTANCE})
    return log, adapter


def _logger() -> logging.LoggerAdapter[logging.Logger]:
    if "logger" not in _loggers:
        _loggers["log"], _loggers["logger"] = _make_logger()
    adapter: logging.LoggerAdapter[logging.Logger] = _loggers["logger"]
    return adapter


def __getattr__(name: str) -> Any:
    """log, logger and SyslogLibHandler are created on first use."""
    if name in ("log", "logger", "SyslogLibHandler"):
        _logger()
        return _loggers[name] if name != "SyslogLibHandler" else globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ocf_exit_reason(msg: str) -> None:
    """Print the exit reason (stderr, with the OCF_EXIT_REASON_PREFIX cookie) and log it."""
    global _exit_reason_set  # noqa: PLW0603 - a module global is the ocf.py API
    cookie = env.get("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:")
    sys.stderr.write(f"{cookie}{msg}\n")
    sys.stderr.flush()
    _logger().error(msg)
    _exit_reason_set = True


def have_binary(name: str) -> bool:
    """True if name is an executable file, directly or on PATH.

    Like ocf-binaries' have_binary, False whenever OCF_TESTER_FAIL_HAVE_BINARY=1
    (ocf-tester's probe with "missing" binaries).
    """
    if env.get("OCF_TESTER_FAIL_HAVE_BINARY") == "1":
        return False

    def executable(path: str) -> bool:
        return os.access(path, os.F_OK | os.X_OK) and not os.path.isdir(path)

    if executable(name):
        return True
    seen: set[str] = set()
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        if directory in seen:
            continue
        seen.add(directory)
        if executable(os.path.join(directory, name)):
            return True
    return False


def is_true(val: object) -> bool:
    """An OCF truth value as a bool: yes/true/1/ja/on/y in any case, or Python True/1."""
    if val is True or (isinstance(val, int) and not isinstance(val, bool) and val == 1):
        return True
    return isinstance(val, str) and val.strip().lower() in _TRUE_WORDS


def is_probe() -> bool:
    """A monitor with an interval of zero (or none)."""
    return OCF_ACTION == "monitor" and env.get("OCF_RESKEY_CRM_meta_interval", "") in ("0", "")


def get_parameter(name: str, default: Any = None) -> Any:
    """The value of OCF_RESKEY_<name>, or default."""
    return env.get(f"OCF_RESKEY_{name}", default)


def distro() -> str:
    """'<ID>/<VERSION_ID>' from /etc/os-release (what lsb_release -si/-sr report),
    else a guess from marker files, else the system name."""
    import platform

    try:
        with open("/etc/os-release") as f:
            fields = dict(
                line.rstrip("\n").split("=", 1) for line in f if "=" in line and line[0] != "#"
            )
        name = fields.get("NAME", "").strip('"').split()[0]
        version = fields.get("VERSION_ID", "").strip('"')
        if name and version:
            return f"{name}/{version}"
    except (OSError, IndexError, ValueError):
        pass
    for marker, name in (
        ("/etc/debian_version", "Debian"),
        ("/etc/SuSE-release", "SUSE"),
        ("/etc/redhat-release", "Redhat"),
    ):
        if os.path.exists(marker):
            return name
    return platform.system()


def _element(tag: str, attrs: dict[str, str], text: str | None = None) -> Any:
    import xml.etree.ElementTree as ET

    node = ET.Element(tag, attrs)
    if text is not None:
        node.text = text
    return node


def _to_string(node: Any) -> str:
    import xml.etree.ElementTree as ET

    ET.indent(node)
    text: str = ET.tostring(node, encoding="unicode")
    return text + "\n"


class Parameter:
    """A parameter's meta-data (ocf.py API)."""

    def __init__(
        self,
        name: str,
        shortdesc: str,
        longdesc: str,
        content_type: str,
        unique: bool,
        required: bool,
        default: object,
    ) -> None:
        self.name = name
        self.shortdesc = shortdesc
        self.longdesc = longdesc
        self.content_type = content_type
        self.unique = unique
        self.required = required
        self.default = default

    def __str__(self) -> str:
        return self.to_xml()

    def element(self) -> Any:
        """The <parameter> element."""
        attrs = {"name": self.name}
        if self.unique:
            attrs["unique"] = "1"
        if self.required:
            attrs["required"] = "1"
        node = _element("parameter", attrs)
        node.append(_element("longdesc", {"lang": "en"}, str(self.longdesc)))
        node.append(_element("shortdesc", {"lang": "en"}, str(self.shortdesc)))
        content = {"type": str(self.content_type)}
        if self.default is not None:
            content["default"] = str(self.default)
        node.append(_element("content", content))
        return node

    def to_xml(self) -> str:
        """The <parameter> element as (escaped) XML text."""
        return _to_string(self.element())


class Action:
    """An action's meta-data (ocf.py API): int timeouts/intervals get an 's'."""

    def __init__(
        self, name: str, timeout: object, interval: object, depth: object, role: object
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.interval = interval
        self.depth = depth
        self.role = role

    def __str__(self) -> str:
        return self.to_xml()

    def element(self) -> Any:
        """The <action> element."""
        attrs = {"name": self.name}
        for key in ("timeout", "interval", "depth", "role"):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and key != "depth":
                value = f"{value}s"
            attrs[key] = str(value)
        return _element("action", attrs)

    def to_xml(self) -> str:
        """The <action> element as XML text."""
        return _to_string(self.element())


class Agent:
    """An agent's meta-data and handlers (ocf.py API)."""

    def __init__(
        self,
        name: str,
        shortdesc: str,
        longdesc: str,
        version: object = 1.0,
        ocf_version: object = 1.0,
    ) -> None:
        self.name = name
        self.shortdesc = shortdesc
        self.longdesc = longdesc
        self.version = version
        self.ocf_version = ocf_version
        self.parameters: list[Parameter] = []
        self.actions: list[Action] = []
        self._handlers: dict[str, Callable[..., Any]] = {}

    def add_parameter(
        self,
        name: str,
        shortdesc: str = "",
        longdesc: str = "",
        content_type: str = "string",
        unique: bool = False,
        required: bool = False,
        default: object = None,
    ) -> Agent:
        """Declare a parameter; a name may be declared once."""
        if any(p.name == name for p in self.parameters):
            raise ValueError(f"Parameter {name} defined twice in metadata")
        self.parameters.append(
            Parameter(name, shortdesc, longdesc, content_type, unique, required, default)
        )
        return self

    def add_action(
        self,
        name: str,
        timeout: object = None,
        interval: object = None,
        depth: object = None,
        role: object = None,
        handler: Callable[..., Any] | None = None,
    ) -> Agent:
        """Declare an action, optionally with its handler."""
        self.actions.append(Action(name, timeout, interval, depth, role))
        if handler is not None:
            self._handlers[name] = handler
        return self

    def __str__(self) -> str:
        return self.to_xml()

    def to_xml(self) -> str:
        """The whole meta-data document, with its DOCTYPE, escaped."""
        root = _element("resource-agent", {"name": self.name, "version": str(self.version)})
        root.append(_element("version", {}, str(self.ocf_version)))
        root.append(_element("longdesc", {"lang": "en"}, str(self.longdesc)))
        root.append(_element("shortdesc", {"lang": "en"}, str(self.shortdesc)))
        parameters = _element("parameters", {})
        for parameter in self.parameters:
            parameters.append(parameter.element())
        root.append(parameters)
        actions = _element("actions", {})
        for action in self.actions:
            actions.append(action.element())
        root.append(actions)
        return (
            '<?xml version="1.0"?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">\n'
            + _to_string(root)
        )

    def run(self) -> NoReturn:
        """run(self)."""
        run(self)


def _argument_names(func: Callable[..., Any]) -> list[str]:
    code = getattr(func, "__code__", None)
    if code is not None and not hasattr(func, "__self__"):
        return list(code.co_varnames[: code.co_argcount])
    import inspect

    return list(inspect.signature(func).parameters)


def _call_handler(agent: Agent, func: Callable[..., Any]) -> int:
    defaults = {p.name: p.default for p in agent.parameters}
    args = []
    for name in _argument_names(func):
        value = get_parameter(name)
        args.append(defaults.get(name) if value is None else value)
    try:
        rc = func(*args)
    except Exception as err:  # noqa: BLE001 - ocf.py's contract: any failure is rc 1
        code = getattr(err, "rc", None)
        reason = getattr(err, "reason", None) or str(err)
        if not _exit_reason_set:
            ocf_exit_reason(reason)
        else:
            _logger().error(reason)
        return int(code) if isinstance(code, int) else OCF_ERR_GENERIC
    return OCF_SUCCESS if rc is None else int(rc)


def run(agent: Agent, handlers: dict[str, Callable[..., Any]] | None = None) -> NoReturn:
    """The agent's main loop (ocf.py API); never returns.

    -h/--help prints usage; meta-data/usage/methods print the XML; every
    other action first checks required parameters (rc 6), then calls the
    handler with its arguments bound by name from OCF_RESKEY_* (or the
    declared default); no handler: rc 3.
    """
    agent._handlers.update(handlers or {})
    known = agent._handlers
    if not any(action.name == "meta-data" for action in agent.actions):
        agent.add_action("meta-data", timeout=10)
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(
            f"usage: {sys.argv[0]} {{{'|'.join(sorted(known))}}}\n\n"
            "Expects to have a fully populated OCF RA compliant environment set.\n"
        )
        sys.exit(OCF_SUCCESS)
    if OCF_ACTION is None:
        ocf_exit_reason("No action argument set")
        sys.exit(OCF_ERR_UNIMPLEMENTED)
    if OCF_ACTION in ("meta-data", "usage", "methods"):
        sys.stdout.write(agent.to_xml() + "\n")
        sys.exit(OCF_SUCCESS)
    for parameter in agent.parameters:
        if parameter.required and get_parameter(parameter.name) is None:
            ocf_exit_reason(f"{parameter.name}: Required parameter not set")
            sys.exit(OCF_ERR_CONFIGURED)
    if OCF_ACTION in known:
        sys.exit(_call_handler(agent, known[OCF_ACTION]))
    sys.exit(OCF_ERR_UNIMPLEMENTED)
