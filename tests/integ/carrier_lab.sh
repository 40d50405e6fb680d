#!/bin/bash
# carrier_lab.sh - a home gateway behind a carrier NAT (issue 19), in the three-tier lab
# (tests/lab/lab3.sh): the home portgated finds the carrier's PCP server (upstream_pcp =
# auto: its WAN's default gateway) and asks it for every inbound port it opens, whatever
# asked for it: a `portgatectl forward add`, `upnpc -a` (discovering the gateway by SSDP),
# `natpmpc -a`, a PCP MAP, a fired trigger. Each time the internet peer at 203.0.113.100
# really reaches the LAN host through both NATs, and the client was told the carrier's
# external address and port. A port the carrier cannot give is refused to a UPnP client
# (718) with nothing left on either tier; deleting or expiring an entry deletes its
# upstream mapping; a carrier restarted without its state gets every mapping back within
# seconds (its ANNOUNCE, its epoch); a stopped carrier makes them lost, and they come back
# when it returns. The carrier NAT is a second portgated, then Debian's miniupnpd with PCP.
#
# The home gateway's WAN address, 198.51.100.1, is a documentation address like every
# address the lab routes, so portgated cannot tell it from a public one. It is configured
# as a CGN customer's gateway sees itself: external_ip = 100.64.0.1, shared address space,
# which portgated only reports; no traffic goes to 100.64.0.0/10, as counters in the home
# gateway show at the end.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
. "$top_srcdir/tests/lab/lab3.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v python3 >/dev/null || skip "needs python3"
command -v upnpc >/dev/null && command -v natpmpc >/dev/null || skip "needs upnpc and natpmpc"
lab3_up
export PORTGATE_TEST_UPSTREAM_WAIT=5	# a request nobody answers: the carrier is lost after 5 s
CGN_EXT=$CGN_WAN_IP	# the carrier's external address, as the internet sees the LAN
PCPC="$top_srcdir/tests/integ/pcp_client.py"

# reaches DESC WANT NS PROTO HOST PORT: what the server answers begins with WANT, or with
# WANT "" nothing answers (unreachable)
reaches() {
	local d=$1 want=$2 got; shift 2
	got=$(connect "$@")
	if [ -z "$want" ]; then
		[ -z "$got" ] && pass "$d" || fail "$d: wanted nothing, got '$got'"
	else
		case "$got" in "$want"*) pass "$d" ;; *) fail "$d: wanted '$want', got '${got:-nothing}'" ;; esac
	fi
}
# ext_of "result=... ext=ADDR:PORT ...": ADDR:PORT
ext_of() { sed -n 's/.* ext=\([0-9.]*:[0-9]*\) .*/\1/p' <<<"$1"; }
upnp() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -i "$@" 2>&1; }
# up_field PROTO PORT FIELD: the home list's field for the mapping at PORT
up_field() {
	pgctl list --json 2>/dev/null | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["proto"] == sys.argv[1] and m["external_port"] == int(sys.argv[2]):
        print(m[sys.argv[3]])' "$@"
}
# has_line LINE / lacks_port "PROTO PORT": the carrier lists that mapping / none at that port
has_line() { lab3_carrier_maps | grep -qx "$1"; }
lacks_port() { ! lab3_carrier_maps | grep -q "^$1 "; }
# state_now PROTO PORT STATE: the home list says upstream_state STATE for that mapping
state_now() { [ "$(up_field "$1" "$2" upstream_state)" = "$3" ]; }
# who_a PROTO PORT: a fresh "who are you" server on A (60 s at most, as every one is)
who_a() { pkill -f "udpwho.py serve $1 $2 " 2>/dev/null; sleep 0.2; lab3_who $HA "$1" "$2" 60; }
carrier_has() { wait_for "${2:-5}" has_line "$1"; }
carrier_lacks() { wait_for "${2:-5}" lacks_port "$1"; }

lab3_cgn_conf "$LAB_DIR/cgn.conf"
check "the carrier portgated starts in its own namespace" lab3_start_cgn "$LAB_DIR/cgn.conf"
lab_conf "$LAB_DIR/home.conf" "external_ip = 100.64.0.1" \
    "trigger = game tcp:7000 open tcp:7100-7102 idle 30"
check "the home portgated starts" lab_start_daemon "$LAB_DIR/home.conf"
# nothing may go to 100.64.0.0/10: counted from the home gateway, whatever sends it
in_gw nft add table ip labcount
in_gw nft add chain ip labcount out '{ type filter hook output priority 0; }'
in_gw nft add rule ip labcount out ip daddr 100.64.0.0/10 counter
in_gw nft add chain ip labcount fwdc '{ type filter hook forward priority 0; }'
in_gw nft add rule ip labcount fwdc ip daddr 100.64.0.0/10 counter

