#!/usr/bin/env python3
"""pcp_fuzz.py GW COUNT [SEED] - send COUNT (at most 200000) mutated PCP/NAT-PMP datagrams to
GW:5351 from this host and count the answers; every 1000 datagrams checks that a well-formed
ANNOUNCE is still answered. Bounded: 2 ms between bursts of 50, 0.2 s socket timeouts."""
import os, random, socket, struct, sys, time
gw, count = sys.argv[1], min(int(sys.argv[2]), 200000)
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); me.connect((gw, 5351)); me = me.getsockname()[0]
cl = b"\0" * 10 + b"\xff\xff" + socket.inet_aton(me)
def opt(code, data):
    return struct.pack("!BBH", code, 0, len(data)) + data + b"\0" * ((4 - len(data) % 4) % 4)
def map_pkt():
    life = rnd.choice([0, 1, 119, 120, 3600, 0xffffffff, rnd.getrandbits(32)])
    body = os.urandom(12) if rnd.random() < 0.3 else b"\x11" * 12
    body += struct.pack("!B3xHH", rnd.choice([6, 17, 0, 1, 255]), rnd.choice([0, 1, 8000 + rnd.randrange(50), 65535]),
                        rnd.choice([0, 1, 9000 + rnd.randrange(50), 65535]))
    body += rnd.choice([b"\0" * 16, b"\0" * 10 + b"\xff\xff" + b"\0" * 4, os.urandom(16), b"\0" * 10 + b"\xff\xff" + socket.inet_aton("198.51.100.1")])
    opts = b""
    for _ in range(rnd.randrange(0, 6)):
        k = rnd.random()
        if k < 0.4:
            pl = rnd.choice([0, 95, 96, 97, 120, 128, 129, 255, 32, 64])
            opts += opt(3, struct.pack("!BBH", 0, pl, rnd.choice([0, 80, 65535])) +
                        rnd.choice([b"\0" * 10 + b"\xff\xff" + socket.inet_aton("198.51.100.%d" % rnd.randrange(256)), os.urandom(16)]))
        elif k < 0.55:
            opts += opt(1, rnd.choice([cl, b"\0" * 10 + b"\xff\xff" + socket.inet_aton("192.0.2.%d" % rnd.randrange(256)), os.urandom(16)]))
        elif k < 0.7:
            opts += opt(2, b"")
        else:
            opts += opt(rnd.randrange(256), os.urandom(rnd.randrange(0, 40)))
    op = rnd.choice([1, 1, 1, 2, 0, rnd.randrange(128)])
    if op == 2:
        body += struct.pack("!H2x", rnd.choice([0, 80])) + os.urandom(16)
    pkt = struct.pack("!BBHI", 2, op, 0, life) + (cl if rnd.random() < 0.9 else os.urandom(16)) + body + opts
    if rnd.random() < 0.2:   # byte-level damage
        b = bytearray(pkt)
        for _ in range(rnd.randrange(1, 6)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        if rnd.random() < 0.3:
            b = b[:rnd.randrange(len(b) + 1)]
        if rnd.random() < 0.1:
            b += os.urandom(rnd.randrange(1200))
        pkt = bytes(b)
    return pkt
def natpmp_pkt():
    op = rnd.choice([0, 1, 2, 3, 128, 255])
    if op == 0:
        p = b"\0\0"
    else:
        p = struct.pack("!BBHHHI", 0, op, 0, rnd.choice([0, 8000 + rnd.randrange(20)]), rnd.choice([0, 9000 + rnd.randrange(20)]),
                        rnd.choice([0, 1, 3600, 0xffffffff]))
    if rnd.random() < 0.2:
        p = p[:rnd.randrange(len(p) + 1)] + os.urandom(rnd.randrange(4))
    return p
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
got = 0
ann = struct.pack("!BBHI", 2, 0, 0, 0) + cl
def drain():
    global got
    s.settimeout(0.0)
    try:
        while True:
            s.recv(2048); got += 1
    except (BlockingIOError, socket.timeout):
        pass
for i in range(count):
    s.sendto(map_pkt() if rnd.random() < 0.8 else natpmp_pkt(), (gw, 5351))
    if i % 50 == 49:
        drain(); time.sleep(0.002)
    if i % 1000 == 999:
        drain(); time.sleep(0.05); drain()
        s.settimeout(1.0); s.sendto(ann, (gw, 5351))
        try:
            s.recv(2048); got += 1
        except socket.timeout:
            print("no answer to ANNOUNCE after", i + 1, flush=True)
time.sleep(0.3); drain()
print("sent", count, "answers", got)
