#!/usr/bin/env python3
"""udp_peer.py - one UDP exchange, for watching where datagrams go through the gateway.

  udp_peer.py recv PORT SECONDS [HOST:PORT]   wait on PORT for one datagram; print
                                              "got=DATA from=IP:PORT" (or "got=nothing");
                                              then send "from-peer" back from PORT to
                                              HOST:PORT if given (a peer answering a flow)
  udp_peer.py send PORT HOST:PORT SECONDS     send "hi" from PORT to HOST:PORT, then print
                                              the first datagram back the same way

Only lab addresses (192.0.2.0/24, 198.51.100.0/24) are sent to."""
import socket
import sys


def endpoint(s):
    host, _, port = s.rpartition(":")
    assert host.startswith(("192.0.2.", "198.51.100.")), host
    return host, int(port)


def bound(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    return s


def first(s, seconds):
    s.settimeout(seconds)
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        print("got=nothing")
        return None
    print("got=%s from=%s:%d" % (data.decode(errors="replace").strip(), src[0], src[1]))
    return src


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    s = bound(port)
    if mode == "recv":
        src = first(s, float(sys.argv[3]))
        if src is not None and len(sys.argv) > 4:
            s.sendto(b"from-peer\n", endpoint(sys.argv[4]))
    elif mode == "send":
        s.sendto(b"hi\n", endpoint(sys.argv[3]))
        first(s, float(sys.argv[4]))
    sys.stdout.flush()


main()
