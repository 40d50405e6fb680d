#!/bin/bash
# bench_lab.sh - portgated's figures in the namespace lab (run by `make bench`).
#
# Prints, with real nftables and real traffic (tests/lab/lab.sh):
#   - the time to load 50,000 static forwards through one `portgatectl -`
#     pipe, and until `portgatectl status` and the kernel map show them;
#   - the latency of one `forward add` (with its commit) and one
#     `forward del` at 0 and at 50,000 mappings: median, p99 and max of 200
#     requests each, one every 5 ms, timed by a client speaking the control
#     protocol itself;
#   - trigger latency: from a LAN host's outbound SYN to the first inbound
#     connection through the opened port (median of 5);
#   - the trigger notification rate for a 10,000 packet/s UDP flow.
# A benchmark prints figures; it asserts nothing. Without root or network
# namespaces it says why and exits 0. Exits 1 if a figure could not be taken.
# Only documentation addresses (192.0.2.0/24, 198.51.100.0/24) and the
# control socket are used; the lab is torn down on exit.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
export top_builddir top_srcdir
. "$top_srcdir/tests/integ/lib.sh"
LAB=${LAB:-pgb$$}
. "$top_srcdir/tests/lab/lab.sh"

NLOAD=50000		# mappings loaded: udp 10000-59999 -> host A
NLOAD_TXT=$(printf "%d,%03d" $((NLOAD / 1000)) $((NLOAD % 1000)))
LOAD_LO=10000
NSAMPLES=200		# add/del pairs per latency figure
LAT_PORT=61000		# latency samples use udp 61000-61199 (outside the load)
LAT_GAP_MS=5		# one request every 5 ms: the daemon is idle between requests
NTRIG=5			# trigger latency repetitions
FLOW_RATE=10000		# packet/s
FLOW_SECS=3
PY=$(command -v python3)

echo "== portgate lab benchmark =="
if ! lab_can_run; then
	why="needs root"
	[ "$(id -u)" -eq 0 ] && why="needs nft, socat and network namespaces with nftables"
	echo "lab figures skipped: $why"
	exit 0
fi
if [ -z "$PY" ]; then
	echo "lab figures skipped: needs python3"
	exit 0
fi
for p in "$PORTGATED" "$PORTGATECTL"; do
	[ -x "$p" ] || { echo "bench_lab: $p not built" >&2; exit 1; }
done
# the protocol this tree speaks; the client checks the daemon's greeting against it
PROTO_GREETING=$(sed -n 's/^#define[[:space:]]*CTL_PROTO_GREETING[[:space:]]*"\(.*\)"/\1/p' \
	"$top_srcdir/src/ctl_line.h")
case "$PROTO_GREETING" in
"portgate-ctl "[0-9]*) ;;
*) echo "bench_lab: cannot read CTL_PROTO_GREETING from src/ctl_line.h" >&2; exit 1 ;;
esac

# stop_daemon: SIGTERM (it removes its table), SIGKILL after 10 s
stop_daemon() {
	local n=100
	[ -n "$PG_PID" ] || return 0
	kill -TERM "$PG_PID" 2>/dev/null
	while [ $n -gt 0 ] && kill -0 "$PG_PID" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
	kill -KILL "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=
}
bench_cleanup() {
	stop_daemon
	lab_down
}
lab_up
trap bench_cleanup EXIT
trap 'exit 130' INT TERM HUP

FAILED=0
ROWS=()
# row LABEL VALUE: one line of the figure table
row() { ROWS+=("$1"$'\t'"$2"); }
note() { echo "  $*"; }
na() { row "$1" "n/a ($2)"; FAILED=1; note "$1: $2"; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
# fmt FORMAT A B: printf FORMAT with A / B
fmt() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN { printf f, a / b }'; }

# ---- the helper: control-socket client and traffic roles (python3) ----
H=$LAB_DIR/bench_helper.py
cat > "$H" <<'PYEOF'
import math, os, random, select, socket, statistics, subprocess, sys, time

def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)

