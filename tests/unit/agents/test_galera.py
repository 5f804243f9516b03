"""galera-py with fakes: every command, statement and signal of each action."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from ocflib.agents import galera
from ocflib.exitcodes import OCF
from tests.conftest import Outcome, dispatch
from tests.fakes import (
    FakeClock,
    FakeHost,
    FakeProcesses,
    FakeRunner,
    FakeSql,
    fake_context,
    ocf_env,
)

AGENT = galera.AGENT
UUID = "ce79d7f2-ea5f-11f1-b478-7a93e54bc6b5"
META = {"promotable": "true", "clone_max": "3", "promoted_max": "3", "on_node": "n1"}
STATUS = galera.STATUS_SQL


def env(
    tmp: str, *, interval: int | None = None, extra: dict[str, str] | None = None, **params: str
) -> dict[str, str]:
    base = {
        "binary": "/bin/true",
        "config": "/etc/hostname",
        "datadir": tmp,
        "pid": os.path.join(tmp, "m.pid"),
        "socket": os.path.join(tmp, "m.sock"),
        "log": os.path.join(tmp, "err.log"),
        "wsrep_cluster_address": "gcomm://n1,n2,n3",
        **params,
        **(extra or {}),
    }
    os.chown(tmp, 27, 27)  # the datadir and run directories belong to mysql
    e = ocf_env(interval_ms=interval, meta=META, params=base, instance="db:0")
    e["HA_RSCTMP"] = tmp
    e["OCF_RESKEY_crm_feature_set"] = "3.16.2"
    return e


def run(
    action: str,
    fake: FakeRunner,
    e: dict[str, str],
    sql: FakeSql | None = None,
    procs: FakeProcesses | None = None,
    clock: FakeClock | None = None,
) -> Outcome:
    return dispatch(
        AGENT,
        action,
        e,
        fake,
        sql=sql or FakeSql(),
        procs=procs or FakeProcesses(),
        clock=clock or FakeClock(),
        host=host_of(e),
    )


def host_of(e: dict[str, str]) -> FakeHost:
    """The node's configuration files in the test's directory (the datadir's)."""
    tmp = e["OCF_RESKEY_datadir"]
    return FakeHost(
        hosts_file=os.path.join(tmp, "hosts"),
        clustercheck_files=(os.path.join(tmp, "clustercheck"),),
    )


def attr(node: str, name: str, *args: str, lifetime: str = "reboot") -> list[str]:
    return ["crm_attribute", "-N", node, "-l", lifetime, "-n", f"db-{name}", *args]


def score(node: str, *args: str) -> list[str]:
    return ["crm_attribute", "--promotion", "-N", node, *args]


def crm_mon(
    promoted: tuple[str, ...] = (),
    promoting: tuple[str, ...] = (),
    attrs: dict[str, dict[str, str]] | None = None,
    online: tuple[str, ...] = ("n1", "n2", "n3"),
    quorum: bool = True,
    stonith: bool = True,
) -> str:
    nodes = "".join(
        f'<node name="{n}" online="{str(n in online).lower()}" unclean="false" type="member"/>'
        for n in ("n1", "n2", "n3")
    )
    attributes = "".join(
        f'<node name="{node}">'
        + "".join(f'<attribute name="{k}" value="{v}"/>' for k, v in values.items())
        + "</node>"
        for node, values in (attrs or {}).items()
    )
    resources = "".join(
        f'<resource id="db" role="Promoted" active="true" orphaned="false" failed="false">'
        f'<node name="{n}"/></resource>'
        for n in promoted
    ) + "".join(
        f'<resource id="db" role="Promoting" active="true" orphaned="false" failed="false">'
        f'<node name="{n}"/></resource>'
        for n in promoting
    )
    return (
        f'<pacemaker-result><summary><current_dc with_quorum="{str(quorum).lower()}"/>'
        f'<cluster_options stonith-enabled="{str(stonith).lower()}"/></summary>'
        f'<nodes>{nodes}</nodes><resources><clone id="ms">{resources}</clone></resources>'
        f"<node_attributes>{attributes}</node_attributes></pacemaker-result>"
    )


MON = ["crm_mon", "-1", "--output-as=xml"]


def status_rows(**changes: str) -> list[tuple[str, str]]:
    values = {
        "wsrep_cluster_status": "Primary",
        "wsrep_local_state": "4",
        "wsrep_local_state_comment": "Synced",
        "wsrep_ready": "ON",
        "wsrep_connected": "ON",
        "wsrep_cluster_conf_id": "5",
        "wsrep_cluster_state_uuid": UUID,
        "wsrep_cluster_size": "3",
        "wsrep_last_committed": "77",
        **changes,
    }
    return list(values.items())


@pytest.fixture
def running(tmp_path: Any) -> Generator[FakeProcesses]:
    """A running mariadbd of the mysql user named by the pid file."""
    (tmp_path / "m.pid").write_text("4242\n")
    procs = FakeProcesses()
    procs.add(4242, "mariadbd", uid=27)
    yield procs


def grastate(tmp: Any, seqno: int, safe: int = 0) -> None:
    (tmp / "grastate.dat").write_text(
        f"# GALERA saved state\nversion: 2.1\nuuid:    {UUID}\nseqno:   {seqno}\n"
        f"safe_to_bootstrap: {safe}\n"
    )


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"wsrep_cluster_address": ""}, "Galera must be configured with a wsrep_cluster_address"),
        ({"wsrep_cluster_address": "n1,n2"}, "must have the form gcomm://node,node,..."),
        ({"wsrep_cluster_address": "gcomm://"}, "names no node"),
        ({"cluster_host_map": "n1=g1"}, "cluster_host_map entry [n1=g1] is not pcmk:galera"),
    ],
)
def test_configuration_errors(
    fake: FakeRunner, tmp_path: Any, params: dict[str, str], reason: str
) -> None:
    out = run("validate-all", fake, env(str(tmp_path), extra=params))
    assert out.rc == OCF.ERR_CONFIGURED
    assert reason in out.reason