ext_known() { pgctl status | grep -qx "upstream_external_ip $CGN_EXT"; }
up_status() { pgctl status | grep -qx "upstream_pcp_state up"; }
check "the home gateway finds the carrier's PCP server (its default gateway)" wait_for 10 up_status
check_out "... and says where it is" "upstream_pcp_server $CGN_LAN_IP" pgctl status
check "... and learns the external address it gives, before any mapping" wait_for 5 ext_known
check_out "status: inbound mappings are reachable through it" \
    "inbound_reachability behind_nat_upstream_pcp" pgctl status

echo "outbound: the LAN reaches the internet through both NATs"
lab3_who $INET tcp 7000 60
lab3_who $INET udp 7001 60
check_out "A reaches the internet peer, seen as the carrier's address" \
    "seen $CGN_EXT:" connect $HA tcp $INET_IP 7000
reaches "the internet has no route to the carrier network" "" $INET tcp $GW_WAN_IP 7000

echo "a static forward: the home gateway asks the carrier for it"
listen $HA tcp 80 hello-a
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
check "the carrier holds tcp 8080 -> the home gateway's 8080" \
    carrier_has "tcp 8080 -> $GW_WAN_IP:8080"
check "the home list says granted" wait_for 5 state_now tcp 8080 granted
got="$(up_field tcp 8080 upstream_external_ip) $(up_field tcp 8080 upstream_external_port)"
[ "$got" = "$CGN_EXT 8080" ] && pass "list --json: upstream_external_ip/port $got" ||
    fail "list --json upstream: '$got'"
check_out "portgatectl list shows upstream=ADDR:PORT" "upstream=$CGN_EXT:8080" pgctl list
reaches "the internet peer reaches A through both NATs" hello-a $INET tcp $CGN_EXT 8080
pgctl check tcp 8080 --wait 1 > "$LAB_DIR/check.out" 2>&1
check_out "portgatectl check: the upstream maps the port, and where the internet reaches it" \
    "PCP server $CGN_LAN_IP maps this port: the internet reaches it at $CGN_EXT:8080" \
    cat "$LAB_DIR/check.out"
check_not "... the verdict is not 'behind another NAT'" grep -q "^verdict: .*behind another NAT" "$LAB_DIR/check.out"
check_out "the carrier's own list shows it as a PCP mapping of the home gateway's" \
    "\"internal_ip\":\"$GW_WAN_IP\",\"internal_port\":8080,\"internal_port_end\":8080,\"source\":\"pcp\"" \
    cgnctl list --json
pgctl forward del tcp 8080 >/dev/null
check "deleting the forward deletes the carrier's mapping" carrier_lacks "tcp 8080"
reaches "then the internet is dropped" "" $INET tcp $CGN_EXT 8080

echo "UPnP: upnpc, discovering the gateway by SSDP"
who_a tcp 81
who_a udp 82
out=$(upnp $HA -s)
check_out "upnpc -s shows the carrier's external address" "ExternalIPAddress = $CGN_EXT" echo "$out"
out=$(upnp $HA -e carrier-test -a $A_IP 81 8081 TCP)
check_out "upnpc -a maps 8081 -> A:81" "is redirected to internal $A_IP:81" echo "$out"
check_out "... told the carrier's address" "external $CGN_EXT:8081 TCP" echo "$out"
check "the carrier holds tcp 8081" carrier_has "tcp 8081 -> $GW_WAN_IP:8081"
reaches "the internet peer reaches A's 81, seen with its own address" "seen $INET_IP:" \
    $INET tcp $CGN_EXT 8081
check_out "upnpc -l lists it with the carrier's address" "ExternalIPAddress = $CGN_EXT" upnp $HA -l
# a port the carrier has given to someone else: PREFER_FAILURE upstream, 718 here
cgnctl forward add tcp 8090 $GW_WAN_IP:18090 >/dev/null
out=$(upnp $HA -e taken -a $A_IP 81 8090 TCP)
check_out "upnpc -a for a port the carrier holds for another: 718" "718" echo "$out"
[ -z "$(up_field tcp 8090 source)" ] && pass "... and nothing is left at home" ||
    fail "home still holds tcp 8090"
check_out "... nor at the carrier (only its own forward)" "tcp 8090 -> $GW_WAN_IP:18090" lab3_carrier_maps
[ "$(lab3_carrier_maps | grep -c '^tcp 8090 ')" = 1 ] && pass "... one mapping there" ||
    fail "carrier: $(lab3_carrier_maps | grep '^tcp 8090 ')"
