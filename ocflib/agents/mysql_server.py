"""mysql-py's server side: its parameters and their validation, the server
process (launch, identify, stop), and connections to it (ocflib.agents.mysql is
the agent; ocflib.agents.mysql_replication the promotable clone's replication).
"""

from __future__ import annotations

import os

from ocflib.agent import Action, Context
from ocflib.errors import GenericError, NotInstalledError, PermError
from ocflib.exitcodes import OCF
from ocflib.params import (
    NAME_CHARS,
    Boolean,
    Config,
    Integer,
    Param,
    Path,
    Port,
    Problem,
    String,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ocflib.accounts import Account
    from ocflib.agent import Handler
    from ocflib.pidfiles import PidFile
    from ocflib.proc import Process

VERSION = "1.0"
SQL_NAME_CHARS = NAME_CHARS.replace("+", "").replace("-", "") + "$"

# --- 1. Parameters ------------------------------------------------------------------

BINARY = Param(
    "binary",
    Path(command=True),
    default="/usr/bin/mysqld_safe",
    shortdesc="MySQL server binary",
    longdesc="Location of the MySQL server binary (mysqld_safe, or mysqld/mariadbd directly).",
)
CLIENT_BINARY = Param(
    "client_binary",
    String(max_len=255),
    default="mysql",
    shortdesc="MySQL client binary",
    longdesc="Accepted for compatibility: the agent speaks the client protocol "
    "itself (pymysql) and runs no client program.",
)
CONFIG = Param(
    "config",
    Path(),
    default="/etc/mysql/my.cnf",
    shortdesc="MySQL config",
    longdesc="Configuration file (--defaults-file).",
)
DATADIR = Param(
    "datadir",
    Path(),
    default="/var/lib/mysql",
    shortdesc="MySQL datadir",
    longdesc="Directory containing databases.",
)
USER = Param(
    "user",
    String(max_len=32, allowed=NAME_CHARS),
    default="mysql",
    shortdesc="MySQL user",
    longdesc="User running the MySQL daemon.",
)
GROUP = Param(
    "group",
    String(max_len=32, allowed=NAME_CHARS),
    default="mysql",
    shortdesc="MySQL group",
    longdesc="Group running the MySQL daemon.",
)
LOG = Param(
    "log",
    Path(),
    default="/var/log/mysql/error.log",
    shortdesc="MySQL log file",
    longdesc="The error log (--log-error).",
)
PID = Param(
    "pid",
    Path(),
    default="/var/run/mysqld/mysqld.pid",
    shortdesc="MySQL pid file",
    longdesc="The pid file to use for this instance.",
)
SOCKET = Param(
    "socket",
    Path(),
    default="/var/run/mysqld/mysqld.sock",
    shortdesc="MySQL socket",
    longdesc="The socket to be used for mysqld.",
)
TEST_TABLE = Param(
    "test_table",
    String(max_len=129, allowed=SQL_NAME_CHARS),
    default="mysql.user",
    shortdesc="MySQL test table",
    longdesc="Table to SELECT COUNT(*) from at monitor depth 10 or more (database.table).",
)
TEST_USER = Param(
    "test_user",
    String(max_len=80),
    default="root",
    shortdesc="MySQL test user",
    longdesc="MySQL user for monitoring.",
)
TEST_PASSWD = Param(
    "test_passwd",
    String(max_len=256),
    default="",
    secret=True,
    shortdesc="MySQL test user password",
    longdesc="Password of test_user (never logged, never in argv).",
)
ENABLE_CREATION = Param(
    "enable_creation",
    Boolean(),
    default="0",
    shortdesc="Create the database if it does not exist",
    longdesc="Initialise an empty datadir (mysql_install_db) on start.",
)
ADDITIONAL_PARAMETERS = Param(
    "additional_parameters",
    String(max_len=4096),
    default="",
    shortdesc="Additional parameters to pass to mysqld",
    longdesc="Extra command line options for the server (split "
    "like a shell would, but never run through one).",
)
REPL_USER = Param(
    "replication_user",
    String(max_len=80),
    default="root",
    shortdesc="MySQL replication user",
    longdesc="User for all administrative SQL (read_only, replica control) and for replication.",
)
REPL_PASSWD = Param(
    "replication_passwd",
    String(max_len=256),
    default="",
    secret=True,
    shortdesc="MySQL replication user password",
    longdesc="Password of replication_user (never logged, never in argv).",
)
REPL_PORT = Param(
    "replication_port",
    Port(),
    default="3306",
    shortdesc="MySQL replication port",
    longdesc="The port replicas connect to on the primary.",
)
REPL_SSL = Param(
    "replication_require_ssl",
    Boolean(),
    default="false",
    shortdesc="MySQL replication require ssl",
    longdesc="Require TLS for the agent's own connections.",
)
SSL_CA = Param(
    "replication_master_ssl_ca",
    String(max_len=4096),
    default="",
    shortdesc="MySQL replication SSL CA certificate",
    longdesc="With cert and key: replication over TLS.",
)
SSL_CERT = Param(
    "replication_master_ssl_cert",
    String(max_len=4096),
    default="",
    shortdesc="MySQL replication SSL certificate",
    longdesc="See ssl_ca.",
)
SSL_KEY = Param(
    "replication_master_ssl_key",
    String(max_len=4096),
    default="",
    shortdesc="MySQL replication SSL certificate key",
    longdesc="See ssl_ca.",
)
MAX_LAG = Param(
    "max_slave_lag",
    Integer(min=0),
    default="3600",
    shortdesc="Maximum time (seconds) a MySQL slave is allowed to lag behind a master",
    longdesc="A replica further behind is not readable; the lag also orders the promotion scores.",
)
EVICT = Param(
    "evict_outdated_slaves",
    Boolean(),
    default="false",
    shortdesc="Determines whether to shut down badly lagging slaves",
    longdesc="A replica lagging more than max_slave_lag makes monitor return 5 "
    "(ERR_INSTALLED), as the reference agent does, so the cluster stops it here.",
)
READER = Param(
    "reader_attribute",
    String(max_len=64, allowed=NAME_CHARS),
    unique=True,
    default="readable",
    shortdesc="Sets the node attribute that determines whether a node is usable for "
    "clients to read from.",
    longdesc="Node attribute set to 1 where the server can serve reads.",
)

# The server's parameters, the same in mysql-py and galera-py (and in the order both
# references list them): where it is and who runs it ...
SERVER_PARAMS: Sequence[Param[object]] = (
    BINARY,
    CLIENT_BINARY,
    CONFIG,
    DATADIR,
    USER,
    GROUP,
    LOG,
    PID,
    SOCKET,
)
# ... and how it is started.
START_PARAMS: Sequence[Param[object]] = (ENABLE_CREATION, ADDITIONAL_PARAMETERS)

PARAMS: Sequence[Param[object]] = (
    *SERVER_PARAMS,
    TEST_TABLE,
    TEST_USER,
    TEST_PASSWD,
    *START_PARAMS,
    REPL_USER,
    REPL_PASSWD,
    REPL_PORT,
    REPL_SSL,
    SSL_CA,
    SSL_CERT,
    SSL_KEY,
    MAX_LAG,
    EVICT,
    READER,
)


def promotable_actions(
    *,
    start: Handler,
    stop: Handler,
    status: Handler,
    monitor: Handler,
    promote: Handler,
    demote: Handler,
    validate: Handler,
    promote_timeout: float,
    notify: Handler | None = None,
) -> tuple[Action, ...]:
    """The actions of a promotable MariaDB agent (mysql-py, galera-py): the timeouts
    and monitor intervals both references advertise; notify only where the agent
    has one (mysql)."""
    return (
        Action("start", start, timeout=120),
        Action("stop", stop, timeout=120),
        Action("status", status, timeout=60),
        Action("monitor", monitor, timeout=30, interval=20, depth=0),
        Action("monitor", monitor, timeout=30, interval=10, depth=0, role="Promoted"),
        Action("monitor", monitor, timeout=30, interval=30, depth=0, role="Unpromoted"),
        Action("promote", promote, timeout=promote_timeout),
        Action("demote", demote, timeout=120),
        *([Action("notify", notify, timeout=90, never_fails=True)] if notify else []),
        Action("validate-all", validate, timeout=5),
        Action("meta-data", timeout=5),
    )


# --- 2. Validation ---------------------------------------------------------------------


def binary(cfg: Config, ctx: Context) -> str:
    """The server binary: the parameter (a command name is looked up in PATH, as
    the reference does), or the host's mysqld_safe when the default path does
    not exist (the reference's `which mysqld_safe`)."""
    path = cfg[BINARY]
    if "/" not in path:
        return ctx.runner.which(path) or path
    if not cfg.is_set(BINARY) and not os.access(path, os.X_OK):
        found = ctx.runner.which("mysqld_safe") or ctx.runner.which("safe_mysqld")
        if found:
            return found
    return path


def check_config(cfg: Config, ctx: Context) -> list[Problem]:
    problems = []
    table = cfg[TEST_TABLE]
    if table.count(".") > 1 or table.startswith(".") or table.endswith("."):
        problems.append(Problem(f"test_table [{table}] must be table or database.table"))
    return problems


def check_local(cfg: Config, ctx: Context) -> list[Problem]:
    """The installation (rc 5): binary, config, datadir, user, group.

    Stop and monitor work from the pid file alone and are never refused here.
    """
    if ctx.action in ("stop", "monitor", "status", "notify", "meta-data"):
        return []
    problems = []
    path = binary(cfg, ctx)
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        problems.append(Problem(f"Setup problem: couldn't find command: {path}", OCF.ERR_INSTALLED))
    if not os.path.isfile(cfg[CONFIG]):
        problems.append(Problem(f"Config {cfg[CONFIG]} doesn't exist", OCF.ERR_INSTALLED))
    if not os.path.isdir(cfg[DATADIR]):
        problems.append(Problem(f"Datadir {cfg[DATADIR]} doesn't exist", OCF.ERR_INSTALLED))
    if ctx.accounts.user(cfg[USER]) is None:
        problems.append(Problem(f"User {cfg[USER]} doesn't exist", OCF.ERR_INSTALLED))
    if ctx.accounts.group(cfg[GROUP]) is None:
        problems.append(Problem(f"Group {cfg[GROUP]} doesn't exist", OCF.ERR_INSTALLED))
    return problems


# --- 3. The server process --------------------------------------------------------------------


SERVER_PROGRAMS = ("mysqld", "mariadbd", "mysqld-debug")
LAUNCHERS = ("runuser", "mysqld_safe", "safe_mysqld", "mariadbd-safe")


def server_uids(cfg: Config, ctx: Context) -> set[int]:
    """The uids a server of this resource runs as (user's; none if user is unknown)."""
    account = ctx.accounts.user(cfg[USER])
    return {account.uid} if account is not None else set()


def server_process(cfg: Config, ctx: Context, *, clean: bool = True) -> Process | None:
    """The server the pid file names, if it is verifiably ours, else None.

    The pid file is untrusted: it is read only if it is a small regular file,
    and the process it names counts only when it is a mysqld/mariadbd of
    user that started before the file was written (ocflib.proc.identify). A
    stale pid file is removed (clean) only when it is verifiably one: see
    remove_stale_pid_file.
    """
    pid_file = ctx.procs.read_pid_file(cfg[PID])
    if pid_file is None:
        return None
    uids = server_uids(cfg, ctx)
    server, why = ctx.procs.identify(pid_file, SERVER_PROGRAMS, uids)
    if server is not None:
        return server
    if clean:
        remove_stale_pid_file(ctx, pid_file, uids, why)
    return None


def remove_stale_pid_file(ctx: Context, pid_file: PidFile, uids: set[int], why: str) -> None:
    """Remove the pid file only when it is verifiably a stale pid file of this
    server: a small regular file holding one integer, owned by root or the
    server's user, whose process is gone (or was replaced by a newer one).
    Anything else is left where it is, with a warning: it is not ours."""
    p = ctx.procs.process(pid_file.pid) if pid_file.pid is not None else None
    replaced = p is not None and not p.zombie and p.start_time > pid_file.mtime + 2.0
    if not pid_file.plain:
        ctx.log.warning("pid file %s ignored and left alone: %s", pid_file.path, why)
    elif pid_file.uid not in uids | {0}:
        ctx.log.warning(
            "pid file %s belongs to uid %d, not to root or the server's user: "
            "ignored and left alone",
            pid_file.path,
            pid_file.uid,
        )
    elif p is not None and not p.zombie and not replaced:
        ctx.log.warning(
            "pid file %s names a process that is not this server (%s): "
            "not signalled, file left alone",
            pid_file.path,
            why,
        )
    else:
        try:
            os.unlink(pid_file.path)
            ctx.log.info("removed the stale pid file %s (%s)", pid_file.path, why)
        except FileNotFoundError:
            pass
        except OSError as err:
            ctx.log.warning("cannot remove the stale pid file %s: %s", pid_file.path, err.strerror)


def ping(cfg: Config, ctx: Context, timeout_s: float = 5.0) -> str:
    """Log in over the socket as test_user and quit: ok, denied or busy; raises
    OSError when the server does not accept connections."""
    result = ctx.sql.ping(
        cfg[SOCKET],
        cfg[TEST_USER],
        cfg.get(TEST_PASSWD) or "",
        min(timeout_s, max(ctx.deadline.remaining(), 0.5)),
    )
    if result.state == "denied":
        ctx.log.warning(
            "the server answers but refused test_user %s: %s", cfg[TEST_USER], result.message
        )
    elif result.state in ("busy", "error"):
        ctx.log.warning("the server answers with error %d: %s", result.code, result.message)
    return result.state


def _launcher_file(ctx: Context) -> str:
    name = ctx.env.instance.replace("/", "_")
    return os.path.join(ctx.env.rsctmp, f"mysql-py-{name}.launcher")


def prepare(cfg: Config, ctx: Context) -> None:
    """Log file, pid and socket directories, datadir initialisation; everything
    the server writes must be writable by user (else rc 4)."""
    account = ctx.accounts.user(cfg[USER])
    gid = ctx.accounts.group(cfg[GROUP])
    if account is None or gid is None:
        raise NotInstalledError(f"User {cfg[USER]} or group {cfg[GROUP]} doesn't exist")
    uid = account.uid
    log = cfg[LOG]
    # Directories the server writes to: created for it (owned by user) when missing.
    for directory in (
        os.path.dirname(log),
        os.path.dirname(cfg[PID]),
        os.path.dirname(cfg[SOCKET]),
    ):
        if not os.path.isdir(directory):
            ctx.log.info("Creating directory: %s", directory)
            os.makedirs(directory, mode=0o755)
            os.chown(directory, uid, gid)
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
        os.fchown(fd, uid, gid)
        os.close(fd)
    except FileExistsError:
        pass
    if cfg[ENABLE_CREATION] and not os.path.isdir(os.path.join(cfg[DATADIR], "mysql")):
        initialise(cfg, ctx, uid, gid)
    groups = {gid, account.gid} | ctx.accounts.groups(cfg[USER])
    for path in (log,):
        if not _writable(path, account, groups):
            raise PermError(
                f"Log file {path} is not writable by {cfg[USER]} (and not ours to chown)"
            )
    for directory in (os.path.dirname(cfg[PID]), os.path.dirname(cfg[SOCKET]), cfg[DATADIR]):
        if not _writable(directory, account, groups):
            raise PermError(f"Directory {directory} is not writable by {cfg[USER]}")


def _writable(path: str, account: Account, groups: set[int]) -> bool:
    """Would user write there? Owner, group or other write bit (no ACLs)."""
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return False
    if account.uid == 0:
        return True
    if st.st_uid == account.uid:
        return bool(st.st_mode & stat.S_IWUSR)
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IWGRP)
    return bool(st.st_mode & stat.S_IWOTH)