def test_start_needs_a_promotable_clone(fake: FakeRunner, tmp_path: Any) -> None:
    e = env(str(tmp_path))
    del e["OCF_RESKEY_CRM_meta_promotable"], e["OCF_RESKEY_CRM_meta_promoted_max"]
    out = run("start", fake, e)
    assert out.rc == OCF.ERR_CONFIGURED
    assert out.reason == "Galera must be configured as a multistate Master/Slave resource."


def test_start_on_a_node_outside_the_address(fake: FakeRunner, tmp_path: Any) -> None:
    out = run("start", fake, env(str(tmp_path), wsrep_cluster_address="gcomm://n10,n2"))
    assert out.rc == OCF.ERR_CONFIGURED  # n1 is not n10 (the reference's grep says it is)
    assert "must be a member of the wsrep_cluster_address" in out.reason


def test_names_with_ports_fqdn_and_a_host_map(tmp_path: Any) -> None:
    def cfg(**p: str) -> Any:
        return _cfg_ctx(env(str(tmp_path), extra=p))[0]

    assert galera.pcmk_nodes(cfg(wsrep_cluster_address="gcomm://n1:4567,n2:4567")) == ["n1", "n2"]
    mapped = cfg(
        cluster_host_map="n1:10.0.0.1;n2:10.0.0.2",
        wsrep_cluster_address="gcomm://10.0.0.1,10.0.0.2",
    )
    assert galera.pcmk_nodes(mapped) == ["n1", "n2"]
    assert galera._same_host("n1.example.com", "n1") and not galera._same_host("n10", "n1")


# --- start: position and election ------------------------------------------------------------


def test_start_publishes_the_grastate_position_and_waits_for_the_others(
    fake: FakeRunner, tmp_path: Any
) -> None:
    grastate(tmp_path, 1234, safe=0)
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "1234"))
    fake.expect(MON, crm_mon(attrs={"n1": {"db-last-committed": "1234"}}))
    fake.expect(score("n1", "-D"))
    for node in ("n2", "n3"):  # no position: is there a record of its departure?
        fake.expect(attr(node, "left-at", "-G", "-q", lifetime="forever"), returncode=6)
    out = run("start", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS, out.reasons
    assert any("waiting for n2, n3" in r[1] for r in out.records)
    with open(tmp_path / "galera-py-db:0.position") as f:
        assert f.read() == f"{UUID}:1234\n"


def expect_n2_elected(fake: FakeRunner, tmp_path: Any, n2: str = "12", n3: str = "11") -> None:
    """start on n1 (grastate seqno 10) with n2 and n3 published: n2 is marked."""
    grastate(tmp_path, 10)
    published = {
        "n1": {"db-last-committed": "10"},
        "n2": {"db-last-committed": n2},
        "n3": {"db-last-committed": n3},
    }
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "10"))
    fake.expect(MON, crm_mon(attrs=published))
    fake.expect(score("n1", "-D"))
    fake.expect(attr("n2", "bootstrap", "-v", "true"))
    fake.expect(score("n2", "-v", "100"))


def test_start_elects_the_most_advanced_node(fake: FakeRunner, tmp_path: Any) -> None:
    expect_n2_elected(fake, tmp_path)
    assert run("start", fake, env(str(tmp_path))).rc == OCF.SUCCESS


def test_fqdns_in_the_cluster_address_name_the_pacemaker_nodes(
    fake: FakeRunner, tmp_path: Any
) -> None:
    """gcomm://n1.example.com,...: Pacemaker's nodes are n1..n3; the election reads
    and marks them by those names (before, it looked for n2.example.com and waited
    for ever)."""
    expect_n2_elected(fake, tmp_path)
    address = "gcomm://n1.example.com,n2.example.com:4567,n3.example.com"
    out = run("start", fake, env(str(tmp_path), wsrep_cluster_address=address))
    assert out.rc == OCF.SUCCESS, out.reasons


def test_member_names_resolve_short_and_long_but_never_ambiguously() -> None:
    members = {"n1", "n2.example.com", "db1.a.example", "db1.b.example"}
    assert galera.member_named("n1.example.com", members) == "n1"
    assert galera.member_named("n2", members) == "n2.example.com"
    assert galera.member_named("n1", members) == "n1"
    assert galera.member_named("db1", members) == "db1"  # two candidates: left as it is
    assert galera.member_named("10.0.0.1", {"10"}) == "10.0.0.1"
    assert galera.member_named("n9.example.com", members) == "n9.example.com"
    assert galera._same_host("n1.example.com:4567", "n1")
    assert galera._same_host("n1", "n1.example.com")
    assert not galera._same_host("n10", "n1") and not galera._same_host("n1", "n10.example.com")


def test_start_joins_a_running_cluster(fake: FakeRunner, tmp_path: Any) -> None:
    grastate(tmp_path, 10)
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "10"))
    fake.expect(MON, crm_mon(promoted=("n2", "n3")))
    fake.expect(score("n1", "-v", "100"))
    assert run("start", fake, env(str(tmp_path))).rc == OCF.SUCCESS


