#!/bin/bash
# pcp_lab.sh - PCP (our client, tests/integ/pcp_client.py) and NAT-PMP (natpmpc) in the
# namespace lab: mappings that carry WAN traffic, FILTER in the kernel, every error a
# client can meet, the epoch across restarts, announcements, one table with UPnP.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v natpmpc >/dev/null && command -v upnpc >/dev/null || skip "needs natpmpc and upnpc"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "max_lease = 3600" "pcp_min_lifetime = 60" "pcp_max_filters = 4"
# an ANNOUNCE listener on host A, up before the daemon starts
in_a timeout 6 python3 "$top_srcdir/tests/integ/pcp_client.py" listen 5 > "$LAB_DIR/announce1" &
sleep 0.5
check "portgated starts" lab_start_daemon "$conf"
PCPC="$top_srcdir/tests/integ/pcp_client.py"
pcp() { local ns=$1; shift; timeout 8 ip netns exec "$ns" python3 "$PCPC" $GW_LAN_IP "$@"; }
N1=00112233445566778899aabb
N2=ffeeddccbbaa998877665544
listen $HA tcp 8000 hello-pcp
listen $HA tcp 8001 hello-natpmp

echo "NAT-PMP with natpmpc"
check_out "natpmpc prints the public address" "Public IP address : $GW_WAN_IP" in_a timeout 5 natpmpc -g $GW_LAN_IP
check_out "natpmpc -a maps 9001 -> A:8001" "Mapped public port 9001 protocol TCP to local port 8001" in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9001 8001 tcp 600
check_out "the WAN peer connects through it" hello-natpmp connect $WAN tcp $GW_WAN_IP 9001
check_out "natpmpc -a with lifetime 0 deletes it" "liftime 0" in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9001 8001 tcp 0
[ -z "$(connect $WAN tcp $GW_WAN_IP 9001)" ] && pass "then the WAN is refused" || fail "9001 still open"

echo "PCP MAP: create, refresh, delete"
check_out "MAP 9000 -> A:8000" "result=SUCCESS lifetime=600 epoch=" pcp $HA map --int-port 8000 --ext-port 9000 --lifetime 600 --nonce $N1
check_out "the WAN peer connects through it" hello-pcp connect $WAN tcp $GW_WAN_IP 9000
check_out "the answer names the external address and port" "ext=$GW_WAN_IP:9000" pcp $HA map --int-port 8000 --ext-port 9000 --lifetime 600 --nonce $N1
check_out "a refresh keeps the port even when another is suggested" "ext=$GW_WAN_IP:9000" pcp $HA map --int-port 8000 --ext-port 9555 --lifetime 900 --nonce $N1
check_out "a lifetime under pcp_min_lifetime is raised" "lifetime=60 " pcp $HA map --int-port 8000 --lifetime 5 --nonce $N1
check_out "over max_lease is cut" "lifetime=3600 " pcp $HA map --int-port 8000 --lifetime 999999 --nonce $N1
check_out "another nonce: NOT_AUTHORIZED" "result=NOT_AUTHORIZED" pcp $HA map --int-port 8000 --lifetime 600 --nonce $N2
check_out "another nonce cannot delete it" "result=NOT_AUTHORIZED" pcp $HA map --int-port 8000 --lifetime 0 --nonce $N2
check_out "portgatectl list shows the nonce, abbreviated" "pcp      " pgctl list
check_out "... as nonce=00112233.." "nonce=00112233.." pgctl list
check_out "list --json carries the nonce" '"owner":"00112233445566778899aabb"' pgctl list --json
check_out "delete (lifetime 0) with its nonce" "result=SUCCESS lifetime=0" pcp $HA map --int-port 8000 --lifetime 0 --nonce $N1
[ -z "$(connect $WAN tcp $GW_WAN_IP 9000)" ] && pass "after delete the WAN is refused" || fail "9000 still open"

