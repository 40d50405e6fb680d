#!/bin/bash
# http_accept_lab.sh - the UPnP HTTP server's accept policy, with no kernel filtering in the
# way (firewall = none): a WAN host that routes the LAN prefix via the gateway reaches the
# LAN address, and is closed as soon as its connection is accepted, before it takes one of
# the 128 connection slots; so 33 WAN addresses with 4 idle connections each do not crowd
# out LAN clients, as they did when such peers were refused only at their request (403).
# Over IPv4 and IPv6. (portgate's nftables table may drop such packets before they reach
# the socket; firewall = none keeps this test about the HTTP server itself.)
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v curl >/dev/null && command -v python3 >/dev/null || skip "needs curl and python3"
lab_up
conf=$LAB_DIR/pg.conf
cat > "$conf" <<EOF
firewall = none
lan_interface = br-lan
state_file = $LAB_DIR/state
control_socket = $LAB_DIR/sock
EOF
LOG=$LAB_DIR/daemon.log
check "portgated starts (firewall = none)" lab_start_daemon "$conf"
ROOT=http://$GW_LAN_IP:5000/rootDesc.xml
ROOT6=http://[$GW_LAN_IP6]:5000/rootDesc.xml
code() { timeout 5 ip netns exec "$1" curl -g -s -o /dev/null -w '%{http_code}' -m 3 "${@:2}"; }
# curlrc NS ARGS: curl's exit status (52 empty reply, 56 reset: the server closed; 28 timeout)
curlrc() { timeout 5 ip netns exec "$1" curl -g -s -o /dev/null -m 3 "${@:2}"; echo $?; }
stat_of() { pgctl status | sed -n "s/^$1 //p"; }
in_wan ip route add 192.0.2.0/24 via $GW_WAN_IP
WANS=
for i in $(seq 101 133); do in_wan ip addr add 198.51.100.$i/32 dev eth0; WANS="$WANS 198.51.100.$i"; done

echo "1. a WAN peer routed to the LAN address is closed at accept"
check_out "a LAN client is served" 200 code $HA $ROOT
r0=$(stat_of http_refused)
check_out "the WAN peer gets no HTTP answer at all (not even 403)" 000 code $WAN -H "Host: $GW_LAN_IP:5000" $ROOT
rc=$(curlrc $WAN -H "Host: $GW_LAN_IP:5000" $ROOT)
case $rc in 52|56) pass "... its connection is closed at once by the server (curl exit $rc)" ;;
	*) fail "curl exit $rc (52 or 56 wanted: closed by the server, not dropped)" ;; esac
check_out "... said at debug level" "upnp: HTTP connection refused: $WAN_IP is not inside a LAN subnet" cat "$LOG"
r1=$(stat_of http_refused)
[ "$r1" -ge $((r0 + 2)) ] && pass "... and counted in http_refused ($r0 -> $r1)" || fail "http_refused $r0 -> $r1"

echo "2. IPv6: the WAN peer routed to the LAN prefix"
check_out "the WAN peer gets no HTTP answer" 000 code $WAN -H "Host: [$GW_LAN_IP6]:5000" $ROOT6
rc=$(curlrc $WAN -H "Host: [$GW_LAN_IP6]:5000" $ROOT6)
case $rc in 52|56) pass "... closed at once by the server (curl exit $rc)" ;; *) fail "curl exit $rc" ;; esac
check_out "... said at debug level" "upnp: HTTP connection refused: $WAN_IP6 is not inside a LAN subnet" cat "$LOG"
check_out "a LAN client is served over IPv6" 200 code $HA $ROOT6
in_a ip -6 addr add 2001:db8:9::10/128 dev eth0 nodad
in_gw ip -6 route add 2001:db8:9::10/128 dev br-lan
check_out "a host on the LAN link with an address outside the LAN prefix: closed at accept too" 000 \
	code $HA --interface 2001:db8:9::10 $ROOT6

echo "3. 33 WAN addresses x 4 idle connections take no slot"
in_wan timeout 30 python3 "$top_srcdir/tests/attack/http_exhaust.py" $GW_LAN_IP 8 4 $WANS > "$LAB_DIR/wan" 2>&1 &
wanpid=$!
wait_for 5 grep -q "^opened" "$LAB_DIR/wan"
ok=0
for i in 1 2 3 4 5 6; do
	[ "$(code $HB $ROOT)" = 200 ] && ok=$((ok + 1))
	[ "$(code $HA -H 'Connection: keep-alive' $ROOT)" = 200 ] && ok=$((ok + 1))
done
[ $ok = 12 ] && pass "meanwhile LAN clients are served: 12 of 12 requests" || fail "LAN clients served $ok of 12"
wait $wanpid
# (a send right after the server's close may still succeed: the t=4s round is the one that counts;
# when such peers held slots they were all still open then, until the 10 s request deadline)
check_out "none of the WAN connections stays open" "t=4s still open 0" grep "t=4s" "$LAB_DIR/wan"
r2=$(stat_of http_refused)
[ "$r2" -ge $((r1 + 132)) ] && pass "all 132 refused at accept ($r1 -> $r2)" || fail "http_refused $r1 -> $r2"

kill -0 $PG_PID && pass "the daemon survived all of it" || fail "the daemon died"
check_no_sanitizer "$LOG"
finish
