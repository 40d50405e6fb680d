#!/usr/bin/env python3
"""silent_listener.py PORT SECONDS - accept TCP on 0.0.0.0:PORT and never read or answer,
for SECONDS (at most 300); prints how many connections it took."""
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1]))); l.listen(512); l.settimeout(0.5)
held, t0 = [], time.time()
while time.time() - t0 < min(float(sys.argv[2]), 300):
    try:
        held.append(l.accept()[0])
    except socket.timeout:
        pass
print("silent listener took", len(held), "connections")
