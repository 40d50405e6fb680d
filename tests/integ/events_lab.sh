#!/bin/bash
# events_lab.sh - live events and metrics in the namespace lab: `portgatectl watch --json`
# in the background sees what real clients and real traffic do (upnpc finding the gateway
# by SSDP, a lease running out, a trigger fired by a LAN host, a refusal, the ruleset
# deleted behind the daemon's back, the WAN address moving); a watcher that never reads is
# dropped while the daemon stays responsive; Ctrl-C ends a watch on a terminal; and
# `promtool check metrics` passes on `portgatectl metrics` after that traffic, whose
# mapping gauge is the number of mappings upnpc made.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v upnpc >/dev/null || skip "needs upnpc (miniupnpc)"
command -v promtool >/dev/null || skip "needs promtool (Debian's prometheus)"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = game tcp:7000 open tcp:7100-7102 idle 3"
check "portgated starts" lab_start_daemon "$conf"
EV=$top_srcdir/tests/lab/evwatch.py
JSON=$LAB_DIR/events.json
TEXT=$LAB_DIR/events.txt
upnp() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -i "$@" 2>&1; }
# ev DESCRIPTION KEY=VALUE...: an event with all these arrives within 5 s
ev() { local d=$1; shift; if wait_for 5 python3 "$EV" match "$JSON" "$@"; then pass "$d"; else
	fail "$d: no event with $*"; tail -5 "$JSON" | sed 's/^/       | /'; fi; }
no_ev() { local d=$1; shift; if python3 "$EV" match "$JSON" "$@"; then fail "$d"; else pass "$d"; fi; }

"$PORTGATECTL" -s "$LAB_DIR/sock" watch --json > "$JSON" 2>"$LAB_DIR/watch.err" &
WATCH=$!
"$PORTGATECTL" -s "$LAB_DIR/sock" watch > "$TEXT" 2>/dev/null &
WATCH_TEXT=$!
check "both watchers are subscribed" wait_for 5 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' metrics | grep -qx 'portgate_event_subscribers 2'"

echo "UPnP: upnpc finds the gateway by SSDP and maps"
# upmap DESCRIPTION UPNPC-ARGS...: upnpc on A adds a mapping; made counts those A holds
made=0
upmap() { local d=$1 out; shift; out=$(upnp $HA "$@"); case "$out" in
	*"is redirected"*) pass "$d"; made=$((made + 1)) ;;
	*) fail "$d"; echo "$out" | tail -5 | sed 's/^/       | /' ;; esac; }
upmap "upnpc -a maps 9000 -> A:8000" -e "my game" -a $A_IP 8000 9000 TCP
ev "mapping.added with the mapping as the table has it" type=mapping.added kind=mapping \
	proto=tcp external_port=9000 internal_ip=$A_IP internal_port=8000 source=upnp \
	"description=my game" expires_in=86400
check_out "the text watcher has a readable line" "mapping.added tcp 9000 -> $A_IP:8000 upnp expires-in 86400s \"my game\"" cat "$TEXT"
# a UPnP client that sends markup as its description (escaped in the XML, as it must be)
t="urn:schemas-upnp-org:service:WANIPConnection:2"
body="<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:AddPortMapping xmlns:u=\"$t\"><NewRemoteHost></NewRemoteHost><NewExternalPort>9001</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>8001</NewInternalPort><NewInternalClient>$A_IP</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>&lt;img src=x onerror=alert(1)&gt; &quot;&amp;</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>"
check_out "a SOAP AddPortMapping with a hostile description" AddPortMappingResponse \
	timeout 5 ip netns exec $HA curl -s -m 3 -H 'Content-Type: text/xml' -H "SOAPAction: \"$t#AddPortMapping\"" \
	--data-binary "$body" http://$GW_LAN_IP:5000/ctl/IPConn
ev "... whose event carries it as text" type=mapping.added external_port=9001 'description=<img src=x onerror=alert(1)> "&'
check_out "... escaped: no markup in the JSON line" '"description":"\u003cimg src=x onerror=alert(1)\u003e \"\u0026"' grep '"external_port":9001' "$JSON"
check_out "... and as it is in the text line" "9001 -> $A_IP:8001 upnp expires-in 86400s \"<img src=x onerror=alert(1)> \"&\"" cat "$TEXT"
check_out "upnpc -d deletes it" "UPNP_DeletePortMapping() returned : 0" upnp $HA -d 9001 TCP
upmap "upnpc -a maps 9010" -a $A_IP 8010 9010 TCP
upmap "upnpc -a maps 9011 (UDP)" -a $A_IP 8011 9011 UDP
check_out "the same again renews it" "is redirected" upnp $HA -a $A_IP 8011 9011 UDP
ev "mapping.renewed" type=mapping.renewed external_port=9011 proto=udp source=upnp
out=$(upnp $HA -d 9000 TCP)
case "$out" in *"UPNP_DeletePortMapping() returned : 0"*) pass "upnpc -d deletes 9000"; made=$((made - 1)) ;;
	*) fail "upnpc -d deletes 9000: $out" ;; esac
