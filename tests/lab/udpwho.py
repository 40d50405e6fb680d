#!/usr/bin/env python3
"""udpwho.py - who sent what, over UDP or TCP, for the lab (bounded in time).

  udpwho.py serve PROTO PORT SECONDS [TO-HOST TO-PORT]
      answer every datagram (or connection's first line) with "seen IP:PORT" (the
      sender as this host sees it); with TO-HOST/TO-PORT, UDP only, after each
      answer also send "to-TO-PORT" from PORT to TO-HOST:TO-PORT
  udpwho.py ask PROTO SRCPORT HOST PORT [LISTEN-SECONDS]
      from local port SRCPORT send "hi" to HOST:PORT, print the answer; then, UDP,
      print every further datagram received on SRCPORT for LISTEN-SECONDS
  udpwho.py recv PORT SECONDS
      print every UDP datagram received on PORT ("got TEXT from IP:PORT")
  udpwho.py send SRCPORT HOST PORT TEXT
      send one UDP datagram TEXT from local port SRCPORT to HOST:PORT
"""
import socket, sys, time


def serve(proto, port, secs, to=None):
    end = time.monotonic() + min(secs, 60)
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                _, a = s.recvfrom(2048)
            except socket.timeout:
                break
            s.sendto(b"seen %s:%d\n" % (a[0].encode(), a[1]), a)
            if to:
                time.sleep(0.2)
                s.sendto(b"to-%d\n" % to[1], to)
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            c, a = s.accept()
        except socket.timeout:
            break
        c.sendall(b"seen %s:%d\n" % (a[0].encode(), a[1]))
        c.close()


def ask(proto, sport, host, port, listen):
    t = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, t)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    s.settimeout(1.0)
    try:
        if proto == "udp":
            for _ in range(3):
                s.sendto(b"hi\n", (host, port))
                try:
                    print(s.recv(2048).decode().strip(), flush=True)
                    break
                except socket.timeout:
                    continue
        else:
            s.connect((host, port))
            print(s.recv(2048).decode().strip(), flush=True)
    except OSError as e:
        print("error %s" % e, flush=True)
    end = time.monotonic() + min(listen, 30)
    while proto == "udp" and time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            d, a = s.recvfrom(2048)
            print("got %s from %s:%d" % (d.decode().strip(), a[0], a[1]), flush=True)
        except socket.timeout:
            break


def recv(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    end = time.monotonic() + min(secs, 60)
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            d, a = s.recvfrom(2048)
            print("got %s from %s:%d" % (d.decode().strip(), a[0], a[1]), flush=True)
        except socket.timeout:
            break


def send(sport, host, port, text):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    s.sendto(text.encode() + b"\n", (host, port))


a = sys.argv
if a[1] == "serve":
    serve(a[2], int(a[3]), float(a[4]), (a[5], int(a[6])) if len(a) > 6 else None)
elif a[1] == "ask":
    ask(a[2], int(a[3]), a[4], int(a[5]), float(a[6]) if len(a) > 6 else 0)
elif a[1] == "recv":
    recv(int(a[2]), float(a[3]))
elif a[1] == "send":
    send(int(a[2]), a[3], int(a[4]), a[5])
