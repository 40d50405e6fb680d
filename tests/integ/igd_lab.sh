#!/bin/bash
# igd_lab.sh - UPnP IGD with the real packaged clients (miniupnpc's upnpc) in the namespace
# lab: mappings that really carry WAN traffic, errors a user sees, the HTTP edge; an
# IPv6-only control point (upnpc -6) that discovers and uses the gateway over IPv6.
# Every client finds the gateway by SSDP, as applications do (no upnpc -u); the IGD:1-only
# control point and upnp_igd_version = 1 and 2 at the end.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v upnpc >/dev/null && command -v curl >/dev/null || skip "needs upnpc (miniupnpc) and curl"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "trigger = game tcp:7000 open tcp:7100-7102 idle 30" "max_lease = 3600" \
	"allow 1024-65535 192.0.2.0/24 1024-65535" "deny 1-65535 0.0.0.0/0 1-65535"
check "portgated starts" lab_start_daemon "$conf"
ROOT=http://$GW_LAN_IP:5000/rootDesc.xml
ROOT6=http://[$GW_LAN_IP6]:5000/rootDesc.xml
# upnp NS ARGS: upnpc discovering the gateway by SSDP (an IGD:1 search first); -i since
# miniupnpc calls an IGD whose external address is reserved (198.51.100.0/24 is) "not connected?"
upnp() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -i "$@" 2>&1; }
soap() { # NS ACTION ARGS [SERVICE-VERSION [BASE-URL]]: POST a WANIPConnection action, print the reply
	local t="urn:schemas-upnp-org:service:WANIPConnection:${4:-2}"
	timeout 5 ip netns exec "$1" curl -g -s -m 3 -H 'Content-Type: text/xml' \
		-H "SOAPAction: \"$t#$2\"" --data-binary "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:$2 xmlns:u=\"$t\">$3</u:$2></s:Body></s:Envelope>" \
		"${5:-http://$GW_LAN_IP:5000}/ctl/IPConn"
}
soap6() { soap "$1" "$2" "$3" "${4:-2}" "http://[$GW_LAN_IP6]:5000"; }
add_args() { # EXT PROTO INPORT CLIENT LEASE [REMOTE]
	echo "<NewRemoteHost>$6</NewRemoteHost><NewExternalPort>$1</NewExternalPort><NewProtocol>$2</NewProtocol><NewInternalPort>$3</NewInternalPort><NewInternalClient>$4</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>t</NewPortMappingDescription><NewLeaseDuration>$5</NewLeaseDuration>"
}

echo "discovery and the external address"
up=$(upnp $HA -s)
check_out "upnpc -i -s discovers the IGD by SSDP" "IGD : http://$GW_LAN_IP:5000/ctl/IPConn" echo "$up"
check_out "... its IGD:1 search is answered" " st: urn:schemas-upnp-org:device:InternetGatewayDevice:1" echo "$up"
check_out "... with the one LOCATION, the IGD:2 description" " desc: $ROOT" echo "$up"
check_out "upnpc -s reads the external address" "ExternalIPAddress = $GW_WAN_IP" echo "$up"
check_out "upnpc -s sees a connected IP_Routed gateway" "Status : Connected" echo "$up"

echo "a mapping carries WAN traffic"
listen $HA tcp 8000 hello-upnp
[ -z "$(connect $WAN tcp $GW_WAN_IP 9000)" ] && pass "before: the WAN cannot reach 9000" || fail "9000 open before"
check_out "upnpc -a maps 9000 -> A:8000" "is redirected to internal $A_IP:8000" upnp $HA -e "my game" -a $A_IP 8000 9000 TCP
check_out "the WAN peer connects through it" hello-upnp connect $WAN tcp $GW_WAN_IP 9000
check_out "upnpc -l lists it" "9000->$A_IP:8000  'my game'" upnp $HA -l
check_out "upnpc -L lists it (GetListOfPortMappings, IGD:2)" "9000->$A_IP:8000  'my game'" upnp $HA -L
check "portgatectl list shows it with A's MAC and its description (a lease of 3600 s)" sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' list | grep -qE 'upnp +3[5-6][0-9][0-9]s +$(lab_mac $HA) +my game'"
check_out "the kernel map holds it" ": 192.0.2.10 . 8000" in_gw nft list map ip portgate dnat_port

