"""What every kind of lab cluster offers once its nodes can run commands: crm,
crm_mon status, where a resource runs, waiting for it, fencing that really
powers a node off, and timelines read from the survivors' logs.

A lab class provides `_exec(name, argv, input, timeout) -> (rc, stdout,
stderr)`, `live_nodes()`, `node_names()`, `power_off(name)`, `power_on(name)`,
`cut_link(name)`, `restore_link(name)`, `log(name, which)`, `collect_logs(dest)`,
`down()` and a `fence_dir` holding one status file per node ("on" from the
start, so a missing file can never pass for a successful fence).
"""

from __future__ import annotations

import datetime
import os
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import TypeVar

STARTED_ROLES = ("Started", "Promoted", "Unpromoted", "Master", "Slave")
L = TypeVar("L", bound="Lifecycle")
# The cluster's own part of a failover in the survivor's logs (before any agent acts).
CLUSTER_TIMELINE = [
    ("corosync", r"Token has not been received", "token lost: the peer stopped answering"),
    ("corosync", r"A new membership .* formed\. Members left", "new membership without it"),
    ("pacemaker", r"Requesting fencing \(\w+\) of node {dead}", "fencing requested"),
    ("pacemaker", r"Operation '\w+' targeting {dead} .*: OK", "fenced (powered off)"),
]
# Pacemaker 2.1 and 3.0 stamp their log lines to the millisecond, 2.0 to the second.
STAMP = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d)(\.\d+)?")


class LabError(RuntimeError):
    """The lab could not do what was asked (the message says where to look).
    `kept`: the directory holding the logs of a lab that failed to come up."""

    kept: str | None = None


# Where a lab that failed to come up leaves its logs (outlives down()).
FAILED_DIR = "/var/tmp"


class Lifecycle:
    """`with lab:` brings a lab up and always takes it down (also after a
    failure during bring-up, or Ctrl-C). A failed bring-up first copies the
    lab's logs (`collect_logs`, where the lab has it) to a directory of their
    own under /var/tmp, and its LabError says where."""

    def up(self) -> None:
        raise NotImplementedError

    def down(self) -> None:
        raise NotImplementedError

    def __enter__(self: L) -> L:
        try:
            self.up()
        except BaseException as err:
            kept = self._keep_logs()
            self.down()
            if kept is not None and isinstance(err, LabError):
                raise _kept_error(err, kept) from err
            raise
        return self

    def _keep_logs(self) -> str | None:
        collect = getattr(self, "collect_logs", None)
        if collect is None:
            return None
        import tempfile

        dest = tempfile.mkdtemp(prefix="pyha-lab-failed-", dir=FAILED_DIR)
        try:
            collect(dest)
        except (OSError, NotImplementedError):
            pass
        if not os.listdir(dest):  # nothing was written yet (e.g. the host probe failed)
            os.rmdir(dest)
            return None
        return dest

    def __exit__(self, *exc: object) -> None:
        self.down()


def _kept_error(err: LabError, kept: str) -> LabError:
    new = LabError(f"{err} (removed with the lab); its logs are kept in {kept}")
    new.kept = kept
    return new


