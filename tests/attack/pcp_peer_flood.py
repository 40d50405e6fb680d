#!/usr/bin/python3
"""pcp_peer_flood.py GW N [--first-port P] [--peer IP:PORT] [--nonce HEX] [--lifetime L]
                   [--third-party IP] [--src IP] [--vary peer|port] [--rate R]

Sends N PCP PEER requests from one socket (bound to --src if given), one per internal port
(P, P+1, ...) or per remote peer port (--vary peer), at most R per second (default: as fast
as answers come), waits for each answer (0.5 s), and prints a histogram of the results and
the external ports reported. Bounded: N <= 70000, 120 s at most.
"""
import collections
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
    return (b"\0" * 10 + b"\xff\xff" + a.packed) if a.version == 4 else a.packed


def peer_pkt(client, lifetime, nonce, proto, iport, peer, pport, third=None):
    hdr = struct.pack("!BBHI", 2, 2, 0, lifetime) + addr16(client)
    body = nonce + struct.pack("!B3xHH", proto, iport, 0) + addr16("0.0.0.0")
    body += struct.pack("!H2x", pport) + addr16(peer)
    if third:
        body += struct.pack("!BBH", 1, 0, 16) + addr16(third)
    return hdr + body


def main():
    gw, n = sys.argv[1], min(int(sys.argv[2]), 70000)
    a = dict(first_port="20000", peer="198.51.100.100:7000", nonce="aa" * 12, lifetime="600",
             third_party=None, src=None, vary="port", rate="0", proto="6")
    rest = sys.argv[3:]
    for i in range(0, len(rest), 2):
        a[rest[i][2:].replace("-", "_")] = rest[i + 1]
    fam = socket.AF_INET6 if ":" in gw else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if a["src"]:
        s.bind((a["src"], 0))
    s.connect((gw, 5351))
    client = s.getsockname()[0]
    s.settimeout(0.5)
    peer, _, pport = a["peer"].rpartition(":")
    pport, first = int(pport), int(a["first_port"])
    nonce = bytes.fromhex(a["nonce"])
    rate = float(a["rate"])
    hist, ports = collections.Counter(), collections.Counter()
    t0 = time.time()
    for i in range(n):
        if time.time() - t0 > 120:
            print("time limit after %d" % i)
            break
        iport = first + i if a["vary"] == "port" else first
        pp = pport + i if a["vary"] == "peer" else pport
        s.send(peer_pkt(client, int(a["lifetime"]), nonce, int(a["proto"]), iport & 0xffff or 1,
                        peer, pp & 0xffff or 1, a["third_party"]))
        try:
            d = s.recv(2048)
            res = d[3]
            hist[RESULTS[res] if res < len(RESULTS) else str(res)] += 1
            if res == 0 and len(d) >= 60:
                ports[struct.unpack("!H", d[42:44])[0]] += 1
        except socket.timeout:
            hist["noreply"] += 1
        if rate > 0:
            time.sleep(1.0 / rate)
    print("results", dict(hist))
    print("distinct ext ports", len(ports), "elapsed %.1fs" % (time.time() - t0))


main()