def out(*a):
    print(*a, flush=True)

# ---- control socket client: portgate-ctl line protocol ----
class Ctl:
    def __init__(self, path, want):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""
        g = self.line()
        parts = g.split(" ")
        if len(parts) != 2 or parts[0] != "portgate-ctl" or not parts[1].isdigit():
            raise SystemExit("ctl: unexpected greeting %r" % g)
        wv = want.split(" ")[1]
        if parts[1] != wv:
            raise SystemExit("ctl: daemon speaks protocol %s, this client %s" % (parts[1], wv))
        self.version = int(parts[1])

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("ctl: connection closed by portgated")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode()

    @staticmethod
    def enc(w):
        if w == "":
            return "%-"
        return "".join("%%%02X" % ord(c) if ord(c) <= 0x20 or c in "%\x7f" else c for c in w)

    def request(self, *words):
        """Send one request; return (ok, final text, data lines, seconds)."""
        msg = (" ".join(self.enc(w) for w in words) + "\n").encode()
        t0 = time.perf_counter_ns()
        self.s.sendall(msg)
        data = []
        while True:
            l = self.line()
            if l.startswith("| "):
                data.append(l[2:])
            elif l == "ok" or l.startswith("ok "):
                return True, l[3:], data, (time.perf_counter_ns() - t0) / 1e9
            elif l == "err" or l.startswith("err "):
                return False, l[4:], data, (time.perf_counter_ns() - t0) / 1e9
            else:
                raise SystemExit("ctl: unexpected reply line %r" % l)

def pct(v, p):
    s = sorted(v)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]

def cmd_ctl_latency(sock, want, n, port0, ip, gap_ms):
    """n add/del pairs, one request every gap_ms (an idle daemon between requests)."""
    c = Ctl(sock, want)
    n, port0, gap = int(n), int(port0), float(gap_ms) / 1e3
    nxt = [time.monotonic()]

    def paced(*words):
        d = nxt[0] - time.monotonic()
        if d > 0:
            time.sleep(d)
        nxt[0] = time.monotonic() + gap
        return c.request(*words)
    # a few unrecorded pairs first (connection, allocator, caches)
    for i in range(5):
        c.request("forward", "add", "udp", str(port0 + n), ip)
        c.request("forward", "del", "udp", str(port0 + n))
    add, dele, errs = [], [], []
    for i in range(n):
        p = str(port0 + i)
        ok, txt, _, t = paced("forward", "add", "udp", p, ip)
        if not ok:
            errs.append("add %s: %s" % (p, txt))
        add.append(t * 1e3)
        ok, txt, _, t = paced("forward", "del", "udp", p)
        if not ok:
            errs.append("del %s: %s" % (p, txt))
        dele.append(t * 1e3)
    for e in errs[:5]:
        print("ctl error:", e, file=sys.stderr)
    # "proto add_med add_p99 add_max del_med del_p99 del_max errors"
    out(c.version, *("%.3f" % x for x in (statistics.median(add), pct(add, 99), max(add),
        statistics.median(dele), pct(dele, 99), max(dele))), len(errs))

# ---- traffic roles, each run inside a namespace by `ip netns exec` ----
def role_listen(proto, port, secs):
    """tcp: accept and answer; udp: count datagrams. Ends after secs or when stdin closes."""
    port, end = int(port), time.monotonic() + float(secs)
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if proto == "tcp":
        s.listen(64)
    out("ready")
    n = 0
    while time.monotonic() < end:
        r, _, _ = select.select([s, sys.stdin], [], [], min(0.5, max(0, end - time.monotonic())))
        if sys.stdin in r and not sys.stdin.buffer.read1(1):
            break
        if s in r:
            if proto == "tcp":
                conn, _ = s.accept()
                try:
                    conn.sendall(b"bench\n")
                except OSError:
                    pass
                conn.close()
            else:
                s.recv(2048)
            n += 1
    out("received", n)

