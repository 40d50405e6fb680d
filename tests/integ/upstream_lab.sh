#!/bin/bash
# upstream_lab.sh - the upstream PCP client against a real server: a second portgated in
# the WAN peer's namespace stands for the carrier's (its LAN is the WAN link). The client
# on its own (tests/lab/pcpc_tool: MAP, PREFER_FAILURE, renewal, delete, seen in the
# carrier's table), then portgated's start-up look for it as upstream_pcp says (an
# address, auto's default gateway, auto's upstream_pcp_file, nothing), what
# `portgatectl status` says, the carrier's restarts (its multicast ANNOUNCEs, the epoch),
# and a server that does not answer (not an error).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
TOOL="$top_builddir/tests/lab/pcpc_tool"
[ -x "$TOOL" ] || skip "tests/lab/pcpc_tool not built"
lab_up
CPID=
cconf=$LAB_DIR/carrier.conf
cat > "$cconf" <<EOF
lan_interface = eth0
firewall = none
external_ip = 203.0.113.1
state_file = $LAB_DIR/carrier-state
control_socket = $LAB_DIR/carrier-sock
upnp = no
upstream_pcp = off
pcp_min_lifetime = 10
EOF
cpgctl() { "$PORTGATECTL" -s "$LAB_DIR/carrier-sock" "$@"; }
start_carrier() {
	ip netns exec "$WAN" "$PORTGATED" -d -v -f "$cconf" 2>>"$LAB_DIR/carrier.log" &
	CPID=$!
	wait_for 5 cpgctl status
}
stop_carrier() { [ -n "$CPID" ] && kill -TERM $CPID 2>/dev/null; wait $CPID 2>/dev/null; CPID=; }
# the carrier honours PCP only from hosts its neighbour table knows
in_wan ping -c1 -W1 -q $GW_WAN_IP >/dev/null 2>&1
tool() { in_gw timeout 40 "$TOOL" $GW_WAN_IP "$@"; }
ustatus() { pgctl status | grep '^upstream'; }
state_is() { pgctl status | grep -qx "upstream_pcp_state $1"; }

echo "the client on its own, against a portgate on the WAN side"
check "the carrier's portgated starts" start_carrier
check_out "an ANNOUNCE request: a server answers" "server up" tool $WAN_IP probe
check_out "... and leaves nothing in the carrier's table" "mappings 0" cpgctl status
tool $WAN_IP map tcp 4000 12 4000 pf hold 14 > "$LAB_DIR/tool.out" 2>&1 &
tpid=$!
check "a MAP for tcp 4000 with PREFER_FAILURE is granted" wait_for 5 grep -q "granted 203.0.113.1:4000 lifetime 12" "$LAB_DIR/tool.out"
check_out "the carrier's table holds it: its WAN address and port" "$GW_WAN_IP:4000" cpgctl list
check "it is renewed before its 12 s end (1/2 to 5/8 of it)" wait_for 10 sh -c "[ \$(grep -c granted '$LAB_DIR/tool.out') -ge 2 ]"
wait $tpid
check_out "dropped: the delete is answered" "deleted" cat "$LAB_DIR/tool.out"
check_not "and the carrier's table no longer has it" sh -c "'$PORTGATECTL' -s '$LAB_DIR/carrier-sock' list | grep -q '$GW_WAN_IP:4000'"
cpgctl forward add tcp 4001 198.51.100.50:22 >/dev/null
check_out "a port the carrier holds, with PREFER_FAILURE: CANNOT_PROVIDE_EXTERNAL" "refused CANNOT_PROVIDE_EXTERNAL" tool $WAN_IP map tcp 4002 600 4001 pf
check_out "without it: another port" "granted 203.0.113.1:" tool $WAN_IP map tcp 4002 600 4001 hold 0
check_not "(and deleted: nothing of ours left)" sh -c "'$PORTGATECTL' -s '$LAB_DIR/carrier-sock' list | grep -q '$GW_WAN_IP:'"
check_out "a server address with nothing there: no answer, said" "server none" tool 198.51.100.201 probe