echo "IPv6: upnpc -6 discovers the gateway over SSDP and uses it over HTTP"
# upnpc -6 searches [FF05::C] (from its global address) then [FF02::C], IGD:1 first
up6=$(timeout 20 ip netns exec $HA upnpc -6 -i -m eth0 -s 2>&1)
check_out "upnpc -6 -s gets the v2 description at the global address" " desc: $ROOT6" echo "$up6"
check_out "... for its IGD:1 search" " st: urn:schemas-upnp-org:device:InternetGatewayDevice:1" echo "$up6"
check_out "... finds the control URL over IPv6" "IGD : http://[$GW_LAN_IP6]:5000/ctl/IPConn" echo "$up6"
check_out "... talks from its own global address" "Local LAN ip address : $A_IP6" echo "$up6"
check_out "... reads the status" "Status : Connected" echo "$up6"
check_out "... and the external address" "ExternalIPAddress = $GW_WAN_IP" echo "$up6"
check_out "upnpc -6 -l lists A's IPv4 mapping (one table)" "9000->$A_IP:8000  'my game'" \
	timeout 20 ip netns exec $HA upnpc -6 -i -m eth0 -l
check_out "GetExternalIPAddress over IPv6" "<NewExternalIPAddress>$GW_WAN_IP<" soap6 $HA GetExternalIPAddress ""
check_out "secure mode: an IPv4 mapping asked for over IPv6 is for another host: 606" \
	"<errorCode>606</errorCode>" soap6 $HA AddPortMapping "$(add_args 9210 TCP 8000 $A_IP 0)"
check_out "... logged with the IPv6 client" "AddPortMapping from $A_IP6: 606" cat "$LAB_DIR/daemon.log"
check_out "... and A's IPv4 mapping cannot be deleted over IPv6: 606" "<errorCode>606</errorCode>" \
	soap6 $HA DeletePortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>9000</NewExternalPort><NewProtocol>TCP</NewProtocol>"
check_out "an IPv6 internal client for a NAT mapping: 402" "<errorCode>402</errorCode>" \
	soap6 $HA AddPortMapping "$(add_args 9211 TCP 8000 $A_IP6 0)"
check_out "the mapping is still there" "9000->$A_IP:8000  'my game'" upnp $HA -l

echo "one table: other sources are visible, conflicts are named"
pgctl forward add tcp 9100 $B_IP:80 --desc web >/dev/null
connect $HA tcp $WAN_IP 7000 >/dev/null; sleep 0.5
check_out "upnpc -l shows the static forward" "9100->$B_IP:80    'portgate static: web'" upnp $HA -l
check_out "upnpc -l shows each port of the active trigger" "7102->$A_IP:7102  'portgate trigger: game'" upnp $HA -l
check_out "a UPnP add on a static forward's port: 729" "failed with code 729" upnp $HA -a $A_IP 8000 9100 TCP
check_out "on another host's UPnP mapping: 718" "failed with code 718" upnp $HB -a $B_IP 8000 9000 TCP
check_out "upnpc -n on a taken port gets another port (AddAnyPortMapping)" "external $GW_WAN_IP:9101 TCP is redirected" upnp $HB -n $B_IP 8000 9100 TCP
check_out "upnpc -N deletes it (DeletePortMappingRange)" "UPNP_DeletePortMappingRange() returned : 0" upnp $HB -N 9101 9101 TCP
out=$(pgctl list); case "$out" in *" 9101 "*) fail "the table still lists 9101" ;; *) pass "the table dropped 9101" ;; esac
check_out "secure mode: a mapping for another host: 606" "<errorCode>606</errorCode>" soap $HB AddPortMapping "$(add_args 9200 TCP 80 $A_IP 0)"
check_out "a deny rule: 606" "<errorCode>606</errorCode>" soap $HA AddPortMapping "$(add_args 9201 TCP 22 $A_IP 0)"
check_out "a v1 caller on a static forward gets the 718 it knows" "<errorCode>718</errorCode>" soap $HA AddPortMapping "$(add_args 9100 TCP 8080 $A_IP 0)" 1
check_out "GetSpecificPortMappingEntry answers inside the trigger's range" "<NewInternalPort>7101</NewInternalPort>" soap $HB GetSpecificPortMappingEntry "<NewRemoteHost></NewRemoteHost><NewExternalPort>7101</NewExternalPort><NewProtocol>TCP</NewProtocol>"

