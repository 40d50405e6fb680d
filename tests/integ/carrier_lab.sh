#!/bin/bash
# carrier_lab.sh - a home gateway behind a carrier NAT (issue 19), in the three-tier lab
# (tests/lab/lab3.sh), as it is today, without an upstream PCP client: LAN hosts reach the
# internet through both NATs; a home forward alone is not reachable from the internet, and
# portgatectl status and check say so; with a mapping on the carrier too (a carrier
# `portgatectl forward add`, or a PCP MAP that the home gateway's WAN address sends to the
# carrier) the internet peer reaches the LAN host through both NATs; the carrier NAT is a
# second portgated, then Debian's miniupnpd with PCP.
#
# The lines marked "issue 19" are the expectations the upstream client flips: with it, the
# home gateway asks the carrier for every inbound port itself.
#
# The home gateway's WAN address, 198.51.100.1, is a documentation address like every
# address the lab routes, so portgated cannot tell it from a public one (it says
# test_network). It is configured as a CGN customer's gateway sees itself: external_ip =
# 100.64.0.1, shared address space, which portgated only reports (its DNAT does not match
# on it); no traffic goes to 100.64.0.0/10, as counters in the home gateway show at the end.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
. "$top_srcdir/tests/lab/lab3.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v python3 >/dev/null || skip "needs python3"
lab3_up
CGN_EXT=$CGN_WAN_IP	# the carrier's external address, as the internet sees the LAN
N1=00112233445566778899aabb
N2=ffeeddccbbaa998877665544

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

lab_conf "$LAB_DIR/home.conf" "external_ip = 100.64.0.1"
check "the home portgated starts" lab_start_daemon "$LAB_DIR/home.conf"
# nothing may go to 100.64.0.0/10: counted from the home gateway, whatever sends it
in_gw nft add table ip labcount
in_gw nft add chain ip labcount out '{ type filter hook output priority 0; }'
in_gw nft add rule ip labcount out ip daddr 100.64.0.0/10 counter
in_gw nft add chain ip labcount fwdc '{ type filter hook forward priority 0; }'
in_gw nft add rule ip labcount fwdc ip daddr 100.64.0.0/10 counter
lab3_cgn_conf "$LAB_DIR/cgn.conf"
check "the carrier portgated starts in its own namespace" lab3_start_cgn "$LAB_DIR/cgn.conf"
check "... with its own nft table" in_cgn nft list table ip $LAB3_CGN_TABLE

echo "outbound: the LAN reaches the internet through both NATs"
lab3_who $INET tcp 7000 50
lab3_who $INET udp 7001 50
listen6 $INET tcp 7006 hello-v6
check_out "A reaches the internet peer over TCP, seen as the carrier's address" \
    "seen $CGN_EXT:" connect $HA tcp $INET_IP 7000
check_out "... over UDP" "seen $CGN_EXT:" connect $HA udp $INET_IP 7001
check_out "B too" "seen $CGN_EXT:" connect $HB tcp $INET_IP 7000
check_out "A reaches it over IPv6 (routed, no NAT)" hello-v6 connect6 $HA tcp $INET_IP6 7006
reaches "the internet has no route to the carrier network" "" $INET tcp $GW_WAN_IP 7000
reaches "... nor to the LAN" "" $INET tcp $A_IP 7000

echo "a home forward alone: the carrier drops what the internet sends to it"
listen $HA tcp 80 hello-a
lab3_who $HA tcp 81 50
lab3_who $HA udp 82 50
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
pgctl forward add tcp 8081 $A_IP:81 >/dev/null
pgctl forward add udp 8082 $A_IP:82 >/dev/null
check_out "the forward works from the carrier network" hello-a connect $CGN tcp $GW_WAN_IP 8080
# issue 19: with the upstream client, the home forward alone is reachable (hello-a)
reaches "the internet peer does not reach it at the carrier's address" "" $INET tcp $CGN_EXT 8080
reaches "... nor over UDP" "" $INET udp $CGN_EXT 8082
# issue 19: the carrier then holds "tcp 8080 -> 198.51.100.1:8080" (and 8081, udp 8082)
maps=$(lab3_carrier_maps)
[ -z "$maps" ] && pass "the carrier holds no mapping for it" || fail "the carrier holds: $maps"
check_out "home status: the external address is shared" "external_ip_class shared" pgctl status
# issue 19: behind_nat_upstream_pcp
check_out "home status: inbound mappings are not reachable from the internet" \
    "inbound_reachability behind_nat_no_upstream" pgctl status
# issue 19: the check's address step names the upstream mapping, and the verdict is reachable
pgctl check tcp 8080 --wait 1 > "$LAB_DIR/check.out" 2>&1; rc=$?
[ $rc = 1 ] && pass "portgatectl check tcp 8080 exits 1" || fail "check exited $rc"
check_out "... the verdict: behind another NAT" \
    "verdict: not reachable from the internet: gateway is behind another NAT (100.64.0.0/10)" \
    cat "$LAB_DIR/check.out"
check_out "... the forward itself is fine" "host     ok    $A_IP accepts TCP connections on port 80" \
    cat "$LAB_DIR/check.out"
check_out "the carrier's own address is a test network's (it stands for a public one)" \
    "inbound_reachability test_network" cgnctl status