def initialise(cfg: Config, ctx: Context, uid: int, gid: int) -> None:
    """enable_creation: mysql_install_db / mariadb-install-db into the datadir."""
    bindir = os.path.dirname(binary(cfg, ctx))
    tool = (
        next(
            (
                p
                for p in (
                    os.path.join(bindir, "mysql_install_db"),
                    os.path.join(bindir, "mariadb-install-db"),
                )
                if os.access(p, os.X_OK)
            ),
            None,
        )
        or ctx.runner.which("mysql_install_db")
        or (ctx.runner.which("mariadb-install-db"))
    )
    if tool is None:
        raise NotInstalledError("enable_creation: no mysql_install_db/mariadb-install-db found")
    ctx.log.info("Initializing MySQL database in %s", cfg[DATADIR])
    result = ctx.runner.run([tool, f"--datadir={cfg[DATADIR]}", f"--user={cfg[USER]}"], ok=None)
    if result.returncode != 0:
        raise GenericError(
            f"Initialization failed: {tool} returned {result.returncode}: "
            f"{result.stderr.strip()[-200:]}"
        )


def server_argv(cfg: Config, ctx: Context) -> list[str]:
    """mysql-py's server command line: a promotable clone's replica starts with
    replication stopped (promote or the monitor decide)."""
    return command_line(cfg, ctx, ["--skip-slave-start"] if ctx.env.is_promotable else [])