echo "delete"
check_out "another host cannot delete A's mapping: 606" "<errorCode>606</errorCode>" soap $HB DeletePortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>9000</NewExternalPort><NewProtocol>TCP</NewProtocol>"
check_out "upnpc -d deletes it" "UPNP_DeletePortMapping() returned : 0" upnp $HA -d 9000 TCP
[ -z "$(connect $WAN tcp $GW_WAN_IP 9000)" ] && pass "after delete the WAN is refused again" || fail "9000 still open"
check_out "deleting it again: 714" "<errorCode>714</errorCode>" soap $HA DeletePortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>9000</NewExternalPort><NewProtocol>TCP</NewProtocol>"

echo "a lease ends on time and the kernel closes the port"
check_out "a 2 s mapping" "is redirected" upnp $HA -a $A_IP 8000 9002 TCP 2
check_out "it works" hello-upnp connect $WAN tcp $GW_WAN_IP 9002
sleep 2.5
[ -z "$(connect $WAN tcp $GW_WAN_IP 9002)" ] && pass "after 2 s the WAN is refused" || fail "9002 open after its lease"
out=$(pgctl list); case "$out" in *" 9002 "*) fail "the table still lists 9002" ;; *) pass "the table dropped it" ;; esac

echo "python3-miniupnpc: discover, add, get, delete"
cat > "$LAB_DIR/py.py" <<'PY'
import miniupnpc, sys
u = miniupnpc.UPnP()
u.discoverdelay = 1500
print("devices", u.discover())
u.selectigd()
print("external", u.externalipaddress())
print("add", u.addportmapping(9500, "TCP", u.lanaddr, 8000, "from python", ""))
print("get", u.getspecificportmapping(9500, "TCP"))
print("del", u.deleteportmapping(9500, "TCP"))
print("after", u.getspecificportmapping(9500, "TCP"))
PY
py=$(timeout 15 ip netns exec $HA /usr/bin/python3 "$LAB_DIR/py.py" 2>&1)  # Debian's python3, which has the module
check_out "python: external address" "external $GW_WAN_IP" echo "$py"
check_out "python: add" "add True" echo "$py"
check_out "python: get returns the mapping" "get ('$A_IP', 8000, 'from python', True, 3600)" echo "$py"
check_out "python: delete" "del True" echo "$py"
check_out "python: gone after delete" "after None" echo "$py"

echo "a v1-only client (Windows' User-Agent) with upnp_igd_version = auto"
v1cli() { timeout 15 ip netns exec "$1" python3 "$top_srcdir/tests/integ/igd_v1_client.py" "${@:2}" 2>&1; }
v1=$(v1cli $HB $B_IP 9600 8000)
check_out "it finds IGD:1 by SSDP, at the one LOCATION" "found $ROOT" echo "$v1"
check_out "it is given the IGD:1 description there" "device urn:schemas-upnp-org:device:InternetGatewayDevice:1" echo "$v1"
check_out "it finds WANIPConnection:1 there" "service urn:schemas-upnp-org:service:WANIPConnection:1" echo "$v1"
check_out "it maps a port and reads it back" "read back $B_IP" echo "$v1"
listen $HB tcp 8000 hello-v1
check_out "the WAN peer connects through the v1 mapping" hello-v1 connect $WAN tcp $GW_WAN_IP 9600
check_out "another User-Agent is given IGD:2 at the same LOCATION" "FAIL root device is urn:schemas-upnp-org:device:InternetGatewayDevice:2" v1cli $HB $B_IP 9601 8000 curl/7.88.1
check_out "the reply says it varies by User-Agent" "Vary: User-Agent" in_a curl -s -m 3 -D - -o /dev/null $ROOT
check_out "Windows XP's User-Agent gets IGD:1" "urn:schemas-upnp-org:device:InternetGatewayDevice:1<" in_a curl -s -m 3 -A "Mozilla/4.0 (compatible; UPnP/1.0; Windows NT/5.1)" $ROOT
check_out "rootDesc1.xml describes IGD:1" "urn:schemas-upnp-org:service:WANIPConnection:1<" in_a curl -s -m 3 http://$GW_LAN_IP:5000/rootDesc1.xml
check_out "a v1 AddPortMapping works" "AddPortMappingResponse xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\"" soap $HA AddPortMapping "$(add_args 9300 UDP 9300 $A_IP 60)" 1
check_out "v1 callers cannot use v2 actions: 401" "<errorCode>401</errorCode>" soap $HA AddAnyPortMapping "$(add_args 9301 UDP 9301 $A_IP 60)" 1

