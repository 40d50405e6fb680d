#!/bin/bash
# pinhole_lab.sh - IPv6 pinholes in the namespace lab, with real IPv6 traffic, behind the
# admin firewall README describes (table inet filter, forward policy drop, plus README's
# lines): upnpc -6 (WANIPv6FirewallControl), PCP MAP and PEER from an IPv6 host, portgatectl
# pinhole, restart, nft flush ruleset, kernel expiry with the daemon killed, a config pinhole.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v upnpc >/dev/null || skip "needs upnpc"
lab_up
lab_admin_fw6
WAN_IP6B=2001:db8:2::101
in_wan ip -6 addr add $WAN_IP6B/64 dev eth0 nodad
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "max_lease = 3600" "pcp_min_lifetime = 1" \
	"pinhole = udp [$B_IP6]:5300 remote [$WAN_IP6/128]:53 desc dns from the peer"
check "portgated starts" lab_start_daemon "$conf"
PCPC="$top_srcdir/tests/integ/pcp_client.py"
pcp6() { local ns=$1; shift; timeout 8 ip netns exec "$ns" python3 "$PCPC" $GW_LAN_IP6 "$@"; }
# discovery as a real IPv6-only control point does it: M-SEARCH to [FF05::C]/[FF02::C] on eth0
upnp6() { local ns=$1; shift; timeout 10 ip netns exec "$ns" upnpc -6 -i -m eth0 "$@"; }
# reach ADDR PORT SRC REPLY: from the WAN peer (SRC, default $WAN_IP6: it has two addresses)
reach() { [ "$(connect6 $WAN tcp "$1" "$2" "${3:-$WAN_IP6}")" = "$4" ]; }
reach6_out() { [ "$(connect6 $HB tcp $WAN_IP6 7000)" = hello-wan ]; }
pin_in_kernel() { in_gw nft list table ip6 portgate | grep -q "$1"; }
listen6 $HA tcp 8000 hello-a
listen6 $HA tcp 8001 hello-pcp
listen6 $HA tcp 8002 hello-ctl

echo "the admin firewall alone: nothing from the WAN gets in"
check_not "the WAN peer cannot reach [$A_IP6]:8000" reach $A_IP6 8000 "" hello-a
listen6 $WAN tcp 7000 hello-wan
check "... while LAN to WAN works (the reply comes back as established)" reach6_out
check_out "the kernel has the ip6 table" "table ip6 portgate" in_gw nft list tables

echo "UPnP WANIPv6FirewallControl with upnpc -6"
out=$(upnp6 $HA -A "" 0 $A_IP6 8000 6 600 2>&1)
id=$(echo "$out" | sed -n 's/.*Pinhole ID *= *\([0-9]*\).*/\1/p' | head -1)
[ -n "$id" ] && pass "upnpc -6 -A opens a pinhole (UniqueID $id)" || { fail "upnpc -6 -A: $out"; id=1; }
check "its kernel element is in pin_any" pin_in_kernel "$A_IP6 . tcp . 8000"
check "the WAN peer connects to [$A_IP6]:8000" reach $A_IP6 8000 "" hello-a
check "again (more packets)" reach $A_IP6 8000 "" hello-a
pk=$(upnp6 $HA -K $id 2>&1 | sed -n 's/.*PinholePackets *= *\([0-9]*\).*/\1/p')
[ "${pk:-0}" -ge 4 ] && pass "upnpc -6 -K counts the traffic ($pk packets)" || fail "upnpc -6 -K: '$pk'"
check "portgatectl list shows it" bash -c "$PORTGATECTL -s $LAB_DIR/sock list | grep -E 'pinhole#$id +\\[$A_IP6\\]:8000 +upnp'"
upnp6 $HA -U $id 1800 >/dev/null 2>&1
left=$(pgctl list --json | python3 -c "import json,sys; print([e['expires_in'] for e in json.load(sys.stdin) if e.get('id')==$id][0])")
[ "${left:-0}" -gt 600 ] && pass "upnpc -6 -U extends it ($left s)" || fail "upnpc -6 -U: expires_in '$left'"
pk2=$(upnp6 $HA -K $id 2>&1 | sed -n 's/.*PinholePackets *= *\([0-9]*\).*/\1/p')
[ "${pk2:-0}" -ge "${pk:-1}" ] && pass "the count survives the update ($pk2)" || fail "count after -U: '$pk2' < '$pk'"
check_out "a pinhole for B's address from A: 606" "606" upnp6 $HA -A "" 0 $B_IP6 8000 6 3600
check_out "upnpc -6 -D closes it" "returned : 0" upnp6 $HA -D $id
check_not "the WAN peer is refused again" reach $A_IP6 8000 "" hello-a
check_not "its kernel element is gone" pin_in_kernel "$A_IP6 . tcp . 8000"

ev=$(GENA_PATH=/evt/IP6FCtl timeout 40 ip netns exec $HA python3 "$top_srcdir/tests/integ/gena_subscriber.py" \
	$GW_LAN_IP6 5000 $A_IP6 5557 2>&1)
check_out "GENA on WANIPv6FirewallControl: the initial event" "initial seq=0 nt=upnp:event nts=upnp:propchange" echo "$ev"
check_out "... carries FirewallEnabled and InboundPinholeAllowed" "firewall=1 pinholes=1" echo "$ev"