def command_line(
    cfg: Config,
    ctx: Context,
    extra: Sequence[str] = (),
    *,
    program: str | None = None,
    log: str | None = None,
) -> list[str]:
    """The server's command line (as user, through runuser); extra options last.
    program and log replace binary and the error log, and then the
    additional_parameters are left out (galera-py's --wsrep-recover run)."""
    return [
        "runuser",
        "-u",
        cfg[USER],
        "-g",
        cfg[GROUP],
        "--",
        program or binary(cfg, ctx),
        f"--defaults-file={cfg[CONFIG]}",
        f"--pid-file={cfg[PID]}",
        f"--socket={cfg[SOCKET]}",
        f"--datadir={cfg[DATADIR]}",
        f"--log-error={log or cfg[LOG]}",
        # split on white space, quotes kept, as the reference's unquoted expansion does
        *([] if program else (cfg.get(ADDITIONAL_PARAMETERS) or "").split()),
        *extra,
    ]


def log_tail(cfg: Config, lines: int = 3) -> str:
    try:
        with open(cfg[LOG], "rb") as f:
            f.seek(0, 2)
            f.seek(max(f.tell() - 4096, 0))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    wanted = [
        ln for ln in text.splitlines() if "ERROR" in ln or "[ERROR]" in ln
    ] or text.splitlines()
    return " | ".join(ln.strip() for ln in wanted[-lines:])