ev "mapping.deleted" type=mapping.deleted external_port=9000 internal_ip=$A_IP source=upnp
check_out "a 2 s mapping" "is redirected" upnp $HA -a $A_IP 8002 9002 TCP 2
ev "mapping.added with its lease" type=mapping.added external_port=9002 expires_in=2
ev "mapping.expired when the lease runs out (not mapping.deleted)" type=mapping.expired external_port=9002 expires_in=0
no_ev "... and no mapping.deleted for it" type=mapping.deleted external_port=9002
check_out "upnpc -l lists the mappings" "9010->$A_IP:8010" upnp $HA -l
no_ev "the end of upnpc -l's listing (713) is not a refusal" type=request.refused action=GetGenericPortMappingEntry

echo "refusals"
check_out "secure mode: B cannot map for A: 606" "failed with code 606" upnp $HB -a $A_IP 8003 9003 TCP
ev "request.refused names protocol, client, action and reason" type=request.refused \
	protocol=upnp action=AddPortMapping client=$B_IP reason=not_authorized
check_out "B cannot take A's port: 718" "failed with code 718" upnp $HB -a $B_IP 8010 9010 TCP
ev "request.refused for the conflict" type=request.refused protocol=upnp client=$B_IP reason=conflict

echo "port triggering"
in_wan socat -T 2 TCP-LISTEN:7000,reuseaddr,fork SYSTEM:"echo server" >/dev/null 2>&1 &
trig() { connect "$1" tcp $WAN_IP 7000 >/dev/null; sleep 0.3; }
trig $HA
ev "trigger.activated names the rule and the host" type=trigger.activated rule=game host=$A_IP
ev "... and its ports came as mappings" type=mapping.added source=trigger external_port=7100 external_port_end=7102
sleep 1.1
trig $HB
ev "trigger.refused names the refused host and the holder" type=trigger.refused rule=game host=$B_IP holder=$A_IP
ev "... and is a request.refused of the trigger front end" type=request.refused protocol=trigger client=$B_IP reason=held_by_another_host
ev "trigger.closed once the rule's ports have been idle" type=trigger.closed rule=game host=$A_IP
ev "... as their lease ran out" type=mapping.expired source=trigger external_port=7100

echo "the firewall repaired"
in_gw nft delete table ip portgate
ev "firewall.repaired after the table was deleted behind the daemon's back" type=firewall.repaired mappings=2
check "the kernel has the mappings again" wait_for 5 sh -c "ip netns exec $GW nft list map ip portgate dnat_port | grep -q '192.0.2.10 . 8010'"

echo "metrics after that traffic"
pgctl metrics > "$LAB_DIR/metrics.txt"
check_out "promtool check metrics passes on the page" "promtool: ok" sh -c "grep -q '^# TYPE portgate_mappings gauge' '$LAB_DIR/metrics.txt' && promtool check metrics < '$LAB_DIR/metrics.txt' 2>&1 && echo promtool: ok"
upnp_n=$(pgctl list | awk '$4 == "upnp"' | wc -l)
got=$(awk '/^portgate_mappings\{source="upnp",/ { n += $2 } END { print n + 0 }' "$LAB_DIR/metrics.txt")
[ "$made" -eq 2 ] && [ "$got" -eq "$made" ] && [ "$upnp_n" -eq "$made" ] &&
	pass "the UPnP mapping gauge is the $made mappings upnpc made and holds" ||
	fail "portgate_mappings{source=upnp}: $got, upnpc made $made, list shows $upnp_n"