echo "one table with UPnP"
check_out "UPnP maps 9100" "is redirected" timeout 10 ip netns exec $HB upnpc -i -a $B_IP 8000 9100 TCP
check_out "PCP on a UPnP-held port with PREFER_FAILURE: CANNOT_PROVIDE_EXTERNAL" "result=CANNOT_PROVIDE_EXTERNAL" pcp $HA map --int-port 8000 --ext-port 9100 --prefer-failure --nonce $N1
check_out "without it: another port nearby" "ext=$GW_WAN_IP:9101" pcp $HA map --int-port 8000 --ext-port 9100 --nonce $N1
check_out "a UPnP add on the PCP-held port: 729" "failed with code 729" timeout 10 ip netns exec $HB upnpc -i -a $B_IP 8000 9101 TCP
check_out "upnpc -l shows the PCP mapping" "9101->$A_IP:8000  'portgate pcp'" timeout 10 ip netns exec $HB upnpc -i -l
in_a timeout 5 natpmpc -g $GW_LAN_IP -a 9002 8001 udp 600 >/dev/null
check_out "upnpc -l shows the NAT-PMP mapping" "9002->$A_IP:8001  'portgate natpmp'" timeout 10 ip netns exec $HB upnpc -i -l

echo "FILTER: only the listed peers reach the mapping (in the kernel)"
in_wan ip addr add 198.51.100.101/24 dev eth0
listen $HA tcp 8004 hello-filter
check_out "MAP 9200 with FILTER $WAN_IP/32" "result=SUCCESS" pcp $HA map --int-port 8004 --ext-port 9200 --nonce $N2 --filter $WAN_IP/32
check_out "$WAN_IP reaches it" hello-filter connect $WAN tcp $GW_WAN_IP 9200
other=$(echo hi | timeout 3 ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9200,connect-timeout=1,bind=198.51.100.101 2>/dev/null)
[ -z "$other" ] && pass "198.51.100.101 is refused" || fail "198.51.100.101 reached it: $other"
check_out "list shows the filter" "from=198.51.100.100/32" pgctl list
check_out "a refresh without FILTER keeps the filter" "from=198.51.100.100/32" sh -c "timeout 8 ip netns exec $HA python3 '$PCPC' $GW_LAN_IP map --int-port 8004 --nonce $N2 >/dev/null; '$PORTGATECTL' -s '$LAB_DIR/sock' list"
check_out "a prefix length 0 FILTER clears the filters" "result=SUCCESS" pcp $HA map --int-port 8004 --ext-port 9200 --nonce $N2 --filter 0.0.0.0/0
other=$(echo hi | timeout 3 ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9200,connect-timeout=1,bind=198.51.100.101 2>/dev/null)
[ "$other" = hello-filter ] && pass "then 198.51.100.101 connects too" || fail "198.51.100.101 still refused"
check_out "more filters than pcp_max_filters: EXCESSIVE_REMOTE_PEERS" "result=EXCESSIVE_REMOTE_PEERS" pcp $HA map --int-port 8004 --ext-port 9200 --nonce $N2 --filter 198.51.100.1 --filter 198.51.100.2 --filter 198.51.100.3 --filter 198.51.100.4 --filter 198.51.100.5

echo "PEER: an outbound flow's external port, pinned in the kernel"
for wp in 7000 7001 7002; do
	in_wan socat -T 5 TCP-LISTEN:$wp,reuseaddr,fork SYSTEM:'read -r _; echo port=$SOCAT_PEERPORT' >/dev/null 2>&1 &