echo "GENA: a subscriber gets the initial event and one after a mapping change"
# the trigger's ports end 30 s after its traffic: let that happen first, or it may fall between
# the initial event and the change (the discovering clients above take a while)
check "the trigger's ports have gone idle" wait_for 40 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' list | awk '\$4 == \"trigger\" { f = 1 } END { exit f }'"
ev=$(timeout 40 ip netns exec $HA python3 "$top_srcdir/tests/integ/gena_subscriber.py" $GW_LAN_IP 5000 $A_IP 5555 \
	upnpc -i -e evt -a $A_IP 8000 9700 TCP 2>&1)
n0=$(echo "$ev" | sed -n 's/^initial .*entries=\([0-9]*\).*/\1/p')
check_out "SUBSCRIBE: 200 with a SID and the TIMEOUT" "subscribe 200 sid=uuid: timeout=Second-300" echo "$ev"
check_out "the initial event is SEQ 0, upnp:propchange, with the variables" "initial seq=0 nt=upnp:event nts=upnp:propchange entries=$n0 ip=$GW_WAN_IP status=Connected" echo "$ev"
check_out "a mapping change sends SEQ 1 with one more entry" "change seq=1 nt=upnp:event nts=upnp:propchange entries=$((n0 + 1))" echo "$ev"
check_out "renewal by SID" "renew 200 timeout=Second-600" echo "$ev"
check_out "a CALLBACK naming another host is refused (CallStranger)" "foreign-callback 412" echo "$ev"
check_out "UNSUBSCRIBE" "unsubscribe 200" echo "$ev"
check_out "UNSUBSCRIBE of a gone SID: 412" "unsubscribe-again 412" echo "$ev"

echo "GENA with gupnp-event-dumper (gupnp-tools, GUPnP 1.6): the initial event reaches it"
# GUPnP drops a NOTIFY that arrives before it has read the SUBSCRIBE reply (the SID is unknown);
# sent 0.1 ms after the reply, the initial event reached the dumper about one run in six.
# It subscribes to the root device's Layer3Forwarding, and leaves the subscription behind.
got=0
for i in 1 2 3 4; do
	ip netns exec $HB timeout 10 gupnp-event-dumper > "$LAB_DIR/dump" 2>&1 &
	dpid=$!
	wait_for 8 grep -q "|DefaultConnectionService|" "$LAB_DIR/dump" && got=$((got + 1))
	kill -INT $dpid 2>/dev/null; wait $dpid 2>/dev/null
done
[ $got = 4 ] && pass "the dumper prints the initial event in each of 4 runs" || fail "the dumper printed it in $got of 4 runs"
check_out "... Layer3Forwarding's DefaultConnectionService" \
	"|urn:upnp-org:serviceId:L3Forwarding1|DefaultConnectionService|uuid:" cat "$LAB_DIR/dump"
echo "   GUPnP from a script (tests/integ/gupnp_subscriber.py): WANIPConnection, 5 subscriptions"
gu=$(timeout 40 ip netns exec $HA /usr/bin/python3 "$top_srcdir/tests/integ/gupnp_subscriber.py" eth0 5 2 2>&1)
check_out "GUPnP finds WANIPConnection by SSDP, at the one LOCATION" "found $ROOT" echo "$gu"
check_out "... and gets the initial event in each of 5 subscriptions" "got 5 of 5" echo "$gu"
check_out "... with the variables" "initial ExternalIPAddress=$GW_WAN_IP entries=" echo "$gu"

echo "GENA over IPv6: the CALLBACK must name the subscriber's own IPv6 address"
ev6=$(timeout 40 ip netns exec $HA python3 "$top_srcdir/tests/integ/gena_subscriber.py" $GW_LAN_IP6 5000 $A_IP6 5556 \
	upnpc -i -e evt6 -a $A_IP 8000 9701 TCP 2>&1)
