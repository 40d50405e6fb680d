#!/usr/bin/env python3
"""holdconn.py HOST PORT FIRST-SRC COUNT PER SECONDS: from COUNT source addresses
starting at FIRST-SRC (IPv4, consecutive), open PER TCP connections each to HOST:PORT
(all at once, non-blocking), print how many were established within a second, and
hold them all idle for SECONDS (at most 30) without sending anything."""
import errno, ipaddress, select, socket, sys, time

host, port, first = sys.argv[1], int(sys.argv[2]), ipaddress.IPv4Address(sys.argv[3])
count, per, secs = min(int(sys.argv[4]), 200), min(int(sys.argv[5]), 16), min(float(sys.argv[6]), 30)
socks = []
for i in range(count):
    for _ in range(per):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((str(first + i), 0))
        if s.connect_ex((host, port)) not in (0, errno.EINPROGRESS):
            s.close()
            continue
        socks.append(s)
pending, ok, deadline = set(socks), 0, time.monotonic() + 1.0
while pending and time.monotonic() < deadline:
    _, w, _ = select.select([], list(pending), [], max(0.0, deadline - time.monotonic()))
    for s in w:
        pending.discard(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            ok += 1
print("connected=%d" % ok, flush=True)
time.sleep(secs)