def recover_argv(tmp: Any) -> list[str]:
    argv = server_argv(tmp, "--wsrep-recover")
    return [a.replace(f"{tmp}/err.log", f"{tmp}/galera-py-db.recover.log") for a in argv]


def test_start_after_a_crash_recovers_the_position(fake: FakeRunner, tmp_path: Any) -> None:
    grastate(tmp_path, -1)
    log = tmp_path / "galera-py-db.recover.log"

    def recover() -> None:
        with open(log, "a") as f:
            f.write(f"2026 [Note] WSREP: Recovered position: {UUID}:4711\n")

    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(
        recover_argv(tmp_path),
        effect=recover,
    )
    fake.expect(attr("n1", "last-committed", "-v", "4711"))
    fake.expect(MON, crm_mon(promoted=("n2",)))
    fake.expect(score("n1", "-v", "100"))
    assert run("start", fake, env(str(tmp_path))).rc == OCF.SUCCESS
    assert not log.exists()
    # promote joins with the recovered position: IST, not a full SST
    assert galera.start_position(*_cfg_ctx(env(str(tmp_path)))) == [
        f"--wsrep-start-position={UUID}:4711"
    ]


def test_start_after_a_crash_in_gtid_mode_keeps_the_whole_position(
    fake: FakeRunner, tmp_path: Any
) -> None:
    """wsrep_gtid_mode=ON: mariadbd 10.11 logs "uuid:seqno,domain-server-seqno". The
    seqno is published with the GTID as the reference publishes it, and promote passes
    the whole position on (mariadbd 10.11 takes it as --wsrep-start-position)."""
    grastate(tmp_path, -1)
    log = tmp_path / "galera-py-db.recover.log"

    def recover() -> None:
        with open(log, "a") as f:
            f.write(f"2026 [Note] WSREP: Recovered position: {UUID}:4711,7-3-4706\n")

    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(recover_argv(tmp_path), effect=recover)
    fake.expect(attr("n1", "last-committed", "-v", "4711,7-3-4706"))
    fake.expect(MON, crm_mon(promoted=("n2",)))
    fake.expect(score("n1", "-v", "100"))
    out = run("start", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS, out.reasons
    assert galera.start_position(*_cfg_ctx(env(str(tmp_path)))) == [
        f"--wsrep-start-position={UUID}:4711,7-3-4706"
    ]


def test_the_election_reads_gtid_mode_positions(fake: FakeRunner, tmp_path: Any) -> None:
    expect_n2_elected(fake, tmp_path, n2="12,0-2-12", n3="11,0-3-11")
    assert run("start", fake, env(str(tmp_path))).rc == OCF.SUCCESS


def _cfg_ctx(e: dict[str, str]) -> tuple[Any, Any]:
    from ocflib.env import OcfEnv
    from ocflib.params import parse_params

    cfg, _ = parse_params(galera.PARAMS, OcfEnv("promote", e).reskeys)
    return cfg, fake_context(AGENT, OcfEnv("promote", e), host=host_of(e))


def test_start_without_any_position_fails_and_says_so(fake: FakeRunner, tmp_path: Any) -> None:
    fake.expect(attr("n1", "safe-to-bootstrap", "-D"), returncode=0)
    fake.expect(attr("n1", "no-grastate", "-v", "true"))
    fake.expect(
        recover_argv(tmp_path),
        stderr="[ERROR] Aborting",
        returncode=1,
    )
    fake.expect(attr("n1", "last-committed", "-D"))
    out = run("start", fake, env(str(tmp_path)))
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason == "Unable to detect last known write sequence number"


# --- monitor ------------------------------------------------------------------------------


def test_probe_of_a_stopped_node(fake: FakeRunner, tmp_path: Any) -> None:
    fake.expect(attr("n1", "last-committed", "-G", "-q"), returncode=6)
    assert run("monitor", fake, env(str(tmp_path), interval=0)).rc == OCF.NOT_RUNNING


def test_unpromoted_monitor_reruns_the_election(fake: FakeRunner, tmp_path: Any) -> None:
    fake.expect(attr("n1", "last-committed", "-G", "-q"), stdout="9\n")
    published = {n: {"db-last-committed": "9"} for n in ("n1", "n2", "n3")}
    published["n1"]["db-safe-to-bootstrap"] = "1"
    fake.expect(MON, crm_mon(attrs=published))
    fake.expect(attr("n1", "bootstrap", "-v", "true"))
    fake.expect(score("n1", "-v", "100"))
    assert run("monitor", fake, env(str(tmp_path), interval=30000)).rc == OCF.SUCCESS


def test_unpromoted_monitor_survives_a_cluster_tool_failure(
    fake: FakeRunner, tmp_path: Any
) -> None:
    fake.expect(attr("n1", "last-committed", "-G", "-q"), stdout="9\n")
    fake.expect(MON, returncode=102, stderr="Connection to cluster failed")
    fake.expect(["crm_mon", "-1", "--as-xml"], returncode=102, stderr="Connection failed")
    out = run("monitor", fake, env(str(tmp_path), interval=30000))
    assert out.rc == OCF.SUCCESS
    assert any("election not run" in r[1] for r in out.records)


def test_promoted_member(fake: FakeRunner, running: FakeProcesses, tmp_path: Any) -> None:
    sql = FakeSql().wire("root", STATUS, status_rows())
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running)
    assert out.rc == OCF.RUNNING_PROMOTED, out.reasons
    sql.assert_done()