check_out "SUBSCRIBE with CALLBACK <http://[$A_IP6]:5556/evt>: 200" "subscribe 200 sid=uuid: timeout=Second-300" echo "$ev6"
check_out "the initial event reaches the IPv6 subscriber" "initial seq=0 nt=upnp:event nts=upnp:propchange" echo "$ev6"
check_out "a mapping change sends SEQ 1" "change seq=1 nt=upnp:event" echo "$ev6"
check_out "a CALLBACK naming another IPv6 host is refused (CallStranger)" "foreign-callback 412" echo "$ev6"
check_out "UNSUBSCRIBE over IPv6" "unsubscribe 200" echo "$ev6"

echo "a restart keeps UPnP mappings and the device UUID"
uuid1=$(pgctl status | awk '$1 == "upnp_uuid" { print $2 }')
check_out "a mapping to keep" "is redirected" upnp $HA -e keep -a $A_IP 8000 9400 TCP
lab_stop_daemon
check "portgated starts again" lab_start_daemon "$conf"
uuid2=$(pgctl status | awk '$1 == "upnp_uuid" { print $2 }')
[ -n "$uuid1" ] && [ "$uuid1" = "$uuid2" ] && pass "the same UUID after the restart ($uuid1)" || fail "UUID $uuid1 then $uuid2"
check_out "upnpc -l lists the mapping after the restart" "9400->$A_IP:8000  'keep'" upnp $HA -l
check_out "and it carries traffic" hello-upnp connect $WAN tcp $GW_WAN_IP 9400

echo "upnp_igd_version = 1: an IGD:1-only device"
pgctl forward add tcp 9110 $B_IP:80 --desc v1test >/dev/null
lab_stop_daemon
{ cat "$conf"; echo "upnp_igd_version = 1"; } > "$LAB_DIR/pg1.conf"
check "portgated starts with upnp_igd_version = 1" lab_start_daemon "$LAB_DIR/pg1.conf"
all=$(ip netns exec $HA python3 "$top_srcdir/tests/integ/ssdp_client.py" search --mx 1 ssdp:all 1.5)
[ "$(echo "$all" | grep -c " st=")" = 11 ] && pass "ssdp:all: 11 answers" || fail "ssdp:all: $(echo "$all" | grep -c " st=") answers"
echo "$all" | grep -q ":2 " && fail "a version-2 type is answered: $(echo "$all" | grep ':2 ' | head -1)" ||
	pass "... none of them a version-2 type"
check_out "... all with the one LOCATION" "location=$ROOT" echo "$all"
v1=$(v1cli $HB $B_IP 9602 8000 curl/7.88.1)
check_out "a v1-only client with any User-Agent is given IGD:1" "device urn:schemas-upnp-org:device:InternetGatewayDevice:1" echo "$v1"
check_out "... and maps a port" "read back $B_IP" echo "$v1"
d=$(in_a curl -s -m 3 $ROOT)
case "$d" in *"InternetGatewayDevice:1<"*":2<"*) fail "rootDesc.xml names a v2 type" ;;
	*"InternetGatewayDevice:1<"*) pass "rootDesc.xml is IGD:1 for curl too" ;; *) fail "rootDesc.xml: $d" ;; esac
up=$(upnp $HA -L)
check_out "upnpc discovers it" " desc: $ROOT" echo "$up"
check_out "upnpc -L: v2 actions are not there (401)" "GetListOfPortMappings() returned 401" echo "$up"
check_out "upnpc -a on a static forward: 718 (IGD:1 has no 729)" "failed with code 718" upnp $HA -a $A_IP 8000 9110 TCP
check_out "a v2 SOAPAction: 401" "<errorCode>401</errorCode>" soap $HA GetExternalIPAddress ""
check_out "status says so" "upnp_igd_version 1" pgctl status

echo "upnp_igd_version = 2: IGD:2 for every control point"
lab_stop_daemon
{ cat "$conf"; echo "upnp_igd_version = 2"; } > "$LAB_DIR/pg2.conf"
check "portgated starts with upnp_igd_version = 2" lab_start_daemon "$LAB_DIR/pg2.conf"
check_out "Windows' User-Agent is given IGD:2 too" "FAIL root device is urn:schemas-upnp-org:device:InternetGatewayDevice:2" v1cli $HB $B_IP 9603 8000
check_out "upnpc -a on a static forward: 729" "failed with code 729" upnp $HA -a $A_IP 8000 9110 TCP
check_out "upnpc -L lists the mappings" "9400->$A_IP:8000  'keep'" upnp $HA -L
lab_stop_daemon
check "portgated starts again with upnp_igd_version unset (auto)" lab_start_daemon "$conf"
pgctl forward del tcp 9110 >/dev/null

