#!/usr/bin/env python3
"""ssdp_client.py - a small SSDP control point for ssdp_lab.sh.

  ssdp_client.py search [--to HOST] [--src ADDR] [--mx N|none] [--repeat N] ST SECONDS
      send an M-SEARCH (multicast to 239.255.255.250:1900 unless --to) and
      print every answer as one line: from=IP:PORT t=SECONDS st=.. usn=.. location=.. ...
  ssdp_client.py listen --addr ADDR SECONDS
      join 239.255.255.250 on the interface holding ADDR and print each NOTIFY
      as one line: from=IP:PORT nts=.. nt=.. usn=.. location=.. bootid=..
  ssdp_client.py raw [--to HOST] [--src ADDR] FILE SECONDS
      send FILE's bytes as one datagram and print whatever comes back.
With -6 IFNAME (before the command) all of it is IPv6 on that interface:
searches go to [ff02::c]:1900 unless --to (ff05::c, or a unicast address),
from the kernel's choice of source or --src; listen joins ff02::c and
ff05::c and adds to=GROUP to each line.
Only lab addresses are used: the caller passes them.
"""
import argparse
import socket
import struct
import sys
import time

GROUP = "239.255.255.250"
GROUP6 = "ff02::c"
GROUPS6 = ("ff02::c", "ff05::c")
PORT = 1900
IFACE6 = None       # -6 IFNAME: IPv6 on that interface


def headers(data):
    text = data.decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    h = {}
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        h[name.strip().lower()] = value.strip()
    return lines[0], h


def hostport(addr):
    host = addr[0].split("%")[0]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, addr[1])


def show(prefix, start, data, addr, t0, extra=()):
    first, h = headers(data)
    keys = ["host", "st", "nt", "nts", "usn", "location", "cache-control", "bootid.upnp.org",
            "configid.upnp.org", "server", "ext", "date"]
    fields = ["from=%s" % hostport(addr), "t=%.2f" % (time.monotonic() - t0),
              "start=%s" % first.replace(" ", "_")] + list(extra)
    for k in keys:
        if k in h:
            fields.append("%s=%s" % (k, h[k].replace(" ", "_") or "(empty)"))
    print(prefix + " ".join(fields), flush=True)


def udp6(src):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    ifindex = socket.if_nametoindex(IFACE6)
    s.bind((src or "::", 0, 0, ifindex if src and src.lower().startswith("fe80") else 0))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 2)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    return s


def dest(to):
    """The sockaddr a datagram to `to` (or the default group) goes to."""
    if IFACE6 is None:
        return (to or GROUP, PORT)
    to = to or GROUP6
    scoped = to.lower().startswith(("fe80", "ff02"))
    return (to, PORT, 0, socket.if_nametoindex(IFACE6) if scoped else 0)


def udp(src):
    if IFACE6 is not None:
        return udp6(src)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src or "0.0.0.0", 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    if src:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
    return s


def collect(s, seconds, t0):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            return
        show("", t0, data, addr, t0)


def cmd_search(a):
    s = udp(a.src)
    to = dest(a.to)
    msg = "M-SEARCH * HTTP/1.1\r\nHOST: %s\r\nMAN: \"ssdp:discover\"\r\n" % hostport(to)
    if a.mx != "none":
        msg += "MX: %s\r\n" % a.mx
    msg += "ST: %s\r\nUSER-AGENT: Linux/1 UPnP/1.1 ssdp_client/1\r\n\r\n" % a.st
    t0 = time.monotonic()
    for _ in range(a.repeat):
        s.sendto(msg.encode(), to)
    collect(s, a.seconds, t0)


def cmd_raw(a):
    s = udp(a.src)
    with open(a.file, "rb") as f:
        data = f.read()
    t0 = time.monotonic()
    s.sendto(data, dest(a.to))
    collect(s, a.seconds, t0)


def cmd_listen6(a):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    s.bind(("::", PORT))
    ifindex = socket.if_nametoindex(IFACE6)
    for g in GROUPS6:
        mreq = socket.inet_pton(socket.AF_INET6, g) + struct.pack("@I", ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    print("listening", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    end = t0 + a.seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(20))
        except socket.timeout:
            return
        to = "?"
        for level, kind, cdata in anc:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                to = socket.inet_ntop(socket.AF_INET6, cdata[:16])
        if data.startswith(b"NOTIFY"):
            show("", t0, data, addr, t0, ["to=%s" % to])


def cmd_listen(a):
    if IFACE6 is not None:
        return cmd_listen6(a)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", PORT))
    mreq = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(a.addr))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    print("listening", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    end = t0 + a.seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            return
        if data.startswith(b"NOTIFY"):
            show("", t0, data, addr, t0)


def main():
    global IFACE6
    p = argparse.ArgumentParser()
    p.add_argument("-6", dest="iface6", metavar="IFNAME")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("search")
    s.add_argument("--to")
    s.add_argument("--src")
    s.add_argument("--mx", default="1")
    s.add_argument("--repeat", type=int, default=1)
    s.add_argument("st")
    s.add_argument("seconds", type=float)
    r = sub.add_parser("raw")
    r.add_argument("--to")
    r.add_argument("--src")
    r.add_argument("file")
    r.add_argument("seconds", type=float)
    listen = sub.add_parser("listen")
    listen.add_argument("--addr")
    listen.add_argument("seconds", type=float)
    a = p.parse_args()
    IFACE6 = a.iface6
    {"search": cmd_search, "raw": cmd_raw, "listen": cmd_listen}[a.cmd](a)


if __name__ == "__main__":
    main()
