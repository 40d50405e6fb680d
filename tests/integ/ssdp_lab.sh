#!/bin/bash
# ssdp_lab.sh - SSDP discovery in the namespace lab: gssdp-discover and a
# python control point on the LAN, a forged source on the LAN link, the WAN
# peer, and the NOTIFYs a listener on the LAN sees at start, reload and stop;
# over IPv4 and over IPv6 (ff02::c, ff05::c, unicast: 8. and the listeners).
# Only SSDP is tested (the HTTP server answers the LOCATIONs elsewhere).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v python3 >/dev/null || skip "needs python3"
command -v gssdp-discover >/dev/null || skip "needs gssdp-discover (gupnp-tools)"
lab_up
# the forged source in 4. must reach portgated, not stop at the kernel's reverse-path filter
in_gw sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.br-lan.rp_filter=0
conf=$LAB_DIR/pg.conf
cat > "$conf" <<EOF
firewall = none
lan_interface = br-lan
state_file = $LAB_DIR/state
control_socket = $LAB_DIR/sock
upnp_notify_interval = 30
EOF
LOG=$LAB_DIR/daemon.log
URN=urn:schemas-upnp-org
LOC2=http://$GW_LAN_IP:5000/rootDesc.xml
LOC6=http://[$GW_LAN_IP6]:5000/rootDesc.xml
cli() { local ns=$1; shift; ip netns exec "$ns" python3 "$top_srcdir/tests/integ/ssdp_client.py" "$@"; }
# search NS ST [client options...]: answers to a search, one line each (1.5 s)
search() { local ns=$1 st=$2; shift 2; cli "$ns" search "$@" "$st" 1.5; }
# answers FILE KEY=VALUE...: how many lines hold every one of the fields
answers() {
	local f=$1; shift
	awk -v want="$*" 'BEGIN { n = split(want, w, " ") }
		{ ok = 1; for (i = 1; i <= n; i++) if (index(" " $0 " ", " " w[i] " ") == 0) ok = 0; c += ok }
		END { print c + 0 }' "$f"
}
# expect_n DESCRIPTION N FILE FIELDS...: exactly N answers hold the fields
expect_n() {
	local d=$1 want=$2 f=$3 got; shift 3
	got=$(answers "$f" "$@")
	if [ "$got" = "$want" ]; then pass "$d"; else fail "$d: $got answers with $*, wanted $want:"; sed 's/^/       | /' "$f" | head -20; fi
}
# listen_start FILE: a NOTIFY listener in host B until listen_wait
listen_start() {
	cli $HB listen --addr $B_IP "${2:-4}" > "$1" 2> "$1.err" &
	LPID=$!
	wait_for 3 grep -q listening "$1.err"
}
listen_wait() { wait $LPID; }
# listen6_start FILE [SECONDS]: the same over IPv6 (ff02::c and ff05::c on B's eth0)
listen6_start() {
	cli $HB -6 eth0 listen "${2:-4}" > "$1" 2> "$1.err" &
	LPID6=$!
	wait_for 3 grep -q listening "$1.err"
}
listen6_wait() { wait $LPID6; }
# search6 NS ST [client options...]: search() over IPv6 (to ff02::c unless --to)
search6() { local ns=$1 st=$2; shift 2; cli "$ns" -6 eth0 search "$@" "$st" 1.5; }
udn() { printf '%s%x' "${ROOT%?}" $(( (0x${ROOT: -1} + $1) % 16 )); }
dropped() { grep -c "ssdp: dropped a datagram from $1" "$LOG"; }

