#!/usr/bin/env python3
"""Plays systemd's side of sd_notify for tests: binds a datagram socket at argv[1] and appends
every message to argv[2], one line per field, until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        data = sock.recv(4096).decode(errors="replace")
        for line in data.splitlines():
            f.write(line + "\n")
