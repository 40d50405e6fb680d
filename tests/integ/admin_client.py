#!/usr/bin/env python3
"""admin_client.py - a client of portgated's admin API for the lab tests (stdlib only).

    admin_client.py [OPTIONS] login PASSWORD     POST /api/v1/login; keeps the session in --jar
    admin_client.py [OPTIONS] req METHOD PATH [BODY]

prints "HTTP STATUS", then "H: Name: value" per header, then the body; exits 0
whatever the status (the test reads what it printed). The session cookie and
CSRF token of the jar go with every request unless --no-cookie / --no-csrf.

options: --base URL (http://ADDR:PORT or https://...), --jar FILE, --cafile PEM
(verify TLS against it), --host VALUE (the Host header), --bearer TOKEN, --csrf VALUE
(instead of the jar's), --no-cookie, --no-csrf, --ctype TYPE (default
application/json), --size N (a body of N bytes: {"description":"xxx..."}),
--header "Name: value", --timeout SECONDS (default 5).
"""
import argparse, http.client, json, ssl, sys, urllib.parse

LAB = ("192.0.2.", "198.51.100.", "127.0.0.1", "[2001:db8:")


def load_jar(path):
    if not path:
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def connect(a):
    u = urllib.parse.urlsplit(a.base)
    assert u.hostname and (u.netloc.startswith(LAB)), a.base
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=a.cafile) if a.cafile else ssl._create_unverified_context()
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=a.timeout, context=ctx)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=a.timeout)


def request(a, method, path, body):
    jar = load_jar(a.jar)
    h = {}
    if body is not None:
        h["Content-Type"] = a.ctype
    if a.host is not None:
        h["Host"] = a.host
    if jar.get("cookie") and not a.no_cookie:
        h["Cookie"] = jar["cookie"]
    csrf = a.csrf if a.csrf is not None else jar.get("csrf")
    if csrf and not a.no_csrf and method not in ("GET", "HEAD"):
        h["X-CSRF-Token"] = csrf
    if a.bearer:
        h["Authorization"] = "Bearer " + a.bearer
    for x in a.header:
        k, v = x.split(":", 1)
        h[k.strip()] = v.strip()
    c = connect(a)
    c.request(method, path, body=body.encode() if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    c.close()
    return r, data


def show(r, data):
    print("HTTP %d" % r.status)
    for k, v in r.getheaders():
        print("H: %s: %s" % (k, v))
    print()
    print(data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--jar")
    p.add_argument("--cafile")
    p.add_argument("--host")
    p.add_argument("--bearer")
    p.add_argument("--csrf")
    p.add_argument("--no-cookie", action="store_true")
    p.add_argument("--no-csrf", action="store_true")
    p.add_argument("--ctype", default="application/json")
    p.add_argument("--size", type=int)
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("cmd")
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    if a.cmd == "login":
        r, data = request(a, "POST", "/api/v1/login", json.dumps({"password": a.args[0]}))
        if r.status == 200 and a.jar:
            cookie = r.getheader("Set-Cookie", "").split(";")[0]
            with open(a.jar, "w") as f:
                json.dump({"cookie": cookie, "csrf": json.loads(data)["csrf_token"]}, f)
        show(r, data)
        return 0
    if a.cmd == "req":
        method, path = a.args[0], a.args[1]
        body = a.args[2] if len(a.args) > 2 else None
        if a.size:
            pad = a.size - len('{"description":""}')
            body = json.dumps({"description": "x" * max(pad, 0)})
        r, data = request(a, method, path, body)
        show(r, data)
        return 0
    print("unknown command", a.cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
