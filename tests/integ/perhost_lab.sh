#!/bin/bash
# perhost_lab.sh - limits count per host, not per address: a LAN host that takes many
# IPv6 addresses gets one host's share of mappings/pinholes, GENA subscriptions and PCP
# rate, and the other hosts keep theirs.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v curl >/dev/null && command -v python3 >/dev/null || skip "needs curl and python3"
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "max_mappings_per_client = 4" "pcp_rate_limit = 2"
check "portgated starts" lab_start_daemon "$conf"
pcp() { python3 "$top_srcdir/tests/integ/pcp_client.py" "$@"; }
# A takes 12 more IPv6 addresses in its /64; the gateway learns each (a ping from it)
for i in $(seq 20 31); do
	in_a ip -6 addr add 2001:db8:1::$i/64 dev eth0 nodad
	in_a ping -6 -c1 -W1 -q -I 2001:db8:1::$i $GW_LAN_IP6 >/dev/null 2>&1
done

echo "4. one host with many addresses gets one host's share"
ok=0 quota=0
for i in $(seq 20 27); do
	out=$(in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP6 map --int-port 80$i --proto tcp \
		--client 2001:db8:1::$i --bind 2001:db8:1::$i)
	case "$out" in *result=SUCCESS*) ok=$((ok + 1)) ;; *result=USER_EX_QUOTA*) quota=$((quota + 1)) ;; esac
	sleep 0.6	# under the rate limit: this part is about the quota
done
[ $ok = 4 ] && [ $quota = 4 ] && pass "8 pinholes from 8 of A's addresses: 4 granted, 4 USER_EX_QUOTA (max_mappings_per_client = 4 per host)" ||
	fail "granted $ok, over quota $quota"
check_out "B still gets its own pinhole" "result=SUCCESS" in_b python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP6 map --int-port 8080 --proto tcp
check_out "... and A's IPv4 address is the same host (its quota is used up)" "result=USER_EX_QUOTA" \
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP map --int-port 8090 --proto tcp
sub() { # NS SRC: SUBSCRIBE to WANIPConnection from SRC; print the status code
	timeout 5 ip netns exec "$1" curl -g -s -o /dev/null -w '%{http_code}' -m 3 --interface "$2" -X SUBSCRIBE \
		-H "CALLBACK: <http://[$2]:5999/evt>" -H "NT: upnp:event" -H "TIMEOUT: Second-300" \
		"http://[$GW_LAN_IP6]:5000/evt/IPConn"
}
n200=0 n503=0
for i in $(seq 20 31); do
	c=$(sub $HA 2001:db8:1::$i)
	case "$c" in 200) n200=$((n200 + 1)) ;; 503) n503=$((n503 + 1)) ;; esac
done
[ $n200 = 8 ] && [ $n503 = 4 ] && pass "12 SUBSCRIBEs from 12 of A's addresses: 8 accepted (per host), 4 refused with 503" ||
	fail "accepted $n200, refused $n503"
check_out "B's SUBSCRIBE is accepted" 200 sub $HB $B_IP6
sleep 3	# the rate limit's burst refills
answers=$(for i in $(seq 20 31); do
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP6 announce --bind 2001:db8:1::$i &
	in_a python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP6 announce --bind 2001:db8:1::$i &
done | grep -c result=)
wait_for 1 true
[ "$answers" -le 10 ] && pass "24 requests from 12 of A's addresses at once: $answers answered (one host's burst of 6, plus refill)" ||
	fail "$answers of 24 answered: the rate limit counts per address"
check_out "B is answered meanwhile" "result=SUCCESS" in_b python3 "$top_srcdir/tests/integ/pcp_client.py" $GW_LAN_IP announce

lab_stop_daemon
check_no_sanitizer "$LAB_DIR/daemon.log"
finish
