#!/bin/bash
# counters_lab.sh - the kernel's packet counters where the admin sees them, in the namespace
# lab: WAN traffic through a static forward and a UPnP mapping (upnpc on a LAN host, finding
# the gateway by SSDP) shows in `list --json` (each mapping's own packets and bytes), in
# `portgatectl metrics` (portgate_inbound_packets_total, the sum; promtool check metrics
# passes) and in `portgatectl history` (a sample a second here: the daemon is started with
# PORTGATE_TEST_HISTORY_INTERVAL=1). The total does not go back when a mapping goes, when the
# tables are rebuilt (a trigger rule added), repaired (deleted by someone else) or their
# counter reset. And the firewall's many-elements-to-a-request reads (tests/lab/fw_query
# --dump) with an element the kernel lacks among others, and with no table at all.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v upnpc >/dev/null || skip "needs upnpc (miniupnpc)"
command -v promtool >/dev/null || skip "needs promtool (Debian's prometheus)"
command -v python3 >/dev/null || skip "needs python3"
FWQ="$top_builddir/tests/lab/fw_query"
[ -x "$FWQ" ] || skip "tests/lab/fw_query not built"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf"
export PORTGATE_TEST_HISTORY_INTERVAL=1
check "portgated starts in the gateway" lab_start_daemon "$conf"
check_out "the test knob is said in the log" "history: a sample every 1 s" cat "$LAB_DIR/daemon.log"
upnp() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -i "$@" 2>&1; }

# counts PROTO PORT: "PACKETS BYTES" of that mapping in list --json (JSON values: null too)
counts() {
	pgctl list --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m.get("kind") == "mapping" and m["proto"] == sys.argv[1] and m["external_port"] == int(sys.argv[2]):
        print(json.dumps(m["packets"]), json.dumps(m["bytes"]))
' "$1" "$2"
}
# pkts PROTO PORT: that mapping's packets
pkts() { counts "$1" "$2" | awk '{ print $1 }'; }
# total: portgate_inbound_packets_total from portgatectl metrics
total() { pgctl metrics | sed -n 's/^portgate_inbound_packets_total //p'; }
# num VALUE: 0 if VALUE is a number
num() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; }

echo "a forward and a UPnP mapping, before any traffic"
listen $HA tcp 80 hello-forward
listen $HA tcp 8000 hello-upnp
check_out "a static forward" "tcp 8080 -> $A_IP:80" pgctl forward add tcp 8080 $A_IP:80
check_out "a forward nobody sends to" "tcp 8081 -> $A_IP:81" pgctl forward add tcp 8081 $A_IP:81
check_out "upnpc (by SSDP) maps 9000 -> A:8000" "is redirected to internal $A_IP:8000" \
	upnp $HA -e "ctr game" -a $A_IP 8000 9000 TCP
check_out "list --json: the forward counts, nothing yet" "0 0" counts tcp 8080
check_out "list --json: the UPnP mapping counts, nothing yet" "0 0" counts tcp 9000
t0=$(total)
[ "$t0" = 0 ] && pass "portgate_inbound_packets_total is 0" || fail "portgate_inbound_packets_total: '$t0'"

echo "WAN traffic through both"
for i in 1 2 3; do check_out "the WAN peer reaches the forward ($i)" hello-forward connect $WAN tcp $GW_WAN_IP 8080; done
for i in 1 2; do check_out "the WAN peer reaches the UPnP mapping ($i)" hello-upnp connect $WAN tcp $GW_WAN_IP 9000; done
f=$(counts tcp 8080); u=$(counts tcp 9000)
set -- $f; fp=$1 fb=$2
set -- $u; up=$1 ub=$2
num "$fp" && [ "$fp" -ge 9 ] && num "$fb" && [ "$fb" -gt "$fp" ] && pass "list --json: the forward's packets and bytes ($fp, $fb)" || fail "forward: '$f'"
num "$up" && [ "$up" -ge 6 ] && num "$ub" && [ "$ub" -gt "$up" ] && pass "list --json: the UPnP mapping's packets and bytes ($up, $ub)" || fail "UPnP mapping: '$u'"
num "$fp" && num "$up" && [ "$fp" -gt "$up" ] && pass "each mapping its own count (3 connects > 2)" || fail "forward $fp, UPnP $up"
check_out "the unused forward still counts nothing" "0 0" counts tcp 8081
t1=$(total)
num "$t1" && [ "$t1" = $((fp + up)) ] && pass "portgate_inbound_packets_total is their sum ($t1)" || fail "total '$t1', mappings $fp + $up"
check_out "portgate_inbound_bytes_total is their bytes" "portgate_inbound_bytes_total $((fb + ub))" pgctl metrics
pgctl metrics > "$LAB_DIR/metrics.txt"
check_out "the family is a counter" "# TYPE portgate_inbound_packets_total counter" cat "$LAB_DIR/metrics.txt"
check_out "promtool check metrics passes" "promtool: ok" sh -c "promtool check metrics < '$LAB_DIR/metrics.txt' 2>&1 && echo promtool: ok"
# the admin API's forwards and pinholes run list --source / --kind: the same counts
check_out "list --json --source static has the forward's count" "$fp $fb" sh -c "
	'$PORTGATECTL' -s '$LAB_DIR/sock' list --json --source static | python3 -c '
