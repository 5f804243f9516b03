"""pyha check on this node (ocflib.admin.node): an enabled systemd unit for a service
Pacemaker manages, validate-all at depth 10 with the clone's meta-attributes, and
galera's promote timeout against this node's datadir; through a NodeView."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ocflib.admin.check import ERROR, WARNING
from ocflib.admin.node import (
    NodeView,
    check_node,
    datadir_megabytes,
    enabled_units,
    validate_env,
)

DATA = os.path.join(os.path.dirname(__file__), "data")


def cib(name: str) -> str:
    with open(os.path.join(DATA, f"cib-{name}.xml")) as f:
        return f.read()


def where(findings: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(f.severity, f.where) for f in findings]


def test_a_correct_node_gives_nothing() -> None:
    calls: list[tuple[str, dict[str, str]]] = []

    def validate(agent: str, env: Mapping[str, str]) -> tuple[int, str]:
        calls.append((agent, dict(env)))
        return 0, ""

    view = NodeView({"pacemaker.service", "corosync.service"}, validate, lambda p: 100.0)
    assert check_node(cib("active-passive"), view) == []
    assert sorted(a for a, _ in calls) == [
        "ocf:pyha:Filesystem-py",
        "ocf:pyha:IPaddr2-py",
        "ocf:pyha:drbd-py",
        "ocf:pyha:mysql-py",
    ]
    drbd = next(env for a, env in calls if a == "ocf:pyha:drbd-py")
    assert drbd["OCF_CHECK_LEVEL"] == "10" and drbd["OCF_RESOURCE_INSTANCE"] == "p_drbd"
    assert drbd["OCF_RESKEY_CRM_meta_notify"] == "true"
    assert drbd["OCF_RESKEY_drbd_resource"]


def test_an_enabled_unit_of_a_managed_service_is_an_error_once() -> None:
    view = NodeView({"mariadb.service", "drbd.service", "ssh.service"})
    found = check_node(cib("active-passive"), view)
    assert where(found) == [(ERROR, "mariadb.service"), (ERROR, "drbd.service")]
    assert found[0].fix == "systemctl disable mariadb.service"
    # a Galera stack has no DRBD: drbd.service is none of its business
    assert where(check_node(cib("galera"), view)) == [(ERROR, "mariadb.service")]


def test_validate_all_refusing_on_this_node_names_the_resource_and_the_reason() -> None:
    def validate(agent: str, env: Mapping[str, str]) -> tuple[int, str]:
        return (5, "mariadbd is not installed") if agent.endswith("galera-py") else (0, "")

    (found,) = check_node(cib("galera"), NodeView(set(), validate))
    assert (found.severity, found.where) == (ERROR, "p_galera")
    assert (
        found.what == "validate-all at depth 10 on this node returned 5: mariadbd is not installed"
    )


def test_galera_s_promote_timeout_is_weighed_against_the_datadir() -> None:
    # The lab's Galera stack asks promote timeout=300s: enough for 12 GB, not for 20 GB.
    assert check_node(cib("galera"), NodeView(set(), None, lambda p: 12_000.0)) == []
    (found,) = check_node(cib("galera"), NodeView(set(), None, lambda p: 20_000.0))
    assert (found.severity, found.where) == (WARNING, "p_galera")
    assert "20000 MB datadir needs (60 s + 2 x size / 100 MB/s = 460 s)" in found.what
    assert found.fix.startswith("op promote timeout=460s")
    # an unreadable datadir says nothing
    assert check_node(cib("galera"), NodeView(set(), None, lambda p: None)) == []


def test_enabled_units_are_the_links_in_the_wants_directories(tmp_path: object) -> None:
    root = str(tmp_path)
    wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants")
    os.makedirs(wants)
    os.symlink("/lib/systemd/system/mariadb.service", os.path.join(wants, "mariadb.service"))
    os.makedirs(os.path.join(root, "etc/systemd/system/sockets.target.wants"))
    assert enabled_units(root) == set()  # systemd does not run this system: nothing starts
    os.makedirs(os.path.join(root, "run/systemd/system"))
    assert enabled_units(root) == {"mariadb.service"}
    assert enabled_units(os.path.join(root, "missing")) == set()


def test_the_datadir_size_counts_files_not_links(tmp_path: object) -> None:
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "db"))
    with open(os.path.join(root, "db", "t.ibd"), "wb") as f:
        f.write(b"x" * 3_000_000)
    with open(os.path.join(root, "ibdata1"), "wb") as f:
        f.write(b"x" * 1_000_000)
    os.symlink("/usr", os.path.join(root, "elsewhere"))
    assert datadir_megabytes(root) == 4.0
    assert datadir_megabytes(root, limit=2) is None  # too many entries for a check
    assert datadir_megabytes(os.path.join(root, "missing")) is None


def test_a_legacy_master_gets_promotable_in_its_environment() -> None:
    from ocflib.admin.check import Cib

    text = cib("galera").replace("<clone ", "<master ").replace("</clone>", "</master>")
    c = Cib(text)
    p = c.primitives["p_galera"]
    assert p.clone is not None
    env = validate_env(p, c.clones[p.clone])
    assert env["OCF_RESKEY_CRM_meta_promotable"] == "true"


def test_a_clone_s_meta_attributes_are_passed_as_pacemaker_passes_them() -> None:
    from ocflib.admin.node import clone_env

    env = clone_env({"promotable": "true", "notify": "true", "clone-max": "2"}, False, 3)
    assert env["OCF_RESKEY_CRM_meta_clone_max"] == "2"
    assert env["OCF_RESKEY_CRM_meta_notify"] == "true"
    assert env["OCF_RESKEY_CRM_meta_clone_node_max"] == "1"
    assert env["OCF_RESKEY_CRM_meta_promoted_max"] == env["OCF_RESKEY_CRM_meta_master_max"] == "1"
    # unset: Pacemaker's defaults (clone-max: the nodes); promoted-max under both names
    env = clone_env({"promotable": "true", "promoted-max": "3"}, False, 3)
    assert env["OCF_RESKEY_CRM_meta_clone_max"] == "3"
    assert env["OCF_RESKEY_CRM_meta_master_max"] == "3"
    assert env["OCF_RESKEY_CRM_meta_notify"] == "false"
    # a plain clone has no promotion meta
    assert "OCF_RESKEY_CRM_meta_promoted_max" not in clone_env({}, False, 2)
    assert clone_env({}, True, 2)["OCF_RESKEY_CRM_meta_promotable"] == "true"
