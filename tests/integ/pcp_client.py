#!/usr/bin/python3
"""pcp_client.py - a PCP client (RFC 6887) for the tests: no PCP client is packaged.

  pcp_client.py GW map  --int-port P [--ext-port E] [--lifetime L] [--nonce HEX] [--proto tcp|udp|N]
                        [--client IP] [--third-party IP] [--prefer-failure] [--filter ADDR/LEN[:PORT]]...
                        [--ext-addr IP] [--option CODE:HEX] [--bind IP]
  pcp_client.py GW peer --int-port P --peer IP:PORT [--ext-port E] [--lifetime L] [--nonce HEX]
  pcp_client.py GW announce
  pcp_client.py GW raw HEX
  pcp_client.py GW flood N          N MAP requests as fast as it can; prints how many got answers
  pcp_client.py listen SECONDS      print unsolicited ANNOUNCEs (224.0.0.1:5350)
  pcp_client.py listen6 SECONDS     the same on ff02::1 (interface eth0)
GW may be an IPv6 address.

Prints "result=NAME lifetime=N epoch=N ext=ADDR:PORT op=N len=N" or "noreply".
Sends only to GW (a lab address) and listens on the lab's multicast group.
"""
import ipaddress
import socket
import struct
import sys
import time

RESULTS = ["SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST", "UNSUPP_OPCODE",
           "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE", "NO_RESOURCES",
           "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL", "ADDRESS_MISMATCH",
           "EXCESSIVE_REMOTE_PEERS"]


def addr16(ip):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return b"\0" * 10 + b"\xff\xff" + a.packed
    return a.packed


def unaddr16(b):
    a = ipaddress.IPv6Address(b)
    return str(a.ipv4_mapped) if a.ipv4_mapped else str(a)


def option(code, data):
    pad = (-len(data)) % 4
    return struct.pack("!BBH", code, 0, len(data)) + data + b"\0" * pad


def args_dict(argv):
    d = {"filter": [], "option": []}
    i = 0
    while i < len(argv):
        k = argv[i][2:].replace("-", "_")
        if k == "prefer_failure":
            d[k] = True
            i += 1
            continue
        if k in ("filter", "option"):
            d[k].append(argv[i + 1])
        else:
            d[k] = argv[i + 1]
        i += 2
    return d


def family(gw):
    return socket.AF_INET6 if ":" in gw else socket.AF_INET


def local_addr(gw):
    s = socket.socket(family(gw), socket.SOCK_DGRAM)
    s.connect((gw, 5351))
    return s.getsockname()[0]


def proto_num(p):
    return {"tcp": 6, "udp": 17}.get(p, None) if not p.isdigit() else int(p)


def opts(d):
    out = b""
    if "third_party" in d:
        out += option(1, addr16(d["third_party"]))
    if d.get("prefer_failure"):
        out += option(2, b"")
    for f in d["filter"]:
        ap, _, port = f.partition(":") if f.count(":") == 1 else (f, "", "")
        a, _, plen = ap.partition("/")
        v4 = ipaddress.ip_address(a).version == 4
        plen = int(plen) if plen else (32 if v4 else 128)
        out += option(3, struct.pack("!BBH", 0, plen + (96 if v4 else 0), int(port or 0)) + addr16(a))
    for o in d["option"]:
        code, _, data = o.partition(":")
        out += option(int(code), bytes.fromhex(data))
    return out


def request(gw, opcode, d, body):
    client = d.get("client", d.get("bind") or local_addr(gw))
    hdr = struct.pack("!BBHI", 2, opcode, 0, int(d.get("lifetime", 3600))) + addr16(client)
    return hdr + body + opts(d)


def map_body(d):
    nonce = bytes.fromhex(d.get("nonce", "0102030405060708090a0b0c"))
    return (nonce + struct.pack("!B3xHH", proto_num(d.get("proto", "tcp")), int(d["int_port"]),
                                int(d.get("ext_port", 0))) + addr16(d.get("ext_addr", "0.0.0.0")))


def peer_body(d):
    pa, _, pp = d["peer"].rpartition(":")
    return map_body(d) + struct.pack("!H2x", int(pp)) + addr16(pa)


def exchange(gw, pkt, timeout=2.0, bind=None):
    """Send pkt, and once more after 1 s without an answer (RFC 6887 section 8.1.1
    retransmits, here faster: a request the gateway dropped because it did not know
    the sender's address yet is honoured the second time)."""
    s = socket.socket(family(gw), socket.SOCK_DGRAM)
    if bind:
        s.bind((bind, 0))
    end = time.monotonic() + timeout
    for wait in (min(1.0, timeout), None):
        s.sendto(pkt, (gw, 5351))
        s.settimeout(max(0.01, (end - time.monotonic()) if wait is None else wait))
        try:
            data, _ = s.recvfrom(2048)
            return data
        except socket.timeout:
            continue
    return None


def show(data):
    if data is None:
        print("noreply")
        return
    if len(data) < 24:
        print("short len=%d" % len(data))
        return
    ver, rop, res, life, epoch = struct.unpack("!BBxBII", data[:12])
    line = "result=%s lifetime=%d epoch=%d op=%d len=%d ver=%d" % (
        RESULTS[res] if res < len(RESULTS) else res, life, epoch, rop & 0x7f, len(data), ver)
    if (rop & 0x7f) in (1, 2) and len(data) >= 60:
        eport = struct.unpack("!H", data[42:44])[0]
        line += " ext=%s:%d nonce=%s" % (unaddr16(data[44:60]), eport, data[24:36].hex())
    print(line)


def listen(secs, v6=False):
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6:
        s.bind(("::", 5350))
        mreq = socket.inet_pton(socket.AF_INET6, "ff02::1") + struct.pack("@I", socket.if_nametoindex("eth0"))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    else:
        s.bind(("0.0.0.0", 5350))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton("224.0.0.1") + socket.inet_aton("0.0.0.0"))
    end = time.time() + float(secs)
    while time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            break
        if data[0] == 2:
            ver, rop, res, life, epoch = struct.unpack("!BBxBII", data[:12])
            print("announce from=%s op=%d result=%d epoch=%d" % (src[0], rop & 0x7f, res, epoch))
        else:
            print("natpmp-announce from=%s len=%d" % (src[0], len(data)))
        sys.stdout.flush()


def flood(gw, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    d = args_dict(["--int-port", "4000"])
    pkt = request(gw, 1, d, map_body(d))
    for _ in range(n):
        s.sendto(pkt, (gw, 5351))
    got = 0
    try:
        while True:
            s.recvfrom(2048)
            got += 1
    except socket.timeout:
        pass
    print("answered %d of %d" % (got, n))


def main():
    if sys.argv[1] in ("listen", "listen6"):
        return listen(sys.argv[2], sys.argv[1] == "listen6")
    gw, cmd = sys.argv[1], sys.argv[2]
    d = args_dict(sys.argv[3:]) if cmd in ("map", "peer", "announce") else {}
    if cmd == "map":
        show(exchange(gw, request(gw, 1, d, map_body(d)), bind=d.get("bind")))
    elif cmd == "peer":
        show(exchange(gw, request(gw, 2, d, peer_body(d))))
    elif cmd == "announce":
        show(exchange(gw, request(gw, 0, d, b""), bind=d.get("bind")))
    elif cmd == "raw":
        show(exchange(gw, bytes.fromhex(sys.argv[3])))
    elif cmd == "flood":
        flood(gw, int(sys.argv[3]))


main()
