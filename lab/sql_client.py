#!/usr/bin/python3
"""A client on the lab's client host, talking to MariaDB through the VIP.

    sql_client.py VIP write SECONDS [BASE]
                                      insert rows one commit each; print each acknowledged id
                                      (ids above BASE, default 0: writers on several nodes
                                      of a Galera cluster each take their own range)
    sql_client.py VIP ids             print every id in shop.orders
Reconnects while the database is moving; stops after SECONDS or on SIGTERM.
"""

import signal
import sys
import time

import pymysql

vip, mode = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def connect(timeout: float = 2) -> "pymysql.connections.Connection":
    """A new connection, retried for a minute. Each attempt sends a fresh SYN and
    gives up after 0.3 s: waiting for the kernel to retransmit a SYN that went to
    the dead node's MAC would round the failover time up to its 1 s steps."""
    end = time.monotonic() + 60
    while True:
        try:
            return pymysql.connect(
                host=vip,
                user="app",
                password="app-pw",  # noqa: S106 - the lab's test account
                connect_timeout=0.3,
                read_timeout=timeout,
                write_timeout=timeout,
            )
        except pymysql.MySQLError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


if mode == "ids":
    with connect(timeout=60).cursor() as cur:
        cur.execute("SELECT id FROM shop.orders")
        print(" ".join(str(row[0]) for row in cur.fetchall()))
    sys.exit(0)

end = time.monotonic() + float(sys.argv[3])
base = int(sys.argv[4]) if len(sys.argv) > 4 else 0
conn = connect()
with conn.cursor() as cur:  # a later writer goes on after the ids already there
    cur.execute(
        "SELECT COALESCE(MAX(id), %s) + 1 FROM shop.orders WHERE id > %s AND id < %s",
        (base, base, base + 10_000_000),
    )
    next_id = int(cur.fetchone()[0])
while time.monotonic() < end:
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO shop.orders VALUES (%s)", (next_id,))
        conn.commit()
        print(next_id, flush=True)  # acknowledged: the commit returned
        next_id += 1
    except pymysql.MySQLError:
        time.sleep(0.05)
        try:
            conn = connect()
        except pymysql.MySQLError:
            break
        # The row may or may not have been committed before the failure: skip its id.
        next_id += 1
