#!/bin/bash
# bench_pcp.sh - PCP MAP cost in the namespace lab (run by `make bench`).
#
# With 0, 10,000 and 100,000 mappings already in the table (static forwards),
# a LAN host's client (tests/bench/bench_pcp.c, one UDP socket) prints the
# latency of 2,000 MAP creates (one in flight: table add, nftables commit,
# answer) and the MAP rate it sustains for 3 s refreshing 1,000 mappings
# with 64 requests in flight. A benchmark prints figures; it asserts nothing.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
export top_builddir top_srcdir
. "$top_srcdir/tests/integ/lib.sh"
LAB=${LAB:-pgp$$}
. "$top_srcdir/tests/lab/lab.sh"
CLIENT="$top_builddir/tests/bench/bench_pcp"
N=${BENCH_PCP_N:-2000}

echo "== portgate PCP benchmark =="
lab_can_run || { echo "PCP figures skipped: needs root, nft, socat and network namespaces"; exit 0; }
[ -x "$CLIENT" ] || { echo "bench_pcp: $CLIENT not built" >&2; exit 1; }
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "max_mappings_per_client = 0" "max_lease = 86400" "pcp_rate_limit = 0" "upnp = no"
lab_start_daemon "$conf" >/dev/null || { echo "bench_pcp: portgated did not start"; exit 1; }
run() { ip netns exec "$HA" "$CLIENT" $GW_LAN_IP $A_IP "$@"; }
run6() { ip netns exec "$HA" "$CLIENT" $GW_LAN_IP6 $A_IP6 "$@"; }
# fill_lines FROM TO UDP_MAX ADD PORT0 TARGET: portgatectl lines adding entries FROM..TO-1 (udp
# for the first UDP_MAX, then tcp), ports from PORT0 for each protocol, to TARGET
fill_lines() {
	local i
	for ((i = $1; i < $2; i++)); do
		if [ $i -lt $3 ]; then echo "$4 udp $(printf "$6" $(($5 + i)))"
		else echo "$4 tcp $(printf "$6" $(($5 + i - $3)))"; fi
	done
}
fill() { fill_lines $1 $2 50000 "forward add" 10000 "%d $B_IP" | pgctl - >/dev/null; }
pin_fill() { fill_lines $1 $2 60000 "pinhole add" 1 "[$B_IP6]:%d" | pgctl - >/dev/null; }
# measure WHAT VERB RUN FILL: the latency of N creates (one in flight) and the rate of refreshes
# (64 in flight) with 0, 10,000 and 100,000 entries filled in by FILL; RUN is the client
measure() {
	local what=$1 verb=$2 client=$3 filler=$4 have=0 size mean p50 p99 errs per
	printf "%-10s %12s %12s %12s %14s\n" $what ${verb}_mean_us p50_us p99_us refresh_per_s
	for size in 0 10000 100000; do
		$filler $have $size; have=$size
		read -r _ _ mean p50 p99 errs <<<"$($client latency $N 60000)"
		read -r _ _ _ per _ <<<"$($client rate 3 60000 1000)"
		$client delete $N 60000 >/dev/null
		printf "%-10s %12s %12s %12s %14s\n" $size "$mean" "$p50" "$p99" "$per"
		[ "${errs:-0}" != 0 ] && echo "  ($errs $verb errors)"
	done
	echo "(one client, $(nproc) cores, kernel $(uname -r); $what: $(pgctl status |
	    awk -v w=$what '$1 == w { print $2 }'))"
}
measure mappings create run fill

# IPv6 pinholes: with 0, 10,000 and 100,000 pinholes held (static ones for host B), the cost
# of opening one more: a PCP MAP from host A's IPv6 address (table add, nftables commit of
# the ip6 table's element, answer), and its refresh rate.
echo "== portgate pinhole add benchmark (PCP MAP over IPv6) =="
pgctl flush >/dev/null
measure pinholes add run6 pin_fill
