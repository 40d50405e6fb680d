#!/usr/bin/env python3
"""openapi_check.py - doc/openapi.json held to portgated's admin server (stdlib only).

    openapi_check.py [OPTIONS] routes ADMIN_C    the file's (method, path) set is the route
                                                 table's, with its access and body columns
    openapi_check.py [OPTIONS] lint              the file uses only the schema keywords this
                                                 checker knows, and every $ref resolves
    openapi_check.py [OPTIONS] probe             no credentials: every operation is routed
                                                 (401 where it needs some), every other method
                                                 of a path is 405 with the documented Allow,
                                                 paths of no route are 404
    openapi_check.py [OPTIONS] login PASSWORD [--expect N]
    openapi_check.py [OPTIONS] req METHOD PATH [BODY] [--expect N]
    openapi_check.py [OPTIONS] security          with a session: writes without X-CSRF-Token
                                                 are 403; the bearer token reads what the
                                                 file says it reads (and nothing else)
    openapi_check.py [OPTIONS] bodies            each body's members, their types and which
                                                 are required, as the server's 400s say
    openapi_check.py [OPTIONS] events [--since N] [--count N] [--wait S] [--out FILE]
    openapi_check.py [OPTIONS] coverage          every operation was answered with success,
                                                 and every error the file lists was seen

Each answer is checked against the file: its status is one the operation documents, its
Content-Type one of that response's, its documented headers present and well-formed, its
body valid against the schema (a subset of JSON Schema: lint says which). A request that
expects success is checked against the file too (parameters, body). "INVALID: ..." lines
say what does not match; the exit status is 1 then. The body is printed for the shell.

options: --spec FILE, --base URL, --jar FILE (cookie and CSRF token, as admin_client.py),
--record FILE (each checked answer appended: METHOD TEMPLATE STATUS), --bearer TOKEN,
--token TOKEN (the bearer token security tries), --no-cookie, --no-csrf, --ctype TYPE,
--size N (a body of N bytes), --chunked (a body without Content-Length), --header "Name:
value", --timeout S; events: --since N, --count N, --wait S, --out FILE (the events' JSON).
"""
import argparse
import http.client
import ipaddress
import json
import re
import socket
import sys
import time
import urllib.parse

LAB = ("192.0.2.", "198.51.100.", "127.0.0.1", "[2001:db8:")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
# the schema keywords the validator implements, and those that only annotate
KEYWORDS = {"$ref", "type", "nullable", "enum", "properties", "required",
            "additionalProperties", "items", "oneOf", "minimum", "maximum", "minLength",
            "maxLength", "pattern", "maxItems", "format"}
ANNOTATIONS = {"description", "default", "example"}
FORMATS = {"ipv4", "ipv6", "date-time"}
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class Invalid(Exception):
    pass


# ---- the document ----