done
wait_for 3 sh -c "[ \$(ip netns exec $WAN ss -Hltn 'sport >= :7000 and sport <= :7002' | wc -l) -eq 3 ]" 
seen() { # NS SPORT WANPORT: the source port the WAN peer sees
	echo hi | timeout 3 ip netns exec $1 socat -T 1 - TCP:$WAN_IP:$3,sourceport=$2,connect-timeout=1 2>/dev/null
}
check_out "PEER A:40000 -> $WAN_IP:7000 reports 40000" "ext=$GW_WAN_IP:40000" pcp $HA peer --int-port 40000 --peer $WAN_IP:7000 --nonce $N1
check_out "the kernel holds the pin" "192.0.2.10 . tcp . 40000 . 198.51.100.100 . 7000" in_gw nft list map ip portgate peer_snat
check_out "the WAN peer sees the reported port" "port=40000" seen $HA 40000 7000
pcp $HA map --int-port 8010 --ext-port 9310 --nonce $N1 >/dev/null
check_out "PEER with the internal endpoint of a MAP reports the MAP's port" "ext=$GW_WAN_IP:9310" pcp $HA peer --int-port 8010 --peer $WAN_IP:7001 --nonce $N1
check_out "and the flow leaves through it: the WAN peer sees 9310" "port=9310" seen $HA 8010 7001
in_a socat -T 5 TCP:$WAN_IP:7002,sourceport=40002 SYSTEM:'sleep 4' >/dev/null 2>&1 &
sleep 0.5
check_out "PEER for a flow conntrack already knows reports its port" "ext=$GW_WAN_IP:40002" pcp $HA peer --int-port 40002 --peer $WAN_IP:7002 --nonce $N1
check_out "B pinning the same remote end from the same port gets the next port" "ext=$GW_WAN_IP:40001" pcp $HB peer --int-port 40000 --peer $WAN_IP:7000 --nonce $N2
check_out "and B's flow leaves by it" "port=40001" seen $HB 40000 7000
# a UDP flow the masquerade moved: B holds 5000 towards the peer, so A's flow from 5000 leaves
# by another port; PEER must answer that one (it answered 5000, the port nobody sees)
in_wan socat -T 20 UDP-RECVFROM:7003,reuseaddr,fork SYSTEM:'echo port=$SOCAT_PEERPORT' >/dev/null 2>&1 &
wait_for 3 sh -c "ip netns exec $WAN ss -Hlun 'sport = :7003' | grep -q ."
useen() { echo hi | timeout 5 ip netns exec $1 socat -T 3 - UDP:$WAN_IP:$3,sourceport=$2 2>/dev/null; }
check_out "B's UDP flow 5000 -> $WAN_IP:7003 keeps its port" "port=5000" useen $HB 5000 7003
moved=$(useen $HA 5000 7003); moved=${moved#port=}
[ -n "$moved" ] && [ "$moved" != 5000 ] && pass "A's flow from 5000 leaves by another port ($moved)" || fail "A's flow: '$moved'"
check_out "PEER for A's open UDP flow answers the port the WAN peer sees" "ext=$GW_WAN_IP:$moved" pcp $HA peer --proto udp --int-port 5000 --peer $WAN_IP:7003 --nonce $N1
check_out "... and the flow still leaves by it" "port=$moved" useen $HA 5000 7003
pcp $HA peer --proto udp --int-port 5000 --peer $WAN_IP:7003 --nonce $N1 --lifetime 0 >/dev/null
check_out "a LAN host as the remote peer: NOT_AUTHORIZED" "result=NOT_AUTHORIZED" pcp $HA peer --int-port 40003 --peer $B_IP:7000 --nonce $N1
check_out "a multicast remote peer: MALFORMED_REQUEST" "result=MALFORMED_REQUEST" pcp $HA peer --int-port 40003 --peer 224.0.0.1:7000 --nonce $N1
check_out "another nonce cannot take over a pin: NOT_AUTHORIZED" "result=NOT_AUTHORIZED" pcp $HA peer --int-port 40000 --peer $WAN_IP:7000 --nonce $N2
check_out "status counts the pins" "peer_pins 4" pgctl status
check_out "PEER lifetime 0 releases the pin" "result=SUCCESS" pcp $HA peer --int-port 40000 --peer $WAN_IP:7000 --nonce $N1 --lifetime 0
check_out "then status counts 3" "peer_pins 3" pgctl status

echo "PEER never answers a port another host's mapping holds"
UDPP="$top_srcdir/tests/lab/udp_peer.py"
check_out "A maps UDP 9400 -> A:9400" "ext=$GW_WAN_IP:9400" pcp $HA map --proto udp --int-port 9400 --ext-port 9400 --nonce $N1
check_out "B's PEER from its own port 9400 gets another one" "ext=$GW_WAN_IP:9401" pcp $HB peer --proto udp --int-port 9400 --peer $WAN_IP:7004 --nonce $N2
in_a timeout 8 python3 "$UDPP" recv 9400 6 > "$LAB_DIR/a9400" &
apid=$!
in_wan timeout 8 python3 "$UDPP" recv 7004 6 $GW_WAN_IP:9400 > "$LAB_DIR/peer7004" &
wpid=$!
wait_for 3 sh -c "ip netns exec $WAN ss -Hlun 'sport = :7004' | grep -q . && ip netns exec $HA ss -Hlun 'sport = :9400' | grep -q ."
check_out "B's flow 9400 -> $WAN_IP:7004: nothing comes back to B" "got=nothing" in_b timeout 5 python3 "$UDPP" send 9400 $WAN_IP:7004 2
wait $apid $wpid
check_out "the WAN peer sees B's flow leave by 9401, the PEER answer" "from=$GW_WAN_IP:9401" cat "$LAB_DIR/peer7004"
check_out "the peer's datagram to $GW_WAN_IP:9400 reaches A, whose mapping it is" "got=from-peer from=$WAN_IP:7004" cat "$LAB_DIR/a9400"
pcp $HB peer --proto udp --int-port 9400 --peer $WAN_IP:7004 --nonce $N2 --lifetime 0 >/dev/null

echo "every error a client can meet"
check_out "a header address that is not the sender: ADDRESS_MISMATCH" "result=ADDRESS_MISMATCH" pcp $HA map --int-port 8002 --client 192.0.2.99
check_out "THIRD_PARTY (not allowed by default): UNSUPP_OPTION" "result=UNSUPP_OPTION" pcp $HA map --int-port 8002 --third-party $B_IP
check_out "THIRD_PARTY naming the sender itself: MALFORMED_REQUEST" "result=MALFORMED_REQUEST" pcp $HA map --int-port 8002 --third-party $A_IP
check_out "... on PEER too" "result=MALFORMED_REQUEST" pcp $HA peer --int-port 40003 --peer $WAN_IP:7000 --third-party $A_IP
check_out "protocol ICMP: UNSUPP_PROTOCOL" "result=UNSUPP_PROTOCOL" pcp $HA map --int-port 8002 --proto 1
check_out "internal port 0 (all ports): UNSUPP_PROTOCOL" "result=UNSUPP_PROTOCOL" pcp $HA map --int-port 0
check_out "protocol 0 (all protocols): UNSUPP_PROTOCOL" "result=UNSUPP_PROTOCOL" pcp $HA map --int-port 0 --proto 0
check_out "protocol 0 with an internal port: MALFORMED_REQUEST" "result=MALFORMED_REQUEST" pcp $HA map --int-port 8002 --proto 0
check_out "... also to delete" "result=MALFORMED_REQUEST" pcp $HA map --int-port 8002 --proto 0 --lifetime 0
check_out "an unknown mandatory option: UNSUPP_OPTION" "result=UNSUPP_OPTION" pcp $HA map --int-port 8002 --option 50:00000000
check_out "an unknown optional option is ignored" "result=SUCCESS" pcp $HA map --int-port 8002 --option 200:00000000 --nonce $N1
cl=$(ip netns exec $HA python3 -c "import ipaddress;print((b'\0'*10+b'\xff\xff'+ipaddress.ip_address('$A_IP').packed).hex())")
check_out "version 3: UNSUPP_VERSION" "result=UNSUPP_VERSION" pcp $HA raw "0301000000000e10$cl"
check_out "opcode 9: UNSUPP_OPCODE" "result=UNSUPP_OPCODE" pcp $HA raw "0209000000000e10$cl"
check_out "a length not a multiple of 4: MALFORMED_REQUEST" "result=MALFORMED_REQUEST" pcp $HA raw "0200000000000e10${cl}00"
check_out "MAP data cut short: MALFORMED_REQUEST" "result=MALFORMED_REQUEST" pcp $HA raw "0201000000000e10${cl}0011223344556677"
past=$(python3 -c "import sys; print('0201000000000e10' + '$cl' + '00112233445566778899aabb' + '06000000' + '1f40' + '0000' + '00'*10 + 'ffff' + '00'*4 + '01000010')")
check_out "an option running past the packet: MALFORMED_OPTION" "result=MALFORMED_OPTION" pcp $HA raw "$past"
check_out "shorter than 24 octets: no answer" "noreply" pcp $HA raw "0201000000000e10"
for len in 1200 4000; do
	out=$(pcp $HA raw "$(python3 -c "print('0201000000000e10' + '$cl' + '00' * ($len - 24))")")
	case "$out" in *result=MALFORMED_REQUEST*" len=1100 "*) pass "a $len-octet request: MALFORMED_REQUEST, cut to 1100 octets" ;;
	*) fail "a $len-octet request: $out" ;; esac
