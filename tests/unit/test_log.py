from __future__ import annotations

import io
import os

from ocflib.log import Log, configure


def test_logfile_format_and_debug_gating(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "ha.log")
    log = configure({"HA_LOGFILE": path, "HA_debug": "0"}, "IPaddr2-py", "vip")
    log.info("adding %s", "192.0.2.5")
    log.debug("hidden")
    with open(path) as f:
        text = f.read()
    assert f"IPaddr2-py(vip)[{os.getpid()}]:    INFO: adding 192.0.2.5\n" in text
    assert "hidden" not in text
    assert not log.to_stderr  # a log file is configured and stderr is not a tty


def test_debug_on_with_pacemaker_boolean(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "ha.log")
    log = configure({"HA_LOGFILE": path, "HA_debug": "on"}, "x", "r")
    log.debug("visible")
    with open(path) as f:
        assert "DEBUG: visible" in f.read()


def test_stderr_when_nothing_else_is_configured_and_secrets_redacted() -> None:
    stream = io.StringIO()
    log = Log("x", "r", stderr=stream)
    log.add_secret("hunter2")
    log.warning("password %s rejected", "hunter2")
    log.log("error", "already on stderr", ignore_stderr=True)
    assert stream.getvalue().endswith("WARNING: password <redacted> rejected\n")
    assert "already on stderr" not in stream.getvalue()


def test_facility_none_means_no_syslog() -> None:
    log = configure({"HA_LOGFACILITY": "none"}, "x", "r")
    assert log.facility is None and log.to_stderr
