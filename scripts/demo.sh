#!/bin/bash
# demo.sh - build portgated, run it on a namespace lab (LAN hosts, gateway,
# WAN peer), add a forward with portgatectl and prove a WAN->LAN connection
# through it, a port trigger, applications mapping their own ports (upnpc by
# SSDP discovery, natpmpc, PCP) and an IPv6 pinhole; show portgatectl list,
# the diagnosis, the admin HTTP API and metrics, and the kernel's tables.
# Needs root.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
set +e
top_builddir=$PWD/build top_srcdir=$PWD
. tests/integ/lib.sh
. tests/lab/lab.sh
lab_can_run || { echo "demo.sh: needs root and network namespaces"; exit 1; }
lab_up
lab_conf "$LAB_DIR/pg.conf" "trigger = game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 10" \
	"admin_listen = $GW_LAN_IP:8088" "admin_password_file = $LAB_DIR/admin.pw" \
	"admin_metrics_token_file = $LAB_DIR/token"
echo "demo password" | "$PORTGATECTL" passwd -f "$LAB_DIR/pg.conf"
echo "demo-token-$$-$RANDOM$RANDOM" > "$LAB_DIR/token"
lab_start_daemon "$LAB_DIR/pg.conf" || exit 1
say() { printf '\n== %s\n' "$*"; }
run() { echo "\$ $*"; "$@"; }
say "lab: LAN $A_IP (A), $B_IP (B) -- gateway $GW_LAN_IP/$GW_WAN_IP -- WAN peer $WAN_IP"
listen "$HA" tcp 80 "hello-from-LAN-host-A-port-80"
say "before any forward, the WAN peer connects to $GW_WAN_IP:8080"
out=$(connect "$WAN" tcp $GW_WAN_IP 8080); echo "${out:-(no answer: refused)}"
say "add a forward"
run "$PORTGATECTL" -s "$LAB_DIR/sock" forward add tcp 8080 $A_IP:80 --desc "web server"
say "the WAN peer connects to $GW_WAN_IP:8080 again"
connect "$WAN" tcp $GW_WAN_IP 8080
say "port triggering: host B connects out to the WAN peer's tcp 7000"
in_wan socat -T 2 TCP-LISTEN:7000,reuseaddr,fork SYSTEM:"echo irc" >/dev/null 2>&1 &
sleep 0.2
connect "$HB" tcp $WAN_IP 7000 >/dev/null
listen "$HB" tcp 7105 "hello-from-LAN-host-B-port-7105-opened-by-the-trigger"
sleep 0.3
connect "$WAN" tcp $GW_WAN_IP 7105
say "an application maps its own port by UPnP: upnpc discovers the gateway by SSDP (no URL given)"
listen "$HA" tcp 6881 "hello-from-the-torrent-client-on-A"
# miniupnpc calls a gateway with a reserved external address (the lab's 198.51.100.1) "not connected": -i
run ip netns exec "$HA" timeout 10 upnpc -i -e "torrent client" -r 6881 TCP
say "the WAN peer connects to $GW_WAN_IP:6881"
connect "$WAN" tcp $GW_WAN_IP 6881
say "and by NAT-PMP (natpmpc) and PCP (the tests' client): UDP 3478 and TCP 5060 for host B"
listen "$HB" udp 3478 "hello-from-B-udp-3478-mapped-by-NAT-PMP"
run ip netns exec "$HB" timeout 5 natpmpc -g $GW_LAN_IP -a 3478 3478 udp 600
connect "$WAN" udp $GW_WAN_IP 3478
listen "$HB" tcp 5060 "hello-from-B-tcp-5060-mapped-by-PCP"
run ip netns exec "$HB" python3 tests/integ/pcp_client.py $GW_LAN_IP map --int-port 5060 --ext-port 5060 --proto tcp --lifetime 600
connect "$WAN" tcp $GW_WAN_IP 5060
say "IPv6: behind the usual firewall (inet filter, forward policy drop, README's rules), a pinhole"
lab_admin_fw6
listen6 "$HA" tcp 8000 "hello-from-LAN-host-A-over-IPv6"
out=$(connect6 "$WAN" tcp $A_IP6 8000 $WAN_IP6); echo "before: ${out:-(no answer: dropped)}"
run "$PORTGATECTL" -s "$LAB_DIR/sock" pinhole add tcp "[$A_IP6]:8000" --remote $WAN_IP6 --desc "ipv6 game"
connect6 "$WAN" tcp $A_IP6 8000 $WAN_IP6
say "portgatectl list"
run "$PORTGATECTL" -s "$LAB_DIR/sock" list
run "$PORTGATECTL" -s "$LAB_DIR/sock" trigger list
say "why can (or can't) the internet reach tcp 8080? portgatectl check"
run "$PORTGATECTL" -s "$LAB_DIR/sock" check tcp 8080 --wait 1
say "and tcp 9999, which nobody holds"
run "$PORTGATECTL" -s "$LAB_DIR/sock" check tcp 9999 --wait 1
say "the admin HTTP API from LAN host B (the panel is http://$GW_LAN_IP:8088/): log in, list"
run ip netns exec "$HB" curl -s -c "$LAB_DIR/jar" -H 'Content-Type: application/json' \
	-d '{"password":"demo password"}' http://$GW_LAN_IP:8088/api/v1/login
run ip netns exec "$HB" curl -s -b "$LAB_DIR/jar" http://$GW_LAN_IP:8088/api/v1/forwards
say "Prometheus metrics with the read-only token (the mapping gauges)"
ip netns exec "$HB" curl -s -H "Authorization: Bearer $(cat "$LAB_DIR/token")" \
	http://$GW_LAN_IP:8088/metrics | grep '^portgate_mappings'
say "the kernel's tables (nft list table ip portgate; ip6 portgate)"
in_gw nft list table ip portgate
in_gw nft list table ip6 portgate
lab_stop_daemon
