#!/bin/bash
# wan_edge_lab.sh - what the WAN side can and cannot reach: the daemon's LAN-side
# service ports are dropped in the kernel for anything not from a LAN interface,
# even for a WAN host that routes the LAN prefixes through the gateway; hairpin;
# and a mapped port is the mapped host's, even against another host's flow that
# was already open on it.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v curl >/dev/null && command -v natpmpc >/dev/null && command -v conntrack >/dev/null || skip "needs curl, natpmpc and conntrack"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf"
check "portgated starts" lab_start_daemon "$conf"
# the WAN peer routes the LAN through the gateway, as a hostile upstream neighbour could
in_wan ip route add 192.0.2.0/24 via $GW_WAN_IP
for i in $(seq 10 42); do in_wan ip addr add 198.51.100.$i/24 dev eth0; done
code() { timeout 5 ip netns exec "$1" curl -g -s -o /dev/null -m 2 -w '%{http_code}' "$2"; }
geip() {
	local t=urn:schemas-upnp-org:service:WANIPConnection:2
	timeout 5 ip netns exec "$1" curl -s -m 3 -H 'Content-Type: text/xml' -H "SOAPAction: \"$t#GetExternalIPAddress\"" \
		--data-binary "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:GetExternalIPAddress xmlns:u=\"$t\"></u:GetExternalIPAddress></s:Body></s:Envelope>" \
		http://$GW_LAN_IP:5000/ctl/IPConn
}

