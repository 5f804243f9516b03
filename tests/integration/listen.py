#!/usr/bin/python3
"""Record ARP frames and IPv6 neighbour advertisements seen on an interface.

    listen.py IFACE SECONDS  -> one line per frame: "arp OP SENDER_MAC SENDER_IP TARGET_IP"
                                or "na SENDER_MAC TARGET_IP", then "done"
Run inside a peer namespace by the integration tests (it only listens).
"""

from __future__ import annotations

import socket
import sys
import time

ETH_P_ALL = 0x0003


def main() -> None:
    iface, seconds = sys.argv[1], float(sys.argv[2])
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            frame = sock.recv(2048)
        except TimeoutError:
            break
        kind = frame[12:14]
        if kind == b"\x08\x06" and len(frame) >= 42:
            arp = frame[14:42]
            mac = ":".join(f"{b:02x}" for b in arp[8:14])
            print(
                "arp",
                int.from_bytes(arp[6:8], "big"),
                mac,
                socket.inet_ntoa(arp[14:18]),
                socket.inet_ntoa(arp[24:28]),
                flush=True,
            )
        elif kind == b"\x86\xdd" and len(frame) >= 78 and frame[20] == 58 and frame[54] == 136:
            mac = ":".join(f"{b:02x}" for b in frame[6:12])
            target = socket.inet_ntop(socket.AF_INET6, frame[62:78])
            print("na", mac, target, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
