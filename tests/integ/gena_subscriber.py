#!/usr/bin/python3
"""gena_subscriber.py - a GENA control point: subscribe, receive events, unsubscribe.

  gena_subscriber.py GATEWAY PORT LOCALIP CBPORT [COMMAND...]

Subscribes to WANIPConnection's events with a callback on LOCALIP:CBPORT,
prints the initial event (SEQ 0), runs COMMAND (e.g. upnpc -a ...), prints
the next event, then checks that a callback naming another host is
refused (CallStranger) and unsubscribes. One line per step; bounded waits.
GATEWAY and LOCALIP may be IPv6 addresses (then bracketed in URLs and HOST).
GENA_PATH (environment) names another service's event URL (default /evt/IPConn).
"""
import http.client
import os
import http.server
import queue
import re
import socket
import subprocess
import sys
import threading

events = queue.Queue()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_NOTIFY(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        events.put((self.headers.get("SID"), self.headers.get("SEQ"), self.headers.get("NT"),
                    self.headers.get("NTS"), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def url_host(a):
    return "[%s]" % a if ":" in a else a


class Server6(http.server.HTTPServer):
    address_family = socket.AF_INET6


def var(body, name):
    m = re.search("<%s>([^<]*)</%s>" % (name, name), body)
    return m.group(1) if m else None


def request(gw, port, method, headers):
    c = http.client.HTTPConnection(gw, port, timeout=5)
    c.request(method, os.environ.get("GENA_PATH", "/evt/IPConn"), headers=headers)
    r = c.getresponse()
    r.read()
    return r


def show(tag):
    try:
        sid, seq, nt, nts, body = events.get(timeout=10)
    except queue.Empty:
        print("%s none" % tag)
        sys.exit(1)
    print("%s seq=%s nt=%s nts=%s entries=%s ip=%s status=%s firewall=%s pinholes=%s" % (
        tag, seq, nt, nts, var(body, "PortMappingNumberOfEntries"),
        var(body, "ExternalIPAddress"), var(body, "ConnectionStatus"),
        var(body, "FirewallEnabled"), var(body, "InboundPinholeAllowed")))
    return sid


def main():
    gw, port, local, cbport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    srv = (Server6 if ":" in local else http.server.HTTPServer)((local, cbport), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    host = {"HOST": "%s:%d" % (url_host(gw), port)}
    r = request(gw, port, "SUBSCRIBE", dict(host, CALLBACK="<http://%s:%d/evt>" % (
        url_host(local), cbport), NT="upnp:event", TIMEOUT="Second-300"))
    sid = r.getheader("SID")
    print("subscribe %d sid=%s timeout=%s" % (r.status, sid and sid[:5], r.getheader("TIMEOUT")))
    if show("initial") != sid:
        print("event sid differs")
    if len(sys.argv) > 5:
        subprocess.run(sys.argv[5:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=15)
        show("change")
    r = request(gw, port, "SUBSCRIBE", dict(host, SID=sid, TIMEOUT="Second-600"))
    print("renew %d timeout=%s" % (r.status, r.getheader("TIMEOUT")))
    other = re.sub(r"[.:][0-9a-f]+$", lambda m: m.group(0)[0] + "99", local)
    r = request(gw, port, "SUBSCRIBE", dict(host, CALLBACK="<http://%s:%d/evt>" % (
        url_host(other), cbport), NT="upnp:event"))
    print("foreign-callback %d" % r.status)
    r = request(gw, port, "UNSUBSCRIBE", dict(host, SID=sid))
    print("unsubscribe %d" % r.status)
    r = request(gw, port, "UNSUBSCRIBE", dict(host, SID=sid))
    print("unsubscribe-again %d" % r.status)


main()
