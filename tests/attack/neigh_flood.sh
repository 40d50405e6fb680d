#!/bin/bash
# neigh_flood.sh [WAVES] - B sends neighbour solicitations from invented IPv6 addresses
# (WAVES x 20,000 at 1,500/s, default 3): the kernel holds about 1024 of them at a time
# and lets the rest go, portgated's mirror keeps those it forgot; once it holds 4096 pairs
# the ones forgotten longest ago must make room, so A's new address (after the flood, and
# after the kernel's 5 s) is still followed and its PCP MAP answered. Needs up.sh running.
# The kernel's neighbour table (gc_thresh3) is shared by every network namespace: while
# this runs, other labs on the machine may see neighbour table overflows.
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
waves=${1:-3}; [ "$waves" -gt 5 ] && waves=5
for w in $(seq 0 $((waves - 1))); do
	in_b python3 "$top_srcdir/tests/lab/nd_flood.py" eth0 2001:db8:1::1 2001:db8:1:: \
		$((65536 + w * 20000)) 20000 "" 1500
	echo "wave $w: lan_hosts6 holds $(in_gw nft list set ip6 portgate lan_hosts6 | grep -o ' \. ' | wc -l) pairs; $(rss_cpu)"
done
grep "LAN neighbours" "$LAB_DIR/daemon.log" | tail -1
sleep 6
in_a ip -6 addr add 2001:db8:1::1234/64 dev eth0 nodad
in_a python3 "$top_srcdir/tests/integ/pcp_client.py" 2001:db8:1::1 map --int-port 8010 \
	--ext-port 8010 --proto tcp --client 2001:db8:1::1234 --bind 2001:db8:1::1234
in_gw nft list set ip6 portgate lan_hosts6 | grep -o "2001:db8:1::1234 \. [0-9a-f:]*" ||
	echo "A's new address is not in lan_hosts6"
in_a ip -6 addr del 2001:db8:1::1234/64 dev eth0