def role_probe(host, port, interval_ms, secs):
    """Try a TCP connect every interval_ms until one succeeds: "open T TRIES LAST_FAIL",
    CLOCK_MONOTONIC ns of the success and of the last refused attempt."""
    port, step, end = int(port), float(interval_ms) / 1e3, time.monotonic() + float(secs)
    tries, first, last_fail = 0, True, 0
    nxt = time.monotonic()
    while time.monotonic() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(step)
        try:
            s.connect((host, port))
            t = mono_ns()
            s.close()
            if first:
                out("already-open")
                return 1
            out("open", t, tries, last_fail)
            return 0
        except OSError:
            last_fail = mono_ns()
        finally:
            s.close()
        tries += 1
        if first:
            out("ready")
            first = False
        nxt += step
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            nxt = time.monotonic()
    out("timeout", tries)
    return 1

def role_connect(host, port):
    """One outbound TCP connection; print the CLOCK_MONOTONIC ns taken just before the SYN."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    t = mono_ns()
    try:
        s.connect((host, int(port)))
        s.recv(64)
        ok = 1
    except OSError:
        ok = 0
    s.close()
    out(t, ok)

def role_flow(host, port, rate, secs):
    """A paced UDP flow: rate packet/s for secs seconds, sent in 1 ms slices."""
    rate, secs = int(rate), float(secs)
    total = int(rate * secs)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    payload = b"x" * 64
    sent, errs = 0, 0
    t0 = time.monotonic()
    deadline = t0 + secs + 2
    while sent < total and time.monotonic() < deadline:
        due = min(total, int((time.monotonic() - t0) * rate) + 1)
        while sent < due:
            try:
                s.send(payload)
            except OSError:
                errs += 1
            sent += 1
        time.sleep(0.001)
    out(sent, "%.3f" % (time.monotonic() - t0), errs)

class Proc:
    """A helper role in a namespace; its stdout is read line by line with a timeout."""
    def __init__(self, ns, *args):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, __file__] +
                                  list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b""

    def line(self, secs):
        end = time.monotonic() + secs
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                return []
            d = os.read(self.p.stdout.fileno(), 4096)
            if not d:
                return []
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode().split()

    def finish(self, secs=5):
        """Close its stdin (listeners end on that) and reap it."""
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=secs)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

def run_role(ns, secs, *args):
    r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=secs)
    return r.stdout.split()

def cmd_trigger(wan_ns, a_ns, wan_ip, gw_wan_ip, sock, want, reps, idle_wait):
    """Trigger latency: A's SYN to wan_ip:7000 -> first WAN connect to gw_wan_ip:7105 (A)."""
    reps, idle_wait = int(reps), float(idle_wait)
    srv = Proc(wan_ns, "listen", "tcp", "7000", "120")
    lst = Proc(a_ns, "listen", "tcp", "7105", "120")
    res, first = [], 0
    try:
        if srv.line(5) != ["ready"] or lst.line(5) != ["ready"]:
            raise SystemExit("trigger: listeners did not start")
        c = Ctl(sock, want)
        for i in range(reps):
            # the ports must be closed first (idle close of the previous round)
            end = time.monotonic() + idle_wait
            while True:
                _, _, data, _ = c.request("status")
                if "source trigger 0" in data:
                    break
                if time.monotonic() > end:
                    raise SystemExit("trigger: ports still open after %.0f s" % idle_wait)
                time.sleep(0.1)
            pr = Proc(wan_ns, "probe", gw_wan_ip, "7105", "5", "5")
            try:
                if pr.line(5) != ["ready"]:
                    raise SystemExit("trigger: the prober found 7105 open before the trigger")
                # a random phase against the 5 ms probe clock: otherwise the fixed
                # start-up delays make every round land at the same point of a tick
                time.sleep(random.uniform(0.05, 0.055))
                syn = run_role(a_ns, 10, "connect", wan_ip, "7000")
                got = pr.line(6)
            finally:
                pr.finish()
            if len(syn) != 2 or syn[1] != "1":
                raise SystemExit("trigger: A could not reach the WAN listener")
            if len(got) != 4 or got[0] != "open":
                raise SystemExit("trigger: 7105 did not open within 5 s (%s)" % " ".join(got))
            res.append((int(got[1]) - int(syn[0])) / 1e6)
            first += int(got[3]) < int(syn[0])  # no refused probe after the SYN
    finally:
        srv.finish()
        lst.finish()
    # "median min max rounds-open-at-the-first-probe round1 round2 ..."
    out("%.1f" % statistics.median(res), "%.1f" % min(res), "%.1f" % max(res), first,
        *("%.1f" % x for x in res))