check_out "... by protocol" 'portgate_mappings{source="upnp",proto="udp"} 1' cat "$LAB_DIR/metrics.txt"
check_out "the UPnP requests by action and result" 'portgate_requests_total{protocol="upnp",action="AddPortMapping",result="not_authorized"} 1' cat "$LAB_DIR/metrics.txt"
check_out "... successes counted once their entry landed" 'portgate_requests_total{protocol="upnp",action="AddPortMapping",result="success"} 6' cat "$LAB_DIR/metrics.txt"
check_out "refusals by reason" 'portgate_refusals_total{protocol="trigger",reason="held_by_another_host"} 1' cat "$LAB_DIR/metrics.txt"
check_out "trigger activations" 'portgate_trigger_activations_total 1' cat "$LAB_DIR/metrics.txt"
check_out "trigger refusals" 'portgate_trigger_refusals_total 1' cat "$LAB_DIR/metrics.txt"
check_out "the repair" 'portgate_firewall_repairs_total 1' cat "$LAB_DIR/metrics.txt"
n=$(awk '/^portgate_ssdp_searches_total/ { print $2 }' "$LAB_DIR/metrics.txt")
[ -n "$n" ] && [ "$n" -gt 0 ] && pass "the SSDP searches upnpc made are counted ($n)" || fail "ssdp searches: '$n'"
n=$(awk '/^portgate_firewall_commit_duration_seconds_count/ { print $2 }' "$LAB_DIR/metrics.txt")
c=$(awk '/^portgate_firewall_commits_total/ { print $2 }' "$LAB_DIR/metrics.txt")
[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" = "$c" ] && pass "the commit latency histogram counts every one of the $c kernel commits" ||
	fail "commit histogram count '$n', commits '$c'"

echo "resuming"
out=$(timeout 3 "$PORTGATECTL" -s "$LAB_DIR/sock" watch --json --since 2 2>&1 | head -1)
case "$out" in '{"seq":3,'*) pass "watch --since 2 starts with event 3 (kept in the ring)" ;;
	*) fail "watch --since 2 began with: $out" ;; esac

echo "a watcher that never reads"
python3 "$EV" stall "$LAB_DIR/sock" "$LAB_DIR/stall.ready" 15 > "$LAB_DIR/stall.out" &
STALL=$!
wait_for 5 test -f "$LAB_DIR/stall.ready"
sleep 0.3
# about 4,000 events (some 1.2 MB of JSON), far past the socket's buffer and the 512 KiB bound
{ seq 20000 21999 | sed "s/.*/forward add udp & $A_IP/"; seq 20000 21999 | sed 's/.*/forward del udp &/'; } |
	pgctl - > "$LAB_DIR/flood.out"
check_out "the 4,000 changes were made" "ok: deleted udp 21999" tail -1 "$LAB_DIR/flood.out"
check_out "the daemon logs that it dropped the watcher" "a watcher has not read" cat "$LAB_DIR/daemon.log"
check_out "... and answers while the one that never reads is still connected" "mappings 2" timeout 5 "$PORTGATECTL" -s "$LAB_DIR/sock" status
wait $STALL
check_out "the watcher that never read finds its connection closed" closed cat "$LAB_DIR/stall.out"
check_out "... after a last line that says why and where to resume" "last: err dropped: the events came faster than they were read; the last event sent is #" cat "$LAB_DIR/stall.out"
check "the reading watcher is still there" kill -0 $WATCH
ev "... and saw the last of the 4,000" type=mapping.deleted external_port=21999 proto=udp
check "watchers now: the two that read" wait_for 5 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' metrics | grep -qx 'portgate_event_subscribers 2'"

echo "the WAN address moves (DHCP)"
in_gw ip addr del $GW_WAN_IP/24 dev wan0
in_gw ip addr add 198.51.100.2/24 dev wan0
ev "wan.changed from the old address" type=wan.changed old=$GW_WAN_IP
ev "wan.changed to the new one" type=wan.changed new=198.51.100.2
n=$(pgctl metrics | awk '/^portgate_external_address_changes_total/ { print $2 }')
[ -n "$n" ] && [ "$n" -ge 1 ] && pass "... counted ($n)" || fail "external_address_changes_total: '$n'"

echo "ending a watch"
out=$(python3 "$EV" ctrlc "$PORTGATECTL" "$LAB_DIR/sock" 1)
check_out "Ctrl-C on a terminal ends watch with status 0" "exit 0" echo "$out"
kill -TERM $WATCH; wait $WATCH; rc=$?
[ $rc -eq 0 ] && pass "SIGTERM ends the background watch with status 0" || fail "watch exited $rc"
kill -TERM $WATCH_TEXT; wait $WATCH_TEXT
check "watchers now: none" wait_for 5 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' metrics | grep -qx 'portgate_event_subscribers 0'"
check "every line of the JSON stream is JSON" python3 "$EV" match "$JSON"
lab_stop_daemon
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