cgnctl forward del tcp 8090 >/dev/null
# AddAnyPortMapping where the carrier holds the port: the one it grants, the same on both tiers
cgnctl forward add tcp 8095 $GW_WAN_IP:18095 >/dev/null
out=$(upnp $HA -e any -n $A_IP 81 8095 TCP)
q=$(sed -n "s/.*external $CGN_EXT:\([0-9]*\) TCP is redirected.*/\1/p" <<<"$out")
[ -n "$q" ] && [ "$q" != 8095 ] && pass "upnpc -n on a port the carrier holds: told the carrier's other port ($q)" ||
    fail "upnpc -n: $out"
check "... which the home gateway uses too (one number on both tiers)" carrier_has "tcp $q -> $GW_WAN_IP:$q"
[ -z "$(up_field tcp 8095 source)" ] && [ "$(up_field tcp "$q" source)" = upnp ] &&
    pass "... the home list has it at $q, nothing at 8095" || fail "home list: $(pgctl list)"
reaches "the internet peer reaches A's 81 at $CGN_EXT:$q" "seen $INET_IP:" $INET tcp $CGN_EXT "$q"
check_out "upnpc -l lists it at that port" "$q->$A_IP:81" upnp $HA -l
upnp $HA -d "$q" TCP >/dev/null
check "upnpc -d of that port deletes it on both tiers" carrier_lacks "tcp $q"
cgnctl forward del tcp 8095 >/dev/null
upnp $HA -d 8081 TCP >/dev/null
check "upnpc -d deletes the carrier's mapping too" carrier_lacks "tcp 8081"
out=$(upnp $HA -e short -a $A_IP 81 8083 TCP 4)
check "a 4 s lease: the carrier holds it" carrier_has "tcp 8083 -> $GW_WAN_IP:8083"
check "... and it is gone there once the lease ran out" carrier_lacks "tcp 8083" 10

echo "NAT-PMP: natpmpc"
check_out "natpmpc prints the carrier's address as the public one" \
    "Public IP address : $CGN_EXT" in_a timeout 5 natpmpc -g $GW_LAN_IP
check_out "natpmpc -a maps udp 8082 -> A:82" \
    "Mapped public port 8082 protocol UDP to local port 82" \
    in_a timeout 5 natpmpc -g $GW_LAN_IP -a 8082 82 udp 600
check "the carrier holds udp 8082" carrier_has "udp 8082 -> $GW_WAN_IP:8082"
reaches "the internet peer reaches A over UDP" "seen $INET_IP:" $INET udp $CGN_EXT 8082

echo "PCP: our client from A"
out=$(in_a timeout 8 python3 "$PCPC" $GW_LAN_IP map --int-port 81 --ext-port 8084 --lifetime 300 \
    --nonce 00112233445566778899aabb)
check_out "a MAP is granted" "result=SUCCESS" echo "$out"
[ "$(ext_of "$out")" = "$CGN_EXT:8084" ] && pass "the answer carries the carrier's address and port" ||
    fail "answer: $out"
reaches "the internet peer reaches A there" "seen $INET_IP:" $INET tcp $CGN_EXT 8084

echo "a LAN host cannot ask the carrier itself (it would map ports to the gateway's own address)"
out=$(in_a timeout 8 python3 "$PCPC" $CGN_LAN_IP map --int-port 22 --ext-port 2222 --lifetime 300 \
    --client $GW_WAN_IP 2>&1)
case "$out" in *result=*) fail "the carrier answered A: $out" ;; *) pass "A's PCP MAP to the carrier gets no answer" ;; esac
in_a timeout 3 natpmpc -g $CGN_LAN_IP -a 2223 22 tcp 300 >/dev/null 2>&1
carrier_lacks "tcp 2222" 1 && carrier_lacks "tcp 2223" 1 && pass "... the carrier maps nothing for it (PCP, NAT-PMP)" ||
    fail "the carrier holds: $(lab3_carrier_maps)"
check_out "the home gateway's fence counted them" "udp dport 5351 counter packets" \
    in_gw nft list chain ip portgate forward

echo "a trigger: A's outbound traffic on tcp 7000 opens 7100-7102, each asked upstream"
listen $HA tcp 7101 trig-a
connect $HA tcp $INET_IP 7000 >/dev/null
check "the carrier holds tcp 7100, 7101, 7102 for it" carrier_has "tcp 7102 -> $GW_WAN_IP:7102"
check "... 7100 too" carrier_has "tcp 7100 -> $GW_WAN_IP:7100"
reaches "the internet peer reaches A's 7101" trig-a $INET tcp $CGN_EXT 7101

