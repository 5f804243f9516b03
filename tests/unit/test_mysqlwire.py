"""ocflib.mysqlwire against golden bytes: the handshake it sends, byte for byte, and what
it makes of each answer a server can give (a server thread on a socket in tmp_path)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ocflib.mysqlwire import PingResult, ping

# A MariaDB 10.11 greeting: protocol 10, salt "abcdefgh" + "ijklmnopqrst",
# mysql_native_password.
GREETING = bytes.fromhex(
    "0a352e352e352d31302e31312e362d4d617269614442000700000061626364656667680009a221"
    "020008001500000000000000000000696a6b6c6d6e6f7071727374006d7973716c5f6e6174697665"
    "5f70617373776f726400"
)
# What the client must answer for user "monitor", password "secret" (the scramble as
# pymysql computes it, independently of ocflib): capabilities
# (long password, 4.1, transactions, secure connection, plugin auth), max packet 16 MiB,
# charset 33, 23 zero bytes, the user, the 20-byte SHA1 scramble, the plugin's name.
LOGIN = bytes.fromhex(
    "01a20800000000012100000000000000000000000000000000000000000000006d6f6e69746f7200"
    "148817c50fa779daef010ee7577825b0847df9842e6d7973716c5f6e61746976655f70617373776f"
    "726400"
)
OK = b"\x00\x00\x00\x02\x00\x00\x00"
COM_QUIT = b"\x01"


def packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def read(conn: socket.socket) -> bytes:
    head = conn.recv(4)
    if len(head) < 4:
        return b""
    size = int.from_bytes(head[:3], "little")
    data = b""
    while len(data) < size:
        data += conn.recv(size - len(data))
    return data


def converse(
    tmp_path: Any, script: Callable[[socket.socket, list[bytes]], None]
) -> tuple[PingResult, list[bytes]]:
    path = os.path.join(str(tmp_path), "s")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            script(conn, got)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        result = ping(path, "monitor", "secret", 2.0)
    finally:
        thread.join(5)
        server.close()
    return result, got


def test_login_and_quit_are_the_golden_bytes(tmp_path: Any) -> None:
    def script(conn: socket.socket, got: list[bytes]) -> None:
        conn.sendall(packet(0, GREETING))
        got.append(read(conn))
        conn.sendall(packet(2, OK))
        got.append(read(conn))

    result, got = converse(tmp_path, script)
    assert (result.state, result.server) == ("ok", "5.5.5-10.11.6-MariaDB")
    assert got == [LOGIN, COM_QUIT]


def error(code: int, message: bytes) -> bytes:
    return b"\xff" + code.to_bytes(2, "little") + b"#28000" + message


@pytest.mark.parametrize(
    ("answer", "state", "code"),
    [
        (error(1045, b"Access denied"), "denied", 1045),
        (error(1698, b"Access denied (socket)"), "denied", 1698),
        (error(1129, b"Host blocked"), "error", 1129),
    ],
)
def test_answers_to_the_login(tmp_path: Any, answer: bytes, state: str, code: int) -> None:
    def script(conn: socket.socket, got: list[bytes]) -> None:
        conn.sendall(packet(0, GREETING))
        got.append(read(conn))
        conn.sendall(packet(2, answer))

    result, _ = converse(tmp_path, script)
    assert (result.state, result.code) == (state, code)


def test_too_many_connections_is_busy_not_dead(tmp_path: Any) -> None:
    def script(conn: socket.socket, got: list[bytes]) -> None:
        conn.sendall(packet(0, error(1040, b"Too many connections")))

    result, _ = converse(tmp_path, script)
    assert (result.state, result.code) == ("busy", 1040)


@pytest.mark.parametrize(
    ("plugin", "reply", "state"),
    [
        (
            b"mysql_native_password\0" + b"ABCDEFGHIJKLMNOPQRST\0",
            bytes.fromhex("28441590674285e7d03cae7af237504797f70e91"),
            "ok",
        ),
        (b"unix_socket\0", b"", "ok"),
        (b"mysql_clear_password\0", None, "denied"),
        # Plugins the check login does not speak (docs/agents.md, galera-py: the check login)
        (b"client_ed25519\0" + b"E" * 32 + b"\0", None, "denied"),
        (b"caching_sha2_password\0" + b"ABCDEFGHIJKLMNOPQRST\0", None, "denied"),
    ],
)
def test_authentication_switch(
    tmp_path: Any, plugin: bytes, reply: bytes | None, state: str
) -> None:
    """The scramble is redone with the new salt; unix_socket needs nothing; anything
    else (a plugin that would want the password in cleartext) is never answered."""

    def script(conn: socket.socket, got: list[bytes]) -> None:
        conn.sendall(packet(0, GREETING))
        got.append(read(conn))
        conn.sendall(packet(2, b"\xfe" + plugin))
        if reply is not None:
            got.append(read(conn))
            conn.sendall(packet(4, OK))
            got.append(read(conn))

    result, got = converse(tmp_path, script)
    assert result.state == state
    if reply is not None:
        assert got[1:] == [reply, COM_QUIT]
    else:
        assert got == [LOGIN]  # the password was never sent
        name = plugin.split(b"\0", 1)[0].decode()
        assert result.message == f"authentication plugin {name}"  # said in the exit reason