def cmd_flow(wan_ns, a_ns, wan_ip, rate, secs):
    """A's paced UDP flow to wan_ip:7200: "sent seconds send-errors received"."""
    sink = Proc(wan_ns, "listen", "udp", "7200", str(float(secs) + 10))
    try:
        if sink.line(5) != ["ready"]:
            raise SystemExit("flow: the WAN sink did not start")
        r = run_role(a_ns, float(secs) + 10, "flowsend", wan_ip, "7200", rate, secs)
        time.sleep(0.2)
        sink.p.stdin.close()
        got = sink.line(5)
    finally:
        sink.finish()
    if len(r) != 3:
        raise SystemExit("flow: the sender failed")
    out(*r, got[1] if len(got) == 2 else "?")

if __name__ == "__main__":
    cmds = {"ctl": cmd_ctl_latency, "trigger": cmd_trigger, "flow": cmd_flow,
            "listen": role_listen, "probe": role_probe, "connect": role_connect,
            "flowsend": role_flow}
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]) or 0)
PYEOF

status_val() { pgctl status 2>/dev/null | awk -v k="$1" '$1 == k && NF == 2 { print $2 }'; }
kernel_count() {
	in_gw nft list map ip portgate dnat_port 2>/dev/null | grep -oE '(tcp|udp) \. [0-9]+ :' | wc -l
}
# ctl_latency LABEL: 200 add/del pairs on a fresh connection
ctl_latency() {
	local r
	r=$(timeout 120 "$PY" "$H" ctl "$LAB_DIR/sock" "$PROTO_GREETING" $NSAMPLES $LAT_PORT $A_IP $LAT_GAP_MS) \
		|| { na "forward add/del + commit at $1 mappings" "client failed"; return; }
	set -- "$1" $r
	CTL_VERSION=$2
	row "forward add + commit at $1 mappings" "$(printf '%7.3f ms median, p99 %.3f ms, max %.3f ms' "$3" "$4" "$5")"
	row "forward del + commit at $1 mappings" "$(printf '%7.3f ms median, p99 %.3f ms, max %.3f ms' "$6" "$7" "$8")"
	[ "$9" = 0 ] || { FAILED=1; note "$9 requests failed at $1 mappings"; }
}

conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = bench tcp:7000 open tcp:7100-7110 idle 2" \
	"trigger = flow udp:7200 open udp:7300 idle 30"
lab_start_daemon "$conf" >/dev/null || { cat "$LAB_DIR/daemon.log"; echo "bench_lab: portgated did not start"; exit 1; }
BENCH_T0=$(now_ms)

echo "-- add/del latency at 0 mappings ($NSAMPLES samples)"
ctl_latency 0

echo "-- loading $NLOAD_TXT mappings"
t0=$(now_ms)
seq $LOAD_LO $((LOAD_LO + NLOAD - 1)) | sed "s/.*/forward add udp & $A_IP/" |
	timeout 120 "$PORTGATECTL" -s "$LAB_DIR/sock" - > "$LAB_DIR/load.out"