echo "5. the UPnP server, SSDP and PCP are not reachable from the WAN"
[ "$(code $HA http://$GW_LAN_IP:5000/rootDesc.xml)" = 200 ] && pass "a LAN host gets the description" || fail "LAN host: no description"
c=$(code $WAN http://$GW_LAN_IP:5000/rootDesc.xml)
[ "$c" = 000 ] && pass "the WAN peer gets no connection to $GW_LAN_IP:5000 at all" || fail "WAN peer got HTTP $c"
c=$(code $WAN "http://[$GW_LAN_IP6]:5000/rootDesc.xml")
[ "$c" = 000 ] && pass "nor to [$GW_LAN_IP6]:5000" || fail "WAN peer got HTTP $c over IPv6"
c=$(code $WAN http://$GW_WAN_IP:5000/rootDesc.xml)
[ "$c" = 000 ] && pass "nor to the WAN address $GW_WAN_IP:5000" || fail "WAN peer got HTTP $c on the WAN address"
check_out "a LAN host's PCP request is answered" "result=SUCCESS" in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP announce
check_out "a PCP request from the WAN gets no answer" noreply in_wan python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP announce
in_wan python3 "$top_srcdir/tests/lab/holdconn.py" $GW_LAN_IP 5000 198.51.100.10 33 4 6 > "$LAB_DIR/held" &
holder=$!
sleep 1.5
check_out "none of the 132 WAN connections is established" "connected=0" cat "$LAB_DIR/held"
okn=0
for i in $(seq 15); do geip $HA | grep -q "<NewExternalIPAddress>$GW_WAN_IP<" && okn=$((okn + 1)); done
[ $okn = 15 ] && pass "33 WAN addresses x 4 idle connections: all 15 LAN requests answered" || fail "$okn of 15 LAN requests answered"
wait $holder
pkts=$(in_gw nft list chain ip portgate input | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)
[ "${pkts:-0}" -gt 0 ] && pass "portgate's input chain dropped them ($pkts packets)" || fail "input chain counter: $(in_gw nft list chain ip portgate input)"
check_out "the LAN-side UPnP server still answers the LAN" "<NewExternalIPAddress>$GW_WAN_IP<" geip $HA

echo "9. hairpin: LAN hosts reach mappings at the external address"
listen $HA tcp 80 hello-forward
listen $HA tcp 8001 hello-natpmp
listen $HA tcp 8002 hello-pcp
listen $HA tcp 7100 hello-trigger
listen $HA udp 8003 hello-udp
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
pgctl forward add udp 8083 $A_IP:8003 >/dev/null
check_out "the WAN peer reaches the forward" hello-forward connect $WAN tcp $GW_WAN_IP 8080
check_out "LAN host B reaches it at $GW_WAN_IP:8080 (static forward)" hello-forward connect $HB tcp $GW_WAN_IP 8080
check_out "... and over UDP" hello-udp connect $HB udp $GW_WAN_IP 8083
check_out "A reaches its own mapping through the external address" hello-forward connect $HA tcp $GW_WAN_IP 8080
check_out "natpmpc maps 9001 -> A:8001" "Mapped public port 9001" in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9001 8001 tcp 600
check_out "B reaches the NAT-PMP mapping" hello-natpmp connect $HB tcp $GW_WAN_IP 9001
check_out "a PCP MAP 9002 -> A:8002" "result=SUCCESS" in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP map --int-port 8002 --ext-port 9002 --proto tcp
check_out "B reaches the PCP mapping" hello-pcp connect $HB tcp $GW_WAN_IP 9002
check_out "a trigger rule" "trigger hp" pgctl trigger add hp tcp:7000 tcp:7100
listen $WAN tcp 7000 hello-wan
connect $HA tcp $WAN_IP 7000 >/dev/null
wait_for 3 sh -c "\"$PORTGATECTL\" -s $LAB_DIR/sock trigger list | grep -q 'hp.*$A_IP'"
check_out "B reaches the triggered port of A" hello-trigger connect $HB tcp $GW_WAN_IP 7100
check_out "the hosts see the gateway's LAN address as the peer (masquerade)" "192.0.2.1" \
	in_gw conntrack -L -p tcp --orig-port-dst 8080 --orig-src $B_IP 2>/dev/null
[ -z "$(connect $HB tcp $GW_LAN_IP 8080)" ] && pass "the gateway's LAN address is not hairpinned" || fail "192.0.2.1:8080 was hairpinned"
check_out "the UPnP server at the LAN address is untouched" "200" code $HB http://$GW_LAN_IP:5000/rootDesc.xml
check_out "a PCP MAP 8090 -> A:80 that only $WAN_IP may reach" "result=SUCCESS" \
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP map --int-port 80 --ext-port 8090 --proto tcp --filter $WAN_IP/32
check_out "the WAN peer reaches it" hello-forward connect $WAN tcp $GW_WAN_IP 8090
[ -z "$(connect $HB tcp $GW_WAN_IP 8090)" ] && pass "B is not that remote: not hairpinned (FILTER holds for LAN hosts)" ||
	fail "filtered mapping reached from B"
echo "hairpin = no" >> "$conf"
kill -HUP $PG_PID
wait_for 5 grep -q "reload: configuration applied" "$LAB_DIR/daemon.log"
sleep 0.5
[ -z "$(connect $HB tcp $GW_WAN_IP 8080)" ] && pass "hairpin = no: B is refused" || fail "hairpin = no: B still reached A"
check_out "hairpin = no: the WAN peer still reaches the forward" hello-forward connect $WAN tcp $GW_WAN_IP 8080

echo "6. another host's outbound flow never takes a mapped port"
who() { python3 "$top_srcdir/tests/lab/udpwho.py" "$@"; }
pgctl forward add udp 9000 $A_IP:9000 >/dev/null
pgctl forward add tcp 9000 $A_IP:9000 >/dev/null
pgctl forward add udp 9100-9110 $A_IP >/dev/null
in_a python3 "$top_srcdir/tests/lab/udpwho.py" recv 9000 6 > "$LAB_DIR/a9000" &
arecv=$!
in_wan python3 "$top_srcdir/tests/lab/udpwho.py" serve udp 5555 5 $GW_WAN_IP 9000 &
sleep 0.5
out=$(in_b python3 "$top_srcdir/tests/lab/udpwho.py" ask udp 9000 $WAN_IP 5555 2)
seen=$(echo "$out" | sed -n "s/^seen $GW_WAN_IP://p" | head -1)
[ -n "$seen" ] && [ "$seen" != 9000 ] && pass "B sending from UDP 9000 (A's mapped port) leaves with another port ($seen)" ||
	fail "B's flow: $out"
case "$out" in *"got to-9000"*) fail "the WAN peer's datagram to :9000 reached B" ;;
	*) pass "the WAN peer's datagram to $GW_WAN_IP:9000 does not go to B" ;; esac
wait $arecv
check_out "... it reaches A, the mapping's host" "got to-9000 from $WAN_IP:5555" cat "$LAB_DIR/a9000"
in_wan python3 "$top_srcdir/tests/lab/udpwho.py" serve udp 5556 3 &
sleep 0.3
check_out "A, the mapping's own endpoint, keeps its port 9000" "seen $GW_WAN_IP:9000" \
	in_a python3 "$top_srcdir/tests/lab/udpwho.py" ask udp 9000 $WAN_IP 5556
