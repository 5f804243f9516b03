from __future__ import annotations

from ocflib.env import OcfEnv, parse_bool, split_list


def test_parse_bool_accepts_pacemaker_spellings_any_case() -> None:
    for word in ("true", "TRUE", "On", "yes", "Y", "1", "ja"):
        assert parse_bool(word) is True, word
    for word in ("false", "Off", "NO", "n", "0"):
        assert parse_bool(word) is False, word
    for word in ("", "maybe", "2", "tru"):
        assert parse_bool(word) is None, word


def test_probe_is_monitor_with_interval_zero_or_missing() -> None:
    assert OcfEnv("monitor", {}).is_probe
    assert OcfEnv("monitor", {"OCF_RESKEY_CRM_meta_interval": "0"}).is_probe
    assert not OcfEnv("monitor", {"OCF_RESKEY_CRM_meta_interval": "10000"}).is_probe
    assert not OcfEnv("start", {}).is_probe


def test_times_are_milliseconds() -> None:
    env = OcfEnv(
        "start", {"OCF_RESKEY_CRM_meta_timeout": "20000", "OCF_RESKEY_CRM_meta_interval": "bogus"}
    )
    assert env.timeout_ms == 20000
    assert env.interval_ms == 0


def test_check_level_from_either_variable_and_fallback_to_lower_level() -> None:
    assert OcfEnv("monitor", {"OCF_CHECK_LEVEL": "20"}).check_level == 20
    assert OcfEnv("monitor", {"OCF_RESKEY_OCF_CHECK_LEVEL": "10"}).check_level == 10
    assert OcfEnv("monitor", {"OCF_CHECK_LEVEL": "15"}).effective_check_level() == 10
    assert OcfEnv("monitor", {"OCF_CHECK_LEVEL": "99"}).effective_check_level() == 20
    assert OcfEnv("monitor", {"OCF_CHECK_LEVEL": "7"}).effective_check_level() == 0
    assert OcfEnv("monitor", {"OCF_CHECK_LEVEL": "x"}).check_level == 0


def test_clone_and_promotable_meta() -> None:
    env = OcfEnv(
        "start",
        {
            "OCF_RESKEY_CRM_meta_clone": "1",
            "OCF_RESKEY_CRM_meta_clone_max": "2",
            "OCF_RESKEY_CRM_meta_master_max": "1",
            "OCF_RESKEY_CRM_meta_notify": "true",
            "OCF_RESKEY_CRM_meta_globally_unique": "false",
            "OCF_RESKEY_ip": "192.0.2.1",
        },
    )
    assert env.clone == 1 and env.clone_max == 2 and env.is_clone
    assert env.promoted_max == 1 and env.is_promotable
    assert env.notify_enabled and not env.globally_unique
    assert env.reskeys == {"ip": "192.0.2.1"}
    assert OcfEnv("start", {"OCF_RESKEY_CRM_meta_promotable": "true"}).is_promotable
    assert not OcfEnv("start", {}).is_clone


def test_notify_reads_promoted_and_master_names() -> None:
    env = OcfEnv(
        "notify",
        {
            "OCF_RESKEY_CRM_meta_notify_type": "post",
            "OCF_RESKEY_CRM_meta_notify_operation": "promote",
            "OCF_RESKEY_CRM_meta_notify_master_uname": "node1 ",
            "OCF_RESKEY_CRM_meta_notify_promoted_uname": " ",
            "OCF_RESKEY_CRM_meta_notify_slave_uname": "node2 node3",
            "OCF_RESKEY_CRM_meta_notify_start_uname": " ",
        },
    )
    notify = env.notify
    assert notify.key == "post-promote"
    assert notify.unames("promoted") == ("node1",)
    assert notify.unames("unpromoted") == ("node2", "node3")
    assert notify.unames("start") == ()
    assert split_list(" ") == ()


def test_defaults_for_rsctmp_and_instance() -> None:
    env = OcfEnv("start", {})
    assert env.rsctmp == "/run/resource-agents"
    assert env.instance == "default"
    assert env.exit_reason_prefix == "ocf-exit-reason:"


def test_one_truth_table_the_shim_s_copy_and_the_trace_s_use_it() -> None:
    """ocflib/ocf.py is loaded by foreign agents outside the package, so it keeps its
    own copy of Pacemaker's true words: it must be exactly env's."""
    from ocflib import env, ocf, trace

    assert ocf._TRUE_WORDS == env._TRUE
    for word in ("yes", "Yes", "y", "ja", "on", "1", "TRUE", "nein", "", "2"):
        assert ocf.is_true(word) is (env.parse_bool(word) is True), word
        assert trace.wanted({"OCF_TRACE_RA": word}) is env.ocf_is_true(word), word
    assert env.ocf_is_true(" yes ") and not env.ocf_is_true("Yes")  # ocf_is_true's exact list
