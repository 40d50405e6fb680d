#!/bin/bash
# ct_lab.sh - a closed port is closed: when a mapping, a trigger or a pinhole closes
# (lease end, delete, flush, idle), the conntrack entries of the flows it let in go with it,
# so a WAN peer that keeps sending from the same source port no longer reaches the LAN
# host; a renewal keeps them, and outbound flows are never touched.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v conntrack >/dev/null || skip "needs conntrack (conntrack-tools)"
command -v upnpc >/dev/null || skip "needs upnpc (miniupnpc)"
lab_up
lab_admin_fw6	# a router's own forward chain: established accepted, README's two rules
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = ctgame tcp:7500 open udp:7510-7512 idle 3"
check "portgated starts" lab_start_daemon "$conf"
PCPC="$top_srcdir/tests/integ/pcp_client.py"
N1=00112233445566778899aabb

# recv NS FAMILY PORT: record every datagram to PORT in $LAB_DIR/recv-PORT (FAMILY "" or 6)
recv() {
	local ns=$1 fam=$2 port=$3 n=30
	ip netns exec "$ns" socat -u UDP$fam-RECV:$port,reuseaddr \
		OPEN:"$LAB_DIR/recv-$port",creat,append 2>/dev/null &
	while [ $n -gt 0 ] && ! ip netns exec "$ns" ss -Hlun "sport = :$port" | grep -q .; do
		sleep 0.1; n=$((n - 1))
	done
}
# recv_answer NS FAMILY PORT: the same, and answer each datagram, so that conntrack sees
# replies and calls the flow established
recv_answer() {
	local ns=$1 fam=$2 port=$3 n=30
	ip netns exec "$ns" socat -T 2 UDP$fam-RECVFROM:$port,reuseaddr,fork \
		SYSTEM:"read -r l; echo \"\$l\" >> $LAB_DIR/recv-$port; echo pong" 2>/dev/null &
	while [ $n -gt 0 ] && ! ip netns exec "$ns" ss -Hlun "sport = :$port" | grep -q .; do
		sleep 0.1; n=$((n - 1))
	done
}
# send TAG COUNT DST PORT SPORT: COUNT datagrams "TAG-i" from the WAN peer, all from SPORT
send() {
	local tag=$1 count=$2 dst=$3 port=$4 sport=$5 i fam=
	case $dst in *:*) fam=6; dst="[$dst]" ;; esac
	for i in $(seq 1 "$count"); do
		echo "$tag-$i" | timeout 2 ip netns exec "$WAN" socat -u - \
			UDP$fam-SENDTO:$dst:$port,sourceport=$sport,reuseaddr 2>/dev/null
		sleep 0.2
	done
	sleep 0.3
}
got() { grep -c "^$1-" "$LAB_DIR/recv-$2" 2>/dev/null; }
# check_eq DESCRIPTION WANT COMMAND...: pass if the command prints exactly WANT
check_eq() {
	local d=$1 want=$2 out; shift 2
	out=$("$@" 2>&1)
	[ "$out" = "$want" ] && pass "$d" || fail "$d: wanted '$want', got '$out'"
}
# dnat_flows PROTO PORT: conntrack entries to PORT that were let in to A (reply from A)
dnat_flows() { in_gw conntrack -L -p "$1" --dport "$2" 2>/dev/null | grep -c "src=$A_IP "; }
no_dnat_flow() { [ "$(dnat_flows "$1" "$2")" = 0 ]; }
gone() { ! pgctl list | grep -q " $1 "; }
# expect_closed WHAT PROTO PORT TAG SPORT: the flow let in before is gone, the port closed
expect_closed() {
	local what=$1 proto=$2 port=$3 tag=$4 sport=$5
	# the table may answer a moment before the commit that ends the flows
	wait_for 2 no_dnat_flow "$proto" "$port" &&
		pass "$what: conntrack -L has no flow to A left" ||
		{ fail "$what: conntrack still holds the flow"; in_gw conntrack -L -p "$proto" --dport "$port"; }
	send "$tag" 4 $GW_WAN_IP "$port" "$sport"
	[ "$(got "$tag" "$port")" = 0 ] && pass "$what: datagrams from the same source port no longer reach A" ||
		fail "$what: $(got "$tag" "$port") of 4 datagrams still reached A"
	[ "$(dnat_flows "$proto" "$port")" = 0 ] && pass "$what: and they make no new flow to A" ||
		fail "$what: a new flow to A"
}

echo "UPnP (upnpc, by SSDP): a UDP mapping with a 4 s lease expires"
recv $HA "" 7400
check_out "upnpc maps udp 7400 -> A for 4 s" "is redirected to internal $A_IP:7400" \
	timeout 10 ip netns exec $HA upnpc -i -e ct-udp -a $A_IP 7400 7400 UDP 4