echo "the HTTP edge"
code() { timeout 5 ip netns exec "$1" curl -s -o /dev/null -w '%{http_code}' -m 3 "${@:2}"; }
check_out "a foreign Host header (DNS rebinding): 403" 403 code $HA -H 'Host: attacker.example' $ROOT
check_out "an unknown path: 404" 404 code $HA http://$GW_LAN_IP:5000/etc/passwd
check_out "GET on a control URL: 405" 405 code $HA http://$GW_LAN_IP:5000/ctl/IPConn
check_out "a body over the limit: 413" 413 code $HA -H 'SOAPAction: "x#y"' --data-binary @<(head -c 20000 /dev/zero | tr '\0' a) http://$GW_LAN_IP:5000/ctl/IPConn
[ -z "$(timeout 3 ip netns exec $WAN curl -s -m 2 http://$GW_WAN_IP:5000/rootDesc.xml)" ] && pass "nothing listens on the WAN side" || fail "HTTP answered on the WAN address"
in_wan ip route add 192.0.2.0/24 via $GW_WAN_IP
check_out "a WAN host routed to the LAN address gets no answer (closed at accept; http_accept_lab.sh)" 000 code $WAN -H "Host: $GW_LAN_IP:5000" $ROOT
in_wan ip route del 192.0.2.0/24 via $GW_WAN_IP
# eight idle connections from A fill its per-address limit; B is still served
for i in 1 2 3 4 5 6 7 8 9 10; do in_a socat -T 8 - TCP:$GW_LAN_IP:5000 </dev/null >/dev/null 2>&1 & done
sleep 0.5
check_out "with A's connections idle, B is served" 200 code $HB $ROOT
# slowloris: header bytes trickling in keep MHD's idle timer alive, not the request deadline
for i in 2 3 4 5 6 7 8 9; do in_a ip addr add 192.0.2.2$i/24 dev eth0; done
in_a timeout 30 python3 "$top_srcdir/tests/attack/http_exhaust.py" $GW_LAN_IP 20 4 $A_IP 192.0.2.22 192.0.2.23 192.0.2.24 192.0.2.25 192.0.2.26 192.0.2.27 192.0.2.28 192.0.2.29 > "$LAB_DIR/slow" 2>&1 &
slow=$!
sleep 1
check_out "meanwhile B is served" 200 code $HB $ROOT
wait $slow
check_out "36 trickling connections from 9 addresses are all cut by the request deadline" "still open 0" tail -1 "$LAB_DIR/slow"
check_out "status shows the URL" "upnp_url $ROOT" pgctl status

echo "the HTTP edge over IPv6"
check_out "Host [$GW_LAN_IP6]:5000: 200" 200 code $HA -g $ROOT6
check_out "Host [$GW_LAN_IP6] without a port: 200" 200 code $HA -g -H "Host: [$GW_LAN_IP6]" $ROOT6
check_out "a foreign Host header: 403" 403 code $HA -g -H 'Host: attacker.example' $ROOT6
check_out "an IPv6 Host without brackets: 403" 403 code $HA -g -H "Host: $GW_LAN_IP6" $ROOT6
check_out "the gateway's WAN address as Host: 403" 403 code $HA -g -H "Host: [$GW_WAN_IP6]:5000" $ROOT6
check_out "another LAN host's address as Host: 403" 403 code $HA -g -H "Host: [$B_IP6]:5000" $ROOT6
check_out "a scoped link-local Host: 403" 403 code $HA -g -H "Host: [fe80::1%25br-lan]:5000" $ROOT6
check_out "the v1 description is served over IPv6 too" "InternetGatewayDevice:1<" in_a curl -g -s -m 3 http://[$GW_LAN_IP6]:5000/rootDesc1.xml
l=$(in_gw ss -Hltn 'sport = :5000' | awk '{ print $4 }' | sort | tr '\n' ' ')
[ "$l" = "$GW_LAN_IP:5000 [$GW_LAN_IP6]:5000 " ] && pass "HTTP listens on the LAN addresses only: $l" ||
	fail "HTTP listens on: $l"
