#!/usr/bin/python3
"""A fake MySQL server that asks every client for its password in cleartext.

    fake_mysql_server.py SOCKET RECORD  -> listens on SOCKET, writes every byte a
                                           client sends to RECORD, prints "ready"

The greeting offers mysql_native_password; the answer to the client's login is
an authentication switch to mysql_clear_password, which makes an unguarded
client send its password as it is. Run only inside the overlay sandbox.
"""

from __future__ import annotations

import os
import socket
import sys

CAPS = 1 | 8 | 512 | 8192 | 32768 | (1 << 19)  # long password, db, 4.1, txn, secure, plugin


def packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def greeting() -> bytes:
    salt = b"abcdefgh" + b"ijklmnopqrst"
    return (
        b"\x0a"
        + b"5.5.5-10.11.6-MariaDB\0"
        + (7).to_bytes(4, "little")
        + salt[:8]
        + b"\0"
        + (CAPS & 0xFFFF).to_bytes(2, "little")
        + bytes([33])
        + b"\x02\x00"
        + (CAPS >> 16).to_bytes(2, "little")
        + bytes([21])
        + b"\0" * 10
        + salt[8:]
        + b"\0"
        + b"mysql_native_password\0"
    )


def read_packet(conn: socket.socket) -> bytes:
    head = conn.recv(4)
    if len(head) < 4:
        return b""
    size = int.from_bytes(head[:3], "little")
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def main() -> None:
    path, record = sys.argv[1], sys.argv[2]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)  # noqa: S103 - a socket anyone may connect to, as the server's
    server.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        conn.settimeout(5)
        try:
            conn.sendall(packet(0, greeting()))
            received = read_packet(conn)
            conn.sendall(packet(2, b"\xfe" + b"mysql_clear_password\0"))
            received += b"|" + read_packet(conn)
            with open(record, "ab") as f:
                f.write(received + b"\n")
            conn.sendall(packet(4, b"\x00\x00\x00\x02\x00\x00\x00"))
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