echo "the carrier restarts without its state: the home gateway asks again"
who_a udp 82
lab3_stop_cgn
rm -f "$LAB_DIR/cgn.state"
check "the carrier portgated starts again, state lost" lab3_start_cgn "$LAB_DIR/cgn.conf"
check "within seconds it holds udp 8082 again" carrier_has "udp 8082 -> $GW_WAN_IP:8082" 10
check "... and the PCP client's 8084" carrier_has "tcp 8084 -> $GW_WAN_IP:8084" 10
check "... and the trigger's 7101" carrier_has "tcp 7101 -> $GW_WAN_IP:7101" 10
reaches "the internet peer reaches A again" "seen $INET_IP:" $INET udp $CGN_EXT 8082

echo "the carrier stops: entries are lost; it returns: they come back"
lab3_stop_cgn
pgctl forward add tcp 8085 $A_IP:80 >/dev/null	# a request nobody answers
check "the home list says lost (the server does not answer)" wait_for 20 state_now udp 8082 lost
check_out "status says so" "upstream_pcp_state lost" pgctl status
check "the home portgated keeps running" kill -0 $PG_PID
check "the carrier portgated starts again (with its state)" lab3_start_cgn "$LAB_DIR/cgn.conf"
check "the home list says granted again" wait_for 20 state_now udp 8082 granted
check "the forward made while it was away is there too" carrier_has "tcp 8085 -> $GW_WAN_IP:8085" 20
reaches "the internet peer reaches A" hello-a $INET tcp $CGN_EXT 8085
pgctl flush >/dev/null
carrier_empty() { [ -z "$(lab3_carrier_maps)" ]; }
check "a flush at home empties the carrier" wait_for 10 carrier_empty
lab3_carrier_maps | sed 's/^/       | left: /'
lab_stop_daemon
lab3_stop_cgn

echo "the carrier NAT is miniupnpd (Debian's, PCP on)"
rm -f "$LAB_DIR/state"
if lab3_start_mu > "$LAB_DIR/mu-start.out" 2>&1; then
	pass "miniupnpd starts in the carrier namespace"
	who_a tcp 81
	who_a udp 82
	check "the home portgated starts" lab_start_daemon "$LAB_DIR/home.conf"
	check "it finds miniupnpd's PCP server" wait_for 10 up_status
	check "... and learns the external address it gives, before any mapping" wait_for 5 ext_known
	pgctl forward add tcp 8080 $A_IP:80 >/dev/null
	check "miniupnpd's DNAT holds tcp 8080 -> the home gateway's 8080" \
	    carrier_has "tcp 8080 -> $GW_WAN_IP:8080"
	reaches "the internet peer reaches A through both NATs" hello-a $INET tcp $CGN_EXT 8080
	out=$(upnp $HA -e mu-test -a $A_IP 81 8081 TCP)
	check_out "upnpc -a: told the carrier's address" "external $CGN_EXT:8081 TCP" echo "$out"
	reaches "the internet peer reaches A's 81" "seen $INET_IP:" $INET tcp $CGN_EXT 8081
	check_out "natpmpc prints miniupnpd's address as the public one" \
	    "Public IP address : $CGN_EXT" in_a timeout 5 natpmpc -g $GW_LAN_IP
	check_out "natpmpc -a maps udp 8082" "Mapped public port 8082 protocol UDP to local port 82" \
	    in_a timeout 5 natpmpc -g $GW_LAN_IP -a 8082 82 udp 600
	reaches "the internet peer reaches A over UDP" "seen $INET_IP:" $INET udp $CGN_EXT 8082
	out=$(in_a timeout 8 python3 "$PCPC" $GW_LAN_IP map --int-port 81 --ext-port 8084 \
	    --lifetime 300 --nonce 00112233445566778899aabb)
	[ "$(ext_of "$out")" = "$CGN_EXT:8084" ] && pass "PCP: the answer carries miniupnpd's address and port" ||
	    fail "answer: $out"
	connect $HA tcp $INET_IP 7000 >/dev/null
	check "a fired trigger: miniupnpd holds tcp 7101" carrier_has "tcp 7101 -> $GW_WAN_IP:7101"
	reaches "the internet peer reaches A's 7101" trig-a $INET tcp $CGN_EXT 7101
	pgctl forward del tcp 8080 >/dev/null
	check "deleting the forward deletes miniupnpd's mapping" carrier_lacks "tcp 8080"
	lab_stop_daemon
	lab3_stop_mu
else
	fail "miniupnpd did not start (scripts/deps.sh installs miniupnpd-nftables):"
	sed 's/^/       | /' "$LAB_DIR/mu-start.out" | head -20
fi

[ "$(in_gw nft list table ip labcount | grep -c 'counter packets 0 bytes 0')" = 2 ] &&
    pass "nothing was sent to 100.64.0.0/10" || { fail "traffic to 100.64.0.0/10"; in_gw nft list table ip labcount; }
finish
