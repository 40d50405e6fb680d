#!/usr/bin/python3
"""igd_v1_client.py - a control point that knows only IGD:1, as Windows' NAT traversal does.

  igd_v1_client.py LANADDR EXTPORT INTPORT [USER-AGENT]

Searches for InternetGatewayDevice:1 by SSDP, reads the description it is
pointed at (with USER-AGENT, by default the one Windows' UPnP stack sends,
"Microsoft-Windows/10.0 UPnP/1.0"), refuses anything but IGD:1 /
WANIPConnection:1 (as v1-only stacks do), then maps EXTPORT ->
LANADDR:INTPORT with a v1 AddPortMapping and reads it back. Prints one
line per step; exits 1 on the first failure. Only the lab's addresses are
used (the search goes to 239.255.255.250).
"""
import socket
import sys
import urllib.request
import xml.etree.ElementTree as ET

IGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
IPC1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
NS = {"d": "urn:schemas-upnp-org:device-1-0"}
UA = sys.argv[4] if len(sys.argv) > 4 else "Microsoft-Windows/10.0 UPnP/1.0"


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def search():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    msg = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
           'MAN: "ssdp:discover"\r\nMX: 1\r\nST: %s\r\n\r\n' % IGD1)
    s.sendto(msg.encode(), ("239.255.255.250", 1900))
    data, _ = s.recvfrom(2048)
    hdrs = {}
    for line in data.decode().split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().upper()] = v.strip()
    if hdrs.get("ST") != IGD1:
        fail("answer ST is %r" % hdrs.get("ST"))
    print("found " + hdrs["LOCATION"])
    return hdrs["LOCATION"]


def control_url(location):
    req = urllib.request.Request(location, headers={"User-Agent": UA})
    root = ET.fromstring(urllib.request.urlopen(req, timeout=3).read())
    dev = root.find("d:device", NS)
    if dev.findtext("d:deviceType", namespaces=NS) != IGD1:
        fail("root device is %s" % dev.findtext("d:deviceType", namespaces=NS))
    print("device " + IGD1)
    for svc in root.iter("{urn:schemas-upnp-org:device-1-0}service"):
        t = svc.findtext("d:serviceType", namespaces=NS)
        if t.startswith("urn:schemas-upnp-org:service:WANIPConnection:") and t != IPC1:
            fail("a v1 client cannot use %s" % t)
        if t == IPC1:
            url = svc.findtext("d:controlURL", namespaces=NS)
            print("service " + t)
            return urllib.request.urljoin(location, url)
    fail("no WANIPConnection:1 in the description")


def soap(url, action, args):
    body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            '<s:Body><u:%s xmlns:u="%s">%s</u:%s></s:Body></s:Envelope>'
            % (action, IPC1, "".join("<%s>%s</%s>" % (k, v, k) for k, v in args), action))
    req = urllib.request.Request(url, body.encode(), {
        "Content-Type": 'text/xml; charset="utf-8"', "User-Agent": UA,
        "SOAPAction": '"%s#%s"' % (IPC1, action)})
    try:
        return urllib.request.urlopen(req, timeout=3).read().decode()
    except urllib.error.HTTPError as e:
        fail("%s: HTTP %d %s" % (action, e.code, e.read().decode()))


def main():
    lan, ext, internal = sys.argv[1], sys.argv[2], sys.argv[3]
    url = control_url(search())
    soap(url, "AddPortMapping", [("NewRemoteHost", ""), ("NewExternalPort", ext),
                                 ("NewProtocol", "TCP"), ("NewInternalPort", internal),
                                 ("NewInternalClient", lan), ("NewEnabled", "1"),
                                 ("NewPortMappingDescription", "v1 client"),
                                 ("NewLeaseDuration", "0")])
    print("mapped %s -> %s:%s" % (ext, lan, internal))
    r = soap(url, "GetSpecificPortMappingEntry", [("NewRemoteHost", ""),
                                                 ("NewExternalPort", ext),
                                                 ("NewProtocol", "TCP")])
    client = ET.fromstring(r).find(".//NewInternalClient").text
    print("read back " + client)


main()