echo "PCP MAP from the host's IPv6 address"
N1=00112233445566778899aabb
check_out "MAP with a FILTER for $WAN_IP6" "result=SUCCESS" pcp6 $HA map --int-port 8001 --lifetime 600 --nonce $N1 --filter $WAN_IP6/128
check_out "the answer is the host's own address and port" "ext=$A_IP6:8001" pcp6 $HA map --int-port 8001 --lifetime 600 --nonce $N1 --filter $WAN_IP6/128
check "the named WAN host connects" reach $A_IP6 8001 "" hello-pcp
check_not "another WAN host ($WAN_IP6B) is refused" reach $A_IP6 8001 $WAN_IP6B hello-pcp
check_out "another nonce: NOT_AUTHORIZED" "result=NOT_AUTHORIZED" pcp6 $HA map --int-port 8001 --lifetime 600 --nonce ffeeddccbbaa998877665544
check_out "lifetime 0 closes it" "result=SUCCESS lifetime=0" pcp6 $HA map --int-port 8001 --lifetime 0 --nonce $N1 --filter $WAN_IP6/128
check_not "then the named host is refused too" reach $A_IP6 8001 "" hello-pcp
check_out "PEER over IPv6: a pinhole for that one remote" "ext=$A_IP6:8001" pcp6 $HA peer --int-port 8001 --peer "$WAN_IP6:40000" --lifetime 60 --nonce $N1
check_out "... listed with its remote" "from=[$WAN_IP6/128]:40000" pgctl list

echo "portgatectl pinhole add with a remote restriction"
out=$(pgctl pinhole add tcp "[$A_IP6]:8002" --remote "$WAN_IP6B" --desc web6 2>&1)
pid=$(echo "$out" | sed -n 's/^pinhole \([0-9]*\):.*/\1/p')
[ -n "$pid" ] && pass "pinhole add: $out" || fail "pinhole add: $out"
check "the named remote ($WAN_IP6B) connects" reach $A_IP6 8002 $WAN_IP6B hello-ctl
check_not "another ($WAN_IP6) does not" reach $A_IP6 8002 "" hello-ctl
check_out "forward add with an IPv6 address points to pinhole add" "pinhole add" pgctl forward add tcp 8080 "[$A_IP6]:80"
check_out "a bad endpoint names what is wrong" "bad endpoint" pgctl pinhole add tcp $A_IP6:8002
check_out "list --json has the pinhole's keys" "\"kind\":\"pinhole\",\"id\":$pid" pgctl list --json
check_out "the config's pinhole is there" "[$B_IP6]:5300" pgctl list

echo "many prefix pinholes closed at once: a rebuild, not minutes of kernel work"
for i in $(seq 1 300); do echo "pinhole add udp [$B_IP6]:$((20000 + i)) --remote 2001:db8:2:$i::/64"; done | pgctl - >/dev/null
n=$(in_gw nft list set ip6 portgate pin_pfx | grep -o '2001:db8:2:[0-9a-f]*::/64' | wc -l)
[ "$n" -ge 300 ] && pass "300 prefix pinholes in pin_pfx" || fail "pin_pfx holds $n"
check_out "flush --source static closes them" "pinholes" timeout 20 "$PORTGATECTL" -s "$LAB_DIR/sock" flush --source static
wait_for 5 bash -c "! ip netns exec $GW nft list set ip6 portgate pin_pfx | grep -q '2001:db8:2:1::/64'" \
	&& pass "pin_pfx is empty again within seconds" || fail "pin_pfx still holds them"
check "the daemon answers meanwhile" pgctl status
pgctl pinhole add tcp "[$A_IP6]:8002" --remote "$WAN_IP6B" --desc web6 >/dev/null
pid=$(pgctl list --json | python3 -c "import json,sys; print([e['id'] for e in json.load(sys.stdin) if e.get('internal_port')==8002][0])")

echo "restart, flush, expiry"
lab_stop_daemon
check "portgated restarts" lab_start_daemon "$conf"
check_out "the pinhole survived the restart (same ID)" "pinhole#$pid" pgctl list
check "... and still lets the named remote in" reach $A_IP6 8002 $WAN_IP6B hello-ctl
in_gw nft flush ruleset
lab_admin_fw6
wait_for 5 pin_in_kernel "$A_IP6 . tcp . 8002" \
	&& pass "after nft flush ruleset the daemon restores the ip6 table" || fail "ip6 table not restored"
check "the named remote connects again" reach $A_IP6 8002 $WAN_IP6B hello-ctl
check_not "the other still does not" reach $A_IP6 8002 "" hello-ctl
pgctl pinhole add tcp "[$A_IP6]:8000" --lease 3 --desc short >/dev/null
check "a 3 s pinhole lets the peer in" reach $A_IP6 8000 "" hello-a
kill -9 $PG_PID; wait $PG_PID 2>/dev/null; PG_PID=
sleep 4
check_not "with the daemon killed, the kernel closed it after 3 s" reach $A_IP6 8000 "" hello-a
check "the permanent one is still open" reach $A_IP6 8002 $WAN_IP6B hello-ctl
in_gw nft delete table ip portgate 2>/dev/null; in_gw nft delete table ip6 portgate 2>/dev/null
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