import json, sys
print(*[\"%s %s\" % (m[\"packets\"], m[\"bytes\"]) for m in json.load(sys.stdin) if m[\"external_port\"] == 8080])'"

echo "the history: a sample a second, what came in since the one before"
sleep 2.2
pgctl history --json > "$LAB_DIR/history.json"
check "history --json is one JSON object, a sample a second" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert h["interval_seconds"] == 1 and len(h["samples"]) >= 3, h' "$LAB_DIR/history.json"
check "its last sample's total is the metric's, and the rises add up to it" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["samples"]
want = int(sys.argv[2])
assert s[-1]["inbound_packets_total"] == want, s[-1]
known = [x for x in s if x["inbound_packets_total"] is not None]
assert known[0]["inbound_packets_total"] + sum(x["inbound_packets"] for x in known[1:]) == want, s
for a, b in zip(s, s[1:]):
    if a["inbound_packets_total"] is not None and b["inbound_packets_total"] is not None:
        assert b["inbound_packets"] == b["inbound_packets_total"] - a["inbound_packets_total"], (a, b)
assert s[0]["inbound_packets"] is None, s[0]
assert max(x["inbound_packets"] or 0 for x in s) > 0, s' "$LAB_DIR/history.json" "$t1"
check_out "history prints a line a sample" "INBOUND" pgctl history
n=$(pgctl history | awk 'NR > 1 && $NF != "-" && $NF > 0' | wc -l)
[ "$n" -ge 1 ] && pass "a line with the packets that came in ($n)" || { fail "history lines"; pgctl history | head; }

check_not "reading counters is no change to repair" grep -q "changed by someone else" "$LAB_DIR/daemon.log"

echo "the total does not go back"
check_out "upnpc -d deletes the UPnP mapping" "UPNP_DeletePortMapping() returned : 0" upnp $HA -d 9000 TCP
t2=$(total)
[ "$t2" = "$t1" ] && pass "its packets stay in the total ($t2)" || fail "after the delete: '$t2', was $t1"
built=$(grep -c "built with" "$LAB_DIR/daemon.log")
check_out "a trigger rule rebuilds the tables" "trigger t1" pgctl trigger add t1 tcp:6000 tcp:6001
check "... they are rebuilt" wait_for 3 sh -c "[ \$(grep -c 'built with' '$LAB_DIR/daemon.log') -gt $built ]"
check_out "the new table's counter goes on from the old one's" "packets $t1 " in_gw nft list counter ip portgate inbound
t3=$(total)
[ "$t3" = "$t1" ] && pass "the total after the rebuild ($t3)" || fail "after the rebuild: '$t3', was $t1"
in_gw nft delete table ip portgate
wait_for 5 grep -q "was changed by someone else" "$LAB_DIR/daemon.log" && wait_for 5 in_gw nft list counter ip portgate inbound
check "the deleted table is repaired" in_gw nft list counter ip portgate inbound
t4=$(total)
[ "$t4" = "$t1" ] && pass "the total after the repair: the last count read carried ($t4)" || fail "after the repair: '$t4', was $t1"
check_out "the forward reaches A again" hello-forward connect $WAN tcp $GW_WAN_IP 8080
t5=$(total)
num "$t5" && [ "$t5" -gt "$t4" ] && pass "and counts on ($t4 -> $t5)" || fail "after traffic: '$t5', was $t4"
in_gw nft reset counter ip portgate inbound >/dev/null
sleep 0.5
t6=$(total)
num "$t6" && [ "$t6" -ge "$t5" ] && pass "a reset of the kernel's counter does not make it go back ($t6)" || fail "after a reset: '$t6', was $t5"
check_out "the forward reaches A once more" hello-forward connect $WAN tcp $GW_WAN_IP 8080
t7=$(total)
num "$t7" && [ "$t7" -gt "$t6" ] && pass "and it counts on ($t6 -> $t7)" || fail "after the reset and traffic: '$t7', was $t6"

echo "the firewall's reads of many elements"
fwq() { in_gw "$FWQ" "$@"; }
q=$(fwq portgate wan0 --dump tcp:8080:$A_IP:80 tcp:8099:$A_IP:80 tcp:8081:$A_IP:81)
echo "$q" | sed 's/^/    /'
check_out "a held element before one the kernel lacks" "tcp 8080 elems=2 found=2" echo "$q"
check_out "the one it lacks" "tcp 8099 elems=2 found=0" echo "$q"
check_out "a held element after it (the read goes on)" "tcp 8081 elems=2 found=2 timeout=0 left=0 counted=1 pkts=0" echo "$q"
e=$(fwq portgate wan0 tcp:8080:$A_IP:80 tcp:8099:$A_IP:80 tcp:8081:$A_IP:81)
[ -n "$q" ] && [ "$q" = "$e" ] && pass "what the element-by-element reads say" || { fail "they differ"; echo "$e" | sed 's/^/    /'; }
check_out "no such table: nothing held, no error" "tcp 8080 elems=2 found=0" fwq nosuch wan0 --dump tcp:8080:$A_IP:80 tcp:8081:$A_IP:81

lab_stop_daemon
finish