def launch(cfg: Config, ctx: Context, argv: list[str]) -> int:
    """Spawn the server detached and record its launcher for stop; its pid."""
    launcher = ctx.procs.spawn(argv, {})
    try:
        os.makedirs(ctx.env.rsctmp, exist_ok=True)
        ctx.procs.write_pidfile(_launcher_file(ctx), launcher)
    except OSError as err:  # bookkeeping only: stop finds the launcher through the server
        ctx.log.warning("cannot record the launcher in %s: %s", ctx.env.rsctmp, err.strerror)
    ctx.log.info("started %s as %s (launcher pid %d)", argv[6], cfg[USER], launcher)
    return launcher


def failed_to_start(cfg: Config, ctx: Context, launcher: int) -> bool:
    """Is the server running (its pid file names it)? GenericError, with the
    error log's last lines, when the launcher exited and no server runs."""
    code = ctx.procs.reap(launcher)
    running = server_process(cfg, ctx, clean=False) is not None
    if code is not None and not running:
        raise GenericError(
            f"MySQL server failed to start (launcher exited {code}): "
            f"{log_tail(cfg) or 'see ' + cfg[LOG]}"
        )
    return not running


def start_server(cfg: Config, ctx: Context) -> None:
    """Launch the server detached and return as soon as it accepts connections."""
    launcher = launch(cfg, ctx, server_argv(cfg, ctx))

    def accepting() -> bool:
        if failed_to_start(cfg, ctx, launcher):
            return False
        try:
            ping(cfg, ctx, timeout_s=2.0)
            return True
        except OSError:
            return False

    if not ctx.deadline.wait_until(accepting, first=0.01, step=0.1):
        raise GenericError(
            f"MySQL server did not accept connections within {ctx.deadline.elapsed():.0f}s: "
            f"{log_tail(cfg) or 'see ' + cfg[LOG]}"
        )