done
check_out "ANNOUNCE: SUCCESS with the epoch" "result=SUCCESS lifetime=0 epoch=" pcp $HA announce
[ -z "$(timeout 3 ip netns exec $WAN python3 "$PCPC" $GW_WAN_IP map --int-port 8000 --client $WAN_IP | grep -v noreply)" ] && pass "requests from the WAN side get no answer" || fail "the WAN side was answered"

echo "THIRD_PARTY allowed by the config"
sed -i 's/^pcp_max_filters.*/&\npcp_allow_third_party = yes/' "$conf"
kill -HUP $PG_PID; sleep 0.5
check_out "for LAN host B: SUCCESS" "result=SUCCESS" pcp $HA map --int-port 8003 --third-party $B_IP --nonce $N1
check_out "the mapping is B's" "$B_IP:8003" pgctl list
check_out "for an off-LAN address: NOT_AUTHORIZED" "result=NOT_AUTHORIZED" pcp $HA map --int-port 8003 --third-party 198.51.100.5 --nonce $N1
check_out "naming the sender itself: still MALFORMED_REQUEST" "result=MALFORMED_REQUEST" pcp $HA map --int-port 8003 --third-party $A_IP --nonce $N1

echo "rate limit"
check_out "a flood of 200 requests gets at most a burst answered" "answered" pcp $HA flood 200
out=$(pcp $HA flood 200); n=$(echo "$out" | awk '{print $2}')
[ -n "$n" ] && [ "$n" -le 80 ] && pass "answered $n of 200 (burst 60, 20/s)" || fail "flood: $out"
sleep 1.5
check_out "a well-behaved client is served again a moment later" "result=SUCCESS" pcp $HA announce