send up 2 $GW_WAN_IP 7400 40000
check_eq "datagrams from the WAN peer reach A" 2 got up 7400
check_eq "conntrack holds the flow DNATed to A" 1 dnat_flows udp 7400
wait_for 8 gone 7400 && pass "the lease ends (the table is empty)" || fail "the lease did not end"
check_not "and the kernel map does not hold it" sh -c \
	"ip netns exec $GW nft list map ip portgate dnat_port | grep -q 7400"
expect_closed "lease end" udp 7400 up-after 40000

echo "portgatectl forward del"
recv $HA "" 7401
pgctl forward add udp 7401 $A_IP >/dev/null
send fw 2 $GW_WAN_IP 7401 40001
check_eq "a static forward carries the flow" 2 got fw 7401
pgctl forward del udp 7401 >/dev/null
expect_closed "forward del" udp 7401 fw-after 40001

echo "an outbound flow to a mapped port number is not the mapping's"
pgctl forward add udp 7404 $A_IP >/dev/null
in_wan socat -u UDP-RECV:7404,reuseaddr OPEN:/dev/null 2>/dev/null &
sleep 0.3
echo out | in_a socat -u - UDP-SENDTO:$WAN_IP:7404,sourceport=7404,reuseaddr
out_id() { in_gw conntrack -L -p udp -s $A_IP --dport 7404 -o id 2>/dev/null | grep -o 'id=[0-9]*'; }
id1=$(out_id)
[ -n "$id1" ] && pass "A's outbound flow to the WAN's port 7404 is in conntrack" || fail "no outbound flow"
pgctl forward del udp 7404 >/dev/null
sleep 0.3
[ -n "$id1" ] && [ "$(out_id)" = "$id1" ] && pass "deleting udp 7404 leaves that flow alone" ||
	fail "the outbound flow changed: '$id1' -> '$(out_id)'"

echo "flush: two mappings close in one commit"
recv $HA "" 7406
recv $HA "" 7407
pgctl forward add udp 7406 $A_IP >/dev/null
pgctl forward add udp 7407 $A_IP >/dev/null
send f6 2 $GW_WAN_IP 7406 40006
send f7 2 $GW_WAN_IP 7407 40007
[ "$(got f6 7406)$(got f7 7407)" = 22 ] && pass "both carry a flow" || fail "flows: $(got f6 7406) $(got f7 7407)"
pgctl flush --source static >/dev/null
expect_closed "flush (7406)" udp 7406 f6-after 40006
expect_closed "flush (7407)" udp 7407 f7-after 40007

echo "PCP MAP deleted with lifetime 0"
recv $HA "" 7405
check_out "MAP udp 7405 -> A" "ext=$GW_WAN_IP:7405" in_a timeout 8 python3 "$PCPC" $GW_LAN_IP map \
	--proto udp --int-port 7405 --ext-port 7405 --lifetime 600 --nonce $N1
send pcp 2 $GW_WAN_IP 7405 40005
check_eq "it carries a flow" 2 got pcp 7405
check_out "delete" "result=SUCCESS lifetime=0" in_a timeout 8 python3 "$PCPC" $GW_LAN_IP map \
	--proto udp --int-port 7405 --ext-port 7405 --lifetime 0 --nonce $N1
expect_closed "PCP delete" udp 7405 pcp-after 40005

echo "trigger idle close"
in_wan socat -T 2 TCP-LISTEN:7500,reuseaddr,fork SYSTEM:"echo server" >/dev/null 2>&1 &
recv $HA "" 7511
sleep 0.3
connect $HA tcp $WAN_IP 7500 >/dev/null
wait_for 3 sh -c "$PORTGATECTL -s $LAB_DIR/sock list | grep -q 7510-7512" &&
	pass "A's trigger opens udp 7510-7512" || fail "the trigger did not open"
send trg 2 $GW_WAN_IP 7511 40011
check_eq "the WAN peer's datagrams reach A through the trigger" 2 got trg 7511
wait_for 10 sh -c "! $PORTGATECTL -s $LAB_DIR/sock list | grep -q 7510-7512" &&
	pass "3 s without trigger traffic: the trigger closes" || fail "the trigger stayed open"
expect_closed "trigger idle" udp 7511 trg-after 40011

echo "TCP: an established connection survives a renewal and ends with its mapping"
in_a socat -u TCP-LISTEN:7402,reuseaddr OPEN:"$LAB_DIR/recv-7402",creat,append 2>/dev/null &
sleep 0.3
upnp_add() { timeout 10 ip netns exec $HA upnpc -i -e ct-tcp -a $A_IP 7402 7402 TCP 600; }
check_out "upnpc maps tcp 7402 -> A" "is redirected to internal $A_IP:7402" upnp_add
mkfifo "$LAB_DIR/tcp.fifo"
in_wan socat -u OPEN:"$LAB_DIR/tcp.fifo" TCP:$GW_WAN_IP:7402,sourceport=40002,reuseaddr 2>/dev/null &
exec 3>"$LAB_DIR/tcp.fifo"
line() { (echo "$1" >&3) 2>/dev/null; sleep 0.5; }	# a subshell: no SIGPIPE for the test
line tcp-1
check_eq "a line over the connection reaches A" 1 got tcp 7402
tcp_id() { in_gw conntrack -L -p tcp --dport 7402 -o id 2>/dev/null | grep "src=$A_IP " | grep -o 'id=[0-9]*'; }
id1=$(tcp_id)
check_out "upnpc renews the mapping" "is redirected to internal $A_IP:7402" upnp_add
line tcp-2
check_eq "after the renewal the connection still carries data" 2 got tcp 7402
[ -n "$id1" ] && [ "$(tcp_id)" = "$id1" ] && pass "and is the same conntrack entry" ||
	fail "the renewal replaced the conntrack entry: '$id1' -> '$(tcp_id)'"
