#!/bin/bash
# wan_edge_lab.sh - what the WAN side can and cannot reach: the daemon's LAN-side
# service ports are dropped in the kernel for anything not from a LAN interface,
# even for a WAN host that routes the LAN prefixes through the gateway.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v curl >/dev/null && command -v python3 >/dev/null || skip "needs curl and python3"
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

lab_stop_daemon
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
