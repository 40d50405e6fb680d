#!/bin/bash
# hostnames_lab.sh - host names from the DHCP server's lease files (dhcp_leases) and MACs from
# the gateway's neighbour table, in `portgatectl list`, `list --json` and `trigger list --json`,
# in the namespace lab: a dnsmasq-format file naming the LAN hosts, mappings upnpc adds from
# them (the gateway found by SSDP), the file edited in place and renamed over and the new
# names seen within seconds without a reload, a hostile name and an expired lease that show
# nothing, and an odhcpd-format file naming A's IPv6 address for the pinhole upnpc -6 opens.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v upnpc >/dev/null && command -v python3 >/dev/null || skip "needs upnpc (miniupnpc) and python3"
lab_up
A_MAC=$(lab_mac $HA)
B_MAC=$(lab_mac $HB)
case "$A_MAC $B_MAC" in
[0-9a-f][0-9a-f]:*" "[0-9a-f][0-9a-f]:*) pass "A's and B's MACs from ip link: $A_MAC, $B_MAC" ;;
*) fail "ip link: A '$A_MAC', B '$B_MAC'" ;;
esac
leases=$LAB_DIR/dnsmasq.leases
odhcpd=$LAB_DIR/odhcpd
now=$(date +%s)
# leases A-NAME B-NAME: dnsmasq's lease file as lease_update_file writes it, on stdout: A and B,
# a hostile name for .50 (escape sequences, HTML, a shell substitution), an expired lease for .51
leases() {
	echo "$((now + 3600)) $A_MAC $A_IP $1 01:$A_MAC"
	echo "$((now + 3600)) $B_MAC $B_IP $2 01:$B_MAC"
	printf '%s 02:00:00:00:00:50 192.0.2.50 evil\033[2J\033[31m<img/src=x/onerror=alert(1)>$(reboot) *\n' \
		$((now + 3600))
	echo "$((now - 60)) 02:00:00:00:00:51 192.0.2.51 stale-host *"
	echo "duid 00:01:00:01:2c:5f:7c:0e:02:00:00:00:00:01"
}
# odhcpd6 NAME: odhcpd's statefile with A's DHCPv6 lease (and a delegated prefix, no host)
odhcpd6() {
	echo "# br-lan 000100012c5f7c0e${A_MAC//:/} 9a2b3c4d $1 $((now + 3600)) a1b2 128 $A_IP6/128"
	echo "# br-lan 000100012c5f7c0e${B_MAC//:/} 1 - -1 ff 56 2001:db8:100::/56"
}
leases alice-laptop '*' > "$leases"
odhcpd6 alice6 > "$odhcpd"
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "dhcp_leases = dnsmasq:$leases" "dhcp_leases = odhcpd:$odhcpd" \
	"trigger = game tcp:7000 open tcp:7100-7102 idle 30"
check "portgated starts with two dhcp_leases files" lab_start_daemon "$conf"
# upnp NS ARGS: upnpc discovering the gateway by SSDP (-i: 198.51.100.0/24 is reserved)
upnp() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -i "$@" 2>&1; }
upnp6() { local ns=$1; shift; timeout 20 ip netns exec "$ns" upnpc -6 -i -m eth0 "$@" 2>&1; }
# host_of KEY VALUE: "HOST MAC" of the list --json entry whose KEY is VALUE (None for null)
host_of() {
	pgctl list --json | python3 -c "import json, sys
e = [x for x in json.load(sys.stdin) if x.get('$1') == $2]
print(e[0]['host'], e[0]['mac']) if e else print('no entry')"
}
# row REGEX: a line of portgatectl list matches it
row() { pgctl list | grep -qE "$1"; }

echo "mappings upnpc adds: A's name, B's MAC"
check_out "upnpc -a from A maps 9000 -> A:8000" "is redirected to internal $A_IP:8000" \
	upnp $HA -e "my game" -a $A_IP 8000 9000 TCP
check_out "upnpc -a from B maps 9001 -> B:8000" "is redirected to internal $B_IP:8000" \
	upnp $HB -e "b game" -a $B_IP 8000 9001 TCP
check_out "portgatectl list has a HOST column before DESCRIPTION" \
	"PROTO EXTERNAL     INTERNAL                     SOURCE   EXPIRES  HOST              DESCRIPTION" pgctl list
check "A's row names A (alice-laptop) in HOST" row "^tcp +9000 +$A_IP:8000 +upnp +[0-9]+s +alice-laptop +my game\$"
check "B's lease has no name ('*'): B's row shows B's MAC" row "^tcp +9001 +$B_IP:8000 +upnp +[0-9]+s +$B_MAC +b game\$"
check_out "list --json: A's host, and the MAC of A's veth" "alice-laptop $A_MAC" host_of external_port 9000
check_out "list --json: B's host is null, its MAC B's veth's" "None $B_MAC" host_of external_port 9001
check_out "upnpc -l: the description is still the client's own" "9000->$A_IP:8000  'my game'" upnp $HA -l
check_out "status counts the leases read (A, B, .50; .51 has expired)" "dhcp_leases dnsmasq:$leases 3" pgctl status

