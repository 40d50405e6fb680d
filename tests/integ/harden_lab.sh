#!/bin/bash
# harden_lab.sh - the namespace lab as an attacker and a careless admin use it:
# forged trigger sources and floods, reloads and rule edits under traffic, a
# second instance, and someone editing portgate's nftables table.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat, python3 and network namespaces"
command -v python3 >/dev/null || skip "needs python3"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = game tcp:7000 open tcp:7100-7110 idle 30"
check "portgated starts" lab_start_daemon "$conf"
forge() { in_a python3 "$top_srcdir/tests/lab/forge.py" "$@"; }
stat_of() { pgctl status | sed -n "s/^$1 //p"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
listen $HA tcp 7105 from-A
listen $HA tcp 80 hello-tcp

echo "1. a forged source cannot point a trigger at another address"
forge $WAN_IP 7000 198.51.100.200 1 1 >/dev/null
sleep 0.5
check_out "no trigger entry after a SYN from 198.51.100.200" "source trigger 0" pgctl status
check_out "the rule stays idle" "[config] idle" pgctl trigger list
[ "$(stat_of trigger_notifications)" = 0 ] && pass "the kernel did not even report it (ip saddr @lan_nets)" ||
	fail "kernel reported a non-LAN source: $(stat_of trigger_notifications)"
[ -z "$(connect $WAN tcp $GW_WAN_IP 7105)" ] && pass "the WAN peer cannot use the gateway as a relay" || fail "7105 open"
echo "   a flood of rotating LAN sources"
n0=$(stat_of trigger_notifications)
t0=$(date +%s.%N)
sent=$(forge $WAN_IP 7000 192.0.2.2-192.0.2.254 20000 3)
t1=$(date +%s.%N)
sleep 1.2
n1=$(stat_of trigger_notifications)
secs=$(awk "BEGIN { print $t1 - $t0 + 1.2 }")
notes=$((n1 - n0))
max=$(awk "BEGIN { printf \"%d\", 100 * $secs + 50 + 20 }")
echo "   $sent forged SYNs from 253 sources in $(awk "BEGIN { print $t1 - $t0 }") s -> $notes notifications"
[ "$notes" -le "$max" ] && pass "notifications bounded globally ($notes <= $max)" || fail "$notes notifications (max $max)"
nlog=$(grep -c 'trigger game' "$LAB_DIR/daemon.log")
[ "$nlog" -le 25 ] && pass "trigger log lines bounded globally ($nlog)" || fail "$nlog trigger log lines"
check "daemon alive" kill -0 $PG_PID
pgctl flush --source trigger >/dev/null

echo "12. reloads and trigger rule edits do not interrupt existing forwards"
seq 30000 31999 | sed "s/.*/forward add udp & $A_IP/" | pgctl - >/dev/null
pgctl forward add tcp 8080 $A_IP:8080 >/dev/null
in_a python3 "$top_srcdir/tests/lab/acceptor.py" 8080 20 &
sleep 0.3
in_wan python3 "$top_srcdir/tests/lab/probe.py" $GW_WAN_IP 8080 6 2 > "$LAB_DIR/probe.out" &
probe=$!
sleep 0.5
for i in 1 2 3; do kill -HUP $PG_PID; sleep 0.4; done
pgctl trigger add irc tcp:6667 tcp:1024-1034 >/dev/null; sleep 0.4
pgctl trigger del irc >/dev/null; sleep 0.4
wait $probe
r=$(cat "$LAB_DIR/probe.out"); echo "   $r during 3 reloads, a trigger add and a trigger del"
[ "$(field failed "$r")" = 0 ] && [ "$(field attempts "$r")" -gt 100 ] && pass "no connection refused" || fail "$r"
check_out "reloads were applied" "reload: configuration applied" cat "$LAB_DIR/daemon.log"

echo "13. a second instance refuses to start and leaves the first alone"
pgctl forward add tcp 8081 $A_IP:80 >/dev/null
before=$(in_gw nft list table ip portgate | md5sum)
out=$(timeout 10 ip netns exec "$GW" "$PORTGATED" -d -f "$conf" 2>&1); rc=$?
[ $rc -ne 0 ] && pass "same config: exits non-zero" || fail "same config: exit $rc"
case "$out" in *"another portgated (pid $PG_PID) owns table ip portgate"*) pass "says which pid owns the table" ;;
	*) fail "message: $out" ;; esac
sed -e "s|^state_file = .*|state_file = $LAB_DIR/state2|" -e "s|^control_socket = .*|control_socket = $LAB_DIR/sock2|" \
	"$conf" > "$LAB_DIR/pg2.conf"
echo "nflog_group = 7340" >> "$LAB_DIR/pg2.conf"
out=$(timeout 10 ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/pg2.conf" 2>&1); rc=$?
case "$out" in *"another portgated (pid $PG_PID) owns table ip portgate"*) [ $rc -ne 0 ] && pass "other socket/state/nflog_group: refused too" || fail "rc $rc" ;;
	*) fail "message: $out" ;; esac
