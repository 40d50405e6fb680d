#!/usr/bin/python3
"""panel_browser.py - drive the admin panel in headless Chromium (Debian's chromium,
chromium-driver and python3-selenium), from a LAN host of the namespace lab.

Run by panel_lab.sh inside the admin's LAN namespace with the environment it sets
(BASE, PW, NS_A, NS_WAN, GW_WAN_IP, A_IP, WAN_IP, ART, WIDTH, HEIGHT). Prints one line per
check: "ok TEXT" or "FAIL TEXT"; panel_lab.sh counts them. Every traffic check is real:
the WAN peer connects to the gateway's WAN address.
"""
import os, subprocess, sys, time
from xml.sax.saxutils import escape as xml_escape

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException,
                                        StaleElementReferenceException, TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

E = os.environ
BASE, PW, ART = E["BASE"], E["PW"], E["ART"]
NS_A, NS_WAN = E["NS_A"], E["NS_WAN"]
GW_WAN_IP, A_IP, WAN_IP = E["GW_WAN_IP"], E["A_IP"], E["WAN_IP"]
LAB = ("192.0.2.", "198.51.100.", "203.0.113.", "127.0.0.1")
assert BASE.split("//")[1].startswith(LAB), BASE
HOSTILE = "<img src=x onerror=alert(1)>"
fails = 0


def say(ok, text):
    global fails
    if not ok:
        fails += 1
    print(("ok   " if ok else "FAIL ") + text, flush=True)


def run(ns, *cmd, data=b"hi\n", timeout=10):
    try:
        p = subprocess.run(["ip", "netns", "exec", ns] + list(cmd), input=data,
                           capture_output=True, timeout=timeout)
        return p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return ""


def wan_connect(port):
    """What the LAN host's server answers the WAN peer on the gateway's port ('' if nothing)."""
    return run(NS_WAN, "socat", "-T", "1", "-", "TCP:%s:%d,connect-timeout=1" % (GW_WAN_IP, port),
               timeout=4).strip()


def upnpc(*args):
    # -i: the lab's WAN address is a documentation one, which upnpc calls "not connected"
    return run(NS_A, "upnpc", "-i", *args, data=b"", timeout=20)


def shot(d, name):
    try:
        d.save_screenshot(os.path.join(ART, name))
    except WebDriverException as e:
        print("# screenshot %s: %s" % (name, e))


def browser():
    o = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=%s,%s" % (E.get("WIDTH", "390"), E.get("HEIGHT", "844")),
              "--no-proxy-server", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-default-apps",
              "--disable-features=Translate,MediaRouter,OptimizationHints",
              "--user-data-dir=" + os.path.join(E["LAB_DIR"], "chrome")]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def row(d, proto, port):
    return d.find_elements(By.CSS_SELECTOR,
                           '#ports-table tbody tr[data-proto="%s"][data-port="%d"]' % (proto, port))


def wait(d, secs, fn):
    try:
        return WebDriverWait(d, secs, poll_frequency=0.05,
                             ignored_exceptions=[StaleElementReferenceException]).until(
                                 lambda _: fn())
    except TimeoutException:
        return None


def fresh(fn, tries=20):
    """fn() on elements found anew: the page re-draws its tables on every event."""
    for _ in range(tries):
        try:
            return fn()
        except StaleElementReferenceException:
            time.sleep(0.05)
    return fn()


def texts(d, css):
    return fresh(lambda: [e.text for e in d.find_elements(By.CSS_SELECTOR, css)])


def text(d, css):
    t = texts(d, css)
    return t[0] if t else None


def click(d, css):
    fresh(lambda: d.find_element(By.CSS_SELECTOR, css).click())


