#!/bin/bash
# spoof_lab.sh - LAN host B forges host A's source address (raw UDP): NAT-PMP, PCP and
# trigger packets are honoured only from the MAC the gateway's neighbour table gives
# for their source address.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v natpmpc >/dev/null && command -v python3 >/dev/null || skip "needs natpmpc and python3"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = game tcp:7000 open tcp:7100-7110 idle 30"
check "portgated starts" lab_start_daemon "$conf"
forge() { in_b python3 "$top_srcdir/tests/lab/forge_udp.py" "$@" >/dev/null; }
pcp() { in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP "$@"; }
# a PCP MAP request (RFC 6887): version 2, opcode 1, lifetime, client address; nonce,
# protocol, internal port, suggested external port and address
map_hex() { # CLIENT-IP PROTO INTPORT EXTPORT NONCE-HEX
	python3 - "$@" <<'PY'
import socket, struct, sys
ip, proto, iport, eport, nonce = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
a = b"\0" * 10 + b"\xff\xff" + socket.inet_aton(ip)
print((struct.pack("!BBHI", 2, 1, 0, 3600) + a + bytes.fromhex(nonce) +
       struct.pack("!B3xHH", proto, iport, eport) + b"\0" * 16).hex())
PY
}
listen $HA tcp 22 ssh-on-A
listen $HA tcp 7105 trig-A

echo "3. forged LAN sources are not honoured"
check_out "the kernel knows A by its MAC" "$A_IP . " in_gw nft list set ip portgate lan_hosts
n=$(pgctl status | sed -n 's/^lan_hosts //p')
[ "${n:-0}" -ge 1 ] 2>/dev/null && pass "portgatectl status counts the pairs it knows (lan_hosts $n)" ||
	fail "status: lan_hosts '$n'"
check_out "A maps 9001 with natpmpc" "Mapped public port 9001" in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9001 8001 tcp 600
check_out "A maps 9002 with natpmpc" "Mapped public port 9002" in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9002 8002 udp 600
# NAT-PMP "delete all TCP mappings" (opcode 2, ports 0, lifetime 0), 12 bytes, as A
forge $A_IP 40000 $GW_LAN_IP 5351 000200000000000000000000
forge $A_IP 40000 $GW_LAN_IP 5351 000100000000000000000000
sleep 0.5
check_out "B's forged 'delete all' (TCP) left A's TCP mapping" "tcp   9001" pgctl list
check_out "... and its UDP one" "udp   9002" pgctl list
forge $A_IP 40001 $GW_LAN_IP 5351 "$(map_hex $A_IP 6 22 2222 0102030405060708090a0b0c)"
sleep 0.5
[ -z "$(pgctl list | grep 2222)" ] && pass "B's forged PCP MAP 'tcp 2222 -> A:22' created nothing" || fail "forged MAP: $(pgctl list | grep 2222)"
[ -z "$(connect $WAN tcp $GW_WAN_IP 2222)" ] && pass "the WAN peer cannot reach A:22 through 2222" || fail "WAN reached A:22"
check_out "A's own MAP for port 22 succeeds (no forged nonce owns it)" "result=SUCCESS" pcp map --int-port 22 --ext-port 2222 --proto tcp
check_out "and the WAN peer reaches A's ssh through it" ssh-on-A connect $WAN tcp $GW_WAN_IP 2222
# a trigger packet (TCP SYN) with A's source, sent by B: forge.py sends raw SYNs
in_b python3 "$top_srcdir/tests/lab/forge.py" $WAN_IP 7000 $A_IP 3 1 >/dev/null
sleep 0.5
check_out "B's forged trigger packet as A opened nothing" "[config] idle" pgctl trigger list
[ -z "$(connect $WAN tcp $GW_WAN_IP 7105)" ] && pass "the trigger's ports stay closed" || fail "7105 open after a forged trigger"
in_wan socat -T 2 TCP-LISTEN:7000,reuseaddr,fork SYSTEM:"echo server" >/dev/null 2>&1 &
sleep 0.3
connect $HA tcp $WAN_IP 7000 >/dev/null
sleep 0.5
check_out "A's own trigger traffic opens them" trig-A connect $WAN tcp $GW_WAN_IP 7105
dropped=$(in_gw nft list chain ip portgate input | sed -n 's/.*ether saddr != @lan_hosts counter packets \([0-9]*\).*/\1/p')
[ "${dropped:-0}" -ge 3 ] && pass "the kernel dropped the forged requests ($dropped)" || fail "drop counter: ${dropped:-none}"
echo "   a host whose MAC changes (a new machine on the address) is followed"
in_b ip link set eth0 address 02:00:00:00:00:bb
in_b ping -c1 -W1 -q $GW_LAN_IP >/dev/null 2>&1
wait_for 3 sh -c "ip netns exec $GW nft list set ip portgate lan_hosts | grep -q '$B_IP . 02:00:00:00:00:bb'" &&
	pass "B's new MAC replaces its old one in lan_hosts" || fail "lan_hosts: $(in_gw nft list set ip portgate lan_hosts)"