echo "1. NOTIFY ssdp:alive on the LAN at start"
listen_start "$LAB_DIR/alive"
listen6_start "$LAB_DIR/alive6"
check "portgated starts" lab_start_daemon "$conf"
listen_wait
listen6_wait
ROOT=$(sed -n 's/.*upnp: IGD uuid:\([0-9a-f-]*\) on port.*/\1/p' "$LOG" | head -1)
[ ${#ROOT} = 36 ] && pass "the root UDN is logged ($ROOT)" || fail "no UDN in the log"
WAN_UDN=$(udn 1)
CONN_UDN=$(udn 2)
check_out "ssdp says where it listens" "ssdp: joined 239.255.255.250 on br-lan (192.0.2.1)" cat "$LOG"
expect_n "15 alive messages (the ssdp:all set)" 15 "$LAB_DIR/alive" nts=ssdp:alive from=$GW_LAN_IP:1900
expect_n "upnp:rootdevice with the v2 description" 1 "$LAB_DIR/alive" nt=upnp:rootdevice \
	usn=uuid:$ROOT::upnp:rootdevice location=$LOC2 cache-control=max-age=1800
expect_n "IGD:1 with the one LOCATION (the v2 description's)" 1 "$LAB_DIR/alive" nt=$URN:device:InternetGatewayDevice:1 \
	usn=uuid:$ROOT::$URN:device:InternetGatewayDevice:1 location=$LOC2
expect_n "every alive message has it" 15 "$LAB_DIR/alive" nts=ssdp:alive location=$LOC2
expect_n "WANIPConnection:2 on the connection device" 1 "$LAB_DIR/alive" \
	nt=$URN:service:WANIPConnection:2 usn=uuid:$CONN_UDN::$URN:service:WANIPConnection:2 location=$LOC2
BOOTID=$(sed -n 's/.*bootid.upnp.org=\([0-9]*\).*/\1/p' "$LAB_DIR/alive" | sort -u)
[ -n "$BOOTID" ] && [ "$(echo "$BOOTID" | wc -l)" = 1 ] && pass "one BOOTID.UPNP.ORG ($BOOTID)" ||
	fail "BOOTID: '$BOOTID'"

echo "2. gssdp-discover finds the IGD (v1 and v2 searches)"
check_out "IGD:1 search: the one LOCATION" "$LOC2" timeout 10 ip netns exec $HA \
	gssdp-discover -i eth0 --timeout=3 --target=$URN:device:InternetGatewayDevice:1
check_out "IGD:2 search: the v2 description" "$LOC2" timeout 10 ip netns exec $HA \
	gssdp-discover -i eth0 --timeout=3 --target=$URN:device:InternetGatewayDevice:2
check_out "WANIPConnection:1 search: its USN" "uuid:$CONN_UDN::$URN:service:WANIPConnection:1" \
	timeout 10 ip netns exec $HA gssdp-discover -i eth0 --timeout=3 --target=$URN:service:WANIPConnection:1

echo "3. a python control point on host A"
out=$LAB_DIR/search
sleep 1.1	# a fresh per-source budget
search $HA ssdp:all --mx 1 > $out
expect_n "ssdp:all: 15 answers from $GW_LAN_IP:1900" 15 $out from=$GW_LAN_IP:1900 start=HTTP/1.1_200_OK \
	ext=\(empty\) cache-control=max-age=1800 bootid.upnp.org=$BOOTID location=$LOC2
[ "$(sed -n 's/.* usn=\([^ ]*\).*/\1/p' $out | sort -u | wc -l)" = 15 ] && pass "15 different USNs" ||
	fail "USNs: $(sed -n 's/.* usn=\([^ ]*\).*/\1/p' $out | sort | uniq -c)"
awk '{ sub(/.* t=/, ""); sub(/ .*/, ""); if ($0 + 0 > 1.1) bad++ } END { exit bad > 0 }' $out &&
	pass "all within MX = 1 s" || fail "late answers: $(cat $out)"
check_out "SERVER names portgate" "server=Linux" grep -m1 portgate $out
search $HA $URN:device:InternetGatewayDevice:1 > $out
expect_n "IGD:1: rootDesc.xml, ST and USN at version 1" 1 $out st=$URN:device:InternetGatewayDevice:1 \
	usn=uuid:$ROOT::$URN:device:InternetGatewayDevice:1 location=$LOC2
expect_n "IGD:1: nothing else" 1 $out
search $HA $URN:device:InternetGatewayDevice:2 > $out
expect_n "IGD:2: rootDesc.xml" 1 $out st=$URN:device:InternetGatewayDevice:2 location=$LOC2
search $HA $URN:device:InternetGatewayDevice:3 > $out
expect_n "IGD:3: no answer" 0 $out
search $HA $URN:service:WANIPConnection:1 > $out
expect_n "WANIPConnection:1: the one LOCATION, connection device" 1 $out \
	usn=uuid:$CONN_UDN::$URN:service:WANIPConnection:1 location=$LOC2
search $HA $URN:service:WANCommonInterfaceConfig:1 > $out
expect_n "WANCommonInterfaceConfig:1: v2 description, WAN device" 1 $out \
	usn=uuid:$WAN_UDN::$URN:service:WANCommonInterfaceConfig:1 location=$LOC2
search $HA uuid:$WAN_UDN > $out
expect_n "uuid: search: USN is the UDN" 1 $out st=uuid:$WAN_UDN usn=uuid:$WAN_UDN
search $HA upnp:rootdevice --to $GW_LAN_IP --mx none > $out
expect_n "unicast search without MX is answered" 1 $out usn=uuid:$ROOT::upnp:rootdevice location=$LOC2
awk '{ sub(/.* t=/, ""); sub(/ .*/, ""); exit !($0 + 0 < 0.5) }' $out && pass "... at once" ||
	fail "unicast answer late: $(cat $out)"
n0=$(grep -c 'missing or bad MX' "$LOG")
search $HA upnp:rootdevice --mx none > $out
expect_n "multicast search without MX: no answer" 0 $out
[ "$(grep -c 'missing or bad MX' "$LOG")" -gt "$n0" ] && pass "... dropped as missing MX" || fail "no log line"
{ printf 'M-SEARCH * HTTP/1.1\r\n'; head -c 8979 /dev/zero | tr '\0' x; } > $LAB_DIR/big
cli $HA raw --to $GW_LAN_IP $LAB_DIR/big 1 > $out
expect_n "a 9000-byte datagram: no answer" 0 $out
check_out "... dropped as too long" "(ifindex" grep "dropped a datagram from $A_IP.*too long" "$LOG"

echo "4. searches that are not from the LAN"
in_b ip addr add 198.51.100.77/32 dev eth0
search $HB ssdp:all --src 198.51.100.77 > $out
expect_n "a forged non-LAN source on the LAN link: no answer" 0 $out
[ "$(dropped 198.51.100.77)" -ge 1 ] && pass "... dropped: $(grep -m1 'from 198.51.100.77' "$LOG" | sed 's/.*: //')" ||
	fail "not in the log"
search $WAN ssdp:all --to $GW_WAN_IP --mx none > $out
expect_n "the WAN peer's unicast search: no answer" 0 $out
check_out "... dropped as not from a LAN interface" "not from a LAN interface" grep "from $WAN_IP" "$LOG"
search $HA ssdp:all --to $GW_WAN_IP --mx none > $out
expect_n "a LAN search sent to the WAN address: no answer" 0 $out
check_out "... dropped" "not sent to 239.255.255.250 or to us" grep "from $A_IP" "$LOG"

echo "5. the search rate per source is bounded"
sleep 1.1
cli $HA search --to $GW_LAN_IP --mx none --repeat 40 upnp:rootdevice 1 > $out
n=$(wc -l < $out)
[ "$n" -ge 8 ] && [ "$n" -le 20 ] && pass "40 searches at once: $n answered (10 a second, and what refills while they arrive)" || fail "$n of 40 answered"
check_out "the rest dropped" "over the search rate" cat "$LOG"
search $HB upnp:rootdevice --to $GW_LAN_IP --mx none > $out
expect_n "another host is still answered" 1 $out usn=uuid:$ROOT::upnp:rootdevice

echo "6. reload: byebye, then alive with the next BOOTID"
listen_start "$LAB_DIR/reload" 3
listen6_start "$LAB_DIR/reload6" 3
kill -HUP $PG_PID
listen_wait
listen6_wait
expect_n "15 byebye with the old BOOTID" 15 "$LAB_DIR/reload" nts=ssdp:byebye bootid.upnp.org=$BOOTID
expect_n "15 alive with BOOTID + 1" 15 "$LAB_DIR/reload" nts=ssdp:alive bootid.upnp.org=$((BOOTID + 1))
expect_n "IPv6: 30 byebye with the old BOOTID" 30 "$LAB_DIR/reload6" nts=ssdp:byebye bootid.upnp.org=$BOOTID
expect_n "IPv6: 30 alive with BOOTID + 1" 30 "$LAB_DIR/reload6" nts=ssdp:alive bootid.upnp.org=$((BOOTID + 1))
search $HA $URN:device:InternetGatewayDevice:1 > $out
expect_n "still answering after the reload" 1 $out location=$LOC2 bootid.upnp.org=$((BOOTID + 1))

echo "7. the LAN address goes away and comes back"
in_gw ip addr del $GW_LAN_IP/24 dev br-lan
check "SSDP leaves br-lan within seconds" wait_for 8 grep -q "ssdp: left 239.255.255.250 on br-lan" "$LOG"
listen_start "$LAB_DIR/back" 8
in_gw ip addr add $GW_LAN_IP/24 dev br-lan
listen_wait
expect_n "back on br-lan: the alive set is sent at once" 15 "$LAB_DIR/back" nts=ssdp:alive
search $HA $URN:device:InternetGatewayDevice:2 > $out
expect_n "and searches are answered again" 1 $out location=$LOC2

echo "8. IPv6: ff02::c and ff05::c, LOCATION on the global address, the v2 description"
check_out "ssdp joined both groups on br-lan" \
	"ssdp: joined ff02::c and ff05::c on br-lan ($GW_LAN_IP6)" cat "$LOG"
GW_LL=$(in_gw ip -6 addr show dev br-lan scope link | sed -n 's/.*inet6 \(fe80[^/]*\).*/\1/p' | head -1)
f=$LAB_DIR/alive6
# the kernel picks the source: link-local for ff02::c once br-lan's is no longer tentative
expect_n "at start: 15 alive to [FF02::C]" 15 $f nts=ssdp:alive to=ff02::c host=[FF02::C]:1900 \
	location=$LOC6
expect_n "and 15 to [FF05::C] from the global one" 15 $f nts=ssdp:alive to=ff05::c \
	host=[FF05::C]:1900 from=[$GW_LAN_IP6]:1900 location=$LOC6
expect_n "IGD:1 over IPv6: the v2 description, the same USN" 2 $f nt=$URN:device:InternetGatewayDevice:1 \
	usn=uuid:$ROOT::$URN:device:InternetGatewayDevice:1 location=$LOC6 bootid.upnp.org=$BOOTID
usns() { sed -n 's/.* usn=\([^ ]*\).*/\1/p' "$1" | sort -u; }
[ "$(usns $f)" = "$(usns "$LAB_DIR/alive")" ] && pass "the same 15 USNs as over IPv4" ||
	fail "USNs differ: $(usns $f | wc -l) over IPv6"
sleep 1.1
search6 $HA ssdp:all --mx 1 > $out
expect_n "ssdp:all to ff02::c (from A's link-local address): 15 answers" 15 $out \
	start=HTTP/1.1_200_OK location=$LOC6 bootid.upnp.org=$((BOOTID + 1))
grep -q "from=\[$GW_LL\]:1900" $out && pass "... from the gateway's link-local address" ||
	fail "answers from: $(sed -n 's/^from=\([^ ]*\).*/\1/p' $out | sort -u)"
search6 $HA $URN:device:InternetGatewayDevice:1 --to ff05::c > $out
expect_n "IGD:1 to ff05::c (from A's global address): rootDesc.xml, ST at version 1" 1 $out \
	from=[$GW_LAN_IP6]:1900 st=$URN:device:InternetGatewayDevice:1 location=$LOC6 \
	usn=uuid:$ROOT::$URN:device:InternetGatewayDevice:1
search6 $HA $URN:service:WANIPConnection:2 --to ff05::c > $out
expect_n "WANIPConnection:2: the connection device" 1 $out \
	usn=uuid:$CONN_UDN::$URN:service:WANIPConnection:2 location=$LOC6
search6 $HA upnp:rootdevice --to $GW_LAN_IP6 --mx none > $out
expect_n "unicast to [$GW_LAN_IP6] without MX is answered" 1 $out location=$LOC6
search6 $HA upnp:rootdevice --to "$GW_LL" --mx none > $out
expect_n "unicast to the gateway's link-local address too" 1 $out location=$LOC6
search6 $HA upnp:rootdevice --mx none > $out
expect_n "multicast without MX: no answer" 0 $out
in_b ip -6 addr add 2001:db8:9::77/128 dev eth0 nodad
search6 $HB ssdp:all --to ff05::c --src 2001:db8:9::77 > $out
expect_n "a forged off-LAN IPv6 source on the LAN link: no answer" 0 $out
check_out "... dropped as not a LAN host" "from [2001:db8:9::77]:" grep "2001:db8:9::77 is not inside a LAN subnet" "$LOG"
cli $WAN -6 eth0 search --to $GW_WAN_IP6 --mx none ssdp:all 1.5 > $out
expect_n "the WAN peer's unicast search to the gateway's WAN address: no answer" 0 $out
cli $WAN -6 eth0 search --to $GW_LAN_IP6 --mx none ssdp:all 1.5 > $out
expect_n "... and routed to its LAN address: no answer" 0 $out
[ "$(grep -c "from \[$WAN_IP6\]:.*not from a LAN interface" "$LOG")" -ge 2 ] &&
	pass "... both dropped as not from a LAN interface" || fail "not in the log"
search6 $HA ssdp:all --to $GW_WAN_IP6 --mx none > $out
expect_n "a LAN search sent to the WAN address: no answer" 0 $out
check_out "... dropped" "not sent to ff02::c, ff05::c or to us" grep "from \[$A_IP6\]" "$LOG"
sleep 1.1
cli $HA -6 eth0 search --to $GW_LAN_IP6 --mx none --repeat 40 upnp:rootdevice 1 > $out
n=$(wc -l < $out)
[ "$n" -ge 8 ] && [ "$n" -le 20 ] && pass "40 IPv6 searches at once: $n answered" || fail "$n of 40 answered"
echo "   the global IPv6 address goes away and comes back"
in_gw ip -6 addr del $GW_LAN_IP6/64 dev br-lan
check "SSDP leaves the IPv6 groups within seconds" wait_for 8 grep -q "ssdp: left ff02::c and ff05::c on br-lan" "$LOG"
check "link-local only: said once at debug level" wait_for 3 grep -q "ssdp: br-lan has no global IPv6 address" "$LOG"
search6 $HA ssdp:all > $out
expect_n "then nothing is answered over IPv6" 0 $out
sleep 6
[ "$(grep -c "ssdp: br-lan has no global IPv6 address" "$LOG")" = 1 ] && pass "... and said only once" ||
	fail "said $(grep -c "ssdp: br-lan has no global IPv6 address" "$LOG") times"
listen6_start "$LAB_DIR/back6" 8
in_gw ip -6 addr add $GW_LAN_IP6/64 dev br-lan nodad
listen6_wait
# (the 30 s round may fall into the window too: count each group's NTs once)
n=$(awk -v loc="location=$LOC6" 'index(" " $0 " ", " nts=ssdp:alive ") && index(" " $0 " ", " " loc " ") {
	for (i = 1; i <= NF; i++) if ($i ~ /^(to|usn)=/) printf "%s ", $i; print "" }' "$LAB_DIR/back6" | sort -u | wc -l)
[ "$n" = 30 ] && pass "back: the alive set to both groups at once" ||
	fail "back: $n different alive messages, wanted 30"
search6 $HA $URN:device:InternetGatewayDevice:2 --to ff05::c > $out
expect_n "and searches are answered again" 1 $out location=$LOC6

echo "9. byebye at stop"
listen_start "$LAB_DIR/bye" 3
listen6_start "$LAB_DIR/bye6" 3
lab_stop_daemon
listen_wait
listen6_wait
expect_n "15 byebye messages" 15 "$LAB_DIR/bye" nts=ssdp:byebye
grep -q location= "$LAB_DIR/bye" && fail "byebye with a LOCATION" || pass "... without LOCATION"
expect_n "IPv6: 15 byebye to each group" 15 "$LAB_DIR/bye6" nts=ssdp:byebye to=ff02::c
expect_n "..." 15 "$LAB_DIR/bye6" nts=ssdp:byebye to=ff05::c host=[FF05::C]:1900
grep -q location= "$LAB_DIR/bye6" && fail "IPv6 byebye with a LOCATION" || pass "... without LOCATION"
check_no_sanitizer "$LOG"
finish
