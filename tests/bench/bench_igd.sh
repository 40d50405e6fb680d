#!/bin/bash
# bench_igd.sh - UPnP control latency in the namespace lab (run by `make bench`).
#
# With 0, 1,000 and 10,000 mappings already in the table (static forwards,
# udp), a client on a LAN host sends N requests of each kind, one new TCP
# connection per request, and prints mean / p50 / p99 milliseconds:
# GetExternalIPAddress (the floor: HTTP, SOAP, no table, no firewall),
# AddPortMapping (table add, nftables commit), GetGenericPortMappingEntry
# (index lookup) and DeletePortMapping. A benchmark prints figures; it
# asserts nothing. Then the AddPortMapping and DeletePortMapping throughput
# of BENCH_SOAP_PARALLEL (16) clients at once. Without root or network
# namespaces it says why and exits 0.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
export top_builddir top_srcdir
. "$top_srcdir/tests/integ/lib.sh"
LAB=${LAB:-pgi$$}
. "$top_srcdir/tests/lab/lab.sh"
N=${BENCH_SOAP_N:-300}
CLIENT="$top_builddir/tests/bench/bench_soap"

echo "== portgate UPnP control benchmark =="
lab_can_run || { echo "UPnP figures skipped: needs root, nft, socat and network namespaces"; exit 0; }
[ -x "$CLIENT" ] || { echo "bench_igd: $CLIENT not built" >&2; exit 1; }
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "max_mappings_per_client = 0" "max_lease = 86400"
lab_start_daemon "$conf" >/dev/null || { echo "bench_igd: portgated did not start"; exit 1; }
pgctl() { "$PORTGATECTL" -s "$LAB_DIR/sock" "$@"; }
run() { ip netns exec "$HA" "$CLIENT" $GW_LAN_IP 5000 $A_IP "$@"; }
printf "%-10s %-28s %9s %9s %9s %7s\n" mappings request mean_ms p50_ms p99_ms errors
have=0
for size in 0 1000 10000; do
	if [ $size -gt $have ]; then
		seq $((20000 + have)) $((20000 + size - 1)) | sed "s/.*/forward add udp & $B_IP/" |
			pgctl - >/dev/null
		have=$size
	fi
	for spec in "extip GetExternalIPAddress 0" "add AddPortMapping 40000" \
	    "generic GetGenericPortMappingEntry $size" "del DeletePortMapping 40000"; do
		set -- $spec
		arg=$3; [ "$1" = generic ] && arg=$((size + N))	# the table holds the N just added
		read -r _ _ mean p50 p99 _ errs <<<"$(run $1 $N $arg)"
		printf "%-10s %-28s %9s %9s %9s %7s\n" $size $2 "$mean" "$p50" "$p99" "$errs"
	done
done
echo "(N=$N requests each; $(nproc) cores, kernel $(uname -r))"

# Throughput with control points in parallel: P clients (addresses 192.0.2.100.. added
# to the LAN host; the daemon admits IGD_HTTP_PER_IP connections per address), each
# adding PN/P mappings to itself (one new connection per request), all at once; then
# the same deletes. The daemon answers each only after its mapping is in the kernel.
P=${BENCH_SOAP_PARALLEL:-16}
PN=${BENCH_SOAP_PAR_N:-1600}
for ((i = 0; i < P; i++)); do in_a ip addr add 192.0.2.$((100 + i))/24 dev eth0; done
parallel() {	# parallel ACTION: prints requests sent, per second over all P clients, errors
	local i t0 t1 per=$((PN / P)) errs=0 out src
	t0=$(date +%s.%N)
	for ((i = 0; i < P; i++)); do
		src=192.0.2.$((100 + i))
		ip netns exec "$HA" "$CLIENT" -b $src $GW_LAN_IP 5000 $src $1 $per \
		    $((45000 + i * per)) > "$LAB_DIR/par.$i" &
	done
	wait
	t1=$(date +%s.%N)
	for ((i = 0; i < P; i++)); do
		read -r _ _ _ _ _ _ out < "$LAB_DIR/par.$i"
		errs=$((errs + ${out:-$per}))
	done
	awk -v n=$((per * P)) -v a=$t0 -v b=$t1 -v e=$errs \
	    'BEGIN { printf "%d %.0f %d\n", n, n / (b - a), e }'
}
printf "%-10s %-28s %9s %9s %7s\n" mappings "request ($P clients)" sent per_s errors
for spec in "extip GetExternalIPAddress" "add AddPortMapping" "del DeletePortMapping"; do
	set -- $spec
	read -r sent per errs <<<"$(parallel $1)"
	printf "%-10s %-28s %9s %9s %7s\n" $have $2 "$sent" "$per" "$errs"
done
