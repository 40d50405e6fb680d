#!/usr/bin/env python3
"""forge_udp.py SRC SPORT DST DPORT HEX [COUNT] - send a UDP datagram (payload HEX) with a
forged IPv4 source, from inside a lab namespace. Documentation addresses only."""
import socket, struct, sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    payload = bytes.fromhex(sys.argv[5])
    count = min(int(sys.argv[6]) if len(sys.argv) > 6 else 1, 100)
    for a in (src, dst):
        assert a.startswith(("192.0.2.", "198.51.100.")), a
    s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(struct.pack("!4s4sBBH", s4, d4, 0, socket.IPPROTO_UDP, len(udp)) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x4242, 0, 64, socket.IPPROTO_UDP, 0,
                     s4, d4)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(count):
        s.sendto(ip + udp, (dst, 0))
    print("sent %d" % count)


main()
