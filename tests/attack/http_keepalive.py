#!/usr/bin/env python3
"""http_keepalive.py GW - requests on one connection: sequential (waiting for each answer) and
pipelined; GET, SUBSCRIBE renewal and POST. Prints the status lines each way got."""
import socket, sys, time, re
gw = sys.argv[1]
T = "urn:schemas-upnp-org:service:WANIPConnection:2"
B = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
     '<s:Body><u:GetExternalIPAddress xmlns:u="%s"/></s:Body></s:Envelope>' % T).encode()
GET = b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode()
POST = (b"POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: \"%s#GetExternalIPAddress\"\r\n"
        b"Content-Length: %d\r\n\r\n" % (gw.encode(), T.encode(), len(B))) + B
UNSUB = b"UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: uuid:nope\r\n\r\n" % gw.encode()
def readall(s, t=1.5):
    out = b""; t0 = time.time(); s.settimeout(0.3)
    while time.time() - t0 < t:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            out += b"<EOF>"; break
        out += d
    return out
def codes(b):
    return " ".join(re.findall(rb"HTTP/1\.1 (\d+)", b).__iter__().__class__ and [c.decode() for c in re.findall(rb"HTTP/1\.1 (\d+)", b)]) + (" EOF" if b.endswith(b"<EOF>") else "")
for name, seq in [("GET,GET", [GET, GET]), ("POST,POST", [POST, POST]), ("GET,POST", [GET, POST]),
                  ("UNSUB,GET", [UNSUB, GET]), ("POST,GET", [POST, GET])]:
    s = socket.create_connection((gw, 5000), timeout=3)
    got = []
    for r in seq:
        try:
            s.sendall(r)
        except OSError as e:
            got.append("send:" + e.strerror); break
        got.append(codes(readall(s)))
    s.close()
    s = socket.create_connection((gw, 5000), timeout=3)
    s.sendall(b"".join(seq))
    p = codes(readall(s))
    s.close()
    print("%-10s sequential: %-28s pipelined: %s" % (name, " | ".join(got), p))