echo "epoch and announcements"
check_out "the ANNOUNCE listener heard the start-up announcement" "announce from=$GW_LAN_IP op=0 result=0 epoch=0" cat "$LAB_DIR/announce1"
check_out "and NAT-PMP's public address announcement" "natpmp-announce from=$GW_LAN_IP len=12" cat "$LAB_DIR/announce1"
check_out "status shows the epoch" "pcp_epoch" pgctl status
check_out "status counts MAP results" "pcp_requests map SUCCESS" pgctl status
# pins are not kept across a restart (held ones restart the epoch): release them first
pcp $HB peer --int-port 40000 --peer $WAN_IP:7000 --nonce $N2 --lifetime 0 >/dev/null
pcp $HA peer --int-port 8010 --peer $WAN_IP:7001 --nonce $N1 --lifetime 0 >/dev/null
pcp $HA peer --int-port 40002 --peer $WAN_IP:7002 --nonce $N1 --lifetime 0 >/dev/null
check_out "no pins left" "peer_pins 0" pgctl status
sleep 2
lab_stop_daemon
in_a timeout 4 python3 "$PCPC" listen 3 > "$LAB_DIR/announce2" &
sleep 0.5
check "restart with the state file" lab_start_daemon "$conf"
e=$(pcp $HA announce | sed -n 's/.*epoch=\([0-9]*\).*/\1/p')
[ -n "$e" ] && [ "$e" -ge 2 ] && pass "the epoch continued across the restart ($e s)" || fail "epoch after restart: $e"
sleep 3
check_out "the restart was announced with the continued epoch" "announce from=$GW_LAN_IP op=0 result=0" cat "$LAB_DIR/announce2"
check_out "mappings survived the restart" "9200" pgctl list

echo "a PCP delete answered, then kill -9: the mapping stays deleted (the journal)"
listen $HA tcp 8006 hello-journal
check_out "MAP 9450 -> A:8006" "result=SUCCESS" pcp $HA map --int-port 8006 --ext-port 9450 --lifetime 600 --nonce $N1
lab_stop_daemon
check "restart: the mapping is in the snapshot" lab_start_daemon "$conf"
check_out "the WAN peer reaches it" hello-journal connect $WAN tcp $GW_WAN_IP 9450
check_out "PCP delete (lifetime 0) answered" "result=SUCCESS lifetime=0" pcp $HA map --int-port 8006 --lifetime 0 --nonce $N1
kill -9 "$PG_PID"; wait "$PG_PID" 2>/dev/null; PG_PID=
check "restart after kill -9" lab_start_daemon "$conf"
if pgctl list | grep -q " 9450 "; then fail "the deleted mapping came back"; else pass "the deleted mapping stays deleted"; fi
[ -z "$(connect $WAN tcp $GW_WAN_IP 9450)" ] && pass "the WAN peer no longer reaches it" ||
	fail "the WAN peer reaches the deleted mapping"