def no_alert(d):
    try:
        d.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def login(d):
    d.get(BASE + "/")
    box = wait(d, 10, lambda: d.find_element(By.ID, "login-box").is_displayed())
    say(bool(box), "the page asks for the password")
    shot(d, "01-login.png")
    d.find_element(By.ID, "login-password").send_keys("wrong password")
    d.find_element(By.ID, "login-submit").click()
    err = wait(d, 10, lambda: d.find_element(By.ID, "login-error").text)
    say(bool(err) and "password" in err.lower(), "a wrong password is refused: %r" % err)
    d.find_element(By.ID, "login-password").clear()
    d.find_element(By.ID, "login-password").send_keys(PW)
    d.find_element(By.ID, "login-submit").click()
    ok = wait(d, 10, lambda: d.find_element(By.ID, "panel").is_displayed())
    say(bool(ok), "the right password opens the panel")
    live = wait(d, 10, lambda: d.find_element(By.ID, "events-state").text == "(live)")
    say(bool(live), "the live event stream is open")
    ext = d.find_element(By.ID, "gw-ext").text
    badge = d.find_element(By.ID, "gw-verdict").text
    say(ext == GW_WAN_IP, "the overview shows the external address %s" % ext)
    say("documentation address" in badge, "... and what it means: %r" % badge)


def mapping(d):
    print("# a mapping upnpc adds appears within a second, without reloading")
    marker = d.execute_script("window.__pg_marker = 1; return window.__pg_marker;")
    out = upnpc("-e", "panel game", "-a", A_IP, "8000", "9100", "TCP")
    t0 = time.monotonic()
    say("is redirected to internal" in out, "upnpc (SSDP discovery) maps tcp 9100 -> A:8000")
    r = wait(d, 1.0, lambda: row(d, "tcp", 9100))
    dt = time.monotonic() - t0
    say(bool(r), "its row appears within a second (%.2f s)" % dt)
    say(d.execute_script("return window.__pg_marker;") == marker, "... the page was not reloaded")
    if not r:
        r = wait(d, 5, lambda: row(d, "tcp", 9100))
        if not r:
            return
    sel = '#ports-table tbody tr[data-proto="tcp"][data-port="9100"]'
    cells = texts(d, sel + " td")
    say(cells[0] == "upnp" and cells[1] == "alice-laptop" and cells[2] == A_IP,
        "it names its source, host (from the DHCP leases) and IP: %s" % cells[:3])
    say("9100" in cells[3] and "8000" in cells[3], "... external -> internal: %r" % cells[3])
    say(cells[7] == "panel game", "... and its description")
    say(wan_connect(9100) == "from-A", "the WAN peer reaches A through it")
    shot(d, "02-mapping.png")
    click(d, sel + " button.del")
    gone = wait(d, 5, lambda: not row(d, "tcp", 9100))
    say(bool(gone), "its Delete button removes the row")
    say(wan_connect(9100) == "", "then the WAN peer is refused")
    say("9100" not in upnpc("-l"), "and upnpc -l no longer lists it")


def hostile(d):
    print("# a hostile description is shown as text")
    # the way an application would send it: a SOAP AddPortMapping, the text XML-escaped
    # (upnpc itself puts the description into its XML unescaped)
    t = "urn:schemas-upnp-org:service:WANIPConnection:2"
    body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/"><s:Body><u:AddPortMapping xmlns:u="%s"><NewRemoteHost></NewRemoteHost>'
            '<NewExternalPort>9101</NewExternalPort><NewProtocol>TCP</NewProtocol>'
            '<NewInternalPort>8001</NewInternalPort><NewInternalClient>%s</NewInternalClient>'
            '<NewEnabled>1</NewEnabled><NewPortMappingDescription>%s</NewPortMappingDescription>'
            '<NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>'
            % (t, A_IP, xml_escape(HOSTILE)))
    out = run(NS_A, "curl", "-s", "-m", "3", "-H", "Content-Type: text/xml", "-H",
              'SOAPAction: "%s#AddPortMapping"' % t, "--data-binary", body,
              "http://%s:5000/ctl/IPConn" % E["GW_LAN_IP"], data=b"")
    say("AddPortMappingResponse" in out, "a LAN application maps tcp 9101 with description %r"
        % HOSTILE)
    r = wait(d, 5, lambda: row(d, "tcp", 9101))
    say(bool(r), "the mapping with the hostile description is listed")
    if not r:
        return
    desc = text(d, '#ports-table tbody tr[data-port="9101"] td.desc')
    say(desc == HOSTILE, "its description is the literal text %r" % desc)
    say(not d.find_elements(By.CSS_SELECTOR, "#ports-table img, #event-log img"),
        "no <img> element was made from it (table or event log)")
    time.sleep(0.3)
    say(no_alert(d), "no script of it ran (no alert)")
    log = d.find_element(By.ID, "event-log").text
    say(HOSTILE in log, "the event log shows it as text too")
    shot(d, "03-hostile.png")
    upnpc("-d", "9101", "TCP")