def launcher_process(ctx: Context, server: Process | None) -> Process | None:
    """The process that launched the server: from our launcher file, else (the
    file could not be written) the server's session leader when that is a
    launcher (runuser, mysqld_safe). mysqld_safe restarts a killed server, so a
    SIGKILL goes to the launcher's whole session."""
    launcher = ctx.procs.read_pidfile(_launcher_file(ctx))
    if launcher is None and server is not None and server.sid not in (0, 1, server.pid):
        leader = ctx.procs.process(server.sid)
        if leader is not None and leader.program in LAUNCHERS:
            launcher = leader
    return launcher


def stop_server(cfg: Config, ctx: Context) -> None:
    """SIGTERM (a clean InnoDB shutdown); SIGKILL only close to the deadline."""
    from ocflib.proc import SIGKILL, SIGTERM

    procs = ctx.procs
    server = server_process(cfg, ctx)
    launcher = launcher_process(ctx, server)
    if server is not None:
        procs.send_signal(server, SIGTERM)
        if not procs.wait_gone([server], max(ctx.deadline.remaining() - 2.0, 1.0), step=0.05):
            ctx.log.warning(
                "MySQL pid %d did not stop on SIGTERM in time: sending SIGKILL", server.pid
            )
            if launcher is not None:
                procs.kill_session(launcher)  # mysqld_safe would restart a killed mysqld
            procs.send_signal(server, SIGKILL)
            if not procs.wait_gone([server], 5.0):
                raise GenericError(f"MySQL pid {server.pid} survived SIGKILL")
    # mysqld_safe leaves once mysqld has shut down
    if launcher is not None and not procs.wait_gone([launcher], 2.0):
        procs.kill_session(launcher)
    # What the server started and left behind (an SST's rsync daemon, socat,
    # mariabackup) is still in the launcher's group, also after the launcher left.
    left = procs.end_group(_launcher_file(ctx))
    if left:
        ctx.log.warning(
            "ended what the server left running in its process group: pid %s",
            ", ".join(str(pid) for pid in left),
        )
    procs.remove_own_file(_launcher_file(ctx), ctx.log.warning)
    server_process(cfg, ctx)  # a pid file left behind is removed if verifiably stale
    _remove_socket(cfg[SOCKET])