in_wan python3 "$top_srcdir/tests/lab/udpwho.py" serve tcp 5557 3 &
sleep 0.3
out=$(in_b python3 "$top_srcdir/tests/lab/udpwho.py" ask tcp 9000 $WAN_IP 5557)
seen=$(echo "$out" | sed -n "s/^seen $GW_WAN_IP://p")
[ -n "$seen" ] && [ "$seen" != 9000 ] && pass "TCP: B's connection from 9000 leaves with another port ($seen)" || fail "B's TCP flow: $out"
in_wan python3 "$top_srcdir/tests/lab/udpwho.py" serve udp 5558 3 &
sleep 0.3
out=$(in_b python3 "$top_srcdir/tests/lab/udpwho.py" ask udp 9105 $WAN_IP 5558)
seen=$(echo "$out" | sed -n "s/^seen $GW_WAN_IP://p")
[ -n "$seen" ] && { [ "$seen" -lt 9100 ] || [ "$seen" -gt 9110 ]; } && pass "a port of a range forward: B leaves with $seen" || fail "range: $out"
in_wan python3 "$top_srcdir/tests/lab/udpwho.py" serve udp 5560 3 &
sleep 0.3
check_out "A, the range forward's own host, keeps its port 9105 (as with a single port)" "seen $GW_WAN_IP:9105" \
	in_a python3 "$top_srcdir/tests/lab/udpwho.py" ask udp 9105 $WAN_IP 5560
in_wan python3 "$top_srcdir/tests/lab/udpwho.py" serve udp 5559 3 &
sleep 0.3
check_out "an unmapped source port is kept (masquerade as before)" "seen $GW_WAN_IP:9200" \
	in_b python3 "$top_srcdir/tests/lab/udpwho.py" ask udp 9200 $WAN_IP 5559

echo "6b. a flow already open on a port when it is mapped: the mapping takes the port back"
WHO="$top_srcdir/tests/lab/udpwho.py"
# ct_id NS-SRC SPORT WPORT: the ID of the conntrack entry SRC:SPORT -> WAN peer:WPORT (udp)
ct_id() {
	in_gw conntrack -L -p udp --orig-src "$1" --sport "$2" --dport "$3" -o id 2>/dev/null |
		sed -n 's/.* id=\([0-9]*\).*/\1/p' | head -1
}
no_flow() { [ -z "$(ct_id "$1" "$2" "$3")" ]; }
# own PORT WPORT: A sends from UDP PORT to the WAN peer's WPORT (nothing maps PORT yet)
own() {
	in_wan python3 "$WHO" serve udp "$2" 1 &
	sleep 0.3
	in_a python3 "$WHO" ask udp "$1" $WAN_IP "$2" > "$LAB_DIR/own-$1"
}
# squat PORT WPORT: B sends from UDP PORT to the WAN peer's WPORT and listens on it for 12 s
squat() {
	in_wan python3 "$WHO" serve udp "$2" 1 &
	sleep 0.3
	in_b python3 "$WHO" ask udp "$1" $WAN_IP "$2" 12 > "$LAB_DIR/squat-$1" &
	bg="$bg $!"
	wait_for 3 grep -q "^seen" "$LAB_DIR/squat-$1"
}
# the mapped ports and what maps each; B sends from PORT to the WAN peer's PORT - 9300 + 5700
ports="9300 9301 9302 9312 9321"
bg=
declare -A how=([9300]="a static forward" [9301]="NAT-PMP (natpmpc)" [9302]="a PCP MAP"
	[9312]="a range forward 9310-9315" [9321]="a trigger's range 9320-9322")
own 9300 5600
own 9313 5601
aid0=$(ct_id $A_IP 9300 5600)
aid1=$(ct_id $A_IP 9313 5601)
[ -n "$aid0" ] && [ -n "$aid1" ] && pass "A has flows from UDP 9300 and 9313 (conntrack $aid0, $aid1)" ||
	fail "A's own flows: '$aid0' '$aid1'"