echo "a manual mapping on the carrier too: the internet reaches A through both NATs"
check_out "carrier forward tcp 8080 -> the home gateway's 8080" "tcp 8080 -> $GW_WAN_IP:8080" \
    cgnctl forward add tcp 8080 $GW_WAN_IP:8080
reaches "the internet peer reaches A" hello-a $INET tcp $CGN_EXT 8080
cgnctl forward add tcp 8081 $GW_WAN_IP:8081 >/dev/null
cgnctl forward add udp 8082 $GW_WAN_IP:8082 >/dev/null
reaches "A sees the internet peer's own address (DNAT twice, no proxy)" "seen $INET_IP:" \
    $INET tcp $CGN_EXT 8081
reaches "... over UDP too" "seen $INET_IP:" $INET udp $CGN_EXT 8082
check_out "the carrier lists it" "tcp 8080 -> $GW_WAN_IP:8080" lab3_carrier_maps
cgnctl forward del tcp 8080 >/dev/null
reaches "the carrier's forward deleted, the internet is dropped again" "" $INET tcp $CGN_EXT 8080
cgnctl flush >/dev/null

echo "PCP MAP from the home gateway's WAN address: the carrier portgated"
out=$(lab3_pcp map --int-port 8080 --ext-port 9080 --lifetime 600 --nonce $N1)
check_out "the carrier grants it" "result=SUCCESS lifetime=600" echo "$out"
ext=$(ext_of "$out")
[ "${ext%:*}" = "$CGN_EXT" ] && pass "at its external address ($ext)" || fail "external: '$ext'"
reaches "the internet peer reaches A at the granted address and port" hello-a \
    $INET tcp "${ext%:*}" "${ext#*:}"
check_out "the carrier lists it" "tcp ${ext#*:} -> $GW_WAN_IP:8080" lab3_carrier_maps
check_out "... as a PCP mapping of the home gateway's" \
    "\"internal_ip\":\"$GW_WAN_IP\",\"internal_port\":8080,\"internal_port_end\":8080,\"source\":\"pcp\"" \
    cgnctl list --json
out=$(lab3_pcp map --int-port 8082 --ext-port 9082 --proto udp --lifetime 600 --nonce $N2)
uext=$(ext_of "$out")
reaches "a UDP MAP: the peer reaches A's UDP server" "seen $INET_IP:" $INET udp "${uext%:*}" "${uext#*:}"
check_out "lifetime 0 deletes it" "result=SUCCESS lifetime=0" \
    lab3_pcp map --int-port 8080 --lifetime 0 --nonce $N1
reaches "then the internet is dropped again" "" $INET tcp "${ext%:*}" "${ext#*:}"
lab3_stop_cgn
check_not "the carrier portgated stopped, its tables are gone" in_cgn nft list table ip $LAB3_CGN_TABLE

echo "the carrier NAT is miniupnpd (Debian's, PCP on)"
if lab3_start_mu > "$LAB_DIR/mu-start.out" 2>&1; then
	pass "miniupnpd starts in the carrier namespace"
	check_out "... having asked the STUN server on the internet peer for its address" \
	    "STUN $CGN_EXT:" cat "$LAB_DIR/stun.log"
	check_out "A still reaches the internet peer, seen as the carrier's address" \
	    "seen $CGN_EXT:" connect $HA tcp $INET_IP 7000
	# issue 19: reachable (the upstream client maps 8080 on miniupnpd too)
	reaches "the home forward alone is not reachable from the internet" "" $INET tcp $CGN_EXT 8080
	out=$(lab3_pcp map --int-port 8080 --ext-port 9080 --lifetime 600 --nonce $N1)
	check_out "miniupnpd grants a MAP from the home gateway's WAN address" "result=SUCCESS" echo "$out"
	ext=$(ext_of "$out")
	[ "${ext%:*}" = "$CGN_EXT" ] && pass "at its external address ($ext)" || fail "external: '$ext'"
	reaches "the internet peer reaches A at the granted address and port" hello-a \
	    $INET tcp "${ext%:*}" "${ext#*:}"
	check_out "its DNAT rule is the mapping" "tcp ${ext#*:} -> $GW_WAN_IP:8080" lab3_carrier_maps
	out=$(lab3_pcp map --int-port 8082 --ext-port 9082 --proto udp --lifetime 600 --nonce $N2)
	uext=$(ext_of "$out")
	reaches "a UDP MAP: the peer reaches A's UDP server" "seen $INET_IP:" \
	    $INET udp "${uext%:*}" "${uext#*:}"
	check_out "lifetime 0 deletes it" "result=SUCCESS lifetime=0" \
	    lab3_pcp map --int-port 8080 --lifetime 0 --nonce $N1
	reaches "then the internet is dropped again" "" $INET tcp "${ext%:*}" "${ext#*:}"
	lab3_stop_mu
else
	fail "miniupnpd did not start (scripts/deps.sh installs miniupnpd-nftables):"
	sed 's/^/       | /' "$LAB_DIR/mu-start.out" | head -20
fi

check "the home portgated is still running" kill -0 $PG_PID
[ "$(in_gw nft list table ip labcount | grep -c 'counter packets 0 bytes 0')" = 2 ] &&
    pass "nothing was sent to 100.64.0.0/10" || { fail "traffic to 100.64.0.0/10"; in_gw nft list table ip labcount; }
lab_stop_daemon
finish
