"""Differential test: validate-all of each pyha agent against the agent it replaces.

Hypothesis draws parameter sets from the reference agent's own meta-data (every
parameter it declares, valid values and near-valid ones: empty strings, case
variants, surrounding white space, units, relative names, defaults spelled out)
plus values that matter for each agent (addresses, devices, paths, names). Both
agents run validate-all with the same parameters in one long-lived overlay
sandbox (own root, network, mount and PID namespaces; a veth eth0 with
192.0.2.1/24 and 2001:db8::1/64). Their exit codes must be equal, or the
difference must be one that docs/differences.md lists as intentional, with its reason
(KNOWN below names its row for each).
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Generator, Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, need
from tests.sandbox import SANDBOX_AGENTS, Sandbox

pytestmark = pytest.mark.integration

OCF_ROOT = "/usr/lib/ocf"
REFERENCE = {
    "IPaddr2-py": f"{OCF_ROOT}/resource.d/heartbeat/IPaddr2",
    "Filesystem-py": f"{OCF_ROOT}/resource.d/heartbeat/Filesystem",
    "mysql-py": f"{OCF_ROOT}/resource.d/heartbeat/mysql",
    "drbd-py": f"{OCF_ROOT}/resource.d/linbit/drbd",
    "galera-py": f"{OCF_ROOT}/resource.d/heartbeat/galera",
}
NETWORK = (
    "ip link add eth0 type veth peer name eth1 && ip link set eth1 up && ip link set eth0 up && "
    "ip addr add 192.0.2.1/24 dev eth0 && ip -6 addr add 2001:db8::1/64 dev eth0 nodad"
)
EXAMPLES = int(os.environ.get("PYHA_DIFFERENTIAL_EXAMPLES", "100"))
# CI draws the same examples every run (a difference found by chance must not make one
# run red and the next green); PYHA_DIFFERENTIAL_EXPLORE=1 draws new ones.
EXPLORE = os.environ.get("PYHA_DIFFERENTIAL_EXPLORE") == "1"


def reference_params(path: str) -> list[tuple[str, str, str | None, bool]]:
    """(name, content type, default, required) of every parameter the reference declares."""
    out = subprocess.run(
        [path, "meta-data"],
        env={"OCF_ROOT": OCF_ROOT, "PATH": os.defpath},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    params = []
    for p in ET.fromstring(out).iter("parameter"):
        content = p.find("content")
        kind = content.get("type", "string") if content is not None else "string"
        default = content.get("default") if content is not None else None
        params.append((p.get("name", ""), kind, default, p.get("required") in ("1", "true")))
    return params


BOOLEANS = [
    "true",
    "false",
    "yes",
    "no",
    "1",
    "0",
    "on",
    "off",
    "True",
    "FALSE",
    "Yes",
    "y",
    "n",
    " true",
    "true ",
    "",
    "maybe",
]
INTEGERS = ["0", "1", "-1", "5", "200", " 5", "5 ", "5s", "", "abc", "99999", "3.5"]

# Values that matter for each agent's parameters (drawn besides the generic ones).
SPECIFIC: dict[str, dict[str, list[str]]] = {
    "IPaddr2-py": {
        "ip": [
            "192.0.2.10",
            "192.0.2.10 ",
            " 192.0.2.10",
            "2001:db8::10",
            "2001:DB8::10",
            "fe80::10",
            "192.0.2.300",
            "198.51.100.7",
            "127.0.0.2",
            "::1",
            "192.0.2",
            "192.0.2.10/24",
            "x",
        ],
        "nic": ["eth0", "lo", "eth9", "eth0:1", "ETH0", "eth0 ", ""],
        "cidr_netmask": [
            "24",
            "32",
            "33",
            "0",
            "255.255.255.0",
            "255.255.0.255",
            " 24",
            "24s",
            "/24",
            "64",
            "128",
            "129",
        ],
        "broadcast": ["192.0.2.255", "+", "-", "x", "192.0.2.256"],
        "iflabel": ["vip", "vip1", "a-very-long-label-text", "x y"],
        "mac": ["00:11:22:33:44:55", "zz"],
        "arp_sender": ["send_arp", "iputils_arping", "libnet_arping", "ipoibarping", "bogus"],
        "arp_bg": ["true", "false", "yes", "bogus"],
        "preferred_lft": ["forever", "0", "10", "10s", "bogus"],
        "clusterip_hash": ["sourceip", "sourceip-sourceport", "sourceip-sourceport-destport"],
    },
    "Filesystem-py": {
        "device": [
            "/dev/loop7",
            "/dev/null",
            "/dev/nonexistent",
            "UUID=1234-abcd",
            "-U 1234",
            "LABEL=data",
            "-L data",
            "--label=data",
            "server:/export",
            "//server/share",
            "/srv",
            "tmpfs",
            "-o",
            "relative/dev",
            " /dev/null",
        ],
        "directory": [
            "/mnt/data",
            "/mnt/data/",
            "/srv/x",
            "/",
            "relative",
            "/mnt/../etc",
            "/mnt/da ta",
        ],
        "fstype": [
            "ext4",
            "xfs",
            "nfs",
            "nfs4",
            "cifs",
            "tmpfs",
            "none",
            "EXT4",
            "bogusfs",
            "ocfs2",
            "btrfs",
        ],
        "options": ["", "ro", "noatime,nodiratime", "bind", "ro,bind", "loop", "x y"],
        "run_fsck": ["auto", "force", "no", "AUTO", "bogus"],
        "statusfile_prefix": [".Filesystem_status/", "st_", "a/b/", "../x", "/abs/"],
    },
    "mysql-py": {
        "binary": [
            "mysqld_safe",
            "/usr/bin/mysqld_safe",
            "/usr/sbin/mariadbd",
            "mariadbd",
            "/usr/sbin/mysqld",
            "/nonexistent/mysqld",
            "bin/mysqld",
        ],
        "config": ["/etc/mysql/my.cnf", "/etc/mysql/mariadb.cnf", "/nonexistent.cnf", "my.cnf"],
        "datadir": ["/var/lib/mysql", "/nonexistent", "mysql", "/var/lib/mysql/"],
        "user": ["mysql", "root", "nobody", "no-such-user"],
        "group": ["mysql", "root", "nogroup", "no-such-group"],
        "test_table": ["mysql.user", "user", "a.b.c", "db.t1", "`x`", "mysql.user;"],
        "replication_port": ["3306", "0", "65536", "x"],
        "additional_parameters": ["", "--skip-grant-tables", "--x='unterminated", "--a=1 --b=2"],
    },
    "galera-py": {
        "wsrep_cluster_address": [
            "gcomm://node1,node2,node3",
            "gcomm://node1",
            "gcomm://10.0.0.1:4567,10.0.0.2:4567",
            "gcomm://",
            "node1,node2",
            "gcomm://node1?pc.wait_prim=no",
        ],
        "cluster_host_map": ["", "node1:10.0.0.1;node2:10.0.0.2", "node1=g1", "x"],
        "binary": ["/usr/sbin/mariadbd", "mysqld_safe", "/nonexistent/mysqld", "bin/mysqld"],
        "config": ["/etc/mysql/my.cnf", "/nonexistent.cnf", "my.cnf"],
        "datadir": ["/var/lib/mysql", "/nonexistent", "mysql"],
        "user": ["mysql", "nobody", "no-such-user"],
        "group": ["mysql", "nogroup", "no-such-group"],
        "check_user": ["", "root", "clustercheck"],
    },
    "drbd-py": {
        "drbd_resource": ["r0", "mysql_res", "-x", "r 0"],
        "drbdconf": ["/etc/drbd.conf", "/nonexistent.conf", "drbd.conf"],
        "adjust_master_score": ["0 10 1000 10000", "0 10 1000", "x", "10000 1000 10 0"],
        "remove_master_score_if_peer_primary": ["false", "true", "unexpected", "bogus"],
        "require_drbd_module_version_ge": ["8.0.0", "9.0", "x"],
        "require_drbd_module_version_lt": ["10.0.0", "8.4.0"],
    },
}
REQUIRED_ALWAYS = {
    "IPaddr2-py": {"ip"},
    "Filesystem-py": {"device", "directory", "fstype"},
    "drbd-py": {"drbd_resource"},
    "mysql-py": set(),
    "galera-py": {"wsrep_cluster_address"},
}


def variants(kind: str, default: str | None) -> list[str]:
    """Generic near-valid values for a parameter of this content type."""
    base = {"boolean": BOOLEANS, "integer": INTEGERS}.get(kind, ["", "x"])
    out = list(base)
    if default:
        out += [default, f" {default} ", default.upper()]
        if "/" in default:
            out.append(os.path.basename(default))
    return out


def param_sets(agent: str) -> st.SearchStrategy[dict[str, str]]:
    declared = reference_params(REFERENCE[agent])
    choices: dict[str, st.SearchStrategy[str]] = {}
    for name, kind, default, _required in declared:
        values = SPECIFIC[agent].get(name, []) + variants(kind, default)
        choices[name] = st.sampled_from(sorted(set(values)))
    must = REQUIRED_ALWAYS[agent]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, str]:
        chosen = draw(st.sets(st.sampled_from(sorted(choices)), max_size=4))
        names = sorted(chosen | must)
        values = {n: draw(choices[n]) for n in names}
        for n in must:  # the required ones mostly valid: the others are what vary
            if n in SPECIFIC[agent] and draw(st.integers(0, 3)) > 0:
                values[n] = SPECIFIC[agent][n][0]
        return values

    return build()


def environment(agent: str, params: Mapping[str, str]) -> dict[str, str]:
    env = {
        "OCF_ROOT": OCF_ROOT,
        "OCF_RESOURCE_INSTANCE": "r",
        "OCF_RA_VERSION_MAJOR": "1",
        "OCF_RA_VERSION_MINOR": "1",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HA_RSCTMP": "/run/resource-agents",
        "OCF_RESOURCE_TYPE": os.path.basename(REFERENCE[agent]),
    }
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return env


# --- the differences docs/differences.md lists as intentional ------------------------------
#
# Each rule names the row of docs/differences.md that explains it,
# and checks that the difference is exactly that one: where it can, by running an agent
# again with that one thing changed.

MYSQL_PATHS = ("config", "datadir", "log", "pid", "socket")
PATHS = {"Filesystem-py": ("directory",), "mysql-py": MYSQL_PATHS, "galera-py": MYSQL_PATHS}
INTEGERS_OF = {
    "IPaddr2-py": ("lvs_ipv6_addrlabel_value", "arp_interval", "arp_count", "arp_count_refresh"),
    "mysql-py": ("max_slave_lag", "replication_port"),
    "drbd-py": ("wfc_timeout",),
}


class Rerun:
    """Runs an agent again in the same sandbox with other parameters or depth."""

    def __init__(self, box: Sandbox, agent: str, meta: Mapping[str, str] | None = None) -> None:
        self.box = box
        self.agent = agent
        self.meta = {f"OCF_RESKEY_CRM_meta_{k}": v for k, v in (meta or {}).items()}

    def reference(self, params: Mapping[str, str]) -> int:
        env = environment(self.agent, params) | self.meta
        return self.box.run([REFERENCE[self.agent], "validate-all"], env).returncode

    def pyha(self, params: Mapping[str, str], depth: int = 0) -> int:
        env = environment(self.agent, params) | {"OCF_CHECK_LEVEL": str(depth)}
        return self.box.run([f"{SANDBOX_AGENTS}/{self.agent}", "validate-all"], env).returncode


TRUE_WORDS = {"yes", "true", "1", "YES", "TRUE", "True", "ja", "on", "ON"}  # ocf_is_true


def known(again: Rerun, params: dict[str, str], ref: int, ours: int) -> str | None:
    """The docs/differences.md row that explains this difference, or None (a bug)."""
    agent = again.agent
    if agent == "galera-py" and ref == OCF_ERR_CONFIGURED and not again.meta:
        # resource-agents 4.7 (Debian 11) refuses anything but a promotable clone at every
        # depth, 4.12 at depth 10: judged again as Pacemaker runs it, in such a clone.
        promotable = Rerun(again.box, agent, {"promotable": "true"})
        in_a_clone = promotable.reference(params)
        if in_a_clone != ref:
            if in_a_clone != ours and not known(promotable, params, in_a_clone, ours):
                return None
            return "galera-py checks for a promotable clone at depth 10 only, as 4.12 does"
    stripped = {k: v.strip() for k, v in params.items()}
    if stripped != params and again.reference(stripped) == ours:
        return "surrounding white space is never part of a value"
    set_only = {k: v for k, v in params.items() if v.strip()}
    if set_only != params and again.reference(set_only) == ours:
        return "an empty value is unset: the default applies"
    if ref != 0 and ours != 0:
        return "both refuse; pyha names configuration errors (6) before node checks"
    if agent in ("mysql-py", "galera-py") and ref == 5 and ours == 0 and "client_binary" in params:
        return "client_binary is not needed (pyha speaks the protocol itself)"
    if (
        agent == "IPaddr2-py"
        and (ref, ours) == (OCF_ERR_CONFIGURED, 0)
        and ":" not in stripped.get("ip", "")
        and stripped.get("lvs_ipv6_addrlabel") in TRUE_WORDS
    ):
        return "lvs_ipv6_addrlabel is ignored for an IPv4 address (as resource-agents 4.16 does)"
    if ours == OCF_ERR_CONFIGURED and ref == 0:
        for name in PATHS.get(agent, ()):
            if not stripped.get(name, "/").startswith("/") and stripped.get(name):
                return "a relative path is refused (Pacemaker defines no working directory)"
        for name in INTEGERS_OF.get(agent, ()):
            value = stripped.get(name, "0")
            if not value.isdigit() or (name.endswith("_port") and not 0 < int(value) < 65536):
                return "an integer parameter must be a non-negative integer (a port: 1-65535)"
        if agent == "IPaddr2-py":
            lft = stripped.get("preferred_lft", "forever")
            if (lft != "forever" and not lft.isdigit()) or " " in stripped.get("iflabel", ""):
                return "preferred_lft and iflabel as ip accepts them (else start fails)"
        if agent == "mysql-py" and any(c not in SQL_NAME for c in stripped.get("test_table", "")):
            return "test_table must be a table name (it is put into SQL)"
        if agent == "mysql-py" and stripped.get("test_table", "").count(".") > 1:
            return "test_table must be a table name (it is put into SQL)"
        if agent == "galera-py":
            address = stripped.get("wsrep_cluster_address", "")
            names = address.removeprefix("gcomm://").split("?")[0]
            if not address.startswith("gcomm://") or not names.strip(","):
                return "wsrep_cluster_address must be gcomm:// with at least one node"
            if any(":" not in i for i in stripped.get("cluster_host_map", "").split(";") if i):
                return "cluster_host_map entries must be pcmk:galera"
        if agent == "Filesystem-py":
            prefix = stripped.get("statusfile_prefix", "")
            if prefix.startswith("/") or ".." in prefix.split("/"):
                return "statusfile_prefix must stay inside the mount point"
            if stripped.get("directory", "").rstrip("/") == "" or ".." in stripped.get(
                "directory", ""
            ).split("/"):
                return "directory must not be / nor contain '..'"
            if " " in stripped.get("options", "") or " " in stripped.get("directory", ""):
                return "options and directory without white space (mount cannot take them)"
            if stripped.get("device", "").startswith("-") and not stripped["device"].startswith(
                ("-U", "-L", "--uuid", "--label")
            ):
                return "device must not begin with '-' (it would be read as an option)"
            if stripped.get("fstype", "").lower() != stripped.get("fstype", ""):
                return "fstype must be a file system type name (lower case)"
            from ocflib.agents.filesystem import Signals

            for name in ("term_signals", "kill_signals"):
                try:
                    Signals().parse(stripped.get(name, "TERM"))
                except ValueError:
                    return "term_signals and kill_signals must name signals"
    return None


OCF_ERR_CONFIGURED = 6
SQL_NAME = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.")


@pytest.fixture(scope="module")
def sandbox() -> Generator[Sandbox]:
    need("unshare", "chroot", "ip", root=True)
    for path in REFERENCE.values():
        need(path)
    box = Sandbox(setup=NETWORK)
    yield box
    changes = box.close()
    assert changes == [], f"validate-all changed the root file system: {changes}"


def compare(
    box: Sandbox, agent: str, params: dict[str, str], meta: Mapping[str, str] | None = None
) -> tuple[int, int, str, str]:
    env = environment(agent, params)
    env.update({f"OCF_RESKEY_CRM_meta_{k}": v for k, v in (meta or {}).items()})
    ref = box.run([REFERENCE[agent], "validate-all"], env)
    ours = box.run([f"{SANDBOX_AGENTS}/{agent}", "validate-all"], env)
    return ref.returncode, ours.returncode, ref.stderr, ours.stderr


@pytest.mark.parametrize("agent", sorted(REFERENCE))
def test_validate_all_agrees_with_the_reference(sandbox: Sandbox, agent: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not EXPLORE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(params=param_sets(agent))
    def check(params: dict[str, str]) -> None:
        ref, ours, ref_err, our_err = compare(sandbox, agent, params)
        if ref == ours or known(Rerun(sandbox, agent), params, ref, ours):
            return
        pytest.fail(
            f"{agent} validate-all {params}: reference rc {ref}, pyha rc {ours}\n"
            f"reference: {ref_err.strip()[-400:]}\npyha: {our_err.strip()[-400:]}"
        )

    check()


# Configurations found to differ once, kept as fixed cases (each failed before its fix).
FIXED_CASES = [
    ("mysql-py", {"binary": "mysqld_safe"}),  # a command name, looked up in PATH
    ("mysql-py", {"additional_parameters": "--x='a b'"}),  # split as the shell agent does
    ("Filesystem-py", {"device": "/dev/loop7", "directory": "/mnt/data", "fstype": ""}),
    (
        "Filesystem-py",
        {
            "device": "/dev/loop7",
            "directory": "/mnt/data",
            "fstype": "ext4",
            "force_unmount": "maybe",
        },
    ),
    ("IPaddr2-py", {"ip": "192.0.2.10", "clusterip_hash": "SOURCEIP"}),
    ("IPaddr2-py", {"ip": "192.0.2.10", "lvs_ipv6_addrlabel": "Yes"}),
    ("IPaddr2-py", {"ip": "192.0.2.10", "nodad": "x"}),
    ("galera-py", {"wsrep_cluster_address": "gcomm://node1,node2,node3"}),
    ("galera-py", {"wsrep_cluster_address": ""}),
    ("galera-py", {"wsrep_cluster_address": "gcomm://n1", "two_node_mode": "maybe"}),
]


@pytest.mark.parametrize(("agent", "params"), FIXED_CASES)
def test_fixed_cases_agree_with_the_reference(
    sandbox: Sandbox, agent: str, params: dict[str, str]
) -> None:
    # galera-py as Pacemaker runs it, in a promotable clone (resource-agents 4.7 refuses
    # anything else at every depth).
    meta = {"promotable": "true"} if agent == "galera-py" else None
    ref, ours, ref_err, our_err = compare(sandbox, agent, params, meta)
    assert ref == ours, f"reference {ref}: {ref_err[-300:]}\npyha {ours}: {our_err[-300:]}"


def test_every_intentional_difference_is_documented() -> None:
    import inspect
    import re

    with open(os.path.join(ROOT, "docs", "differences.md")) as f:
        readme = f.read()
    reasons = re.findall(r'return "([^"]+)"', inspect.getsource(known))
    assert len(reasons) >= 10
    missing = [r for r in reasons if r not in readme]
    assert missing == [], f"docs/differences.md lacks these rows: {missing}"
