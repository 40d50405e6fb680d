#!/bin/bash
# ctl_limits.sh - the control socket against clients that misbehave (firewall = none):
# a client that never reads, half-closes, sends over-long lines or NULs, too many
# clients, idle clients, and a daemon out of file descriptors.
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d /tmp/portgate-lim.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
abuse() { timeout 60 python3 "$top_srcdir/tests/integ/ctl_abuse.py" "$dir/sock" "$@"; }
ctl() { "$PORTGATECTL" -s "$dir/sock" "$@"; }
# field NAME LINE: the value of NAME=VALUE in a RESULT line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

cat > "$dir/pg.conf" <<CONF
firewall = none
state_file = $dir/state
control_socket = $dir/sock
control_idle_timeout = 2
CONF
start() {
	"$PORTGATED" -d -f "$dir/pg.conf" 2>>"$dir/log" &
	pid=$!
	wait_for 5 test -S "$dir/sock" && wait_for 5 ctl status
}
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }

check "daemon starts" start
for i in $(seq 20000 29999); do echo "forward add tcp $i 192.0.2.$((i % 200 + 20)) --desc mapping-number-$i-with-a-longer-text"; done |
	ctl - >/dev/null
check_out "10,000 mappings loaded" "mappings 10000" ctl status

echo "a client that pipelines 1000 'list --json' and never reads"
rss0=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
r=$(abuse flood $pid 1000); echo "    $r (rss before: ${rss0} kB)"
rss=$(field rss_kb "$r")
[ -n "$rss" ] && [ "$rss" -lt $((rss0 + 65536)) ] && pass "daemon memory stays bounded (+$(( (rss - rss0) / 1024 )) MB)" ||
	fail "daemon grew from ${rss0} kB to ${rss} kB"
[ "$(field status_ok "$r")" = 1 ] && [ "$(field status_ms "$r")" -lt 2000 ] &&
	pass "another client's status answered in $(field status_ms "$r") ms" || fail "status starved: $r"
check "daemon still answers after the flood client left" ctl status

echo "half-close after the request: the whole reply arrives"
n=$(printf 'list\n' | timeout 20 socat - UNIX-CONNECT:"$dir/sock" | wc -l)
[ "$n" = 10003 ] && pass "all 10,000 rows (+ greeting, header, ok) after EOF" || fail "got $n lines, want 10003"
n=$(printf 'list --json\nstatus\n' | timeout 20 socat - UNIX-CONNECT:"$dir/sock" | grep -c '^ok$')
[ "$n" = 2 ] && pass "pipelined requests before EOF are all answered" || fail "$n of 2 answered"

echo "over-long request lines: one error, then the connection closes"
for spec in "5000 \\n" "16384 \\nstatus\\n" "1048576 \\n"; do
	set -- $spec
	r=$(abuse longline "$1" "$2")
	[ "$(field replies "$r")" = 1 ] && [ "$(field eof "$r")" = 1 ] && [ "$(field status_ran "$r")" = 0 ] &&
		pass "$1-byte line: one error, closed, nothing after it run" || fail "$1-byte line: $r"
done
check_out "the error says why" "err request line too long" abuse longline 5000 '\n'

echo "a NUL byte is an error, not the end of the request"
r=$(abuse nul)
[ "$(field finals "$r")" = "err_request_contains_a_NUL_byte/ok" ] && pass "NUL refused, next request runs" || fail "$r"

echo "connection cap and idle timeout"
r=$(abuse conns 40)
[ "$(field accepted "$r")" = 32 ] && [ "$(field refused "$r")" = 8 ] && pass "32 clients served, 8 refused with an error" || fail "$r"
check "a new client is served once others left" ctl status
r=$(abuse idle 5)
[ "$(field eof "$r")" = 1 ] && [ "$(field after_ms "$r")" -lt 4000 ] && pass "idle client closed after ~2 s" || fail "$r"

echo "injection through the description and echoed arguments"
check_not "a description with newlines is refused" ctl forward add tcp 9000 192.0.2.10 --desc $'evil\nok forged\n| extra'
out=$(printf 'forward add tcp 9001 192.0.2.999\nforward add tcp 9002 192.0.2.10 --desc "a %%0A b"\nlist\nforward add tcp 9001 127.0.0.1\nstatus\n' | ctl - 2>&1)
[ "$(echo "$out" | grep -c '^error: ')" = 2 ] && [ "$(echo "$out" | grep -c '^ok')" = 3 ] &&
	pass "- mode: one result per request, in order, none shifted" || fail "$out"
check_out "an echoed control character is shown escaped" 'bad protocol '"'"'tcp\x0aok' ctl forward add $'tcp\nok' 1 192.0.2.9
stop

echo "out of file descriptors: back off, don't spin"
(ulimit -n 24; exec "$PORTGATED" -d -f "$dir/pg.conf" 2>>"$dir/emfile.log") &
pid=$!
wait_for 5 ctl status
r=$(abuse hold 40 2 $pid); echo "    $r"
cpu=$(field cpu_s "$r")
awk "BEGIN { exit !($cpu < 0.5) }" && pass "daemon used ${cpu}s of CPU in 2 s while out of fds" || fail "spinning: $r"
nlog=$(grep -c 'accept' "$dir/emfile.log")
[ "$nlog" -le 3 ] && pass "accept failures logged $nlog times" || fail "accept failures logged $nlog times"
check "served again once descriptors are free" wait_for 3 ctl status
check "stop" stop
check_no_sanitizer "$dir/log" "$dir/emfile.log"
finish