check_out "B's NAT-PMP request from the new MAC is answered" "Public IP address : $GW_WAN_IP" in_b timeout 5 natpmpc -g $GW_LAN_IP
echo "   a host churning its MAC costs the kernel its own element, not the whole set"
in_gw timeout 5 nft monitor elements > "$LAB_DIR/mon.txt" 2>&1 &
monpid=$!
sleep 0.5
# 500 neighbour solicitations from B's address, each claiming another MAC, then its own
in_b python3 "$top_srcdir/tests/lab/nd_flood.py" eth0 $GW_LAN_IP6 2001:db8:1:: 17 500 seq 1000 same >/dev/null
in_b python3 "$top_srcdir/tests/lab/nd_flood.py" eth0 $GW_LAN_IP6 2001:db8:1:: 17 1 >/dev/null
wait $monpid
b_mac=$(in_b cat /sys/class/net/eth0/address)
ours=$(grep -c "$B_IP6 \. " "$LAB_DIR/mon.txt") others=$(grep -v "$B_IP6 \. " "$LAB_DIR/mon.txt" | grep -c element)
[ "$ours" -ge 2 ] && [ "$others" = 0 ] && pass "500 MAC changes of $B_IP6: $ours element updates, none of another host's" ||
	fail "the kernel's sets were rewritten: $ours updates of B's element, $others of others'"
wait_for 3 sh -c "ip netns exec $GW nft list set ip6 portgate lan_hosts6 | grep -q '$B_IP6 . $b_mac'" &&
	pass "lan_hosts6 ends with B's real MAC" || fail "lan_hosts6: $(in_gw nft list set ip6 portgate lan_hosts6)"
check_out "A is still answered" "Public IP address : $GW_WAN_IP" in_a timeout 5 natpmpc -g $GW_LAN_IP
echo "   neighbour events lost while the daemon was busy: the table is read again"
kill -STOP $PG_PID
# more events than the daemon's netlink socket holds: B's MAC changing 3,000 times, then
# back; meanwhile A takes a new address and the gateway learns it (its event is lost too)
in_b python3 "$top_srcdir/tests/lab/nd_flood.py" eth0 $GW_LAN_IP6 2001:db8:1:: 17 3000 seq 5000 same >/dev/null
in_a ip -6 addr add 2001:db8:1::4321/64 dev eth0 nodad
in_a ping -6 -c1 -W1 -q -I 2001:db8:1::4321 $GW_LAN_IP6 >/dev/null 2>&1
in_b python3 "$top_srcdir/tests/lab/nd_flood.py" eth0 $GW_LAN_IP6 2001:db8:1:: 17 1 >/dev/null
kill -CONT $PG_PID
wait_for 3 sh -c "ip netns exec $GW nft list set ip6 portgate lan_hosts6 | grep -q '2001:db8:1::4321 . '" &&
	pass "A's new address, whose event was lost, is in lan_hosts6" ||
	fail "lan_hosts6 lacks 2001:db8:1::4321: $(in_gw nft list set ip6 portgate lan_hosts6 | tr -s ' \n' ' ')"
check_out "... and its PCP request is answered" "result=SUCCESS" \
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP6 map --int-port 8011 --ext-port 8011 --proto tcp --client 2001:db8:1::4321 --bind 2001:db8:1::4321
check "B's pair is its real MAC again" sh -c "ip netns exec $GW nft list set ip6 portgate lan_hosts6 | grep -q '$B_IP6 . $b_mac'"
echo "   a new IPv6 address of A (a fresh temporary address) is learned on its first request"
in_a ip -6 addr add 2001:db8:1::1234/64 dev eth0 nodad
check_out "PCP from A's new address is answered (the gateway resolves it, the client retransmits)" "result=SUCCESS" \
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP6 map --int-port 8010 --ext-port 8010 --proto tcp --client 2001:db8:1::1234 --bind 2001:db8:1::1234
check_out "... and the pair is known now" "2001:db8:1::1234 . " in_gw nft list set ip6 portgate lan_hosts6
echo "   nft flush ruleset: the hosts come back with the repair"
in_gw nft flush ruleset
wait_for 5 sh -c "ip netns exec $GW nft list set ip portgate lan_hosts | grep -q '$A_IP'" &&
	pass "lan_hosts restored after a flush" || fail "lan_hosts not restored"

lab_stop_daemon
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
