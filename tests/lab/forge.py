#!/usr/bin/env python3
"""forge.py DST DPORT SRC|LO-HI COUNT SECONDS - send TCP SYNs with forged IPv4 sources.

Run inside a lab namespace (ip netns exec). SRC is one address or a range of
addresses (sources rotate through it). Sends at most COUNT packets within at
most SECONDS seconds, as fast as it can; prints how many went out."""
import random, socket, struct, sys, time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def syn(src, dst, sport, dport):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    return ip + tcp


def main():
    dst, dport, spec, count, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    lo, _, hi = spec.partition("-")
    lo_i = struct.unpack("!I", socket.inet_aton(lo))[0]
    hi_i = struct.unpack("!I", socket.inet_aton(hi or lo))[0]
    for net in (lo_i, hi_i):    # documentation ranges only
        a = socket.inet_ntoa(struct.pack("!I", net))
        assert a.startswith(("192.0.2.", "198.51.100.")), a
    assert dst.startswith(("192.0.2.", "198.51.100.")), dst
    d = socket.inet_aton(dst)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent, end = 0, time.monotonic() + seconds
    while sent < count and time.monotonic() < end:
        src = struct.pack("!I", lo_i + sent % (hi_i - lo_i + 1))
        s.sendto(syn(src, d, 40000 + sent % 20000, dport), (dst, 0))
        sent += 1
    print(sent)


main()