[ -z "$(timeout 3 ip netns exec $WAN curl -g -s -m 2 http://[$GW_WAN_IP6]:5000/rootDesc.xml)" ] &&
	pass "nothing answers on the WAN IPv6 address" || fail "HTTP answered on the WAN IPv6 address"
check_out "the WAN peer routed to the LAN IPv6 address gets no answer" 000 code $WAN -g -H "Host: [$GW_LAN_IP6]:5000" $ROOT6
in_a ip -6 addr add 2001:db8:9::10/128 dev eth0 nodad
in_gw ip -6 route add 2001:db8:9::10/128 dev br-lan
check_out "a host on the LAN link with an address outside the LAN prefix: no answer" 000 code $HA -g --interface 2001:db8:9::10 $ROOT6
in_gw ip -6 route del 2001:db8:9::10/128 dev br-lan
in_a ip -6 addr del 2001:db8:9::10/128 dev eth0
check_out "status shows the IPv6 URL" "upnp_url $ROOT6" pgctl status
check_out "status counts SOAP errors" "soap_errors" pgctl status
echo "NewRemoteHost: only that host reaches the mapping (enforced in the kernel)"
in_wan ip addr add 198.51.100.101/24 dev eth0
check_out "a mapping for remote host $WAN_IP only" "AddPortMappingResponse" soap $HA AddPortMapping "$(add_args 9800 TCP 8000 $A_IP 300 $WAN_IP)"
check_out "the kernel holds the filter" "tcp . 9800 . 198.51.100.100 . 0-65535" in_gw nft list set ip portgate filt_allow
check_out "$WAN_IP connects through it" hello-upnp connect $WAN tcp $GW_WAN_IP 9800
other=$(echo hi | timeout 3 ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9800,connect-timeout=1,bind=198.51.100.101 2>/dev/null)
[ -z "$other" ] && pass "198.51.100.101 is refused" || fail "198.51.100.101 reached the mapping: $other"
check_out "upnpc -l shows the remote host" "9800->$A_IP:8000  't' '$WAN_IP'" upnp $HA -l
check_out "the wildcard again lifts the filter" "AddPortMappingResponse" soap $HA AddPortMapping "$(add_args 9800 TCP 8000 $A_IP 300)"
other=$(echo hi | timeout 3 ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9800,connect-timeout=1,bind=198.51.100.101 2>/dev/null)
[ "$other" = hello-upnp ] && pass "then 198.51.100.101 connects too" || fail "198.51.100.101 still refused: '$other'"
in_gw nft list set ip portgate filt_allow | grep -q 9800 && fail "the kernel still holds the filter" || pass "and the kernel holds no filter"

echo "the WAN address changes (DHCP): followed over rtnetlink"
in_gw ip addr del $GW_WAN_IP/24 dev wan0
in_gw ip addr add 198.51.100.2/24 dev wan0
check "within 2 s portgatectl status shows the new address" wait_for 2 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' status | grep -q 'external_ip 198.51.100.2'"
check_out "GetExternalIPAddress reports it" "<NewExternalIPAddress>198.51.100.2<" soap $HA GetExternalIPAddress ""
check_out "the move is logged" "wan: wan0 now has 198.51.100.2" cat "$LAB_DIR/daemon.log"

echo "LAN addresses that arrive later are listened on within seconds"
in_gw ip -6 addr add 2001:db8:1::2/64 dev br-lan	# with DAD: tentative for a second
in_gw ip addr add 192.0.2.3/24 dev br-lan
check "HTTP on the new IPv6 address (after DAD)" wait_for 12 grep -q "upnp: HTTP on 2001:db8:1::2 port 5000" "$LAB_DIR/daemon.log"
check_out "... which serves the description" 200 code $HA -g http://[2001:db8:1::2]:5000/rootDesc.xml
check "HTTP on the new IPv4 address" wait_for 8 grep -q "upnp: HTTP on 192.0.2.3 port 5000" "$LAB_DIR/daemon.log"
check_out "... which serves the description" 200 code $HA http://192.0.2.3:5000/rootDesc.xml
[ "$(grep -c 'cannot listen on 2001:db8:1::2' "$LAB_DIR/daemon.log")" -le 1 ] && pass "a failed try is said at most once" ||
	fail "said $(grep -c 'cannot listen on 2001:db8:1::2' "$LAB_DIR/daemon.log") times"

kill -0 $PG_PID && pass "the daemon survived all of it" || fail "the daemon died"
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
