#!/bin/bash
# import_lab.sh - moving from miniupnpd (issue 20): in the three-tier lab the carrier NAT runs
# Debian's miniupnpd with a lease file; the home gateway's WAN address gets a PCP MAP and a
# NAT-PMP mapping there, which miniupnpd writes to its lease file. miniupnpd stops, and
# `portgatectl import-miniupnpd` makes a portgated.conf of its configuration (naming what it
# does not translate, keeping the uuid), which portgated -t accepts and a carrier portgated
# runs; the lease file's leases go into it with their remaining lifetimes, and the internet
# peer reaches the home gateway through them again.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
. "$top_srcdir/tests/lab/lab3.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v natpmpc >/dev/null || skip "needs natpmpc"
[ -x /usr/sbin/miniupnpd ] || skip "needs /usr/sbin/miniupnpd (miniupnpd-nftables)"
lab3_up
UUID=3b9d6a4e-1c2f-4e0a-9d53-2f6b1c0a7e02	# lab3_mu_conf's

echo "miniupnpd, with a lease file"
check "miniupnpd starts in the carrier namespace" lab3_start_mu "lease_file=$LAB_DIR/mu.leases"
check_out "a PCP MAP from the home gateway's WAN address" "result=SUCCESS" \
    lab3_pcp map --int-port 8080 --ext-port 9080 --lifetime 600 --nonce 00112233445566778899aabb
check_out "a NAT-PMP mapping too" "Mapped public port 9081 protocol UDP to local port 8081" \
    ip netns exec "$GW" timeout 5 natpmpc -g $CGN_LAN_IP -a 9081 8081 udp 900
check_out "miniupnpd wrote the first to its lease file" "TCP:9080:$GW_WAN_IP:8080:" cat "$LAB_DIR/mu.leases"
check_out "... and the second" "UDP:9081:$GW_WAN_IP:8081:" cat "$LAB_DIR/mu.leases"
cp "$LAB_DIR/mu.leases" "$LAB_DIR/saved.leases"
lab3_stop_mu

echo "portgatectl import-miniupnpd: the configuration"
"$PORTGATECTL" import-miniupnpd "$LAB_DIR/mu.conf" > "$LAB_DIR/imported.conf" 2> "$LAB_DIR/import.err"
rc=$?
[ $rc = 0 ] && pass "it prints a configuration (exit 0)" || fail "exit $rc"
for l in "wan_interface = wan0" "lan_interface = br-cnet" "upnp = no" "pcp = yes" "natpmp = yes" \
    "upnp_secure_mode = yes" "uuid = $UUID" "allow 1024-65535 198.51.100.0/24 1024-65535" \
    "deny 0-65535 0.0.0.0/0 0-65535"; do
	check "... with '$l'" grep -qx "$l" "$LAB_DIR/imported.conf"
done
check_out "it names what it does not translate, file and line" \
    "$LAB_DIR/mu.conf:11: ext_perform_stun: not translated: portgate asks the upstream PCP server" \
    cat "$LAB_DIR/import.err"
check_out "... the lease file key too" "lease_file: not translated: its leases come in with" \
    cat "$LAB_DIR/import.err"
# the lab's own lines: the carrier's table, state and socket
{ cat "$LAB_DIR/imported.conf"; echo "state_file = $LAB_DIR/cgn.state"
  echo "control_socket = $LAB_DIR/cgn.sock"; echo "nft_table = $LAB3_CGN_TABLE"; } > "$LAB_DIR/cgn.conf"
check_out "portgated -t accepts it" "configuration OK" "$PORTGATED" -t -f "$LAB_DIR/cgn.conf"
check "a carrier portgated runs it" lab3_start_cgn "$LAB_DIR/cgn.conf"

echo "portgatectl import-miniupnpd: the leases"
out=$("$PORTGATECTL" -s "$LAB_DIR/cgn.sock" import-miniupnpd "$LAB_DIR/mu.conf" "$LAB_DIR/saved.leases" \
    2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && pass "the leases go in (exit 0)" || fail "exit $rc: $out"
check_out "... both" "saved.leases: 2 leases imported, 0 not" echo "$out"
check_out "... each said" "saved.leases:1: imported: tcp 9080 -> $GW_WAN_IP:8080" echo "$out"
left() { cgnctl list --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["external_port"] == int(sys.argv[1]):
        print(m["source"], m["expires_in"], m["description"])' "$1"; }
read -r src exp desc <<<"$(left 9080)"
[ "$src" = upnp ] && pass "tcp 9080 is a UPnP mapping now" || fail "source '$src'"
[ -n "$exp" ] && [ "$exp" -gt 540 ] && [ "$exp" -le 600 ] &&
    pass "with what was left of its lease ($exp s)" || fail "expires_in '$exp'"
check_out "... and miniupnpd's description" "PCP MAP" echo "$desc"
read -r src exp desc <<<"$(left 9081)"
[ -n "$exp" ] && [ "$exp" -gt 840 ] && [ "$exp" -le 900 ] &&
    pass "udp 9081 too ($exp s left)" || fail "9081 expires_in '$exp'"
in_gw sh -c "socat -T 2 TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'echo hello-gw' >/dev/null 2>&1 &"
sleep 0.3
check_out "the internet peer reaches the home gateway through it again" hello-gw \
    connect $INET tcp $CGN_WAN_IP 9080
out=$("$PORTGATECTL" -s "$LAB_DIR/cgn.sock" import-miniupnpd "$LAB_DIR/mu.conf" "$LAB_DIR/saved.leases" \
    2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && pass "imported twice: the same leases again (exit 0)" || fail "twice: exit $rc: $out"
n=$(cgnctl list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] && pass "... renewed, not doubled (2 mappings)" || fail "$n mappings"
# a port someone else holds now: refused, said, exit 1
cgnctl mapping del tcp 9080 >/dev/null
cgnctl forward add tcp 9080 $GW_WAN_IP:18080 >/dev/null
out=$("$PORTGATECTL" -s "$LAB_DIR/cgn.sock" import-miniupnpd "$LAB_DIR/mu.conf" "$LAB_DIR/saved.leases" \
    2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && pass "a lease whose port another holds now: exit 1" || fail "exit $rc"
check_out "... the refusal said, file and line" "saved.leases:1: not imported:" echo "$out"
lab3_stop_cgn
finish
