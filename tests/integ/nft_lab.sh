#!/bin/bash
# nft_lab.sh - firewall = nftables in the namespace lab, with real traffic.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf"
check "portgated starts in the gateway" lab_start_daemon "$conf"
check_out "nft prints the LAN interface set by name (byte-order metadata)" '"br-lan"' in_gw nft list set ip portgate lan_ifs

echo "static forwards"
[ -z "$(connect $WAN tcp $GW_WAN_IP 8080)" ] && pass "no forward: WAN cannot reach 8080" || fail "no forward: WAN reached 8080"
listen $HA tcp 80 hello-tcp
listen $HA udp 80 hello-udp
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
pgctl forward add udp 8080 $A_IP:80 >/dev/null
check_out "tcp 8080 -> A:80 reaches the LAN host" hello-tcp connect $WAN tcp $GW_WAN_IP 8080
check_out "udp 8080 -> A:80 reaches the LAN host" hello-udp connect $WAN udp $GW_WAN_IP 8080
pgctl forward add tcp 7100-7105 $B_IP >/dev/null
for p in 7100 7101 7102 7103 7104 7105; do listen $HB tcp $p "range-$p"; done
ok=1
for p in 7100 7101 7102 7103 7104 7105; do
	[ "$(connect $WAN tcp $GW_WAN_IP $p)" = "range-$p" ] || { ok=0; echo "    port $p failed"; }
done
[ $ok = 1 ] && pass "range forward works for every port in 7100-7105" || fail "range forward"
check_out "the kernel map holds the range as one interval" "tcp . 7100-7105 : 192.0.2.11" in_gw nft list map ip portgate dnat_range
pgctl forward del tcp 8080 >/dev/null
[ -z "$(connect $WAN tcp $GW_WAN_IP 8080)" ] && pass "after delete: new connections fail" || fail "after delete: still reachable"
check_out "udp still forwarded after the tcp delete" hello-udp connect $WAN udp $GW_WAN_IP 8080

echo "lease end closes the port"
pgctl forward add tcp 8081 $A_IP:80 --lease 2 >/dev/null
check_out "leased forward works" hello-tcp connect $WAN tcp $GW_WAN_IP 8081
check_out "the element carries the lease as a kernel timeout" "timeout 2s" in_gw nft list map ip portgate dnat_port
sleep 2.5
[ -z "$(connect $WAN tcp $GW_WAN_IP 8081)" ] && pass "after the lease: new connections fail" || fail "after the lease: still reachable"

echo "a renewal re-times the kernel element"
mode=$(grep -o 'lease renewals [-a-z ()]*' "$LAB_DIR/daemon.log" | head -1)
[ -n "$mode" ] && pass "the daemon says how renewals reach the kernel: $mode" || fail "no renewal mode logged"
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$kv" -ge 6010 ]; then
	check_out "on Linux 6.10+ (this $(uname -r)) renewals re-time elements in place" "re-time kernel elements in place" echo "$mode"
fi
if in_gw nft list map ip portgate dnat_port | grep -Eq '(^|[ {,])0 \. 0 '; then
	fail "the probe element is left in dnat_port"
else
	pass "the probe element is gone from dnat_port"
fi
pgctl forward add tcp 8083 $A_IP:80 --lease 60 >/dev/null
check_out "a 60 s lease is a 1m timeout" "tcp . 8083 timeout 1m" in_gw nft list map ip portgate dnat_port
in_gw timeout 3 nft monitor > "$LAB_DIR/renew.mon" 2>&1 & mon=$!
sleep 0.5
echo "forward add tcp 8083 $A_IP:80 --lease 300" | pgctl - >/dev/null
wait $mon
check_out "renewed to 300 s: the same element, a 5m timeout" "tcp . 8083 timeout 5m" in_gw nft list map ip portgate dnat_port
own=$(in_gw nft list set ip portgate inb_own | grep -o '192.0.2.10 . tcp . 80 . 8083 [^,}]*')
case $own in
*" timeout 5m "*) pass "the owner element too ($own)" ;;
*) fail "the owner element too: '$own'" ;;
esac
check_out "the renewed forward carries traffic" hello-tcp connect $WAN tcp $GW_WAN_IP 8083
if [ "$kv" -ge 6010 ]; then
	if grep -q 'delete element.*8083' "$LAB_DIR/renew.mon"; then
		fail "in place: the renewal deleted the element (nft monitor)"
	else
		check_out "in place: nft monitor saw the renewal as an add, no delete" "add element ip portgate dnat_port { tcp . 8083" cat "$LAB_DIR/renew.mon"
	fi
