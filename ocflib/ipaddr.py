"""IP addresses without the ipaddress module: glibc's inet_pton/inet_ntop.

The canonical text is exactly what iproute2 prints (it uses inet_ntop), so
addresses from parameters compare equal to addresses in `ip addr` output.
Importing ipaddress costs ~5 ms; _socket (a shared library to load) is imported
only for IPv6: IPv4 text is parsed and written here, in inet_ntop's own form.
"""

from __future__ import annotations

__all__ = ["IPAddr", "parse_ip"]

AF_INET = 2  # Linux's address family numbers (socket.AF_INET, AF_INET6)
AF_INET6 = 10


class IPAddr:
    """An IPv4 or IPv6 address in canonical (inet_ntop) form."""

    __slots__ = ("text", "packed", "version")

    def __init__(self, text: str, packed: bytes, version: int) -> None:
        self.text = text
        self.packed = packed
        self.version = version

    @property
    def family(self) -> str:
        """iproute2's family name: inet or inet6."""
        return "inet" if self.version == 4 else "inet6"

    @property
    def max_prefix(self) -> int:
        """32 or 128."""
        return 32 if self.version == 4 else 128

    @property
    def is_link_local(self) -> bool:
        """fe80::/10 (IPv6) or 169.254/16 (IPv4)."""
        if self.version == 6:
            return self.packed[0] == 0xFE and (self.packed[1] & 0xC0) == 0x80
        return self.packed[0] == 169 and self.packed[1] == 254

    @property
    def is_loopback(self) -> bool:
        """127/8 or ::1."""
        if self.version == 4:
            return self.packed[0] == 127
        return self.packed == b"\0" * 15 + b"\1"

    def as_int(self) -> int:
        """The address as an integer."""
        return int.from_bytes(self.packed, "big")

    def network_broadcast(self, prefix: int) -> tuple[IPAddr, IPAddr]:
        """(network, broadcast) of this IPv4 address in a /prefix."""
        bits = self.max_prefix
        value = self.as_int()
        host_mask = (1 << (bits - prefix)) - 1
        return (
            from_int((value & ~host_mask) & ((1 << bits) - 1), self.version),
            from_int(value | host_mask, self.version),
        )

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"IPAddr({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IPAddr) and other.packed == self.packed

    def __hash__(self) -> int:
        return hash(self.packed)


def from_int(value: int, version: int) -> IPAddr:
    """The address with this integer value."""
    if version == 4:
        packed = value.to_bytes(4, "big")
        return IPAddr(".".join(str(b) for b in packed), packed, 4)
    import _socket

    packed = value.to_bytes(16, "big")
    return IPAddr(_socket.inet_ntop(AF_INET6, packed), packed, 6)


def parse_ip(text: str) -> IPAddr:
    """A strict IPv4 dotted quad (no leading zeros) or IPv6 address.

    Raises ValueError with a reason that reads after the value ("... is not
    a valid IPv4 address"). Zone suffixes (%eth0) and prefixes (/24) are
    not addresses and are refused.
    """
    text = text.strip()
    if not text:
        raise ValueError("is empty")
    if "%" in text or "/" in text:
        raise ValueError("is not a plain IP address (no /prefix or %zone)")
    if ":" in text:
        import _socket

        try:
            packed = _socket.inet_pton(AF_INET6, text)
        except (OSError, ValueError):
            raise ValueError("is not a valid IPv6 address") from None
        return IPAddr(_socket.inet_ntop(AF_INET6, packed), packed, 6)
    parts = text.split(".")
    if len(parts) != 4 or not all(
        p.isdigit() and p.isascii() and (p == "0" or not p.startswith("0")) and int(p) < 256
        for p in parts
    ):
        raise ValueError("is not a valid IPv4 address")
    packed = bytes(int(p) for p in parts)
    return IPAddr(".".join(parts), packed, 4)


def dotted_to_prefix(text: str) -> int | None:
    """A dotted-quad netmask (255.255.255.0) as a prefix length, or None."""
    try:
        addr = parse_ip(text)
    except ValueError:
        return None
    if addr.version != 4:
        return None
    value = addr.as_int()
    prefix = bin(value).count("1")
    if value != ((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1):
        return None
    return prefix
