"""Faults a production node meets, planted in the overlay sandbox (own root, mount,
network and PID namespaces): a FIFO or a directory where a pid file belongs, a
precious file named as the pid file, a pid file naming someone else's process,
a read-only HA_RSCTMP. Each agent must behave at least as safely as the shell
agent it replaces; the machine's own files and processes are out of reach.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import need
from tests.sandbox import SANDBOX_AGENTS, SRC, run_sandboxed

pytestmark = pytest.mark.integration
MYSQL = f"{SANDBOX_AGENTS}/mysql-py"
IPADDR2 = f"{SANDBOX_AGENTS}/IPaddr2-py"


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("unshare", "chroot", "mariadbd", "runuser", "setpriv", root=True)


def mysql_env(**params: str) -> dict[str, str]:
    return {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "db",
        "OCF_RESKEY_CRM_meta_timeout": "10000",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "OCF_RESKEY_pid": "/run/mysqld/db.pid",
        "OCF_RESKEY_socket": "/run/mysqld/db.sock",
        **{f"OCF_RESKEY_{k}": v for k, v in params.items()},
    }


def lines(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if ln.strip()]


# probe, recurring monitor, stop: each prints its rc and how long it took.
_ACTIONS = r"""
t() {{ s=$(date +%s%N); "$@"; rc=$?; e=$(( ($(date +%s%N) - s) / 1000000 ));
      [ $e -lt 3000 ] && echo "rc=$rc" || echo "rc=$rc SLOW ${{e}}ms"; }}
OCF_RESKEY_CRM_meta_interval=0 t {agent} monitor
OCF_RESKEY_CRM_meta_interval=10000 t {agent} monitor
t {agent} stop
"""


@pytest.mark.parametrize(
    ("plant", "after"),
    [
        ("mkfifo /run/mysqld/db.pid", "f"),  # fifo
        ("mkdir /run/mysqld/db.pid", "d"),  # directory
        ("mkfifo /tmp/fifo && ln -s /tmp/fifo /run/mysqld/db.pid", "s"),  # symbolic link
    ],
)
def test_a_bogus_pid_file_never_hangs_or_fails_an_action(plant: str, after: str) -> None:
    """A FIFO would block open() forever; a directory made probe and stop fail (1)."""
    script = (
        "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld && "
        + plant
        + "\n"
        + _ACTIONS.format(agent=MYSQL)
        + "stat -c %F /run/mysqld/db.pid | cut -c1"
    )
    result = run_sandboxed(["/bin/sh", "-c", script], mysql_env())
    assert lines(result.stdout) == ["rc=7", "rc=7", "rc=0", after], result.stdout + result.stderr
    assert "ignored and left alone" in result.stderr
    assert result.changes == [], result.changes


def test_probe_never_deletes_a_file_that_is_not_a_stale_pid_file() -> None:
    """The reference removes whatever `pid` names when no server runs; pyha removes only
    a verifiable stale pid file (one integer, owned by root or the server's user, its
    process gone), and says so."""
    script = (
        "mkdir -p /run/mysqld && echo 'precious data' > /run/mysqld/db.pid && "
        f"OCF_RESKEY_CRM_meta_interval=0 {MYSQL} monitor; echo rc=$?; cat /run/mysqld/db.pid\n"
        # a stale pid file of a server of uid nobody (not the server's user): kept too
        "echo 999999 > /run/mysqld/db.pid && chown nobody /run/mysqld/db.pid && "
        f"OCF_RESKEY_CRM_meta_interval=0 {MYSQL} monitor; echo rc=$?; cat /run/mysqld/db.pid\n"
        # a real stale pid file: removed, and logged
        "chown mysql /run/mysqld/db.pid && "
        f"OCF_RESKEY_CRM_meta_interval=0 {MYSQL} monitor; echo rc=$?; "
        "test -e /run/mysqld/db.pid && echo kept || echo removed\n"
    )
    result = run_sandboxed(["/bin/sh", "-c", script], mysql_env())
    assert lines(result.stdout) == ["rc=7", "precious data", "rc=7", "999999", "rc=7", "removed"], (
        result.stdout + result.stderr
    )
    assert "removed the stale pid file /run/mysqld/db.pid (no process 999999" in result.stderr
    assert result.changes == [], result.changes


@pytest.mark.parametrize(
    ("runs_as", "age", "logged"),
    [
        # a process of another user named mysqld: the file is not verifiably stale either
        ("nobody", "", "not signalled, file left alone"),
        # the server's user, but started after the pid file was written: a reused pid
        (
            "mysql",
            "touch -d '1 hour ago' /run/mysqld/db.pid",
            "removed the stale pid file /run/mysqld/db.pid (process",
        ),
    ],
)
def test_stop_never_signals_a_process_it_has_not_identified(
    runs_as: str, age: str, logged: str
) -> None:
    """The mysql user writes the pid of another process named mysqld into the pid file:
    the reference's stop kills it; pyha's leaves it alone (and reports not running)."""
    script = (
        "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld && cp /bin/sleep /tmp/mysqld && "
        f"setpriv --reuid={runs_as} --regid=nogroup --clear-groups /tmp/mysqld 600 &\n"
        'V=$!; sleep 0.2; runuser -u mysql -- sh -c "echo $V > /run/mysqld/db.pid"\n'
        f"{age}\n"
        f"OCF_RESKEY_CRM_meta_interval=10000 {MYSQL} monitor; echo rc=$?\n"
        f"{MYSQL} stop; echo rc=$?\n"
        "sleep 0.2; kill -0 $V && echo alive || echo killed; kill -9 $V\n"
    )
    result = run_sandboxed(["/bin/sh", "-c", script], mysql_env())
    assert lines(result.stdout) == ["rc=7", "rc=0", "alive"], result.stdout + result.stderr
    assert logged in result.stderr
    assert result.changes == [], result.changes


_READ_ONLY_RSCTMP_MYSQL = r"""
mkdir -p /tmp/db/data /run/mysqld && chown -R mysql:mysql /tmp/db /run/mysqld
printf '[mysqld]\nskip-networking\n' > /tmp/db/my.cnf
mariadb-install-db --user=mysql --datadir=/tmp/db/data >/dev/null 2>&1 || echo install-failed
mkdir -p /run/resource-agents && mount -t tmpfs -o ro pyha-ro /run/resource-agents
{agent} start; echo rc=$?
OCF_RESKEY_CRM_meta_interval=10000 {agent} monitor; echo rc=$?
{agent} stop; echo rc=$?
pgrep -x mariadbd >/dev/null && echo server-running || echo server-stopped
"""


def test_mysql_with_a_read_only_rsctmp_starts_and_stops_cleanly() -> None:
    """The launcher's pid file is bookkeeping: start must not fail over it (the reference's
    start succeeds; pyha's returned 1 and left the server running)."""
    params = {
        "binary": "/usr/sbin/mariadbd",
        "config": "/tmp/db/my.cnf",
        "datadir": "/tmp/db/data",
        "log": "/tmp/db/err.log",
    }
    result = run_sandboxed(
        ["/bin/sh", "-c", _READ_ONLY_RSCTMP_MYSQL.format(agent=MYSQL)], mysql_env(**params)
    )
    assert lines(result.stdout) == ["rc=0", "rc=0", "rc=0", "server-stopped"], (
        result.stdout + result.stderr
    )
    assert "cannot record the launcher in /run/resource-agents" in result.stderr
    # mariadb-install-db (the test's setup, not the agent) sets the PAM helper's mode
    assert [c for c in result.changes if "auth_pam_tool" not in c] == [], result.changes


