#!/bin/bash
# bench_igd.sh - UPnP control latency in the namespace lab (run by `make bench`).
#
# With 0, 1,000 and 10,000 mappings already in the table (static forwards,
# udp), a client on a LAN host sends N requests of each kind, one new TCP
# connection per request, and prints mean / p50 / p99 milliseconds:
# GetExternalIPAddress (the floor: HTTP, SOAP, no table, no firewall),
# AddPortMapping (table add, nftables commit), GetGenericPortMappingEntry
# (index lookup) and DeletePortMapping. A benchmark prints figures; it
# asserts nothing. Without root or network namespaces it says why and exits 0.
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
