#!/usr/bin/env python3
"""ssdp_forge.py COUNT SRC... - send COUNT (at most 20000) M-SEARCH ssdp:all datagrams to
239.255.255.250:1900 out of eth0 with forged IPv4 sources (raw socket), cycling through SRC
("rot" = a different 192.0.2.x each time). About 1000 datagrams a second."""
import random, socket, struct, sys, time
count = min(int(sys.argv[1]), 20000)
srcs = sys.argv[2:]
msg = b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n'
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
dst = socket.inet_aton("239.255.255.250")
for i in range(count):
    src = srcs[i % len(srcs)]
    if src == "rot":
        src = "192.0.2.%d" % random.randrange(2, 255)
    s = socket.inet_aton(src)
    udp = struct.pack("!HHHH", 1900, 1900, 8 + len(msg), 0)
    c = csum(s + dst + struct.pack("!BBH", 0, 17, 8 + len(msg)) + udp + msg)
    udp = struct.pack("!HHHH", 1900, 1900, 8 + len(msg), c)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(msg), i & 0xffff, 0, 2, 17, 0, s, dst)
    r.sendto(ip + udp + msg, ("239.255.255.250", 0))
    if i % 100 == 99:
        time.sleep(0.1)
print("sent", count)