_READ_ONLY_RSCTMP_IP = r"""
ip link add d0 type veth peer name d1 && ip addr add 192.0.2.1/24 dev d0 && ip link set d1 up && ip link set d0 up
has() {{ ip -o addr show dev d0 | grep -q '192.0.2.50/' && echo on || echo off; }}
announcer() {{ pgrep -f 'python3 -I[S] .*IPaddr2-py start' >/dev/null && echo announcing || echo quiet; }}
mkdir -p /run/resource-agents
# 1. started with a writable HA_RSCTMP (announcer in the background), then it turns read-only
{agent} start; echo rc=$?; has; announcer
mount --bind /run/resource-agents /run/resource-agents
mount -o remount,bind,ro /run/resource-agents
{agent} stop; echo rc=$?; has; announcer
# 2. started with a read-only HA_RSCTMP: the announcements go out in the foreground
{agent} start; echo rc=$?; has; announcer
{agent} stop; echo rc=$?; has
"""


@pytest.mark.parametrize(
    "parent",
    [
        "",
        # A parent that ignores SIGTERM (and SIGINT): the agent inherits the ignored
        # disposition (Debian 11's shell gave it to the agents it ran here).
        "trap '' TERM INT\n",
    ],
    ids=["plain", "sigterm-ignored"],
)
def test_ipaddr2_with_a_read_only_rsctmp_never_fails_stop_or_leaves_an_announcer(
    parent: str,
) -> None:
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "vip",
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "OCF_RESKEY_ip": "192.0.2.50",
        "OCF_RESKEY_nic": "d0",
        "OCF_RESKEY_cidr_netmask": "24",
        "OCF_RESKEY_check_duplicate": "false",
    }
    script = parent + _READ_ONLY_RSCTMP_IP.format(agent=IPADDR2)
    result = run_sandboxed(["/bin/sh", "-c", script], env)
    assert lines(result.stdout) == [
        "rc=0",
        "on",
        "announcing",
        "rc=0",
        "off",
        "quiet",
        "rc=0",
        "on",
        "quiet",
        "rc=0",
        "off",
    ], result.stdout + result.stderr
    assert "announcing in the foreground" in result.stderr
    assert result.changes == [], result.changes