for p in $ports; do
	squat $p $((p - 9300 + 5700))
	check_out "B sends from UDP $p, unmapped yet: it leaves by $p" "seen $GW_WAN_IP:$p" cat "$LAB_DIR/squat-$p"
done
for p in $ports; do in_a python3 "$WHO" recv $p 8 > "$LAB_DIR/mapped-$p" & bg="$bg $!"; done
pgctl forward add udp 9300 $A_IP:9300 >/dev/null
check_out "natpmpc maps UDP 9301 -> A:9301" "Mapped public port 9301" in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9301 9301 udp 600
check_out "a PCP MAP UDP 9302 -> A:9302" "result=SUCCESS" \
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP map --int-port 9302 --ext-port 9302 --proto udp
pgctl forward add udp 9310-9315 $A_IP >/dev/null
check_out "a trigger rule opening UDP 9320-9322" "trigger sq" pgctl trigger add sq udp:7001 udp:9320-9322
in_a python3 "$WHO" send 7001 $WAN_IP 7001 trigger
wait_for 3 sh -c "\"$PORTGATECTL\" -s $LAB_DIR/sock trigger list | grep -q 'sq.*$A_IP'"
check_out "every port is mapped to A" "5" sh -c "\"$PORTGATECTL\" -s $LAB_DIR/sock list | grep -cE 'udp +(9300|9301|9302|9310|9320)[ -].*$A_IP'"
squats_gone() {
	local p
	for p in $ports; do no_flow $B_IP $p $((p - 9300 + 5700)) || return 1; done
}
wait_for 3 squats_gone
for p in $ports; do
	wp=$((p - 9300 + 5700))
	no_flow $B_IP $p $wp && pass "${how[$p]}: conntrack -L no longer has B's flow from $p" ||
		{ fail "${how[$p]}: B's flow from $p is still in conntrack"; in_gw conntrack -L -p udp --orig-src $B_IP --sport $p; }
	in_wan python3 "$WHO" send $wp $GW_WAN_IP $p to-$p
done
sleep 0.5
for p in $ports; do
	wp=$((p - 9300 + 5700))
	check_out "${how[$p]}: the WAN peer's datagram from :$wp to $GW_WAN_IP:$p reaches A" "got to-$p from $WAN_IP:$wp" \
		cat "$LAB_DIR/mapped-$p"
	grep -q "got to-$p" "$LAB_DIR/squat-$p" && fail "${how[$p]}: it also reached B (B's old flow)" ||
		pass "${how[$p]}: it does not reach B"
done
[ "$(ct_id $A_IP 9300 5600)" = "$aid0" ] && pass "A's own flow from 9300 (the forward's internal endpoint) is not ended" ||
	fail "A's flow from 9300: conntrack ID '$(ct_id $A_IP 9300 5600)', was $aid0"
[ "$(ct_id $A_IP 9313 5601)" = "$aid1" ] && pass "A's own flow from 9313 (inside its range, same port) is not ended" ||
	fail "A's flow from 9313: conntrack ID '$(ct_id $A_IP 9313 5601)', was $aid1"
kill $bg 2>/dev/null
wait $bg 2>/dev/null

echo "6c. ... and so does a mapping restored at start-up"
lab_stop_daemon
bg=
squat 9300 5730
check_out "portgated stopped: B sends from UDP 9300 and leaves by 9300" "seen $GW_WAN_IP:9300" cat "$LAB_DIR/squat-9300"
in_a python3 "$WHO" recv 9300 6 > "$LAB_DIR/mapped-9300" &
bg="$bg $!"
check "portgated restarts" lab_start_daemon "$conf"
check_out "the forward of UDP 9300 to A is restored" "$A_IP:9300" pgctl list
wait_for 3 no_flow $B_IP 9300 5730 && pass "conntrack -L no longer has B's flow from 9300" ||
	fail "B's flow from 9300 is still in conntrack"
in_wan python3 "$WHO" send 5730 $GW_WAN_IP 9300 to-9300
sleep 0.5
check_out "the WAN peer's datagram to $GW_WAN_IP:9300 reaches A" "got to-9300 from $WAN_IP:5730" cat "$LAB_DIR/mapped-9300"
grep -q "got to-9300" "$LAB_DIR/squat-9300" && fail "it also reached B" || pass "it does not reach B"
kill $bg 2>/dev/null
wait $bg 2>/dev/null

lab_stop_daemon
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
