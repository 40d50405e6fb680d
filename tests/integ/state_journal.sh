#!/bin/bash
# state_journal.sh - the real portgated (firewall = none) killed with SIGKILL
# right after portgatectl's answer: what it answered for is what comes back.
# Adds, renewals and deletes survive kill -9; the state file grows by a
# change's record, not by the table; a record cut short is ignored.
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d /tmp/portgate-journal.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

cat > "$dir/pg.conf" <<CONF
firewall = none
state_file = $dir/state
control_socket = $dir/sock
max_lease = 86400
CONF
ctl() { "$PORTGATECTL" -s "$dir/sock" "$@"; }
start() {
	"$PORTGATED" -d -f "$dir/pg.conf" 2>>"$dir/log" &
	pid=$!
	wait_for 5 ctl status
}
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }
# SIGKILL: no shutdown save, no flush; what the file holds is what was written
crash() { kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=; }
size() { stat -c %s "$dir/state"; }
listed() { ctl list | grep -q " $1 "; }
# expires_in of the mapping on tcp PORT (empty if none)
expires() {
	ctl list --json | python3 -c "import json, sys
for r in json.load(sys.stdin):
    if r['proto'] == 'tcp' and r['external_port'] == $1: print(r['expires_in'])"
}

echo "start"
check "daemon starts" start

echo "adds survive kill -9 right after the answer"
ctl forward add tcp 9200 192.0.2.10:80 --desc "kept" >/dev/null
ctl forward add tcp 9201 192.0.2.10:22 --lease 300 >/dev/null
crash
check "daemon restarts after kill -9" start
check "the forward added just before is back" listed 9200
e=$(expires 9201)
[ -n "$e" ] && [ "$e" -ge 290 ] && [ "$e" -le 300 ] && pass "the leased one too, its lease running ($e s)" ||
	fail "leased forward after kill -9: expires_in '$e'"

# each case below starts from a clean stop: what it changes is in the snapshot before
ctl forward add tcp 9200 192.0.2.10:80 --desc "kept" >/dev/null
ctl forward add tcp 9201 192.0.2.10:22 --lease 300 >/dev/null
stop
start

echo "a renewal survives kill -9"
e=$(expires 9201)
[ -n "$e" ] && [ "$e" -le 300 ] && pass "before: $e s left" || fail "before the renewal: '$e'"
ctl forward add tcp 9201 192.0.2.10:22 --lease 5000 >/dev/null
crash
start
e=$(expires 9201)
[ -n "$e" ] && [ "$e" -ge 4990 ] && pass "the renewed lease is back ($e s)" ||
	fail "renewed lease after kill -9: expires_in '$e' (not 5000)"

echo "a delete survives kill -9: the mapping stays deleted"
stop
start
check "before: the mapping is there" listed 9200
check_out "forward del" "deleted tcp 9200" ctl forward del tcp 9200
crash
start
if listed 9200; then fail "deleted mapping stays deleted after kill -9"; else pass "deleted mapping stays deleted after kill -9"; fi
check "the other mapping is still there" listed 9201
bad=0
for i in 1 2 3 4 5; do
	ctl forward add tcp $((9300 + i)) 192.0.2.11 >/dev/null
	ctl forward del tcp $((9300 + i - 1)) >/dev/null 2>&1
	crash
	start || bad=1
	listed $((9300 + i)) || bad=1
	! listed $((9300 + i - 1)) || bad=1
done
[ $bad = 0 ] && pass "five rounds of add, delete, kill -9: each answer held" || fail "add/delete/kill -9 rounds"
check_not "no damaged-file copy for any of it" sh -c "ls '$dir' | grep -q corrupt"

