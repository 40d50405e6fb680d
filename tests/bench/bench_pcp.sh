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
fill() { # FROM TO: static forwards udp and tcp 10000.. until the table holds TO
	local i
	for ((i = $1; i < $2; i++)); do
		if [ $i -lt 50000 ]; then echo "forward add udp $((10000 + i)) $B_IP"
		else echo "forward add tcp $((10000 + i - 50000)) $B_IP"; fi
	done | pgctl - >/dev/null
}
printf "%-10s %12s %12s %12s %14s\n" mappings create_mean_us p50_us p99_us refresh_per_s
have=0
for size in 0 10000 100000; do
	fill $have $size; have=$size
	read -r _ _ mean p50 p99 errs <<<"$(run latency $N 60000)"
	read -r _ _ _ per _ <<<"$(run rate 3 60000 1000)"
	run delete $N 60000 >/dev/null
	printf "%-10s %12s %12s %12s %14s\n" $size "$mean" "$p50" "$p99" "$per"
	[ "${errs:-0}" != 0 ] && echo "  ($errs create errors)"
done
echo "(one client, $(nproc) cores, kernel $(uname -r); mappings: $(pgctl status | awk '$1 == "mappings" { print $2 }'))"

# IPv6 pinholes: with 0, 10,000 and 100,000 pinholes held (static ones for host B), the cost
# of opening one more: a PCP MAP from host A's IPv6 address (table add, nftables commit of
# the ip6 table's element, answer), and its refresh rate.
echo "== portgate pinhole add benchmark (PCP MAP over IPv6) =="
pgctl flush >/dev/null
run6() { ip netns exec "$HA" "$CLIENT" $GW_LAN_IP6 $A_IP6 "$@"; }
pin_fill() { # FROM TO: static pinholes udp and tcp [B]:1.. until the table holds TO
	local i
	for ((i = $1; i < $2; i++)); do
		if [ $i -lt 60000 ]; then echo "pinhole add udp [$B_IP6]:$((1 + i))"
		else echo "pinhole add tcp [$B_IP6]:$((1 + i - 60000))"; fi
	done | pgctl - >/dev/null
}
printf "%-10s %12s %12s %12s %14s\n" pinholes add_mean_us p50_us p99_us refresh_per_s
have=0
for size in 0 10000 100000; do
	pin_fill $have $size; have=$size
	read -r _ _ mean p50 p99 errs <<<"$(run6 latency $N 60000)"
	read -r _ _ _ per _ <<<"$(run6 rate 3 60000 1000)"
	run6 delete $N 60000 >/dev/null
	printf "%-10s %12s %12s %12s %14s\n" $size "$mean" "$p50" "$p99" "$per"
	[ "${errs:-0}" != 0 ] && echo "  ($errs add errors)"
done
echo "(one client, $(nproc) cores, kernel $(uname -r); pinholes: $(pgctl status | awk '$1 == "pinholes" { print $2 }'))"
