#!/usr/bin/env python3
"""http_edge.py GW CASE... - one hostile HTTP request per case against the IGD's HTTP server
(port 5000); prints the status line (or what happened) for each. Every socket has a 5 s
timeout. Cases: see CASES below."""
import socket, sys, time

gw = sys.argv[1]
T = "urn:schemas-upnp-org:service:WANIPConnection:2"
BODY = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        '<s:Body><u:GetExternalIPAddress xmlns:u="%s"/></s:Body></s:Envelope>' % T).encode()

def post(extra_hdrs, body=BODY, cl=None, path="/ctl/IPConn", method="POST", host=None):
    h = "%s %s HTTP/1.1\r\nHost: %s\r\nSOAPAction: \"%s#GetExternalIPAddress\"\r\n" % (
        method, path, host if host is not None else gw + ":5000", T)
    if cl is not None:
        h += "Content-Length: %s\r\n" % cl
    h += extra_hdrs + "\r\n"
    return h.encode() + body

def run(raw, read_for=3.0, chunks=None):
    s = socket.create_connection((gw, 5000), timeout=5)
    try:
        if chunks:
            for c, delay in chunks:
                s.sendall(c)
                time.sleep(delay)
        else:
            s.sendall(raw)
        s.settimeout(read_for)
        out = b""
        t0 = time.time()
        while time.time() - t0 < read_for:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                out += b"<RST>"
                break
            if not d:
                out += b"<EOF>"
                break
            out += d
        return out
    finally:
        s.close()

def status(out):
    lines = [l for l in out.split(b"\r\n") if l.startswith(b"HTTP/")]
    tail = b" <EOF>" if out.endswith(b"<EOF>") else (b" <RST>" if out.endswith(b"<RST>") else b" (open)")
    return (b" | ".join(lines) if lines else b"no answer") + tail

CASES = {
    "ok": lambda: post("", cl=len(BODY)),
    "cl-short": lambda: post("", cl=10),                       # body longer than promised
    "cl-long": lambda: post("", cl=len(BODY) + 100),           # promises more than sent
    "cl-huge": lambda: post("", cl="99999999999999999999999"),
    "cl-neg": lambda: post("", cl="-1"),
    "cl-plus": lambda: post("", cl="+%d" % len(BODY)),
    "cl-hex": lambda: post("", cl="0x%x" % len(BODY)),
    "cl-space": lambda: post("", cl=" %d " % len(BODY)),
    "cl-dup-diff": lambda: post("Content-Length: 5\r\n", cl=len(BODY)),
    "cl-dup-same": lambda: post("Content-Length: %d\r\n" % len(BODY), cl=len(BODY)),
    "chunked": lambda: post("Transfer-Encoding: chunked\r\n",
                            body=b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"),
    "chunked+cl": lambda: post("Transfer-Encoding: chunked\r\n", cl=len(BODY),
                               body=b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"),
    "chunked-big": lambda: post("Transfer-Encoding: chunked\r\n", cl=100,
                                body=(b"4000\r\n" + b"<" * 0x4000 + b"\r\n") * 3 + b"0\r\n\r\n"),
    "no-cl": lambda: post(""),
    "abs-uri": lambda: post("", cl=len(BODY), path="http://%s:5000/ctl/IPConn" % gw),
    "abs-uri-get": lambda: b"GET http://%s:5000/rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % (gw.encode(), gw.encode()),
    "path-dots": lambda: b"GET /ctl/../rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode(),
    "path-query": lambda: b"GET /rootDesc.xml?x=1 HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode(),
    "path-pct": lambda: b"GET /rootDesc%%2exml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode(),
    "method-odd": lambda: b"PROPFIND /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode(),
    "method-lower": lambda: b"get /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode(),
    "host-none-11": lambda: b"GET /rootDesc.xml HTTP/1.1\r\n\r\n",
    "host-none-10": lambda: b"GET /rootDesc.xml HTTP/1.0\r\n\r\n",
    "host-name": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    "host-v6map": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: [::ffff:%s]:5000\r\n\r\n" % gw.encode(),
    "host-octal": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: 0300.0.2.1\r\n\r\n",
    "host-dup": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nHost: evil.example\r\n\r\n" % gw.encode(),
    "host-dup2": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: evil.example\r\nHost: %s\r\n\r\n" % gw.encode(),
    "host-trail-dot": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s.\r\n\r\n" % gw.encode(),
    "host-port-big": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s:99999\r\n\r\n" % gw.encode(),
    "host-wan": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: 198.51.100.1\r\n\r\n",
    "hdr-16k": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nX: %s\r\n\r\n" % (gw.encode(), b"a" * 16400),
    "hdr-many": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (gw.encode(), b"X: y\r\n" * 2500),
    "hdr-fold": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: evil.example\r\n %s\r\n\r\n" % gw.encode(),
    "hdr-nul": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nX: a\0b\r\n\r\n" % gw.encode(),
    "lf-only": lambda: b"GET /rootDesc.xml HTTP/1.1\nHost: %s\n\n" % gw.encode(),
    "http09": lambda: b"GET /rootDesc.xml\r\n\r\n",
    "http2-preface": lambda: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "expect-100": lambda: post("Expect: 100-continue\r\n", cl=len(BODY)),
    "get-with-body": lambda: b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\nhello" % gw.encode(),
    "subscribe-body": lambda: b"SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nCALLBACK: <http://192.0.2.10:1/>\r\nNT: upnp:event\r\nContent-Length: 5\r\n\r\nhello" % gw.encode(),
    "pipeline-3": lambda: (b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode()) * 2 + post("", cl=len(BODY)),
    "pipeline-post-then-get": lambda: post("", cl=len(BODY)) + b"GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n" % gw.encode(),
}

for name in sys.argv[2:] or CASES:
    try:
        out = run(CASES[name]())
        print("%-22s %s" % (name, status(out).decode("latin1")))
    except Exception as e:
        print("%-22s exception %r" % (name, e))