check_out "upnpc -d deletes it" "UPNP_DeletePortMapping() returned : 0" \
	timeout 10 ip netns exec $HA upnpc -i -d 7402 TCP
wait_for 2 no_dnat_flow tcp 7402 && pass "conntrack -L has no connection to A left" ||
	fail "conntrack still holds the connection"
line tcp-after-1
line tcp-after-2
exec 3>&-
[ "$(got tcp-after 7402)" = 0 ] && pass "after the delete nothing more reaches A over it" ||
	fail "$(got tcp-after 7402) lines reached A after the delete"
check_eq "and the WAN's packets make no new one" 0 dnat_flows tcp 7402

echo "IPv6: a pinhole's lease ends (A answers: an established flow the admin's firewall passes)"
recv_answer $HA 6 7600
out=$(pgctl pinhole add udp "[$A_IP6]:7600" --lease 3 2>&1)
case $out in *pinhole*) pass "pinhole add: $out" ;; *) fail "pinhole add: $out" ;; esac
send p6 2 $A_IP6 7600 40060
check_eq "datagrams from the WAN peer reach A over IPv6" 2 got p6 7600
check_out "A's answers made the flow established" "src=$A_IP6 dst=$WAN_IP6 sport=7600 dport=40060 mark" \
	in_gw conntrack -L -f ipv6 -p udp --dport 7600 --status SEEN_REPLY
flows6() { in_gw conntrack -L -f ipv6 -p udp --dport 7600 2>/dev/null | grep -c "dst=$A_IP6 "; }
pin_gone() { ! pgctl list | grep -q "\[$A_IP6\]:7600"; }
check_not "list shows the pinhole" pin_gone
wait_for 8 pin_gone &&
	pass "the pinhole's lease ends" || fail "the pinhole stayed"
no_flow6() { [ "$(flows6)" = 0 ]; }
wait_for 2 no_flow6 &&
	pass "conntrack -L has no flow to A left" || fail "conntrack still holds the flow: $(flows6)"
send p6-after 4 $A_IP6 7600 40060
check_eq "datagrams from the same source port no longer reach A" 0 got p6-after 7600

check_out "the ends are logged" "flows ended (doors closed: 1, opened: 0" cat "$LAB_DIR/daemon.log"

echo "closes in a row share conntrack dumps"
for p in $(seq 7700 7719); do echo "forward add udp $p $A_IP"; done | pgctl - >/dev/null
rounds() { grep -c "flows ended" "$LAB_DIR/daemon.log"; }
sleep 0.5	# the adds' own rounds (opened doors) are over
r0=$(rounds)
for p in $(seq 7700 7719); do pgctl forward del udp $p >/dev/null; done
sleep 1
r1=$(rounds)
[ $((r1 - r0)) -ge 1 ] && [ $((r1 - r0)) -le 10 ] &&
	pass "20 deletes, one commit each, ended in $((r1 - r0)) rounds" ||
	fail "20 deletes took $((r1 - r0)) rounds"

echo "with the daemon dead, the kernel closes the port but ends no flow (README)"
recv $HA "" 7408
pgctl forward add udp 7408 $A_IP --lease 3 >/dev/null
send dead 2 $GW_WAN_IP 7408 40008
check_eq "a 3 s forward carries a flow" 2 got dead 7408
kill -9 $PG_PID; wait $PG_PID 2>/dev/null; PG_PID=
sleep 3.5
check_not "the kernel removed the element on time" sh -c \
	"ip netns exec $GW nft list map ip portgate dnat_port | grep -q 7408"
send dead-new 2 $GW_WAN_IP 7408 40009
check_eq "a new flow (another source port) does not get in" 0 got dead-new 7408
send dead-old 2 $GW_WAN_IP 7408 40008
check_eq "the open one lives on in conntrack" 2 got dead-old 7408

echo "a close just before a clean stop still ends its flows"
check "portgated restarts" lab_start_daemon "$conf"
recv $HA "" 7409
pgctl forward add udp 7409 $A_IP >/dev/null
send stop 2 $GW_WAN_IP 7409 40010
check_eq "a forward carries a flow" 2 got stop 7409
pgctl forward del udp 7409 >/dev/null
lab_stop_daemon
check_eq "after the stop conntrack has no flow to A" 0 dnat_flows udp 7409
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