check_out "the other mappings are back" "9200" pgctl list
pcp $HA peer --int-port 40005 --peer $WAN_IP:7000 --nonce $N1 >/dev/null
lab_stop_daemon
check "restart while a pin was held" lab_start_daemon "$conf"
e=$(pcp $HA announce | sed -n 's/.*epoch=\([0-9]*\).*/\1/p')
[ "$e" = 0 ] && pass "a pin was lost: the epoch restarts at 0" || fail "epoch after losing a pin: $e"
lab_stop_daemon
rm -f "$LAB_DIR/state"
check "restart without the state file" lab_start_daemon "$conf"
e=$(pcp $HA announce | sed -n 's/.*epoch=\([0-9]*\).*/\1/p')
[ "$e" = 0 ] && pass "with the state lost the epoch restarts at 0" || fail "epoch after state loss: $e"

echo "a reload that changes external_ip"
sleep 2
echo "external_ip = 198.51.100.7" >> "$conf"
in_a timeout 4 python3 "$PCPC" listen 3 > "$LAB_DIR/announce3" &
sleep 0.5
kill -HUP $PG_PID
wait_for 3 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' status | grep -q 'external_ip 198.51.100.7'"
e=$(pcp $HA announce | sed -n 's/.*epoch=\([0-9]*\).*/\1/p')
[ -n "$e" ] && [ "$e" -le 1 ] && pass "restarts the epoch ($e s): clients learn their mappings moved" || fail "epoch after the external address changed: $e"
check_out "NAT-PMP answers with the new address" "Public IP address : 198.51.100.7" in_a timeout 5 natpmpc -g $GW_LAN_IP
sleep 3
check_out "and the change is announced" "announce from=$GW_LAN_IP op=0 result=0 epoch=0" cat "$LAB_DIR/announce3"
check_out "a PEER then reports the configured address" "ext=198.51.100.7:40010" pcp $HA peer --int-port 40010 --peer $WAN_IP:7000 --nonce $N1
check_out "but pins SNAT to the WAN interface's own address" "192.0.2.10 . tcp . 40010 . 198.51.100.100 . 7000 timeout" sh -c "ip netns exec $GW nft list map ip portgate peer_snat | grep -q ': $GW_WAN_IP . 40010' && ip netns exec $GW nft list map ip portgate peer_snat"
check_out "so the pinned flow works" "port=40010" seen $HA 40010 7000

echo "PCP over IPv6 (the lab's LAN has it)"
lab_stop_daemon
in_a timeout 4 python3 "$PCPC" listen6 3 > "$LAB_DIR/announce6" &
sleep 0.5
check "restart with an IPv6 LAN" lab_start_daemon "$conf"
pcp6() { timeout 8 ip netns exec $HA python3 "$PCPC" 2001:db8:1::1 "$@"; }
check_out "ANNOUNCE over IPv6: SUCCESS" "result=SUCCESS lifetime=0" pcp6 announce
check_out "a MAP for an IPv6 address opens a pinhole: its own address and port" "ext=2001:db8:1::10:8000" pcp6 map --int-port 8000 --nonce 0102030405060708090a0b0c
check_out "... and lifetime 0 closes it" "result=SUCCESS lifetime=0" pcp6 map --int-port 8000 --lifetime 0 --nonce 0102030405060708090a0b0c
check_out "ADDRESS_MISMATCH over IPv6 too" "result=ADDRESS_MISMATCH" pcp6 announce --client 2001:db8:1::99
sleep 3
check_out "the start-up ANNOUNCE reached ff02::1" "announce from=fe80" cat "$LAB_DIR/announce6"

kill -0 $PG_PID && pass "the daemon survived all of it" || fail "the daemon died"
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
