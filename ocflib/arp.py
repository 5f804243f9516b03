"""Gratuitous ARP, unsolicited neighbour advertisements and duplicate-address
probes on raw sockets (no send_arp/send_ua/arping binaries needed).

Uses the C-level _socket module: the socket package imports enum and costs
~12 ms per agent run.
"""

from __future__ import annotations

import _socket
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ocflib.ipaddr import IPAddr

__all__ = [
    "interface_mac",
    "send_gratuitous_arp",
    "probe_ipv4_in_use",
    "send_unsolicited_na",
    "format_mac",
    "SystemNetwork",
]

AF_PACKET = 17
SOCK_RAW = 3
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
IPPROTO_ICMPV6 = 58
SOL_IPV6 = 41
IPV6_MULTICAST_IF = 17
IPV6_MULTICAST_HOPS = 18
BROADCAST = b"\xff" * 6
ZERO_MAC = b"\0" * 6


def format_mac(raw: bytes) -> str:
    """aa:bb:cc:dd:ee:ff."""
    return ":".join(f"{b:02x}" for b in raw)


def _packet_socket(nic: str, proto: int) -> _socket.socket:
    sock = _socket.socket(AF_PACKET, SOCK_RAW, _socket.htons(proto))
    try:
        sock.bind((nic, proto))
    except OSError:
        sock.close()
        raise
    return sock


def interface_mac(nic: str) -> bytes:
    """The hardware address of nic, read from a packet socket bound to it."""
    sock = _packet_socket(nic, ETH_P_ARP)
    try:
        name = sock.getsockname()
    finally:
        sock.close()
    mac = name[4] if len(name) > 4 else b""
    if not isinstance(mac, bytes) or len(mac) != 6:
        raise OSError(f"{nic} has no Ethernet address")
    return mac


def _arp_frame(
    src_mac: bytes,
    op: int,
    sha: bytes,
    spa: bytes,
    tha: bytes,
    tpa: bytes,
    dst_mac: bytes = BROADCAST,
) -> bytes:
    header = dst_mac + src_mac + ETH_P_ARP.to_bytes(2, "big")
    arp = b"\x00\x01\x08\x00\x06\x04" + op.to_bytes(2, "big") + sha + spa + tha + tpa
    return (header + arp).ljust(60, b"\0")


def send_gratuitous_arp(nic: str, ip: IPAddr, count: int, interval_ms: int) -> int:
    """Announce ip on nic: count unsolicited ARP requests interval_ms apart
    (what send_arp and `arping -U` send). Returns the number sent."""
    sock = _packet_socket(nic, ETH_P_ARP)
    sent = 0
    try:
        mac = sock.getsockname()[4]
        frame = _arp_frame(mac, 1, mac, ip.packed, ZERO_MAC, ip.packed)
        for i in range(count):
            if i:
                time.sleep(interval_ms / 1000.0)
            sock.send(frame)
            sent += 1
    finally:
        sock.close()
    return sent


def probe_ipv4_in_use(nic: str, ip: IPAddr, timeout_ms: int, probes: int = 2) -> str | None:
    """RFC 5227 address probe: who else answers for ip on nic's segment?

    Sends ARP probes (sender address 0.0.0.0) spread over the first part of
    timeout_ms and listens until it passes. Returns the MAC of a host that
    replied for ip or announced it, or None when nobody did.
    """
    sock = _packet_socket(nic, ETH_P_ARP)
    try:
        mac = sock.getsockname()[4]
        frame = _arp_frame(mac, 1, mac, b"\0\0\0\0", ZERO_MAC, ip.packed)
        start = time.monotonic()
        end = start + timeout_ms / 1000.0
        gap = timeout_ms / 1000.0 / (probes * 2)
        next_probe = start
        sent = 0
        while True:
            now = time.monotonic()
            if sent < probes and now >= next_probe:
                sock.send(frame)
                sent += 1
                next_probe = now + gap
            wait = (next_probe if sent < probes else end) - now
            if now >= end:
                return None
            sock.settimeout(max(min(wait, end - now), 0.001))
            try:
                data = sock.recv(128)
            except (TimeoutError, _socket.timeout):
                continue
            owner = _conflict(data, mac, ip.packed)
            if owner is not None:
                return format_mac(owner)
    finally:
        sock.close()


def _conflict(data: bytes, own_mac: bytes, ip: bytes) -> bytes | None:
    """The sender MAC if this ARP frame shows another host using ip."""
    if len(data) < 42 or data[12:14] != b"\x08\x06":
        return None
    arp = data[14:42]
    op = int.from_bytes(arp[6:8], "big")
    sha, spa, tpa = arp[8:14], arp[14:18], arp[24:28]
    if sha == own_mac:
        return None
    if spa == ip and op in (1, 2):
        return sha
    # Another host probing for the same address at the same moment.
    if op == 1 and spa == b"\0\0\0\0" and tpa == ip:
        return sha
    return None


def send_unsolicited_na(nic: str, ip: IPAddr, count: int, interval_ms: int) -> int:
    """Announce an IPv6 address: count unsolicited neighbour advertisements
    (override flag, target link-layer option) to ff02::1 from ip, as send_ua
    does. ip must be usable (not tentative). Returns the number sent."""
    mac = interface_mac(nic)
    ifindex = _socket.if_nametoindex(nic)
    body = (
        bytes([136, 0, 0, 0])  # type NA, code, checksum (kernel fills it in)
        + (0x20000000).to_bytes(4, "big")  # O (override), not solicited
        + ip.packed
        + bytes([2, 1])  # option: target link-layer address, 8 bytes
        + mac
    )
    sock = _socket.socket(_socket.AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)
    sent = 0
    try:
        sock.setsockopt(SOL_IPV6, IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(SOL_IPV6, IPV6_MULTICAST_IF, ifindex)
        sock.bind((ip.text, 0, 0, ifindex if ip.is_link_local else 0))
        for i in range(count):
            if i:
                time.sleep(interval_ms / 1000.0)
            sock.sendto(body, ("ff02::1", 0, 0, ifindex))
            sent += 1
    finally:
        sock.close()
    return sent


class SystemNetwork:
    """The network seam (Context.net): interfaces of this network namespace and
    the raw-socket announcements and probes above."""

    def nic_exists(self, nic: str) -> bool:
        """True if nic exists in this network namespace."""
        try:
            _socket.if_nametoindex(nic)
        except OSError:
            return False
        return True

    def probe_ipv4_in_use(self, nic: str, ip: IPAddr, timeout_ms: int) -> str | None:
        return probe_ipv4_in_use(nic, ip, timeout_ms)

    def send_gratuitous_arp(self, nic: str, ip: IPAddr, count: int, interval_ms: int) -> int:
        return send_gratuitous_arp(nic, ip, count, interval_ms)

    def send_unsolicited_na(self, nic: str, ip: IPAddr, count: int, interval_ms: int) -> int:
        return send_unsolicited_na(nic, ip, count, interval_ms)