def _remove_socket(path: str) -> None:
    """Remove a leftover server socket (only a socket: never another file)."""
    import stat

    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except OSError:
        pass


# --- 4. SQL (pymysql, imported only where SQL is needed) --------------------------------------


def connect(cfg: Config, ctx: Context, *, admin: bool = True, timeout: float | None = None) -> Any:
    """A connection over the socket as replication_user (admin) or test_user;
    statements time out after `timeout` seconds (default: the deadline)."""
    user, password = (
        (cfg[REPL_USER], cfg.get(REPL_PASSWD) or "")
        if admin
        else (cfg[TEST_USER], cfg.get(TEST_PASSWD) or "")
    )
    left = max(ctx.deadline.remaining(), 1.0)
    if timeout is not None:
        left = min(left, timeout)
    try:
        return ctx.sql.connect(
            unix_socket=cfg[SOCKET],
            user=user,
            password=password,
            timeout=left,
            ssl=bool(cfg[REPL_SSL]),
            verify_peer=lambda pid, uid: check_peer(cfg, ctx, pid, uid),
        )
    except ctx.sql.error as err:
        raise GenericError(f"cannot log in to MySQL as {user}: {_sql_error(err)}") from err


def check_peer(cfg: Config, ctx: Context, pid: int, uid: int) -> str | None:
    """Why the process listening on the socket must not get a password, or None:
    it must be a mysqld/mariadbd of user (the socket's directory may belong to
    that user, who could otherwise plant a listener that collects passwords)."""
    p = ctx.procs.process(pid) if pid > 0 else None
    if p is None:
        return f"cannot tell which process listens on {cfg[SOCKET]}; no password sent"
    if p.program not in SERVER_PROGRAMS or not {p.uid, p.euid} & server_uids(cfg, ctx):
        return (
            f"{cfg[SOCKET]} is served by {p.program}[{p.pid}] of uid {p.euid}, not by a "
            f"MySQL server of {cfg[USER]}; no password sent"
        )
    return None


def _sql_error(err: BaseException) -> str:
    args: tuple[object, ...] = tuple(getattr(err, "args", ()))
    if len(args) >= 2:
        return f"{args[1]} ({args[0]})"
    return str(err)


def query(conn: Any, sql: str, args: Sequence[object] | None = None) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    return list(rows or [])
