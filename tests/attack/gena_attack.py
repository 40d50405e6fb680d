#!/usr/bin/env python3
"""gena_attack.py GW CASE (SRC=ADDR in the environment: the source address to use) - GENA abuse from a LAN host (run inside it). Cases:
  refusals   CALLBACK to another host / the gateway / names / odd TIMEOUTs
  race       SUBSCRIBE, then renew+unsubscribe+renew pipelined on one connection, twice
  silent     subscribe with a callback that accepts TCP and never answers (port 8600), for 20 s
  many SRC.. 9 subscriptions from each source address (the 9th must be 503)
Every socket has a timeout; the whole run is bounded."""
import socket, sys, threading, time, re

gw, case = sys.argv[1], sys.argv[2]

def req(raw, src=None, read_for=2.0):
    s = socket.socket()
    s.settimeout(3)
    if src:
        s.bind((src, 0))
    s.connect((gw, 5000))
    s.sendall(raw)
    out = b""
    t0 = time.time()
    while time.time() - t0 < read_for:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        out += d
    s.close()
    return out.decode("latin1")

def sub(cb, src="",  timeout=None, path="/evt/IPConn", extra=""):
    h = "SUBSCRIBE %s HTTP/1.1\r\nHost: %s:5000\r\nCALLBACK: %s\r\nNT: upnp:event\r\n" % (path, gw, cb)
    if timeout:
        h += "TIMEOUT: %s\r\n" % timeout
    return req((h + extra + "\r\n").encode(), src or me)

def status(r):
    m = re.findall(r"HTTP/1\.1 (\d+)", r)
    sid = re.findall(r"SID: (\S+)", r, re.I)
    to = re.findall(r"TIMEOUT: (\S+)", r, re.I)
    return "%s sid=%s timeout=%s" % (",".join(m) or "none", sid[0][:13] + ".." if sid else "-", to)

import os
me = os.environ.get("SRC")
if not me:
    me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); me.connect((gw, 1)); me = me.getsockname()[0]

if case == "refusals":
    for cb in ["<http://192.0.2.11:80/>", "<http://%s:5000/>" % gw, "<http://198.51.100.100/>",
               "<http://localhost/>", "<http://%s/>" % me.replace(".0.", ".00."),
               "<http://[::ffff:%s]:8600/>" % me, "<http://%s:0/>" % me, "<http://%s:65536/>" % me,
               "<http://%s/a b>" % me, "<http://%s/\x01>" % me, "<>", "<http://192.0.2.11/><http://%s/>" % me,
               "<http://%s/>" % me + "<" * 2000]:
        print("CALLBACK %-45r %s" % (cb[:45], status(sub(cb))))
    for to in ["Second-99999999999999999999999", "Second-0", "Second--5", "Second-infinite", "second-120",
               "Second-120 junk", "Second-1e9"]:
        print("TIMEOUT %-32s %s" % (to, status(sub("<http://%s:8600/>" % me, timeout=to))))
    print("bad NT", status(req(("SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nCALLBACK: <http://%s/>\r\nNT: x\r\n\r\n" % (gw, me)).encode())))
    print("SID+CALLBACK", status(req(("SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: uuid:x\r\nCALLBACK: <http://%s/>\r\n\r\n" % (gw, me)).encode())))
    print("unknown SID", status(req(("SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: uuid:x\r\n\r\n" % gw).encode())))
    print("UNSUB empty SID", status(req(("UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: \r\n\r\n" % gw).encode())))
elif case == "race":
    for i in range(2):
        r = sub("<http://%s:8600/>" % me)
        sid = re.findall(r"SID: (\S+)", r, re.I)[0]
        ren = "SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: %s\r\nTIMEOUT: Second-60\r\n\r\n" % (gw, sid)
        uns = "UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: %s\r\n\r\n" % (gw, sid)
        other = "SUBSCRIBE /evt/L3F HTTP/1.1\r\nHost: %s\r\nSID: %s\r\n\r\n" % (gw, sid)
        print("pipelined renew,other-svc,unsub,renew,unsub:", status(req((ren + other + uns + ren + uns).encode(), me, read_for=3)))
elif case == "silent":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((me, 8600)); l.listen(64)
    held = []
    def acc():
        l.settimeout(1)
        t0 = time.time()
        while time.time() - t0 < 22:
            try:
                c, _ = l.accept(); held.append(c)     # accept, never read or answer
            except socket.timeout:
                pass
    t = threading.Thread(target=acc); t.start()
    print("subscribe", status(sub("<http://%s:8600/>" % me)))
    t.join()
    print("connections the gateway opened to the silent callback:", len(held))
elif case == "many":
    for src in sys.argv[3:]:
        res = [status(sub("<http://%s:8600/>" % src, src=src)).split()[0] for _ in range(9)]
        print(src, " ".join(res))