echo "a hostile name and an expired lease show nothing"
pgctl forward add tcp 9050 192.0.2.50:80 --desc fifty >/dev/null
pgctl forward add tcp 9051 192.0.2.51:80 --desc fiftyone >/dev/null
check "the hostile name is no name: its lease's MAC instead" row "^tcp +9050 +192\.0\.2\.50:80 +static +never +02:00:00:00:00:50 +fifty\$"
check "the expired lease gives neither name nor MAC: '-'" row "^tcp +9051 +192\.0\.2\.51:80 +static +never +- +fiftyone\$"
check_out "list --json: host null for the hostile name" "None 02:00:00:00:00:50" host_of external_port 9050
check_out "list --json: host and mac null for the expired lease" "None None" host_of external_port 9051
out=$(pgctl list; pgctl list --json; pgctl trigger list --json)
check_not "no part of the hostile name, nor the expired one, in any list" grep -qE 'evil|img|onerror|reboot|stale' <<< "$out"
check_not "... and no escape character" grep -q $'\033' <<< "$out"
check_not "nor in the daemon's log (it runs with -v)" grep -qaE 'evil|img|onerror|reboot|stale|'$'\033' "$LAB_DIR/daemon.log"

echo "the file changes: new names without a reload"
# in place (same inode), as dnsmasq rewrites its file
t0=$(date +%s%N)
leases alice-desktop '*' > "$leases"
if wait_for 3 row " alice-desktop +my game\$"; then
	pass "A renamed in place: alice-desktop in list after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
	fail "A renamed in place: $(pgctl list | grep ' 9000 ')"
fi
check_not "... and alice-laptop is gone" row "alice-laptop"
# a new file renamed over the old one, as odhcpd writes its statefile
leases alice-desktop bob > "$leases.tmp"
mv "$leases.tmp" "$leases"
t0=$(date +%s%N)
if wait_for 3 row "^tcp +9001 .* bob +b game\$"; then
	pass "B named by a file renamed over: bob in list after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
	fail "B named by rename: $(pgctl list | grep ' 9001 ')"
fi
check_out "list --json: bob, and B's MAC" "bob $B_MAC" host_of external_port 9001
check_not "no reload happened" grep -q "SIGHUP\|reload:" "$LAB_DIR/daemon.log"

echo "trigger list --json names the host that holds a trigger"
connect $HA tcp $WAN_IP 7000 >/dev/null; sleep 0.5
check_out "the active host's name and MAC" "\"holder\":\"$A_IP\",\"closes_in\":" pgctl trigger list --json
check_out "... \"host\":\"alice-desktop\",\"mac\":\"$A_MAC\"" "\"host\":\"alice-desktop\",\"mac\":\"$A_MAC\"" pgctl trigger list --json

echo "IPv6: odhcpd's file names A's address for the pinhole upnpc -6 opens"
out=$(upnp6 $HA -A "" 0 $A_IP6 8000 6 600)
id=$(echo "$out" | sed -n 's/.*Pinhole ID *= *\([0-9]*\).*/\1/p' | head -1)
[ -n "$id" ] && pass "upnpc -6 -A opens a pinhole (UniqueID $id)" || { fail "upnpc -6 -A: $out"; id=0; }
check "its row names A's IPv6 address: alice6" row "^tcp +pinhole#$id +\[$A_IP6\]:8000 +upnp +[0-9]+s +alice6 "
check_out "list --json: alice6, and A's MAC from the neighbour table" "alice6 $A_MAC" host_of id $id
odhcpd6 alice6-renamed > "$odhcpd.tmp"
mv "$odhcpd.tmp" "$odhcpd"
check "renamed in odhcpd's file: seen within 3 s" wait_for 3 row "pinhole#$id .* alice6-renamed "
check_out "status counts A's one IPv6 lease (the /56 is no host)" "dhcp_leases odhcpd:$odhcpd 1" pgctl status

echo "a lease file that disappears keeps its names a while"
rm -f "$leases"
sleep 2
check "2 s after its file went, A is still alice-desktop" row " alice-desktop +my game\$"
check_out "... and status says the file is unreadable" "dhcp_leases dnsmasq:$leases 3 unreadable" pgctl status
check_out "the daemon says when they go" "its 3 names are forgotten in 60 s unless it comes back" cat "$LAB_DIR/daemon.log"
leases alice-back bob > "$leases"
check "it comes back: the new name" wait_for 3 row " alice-back +my game\$"

echo "a reload that drops odhcpd's file"
lab_conf "$conf" "dhcp_leases = dnsmasq:$leases" "trigger = game tcp:7000 open tcp:7100-7102 idle 30"
kill -HUP $PG_PID
check "after the reload, status has one dhcp_leases line" wait_for 3 sh -c \
	"[ \$('$PORTGATECTL' -s '$LAB_DIR/sock' status | grep -c '^dhcp_leases ') = 1 ]"
check "A is still alice-back (the file read again)" row " alice-back +my game\$"
check_out "... with A's MAC from the neighbour table made anew" "alice-back $A_MAC" host_of external_port 9000
check_out "the pinhole's host is no longer named, its MAC still known" "None $A_MAC" host_of id $id

lab_stop_daemon
finish
