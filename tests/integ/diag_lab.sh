#!/bin/bash
# diag_lab.sh - portgatectl check in the namespace lab: the verdict for a working forward
# (the WAN peer connects during the check, so the counter moves), no mapping, a mapping whose
# LAN host does not listen, and a gateway whose WAN address is in 100.64.0.0/10; and the
# firewall's element query (tests/lab/fw_query) counting real WAN traffic.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
FWQ="$top_builddir/tests/lab/fw_query"
[ -x "$FWQ" ] || skip "tests/lab/fw_query not built"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf"
check "portgated starts in the gateway" lab_start_daemon "$conf"
fwq() { in_gw "$FWQ" portgate wan0 "$@"; }

echo "a working forward"
listen $HA tcp 80 hello-tcp
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
# the check watches the counter for 2 s; the WAN peer connects meanwhile
pgctl check tcp 8080 > "$LAB_DIR/check1.out" 2>&1 &
chk=$!
sleep 0.5
check_out "the WAN peer reaches the forward during the check" hello-tcp connect $WAN tcp $GW_WAN_IP 8080
wait $chk; rc=$?
[ $rc = 0 ] && pass "check exits 0 for a reachable port" || fail "check exited $rc"
check_out "verdict: reachable" "verdict: reachable" cat "$LAB_DIR/check1.out"
check_out "the entry is named" "entry    ok    tcp 8080 is held by $A_IP:80 (static, permanent)" cat "$LAB_DIR/check1.out"
check_out "the kernel holds its elements" "kernel   ok    the kernel holds its 2 elements (no timeout: permanent)" cat "$LAB_DIR/check1.out"
check_out "the counter moved during the check" "came in from the WAN during the 2.0 s check" cat "$LAB_DIR/check1.out"
check_out "the host accepts the gateway's connect" "host     ok    $A_IP accepts TCP connections on port 80" cat "$LAB_DIR/check1.out"
check_out "hairpin is said" "hairpin  ok    LAN hosts can use $GW_WAN_IP:8080 too" cat "$LAB_DIR/check1.out"
check_out "a documentation WAN address is a warning, not a reason" "address  warn  the external address $GW_WAN_IP is a documentation address" cat "$LAB_DIR/check1.out"
pgctl check tcp 8080 --json --wait 1 > "$LAB_DIR/check1.json"
check "check --json is one JSON object" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['verdict']=='reachable' and d['reachable'] is True and d['kernel']['found']==2 and d['kernel']['packets_after']>0" "$LAB_DIR/check1.json"

echo "no mapping"
pgctl check tcp 8090 --wait 1 > "$LAB_DIR/check2.out" 2>&1; rc=$?
[ $rc = 1 ] && pass "check exits 1 for an unreachable port" || fail "check exited $rc"
check_out "verdict: no mapping" "verdict: not reachable: no mapping" cat "$LAB_DIR/check2.out"
check_out "the closest mapping is named" "nearby: tcp 8080 -> $A_IP:80 (static)" cat "$LAB_DIR/check2.out"
check_out "the other protocol is named" "the other protocol: tcp 8080 -> $A_IP:80 (static)" pgctl check udp 8080 --wait 1

echo "a mapping whose LAN host does not listen"
pgctl forward add tcp 8081 $A_IP:81 >/dev/null
pgctl check tcp 8081 --wait 1 > "$LAB_DIR/check3.out" 2>&1
check_out "verdict: host does not listen" "verdict: not reachable: host does not listen" cat "$LAB_DIR/check3.out"
check_out "the refusal is said" "host     fail  $A_IP refuses TCP connections on port 81: nothing listens there" cat "$LAB_DIR/check3.out"
check_out "no packet came: a warning" "traffic  warn  no packet from the WAN has reached it" cat "$LAB_DIR/check3.out"

