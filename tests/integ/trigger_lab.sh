#!/bin/bash
# trigger_lab.sh - port triggering with real traffic in the namespace lab.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 5"
check "portgated starts" lab_start_daemon "$conf"
in_wan socat -T 2 TCP-LISTEN:7000,reuseaddr,fork SYSTEM:"echo server" >/dev/null 2>&1 &
listen $HA tcp 7105 from-A
listen $HA udp 7105 from-A-udp
listen $HB tcp 7105 from-B
trig() { connect "$1" tcp $WAN_IP 7000 >/dev/null; sleep 0.3; }

[ -z "$(connect $WAN tcp $GW_WAN_IP 7105)" ] && pass "before any trigger the WAN cannot reach 7105" || fail "7105 open before trigger"
trig $HA
check_out "after A's trigger, tcp 7105 reaches A" from-A connect $WAN tcp $GW_WAN_IP 7105
check_out "after A's trigger, udp 7105 reaches A" from-A-udp connect $WAN udp $GW_WAN_IP 7105
check_out "list shows the trigger entry with its range" "7100-7110    192.0.2.10:7100-7110         trigger" pgctl list
sleep 1.1
trig $HB
check_out "while A holds it, B's trigger does not take the ports" from-A connect $WAN tcp $GW_WAN_IP 7105
check_out "trigger list shows B refused" "refused 192.0.2.11" pgctl trigger list
check_out "trigger list --json names the holder" '"holder":"192.0.2.10"' pgctl trigger list --json

echo "steady trigger traffic keeps it open past several idle periods"
for i in $(seq 1 12); do trig $HA; sleep 0.9; done
check_out "still open after ~14 s of traffic (idle 5)" from-A connect $WAN tcp $GW_WAN_IP 7105

echo "idle close, then B"
sleep 6.5
[ -z "$(connect $WAN tcp $GW_WAN_IP 7105)" ] && pass "after 5 s idle the ports close" || fail "still open after idle"
check_out "trigger list shows it idle" "idle 5 [config] idle" pgctl trigger list
trig $HB
check_out "then B triggers and the WAN reaches B" from-B connect $WAN tcp $GW_WAN_IP 7105

echo "explicit mappings and triggers do not override each other"
check_out "a static forward inside the active range is refused" "tcp 7100-7110 is held by 192.0.2.11 (trigger)" pgctl forward add tcp 7108 $A_IP
sleep 6.5
pgctl forward add udp 7108 $A_IP >/dev/null
trig $HA
check_out "a trigger whose range holds a static forward does not open" "not opened for 192.0.2.10: udp 7108 is held by 192.0.2.10 (static)" cat "$LAB_DIR/daemon.log"
pgctl forward del udp 7108 >/dev/null

echo "run-time rules survive a restart"
check_out "trigger add" "trigger irc tcp:6667-6667 open tcp:1024-1034 idle 300" pgctl trigger add irc tcp:6667 tcp:1024-1034
check_out "overlapping rule refused" "overlap" pgctl trigger add irc2 tcp:6667 tcp:2000
lab_stop_daemon
check "restart" lab_start_daemon "$conf"
check_out "irc rule back after restart" "irc tcp:6667-6667 open tcp:1024-1034 idle 300 [runtime]" pgctl trigger list
lab_stop_daemon
finish