class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.ops = []       # (method, template, op)
        for tmpl, item in self.doc["paths"].items():
            for m, o in item.items():
                if m in ("get", "put", "post", "delete", "patch", "head", "options"):
                    self.ops.append((m.upper(), tmpl, o))

    def resolve(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            r = node["$ref"]
            if not r.startswith("#/"):
                raise Invalid("unsupported $ref %s" % r)
            node = self.doc
            for part in r[2:].split("/"):
                if part not in node:
                    raise Invalid("$ref %s does not resolve" % r)
                node = node[part]
            seen += 1
            if seen > 20:
                raise Invalid("$ref loop at %s" % r)
        return node

    def match(self, method, path):
        """The operation for METHOD PATH: (template, op, {param: value}) or None."""
        best = None
        for m, tmpl, o in self.ops:
            if m != method:
                continue
            params = match_template(tmpl, path)
            if params is None:
                continue
            # a literal path wins over a template that also takes it (/metrics, /{file})
            if best is None or len(params) < len(best[2]):
                best = (tmpl, o, params)
        return best

    def methods_for(self, path):
        return {m for m, tmpl, o in self.ops if match_template(tmpl, path) is not None}


def match_template(tmpl, path):
    """{name: segment} if path (no query) fits the template; each {x} takes one non-empty
    segment, as the server's "*" does."""
    ts, ps = tmpl.split("/"), path.split("/")
    if len(ts) != len(ps):
        return None
    params = {}
    for t, p in zip(ts, ps):
        if t.startswith("{") and t.endswith("}"):
            if p == "":
                return None
            params[t[1:-1]] = urllib.parse.unquote(p)
        elif t != p:
            return None
    return params


# ---- the validator: the subset of JSON Schema (OpenAPI 3.0.3) the file uses ----

def type_ok(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    raise Invalid("unknown type %r in the file" % t)


def format_ok(fmt, v):
    try:
        if fmt == "ipv4":
            ipaddress.IPv4Address(v)
        elif fmt == "ipv6":
            ipaddress.IPv6Address(v)
        elif fmt == "date-time":
            return DATE_TIME.match(v) is not None
        return True
    except ValueError:
        return False


def validate(spec, schema, v, where="$"):
    s = spec.resolve(schema)
    for k in s:
        if k not in KEYWORDS and k not in ANNOTATIONS and not k.startswith("x-"):
            raise Invalid("%s: the schema uses %r, which this checker does not know" % (where, k))
    if v is None:
        # OpenAPI 3.0.3: nullable adds null to an explicit type; enum may still refuse it
        if not (s.get("nullable") and "type" in s):
            if "oneOf" in s:
                return validate_oneof(spec, s, v, where)
            raise Invalid("%s: null where the file does not allow it" % where)
        if "enum" in s and None not in s["enum"]:
            raise Invalid("%s: null is not in the enum %r" % (where, s["enum"]))
        return
    if "oneOf" in s:
        validate_oneof(spec, s, v, where)
    if "type" in s and not type_ok(s["type"], v):
        raise Invalid("%s: %s where the file says %s" % (where, json.dumps(v)[:80], s["type"]))
    if "enum" in s and v not in s["enum"]:
        raise Invalid("%s: %s is not one of %r" % (where, json.dumps(v)[:80], s["enum"]))
    if isinstance(v, bool):
        return
    if isinstance(v, (int, float)):
        if "minimum" in s and v < s["minimum"]:
            raise Invalid("%s: %s < minimum %s" % (where, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]:
            raise Invalid("%s: %s > maximum %s" % (where, v, s["maximum"]))
    if isinstance(v, str):
        if "minLength" in s and len(v) < s["minLength"]:
            raise Invalid("%s: %r shorter than %d" % (where, v, s["minLength"]))
        if "maxLength" in s and len(v) > s["maxLength"]:
            raise Invalid("%s: %r longer than %d" % (where, v[:40], s["maxLength"]))
        if "pattern" in s and re.search(s["pattern"], v) is None:
            raise Invalid("%s: %r does not match %s" % (where, v[:80], s["pattern"]))
        if "format" in s:
            if s["format"] not in FORMATS:
                raise Invalid("%s: unknown format %r in the file" % (where, s["format"]))
            if not format_ok(s["format"], v):
                raise Invalid("%s: %r is not %s" % (where, v[:80], s["format"]))
    if isinstance(v, list):
        if "maxItems" in s and len(v) > s["maxItems"]:
            raise Invalid("%s: %d items, more than %d" % (where, len(v), s["maxItems"]))
        if "items" in s:
            for i, x in enumerate(v):
                validate(spec, s["items"], x, "%s[%d]" % (where, i))
    if isinstance(v, dict):
        props = s.get("properties", {})
        for r in s.get("required", []):
            if r not in v:
                raise Invalid("%s: the required member %r is missing" % (where, r))
        extra = s.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                validate(spec, props[k], x, "%s.%s" % (where, k))
            elif extra is False:
                raise Invalid("%s: member %r is not in the file" % (where, k))
            elif isinstance(extra, dict):
                validate(spec, extra, x, "%s.%s" % (where, k))


def validate_oneof(spec, s, v, where):
    ok, why = 0, []
    for i, alt in enumerate(s["oneOf"]):
        try:
            validate(spec, alt, v, "%s<oneOf %d>" % (where, i))
            ok += 1
        except Invalid as e:
            why.append(str(e))
    if ok != 1:
        raise Invalid("%s: %d of the oneOf alternatives match (one must): %s" %
                      (where, ok, "; ".join(why)[:600]))


def lint(spec):
    """Every schema keyword known, every $ref resolves; the number of schemas walked."""
    n = 0

    def walk(node, where, in_schema):
        nonlocal n
        if isinstance(node, list):
            for i, x in enumerate(node):
                walk(x, "%s[%d]" % (where, i), in_schema)
            return
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            spec.resolve(node)
            return
        if in_schema:
            n += 1
            for k in node:
                if k not in KEYWORDS and k not in ANNOTATIONS and not k.startswith("x-"):
                    raise Invalid("%s: unknown schema keyword %r" % (where, k))
            if node.get("format") is not None and node["format"] not in FORMATS:
                raise Invalid("%s: unknown format %r" % (where, node["format"]))
            for k in ("properties",):
                for name, sub in node.get(k, {}).items():
                    walk(sub, "%s.%s" % (where, name), True)
            for k in ("items", "additionalProperties"):
                if isinstance(node.get(k), dict):
                    walk(node[k], "%s.%s" % (where, k), True)
            for i, sub in enumerate(node.get("oneOf", [])):
                walk(sub, "%s.oneOf[%d]" % (where, i), True)
            return
        for k, x in node.items():
            walk(x, "%s/%s" % (where, k), k in ("schema", "x-data-schema") or
                 where == "#/components/schemas")

    walk(spec.doc, "#", False)
    return n


# ---- HTTP ----

def load_jar(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError, TypeError):
        return {}


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


def connect(a):
    u = urllib.parse.urlsplit(a.base)
    assert u.hostname and u.netloc.startswith(LAB), a.base
    return http.client.HTTPConnection(u.hostname, u.port, timeout=a.timeout)


def build_headers(a, method, body, cookie=True, csrf=True, bearer=None):
    jar = load_jar(a.jar) if a.jar else {}
    h = {}
    if body is not None:
        h["Content-Type"] = a.ctype
    if cookie and not a.no_cookie and jar.get("cookie"):
        h["Cookie"] = jar["cookie"]
    if csrf and not a.no_csrf and jar.get("csrf") and method not in ("GET", "HEAD"):
        h["X-CSRF-Token"] = jar["csrf"]
    if bearer or a.bearer:
        h["Authorization"] = "Bearer " + (bearer or a.bearer)
    for x in a.header:
        k, v = x.split(":", 1)
        h[k.strip()] = v.strip()
    return h


def request(a, method, path, body=None, stream_wait=0.5, **kw):
    """One request; a stream's answer is read for stream_wait seconds, then dropped."""
    c = connect(a)
    data = body.encode() if body is not None else None
    h = build_headers(a, method, body, **kw)
    try:
        if a.chunked and data is not None:
            h["Transfer-Encoding"] = "chunked"     # no Content-Length
            c.request(method, path, body=iter([data]), headers=h, encode_chunked=True)
        else:
            c.request(method, path, body=data, headers=h)
    except (BrokenPipeError, ConnectionResetError):
        pass    # answered (411, 413 ...) and closed before the body was read: read the answer
    r = c.getresponse()
    if (r.getheader("Content-Type") or "").startswith("text/event-stream"):
        text = read_for(c, r, stream_wait, None)
    else:
        text = r.read().decode("utf-8", "replace")
    ans = Answer(r.status, r.getheaders(), text)
    c.close()
    return ans


def read_for(c, r, seconds, want_messages):
    """What a stream sends within seconds (or until want_messages messages came)."""
    end = time.monotonic() + seconds
    buf = b""
    while want_messages is None or len(re.findall(rb"\ndata: [^\n]*\n\n", buf)) < want_messages:
        left = end - time.monotonic()
        if left <= 0:
            break
        c.sock.settimeout(left)
        try:
            chunk = r.read1(65536)
        except (socket.timeout, TimeoutError, OSError):
            break
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace")


# ---- checking an answer ----

def media_type(v):
    return ";".join(p.strip().lower() for p in v.split(";"))


def check_answer(spec, method, path, ans, expect=None):
    """Raise Invalid unless the answer is what the file says; the operation's template."""
    found = spec.match(method, path.split("?")[0])
    if found is None:
        raise Invalid("%s %s is not in the file" % (method, path))
    tmpl, op, _ = found
    if expect is not None and ans.status != expect:
        raise Invalid("%s %s: status %d, the test expected %d (%s)" %
                      (method, path, ans.status, expect, ans.body.strip()[:200]))
    resp = op["responses"].get(str(ans.status))
    if resp is None:
        raise Invalid("%s %s: status %d is not documented for %s %s (%s)" %
                      (method, path, ans.status, method, tmpl, ans.body.strip()[:200]))
    resp = spec.resolve(resp)
    check_headers(spec, resp, ans, "%s %s %d" % (method, tmpl, ans.status))
    ctype = ans.header("Content-Type")
    content = resp.get("content", {})
    if not content:
        if ans.body:
            raise Invalid("%s %s %d: a body where the file documents none" % (method, tmpl, ans.status))
        return tmpl
    keys = {media_type(k): k for k in content}
    if ctype is None or media_type(ctype) not in keys:
        raise Invalid("%s %s %d: Content-Type %r is not one of %s" %
                      (method, tmpl, ans.status, ctype, sorted(content)))
    mt = content[keys[media_type(ctype)]]
    if media_type(ctype) == "application/json":
        try:
            value = json.loads(ans.body)
        except ValueError as e:
            raise Invalid("%s %s %d: the body is not JSON (%s)" % (method, tmpl, ans.status, e))
        validate(spec, mt["schema"], value, "%s %s %d" % (method, tmpl, ans.status))
    else:
        validate(spec, mt["schema"], ans.body, "%s %s %d" % (method, tmpl, ans.status))
    return tmpl


def check_headers(spec, resp, ans, where):
    for name, h in resp.get("headers", {}).items():
        h = spec.resolve(h)
        vals = ans.header_all(name)
        if not vals:
            if h.get("required"):
                raise Invalid("%s: the header %s is missing" % (where, name))
            continue
        if len(vals) > 1 and name.lower() != "set-cookie":
            raise Invalid("%s: the header %s comes %d times" % (where, name, len(vals)))
        sch = spec.resolve(h["schema"])
        for v in vals:
            val = int(v) if sch.get("type") == "integer" and v.isdigit() else v
            validate(spec, sch, val, "%s: header %s" % (where, name))


def check_request(spec, method, path, body):
    """The request itself is one the file documents (for requests meant to succeed)."""
    u = urllib.parse.urlsplit(path)
    tmpl, op, params = spec.match(method, u.path)
    query = dict(urllib.parse.parse_qsl(u.query))
    for p in op.get("parameters", []):
        p = spec.resolve(p)
        vals = params if p["in"] == "path" else query if p["in"] == "query" else None
        if vals is None:
            continue
        if p["name"] not in vals:
            if p.get("required"):
                raise Invalid("request %s %s: the parameter %s is missing" % (method, path, p["name"]))
            continue
        v = vals[p["name"]]
        sch = spec.resolve(p["schema"])
        if sch.get("type") == "integer":
            if not re.fullmatch(r"-?\d+", v):
                raise Invalid("request %s %s: %s=%r is not an integer" % (method, path, p["name"], v))
            v = int(v)
        validate(spec, sch, v, "request %s %s: parameter %s" % (method, path, p["name"]))
    for k in query:
        if k not in [spec.resolve(p)["name"] for p in op.get("parameters", [])]:
            raise Invalid("request %s %s: query %s is not documented" % (method, path, k))
    rb = op.get("requestBody")
    if rb is None:
        if body is not None:
            raise Invalid("request %s %s: a body the file does not document" % (method, path))
        return
    if body is None:
        if rb.get("required"):
            raise Invalid("request %s %s: the body is missing" % (method, path))
        return
    validate(spec, rb["content"]["application/json"]["schema"], json.loads(body),
             "request %s %s body" % (method, path))


def record(a, method, tmpl, status):
    if a.record:
        with open(a.record, "a") as f:
            f.write("%s %s %d\n" % (method, tmpl, status))


def checked(a, spec, method, path, body=None, expect=None, quiet=False, **kw):
    """Send, check, record; the answer. Raises Invalid."""
    if expect is not None and 200 <= expect < 300:
        check_request(spec, method, path, body)
    ans = request(a, method, path, body, **kw)
    tmpl = check_answer(spec, method, path, ans, expect)
    record(a, method, tmpl, ans.status)
    if not quiet:
        print("valid: %s %s -> %d" % (method, tmpl, ans.status))
    return ans


# ---- commands ----

ROUTE_RE = re.compile(r'\{\s*"(\w+)",\s*"([^"]+)",\s*(ADMIN_\w+),\s*([01]),\s*(\w+)\s*\}')


def cmd_routes(a, spec):
    """The route table of admin.c against the file: methods and paths, access, bodies."""
    src = open(a.args[0], encoding="utf-8").read()
    if "admin_routes[] = {" not in src:
        raise Invalid("%s has no admin_routes[] table" % a.args[0])
    table = src[src.index("admin_routes[] = {"):]
    table = table[:table.index("};")]
    routes = ROUTE_RE.findall(table)
    if not routes:
        raise Invalid("no routes found in %s" % a.args[0])
    server = {}
    for method, path, access, body, fn in routes:
        server[(method, path)] = (access, body == "1", fn)
    doc = {}
    for method, tmpl, op in spec.ops:
        star = "/".join("*" if s.startswith("{") else s for s in tmpl.split("/"))
        doc[(method, star)] = (tmpl, op)
    bad = []
    for k in sorted(set(server) - set(doc)):
        bad.append("the server routes %s %s (%s); the file does not document it" %
                   (k[0], k[1], server[k][2]))
    for k in sorted(set(doc) - set(server)):
        bad.append("the file documents %s %s; no route of admin.c takes it" % (k[0], doc[k][0]))
    for k in sorted(set(server) & set(doc)):
        access, body, fn = server[k]
        tmpl, op = doc[k]
        sec = [sorted(r) for r in op.get("security", [])]
        want = {"ADMIN_OPEN": [],
                "ADMIN_READ": [["session"], ["bearer"]],
                "ADMIN_SESSION": [["session"]] if k[0] in ("GET", "HEAD") else [["csrf", "session"]]
                }[access]
        if sorted(sec) != sorted(want):
            bad.append("%s %s is %s: security should be %s, the file says %s" %
                       (k[0], tmpl, access, want, sec))
        if body != ("requestBody" in op):
            bad.append("%s %s: the route %s a body, the file %s" %
                       (k[0], tmpl, "takes" if body else "takes no", "documents one" if
                        "requestBody" in op else "none"))
        if access != "ADMIN_OPEN" and "401" not in op["responses"]:
            bad.append("%s %s needs credentials: the file lists no 401" % (k[0], tmpl))
        if body:
            for code in ("400", "411", "413", "415"):
                if code not in op["responses"]:
                    bad.append("%s %s takes a body: the file lists no %s" % (k[0], tmpl, code))
        for code in ("403", "500"):
            if code not in op["responses"]:
                bad.append("%s %s: the file lists no %s (every route can give it)" % (k[0], tmpl, code))
    for b in bad:
        print("INVALID: " + b)
    print("%d routes in admin.c, %d operations in the file" % (len(server), len(doc)))
    return 1 if bad else 0


def sample_path(tmpl):
    vals = {"proto": "tcp", "port": "1", "id": "1", "name": "nosuch", "file": "index.html"}
    return re.sub(r"\{(\w+)\}", lambda m: vals.get(m.group(1), "x"), tmpl)


NOT_ROUTED = ["/api/v1", "/api/v1/", "/api/v2/status", "/api/v1/status/x",
              "/api/v1/mappings/tcp", "/api/v1/mappings/tcp/1/x", "/api/v1/forwards/tcp",
              "/api/v1/pinholes/1/x", "/api/v1/triggers/x/y", "/api/v1/triggers/x/enable/y",
              "/api/v1/events/x", "/api/v1/session/x", "/api/v1/login/x", "/metrics/x",
              "/index.html/x", "/api/v1/history/x", "/api/v1/check/x", "/api/v1/flush/x", "//"]


def cmd_probe(a, spec):
    bad = 0
    a.no_cookie = True
    # every operation is routed: what answers is the route (401 where it needs credentials)
    for method, tmpl, op in spec.ops:
        path = sample_path(tmpl)
        try:
            ans = request(a, method, path)
            check_answer(spec, method, path, ans)
            record(a, method, tmpl, ans.status)
            if op.get("security"):
                if ans.status != 401:
                    raise Invalid("%s %s without credentials: %d, not 401" % (method, tmpl, ans.status))
            elif ans.status in (401, 404, 405) and tmpl != "/{file}":
                raise Invalid("%s %s (open) answered %d" % (method, tmpl, ans.status))
            print("routed: %s %s -> %d" % (method, tmpl, ans.status))
        except Invalid as e:
            print("INVALID: %s" % e)
            bad += 1
    # every other method of a documented path: 405, and Allow names the documented ones
    for tmpl in spec.doc["paths"]:
        path = sample_path(tmpl)
        documented = spec.methods_for(path)
        for m in METHODS:
            if m in documented or (m == "HEAD" and "GET" in documented):
                continue
            try:
                ans = request(a, m, path)
                if ans.status != 405:
                    raise Invalid("%s %s is not documented but answered %d (%s)" %
                                  (m, path, ans.status, ans.body.strip()[:120]))
                check_not_routed(spec, ans, "405")
                words = [x.strip() for x in (ans.header("Allow") or "").split(",") if x.strip()]
                allow = set(words)
                if len(words) != len(allow):
                    raise Invalid("%s %s: Allow %r names a method twice" % (m, path, ans.header("Allow")))
                if allow != documented:
                    raise Invalid("%s %s: Allow %r, the file has %s" %
                                  (m, path, ans.header("Allow"), sorted(documented)))
                record(a, m, "(not-routed)", 405)
            except Invalid as e:
                print("INVALID: %s" % e)
                bad += 1
        print("methods: %s takes %s, and 405 for the rest" % (tmpl, ", ".join(sorted(documented))))
    # paths no route takes
    for path in NOT_ROUTED:
        try:
            if any(match_template(t, path) is not None for t in spec.doc["paths"]):
                raise Invalid("the probe %s is a documented path" % path)
            for m in ("GET", "POST", "DELETE"):
                ans = request(a, m, path)
                if ans.status != 404:
                    raise Invalid("%s %s is not documented but answered %d (%s)" %
                                  (m, path, ans.status, ans.body.strip()[:120]))
                check_not_routed(spec, ans, "404")
                record(a, m, "(not-routed)", 404)
        except Invalid as e:
            print("INVALID: %s" % e)
            bad += 1
    print("not routed: %d paths answer 404 {\"error\": \"no such resource\"}" % len(NOT_ROUTED))
    return 1 if bad else 0


def check_not_routed(spec, ans, code):
    resp = spec.resolve(spec.doc["x-not-routed"][code])
    check_headers(spec, resp, ans, "not routed %s" % code)
    ct = ans.header("Content-Type")
    if ct is None or media_type(ct) != "application/json":
        raise Invalid("not routed %s: Content-Type %r" % (code, ct))
    validate(spec, resp["content"]["application/json"]["schema"], json.loads(ans.body),
             "not routed %s" % code)
    if code == "404" and json.loads(ans.body) != {"error": "no such resource"}:
        raise Invalid("not routed 404: %s" % ans.body.strip())


def cmd_login(a, spec):
    body = json.dumps({"password": a.args[0]})
    ans = checked(a, spec, "POST", "/api/v1/login", body, a.expect, quiet=True,
                  cookie=False, csrf=False)
    if ans.status == 200 and a.jar:
        cookie = ans.header("Set-Cookie").split(";")[0]
        with open(a.jar, "w") as f:
            json.dump({"cookie": cookie, "csrf": json.loads(ans.body)["csrf_token"]}, f)
    print("valid: POST /api/v1/login -> %d" % ans.status)
    print(ans.body.strip())
    return 0


def cmd_req(a, spec):
    method, path = a.args[0], a.args[1]
    body = a.args[2] if len(a.args) > 2 else None
    if a.size:
        body = json.dumps({"description": "x" * max(a.size - len('{"description":""}'), 0)})
    ans = checked(a, spec, method, path, body, a.expect, quiet=True)
    print("valid: %s %s -> %d" % (method, path, ans.status))
    print(ans.body.strip())
    return 0


def cmd_security(a, spec):
    """With a session (the jar): each write without the CSRF token is 403; the bearer token
    gets past the credentials check exactly where the file lists bearer."""
    bad = 0
    for method, tmpl, op in spec.ops:
        path = sample_path(tmpl)
        sec = [sorted(r) for r in op.get("security", [])]
        try:
            if ["csrf", "session"] in sec:
                ans = request(a, method, path, "{}" if "requestBody" in op else None, csrf=False)
                check_answer(spec, method, path, ans, 403)
                record(a, method, tmpl, 403)
                if "X-CSRF-Token" not in ans.body:
                    raise Invalid("%s %s without the token: %s" % (method, tmpl, ans.body.strip()))
            if sec:
                ans = request(a, method, path, "{}" if "requestBody" in op else None,
                              cookie=False, csrf=False, bearer=a.token)
                check_answer(spec, method, path, ans)
                record(a, method, tmpl, ans.status)
                if ["bearer"] in sec and ans.status in (401, 403):
                    raise Invalid("%s %s: the file says the bearer token reads it; %d" %
                                  (method, tmpl, ans.status))
                if ["bearer"] not in sec and ans.status != 403:
                    raise Invalid("%s %s: the file says the bearer token may not; %d" %
                                  (method, tmpl, ans.status))
                print("bearer: %s %s -> %d" % (method, tmpl, ans.status))
        except Invalid as e:
            print("INVALID: %s" % e)
            bad += 1
    return 1 if bad else 0


TYPE_WORDS = {"string": "a string", "integer": "a whole number", "boolean": "true or false"}
WRONG = {"string": 1, "integer": "1", "boolean": "yes"}
EMPTY = {"string": "", "integer": 0, "boolean": False}


def cmd_bodies(a, spec):
    """A body's members as the server's 400s name them: the unknown member's message lists
    them; a member of the wrong type says which type; each required one missing says so; and
    the required ones alone (with values the command refuses) pass the body check."""
    bad = 0
    for method, tmpl, op in spec.ops:
        if "requestBody" not in op:
            continue
        path = sample_path(tmpl)
        sch = spec.resolve(op["requestBody"]["content"]["application/json"]["schema"])
        props = {k: spec.resolve(v) for k, v in sch["properties"].items()}
        req = sch.get("required", [])
        try:
            def send(body, want_status=400):
                ans = request(a, method, path, json.dumps(body))
                check_answer(spec, method, path, ans, want_status)
                record(a, method, tmpl, ans.status)
                return json.loads(ans.body)["error"]

            msg = send({"zz_unknown": 1})
            m = re.fullmatch(r"unknown member 'zz_unknown' \((.*)\)", msg)
            if m is None or set(m.group(1).split(", ")) != set(props):
                raise Invalid("%s %s: the server takes %s, the file %s" %
                              (method, tmpl, m.group(1) if m else msg, sorted(props)))
            for k, p in props.items():
                msg = send({k: WRONG[p["type"]]})
                if msg != "'%s' must be %s" % (k, TYPE_WORDS[p["type"]]):
                    raise Invalid("%s %s: %s as a %s: %s" % (method, tmpl, k, p["type"], msg))
            full = {k: sample(p) for k, p in props.items()}
            for r in req:
                body = dict(full)
                del body[r]
                msg = send(body)
                if msg != "'%s' is required" % r:
                    raise Invalid("%s %s without %s: %s" % (method, tmpl, r, msg))
            msg = send({r: EMPTY[props[r]["type"]] for r in req})
            if re.search(r"is required|must be (a string|a whole number|true or false)$|"
                         r"^unknown member", msg):
                raise Invalid("%s %s with only %s: the body check says %s" %
                              (method, tmpl, req, msg))
            print("body: %s %s takes %s, requires %s (the command refused: %s)" %
                  (method, tmpl, ", ".join(props), ", ".join(req), msg))
        except Invalid as e:
            print("INVALID: %s" % e)
            bad += 1
    return 1 if bad else 0


def sample(p):
    if "enum" in p:
        return p["enum"][0]
    if p["type"] == "integer":
        return p.get("minimum", 1)
    if p["type"] == "boolean":
        return True
    return "x"


def cmd_events(a, spec):
    """Read --count messages (at most --wait seconds) and check each against x-data-schema."""
    path = "/api/v1/events" + ("?since=%d" % a.since if a.since is not None else "")
    if a.since is not None:
        check_request(spec, "GET", path, None)
    c = connect(a)
    c.request("GET", path, headers=build_headers(a, "GET", None))
    r = c.getresponse()
    head = Answer(r.status, r.getheaders(), "")
    found = spec.match("GET", "/api/v1/events")
    tmpl, op, _ = found
    resp = spec.resolve(op["responses"].get(str(r.status), {}))
    if r.status != 200:
        raise Invalid("GET %s: %d %s" % (path, r.status, r.read().decode()[:200]))
    check_headers(spec, resp, head, "GET /api/v1/events 200")
    keys = {media_type(k): v for k, v in resp["content"].items()}
    mt = keys.get(media_type(head.header("Content-Type") or ""))
    if mt is None:
        raise Invalid("GET /api/v1/events: Content-Type %r" % head.header("Content-Type"))
    text = read_for(c, r, a.wait, a.count)
    c.close()
    record(a, "GET", tmpl, 200)
    if not text.startswith("retry: 2000\n: portgate events\n\n"):
        raise Invalid("the stream does not start as documented: %r" % text[:60])
    msgs = [m for m in text.split("\n\n")[1:] if m.strip()]
    types = []
    out = open(a.out, "a") if a.out else None
    for m in msgs:
        lines = dict(l.split(": ", 1) for l in m.split("\n") if ": " in l)
        if set(lines) != {"id", "data"}:
            raise Invalid("an SSE message that is not id + data: %r" % m[:200])
        ev = json.loads(lines["data"])
        validate(spec, mt["x-data-schema"], ev, "event %s" % lines["id"])
        if int(lines["id"]) != ev["seq"]:
            raise Invalid("event id %s carries seq %s" % (lines["id"], ev["seq"]))
        types.append("%s/%s" % (ev["type"], ev.get("kind", "-")))
        if out:
            out.write(lines["data"] + "\n")
    if out:
        out.close()
    if len(msgs) < a.count:
        raise Invalid("%d events within %g s, wanted %d" % (len(msgs), a.wait, a.count))
    print("valid: %d events (%s), last id %s" % (len(msgs), " ".join(sorted(set(types))),
                                                  json.loads(lines["data"])["seq"] if msgs else "-"))
    return 0


def cmd_lint(a, spec):
    print("%d schemas, every keyword known, every $ref resolved" % lint(spec))
    return 0


def cmd_coverage(a, spec):
    seen = {}
    with open(a.record) as f:
        for line in f:
            m, tmpl, st = line.split()
            seen.setdefault((m, tmpl), set()).add(int(st))
    bad = 0
    codes = set()
    for s in seen.values():
        codes |= s
    for method, tmpl, op in spec.ops:
        got = seen.get((method, tmpl), set())
        if not any(200 <= s < 300 for s in got):
            print("INVALID: %s %s was never answered with success" % (method, tmpl))
            bad += 1
        else:
            print("covered: %s %s: %s" % (method, tmpl, " ".join(map(str, sorted(got)))))
    for want in a.args:
        if int(want) not in codes:
            print("INVALID: no answer had status %s" % want)
            bad += 1
    print("statuses seen: %s" % " ".join(map(str, sorted(codes))))
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", required=True)
    p.add_argument("--base", default="http://192.0.2.1:8088")
    p.add_argument("--jar")
    p.add_argument("--record")
    p.add_argument("--bearer")
    p.add_argument("--token")
    p.add_argument("--no-cookie", action="store_true")
    p.add_argument("--no-csrf", action="store_true")
    p.add_argument("--ctype", default="application/json")
    p.add_argument("--size", type=int)
    p.add_argument("--chunked", action="store_true")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--expect", type=int)
    p.add_argument("--since", type=int)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--wait", type=float, default=5)
    p.add_argument("--out")
    p.add_argument("cmd")
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    spec = Spec(a.spec)
    cmds = {"routes": cmd_routes, "probe": cmd_probe, "login": cmd_login, "req": cmd_req,
            "security": cmd_security, "bodies": cmd_bodies, "events": cmd_events,
            "coverage": cmd_coverage, "lint": cmd_lint}
    if a.cmd not in cmds:
        print("unknown command %s" % a.cmd, file=sys.stderr)
        return 2
    try:
        return cmds[a.cmd](a, spec)
    except Invalid as e:
        print("INVALID: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