echo "bytes written per change do not grow with the table"
# ten renewals of tcp 9201, each its own portgatectl call: the bytes the daemon wrote
# (wchar: every write(2), the answers on the control socket included)
renewals() {
	local w0 i
	w0=$(sed -n 's/^wchar: //p' "/proc/$pid/io")
	for i in $(seq 1 10); do ctl forward add tcp 9201 192.0.2.10:22 --lease $((4000 + i)) >/dev/null; done
	sleep 0.5	# past any save that waits
	echo $(( $(sed -n 's/^wchar: //p' "/proc/$pid/io") - w0 ))
}
small=$(renewals)
for i in $(seq 20000 21999); do echo "forward add tcp $i 192.0.2.$((i % 200 + 20)):$i --desc bulk"; done > "$dir/bulk"
ctl - < "$dir/bulk" > /dev/null
stop	# a clean stop saves in full: the journal starts empty
start
s0=$(size)
big=$(renewals)
echo "  (10 renewals: the daemon wrote $small bytes with 2 mappings, $big with 2,002; the snapshot is $s0 bytes)"
[ "$big" -le $((small + small / 10)) ] && [ "$big" -lt $((s0 / 10)) ] &&
	pass "renewals cost the same at 2 and 2,002 mappings, far below one rewrite" ||
	fail "10 renewals wrote $small bytes at 2 mappings, $big at 2,002 (snapshot $s0)"
jb() { ctl status | sed -n 's/.*state_journal_bytes //p'; }
j=$(jb)
[ -n "$j" ] && [ "$j" -ge 300 ] && [ "$j" -le 600 ] && pass "the journal holds them: $j bytes" ||
	fail "journal after 10 renewals: '$j' bytes"
s1=$(size)
ctl forward add tcp 20000 192.0.2.20:20000 --desc bulk --lease 600 >/dev/null	# a renewal
ctl forward del tcp 20001 >/dev/null
grown=$(( $(size) - s1 ))
[ "$grown" -gt 0 ] && [ "$grown" -lt 200 ] && pass "a renewal and a delete add $grown bytes to the file" ||
	fail "a renewal and a delete grew the file by $grown bytes (snapshot $s0)"

echo "compaction: the journal is folded into a new snapshot once it outgrows it"
for i in $(seq 1 6000); do echo "forward add tcp 20002 192.0.2.22:20002 --desc bulk --lease $((1000 + i % 7))"; done > "$dir/renew"
ctl - < "$dir/renew" > /dev/null
sleep 0.5
j=$(jb)
s2=$(size)
echo "  (6,000 renewals: file $s2 bytes, journal $j bytes)"
[ -n "$j" ] && [ "$j" -lt "$s0" ] && [ "$s2" -lt $((2 * s0 + 1000)) ] && pass "the file stayed under twice the snapshot" ||
	fail "after 6,000 renewals: file $s2 bytes, journal '$j' (snapshot $s0)"
crash
start
e=$(expires 20002)
[ -n "$e" ] && [ "$e" -ge 990 ] && pass "the last renewal is back after kill -9 ($e s)" || fail "after compaction and kill -9: '$e'"
check_out "... and the rest of the table" "mappings 2001" ctl status

echo "a record cut short by a crash is ignored, not a damaged file"
crash
printf 'j 1234abcd del map tcp 9201' >> "$dir/state"	# no newline: a write cut short
start
check "mapping named by the cut record is still there" listed 9201
check_out "the cut record is logged" "the last journal record is cut short" cat "$dir/log"
check_not "no damaged-file copy for it" sh -c "ls '$dir' | grep -q corrupt"

echo "a journal line that fails its check is skipped, the file kept aside"
crash
printf 'j 00000000 del map tcp 9201\n' >> "$dir/state"
start
check "mapping named by the damaged record is still there" listed 9201
check_out "the damaged record is named by file and line" "journal line fails its check (damaged); record skipped" cat "$dir/log"
check "the damaged file is kept aside" sh -c "ls '$dir' | grep -q '^state.corrupt.'"

check "clean stop" stop
check_no_sanitizer "$dir/log"
finish
