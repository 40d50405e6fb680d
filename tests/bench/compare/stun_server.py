#!/usr/bin/env python3
"""Minimal RFC 3489/5389 STUN binding server honouring CHANGE-REQUEST, for the WAN peer namespace.
Listens on (A,P1),(A,P2),(B,P1),(B,P2). Exits after --max-seconds or --max-requests."""
import argparse, select, socket, struct, time
ap = argparse.ArgumentParser()
ap.add_argument('--a', default='198.51.100.100'); ap.add_argument('--b', default='198.51.100.101')
ap.add_argument('--p1', type=int, default=3478); ap.add_argument('--p2', type=int, default=3479)
ap.add_argument('--max-seconds', type=float, default=600); ap.add_argument('--max-requests', type=int, default=1000)
o = ap.parse_args()
socks = {}
for ip in (o.a, o.b):
    for p in (o.p1, o.p2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((ip, p)); socks[(ip, p)] = s
def attr(t, v): return struct.pack('!HH', t, len(v)) + v
def addr(ip, port): return struct.pack('!BBH4s', 0, 1, port, socket.inet_aton(ip))
deadline = time.monotonic() + o.max_seconds; n = 0
while time.monotonic() < deadline and n < o.max_requests:
    r, _, _ = select.select(list(socks.values()), [], [], 1.0)
    for s in r:
        data, (cip, cport) = s.recvfrom(2048)
        if len(data) < 20 or data[0:2] != b'\x00\x01': continue
        n += 1
        cookie, tid = data[4:8], data[8:20]
        flags = 0; off = 20
        while off + 4 <= len(data):
            t, l = struct.unpack('!HH', data[off:off+4])
            if t == 0x0003 and l == 4: flags = struct.unpack('!I', data[off+4:off+8])[0]
            off += 4 + l + ((4 - l % 4) % 4)
        lip, lport = s.getsockname()
        rip = (o.b if lip == o.a else o.a) if flags & 4 else lip
        rport = (o.p2 if lport == o.p1 else o.p1) if flags & 2 else lport
        x = struct.unpack('!I', cookie)[0]
        xport = cport ^ (x >> 16); xip = struct.unpack('!I', socket.inet_aton(cip))[0] ^ x
        body = attr(0x0001, addr(cip, cport)) + attr(0x0020, struct.pack('!BBHI', 0, 1, xport, xip)) \
             + attr(0x0004, addr(rip, rport)) + attr(0x0005, addr(o.b if lip == o.a else o.a, o.p2 if lport == o.p1 else o.p1))
        socks[(rip, rport)].sendto(struct.pack('!HH', 0x0101, len(body)) + cookie + tid + body, (cip, cport))
        print(f'STUN {cip}:{cport} -> {lip}:{lport} flags={flags:#x} reply from {rip}:{rport}', flush=True)