def test_primary_synced_but_without_history_is_failed(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    """Primary, Synced, size 1, conf_id -1: a node restored without its history
    (tests/integration/test_galera_real.py makes it for real)."""
    broken = status_rows(wsrep_cluster_conf_id="18446744073709551615", wsrep_cluster_size="1")
    sql = FakeSql().wire("root", STATUS, broken)
    clock = FakeClock()
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running, clock)
    assert out.rc == OCF.ERR_GENERIC
    assert "its primary component has no cluster history" in out.reason
    assert clock.pauses == []  # no grace: this state does not mend by itself


def test_a_short_loss_of_the_primary_component_is_not_a_failure(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_status="non-Primary"))
    sql.wire("root", STATUS, status_rows())
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running, FakeClock())
    assert out.rc == OCF.RUNNING_PROMOTED
    sql.assert_done()


def test_a_lasting_loss_of_the_primary_component_fails_after_the_grace(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    sql = FakeSql()
    for _ in range(40):
        sql.wire("root", STATUS, status_rows(wsrep_cluster_status="non-Primary"))
    clock = FakeClock()
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running, clock)
    assert out.rc == OCF.ERR_GENERIC
    assert "not part of the primary component" in out.reason
    assert galera.NON_PRIMARY_GRACE - 0.5 <= sum(clock.pauses) <= galera.NON_PRIMARY_GRACE


def test_a_joiner_in_ist_is_not_failed(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_local_state="1"))
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running)
    assert out.rc == OCF.RUNNING_PROMOTED


def test_max_connections_does_not_fail_the_monitor(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    sql = FakeSql().wire("root", STATUS, state="busy", code=1040)
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running)
    assert out.rc == OCF.RUNNING_PROMOTED
    assert any("too many connections" in r[1] for r in out.records)


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        ({"state": "busy", "code": 1040}, "has refused logins (max_connections)"),
        ({"rows": status_rows(wsrep_local_state="3", wsrep_ready="OFF")}, "has been joining"),
    ],
)
def test_a_promoted_node_that_cannot_be_checked_or_commit_is_failed_in_time(
    fake: FakeRunner,
    running: FakeProcesses,
    tmp_path: Any,
    wire: dict[str, Any],
    words: str,
) -> None:
    """max_connections, or a member fallen back to Joined (wsrep_ready=OFF): Promoted
    (it may pass) for DOUBT_LIMIT seconds of consecutive monitors, then failed, so the
    VIP does not stay on a node that cannot commit. A healthy monitor resets it."""
    clock = FakeClock()
    e = env(str(tmp_path), interval=10000)

    def monitor(healthy: bool = False) -> Outcome:
        sql = FakeSql()
        if healthy:
            sql.wire("root", STATUS, status_rows())
        elif "rows" in wire:
            sql.wire("root", STATUS, wire["rows"])
        else:
            sql.wire("root", STATUS, state=wire["state"], code=wire["code"])
        return run("monitor", fake, e, sql, running, clock)

    assert monitor().rc == OCF.RUNNING_PROMOTED
    clock.now += galera.DOUBT_LIMIT - 1
    assert monitor().rc == OCF.RUNNING_PROMOTED
    assert monitor(healthy=True).rc == OCF.RUNNING_PROMOTED  # reset
    clock.now += 30
    assert monitor().rc == OCF.RUNNING_PROMOTED
    clock.now += galera.DOUBT_LIMIT + 1
    out = monitor()
    assert out.rc == OCF.ERR_GENERIC
    assert words in out.reason and f"for {galera.DOUBT_LIMIT + 1:.0f} s" in out.reason


def test_a_refused_check_user_fails_and_says_why(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    sql = FakeSql().wire("monitor", STATUS, state="denied", code=1045)
    e = env(str(tmp_path), interval=10000, check_user="monitor", check_passwd="s3cret-pw")
    out = run("monitor", fake, e, sql, running)
    assert out.rc == OCF.ERR_GENERIC
    assert "verify check_user 'monitor' has permissions" in out.reason
    assert "s3cret-pw" not in repr(out)


def test_a_member_that_left_is_recorded(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    """The record names the cluster's history: it can never excuse a node of another."""
    (tmp_path / "galera-py-db.size").write_text("3 5\n")
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_size="2"))
    fake.expect(MON, crm_mon(promoted=("n1", "n2")))
    fake.expect(attr("n3", "left-at", "-v", f"{UUID}:77", lifetime="forever"))
    assert run("monitor", fake, env(str(tmp_path), interval=10000), sql, running).rc == 8
    assert (tmp_path / "galera-py-db.size").read_text() == "2 5\n"


def test_a_record_that_cannot_be_written_never_fails_a_healthy_member(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    (tmp_path / "galera-py-db.size").write_text("3\n")
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_size="2"))
    fake.expect(MON, crm_mon(promoted=("n1", "n2")))
    fake.expect(attr("n3", "left-at", "-v", f"{UUID}:77", lifetime="forever"), returncode=1)
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running)
    assert out.rc == OCF.RUNNING_PROMOTED
    assert any("cannot record who left" in r[1] for r in out.records)
    assert (tmp_path / "galera-py-db.size").read_text() == "3\n"  # the next monitor retries


def test_departures_wait_until_pacemaker_agrees(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    (tmp_path / "galera-py-db.size").write_text("3\n")
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_size="2"))
    fake.expect(MON, crm_mon(promoted=("n1", "n2", "n3")))  # n3 not yet seen gone
    assert run("monitor", fake, env(str(tmp_path), interval=10000), sql, running).rc == 8
    assert (tmp_path / "galera-py-db.size").read_text() == "3\n"


