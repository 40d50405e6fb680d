#!/bin/bash
# priv_lab.sh - least privilege (issue 20): portgated started as root with `user = portgate`
# runs as that user with CAP_NET_ADMIN alone (/proc/PID/status: every uid and gid the
# account's, CapEff, CapPrm and CapBnd exactly that one bit, NoNewPrivs), the control socket
# the account's (root and its group only), and then everything works with real traffic:
# UPnP add and delete with upnpc (SSDP discovery), a PCP MAP, a fired trigger, an IPv6
# pinhole, a SIGHUP reload that adds a LAN interface (new listeners: a PCP MAP from a host
# on it), a repair after `nft flush ruleset`, a restart that keeps the state. Then started
# as contrib/portgated.service starts it (setpriv: User=portgate with CAP_NET_ADMIN as its
# ambient and bounding set). A config whose user does not exist is refused with FILE:LINE.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v upnpc >/dev/null || skip "needs upnpc"
id portgate >/dev/null 2>&1 || skip "needs the portgate account (scripts/test.sh makes it)"
LAB_USER=portgate
lab_up
lab_admin_fw6
PCPC="$top_srcdir/tests/integ/pcp_client.py"
pcp4() { local ns=$1; shift; timeout 8 ip netns exec "$ns" python3 "$PCPC" $GW_LAN_IP "$@"; }
upnp() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -i "$@" 2>&1; }
# a third host on a second LAN interface (lan2, IPv6 only: 2001:db8:5::/64), for the reload
HC=$LAB-c
LAB_NS_MORE="$HC"
C_IP6=2001:db8:5::10
ip netns add "$HC"
ip link add lan2 netns "$GW" type veth peer name eth0 netns "$HC"
in_gw ip -6 addr add 2001:db8:5::1/64 dev lan2 nodad
in_gw ip link set lan2 up
ip netns exec "$HC" ip link set lo up
ip netns exec "$HC" ip link set eth0 up
ip netns exec "$HC" ip -6 addr add $C_IP6/64 dev eth0 nodad
ip netns exec "$HC" ip -6 route add default via 2001:db8:5::1
in_wan ip -6 route add 2001:db8:5::/64 via $GW_WAN_IP6
ip netns exec "$HC" ping -6 -c1 -W1 -q 2001:db8:5::1 >/dev/null 2>&1

