#!/bin/bash
# ctl_basic.sh - the real portgated (firewall = none) driven by portgatectl.
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d /tmp/portgate-ctl.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

cat > "$dir/pg.conf" <<CONF
firewall = none
state_file = $dir/state
control_socket = $dir/sock
max_lease = 3600
CONF
ctl() { "$PORTGATECTL" -s "$dir/sock" "$@"; }
start() {
	"$PORTGATED" -d -f "$dir/pg.conf" 2>>"$dir/log" &
	pid=$!
	wait_for 5 test -S "$dir/sock" && wait_for 5 ctl status
}
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }

echo "config check (-t)"
check_out "-t accepts a good config" "configuration OK" "$PORTGATED" -t -f "$dir/pg.conf"
printf 'firewall = none\nmax_lease = soon\n' > "$dir/bad.conf"
check_out "-t names file and line" "$dir/bad.conf:2: max_lease: 'soon' is not a number" \
	"$PORTGATED" -t -f "$dir/bad.conf"
check_not "-t exits 1 on errors" "$PORTGATED" -t -f "$dir/bad.conf"
check_out "the shipped example config is valid" "configuration OK" "$PORTGATED" -t -f "$top_srcdir/contrib/portgated.conf.example"

echo "start"
check "daemon starts and answers" start
check "control socket is mode 0600" test "$(stat -c %a "$dir/sock")" = 600

echo "add and list"
check_out "forward add" "tcp 8080 -> 192.0.2.10:80" ctl forward add tcp 8080 192.0.2.10:80 --desc "web server"
check_out "range forward add" "udp 7000-7010 -> 192.0.2.11:7000-7010" ctl forward add udp 7000-7010 192.0.2.11
check_out "conflict names the holder" "tcp 8080 is held by 192.0.2.10 (static)" ctl forward add tcp 8080 192.0.2.12
check_not "conflict exits non-zero" ctl forward add tcp 8080 192.0.2.12
check_out "list shows the forward" "192.0.2.10:80" ctl list
check_out "list shows the description" "web server" ctl list
json=$(ctl list --json)
if python3 - "$json" <<'PY'
import json, sys
rows = json.loads(sys.argv[1])
keys = {"proto", "external_port", "external_port_end", "internal_ip", "internal_port", "source", "description", "expires_in"}
assert all(keys <= set(r) for r in rows), rows
web = [r for r in rows if r["external_port"] == 8080][0]
assert web == {**web, "proto": "tcp", "internal_ip": "192.0.2.10", "internal_port": 80,
               "source": "static", "description": "web server", "expires_in": None}, web
rng = [r for r in rows if r["external_port"] == 7000][0]
assert rng["external_port_end"] == 7010 and rng["proto"] == "udp", rng
PY
then pass "list --json parses with the documented keys"; else fail "list --json"; fi

echo "lease expiry"
ctl forward add tcp 9000 192.0.2.10 --lease 2 >/dev/null
check_out "leased mapping listed" '"expires_in":2' ctl list --json
sleep 1
check_out "still there after 1 s" "9000" ctl list
sleep 1.6
if ctl list | grep -q " 9000 "; then fail "expired after 2 s"; else pass "expired after 2 s"; fi

echo "delete"
check_out "forward del" "deleted udp 7000" ctl forward del udp 7000
if ctl list | grep -q "7000-7010"; then fail "deleted mapping gone"; else pass "deleted mapping gone"; fi
check_out "deleting twice is an error" "no mapping for udp 7000" ctl forward del udp 7000

echo "restart keeps mappings"
ctl forward add tcp 9100 192.0.2.13:22 --lease 300 >/dev/null
check "clean shutdown on SIGTERM" stop
check_out "state file written" "map tcp 9100" cat "$dir/state"
check "daemon restarts" start
check_out "static forward restored" "192.0.2.10:80" ctl list
check "leased forward restored with its lease running" sh -c "'$PORTGATECTL' -s '$dir/sock' list --json | grep -Eq '\"internal_port\":22,.*\"expires_in\":(2[89][0-9]|300),'"

echo "corrupt state file"
stop
echo "garbage" > "$dir/state"
check "daemon starts despite a corrupt state file" start
check "corrupt file kept aside with a timestamp" sh -c "ls '$dir' | grep -q '^state.corrupt.20[0-9]*T[0-9]*$'"
check_out "corrupt file reported" "is damaged (not a portgate state file" cat "$dir/log"
echo "one bad record costs only that record"
stop
printf 'portgate-state 1\nmap tcp 8080 8080 192.0.2.10 80 static 0 * web %%-\nmap tcp 8081 8081 192.0.2.999 80 static 0 * bad %%-\nmap udp 9000 9000 192.0.2.11 9000 static 0 * c %%-\nend 3\n' > "$dir/state"
sleep 1.1	# a second damaged file in another second: both copies are kept
check "daemon starts" start
check_out "the bad record is named by file and line" "$dir/state:3: bad internal address '192.0.2.999'; record skipped" cat "$dir/log"
check_out "the records around it are restored" "192.0.2.11:9000" ctl list
check_out "... all of them" "192.0.2.10:80" ctl list
check "both damaged files are kept" test "$(ls "$dir" | grep -c '^state.corrupt.')" = 2
ctl forward del udp 9000 >/dev/null
ctl forward add tcp 8080 192.0.2.10:80 --desc "web server" >/dev/null

echo "SIGHUP with a broken config keeps the old one"
cp "$dir/pg.conf" "$dir/pg.conf.good"
printf 'deny 1-65535 0.0.0.0/0 1-65535\nbogus_key = 1\n' >> "$dir/pg.conf"
kill -HUP "$pid"
sleep 0.5
check "daemon survives a bad reload" kill -0 "$pid"
check_out "reload error names file and line" "$dir/pg.conf:6: unknown keyword 'bogus_key'" cat "$dir/log"
check_out "reload error says the old config stays" "keeping the running configuration" cat "$dir/log"
check_out "mappings untouched" "192.0.2.10:80" ctl list
cp "$dir/pg.conf.good" "$dir/pg.conf"
kill -HUP "$pid"
sleep 0.5
check_out "a good reload is applied" "reload: configuration applied" cat "$dir/log"

echo "bulk: 10,000 forwards through portgatectl -"
for i in $(seq 20000 29999); do echo "forward add tcp $i 192.0.2.$((i % 200 + 20)):$i --desc bulk"; done > "$dir/bulk"
t0=$(date +%s.%N)
ctl - < "$dir/bulk" > "$dir/bulk.out"
rc=$?
t1=$(date +%s.%N)
check "bulk load exits 0" test $rc -eq 0
check "one result line per command" test "$(wc -l < "$dir/bulk.out")" -eq 10000
check "every line ok" test "$(grep -c '^ok: ' "$dir/bulk.out")" -eq 10000
check_out "status counts them" "mappings 10001" ctl status
echo "  (10,000 forwards in $(echo "$t1 - $t0" | bc 2>/dev/null || python3 -c "print(round($t1-$t0,2))") s)"
printf 'forward add tcp 20000 192.0.2.99\nlist --json\n' | ctl - > "$dir/mixed.out"
check_out "bulk errors are reported per line" "error: tcp 20000 is held by" cat "$dir/mixed.out"
check_not "bulk with an error exits non-zero" sh -c "echo 'forward add tcp 20000 192.0.2.99' | '$PORTGATECTL' -s '$dir/sock' -"
check_out "flush" "flushed 10001 mappings" ctl flush
check "stop" stop
check_no_sanitizer "$dir/log"
finish