[ "$(in_gw nft list table ip portgate | md5sum)" = "$before" ] && pass "the first instance's table is untouched" || fail "table changed"
check_out "the first instance's forward still works" hello-tcp connect $WAN tcp $GW_WAN_IP 8081
sed -e "s|^nft_table = .*|nft_table = other|" -e "s|^control_socket = .*|control_socket = $LAB_DIR/sock3|" "$conf" > "$LAB_DIR/pg3.conf"
out=$(timeout 10 ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/pg3.conf" 2>&1)
case "$out" in *"another portgated (pid $PG_PID) uses state file $LAB_DIR/state"*) pass "the same state file is refused too" ;;
	*) fail "message: $out" ;; esac

echo "13b. an unprivileged local user cannot hold the table lock"
# the old lock was an abstract unix socket any user could bind first: squat
# that name as nobody, and try the lock file itself, then start an instance
squat=$LAB_DIR/squat.py
cat > "$squat" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0portgated/table ip squat")
s.listen(1)
print("bound", flush=True)
time.sleep(15)
PY
chmod 0755 "$LAB_DIR"; chmod 0644 "$squat"
ip netns exec "$GW" setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$squat" > "$LAB_DIR/squat.out" 2>&1 &
squatter=$!
wait_for 5 grep -q bound "$LAB_DIR/squat.out" && pass "nobody bound the old lock name" || fail "squatter: $(cat "$LAB_DIR/squat.out")"
lockdir=$(ls -d /run/portgate 2>/dev/null)
[ -n "$lockdir" ] && [ "$(stat -c %U:%a "$lockdir")" = root:755 ] && pass "the lock directory is root's, 0755" || fail "lock dir: $(stat -c %U:%a /run/portgate 2>&1)"
out=$(ip netns exec "$GW" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	flock -n /run/portgate/table-ip-squat.lock true 2>&1) && fail "nobody locked a file there" || pass "nobody cannot create a lock file there"
sed -e "s|^nft_table = .*|nft_table = squat|" -e "s|^state_file = .*|state_file = $LAB_DIR/state4|" \
	-e "s|^control_socket = .*|control_socket = $LAB_DIR/sock4|" "$conf" > "$LAB_DIR/pg4.conf"
echo "nflog_group = 7341" >> "$LAB_DIR/pg4.conf"
ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/pg4.conf" 2> "$LAB_DIR/pg4.log" &
pg4=$!
wait_for 5 "$PORTGATECTL" -s "$LAB_DIR/sock4" status && pass "portgated starts although nobody squats the old lock name" ||
	fail "did not start: $(cat "$LAB_DIR/pg4.log")"
kill $pg4 $squatter 2>/dev/null; wait $pg4 $squatter 2>/dev/null

echo "14. changes others make to portgate's table are repaired within a second"
pgctl forward del tcp 8080 >/dev/null
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
h=$(in_gw nft -a list chain ip portgate prerouting | sed -n 's/.*dnat_port # handle \([0-9]*\)/\1/p')
in_gw nft replace rule ip portgate prerouting handle "$h" counter accept
check "rule replaced: forwarding works again within 1 s" wait_for 1 sh -c "[ \"\$(echo hi | timeout 1 ip netns exec $WAN socat -T 0.5 - TCP:$GW_WAN_IP:8080,connect-timeout=0.5 2>/dev/null)\" = hello-tcp ]"
in_gw nft delete element ip portgate dnat_port "{ tcp . 8080 }"
check "element deleted: restored within 1 s" wait_for 1 sh -c "ip netns exec $GW nft list map ip portgate dnat_port | grep -q 'tcp . 8080 '"
check_out "... and it forwards" hello-tcp connect $WAN tcp $GW_WAN_IP 8080
in_gw nft flush map ip portgate dnat_port
check "map flushed: restored within 1 s" wait_for 1 sh -c "ip netns exec $GW nft list map ip portgate dnat_port | grep -q 'udp . 31999 '"
in_gw nft flush set ip portgate lan_nets
check "LAN set flushed: restored within 1 s" wait_for 1 sh -c "ip netns exec $GW nft list set ip portgate lan_nets | grep -q '192.0.2.0/24'"
in_gw nft add element ip portgate dnat_port "{ tcp . 9999 : 192.0.2.99 . 80 }"
check "a foreign element is removed within 1 s" wait_for 1 sh -c "! ip netns exec $GW nft list map ip portgate dnat_port | grep -q 'tcp . 9999 '"
check_out "repairs are logged" "was changed by someone else; repairing" cat "$LAB_DIR/daemon.log"
check "the lab's own table is not touched" in_gw nft list table ip lab

lab_stop_daemon
if in_gw nft list table ip portgate >/dev/null 2>&1; then fail "table removed at shutdown"; else pass "table removed at shutdown"; fi
finish