def trigger(d):
    print("# a trigger added in the form; a LAN host fires it; its host and countdown show")
    d.find_element(By.ID, "trigger-name").send_keys("irc")
    d.find_element(By.ID, "trigger-match").send_keys("tcp:6667")
    d.find_element(By.ID, "trigger-open").send_keys("tcp:9113")
    d.find_element(By.ID, "trigger-idle").send_keys("30")
    d.find_element(By.ID, "trigger-add").click()
    sel = '#triggers-table tbody tr[data-name="irc"]'
    r = wait(d, 5, lambda: d.find_elements(By.CSS_SELECTOR, sel))
    say(bool(r), "the rule appears in the triggers table")
    err = d.find_element(By.ID, "trigger-error").text
    say(err == "", "the form shows no error (%r)" % err)
    if not r:
        return
    say(text(d, sel + " .active-host") == "idle", "it is idle")
    say(wan_connect(9113) == "", "the WAN peer cannot reach 9113 before the trigger")
    run(NS_A, "socat", "-T", "1", "-", "TCP:%s:6667,connect-timeout=1" % WAN_IP, timeout=4)
    want = "alice-laptop (%s)" % A_IP
    host = wait(d, 5, lambda: text(d, sel + " .active-host") == want)
    say(bool(host), "A's trigger traffic shows A as the active host (%r)"
        % text(d, sel + " .active-host"))

    def left():
        t = text(d, sel + " .closes-in")
        return int(t.split()[0]) if t and t[0].isdigit() else None
    a = wait(d, 3, left)
    time.sleep(2.2)
    b = left()
    say(a is not None and b is not None and 0 < b < a <= 30,
        "the countdown runs: closes in %s s, then %s s" % (a, b))
    say(wan_connect(9113) == "from-A-9113", "the WAN peer reaches A on the opened port")
    shot(d, "04-trigger.png")


def forward_form(d):
    print("# a static forward added in the form")
    d.find_element(By.ID, "forward-ext").send_keys("9120")
    d.find_element(By.ID, "forward-ip").send_keys(A_IP)
    d.find_element(By.ID, "forward-port").send_keys("8000")
    d.find_element(By.ID, "forward-desc").send_keys("web cam")
    d.find_element(By.ID, "forward-add").click()
    r = wait(d, 5, lambda: row(d, "tcp", 9120))
    say(bool(r), "the forward appears in the ports table")
    say(wan_connect(9120) == "from-A", "the WAN peer reaches A through it")
    d.find_element(By.ID, "forward-ext").send_keys("70000")
    d.find_element(By.ID, "forward-ip").send_keys(A_IP)
    d.find_element(By.ID, "forward-add").click()
    err = wait(d, 5, lambda: d.find_element(By.ID, "forward-error").text)
    say(bool(err), "a bad port gets the daemon's error in the form: %r" % err)


def phone(d):
    w = d.execute_script("return document.documentElement.scrollWidth")
    iw = d.execute_script("return window.innerWidth")
    say(w <= iw, "the page fits the window's width (%d <= %d): tables scroll inside" % (w, iw))
    shot(d, "05-panel.png")
    d.set_window_size(1280, 1000)
    d.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)
    shot(d, "06-panel-desktop.png")


def console(d):
    bad = [m for m in d.get_log("browser") if m.get("level") == "SEVERE"
           and "Content Security Policy" in m.get("message", "")]
    say(not bad, "no Content-Security-Policy violation in the console %s" % bad[:2])


def main():
    d = browser()
    try:
        login(d)
        mapping(d)
        hostile(d)
        trigger(d)
        forward_form(d)
        phone(d)
        console(d)
    except Exception as e:  # a broken page fails the test, with what broke
        say(False, "the browser run stopped: %s: %s" % (type(e).__name__, e))
        shot(d, "99-error.png")
    finally:
        d.quit()
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