def test_a_node_still_in_galera_s_membership_is_never_recorded_as_gone(
    fake: FakeRunner,
    running: FakeProcesses,
    tmp_path: Any,
) -> None:
    """Galera's own membership decides with Pacemaker's: the component shrank to 2 and
    Pacemaker shows n1 and n2 Promoted, but n3's address (/etc/hosts) is among
    Galera's members (wsrep_incoming_addresses): n3 is not recorded (Pacemaker's view
    lags: n2 is the one that left). n2 is not recorded either: Pacemaker has it."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n10.9.0.1 n1\n10.9.0.2 n2.example.com n2\n10.9.0.3 n3\n")
    (tmp_path / "galera-py-db.size").write_text("3 5\n")
    members = "10.9.0.1:3306,10.9.0.3:3306"
    rows = status_rows(wsrep_cluster_size="2", wsrep_incoming_addresses=members)
    sql = FakeSql().wire("root", STATUS, rows)
    fake.expect(MON, crm_mon(promoted=("n1", "n2")))
    out = run("monitor", fake, env(str(tmp_path), interval=10000), sql, running)
    assert out.rc == OCF.RUNNING_PROMOTED
    assert any("n3 is still a member of the Galera component" in r[1] for r in out.records)


def test_a_member_seen_in_a_new_membership_clears_its_own_record(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    """n1 was cut off, recorded as gone by the others, and Galera healed by itself
    (no promote: stonith-enabled=false, no-quorum-policy=freeze): the first monitor
    that sees a new membership clears n1's own record."""
    (tmp_path / "galera-py-db.size").write_text("3 4\n")
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_conf_id="5"))
    fake.expect(attr("n1", "left-at", "-D", lifetime="forever"))
    assert run("monitor", fake, env(str(tmp_path), interval=10000), sql, running).rc == 8
    assert (tmp_path / "galera-py-db.size").read_text() == "3 5\n"
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_conf_id="5"))
    assert run("monitor", fake, env(str(tmp_path), interval=10000), sql, running).rc == 8


def test_a_probe_of_a_healthy_member_clears_its_own_record(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    """Restarted by an administrator in maintenance mode, or switched from the
    reference agent and back: the probe finds it healthy, and its record goes."""
    sql = FakeSql().wire("root", STATUS, status_rows())
    fake.expect(score("n1", "-v", "100"))
    fake.expect(attr("n1", "left-at", "-D", lifetime="forever"))
    assert run("monitor", fake, env(str(tmp_path), interval=0), sql, running).rc == 8


@pytest.mark.parametrize(
    ("record", "excused"),
    [(f"{UUID}:90", True), ("00000000-1111-2222-3333-444444444444:90", False), ("90", False)],
)
def test_only_a_record_of_this_cluster_s_history_excuses_an_absent_node(
    fake: FakeRunner, tmp_path: Any, record: str, excused: bool
) -> None:
    """n3 is away; its record says it left at 90 and n1 and n2 are at 100. A record of
    another history (an old CIB restored, a cluster made anew) or one without a
    history (an older pyha's) is not used: the election waits for n3."""
    grastate(tmp_path, 100)
    published = {"n1": {"db-last-committed": "100"}, "n2": {"db-last-committed": "99"}}
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "100"))
    fake.expect(MON, crm_mon(attrs=published, online=("n1", "n2")))
    fake.expect(score("n1", "-D"))
    fake.expect(attr("n3", "left-at", "-G", "-q", lifetime="forever"), stdout=record + "\n")
    if excused:
        fake.expect(attr("n1", "bootstrap", "-v", "true"))
        fake.expect(score("n1", "-v", "100"))
    out = run("start", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS, out.reasons
    if not excused:
        assert any("waiting for n3" in r[1] for r in out.records)
        assert any("not of this cluster's history" in r[1] for r in out.records)


def test_clustercheck_file_is_read_never_run(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    (tmp_path / "clustercheck").write_text(
        'MYSQL_USERNAME="clustercheck"\nMYSQL_PASSWORD=$(touch /tmp/pwned)\n'
    )
    os.chmod(tmp_path / "clustercheck", 0o600)
    sql = FakeSql().wire("clustercheck", STATUS, status_rows())
    assert run("monitor", fake, env(str(tmp_path), interval=10000), sql, running).rc == 8
    assert galera.credentials(*_cfg_ctx(env(str(tmp_path)))) == (
        "clustercheck",
        "$(touch /tmp/pwned)",
    )
    os.chmod(tmp_path / "clustercheck", 0o622)  # noqa: S103 - writable by others: not trusted
    assert galera.credentials(*_cfg_ctx(env(str(tmp_path)))) == ("root", "")


# --- promote, demote, stop ---------------------------------------------------------------------


def server_argv(tmp: Any, *extra: str) -> list[str]:
    return [
        "runuser",
        "-u",
        "mysql",
        "-g",
        "mysql",
        "--",
        "/bin/true",
        "--defaults-file=/etc/hostname",
        f"--pid-file={tmp}/m.pid",
        f"--socket={tmp}/m.sock",
        f"--datadir={tmp}",
        f"--log-error={tmp}/err.log",
        *extra,
    ]


ELECTED_N1 = {
    "n1": {"db-bootstrap": "true", "db-last-committed": "50"},
    "n2": {"db-last-committed": "40"},
    "n3": {"db-last-committed": "45"},
}


def test_promote_bootstraps_the_elected_node(fake: FakeRunner, tmp_path: Any) -> None:
    grastate(tmp_path, 50, safe=0)
    fake.expect(MON, crm_mon(attrs=ELECTED_N1))
    fake.expect(attr("n1", "last-committed", "-D"))
    fake.expect(attr("n1", "safe-to-bootstrap", "-D"))
    procs = FakeProcesses()
    procs.add(4242, "mariadbd", uid=27)
    procs.expect_spawn(
        server_argv(tmp_path, "--wsrep-cluster-address=gcomm://"),
        900,
        effect=lambda: (tmp_path / "m.pid").write_text("4242\n"),
    )
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_size="1"))
    for node in ("n1", "n2", "n3"):
        fake.expect(score(node, "-v", "100"))
    fake.expect(attr("n1", "bootstrap", "-D"))
    for name in ("no-grastate", "last-committed", "safe-to-bootstrap"):
        fake.expect(attr("n1", name, "-D"))
    fake.expect(attr("n1", "left-at", "-D", lifetime="forever"))
    out = run("promote", fake, env(str(tmp_path)), sql, procs)
    assert out.rc == OCF.SUCCESS, (out.reasons, out.records)
    assert "safe_to_bootstrap: 1" in (tmp_path / "grastate.dat").read_text()
    sql.assert_done()