class ClusterOps:
    """Cluster-level operations shared by the namespace and the UML labs."""

    dir: str
    fence_dir: str
    fenced: list[tuple[str, float]]

    # -- what a lab provides ------------------------------------------------------

    def _exec(
        self, name: str, argv: Sequence[str], input: str | None, timeout: float
    ) -> tuple[int, str, str]:
        raise NotImplementedError

    def node_names(self) -> list[str]:
        raise NotImplementedError

    def live_nodes(self) -> list[str]:
        raise NotImplementedError

    def power_off(self, name: str) -> float:
        raise NotImplementedError

    def power_on(self, name: str, timeout: float = 240) -> None:
        raise NotImplementedError

    def cut_link(self, name: str) -> None:
        raise NotImplementedError

    def restore_link(self, name: str) -> None:
        raise NotImplementedError

    def _log_path(self, name: str, which: str) -> str:
        raise NotImplementedError

    def log(self, name: str, which: str = "pacemaker") -> str:
        """A node's pacemaker or corosync log (readable after a power-off), or ''."""
        try:
            with open(self._log_path(name, which), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def collect_logs(self, dest: str) -> None:
        raise NotImplementedError

    def down(self) -> None:
        raise NotImplementedError

    # -- commands -----------------------------------------------------------------

    def sh(
        self, name: str, argv: Sequence[str], *, input: str | None = None, timeout: float = 120
    ) -> str:
        """Run argv on a node; its stdout, or LabError with its words."""
        rc, out, err = self._exec(name, argv, input, timeout)
        if rc != 0:
            raise LabError(
                f"{name}: {' '.join(argv)} returned {rc}: "
                f"{(err or out).strip()[-500:]}; logs in {self.dir}"
            )
        return out

    def crm(self, name: str, *args: str, input: str | None = None) -> str:
        """crm (crmsh) on a node."""
        return self.sh(name, ["crm", *args], input=input, timeout=180)

    def configure(self, text: str, name: str | None = None, *, force: bool = False) -> None:
        """Load a crm configuration snippet (crm configure load update -); force: a
        parameter the agent's meta-data does not declare is taken (crm -F)."""
        node = name or self.live_nodes()[0]
        argv = ["crm", *(["-F"] if force else []), "configure", "load", "update", "-"]
        self.sh(node, argv, input=text + "\n", timeout=180)

    def wait_online(self, timeout: float = 60, names: Sequence[str] | None = None) -> None:
        """Until every (named) live node sees all of them online."""
        wanted = set(names or self.live_nodes())
        end = time.monotonic() + timeout
        last = ""
        while time.monotonic() < end:
            for name in wanted:
                status = self.status(name)
                if status is None:
                    last = f"{name}: no status yet"
                    break
                online = {
                    n.get("name", "") for n in status.iter("node") if n.get("online") == "true"
                }
                if not wanted <= online:
                    last = f"{name} sees online: {sorted(online)}"
                    break
            else:
                return
            time.sleep(0.25)
        raise LabError(f"cluster not online after {timeout}s ({last}); logs in {self.dir}")

    def status(self, name: str | None = None) -> ET.Element | None:
        """crm_mon's XML status as seen from a node, or None if not available."""
        live = self.live_nodes()
        if not live:
            return None
        rc, out, _ = self._exec(name or live[0], ["crm_mon", "-1", "--output-as=xml"], None, 60)
        if rc != 0:
            return None
        try:
            return ET.fromstring(out)  # noqa: S314 - our own cluster's output
        except ET.ParseError:
            return None

    def where(
        self, resource: str, name: str | None = None, *, roles: Sequence[str] = STARTED_ROLES
    ) -> list[str]:
        """Nodes on which crm_mon shows resource active in one of roles (not
        pending, not failed)."""
        status = self.status(name)
        if status is None:
            return []
        found = []
        for rsc in status.iter("resource"):
            if (
                rsc.get("id") == resource
                and rsc.get("active") == "true"
                and rsc.get("role") in roles
                and rsc.get("pending") is None
                and rsc.get("failed") != "true"
            ):
                found += [n.get("name", "") for n in rsc.iter("node")]
        return found

    def wait_for(
        self,
        resource: str,
        *,
        on: str | None = None,
        timeout: float = 60,
        exclude: Sequence[str] = (),
        roles: Sequence[str] = STARTED_ROLES,
        poll: float = 0.05,
    ) -> str:
        """Until resource runs (on a given node / not on excluded ones); returns the node."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            live = self.live_nodes()
            if live:
                nodes = [n for n in self.where(resource, live[0], roles=roles) if n not in exclude]
                if nodes and (on is None or nodes == [on]):
                    return nodes[0]
            time.sleep(poll)
        raise LabError(
            f"{resource} not running{' on ' + on if on else ''} after {timeout}s; "
            f"logs in {self.dir}"
        )

    def unhealthy(self) -> list[str]:
        """What crm_mon shows wrong: failed actions, and resources not active (or
        failed, or with an action pending). Empty when all is well."""
        status = self.status()
        if status is None:
            return ["no status from crm_mon"]
        problems = [
            f"failed {f.get('op_key')} on {f.get('node')}: {f.get('exitreason', '')}"
            for f in status.iter("failure")
        ]
        for rsc in status.iter("resource"):
            if rsc.get("active") != "true" or rsc.get("failed") == "true":
                problems.append(f"{rsc.get('id')} {rsc.get('role')} (not running)")
            elif rsc.get("pending") is not None:
                problems.append(f"{rsc.get('id')}: {rsc.get('pending')} pending")
        return problems

    def failures(self, resource: str) -> list[tuple[str, str]]:
        """(node, exit reason) of failed actions crm_mon shows for resource."""
        status = self.status()
        if status is None:
            return []
        return [
            (f.get("node", ""), f.get("exitreason", ""))
            for f in status.iter("failure")
            if f.get("op_key", "").startswith(f"{resource}_")
        ]

    # -- fencing --------------------------------------------------------------------

    def _init_fencing(self) -> None:
        os.makedirs(self.fence_dir, exist_ok=True)
        for name in self.node_names():
            self._fence_write(name, "on")
        self.fenced = []
        self._fence_stop = threading.Event()
        self._fence_off: set[str] = set()
        self._fence_thread = threading.Thread(target=self._watch_fencing, daemon=True)
        self._fence_thread.start()

    def _fence_write(self, name: str, state: str) -> None:
        path = os.path.join(self.fence_dir, name)
        with open(path, "w") as f:
            f.write(state)  # fence_dummy compares the content unstripped: no newline
        os.chmod(path, 0o666)  # noqa: S103 - written by the nodes' fencer (any uid)

    def _stop_fencing(self) -> None:
        stop = getattr(self, "_fence_stop", None)
        if stop is not None:
            stop.set()
            self._fence_thread.join(timeout=2)

    def _watch_fencing(self) -> None:
        """Power off any node whose status file says off."""
        while not self._fence_stop.is_set():
            for name in self.node_names():
                try:
                    with open(os.path.join(self.fence_dir, name)) as f:
                        state = f.read().strip()
                except OSError:
                    continue
                if state == "off" and name not in self._fence_off:
                    self._fence_off.add(name)
                    if name in self.live_nodes():
                        self.power_off(name)
                    self.fenced.append((name, time.monotonic()))
            self._fence_stop.wait(0.005)

    def fence_rearm(self, name: str) -> None:
        """A fenced node may be powered on again: its status file says on.

        The file first, then the watcher's record: the other way round, a look by the
        watcher in between reads "off" for a node it no longer counts as off, and
        records a second fencing that never happened (seen once in the DRBD lab)."""
        self._fence_write(name, "on")
        self._fence_off.discard(name)

    def fencing_resources(self, status_dir: str = "/run/fence") -> list[str]:
        """crm configure lines: one fence_dummy device per node, powering off."""
        lines = []
        for name in self.node_names():
            lines.append(
                f"primitive f-{name} stonith:fence_dummy params type=file "
                f"status_file={status_dir}/{name} pcmk_host_list={name} "
                f"pcmk_host_argument=none pcmk_reboot_action=off op monitor interval=60s"
            )
            lines.append(f"location l-f-{name} f-{name} -inf: {name}")
        return lines

    # -- timelines --------------------------------------------------------------------

    def wait_logged(
        self,
        alive: str,
        pattern: str,
        since: float,
        *,
        timeout: float = 300,
        poll: float = 0.2,
        **names: str,
    ) -> float:
        """Seconds after `since` (wall clock) of the first line matching pattern
        in node alive's pacemaker log. The log is read on the host, so waiting
        costs the node no CPU (a crm_mon poll costs a UML guest ~0.4 s each)."""
        end = time.monotonic() + timeout
        while True:
            ((_, found),) = self.timeline(alive, [("pacemaker", pattern, "")], since, **names)
            if found is not None:
                return found
            if time.monotonic() > end:
                raise LabError(
                    f"{alive}: no {pattern!r} in its log within {timeout}s; logs in {self.dir}"
                )
            time.sleep(poll)

    def timeline(
        self, alive: str, events: Sequence[tuple[str, str, str]], since: float, **names: str
    ) -> list[tuple[str, float | None]]:
        """(label, seconds after `since` (wall clock)) of the first line of each
        event (log, regex, label) on node alive at or after since; None if absent."""
        logs = {which: self.log(alive, which) for which in {e[0] for e in events}}
        out: list[tuple[str, float | None]] = []
        for which, pattern, label in events:
            regex = re.compile(pattern.format(alive=alive, **names))
            found = None
            for offset, line in _stamped(logs[which], since):
                if regex.search(line):
                    found = offset
                    break
            out.append((label, found))
        return out


def _stamped(text: str, since: float) -> Iterator[tuple[float, str]]:
    """(seconds after since, line) of a log's lines stamped at or after since
    (wall clock; a little slack for the logs' millisecond rounding)."""
    year = datetime.datetime.now().year
    for line in text.splitlines():
        stamp = STAMP.match(line)
        if not stamp:
            continue
        when = datetime.datetime.strptime(f"{year} {stamp.group(1)}", "%Y %b %d %H:%M:%S")
        fraction = float(stamp.group(2) or 0)
        offset = when.timestamp() + fraction - since
        if offset >= (-0.05 if stamp.group(2) else -1.0):
            yield offset, line
