#!/usr/bin/env python3
"""nd_flood.py IFACE TARGET6 PREFIX6 FIRST COUNT [MAC|seq] [RATE] [same] - send COUNT IPv6
neighbour solicitations for TARGET6 out of IFACE, from PREFIX6::FIRST, PREFIX6::FIRST+1,
..., each carrying a source link-layer option: the receiver learns one neighbour per
datagram (as a LAN host with many addresses, or one inventing them, makes it do). MAC is
the address claimed (default: IFACE's own); "seq" claims 02:5e:00:00:XX:XX, a new one
each. RATE caps datagrams per second (default 2000). "same": every datagram from
PREFIX6::FIRST (with "seq", one address whose MAC keeps changing). Documentation addresses
only."""
import ipaddress, socket, struct, sys, time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    ifname, target = sys.argv[1], ipaddress.IPv6Address(sys.argv[2])
    prefix = ipaddress.IPv6Address(sys.argv[3].rstrip(":") + "::")
    first, count = int(sys.argv[4]), min(int(sys.argv[5]), 20000)
    doc = ipaddress.IPv6Network("2001:db8::/32")
    assert target in doc and prefix in doc, "documentation addresses only"
    with open(f"/sys/class/net/{ifname}/address") as f:
        own = bytes.fromhex(f.read().strip().replace(":", ""))
    mac = sys.argv[6] if len(sys.argv) > 6 else None
    rate = min(int(sys.argv[7]) if len(sys.argv) > 7 and sys.argv[7] else 2000, 20000)
    same = len(sys.argv) > 8 and sys.argv[8] == "same"
    t = target.packed
    snm = b"\xff\x02" + b"\0" * 9 + b"\x01\xff" + t[13:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    start = time.monotonic()
    for i in range(count):
        src = (ipaddress.IPv6Address(int(prefix) + first + (0 if same else i))).packed
        if mac == "seq":
            lla = b"\x02\x5e\0\0" + struct.pack("!H", (first + i) & 0xFFFF)
        elif mac:
            lla = bytes.fromhex(mac.replace(":", ""))
        else:
            lla = own
        body = struct.pack("!BBHI", 135, 0, 0, 0) + t + b"\x01\x01" + lla
        pseudo = src + snm + struct.pack("!I3xB", len(body), 58)
        c = csum(pseudo + body)
        body = body[:2] + struct.pack("!H", c) + body[4:]
        ip6 = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + snm
        eth = b"\x33\x33" + snm[12:] + lla + b"\x86\xdd"
        s.send(eth + ip6 + body)
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    print("sent %d" % count)


main()