echo "the element query over real nftables"
listen $HB tcp 7102 range-7102
pgctl forward add tcp 7100-7105 $B_IP >/dev/null
q1=$(fwq tcp:8080:$A_IP:80 tcp:7100-7105:$B_IP tcp:8081:$A_IP:81 tcp:8099:$A_IP:80)
echo "$q1" | sed 's/^/    /'
p8080=$(echo "$q1" | sed -n 's/^tcp 8080 .*pkts=\([0-9]*\) .*/\1/p')
[ -n "$p8080" ] && [ "$p8080" -gt 0 ] && pass "8080's counter holds the check's traffic ($p8080 packets)" || fail "8080's counter: '$p8080'"
check_out "8081: in the kernel, counted, nothing yet" "tcp 8081 elems=2 found=2 timeout=0 left=0 counted=1 pkts=0 bytes=0" echo "$q1"
check_out "the range: in the kernel, nothing yet" "tcp 7100 elems=2 found=2 timeout=0 left=0 counted=1 pkts=0 bytes=0" echo "$q1"
check_out "a port nobody mapped: none of its elements" "tcp 8099 elems=2 found=0" echo "$q1"
for i in 1 2 3; do connect $WAN tcp $GW_WAN_IP 8080 >/dev/null; done
check_out "the range's port reaches B" range-7102 connect $WAN tcp $GW_WAN_IP 7102
q2=$(fwq tcp:8080:$A_IP:80 tcp:7100-7105:$B_IP tcp:8081:$A_IP:81)
echo "$q2" | sed 's/^/    /'
n8080=$(echo "$q2" | sed -n 's/^tcp 8080 .*pkts=\([0-9]*\) .*/\1/p')
n7100=$(echo "$q2" | sed -n 's/^tcp 7100 .*pkts=\([0-9]*\) .*/\1/p')
[ -n "$n8080" ] && [ "$n8080" -ge $((p8080 + 3)) ] && pass "three WAN connects later 8080 counts more ($p8080 -> $n8080)" || fail "8080: $p8080 -> '$n8080'"
[ -n "$n7100" ] && [ "$n7100" -gt 0 ] && pass "the range counts its WAN traffic ($n7100 packets)" || fail "range: '$n7100'"
check_out "8081 still counts nothing (its neighbour's traffic is not its own)" "tcp 8081 elems=2 found=2 timeout=0 left=0 counted=1 pkts=0" echo "$q2"
d2=$(fwq --dump tcp:8080:$A_IP:80 tcp:7100-7105:$B_IP tcp:8081:$A_IP:81)
[ -n "$d2" ] && [ "$d2" = "$q2" ] && pass "many elements to a request give what the element reads give" || { fail "dump differs"; echo "$d2" | sed 's/^/    /'; }
# what it counts is what the mapping lets in: flows the WAN starts, not the answers to the
# mapped host's own flows (those reach it without any mapping)
pgctl forward add udp 5555 $A_IP:5555 >/dev/null
listen $WAN udp 7000 wan-answer
out=$(echo hi | timeout 3 ip netns exec $HA socat -T 1 - UDP:$WAN_IP:7000,sourceport=5555 2>/dev/null)
[ "$out" = wan-answer ] && pass "A's own flow from its mapped port gets the WAN's answer" || fail "A's flow: '$out'"
check_out "the answer to A's own flow is not counted" "udp 5555 elems=2 found=2 timeout=0 left=0 counted=1 pkts=0 " fwq udp:5555:$A_IP:5555
listen $HA udp 5555 hello-udp
check_out "a WAN peer reaches udp 5555" hello-udp connect $WAN udp $GW_WAN_IP 5555
q3=$(fwq udp:5555:$A_IP:5555)
n5555=$(echo "$q3" | sed -n 's/^udp 5555 .*pkts=\([0-9]*\) .*/\1/p')
[ -n "$n5555" ] && [ "$n5555" -gt 0 ] && pass "the flow the WAN started is counted ($n5555 packets)" || fail "udp 5555: '$q3'"
check_out "UDP: the host is a LAN neighbour" "host     ok    $A_IP is on the LAN (neighbour entry" pgctl check udp 5555 --wait 1
# a host that is not there: the gateway resolves it during the check, on the LAN, and no one answers
pgctl forward add udp 5556 192.0.2.99 >/dev/null
pgctl check udp 5556 > "$LAB_DIR/check5.out" 2>&1
check_out "UDP: a host that does not answer ARP" "host     fail  192.0.2.99 does not answer ARP (neighbour entry" cat "$LAB_DIR/check5.out"
check_out "UDP: verdict: host does not answer" "verdict: not reachable: host does not answer" cat "$LAB_DIR/check5.out"
pgctl forward add tcp 8082 $A_IP:80 --lease 300 >/dev/null
q4=$(fwq tcp:8082:$A_IP:80)
t=$(echo "$q4" | sed -n 's/.* timeout=\([0-9]*\) left=\([0-9]*\) .*/\1 \2/p')
set -- $t
[ "${1:-0}" -ge 299000 ] && [ "${1:-0}" -le 300000 ] && [ "${2:-0}" -gt 290000 ] && [ "${2:-0}" -le "${1:-0}" ] && pass "a leased element's timeout and time left ($1 ms, $2 ms)" || fail "timeout/left: '$t'"
check_out "check says the timeout" "kernel   ok    the kernel holds its 2 elements (timeout 300 s, " pgctl check tcp 8082 --wait 1

check_not "reading elements is no change to repair" grep -q "changed by someone else" "$LAB_DIR/daemon.log"

echo "a gateway behind another NAT (100.64.0.0/10)"
lab_stop_daemon
# on the WAN link, with no peer: nothing is sent to that range
in_gw ip addr add 100.64.0.1/24 dev wan0
lab_conf "$conf" "external_ip = 100.64.0.1"
check "portgated starts with external_ip = 100.64.0.1" lab_start_daemon "$conf"
in_gw nft add table ip labcount
in_gw nft add chain ip labcount out '{ type filter hook output priority 0; }'
in_gw nft add rule ip labcount out ip daddr 100.64.0.0/10 counter
in_gw nft add chain ip labcount fwdc '{ type filter hook forward priority 0; }'
in_gw nft add rule ip labcount fwdc ip daddr 100.64.0.0/10 counter
pgctl forward add tcp 8080 $A_IP:80 >/dev/null 2>&1
pgctl check tcp 8080 --wait 1 > "$LAB_DIR/check4.out" 2>&1; rc=$?
[ $rc = 1 ] && pass "check exits 1 behind another NAT" || fail "check exited $rc"
check_out "verdict: behind another NAT" "verdict: not reachable from the internet: gateway is behind another NAT (100.64.0.0/10)" cat "$LAB_DIR/check4.out"
check_out "said plainly" "the internet cannot reach this port through this gateway alone" cat "$LAB_DIR/check4.out"
check_out "the forward itself is fine" "host     ok    $A_IP accepts TCP connections on port 80" cat "$LAB_DIR/check4.out"
check_out "the JSON says shared" '"address_class":"shared"' pgctl check tcp 8080 --json --wait 1
[ "$(in_gw nft list table ip labcount | grep -c 'counter packets 0 bytes 0')" = 2 ] && pass "nothing was sent to 100.64.0.0/10" || { fail "traffic to 100.64.0.0/10"; in_gw nft list table ip labcount; }

lab_stop_daemon
finish