fi
if [ "$kv" -ge 6010 ]; then
	before=$(in_gw nft list set ip portgate inb_own | grep -o '8083 counter packets [0-9]*' | awk '{ print $4 }')
	echo "forward add tcp 8083 $A_IP:80 --lease 600" | pgctl - >/dev/null
	after=$(in_gw nft list set ip portgate inb_own | grep -o '8083 counter packets [0-9]*' | awk '{ print $4 }')
	[ "${before:-0}" -gt 0 ] && [ "$after" = "$before" ] &&
		pass "in place: the mapping's packet count survives a renewal ($before)" ||
		fail "in place: packets $before before the renewal, $after after"
fi
pgctl forward del tcp 8083 >/dev/null

echo "nft flush ruleset"
pgctl forward add tcp 8082 $A_IP:80 >/dev/null
in_gw nft flush ruleset
in_gw nft add table ip lab
in_gw nft add chain ip lab post '{ type nat hook postrouting priority srcnat; }'
in_gw nft add rule ip lab post oifname wan0 masquerade
sleep 2
check_out "within 2 s of a flush the forward works again" hello-tcp connect $WAN tcp $GW_WAN_IP 8082
check_out "the repair is logged" "was changed by someone else; repairing" cat "$LAB_DIR/daemon.log"

echo "rules do not grow with mappings"
rules1=$(in_gw nft -a list table ip portgate | grep -c '# handle' )
seq 20000 20999 | sed "s/.*/forward add udp & $A_IP/" | pgctl - >/dev/null
check_out "1,000 more mappings added" "mappings 100" pgctl status
rules2=$(in_gw nft -a list table ip portgate | grep -c '# handle')
[ "$rules1" -gt 0 ] && [ "$rules1" = "$rules2" ] && pass "rule count with 1,000+ mappings equals with few ($rules1)" || fail "rules $rules1 vs $rules2"
pgctl flush --source static >/dev/null

echo "kernel refusal"
in_gw nft add element ip portgate dnat_port "{ tcp . 8090 : 192.0.2.99 . 80 }"
printf 'forward add tcp 8089 %s:80\nforward add tcp 8090 %s:80\nforward add tcp 8091 %s:80\n' $A_IP $A_IP $A_IP | pgctl - > "$LAB_DIR/refuse.out"
check_out "the refused request gets the kernel's error" "error: firewall refused tcp 8090: File exists" cat "$LAB_DIR/refuse.out"
check_out "the batch's other changes land (8089)" hello-tcp connect $WAN tcp $GW_WAN_IP 8089
check_out "the batch's other changes land (8091)" hello-tcp connect $WAN tcp $GW_WAN_IP 8091
if pgctl list | grep -q " 8090 "; then fail "table does not hold the refused mapping"; else pass "table does not hold the refused mapping"; fi

echo "beside an admin's drop-policy forward chain"
in_gw nft add table inet filter
in_gw nft add chain inet filter forward '{ type filter hook forward priority filter; policy drop; }'
in_gw nft add rule inet filter forward ct state established,related accept
in_gw nft add rule inet filter forward iifname br-lan accept
[ -z "$(connect $WAN tcp $GW_WAN_IP 8089)" ] && pass "without the README rule the admin's drop policy wins" || fail "drop policy not in effect"
in_gw nft add rule inet filter forward ct status dnat accept
check_out "with 'ct status dnat accept' forwards pass again" hello-tcp connect $WAN tcp $GW_WAN_IP 8089

echo "kill -9 with a 5-second lease"
pgctl forward add tcp 8095 $A_IP:80 --lease 5 >/dev/null
pgctl forward add tcp 8096 $A_IP:80 --lease 300 >/dev/null
sleep 0.5
kill -9 $PG_PID; wait $PG_PID 2>/dev/null; PG_PID=
check_out "after kill -9 the port still works" hello-tcp connect $WAN tcp $GW_WAN_IP 8095
sleep 5
if in_gw nft list map ip portgate dnat_port | grep -q "8095"; then fail "element gone by the lease's end"; else pass "element gone from the kernel by the lease's end"; fi
[ -z "$(connect $WAN tcp $GW_WAN_IP 8095)" ] && pass "port closed without the daemon" || fail "port still open"
check "restart" lab_start_daemon "$conf"
check_out "unexpired mapping restored" "8096" pgctl list
check_out "and works" hello-tcp connect $WAN tcp $GW_WAN_IP 8096
if pgctl list | grep -q " 8095 "; then fail "expired mapping not restored"; else pass "expired mapping not restored"; fi

echo "clean shutdown removes the table"
lab_stop_daemon
if in_gw nft list table ip portgate >/dev/null 2>&1; then fail "table removed"; else pass "table removed at shutdown"; fi
finish
