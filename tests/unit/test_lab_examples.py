"""The labs run the README's stack examples: what they change is the site-specific
values (addresses, devices, paths), the agent types of the reference flavour, and the
statements a lab cannot run; everything else is the README's."""

from __future__ import annotations

from lab import examples, stack


def test_the_group_is_the_readmes_with_the_labs_values() -> None:
    readme = examples.statements(examples.readme_block(examples.ACTIVE_PASSIVE))
    lab = examples.statements(
        stack.group_config("reference", "10.9.0.5", "/dev/loop7", drbd=True, ip_params="nic=x")
    )
    assert [w[:2] for w in lab] == [w[:2] for w in readme]  # the same statements, ids
    ours = {w[1]: w for w in lab if w[0] == "primitive"}
    assert ours["p_ip"][2] == "ocf:heartbeat:IPaddr2" and ours["p_drbd"][2] == "ocf:linbit:drbd"
    assert "ip=10.9.0.5" in ours["p_ip"] and "nic=x" in ours["p_ip"]
    assert "device=/dev/loop7" in ours["p_fs"] and "fstype=ext4" in ours["p_fs"]
    # operations, clone meta-attributes and constraints as written
    for theirs in readme:
        if theirs[0] != "primitive":
            assert theirs in lab
        else:
            ops = " ".join(theirs).split(" op ", 1)[1:]
            assert ops == " ".join(ours[theirs[1]]).split(" op ", 1)[1:]


def test_without_drbd_the_group_alone() -> None:
    text = stack.group_config("pyha", "10.9.0.5", "/dev/loop7", drbd=False)
    assert [w[1] for w in examples.statements(text)] == ["p_ip", "p_fs", "p_mysql", "g_mysql"]
    assert "drbd" not in text


def test_operations_are_set_by_name_and_role() -> None:
    text = "primitive p x:y:z params a=1 op monitor interval=10s role=Promoted \\\n op start timeout=5s"
    out = examples.adapt(
        text,
        params={"p": {"a": "2", "b": "3"}},
        ops={"p": {"monitor:Promoted": "timeout=30s", "start": "timeout=9s", "stop": "timeout=7s"}},
    )
    assert out == (
        "primitive p x:y:z params a=2 b=3 op monitor interval=10s role=Promoted timeout=30s "
        "op start timeout=9s op stop timeout=7s"
    )