echo "a user that does not exist"
lab_conf "$LAB_DIR/bad.conf" "user = no-such-account"
out=$(ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/bad.conf" 2>&1); rc=$?
[ $rc -ne 0 ] && pass "portgated refuses to start (exit $rc)" || fail "it started"
check_out "... naming the file, line and key" "$LAB_DIR/bad.conf:7: user: no such user 'no-such-account'" \
    echo "$out"
out=$("$PORTGATED" -t -f "$LAB_DIR/bad.conf" 2>&1); rc=$?
[ $rc -ne 0 ] && pass "portgated -t finds it too (the unit's ExecStartPre)" || fail "-t passed: $out"
check_out "... saying so" "user: no such user 'no-such-account'" echo "$out"

echo "started as root, it becomes portgate with CAP_NET_ADMIN only"
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "user = portgate" "pcp_min_lifetime = 1" \
    "trigger = game tcp:7000 open tcp:7100-7110 idle 30"
check "portgated starts" lab_start_daemon "$conf"
uid=$(id -u portgate) gid=$(id -g portgate)
st() { sed -n "s/^$1:[[:space:]]*//p" /proc/$PG_PID/status | tr -s '\t ' ' ' | sed 's/ *$//'; }
[ "$(st Uid)" = "$uid $uid $uid $uid" ] && pass "every uid is portgate's ($uid)" || fail "Uid: $(st Uid)"
[ "$(st Gid)" = "$gid $gid $gid $gid" ] && pass "every gid is portgate's ($gid)" || fail "Gid: $(st Gid)"
[ "$(st Groups)" = "$gid" ] && pass "no supplementary group but its own" || fail "Groups: $(st Groups)"
for k in CapEff CapPrm CapBnd; do
	[ "$(st $k)" = 0000000000001000 ] && pass "$k is cap_net_admin alone" || fail "$k: $(st $k)"
done
[ "$(st CapAmb)" = 0000000000000000 ] && pass "no ambient capability" || fail "CapAmb: $(st CapAmb)"
[ "$(st NoNewPrivs)" = 1 ] && pass "no_new_privs" || fail "NoNewPrivs: $(st NoNewPrivs)"
check_out "the log says so" "running as user portgate, group portgate, with cap_net_admin only" \
    cat "$LAB_DIR/daemon.log"
[ "$(stat -c '%U:%G %a' "$LAB_DIR/sock")" = "portgate:portgate 660" ] &&
    pass "the control socket is portgate's, mode 0660 (root and the group)" ||
    fail "control socket: $(stat -c '%U:%G %a' "$LAB_DIR/sock")"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$PORTGATECTL" -s "$LAB_DIR/sock" \
    status 2>&1); rc=$?
[ $rc -ne 0 ] && pass "another user cannot use it" || fail "nobody could: $out"

echo "UPnP with upnpc (SSDP discovery)"
listen $HA tcp 8000 hello-upnp
check_out "upnpc -a maps 9000 -> A:8000" "is redirected to internal $A_IP:8000" \
    upnp $HA -e priv -a $A_IP 8000 9000 TCP
check_out "the WAN peer reaches A" hello-upnp connect $WAN tcp $GW_WAN_IP 9000
upnp $HA -d 9000 TCP >/dev/null
check_not "upnpc -d: the WAN peer is refused again" sh -c \
    "[ -n \"\$(ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9000,connect-timeout=1 </dev/null 2>/dev/null)\" ]"

echo "PCP MAP from B"
listen $HB tcp 8001 hello-pcp
check_out "a MAP is granted" "result=SUCCESS" pcp4 $HB map --int-port 8001 --ext-port 9001 --lifetime 600
check_out "the WAN peer reaches B" hello-pcp connect $WAN tcp $GW_WAN_IP 9001

echo "a trigger"
listen $HA tcp 7105 hello-trig
in_wan socat -T 2 TCP-LISTEN:7000,reuseaddr,fork SYSTEM:"echo server" >/dev/null 2>&1 &
sleep 0.3
connect $HA tcp $WAN_IP 7000 >/dev/null
sleep 0.5
check_out "A's outbound tcp 7000 opens 7105 to it" hello-trig connect $WAN tcp $GW_WAN_IP 7105

echo "an IPv6 pinhole (PCP from A)"
listen6 $HA tcp 8002 hello-six
check_out "a MAP over IPv6 opens a pinhole" "result=SUCCESS" \
    timeout 8 ip netns exec "$HA" python3 "$PCPC" $GW_LAN_IP6 map --int-port 8002 --lifetime 600
check_out "the WAN peer reaches A over IPv6" hello-six connect6 $WAN tcp $A_IP6 8002

echo "SIGHUP: a second LAN interface, its listeners opened unprivileged"
lab_conf "$conf" "user = portgate" "pcp_min_lifetime = 1" "lan_interface = lan2" \
    "trigger = game tcp:7000 open tcp:7100-7110 idle 30"
kill -HUP $PG_PID
pcp_c() { timeout 3 ip netns exec "$HC" python3 "$PCPC" 2001:db8:5::1 map --int-port 8003 \
    --lifetime 600 2>&1 | grep -q result=SUCCESS; }
check "a host on lan2 gets a PCP MAP from the new listener" wait_for 10 pcp_c
listen6 $HC tcp 8003 hello-lan2
check_out "the WAN peer reaches it over IPv6" hello-lan2 connect6 $WAN tcp $C_IP6 8003
check "portgated is still running" kill -0 $PG_PID

echo "nft flush ruleset behind its back: repaired"
in_gw nft flush ruleset
lab_admin_fw6
in_gw nft add table ip lab
in_gw nft add chain ip lab post '{ type nat hook postrouting priority srcnat; }'
in_gw nft add rule ip lab post oifname wan0 masquerade
has_table() { in_gw nft list table ip portgate >/dev/null 2>&1; }
check "portgated rebuilds its table" wait_for 10 has_table
check_out "the PCP mapping works again" hello-pcp connect $WAN tcp $GW_WAN_IP 9001

echo "restart: the state is kept (written by portgate)"
[ "$(stat -c %U "$LAB_DIR/state")" = portgate ] && pass "the state file is portgate's" ||
    fail "state file: $(stat -c %U "$LAB_DIR/state")"
lab_stop_daemon
check "portgated starts again" lab_start_daemon "$conf"
check_out "the PCP mapping is back" "tcp   9001" pgctl list
check_out "the WAN peer reaches B" hello-pcp connect $WAN tcp $GW_WAN_IP 9001
[ "$(st CapEff)" = 0000000000001000 ] && pass "again cap_net_admin alone" || fail "CapEff: $(st CapEff)"
bad=$(grep -ci "permission denied\|operation not permitted" "$LAB_DIR/daemon.log")
[ "$bad" = 0 ] && pass "nothing was refused for want of privilege" ||
    { fail "refusals in the log:"; grep -i "permission denied\|operation not permitted" "$LAB_DIR/daemon.log" | head; }
lab_stop_daemon

echo "started as the unit starts it: User=portgate, AmbientCapabilities=CAP_NET_ADMIN"
# the unit's RuntimeDirectory= (the table lock's directory): a fresh one, portgate's, as
# systemd makes it at each start; the machine's own is put back after
rundir=/run/portgate saved=/run/portgate.priv_lab.$$
trap '[ -d $saved ] && { rm -rf $rundir; mv $saved $rundir; }; lab_down' EXIT
[ -d $rundir ] && mv $rundir $saved
mkdir -m 0750 $rundir && chown portgate:portgate $rundir
: > "$LAB_DIR/daemon.log"
ip netns exec "$GW" setpriv --reuid=portgate --regid=portgate --clear-groups \
    --inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
    --no-new-privs "$PORTGATED" -d -v -f "$conf" 2>>"$LAB_DIR/daemon.log" &
PG_PID=$!
up() { pgctl status >/dev/null 2>&1; }
check "portgated starts as portgate" wait_for 5 up
[ "$(st CapEff)" = 0000000000001000 ] && [ "$(st CapBnd)" = 0000000000001000 ] &&
    pass "with cap_net_admin alone" || fail "CapEff $(st CapEff), CapBnd $(st CapBnd)"
[ "$(st Uid)" = "$uid $uid $uid $uid" ] && pass "as portgate" || fail "Uid: $(st Uid)"
check_out "the PCP mapping is back" "tcp   9001" pgctl list
check_out "the WAN peer reaches B" hello-pcp connect $WAN tcp $GW_WAN_IP 9001
check_out "a new UPnP mapping works" "is redirected to internal $A_IP:8000" \
    upnp $HA -e unit -a $A_IP 8000 9002 TCP
check_out "the WAN peer reaches A" hello-upnp connect $WAN tcp $GW_WAN_IP 9002
lab_stop_daemon
[ -n "$(grep -i 'permission denied\|not permitted' "$LAB_DIR/daemon.log")" ] &&
    { fail "refusals in the log:"; grep -i "permission denied\|not permitted" "$LAB_DIR/daemon.log"; } ||
    pass "nothing was refused for want of privilege"
rm -rf $rundir
[ -d $saved ] && mv $saved $rundir
finish