rc=$?
t1=$(now_ms)
nok=$(grep -c '^ok' "$LAB_DIR/load.out")
[ "$rc" -eq 0 ] && [ "$nok" -eq $NLOAD ] || note "load: portgatectl exit $rc, $nok of $NLOAD ok"
visible=
deadline=$((t1 + 60000))
while [ "$(now_ms)" -lt $deadline ]; do
	c0=$(now_ms)
	if [ "$(status_val mappings)" = $NLOAD ] && [ "$(kernel_count)" -eq $NLOAD ]; then
		visible=$(now_ms)
		break
	fi
	sleep 0.2
done
row "load $NLOAD_TXT mappings, one portgatectl - pipe" "$(fmt '%7.2f s' $((t1 - t0)) 1000)"
if [ -n "$visible" ]; then
	row "  ... until in status and kernel map" "$(fmt '%7.2f s' $((visible - t0)) 1000) ($(fmt '%.2f' $((visible - c0)) 1000) s of it the status + nft list check)"
else
	na "  ... until in status and kernel map" "status $(status_val mappings), kernel $(kernel_count)"
fi

echo "-- add/del latency at $NLOAD_TXT mappings ($NSAMPLES samples)"
ctl_latency "$NLOAD_TXT"

echo "-- flushing the load"
pgctl flush --source static > /dev/null || note "flush failed"
wait_for 30 test "$(status_val mappings)" = 0 || note "flush: $(status_val mappings) mappings left"
wait_for 30 test "$(kernel_count)" -eq 0 || note "flush: kernel map not empty"

echo "-- trigger latency ($NTRIG rounds, idle 2 s)"
r=$(timeout 120 "$PY" "$H" trigger "$WAN" "$HA" $WAN_IP $GW_WAN_IP "$LAB_DIR/sock" \
	"$PROTO_GREETING" $NTRIG 10)
if set -- $r && [ $# -ge 4 ]; then
	row "trigger latency (SYN -> inbound), median" "$(printf '%7.1f ms (min %s, max %s; probe every 5 ms)' "$1" "$2" "$3")"
	note "rounds: ${*:5} ms; in $4 of $NTRIG the first probe after the SYN got through"
else
	na "trigger latency (SYN -> inbound), median" "no result"
fi

echo "-- notification rate ($FLOW_RATE packet/s UDP for $FLOW_SECS s)"
n0=$(status_val trigger_notifications)
r=$(timeout 60 "$PY" "$H" flow "$WAN" "$HA" $WAN_IP $FLOW_RATE $FLOW_SECS)
sleep 0.3
n1=$(status_val trigger_notifications)
if set -- $r && [ $# -eq 4 ] && [ -n "$n0" ] && [ -n "$n1" ]; then
	sent=$1 secs=$2 errs=$3 rcvd=$4
	row "trigger notifications, $FLOW_RATE packet/s flow" "$(fmt '%7.2f /s' $((n1 - n0)) "$secs") ($((n1 - n0)) in $secs s: the first packet, then $(fmt '%.2f' $((n1 - n0 - 1)) "$secs")/s)"
	note "flow: $sent sent in $secs s ($(fmt '%.0f' "$sent" "$secs") packet/s, $errs send errors), $rcvd received by the WAN peer"
else
	na "trigger notifications, $FLOW_RATE packet/s flow" "no result"
fi
BENCH_T1=$(now_ms)

stop_daemon
cp "$LAB_DIR/daemon.log" "$top_builddir/tests/bench/bench_lab.daemon.log" 2>/dev/null

echo
echo "portgate lab figures, $(date '+%Y-%m-%d %H:%M %Z'), $(nproc) cores, Linux $(uname -r), control protocol ${CTL_VERSION:-?}"
for r in "${ROWS[@]}"; do
	printf '%-44s %s\n' "${r%%$'\t'*}" "${r#*$'\t'}"
done
echo "lab part: $(fmt '%.0f' $((BENCH_T1 - BENCH_T0)) 1000) s; daemon log ($(wc -l < "$LAB_DIR/daemon.log") lines): tests/bench/bench_lab.daemon.log"
exit $FAILED
