#!/usr/bin/env python3
"""ctl_abuse.py SOCKET TEST [ARGS] - misbehaving control-socket clients for ctl_limits.sh.

Each test prints one line "RESULT ..." that the shell test checks. Every loop
is bounded in count and time."""
import os, socket, sys, time

SOCK = sys.argv[1]


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(None)                  # a blocking connect waits for room in the backlog
    s.connect(SOCK)
    s.settimeout(10)
    return s


def read_all(s, limit=8 << 20, timeout=5.0):
    """Everything until EOF (or limit/timeout); returns (bytes, eof)."""
    data, end = b"", time.monotonic() + timeout
    s.settimeout(0.5)
    while len(data) < limit and time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def send_lenient(s, payload):
    """Send as much as the daemon takes; it may close on us mid-way."""
    try:
        s.settimeout(5)
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass


def reply_lines(data):
    lines = data.decode("utf-8", "replace").split("\n")
    return [l for l in lines if l][1:]          # without the greeting


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def t_flood(pid, n):
    """A client pipelines n 'list --json' and never reads; another asks for status."""
    flood = connect()
    flood.setblocking(False)
    sent, req, end = 0, b"list --json\n", time.monotonic() + 5
    while sent < n and time.monotonic() < end:
        try:
            flood.send(req)
            sent += 1
        except BlockingIOError:
            time.sleep(0.01)           # the daemon stopped reading us: backpressure
    time.sleep(1.0)
    other = connect()
    t0 = time.monotonic()
    other.sendall(b"status\n")
    data = b""
    while not data.rstrip().endswith(b"ok") and time.monotonic() - t0 < 10:
        chunk = other.recv(65536)
        if not chunk:
            break
        data += chunk
    elapsed = time.monotonic() - t0
    print(f"RESULT sent={sent} rss_kb={rss_kb(pid)} status_ms={int(elapsed * 1000)} "
          f"status_ok={int(b'| mappings' in data)}")
    flood.close()
    other.close()


def t_longline(size, tail):
    s = connect()
    send_lenient(s, b"A" * size + tail)
    data, eof = read_all(s)
    lines = reply_lines(data)
    print(f"RESULT replies={len(lines)} eof={int(eof)} status_ran={int(any('version' in l for l in lines))} "
          f"first={lines[0] if lines else '-'}")


def t_nul():
    s = connect()
    s.sendall(b"status\0junk\nstatus\n")
    s.shutdown(socket.SHUT_WR)
    data, eof = read_all(s)
    lines = reply_lines(data)
    finals = [l for l in lines if not l.startswith("| ")]
    print(f"RESULT finals={'/'.join(finals).replace(' ', '_')} eof={int(eof)}")


def t_conns(n):
    socks, accepted, refused = [], 0, 0
    for _ in range(n):
        s = connect()
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        s.settimeout(1)
        try:
            data = s.recv(4096)
        except socket.timeout:
            data = b""
        if b"err too many control connections" in data:
            refused += 1
        elif data.startswith(b"portgate-ctl"):
            accepted += 1
    for s in socks:
        s.close()
    print(f"RESULT accepted={accepted} refused={refused}")


def t_idle(wait):
    s = connect()
    s.settimeout(1)
    s.recv(4096)                        # greeting
    t0 = time.monotonic()
    data, eof = read_all(s, timeout=wait)
    print(f"RESULT eof={int(eof)} after_ms={int((time.monotonic() - t0) * 1000)}")


def t_hold(n, seconds, pid):
    """Open up to n connections (some fail when the daemon is out of fds), hold them,
    and report the daemon's CPU time meanwhile."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(0.5)               # a full backlog fails at once instead of blocking
        try:
            s.connect(SOCK)
            socks.append(s)
        except OSError:
            s.close()
            break
    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])   # utime + stime, clock ticks
    c0 = cpu()
    time.sleep(seconds)
    used = (cpu() - c0) / os.sysconf("SC_CLK_TCK")
    for s in socks:
        s.close()
    print(f"RESULT opened={len(socks)} cpu_s={used:.2f}")


tests = {
    "flood": lambda a: t_flood(int(a[0]), int(a[1])),
    "longline": lambda a: t_longline(int(a[0]), a[1].encode().decode("unicode_escape").encode()),
    "nul": lambda a: t_nul(),
    "conns": lambda a: t_conns(int(a[0])),
    "idle": lambda a: t_idle(float(a[0])),
    "hold": lambda a: t_hold(int(a[0]), float(a[1]), int(a[2])),
}
tests[sys.argv[2]](sys.argv[3:])