echo "portgated asks at start-up: upstream_pcp = ADDR"
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "upstream_pcp = $WAN_IP"
check "portgated starts" lab_start_daemon "$conf"
check "status: the upstream answers" wait_for 5 state_is up
check_out "... which server, from where" "upstream_pcp_server $WAN_IP" ustatus
check_out "... the config named it" "upstream_pcp_source config" ustatus
check_out "... its epoch" "upstream_pcp_epoch " ustatus
check_out "... no mapping asked yet" "upstream_mappings 0 " ustatus
check_out "the carrier counts the ANNOUNCE requests it answered" "pcp_requests announce SUCCESS" cpgctl status
check_not "and holds no mapping for portgated" sh -c "'$PORTGATECTL' -s '$LAB_DIR/carrier-sock' list | grep -q '$GW_WAN_IP:'"

echo "the carrier restarts"
answers=$(pgctl status | sed -n 's/^upstream_answers //p')
stop_carrier
start_carrier
check "its ANNOUNCEs (224.0.0.1:5350) reach portgated on the WAN" wait_for 5 sh -c "[ \$('$PORTGATECTL' -s '$LAB_DIR/sock' status | sed -n 's/^upstream_answers //p') -gt $answers ]"
check_out "with its state kept, the epoch goes on: nothing to ask again" "upstream_restarts 0" ustatus
stop_carrier
rm -f "$LAB_DIR/carrier-state"*
start_carrier
check "with its state lost (epoch 0): portgated sees the restart" wait_for 5 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' status | grep -qx 'upstream_restarts 1'"
check_out "still up" "upstream_pcp_state up" ustatus
lab_stop_daemon

echo "auto: the WAN interface's default gateway"
in_gw ip route add default via $WAN_IP
lab_conf "$conf"
check "portgated starts (upstream_pcp unset: auto)" lab_start_daemon "$conf"
check "status: the default gateway answers" wait_for 5 state_is up
check_out "... found as the gateway" "upstream_pcp_source gateway" ustatus
check_out "... $WAN_IP" "upstream_pcp_server $WAN_IP" ustatus
lab_stop_daemon
in_gw ip route del default

echo "auto: upstream_pcp_file, as a DHCP client's hook writes it"
printf '# RFC 7291 option\n%s\n' $WAN_IP > "$LAB_DIR/upstream-pcp"
lab_conf "$conf" "upstream_pcp_file = $LAB_DIR/upstream-pcp"
check "portgated starts" lab_start_daemon "$conf"
check "status: the file's server answers" wait_for 5 state_is up
check_out "... found in the file" "upstream_pcp_source file" ustatus
lab_stop_daemon

echo "nothing to ask: portgated works as before, and says so"
lab_conf "$conf"
check "portgated starts" lab_start_daemon "$conf"
check_out "status: none" "upstream_pcp_state none" ustatus
check_out "... and why" "upstream_pcp_reason no server to ask (wan0 has no default gateway)" ustatus
check_out "the log says what it means for the WAN address" "upstream PCP: no server to ask" cat "$LAB_DIR/daemon.log"
listen $HA tcp 8000 hello-forward
pgctl forward add tcp 8080 $A_IP:8000 >/dev/null
check_out "a forward carries WAN traffic as ever" hello-forward connect $WAN tcp $GW_WAN_IP 8080
lab_stop_daemon

echo "a server that does not answer: not an error"
stop_carrier
lab_conf "$conf" "upstream_pcp = $WAN_IP"
check "portgated starts" lab_start_daemon "$conf"
check_out "status: still asking" "upstream_pcp_state probing" ustatus
check "after 30 s: none" wait_for 40 state_is none
check "portgated still runs" kill -0 $PG_PID
check_out "the log says so (info, not a warning)" "upstream PCP: no answer from $WAN_IP (config); the WAN address $GW_WAN_IP is" cat "$LAB_DIR/daemon.log"
lab_stop_daemon
check_no_sanitizer "$LAB_DIR/daemon.log" "$LAB_DIR/carrier.log"
finish