def test_the_election_clears_a_stale_bootstrap_mark(fake: FakeRunner, tmp_path: Any) -> None:
    """n3 was marked by an earlier election; n2 is now the most advanced: one mark."""
    grastate(tmp_path, 10)
    published = {
        "n1": {"db-last-committed": "10"},
        "n2": {"db-last-committed": "12"},
        "n3": {"db-last-committed": "11", "db-bootstrap": "true"},
    }
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "10"))
    fake.expect(MON, crm_mon(attrs=published))
    fake.expect(score("n1", "-D"))
    fake.expect(attr("n3", "bootstrap", "-D"))
    fake.expect(score("n3", "-D"))
    fake.expect(attr("n2", "bootstrap", "-v", "true"))
    fake.expect(score("n2", "-v", "100"))
    assert run("start", fake, env(str(tmp_path))).rc == OCF.SUCCESS


def test_a_marked_node_that_is_no_longer_elected_does_not_bootstrap(
    fake: FakeRunner, tmp_path: Any
) -> None:
    """Two marks (an older election's on n1): promote asks the election again on
    the fresh view; it names n2, so n1 gives its mark and promotion back."""
    grastate(tmp_path, 10)
    published = {
        "n1": {"db-last-committed": "10", "db-bootstrap": "true"},
        "n2": {"db-last-committed": "12", "db-bootstrap": "true"},
        "n3": {"db-last-committed": "11"},
    }
    fake.expect(MON, crm_mon(attrs=published))
    fake.expect(attr("n1", "bootstrap", "-D"))
    fake.expect(score("n1", "-D"))
    out = run("promote", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS
    assert any("n2 is to bootstrap the cluster, not this node" in r[1] for r in out.records)
    assert "safe_to_bootstrap: 1" not in (tmp_path / "grastate.dat").read_text()


def test_two_marked_nodes_promoted_together_never_both_bootstrap(
    fake: FakeRunner, tmp_path: Any
) -> None:
    """n1 and n3 both marked and promoted in one transition: n1 sees n3 promoting
    with its mark and steps back (n3, seeing n1 the same way, does too; the next
    election marks one node again)."""
    grastate(tmp_path, 12)
    published = {
        "n1": {"db-last-committed": "12", "db-bootstrap": "true"},
        "n2": {"db-last-committed": "11"},
        "n3": {"db-bootstrap": "true"},
    }
    fake.expect(MON, crm_mon(promoting=("n1", "n3"), attrs=published))
    fake.expect(attr("n1", "bootstrap", "-D"))
    fake.expect(score("n1", "-D"))
    out = run("promote", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS
    assert any("n3 is being promoted to bootstrap" in r[1] for r in out.records)


def test_promote_without_a_cluster_to_join_gives_the_promotion_back(
    fake: FakeRunner, tmp_path: Any
) -> None:
    fake.expect(MON, crm_mon())
    fake.expect(score("n1", "-D"))
    out = run("promote", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS
    assert any("no running cluster to join" in r[1] for r in out.records)


def test_promote_that_outlasts_its_timeout_says_what_to_configure(
    fake: FakeRunner, tmp_path: Any
) -> None:
    fake.expect(MON, crm_mon(promoted=("n2",)))
    fake.expect(attr("n1", "last-committed", "-D"))
    fake.expect(attr("n1", "safe-to-bootstrap", "-D"))
    procs = FakeProcesses().expect_spawn(
        server_argv(tmp_path, "--wsrep-cluster-address=gcomm://n1,n2,n3"), 900
    )
    procs.child_code = None  # the joiner runs (its SST does not end)
    e = env(str(tmp_path))
    e["OCF_RESKEY_CRM_meta_timeout"] = "30000"
    out = run("promote", fake, e, FakeSql(), procs, FakeClock())
    assert out.rc == OCF.ERR_GENERIC
    assert "not synced with the cluster after 27 s" in out.reason
    # what to do comes first: Pacemaker keeps 128 characters of a reason
    assert out.reason.startswith("needs a longer promote timeout")
    assert any("promote: 10 s" in r[1] for r in out.records)


def test_demote_stops_and_publishes_the_position(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    grastate(tmp_path, 321, safe=0)
    for name in ("bootstrap", "last-committed", "no-grastate", "safe-to-bootstrap"):
        fake.expect(attr("n1", name, "-D"))
    fake.expect(score("n1", "-D"))
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "321"))
    out = run("demote", fake, env(str(tmp_path)), FakeSql(), running)
    assert out.rc == OCF.SUCCESS, out.reasons
    assert running.signals == [(4242, 15)]


def test_stop_answers_for_the_server_not_for_crm_attribute(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    fake.expect(attr("n1", "safe-to-bootstrap", "-D"), returncode=1, stderr="cib gone")
    out = run("stop", fake, env(str(tmp_path)), FakeSql(), running)
    assert out.rc == OCF.SUCCESS  # the reference returns crm_attribute's status here
    assert running.signals == [(4242, 15)]


def test_stop_ends_what_a_state_transfer_left_in_the_launcher_s_group(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    """A promote timed out in the middle of an SST: runuser (the launcher, pid 900)
    has exited, the server stops on SIGTERM, but the SST's rsync daemon and socat
    (its group) would go on holding port 4444: stop ends them. A process of another
    group is left alone."""
    running.pidfiles[f"{tmp_path}/mysql-py-db:0.launcher"] = 900
    running.add(901, "rsync", uid=27, sid=900)
    running.add(902, "socat", uid=27, sid=900)
    running.add(950, "rsync", uid=27)  # someone else's, in its own group
    for name in ("safe-to-bootstrap", "last-committed", "bootstrap", "no-grastate"):
        fake.expect(attr("n1", name, "-D"))
    fake.expect(score("n1", "-D"))
    out = run("stop", fake, env(str(tmp_path)), FakeSql(), running)
    assert out.rc == OCF.SUCCESS, out.reasons
    assert running.signals == [(4242, 15), (-900, 9)]
    assert sorted(running.table) == [950]
    assert any("pid 901, 902" in r[1] for r in out.records)


# --- two_node_mode ------------------------------------------------------------------------


def two_nodes(online: tuple[str, ...], *, stonith: bool = True, quorum: bool = True) -> str:
    xml = crm_mon(
        online=online, quorum=quorum, stonith=stonith, attrs={"n1": {"db-last-committed": "40"}}
    )
    return xml.replace('<node name="n3" online="false" unclean="false" type="member"/>', "")


def test_two_node_survivor_bootstraps_without_the_peers_position(
    fake: FakeRunner, tmp_path: Any
) -> None:
    fake.expect(attr("n1", "last-committed", "-G", "-q"), stdout="40\n")
    fake.expect(MON, two_nodes(("n1",)))
    fake.expect(attr("n2", "left-at", "-G", "-q", lifetime="forever"), returncode=6)
    fake.expect(attr("n1", "left-at", "-G", "-q", lifetime="forever"), returncode=6)
    fake.expect(attr("n1", "bootstrap", "-v", "true"))
    fake.expect(score("n1", "-v", "100"))
    e = env(str(tmp_path), interval=30000, two_node_mode="true")
    e["OCF_RESKEY_wsrep_cluster_address"] = "gcomm://n1,n2"
    out = run("monitor", fake, e)
    assert out.rc == OCF.SUCCESS
    assert any("Survived a split in a 2-node cluster" in r[1] for r in out.records)


def test_a_two_node_survivor_that_left_first_refuses_to_bootstrap(
    fake: FakeRunner, tmp_path: Any
) -> None:
    """n1 left the primary component at seqno 40 while n2 stayed (n2 recorded it);
    n2 went on committing and was then fenced. n1 alone must not bootstrap from 40:
    start fails with what to do (the reference bootstraps and loses n2's commits)."""
    grastate(tmp_path, 40)
    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(attr("n1", "last-committed", "-v", "40"))
    fake.expect(MON, two_nodes(("n1",)))
    fake.expect(score("n1", "-D"))
    fake.expect(attr("n2", "left-at", "-G", "-q", lifetime="forever"), returncode=6)
    fake.expect(attr("n1", "left-at", "-G", "-q", lifetime="forever"), stdout="40\n")
    e = env(str(tmp_path), two_node_mode="true")
    e["OCF_RESKEY_wsrep_cluster_address"] = "gcomm://n1,n2"
    out = run("start", fake, e)
    assert out.rc == OCF.ERR_GENERIC
    assert "left the primary component at seqno 40 while n2 stayed in it" in out.reason
    assert "crm_attribute -N n1 -l forever -n db-left-at -D" in out.reason


@pytest.mark.parametrize(
    ("stonith", "quorum", "online", "why"),
    [
        (False, True, ("n1",), "two_node_mode ignored: it needs fencing"),
        (True, False, ("n1",), ""),  # no quorum: the peer may be running
        (True, True, ("n1", "n2"), ""),  # the peer is here: it publishes its position
    ],
)
def test_two_node_mode_needs_fencing_quorum_and_a_fenced_peer(
    fake: FakeRunner,
    tmp_path: Any,
    stonith: bool,
    quorum: bool,
    online: tuple[str, ...],
    why: str,
) -> None:
    fake.expect(attr("n1", "last-committed", "-G", "-q"), stdout="40\n")
    fake.expect(MON, two_nodes(online, stonith=stonith, quorum=quorum))
    fake.expect(attr("n2", "left-at", "-G", "-q", lifetime="forever"), returncode=6)
    e = env(str(tmp_path), interval=30000, two_node_mode="true")
    e["OCF_RESKEY_wsrep_cluster_address"] = "gcomm://n1,n2"
    out = run("monitor", fake, e)
    assert out.rc == OCF.SUCCESS
    assert any("waiting for n2" in r[1] for r in out.records)
    if why:
        assert any(why in r[1] for r in out.records)


def test_start_with_a_server_running_outside_the_cluster(
    fake: FakeRunner, running: FakeProcesses, tmp_path: Any
) -> None:
    sql = FakeSql().wire("root", STATUS, status_rows())
    out = run("start", fake, env(str(tmp_path)), sql, running)
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason == "master galera instance started outside of the cluster's control"
    sql = FakeSql().wire("root", STATUS, status_rows(wsrep_cluster_status="non-Primary"))
    out = run("start", fake, env(str(tmp_path)), sql, running)
    assert out.rc == OCF.ERR_GENERIC  # never --wsrep-recover on a live datadir
    assert "runs outside the cluster's control" in out.reason
    assert running.signals == []


def test_joiners_promoted_together_start_one_after_the_other(
    fake: FakeRunner, tmp_path: Any
) -> None:
    e = env(str(tmp_path))
    e["OCF_RESKEY_CRM_meta_on_node"] = "n2"  # n1 comes before it in the address
    fake.expect(MON, crm_mon(promoted=("n3",), promoting=("n1",)))
    fake.expect(MON, crm_mon(promoted=("n3",), promoting=("n1",)))
    fake.expect(MON, crm_mon(promoted=("n3", "n1")))  # n1 is done: n2 goes on at once
    fake.expect(attr("n2", "last-committed", "-D"))
    fake.expect(attr("n2", "safe-to-bootstrap", "-D"))
    procs = FakeProcesses().expect_spawn(
        server_argv(tmp_path, "--wsrep-cluster-address=gcomm://n1,n2,n3"), 900
    )
    procs.child_code = 1  # (the server fails at once: this test is about the wait)
    clock = FakeClock()
    out = run("promote", fake, e, FakeSql(), procs, clock)
    assert out.rc == OCF.ERR_GENERIC
    assert any("joining 1.0 s after n1" in r[1] for r in out.records)
    assert sum(clock.pauses) <= galera.JOIN_STAGGER


def test_start_rolls_back_prepared_transactions_and_forces_sst(
    fake: FakeRunner, tmp_path: Any
) -> None:
    """Recovery that stops at prepared XA transactions: run again with
    --tc-heuristic-recover=rollback; with a position then, grastate.dat goes
    and the node is marked no-grastate (it rejoins by SST), as the reference."""
    grastate(tmp_path, -1)
    log = tmp_path / "galera-py-db.recover.log"

    def stuck() -> None:
        log.write_text("2026 [ERROR] Found 1 prepared transactions! It means that mysqld\n")

    def rolled_back() -> None:
        log.write_text(f"2026 [Note] WSREP: Recovered position: {UUID}:99\n")

    fake.expect(attr("n1", "safe-to-bootstrap", "-v", "0"))
    fake.expect(recover_argv(tmp_path), effect=stuck)
    fake.expect([*recover_argv(tmp_path), "--tc-heuristic-recover=rollback"], effect=rolled_back)
    fake.expect(attr("n1", "no-grastate", "-v", "true"))
    fake.expect(attr("n1", "last-committed", "-v", "99"))
    fake.expect(MON, crm_mon(promoted=("n2",)))
    fake.expect(score("n1", "-v", "100"))
    out = run("start", fake, env(str(tmp_path)))
    assert out.rc == OCF.SUCCESS, out.reasons
    assert not (tmp_path / "grastate.dat").exists()
    assert any("--tc-heuristic-recover" in r[1] for r in out.records)
    # SST, as logged and as the reference does: promote passes no start position
    # (a position would make the joiner ask for IST on top of rolled-back data).
    assert any("SST forced at next restart" in r[1] for r in out.records)
    assert galera.start_position(*_cfg_ctx(env(str(tmp_path)))) == []
    assert not (tmp_path / "galera-py-db:0.position").exists()


def test_galeras_files_are_changed_only_when_they_are_the_servers(tmp_path: Any) -> None:
    """grastate.dat and gvwstate.dat are replaced or removed only as regular
    files of the server's user or root: never through a link, never another's."""
    target = tmp_path / "precious"
    target.write_text(f"uuid: {UUID}\nseqno: 5\nsafe_to_bootstrap: 0\n")
    os.symlink(target, tmp_path / "grastate.dat")
    os.symlink(target, tmp_path / "gvwstate.dat")
    cfg, ctx = _cfg_ctx(env(str(tmp_path)))
    from ocflib.errors import GenericError

    with pytest.raises(GenericError, match="is not a grastate.dat of mysql: left alone"):
        galera.allow_bootstrap(cfg, ctx)
    galera.forget_saved_component(cfg, ctx)
    assert (tmp_path / "gvwstate.dat").is_symlink()
    assert target.read_text().endswith("safe_to_bootstrap: 0\n")
    os.unlink(tmp_path / "gvwstate.dat")
    (tmp_path / "gvwstate.dat").write_text("my_uuid: x\n")
    os.chown(tmp_path / "gvwstate.dat", 65534, 65534)  # nobody's
    galera.forget_saved_component(cfg, ctx)
    assert (tmp_path / "gvwstate.dat").exists()
    os.chown(tmp_path / "gvwstate.dat", 27, 27)  # the server's user
    galera.forget_saved_component(cfg, ctx)
    assert not (tmp_path / "gvwstate.dat").exists()
