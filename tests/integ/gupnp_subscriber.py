#!/usr/bin/python3
"""gupnp_subscriber.py - GNOME's UPnP stack as the event client: GUPnP 1.6 through
GObject introspection, the library code gupnp-event-dumper (gupnp-tools) runs.

  gupnp_subscriber.py IFACE ROUNDS SECONDS

Finds WANIPConnection on IFACE with a GUPnP control point (SSDP), then
ROUNDS times subscribes to it as gupnp-event-dumper does (a notification
callback per evented variable, gupnp_service_proxy_set_subscribed) and
waits up to SECONDS for the initial event to reach the application, then
unsubscribes. GUPnP drops a NOTIFY that arrives before it has processed
the SUBSCRIBE response (its SID is unknown then), so a publisher that
sends the initial event too early is seen here as a missing event. Prints
"found URL", one "round N initial ExternalIPAddress=... entries=..." or
"round N none" line per round, and "got K of ROUNDS". Exits 0 when every
round got its initial event, 1 otherwise, 77 without GUPnP's typelib.
Only SSDP and the lab's addresses are used.
"""
import sys

try:
    import gi
    gi.require_version("GUPnP", "1.6")
    from gi.repository import GLib, GObject, GUPnP
except (ImportError, ValueError) as e:
    print("SKIP no GUPnP 1.6 typelib (gir1.2-gupnp-1.6): %s" % e)
    sys.exit(77)

IPC = "urn:schemas-upnp-org:service:WANIPConnection:1"


class Rounds:
    def __init__(self, loop, rounds, seconds):
        self.loop, self.rounds, self.seconds = loop, rounds, seconds
        self.proxy = None
        self.n = 0
        self.got = 0
        self.vals = {}
        self.timer = None

    def found(self, cp, proxy):
        if self.proxy is not None:
            return
        self.proxy = proxy
        print("found %s" % proxy.get_location(), flush=True)
        proxy.add_notify("ExternalIPAddress", GObject.TYPE_STRING, self.notified)
        proxy.add_notify("PortMappingNumberOfEntries", GObject.TYPE_UINT, self.notified)
        proxy.connect("subscription-lost", self.lost)
        self.start()

    def start(self):
        self.n += 1
        self.vals = {}
        self.proxy.set_subscribed(True)
        self.timer = GLib.timeout_add(int(self.seconds * 1000), self.timeout)

    def notified(self, proxy, name, value):
        self.vals[name] = value
        if len(self.vals) == 2 and self.timer is not None:
            print("round %d initial ExternalIPAddress=%s entries=%s" % (
                self.n, self.vals["ExternalIPAddress"], self.vals["PortMappingNumberOfEntries"]),
                flush=True)
            self.got += 1
            self.next()

    def lost(self, proxy, err):
        print("round %d subscription lost: %s" % (self.n, err.message), flush=True)

    def timeout(self):
        print("round %d none" % self.n, flush=True)
        self.next()
        return False

    def next(self):
        if self.timer is not None:
            GLib.source_remove(self.timer)
            self.timer = None
        self.proxy.set_subscribed(False)
        if self.n < self.rounds:
            GLib.timeout_add(200, lambda: self.start() and False)
        else:
            GLib.timeout_add(200, self.loop.quit)


def main():
    iface, rounds, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    loop = GLib.MainLoop()
    ctx = GUPnP.Context.new(iface, 0)
    cp = GUPnP.ControlPoint.new(ctx, IPC)
    r = Rounds(loop, rounds, seconds)
    cp.connect("service-proxy-available", r.found)
    cp.set_active(True)
    # discovery (up to 5 s) and every round, bounded
    GLib.timeout_add(int((5 + rounds * (seconds + 1)) * 1000), loop.quit)
    loop.run()
    print("got %d of %d" % (r.got, rounds))
    sys.exit(0 if r.got == rounds else 1)


main()
