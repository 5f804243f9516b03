"""pyha check's view of the installed agents: the minimum timeouts their meta-data
advertise, read by running `<agent> meta-data` (the reference agents of this release)."""

from __future__ import annotations

from ocflib.admin.cli import AdvertisedTimeouts
from tests.conftest import need


def test_advertised_timeouts_come_from_the_installed_agents_meta_data() -> None:
    need("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", "/usr/lib/ocf/resource.d/heartbeat/galera")
    timeouts = AdvertisedTimeouts("/usr/lib/ocf")
    monitor = timeouts("ocf:heartbeat:IPaddr2", "monitor", None)
    assert monitor is not None and monitor > 0
    promote = timeouts("ocf:heartbeat:galera", "promote", None)
    assert promote is not None and promote >= 60
    # a role-specific monitor is found under either name of the role
    promoted = timeouts("ocf:heartbeat:galera", "monitor", "Promoted")
    assert promoted is not None
    assert promoted == timeouts("ocf:heartbeat:galera", "monitor", "Master")
    # an agent name that is not a plain name is never run
    assert timeouts("ocf:heartbeat:../../../../bin/true", "start", None) is None
    assert timeouts("ocf:nobody:nothing", "start", None) is None
