#!/usr/bin/env python3
# evwatch.py - helpers for events_lab.sh: the JSON event stream, a watcher that never reads,
# and portgatectl watch on a terminal that gets a Ctrl-C.
#
#   evwatch.py match FILE KEY=VALUE...   exit 0 if an event of FILE (one JSON object a line,
#                                        each must parse) has all of them (null is None)
#   evwatch.py stall SOCKET READY HOLD   connect, ask "watch --json", touch READY, read
#                                        nothing for HOLD seconds, then read to the end: print
#                                        "closed" (the daemon dropped us) or "open", and the
#                                        last line it got
#   evwatch.py ctrlc PORTGATECTL SOCKET WAIT
#                                        run "portgatectl -s SOCKET watch" on a pty (SIGINT
#                                        as a terminal has it), type ^C after WAIT seconds;
#                                        print its output and "exit N"
import json
import os
import pty
import select
import signal
import socket
import sys
import time


def match(path, pairs):
    want = dict(p.split("=", 1) for p in pairs)
    found = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if all(str(ev.get(k)) == v for k, v in want.items()):
                found = True
    return 0 if found else 1


def stall(path, ready, hold):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.sendall(b"watch --json\n")
    open(ready, "w").close()
    time.sleep(hold)
    s.settimeout(5)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got = (got + d)[-4096:]
        print("closed")
    except socket.timeout:
        print("open")
    lines = got.decode("utf-8", "replace").splitlines()
    print("last: " + (lines[-1] if lines else ""))
    return 0


def ctrlc(ctl, sock, wait):
    pid, fd = pty.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a terminal's foreground job
        os.execv(ctl, [ctl, "-s", sock, "watch"])
    out = b""
    end = time.time() + wait
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    os.write(fd, b"\x03")
    end = time.time() + 5
    status = None
    while time.time() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = st
            break
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                pass
    sys.stdout.write(out.decode("utf-8", "replace"))
    if status is None:
        os.kill(pid, signal.SIGKILL)
        print("exit timeout")
    elif os.WIFSIGNALED(status):
        print("exit signal %d" % os.WTERMSIG(status))
    else:
        print("exit %d" % os.WEXITSTATUS(status))
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "match":
        return match(sys.argv[2], sys.argv[3:])
    if cmd == "stall":
        return stall(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    if cmd == "ctrlc":
        return ctrlc(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    return 2


sys.exit(main())
