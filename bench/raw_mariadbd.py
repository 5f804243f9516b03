#!/usr/bin/python3
"""The server's own start and stop time, as a floor for mysql-py: launch mariadbd
(as mysql, same options as the agents) and poll its socket every 5 ms until it
greets; stop: SIGTERM and poll until it is gone.

    raw_mariadbd.py start|stop DATADIR CONFIG RUNDIR LOG
"""

import os
import socket
import sys
import time

action, datadir, config, rundir, log = sys.argv[1:6]
pidfile, sock = os.path.join(rundir, "m.pid"), os.path.join(rundir, "m.sock")
if action == "start":
    argv = [
        "runuser",
        "-u",
        "mysql",
        "--",
        "/usr/sbin/mariadbd",
        f"--defaults-file={config}",
        f"--pid-file={pidfile}",
        f"--socket={sock}",
        f"--datadir={datadir}",
        f"--log-error={log}",
    ]
    devnull = os.open(os.devnull, os.O_RDWR)
    os.posix_spawn(
        "/usr/sbin/runuser",
        argv,
        {"PATH": "/usr/sbin:/usr/bin"},
        setsid=True,
        file_actions=[(os.POSIX_SPAWN_DUP2, devnull, n) for n in (0, 1, 2)],
    )
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
                if s.recv(4):
                    break
        except OSError:
            time.sleep(0.005)
else:
    with open(pidfile) as f:
        pid = int(f.read())
    os.kill(pid, 15)
    while True:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    break
        except OSError:
            break
        time.sleep(0.002)
