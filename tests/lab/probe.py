#!/usr/bin/env python3
"""probe.py HOST PORT SECONDS INTERVAL_MS - connect again and again; count what fails.

For watching a mapping while the daemon reloads: runs at most SECONDS (and at
most 5000 attempts), one connection every INTERVAL_MS, each with a 0.5 s
timeout; prints "attempts=N failed=M"."""
import socket, sys, time

host, port, seconds, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) / 1000
assert host.startswith(("192.0.2.", "198.51.100.")), host
attempts = failed = 0
end = time.monotonic() + seconds
while time.monotonic() < end and attempts < 5000:
    attempts += 1
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        failed += 1
    time.sleep(interval)
print(f"attempts={attempts} failed={failed}")