_HUNG_WRITE = """
import subprocess, sys, time
sys.path.insert(0, "/run/pyha-src")
from ocflib.errors import CommandTimeout
from ocflib.run import Deadline, ProcessRunner
started = time.monotonic()
try:
    ProcessRunner(Deadline(3.0)).run(["dd", "if=/dev/zero", "of=/tmp/frozen/x", "count=1"])
    print("returned")
except CommandTimeout:
    print("timeout")
finally:
    print(f"{time.monotonic() - started:.2f}")
    subprocess.run(["fsfreeze", "-u", "/tmp/frozen"], check=False)
"""


def _thaw(device: str) -> None:
    """Thaw the file system on device wherever it is mounted (a safety net: the
    sandboxed script thaws it itself)."""
    import subprocess

    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/mountinfo") as f:
                targets = [ln.split(" ")[4] for ln in f if f" - ext4 {device} " in ln]
        except OSError:
            continue
        for target in targets:
            subprocess.run(
                ["nsenter", "-t", name, "-m", "fsfreeze", "-u", target],
                capture_output=True,
                check=False,
            )


def test_a_command_stuck_in_uninterruptible_io_never_outlasts_the_action() -> None:
    """A write to a frozen file system sleeps in D state: SIGKILL cannot end it. The
    runner gives up on it before Pacemaker's timeout (here 3 s), not 1 s after it."""
    import subprocess
    import tempfile
    import threading

    need("fsfreeze", "losetup", "mkfs.ext4", "dd", "nsenter")
    with tempfile.TemporaryDirectory(prefix="pyha-frozen-", dir="/var/tmp") as work:
        image = os.path.join(work, "disk.img")
        with open(image, "wb") as f:
            f.truncate(16 << 20)
        subprocess.run(["mkfs.ext4", "-q", image], check=True, capture_output=True)
        loop = subprocess.run(
            ["losetup", "-f", "--show", image], capture_output=True, text=True, check=True
        ).stdout.strip()
        safety = threading.Timer(20.0, _thaw, [loop])
        try:
            safety.start()
            result = run_sandboxed(
                ["/usr/bin/python3", "-c", _HUNG_WRITE],
                {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                setup=f'mkdir "$R/tmp/frozen" && mount {loop} "$R/tmp/frozen" && '
                'fsfreeze -f "$R/tmp/frozen"',
            )
        finally:
            safety.cancel()
            _thaw(loop)
            for _ in range(50):  # the sandbox's mount goes with its namespace
                if (
                    subprocess.run(
                        ["losetup", "-d", loop], capture_output=True, check=False
                    ).returncode
                    == 0
                ):
                    break
                time.sleep(0.1)
    outcome, elapsed = result.stdout.split()[:2]
    assert outcome == "timeout", result.stdout + result.stderr
    assert 2.0 <= float(elapsed) < 3.0, result.stdout


_FAKE_SERVER = r"""
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld && : > /tmp/received && chown mysql /tmp/received
cp "$(readlink -f /usr/bin/python3)" /tmp/mysqld
# the pid file names a mysqld of the mysql user, as the server would
setpriv --reuid=mysql --regid=mysql --clear-groups /tmp/mysqld -c 'import time; time.sleep(600)' &
S=$!; sleep 0.3; echo $S > /run/mysqld/db.pid; touch -d '+2 seconds' /run/mysqld/db.pid
setpriv --reuid=mysql --regid=mysql --clear-groups {listener} {fake} /run/mysqld/db.sock /tmp/received > /tmp/ready &
L=$!
for i in $(seq 100); do grep -q ready /tmp/ready && break; sleep 0.05; done
OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=10000 {agent} monitor; echo rc=$?
grep -c s3cr3t-pw /tmp/received
kill -9 $S $L
"""


@pytest.mark.parametrize(
    ("listener", "reason"),
    [
        # a listener that is not the server: refused before anything is sent
        ("/usr/bin/python3", "not by a MySQL server of mysql; no password sent"),
        # one that passes for the server asks for the password in cleartext: refused
        ("/tmp/mysqld", "which sends the password in cleartext: refused without TLS"),
    ],
)
def test_no_password_reaches_a_fake_server_on_the_socket(listener: str, reason: str) -> None:
    """The socket's directory belongs to the mysql user, who can plant a listener there."""
    script = _FAKE_SERVER.format(
        listener=listener, agent=MYSQL, fake=f"{SRC}/tests/integration/fake_mysql_server.py"
    )
    result = run_sandboxed(
        ["/bin/sh", "-c", script], mysql_env(test_passwd="s3cr3t-pw", test_user="monitor")
    )
    assert lines(result.stdout) == ["rc=1", "0"], result.stdout + result.stderr
    assert reason in result.stderr, result.stderr
    assert "s3cr3t-pw" not in result.stderr
    assert result.changes == [], result.changes


GALERA = f"{SANDBOX_AGENTS}/galera-py"
# A one-node Galera cluster in the sandbox, then galera-py's recurring monitor with its
# doubt file (HA_RSCTMP/galera-py-db.doubt) planted as a link to a machine file and as a
# FIFO, healthy and with every connection slot taken (the monitor then keeps that doubt).
_GALERA_DOUBT = r"""
t() {{ s=$(date +%s%N); "$@"; rc=$?; e=$(( ($(date +%s%N) - s) / 1000000 ));
      [ $e -lt 8000 ] && echo "rc=$rc" || echo "rc=$rc SLOW ${{e}}ms"; }}
kind() {{ if [ -L $D ]; then echo link; elif [ -p $D ]; then echo fifo;
          elif [ -f $D ]; then echo regular; elif [ -e $D ]; then echo other; else echo none; fi; }}
mkdir -p /tmp/g/data /run/mysqld /run/resource-agents && chown -R mysql:mysql /tmp/g /run/mysqld
printf '%s\n' '[mysqld]' bind-address=127.0.0.1 max_connections=10 binlog_format=ROW \
    innodb_autoinc_lock_mode=2 innodb_buffer_pool_size=16M wsrep_on=ON \
    wsrep_provider=/usr/lib/galera/libgalera_smm.so wsrep_cluster_address=gcomm://127.0.0.1 \
    wsrep_node_address=127.0.0.1 > /tmp/g/my.cnf
mariadb-install-db --user=mysql --datadir=/tmp/g/data >/dev/null 2>&1 || echo install-failed
runuser -u mysql -- /usr/sbin/mariadbd --defaults-file=/tmp/g/my.cnf --datadir=/tmp/g/data \
    --socket=/run/mysqld/g.sock --pid-file=/run/mysqld/g.pid --log-error=/tmp/g/err.log \
    --wsrep-new-cluster &
for i in $(seq 300); do
    mariadb -S /run/mysqld/g.sock -N -B -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" \
        2>/dev/null | grep -q Synced && break
    sleep 0.2
done
cp /etc/hostname /tmp/hostname.before
D=/run/resource-agents/galera-py-db.doubt
ln -s /etc/hostname $D; t {agent} monitor; kind
for i in $(seq 12); do  # every slot (at least 10, one more for an administrator)
    mariadb -S /run/mysqld/g.sock -e 'SELECT SLEEP(30)' >/dev/null 2>&1 &
    P="$P $!"
done
sleep 2
rm -f $D; ln -s /etc/hostname $D; t {agent} monitor; kind
rm -f $D; mkfifo $D; t {agent} monitor; kind
cmp -s /etc/hostname /tmp/hostname.before && echo hostname-intact || echo hostname-changed
kill $(cat /run/mysqld/g.pid) $P; wait
"""


def test_galera_doubt_file_planted_as_a_link_or_a_fifo() -> None:
    """galera-py keeps how long a Promoted member has been in doubt (logins refused,
    joining) in HA_RSCTMP. A link planted there to a machine file is never followed:
    a healthy monitor removes the link (not its target), a busy one replaces it with
    its own file; a FIFO never blocks the monitor. The answer stays the server's:
    Promoted (8), with the busy warning."""
    need("/usr/lib/galera/libgalera_smm.so", "mariadb-install-db", root=True)
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "db",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "OCF_RESKEY_CRM_meta_interval": "10000",
        "OCF_RESKEY_CRM_meta_timeout": "30000",
        "OCF_RESKEY_CRM_meta_on_node": "g1",
        "OCF_RESKEY_CRM_meta_promotable": "true",
        "OCF_RESKEY_binary": "/usr/sbin/mariadbd",
        "OCF_RESKEY_config": "/tmp/g/my.cnf",
        "OCF_RESKEY_datadir": "/tmp/g/data",
        "OCF_RESKEY_pid": "/run/mysqld/g.pid",
        "OCF_RESKEY_socket": "/run/mysqld/g.sock",
        "OCF_RESKEY_log": "/tmp/g/err.log",
        "OCF_RESKEY_wsrep_cluster_address": "gcomm://g1",
    }
    result = run_sandboxed(["/bin/sh", "-c", _GALERA_DOUBT.format(agent=GALERA)], env)
    assert lines(result.stdout) == [
        "rc=8",
        "none",
        "rc=8",
        "regular",
        "rc=8",
        "regular",
        "hostname-intact",
    ], result.stdout + result.stderr
    assert "too many connections" in result.stderr
    assert [c for c in result.changes if "auth_pam_tool" not in c] == [], result.changes
