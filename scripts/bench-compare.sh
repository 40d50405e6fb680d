#!/bin/bash
# bench-compare.sh - portgate against miniupnpd, side by side (`make bench-compare`).
#
# As root on Debian 12: installs what is missing (miniupnpd-nftables, miniupnpc,
# gnuplot-nox, socat, curl), builds portgate in build/, then runs the same
# benchmark in two identical namespace labs (tests/lab/lab.sh), one after the
# other, one per daemon: UPnP AddPortMapping / DeletePortMapping latency and a
# GetGenericPortMappingEntry walk at 0, 1k, 2k, 5k and 10k mappings (the table
# filled by UPnP AddPortMapping from the LAN host, the same way for both), PCP
# MAP create and refresh latency at the same sizes, new TCP connections and
# 64-octet UDP packets per second through one mapping with 0, 1k and 10k other
# mappings, daemon RSS per mapping, and restart time with 1,000 mappings
# (portgate's state file, miniupnpd's lease file). A size step that takes longer
# than STEP_SECONDS (default 60) to fill ends that daemon's run; the table says
# where. Prints one table and writes it, a CSV and a PNG plot to
# results/bench-compare-DATE/. A benchmark: it prints figures, asserts nothing.
#
# Environment: STEP_SECONDS, SAMPLES (requests per measurement, default 100),
# FLOW_SECONDS (per data-plane figure, default 5), BENCH_NO_INSTALL=1, BENCH_NO_BUILD=1.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$top_srcdir/build}"
export top_srcdir top_builddir
STEP_SECONDS=${STEP_SECONDS:-60}
SAMPLES=${SAMPLES:-100}
FLOW_SECONDS=${FLOW_SECONDS:-5}
SIZES=${BENCH_SIZES:-0 1000 2000 5000 10000}
FLOW_SIZES=${BENCH_FLOW_SIZES:-0 1000 10000}
RESTART_N=1000
BUDGET=840	# seconds: the whole run stays under 15 minutes
T_START=$SECONDS
CMP=$top_srcdir/tests/bench/compare

die() { echo "bench-compare: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, nftables)"

install_missing() {
	local need=() pkg bin
	for pkg in miniupnpd-nftables:/usr/sbin/miniupnpd miniupnpc:upnpc gnuplot-nox:gnuplot \
	    socat:socat curl:curl nftables:nft python3:python3; do
		bin=${pkg#*:}
		command -v "$bin" >/dev/null 2>&1 || need+=("${pkg%%:*}")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	echo "installing: ${need[*]}"
	# miniupnpd's package must not start a daemon on the host
	local guard=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		guard=1
	fi
	timeout 300 apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "${need[@]}" >/dev/null
	local rc=$?
	[ $guard = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $rc -eq 0 ] || die "apt-get install ${need[*]} failed"
}

build() {
	"$top_srcdir/scripts/build.sh" >/dev/null || die "build failed"
	make -C "$top_builddir" -s tests/bench/bench_soap tests/bench/bench_pcp \
	    tests/bench/bench_flow >/dev/null || die "bench clients did not build"
}

# ---- one lab, one daemon (run in a subshell: lab.sh's EXIT trap tears it down) ----

elapsed() { echo $((SECONDS - T_START)); }
rec() { echo "$*" >> "$OUT"; }	# METRIC SIZE VALUE
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# USS (what is the daemon's alone: Private_Clean + Private_Dirty) and PSS, from smaps_rollup
uss_kb() { awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup" 2>/dev/null; }
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
# libs PID: RSS, PSS and private kB of each mapped file (its shared libraries), largest first
libs() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { f = NF >= 6 ? $6 : "[anon]" }
	    /^Rss:/ { r[f] += $2 } /^Pss:/ { p[f] += $2 } /^Private_(Clean|Dirty):/ { u[f] += $2 }
	    END { for (f in r) printf "%8d %8d %8d  %s\n", r[f], p[f], u[f], f }' \
	    "/proc/$1/smaps" 2>/dev/null | sort -rn | head -15
}
now_ms() { date +%s%3N; }

start_pg() {
	lab_conf "$LAB_DIR/pg.conf" "upnp = yes" "upnp_secure_mode = yes" \
	    "max_mappings_per_client = 0" "max_lease = 86400" "pcp_rate_limit = 0"
	launch_pg
}

# launch_pg: in the foreground (no -v: info-level log, as miniupnpd's), until it answers
launch_pg() {
	ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/pg.conf" 2>>"$LAB_DIR/daemon.log" &
	PG_PID=$!; DPID=$PG_PID
	local n=100
	while [ $n -gt 0 ] && ! pgctl status >/dev/null 2>&1; do
		kill -0 $PG_PID 2>/dev/null || return 1
		sleep 0.05; n=$((n - 1))
	done
	[ $n -gt 0 ]
}

stop_pg() { lab_stop_daemon; }

# mu_conf FILE [extra lines]: the miniupnpd configuration (README's "Performance" quotes it)
mu_conf() {
	local f=$1; shift
	cat > "$f" <<-EOF
	ext_ifname=wan0
	listening_ip=br-lan
	http_port=5000
	enable_upnp=yes
	enable_natpmp=yes
	secure_mode=yes
	system_uptime=no
	uuid=3b9d6a4e-1c2f-4e0a-9d53-2f6b1c0a7e01
	notify_interval=3600
	clean_ruleset_interval=0
	allow 1024-65535 192.0.2.0/24 1024-65535
	deny 0-65535 0.0.0.0/0 0-65535
	ext_perform_stun=yes
	ext_stun_host=198.51.100.100
	ext_stun_port=3478
	EOF
	for l in "$@"; do echo "$l" >> "$f"; done
}

# launch_mu CONF: miniupnpd forks; without /dev/log it would write each log line to
# /dev/console (ms per line), so /dev/console is /dev/null in its own mount namespace
launch_mu() {
	rm -f "$LAB_DIR/mu.pid"
	in_gw unshare -m --propagation private sh -c "mount --bind /dev/null /dev/console &&
	    exec /usr/sbin/miniupnpd -f $1 -P $LAB_DIR/mu.pid" >>"$LAB_DIR/mu.log" 2>&1
	local n=100
	while [ $n -gt 0 ]; do
		[ -s "$LAB_DIR/mu.pid" ] && in_a curl -s -m 1 -o /dev/null \
		    "http://$GW_LAN_IP:5000/rootDesc.xml" && break
		sleep 0.05; n=$((n - 1))
	done
	[ $n -gt 0 ] || return 1
	DPID=$(cat "$LAB_DIR/mu.pid")
}

start_mu() {
	in_gw sh "$CMP/nft_init.sh" >/dev/null || return 1
	# the stock forward chain (policy drop) has no rule for return traffic
	in_gw nft insert rule inet filter forward ct state established,related accept
	in_wan timeout 900 python3 "$CMP/stun_server.py" --max-seconds 880 --max-requests 200 \
	    >>"$LAB_DIR/stun.log" 2>&1 &
	local n=30
	while [ $n -gt 0 ] && [ "$(in_wan ss -Hlun | wc -l)" -lt 4 ]; do sleep 0.1; n=$((n - 1)); done
	mu_conf "$LAB_DIR/mu.conf"
	launch_mu "$LAB_DIR/mu.conf"
}

stop_mu() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	local n=100
	while [ $n -gt 0 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.05; n=$((n - 1)); done
	kill -9 "$DPID" 2>/dev/null
	DPID=
}

soap() { timeout $((STEP_SECONDS + 60)) ip netns exec "$HA" "$top_builddir/tests/bench/bench_soap" \
    -s "$SVC" "$@"; }
pcp() { timeout 120 ip netns exec "$HA" "$top_builddir/tests/bench/bench_pcp" $GW_LAN_IP $A_IP "$@"; }
flow() { local ns=$1; shift; timeout 30 ip netns exec "$ns" "$top_builddir/tests/bench/bench_flow" "$@"; }

# fill TO: AddPortMapping tcp 10000.. from host A until the table holds TO; 1 if the
# step took longer than STEP_SECONDS
fill() {
	local want=$(($1 - HAVE)) out sent errs pre=${2:-fill}
	[ $want -gt 0 ] || return 0
	out=$(soap -t "$STEP_SECONDS" $GW_LAN_IP 5000 $A_IP add $want $((10000 + HAVE)))
	read -r _ sent mean _ p99 _ errs <<<"$out"
	HAVE=$((HAVE + ${sent:-0} - ${errs:-0}))
	rec ${pre}_mean "$1" "$mean"
	rec ${pre}_p99 "$1" "$p99"
	[ "${sent:-0}" -ge $want ]
}

dataplane() { # SIZE
	local t=$FLOW_SECONDS out bg
	flow "$HA" accept 30000 $((t + 1)) >/dev/null &
	bg=$!
	sleep 0.3
	read -r _ _ _ out _ <<<"$(flow "$WAN" conn $GW_WAN_IP 30000 $t)"
	rec conn_rate "$1" "${out:-}"
	wait $bg
	flow "$HA" sink 30001 $((t + 1)) > "$LAB_DIR/sink" &
	bg=$!
	sleep 0.3
	read -r _ _ _ out _ <<<"$(flow "$WAN" udp $GW_WAN_IP 30001 $t)"
	rec udp_sent "$1" "${out:-}"
	wait $bg
	read -r _ _ _ out <<<"$(cat "$LAB_DIR/sink")"
	rec udp_fwd "$1" "${out:-}"
}

measure() { # SIZE: the table holds SIZE mappings (plus the two data-plane ones)
	local s=$1 mean p99 n tot
	read -r _ _ mean _ p99 _ _ <<<"$(soap -t 60 $GW_LAN_IP 5000 $A_IP add $SAMPLES 40000)"
	rec add_mean "$s" "$mean"; rec add_p99 "$s" "$p99"
	read -r _ _ mean _ p99 _ _ <<<"$(soap -t 60 $GW_LAN_IP 5000 $A_IP del $SAMPLES 40000)"
	rec del_mean "$s" "$mean"; rec del_p99 "$s" "$p99"
	read -r _ n tot _ _ _ _ <<<"$(soap -t 60 $GW_LAN_IP 5000 $A_IP walk $((s + 100)))"
	rec walk_ms "$s" "$tot"; rec walk_n "$s" "$n"
	read -r _ _ mean _ p99 _ <<<"$(pcp latency $SAMPLES 50000)"
	rec pcp_create_mean "$s" "$(awk -v v="$mean" 'BEGIN { if (v != "-") printf "%.3f", v / 1000 }')"
	rec pcp_create_p99 "$s" "$(awk -v v="$p99" 'BEGIN { if (v != "-") printf "%.3f", v / 1000 }')"
	read -r _ _ mean _ p99 _ <<<"$(pcp latency $SAMPLES 50000)"
	rec pcp_refresh_mean "$s" "$(awk -v v="$mean" 'BEGIN { if (v != "-") printf "%.3f", v / 1000 }')"
	rec pcp_refresh_p99 "$s" "$(awk -v v="$p99" 'BEGIN { if (v != "-") printf "%.3f", v / 1000 }')"
	pcp delete $SAMPLES 50000 >/dev/null
	rec rss_kb "$s" "$(rss_kb "$DPID")"
	rec uss_kb "$s" "$(uss_kb "$DPID")"
	rec pss_kb "$s" "$(pss_kb "$DPID")"
	[ "$s" = 0 ] && { echo "# $D at 0 mappings: RSS PSS private kB per mapped file"; libs "$DPID"; } \
	    > "$RES/$D.libs"
	case " $FLOW_SIZES " in *" $s "*) dataplane "$s" ;; esac
	echo "  $D: $s mappings measured ($(elapsed) s)" >&2
}

# restart: RESTART_N mappings, stop, clear the kernel's rules as a reboot would, start,
# time until the firewall holds them all again
restart_pg() {
	pgctl flush >/dev/null
	HAVE=0; fill $RESTART_N restart_fill
	stop_pg
	local t0 n=0 c
	t0=$(now_ms)
	ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/pg.conf" 2>>"$LAB_DIR/daemon.log" &
	PG_PID=$!; DPID=$PG_PID
	while [ $n -lt 3000 ]; do
		c=$(pgctl status 2>/dev/null | awk '$1 == "mappings" { print $2 }')
		[ "${c:-0}" -ge $RESTART_N ] && break
		sleep 0.01; n=$((n + 1))
	done
	[ $n -lt 3000 ] && rec restart_ms $RESTART_N $(($(now_ms) - t0))
	rec restart_rules $RESTART_N "$(in_gw nft list table ip portgate 2>/dev/null | grep -c ' : ')"
}

mu_rules() { in_gw nft list chain inet filter prerouting_miniupnpd 2>/dev/null | grep -c dnat; }

restart_mu() {
	stop_mu
	in_gw sh "$CMP/nft_flush.sh" >/dev/null
	mu_conf "$LAB_DIR/mu-lease.conf" "lease_file=$LAB_DIR/mu.leases"
	launch_mu "$LAB_DIR/mu-lease.conf" || return 1
	HAVE=0; fill $RESTART_N restart_fill || return 1
	stop_mu
	in_gw sh "$CMP/nft_flush.sh" >/dev/null
	local t0 n=0
	t0=$(now_ms)
	launch_mu "$LAB_DIR/mu-lease.conf"
	while [ $n -lt 3000 ] && [ "$(mu_rules)" -lt $RESTART_N ]; do sleep 0.01; n=$((n + 1)); done
	[ $n -lt 3000 ] && rec restart_ms $RESTART_N $(($(now_ms) - t0))
	rec restart_rules $RESTART_N "$(mu_rules)"
}

phase() { # pg|mu OUTFILE
	D=$1 OUT=$2
	LAB=bc$$-$D
	. "$top_srcdir/tests/integ/lib.sh"
	. "$top_srcdir/tests/lab/lab.sh"
	trap 'exit 1' INT TERM
	: > "$OUT"
	lab_up	# its EXIT trap (lab_down) removes the namespaces, their processes and tables
	in_wan ip addr add 198.51.100.101/24 dev eth0	# the STUN server's second address
	in_wan sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	in_a ping -c1 -W1 -q $GW_LAN_IP >/dev/null 2>&1
	in_wan ping -c1 -W1 -q $GW_WAN_IP >/dev/null 2>&1
	start_$D || { echo "$D did not start" >&2; return 1; }
	SVC=$(in_a curl -s -m 2 "http://$GW_LAN_IP:5000/rootDesc.xml" |
	    grep -o 'WANIPConnection:[0-9]' | head -1 | cut -d: -f2)
	SVC=${SVC:-2}
	rec service_version 0 "$SVC"
	local url=http://$GW_LAN_IP:5000/rootDesc.xml
	in_a timeout 10 upnpc -u "$url" -a $A_IP 30000 30000 TCP 86400 >/dev/null 2>&1
	in_a timeout 10 upnpc -u "$url" -a $A_IP 30001 30001 UDP 86400 >/dev/null 2>&1
	# warm-up, not recorded: the first requests after a start pay for cold caches
	soap -t 30 $GW_LAN_IP 5000 $A_IP add $SAMPLES 45000 >/dev/null
	soap -t 30 $GW_LAN_IP 5000 $A_IP del $SAMPLES 45000 >/dev/null
	pcp latency $SAMPLES 55000 >/dev/null
	pcp delete $SAMPLES 55000 >/dev/null
	HAVE=0
	local s stopped=
	for s in $SIZES; do
		if [ $(elapsed) -gt $((BUDGET - 120)) ]; then stopped="$HAVE (time budget)"; break; fi
		if ! fill $s; then stopped="$HAVE (the step to $s took over ${STEP_SECONDS} s)"; break; fi
		measure $s
	done
	rec rss_kb_max "$HAVE" "$(rss_kb "$DPID")"
	rec uss_kb_max "$HAVE" "$(uss_kb "$DPID")"
	if [ -n "$stopped" ]; then
		rec stopped 0 "$stopped"
		# the data plane with as many mappings as this daemon reached
		[ $(elapsed) -lt $((BUDGET - 90)) ] && dataplane "$HAVE"
	fi
	rec largest 0 "$HAVE"
	if [ $(elapsed) -lt $((BUDGET - 90)) ]; then restart_$D; fi
	return 0
}

# ---- the table, the CSV, the plot ----

# val FILE METRIC SIZE
val() { awk -v m="$2" -v s="$3" '$1 == m && $2 == s { $1 = $2 = ""; sub(/^ +/, ""); v = $0 }
    END { print v }' "$1"; }

report() {
	local pg=$RES/portgate.dat mu=$RES/miniupnpd.dat csv=$RES/results.csv
	local row name metric size unit a b r
	echo "metric,size,unit,portgate,miniupnpd,ratio_miniupnpd_over_portgate" > "$csv"
	{
	printf "%-56s %10s %10s %8s\n" "figure (size = mappings in the table)" portgate miniupnpd "mu/pg"
	while IFS='|' read -r name metric unit sizes; do
		for size in $sizes; do
			a=$(val "$pg" "$metric" "$size"); b=$(val "$mu" "$metric" "$size")
			[ -z "$a$b" ] && continue
			r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b != "") printf "%.2f", b / a; else print "-" }')
			printf "%-56s %10s %10s %8s\n" "$name @$size ($unit)" "${a:--}" "${b:--}" "$r"
			echo "$metric,$size,$unit,$a,$b,$r" >> "$csv"
		done
	done <<-'ROWS'
	AddPortMapping mean|add_mean|ms|0 1000 2000 5000 10000
	AddPortMapping p99|add_p99|ms|0 1000 2000 5000 10000
	AddPortMapping mean while filling|fill_mean|ms|1000 2000 5000 10000
	DeletePortMapping mean|del_mean|ms|0 1000 2000 5000 10000
	DeletePortMapping p99|del_p99|ms|0 1000 2000 5000 10000
	GetGeneric walk, whole table|walk_ms|ms|1000 2000 5000 10000
	PCP MAP create mean|pcp_create_mean|ms|0 1000 2000 5000 10000
	PCP MAP create p99|pcp_create_p99|ms|0 1000 2000 5000 10000
	PCP MAP refresh mean|pcp_refresh_mean|ms|0 1000 2000 5000 10000
	PCP MAP refresh p99|pcp_refresh_p99|ms|0 1000 2000 5000 10000
	new TCP connections through one mapping|conn_rate|1/s|0 1000 10000
	64-octet UDP forwarded through one mapping|udp_fwd|pkt/s|0 1000 10000
	daemon RSS|rss_kb|kB|0 1000 2000 5000 10000
	daemon USS (its own: private pages)|uss_kb|kB|0 1000 2000 5000 10000
	daemon PSS|pss_kb|kB|0 1000 2000 5000 10000
	restart until all rules are back|restart_ms|ms|1000
	ROWS
	local pa pb na nb m
	pa=$(val "$pg" rss_kb 0); na=$(val "$pg" largest 0)
	pb=$(val "$mu" rss_kb 0); nb=$(val "$mu" largest 0)
	for m in "conn_rate|new TCP connections/s, largest tables" \
	    "udp_fwd|64-octet UDP pkt/s forwarded, largest tables"; do
		a=$(val "$pg" "${m%%|*}" "$na"); b=$(val "$mu" "${m%%|*}" "$nb")
		[ -n "$b" ] && [ "$na" != "$nb" ] || continue
		r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b != "") printf "%.2f", b / a; else print "-" }')
		printf "%-56s %10s %10s %8s\n" "${m#*|} @$na/@$nb" "${a:--}" "${b:--}" "$r"
		echo "${m%%|*},$na/$nb,1/s,$a,$b,$r" >> "$csv"
	done
	a=$(awk -v x="$(val "$pg" rss_kb_max "$na")" -v y="$pa" -v n="$na" \
	    'BEGIN { if (n > 0) printf "%.0f", (x - y) * 1024 / n }')
	b=$(awk -v x="$(val "$mu" rss_kb_max "$nb")" -v y="$pb" -v n="$nb" \
	    'BEGIN { if (n > 0) printf "%.0f", (x - y) * 1024 / n }')
	r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b != "") printf "%.2f", b / a; else print "-" }')
	printf "%-56s %10s %10s %8s\n" "RSS per mapping @$na / @$nb (bytes)" "${a:--}" "${b:--}" "$r"
	echo "rss_per_mapping,$na/$nb,bytes,$a,$b,$r" >> "$csv"
	a=$(awk -v x="$(val "$pg" uss_kb_max "$na")" -v y="$(val "$pg" uss_kb 0)" -v n="$na" \
	    'BEGIN { if (n > 0) printf "%.0f", (x - y) * 1024 / n }')
	b=$(awk -v x="$(val "$mu" uss_kb_max "$nb")" -v y="$(val "$mu" uss_kb 0)" -v n="$nb" \
	    'BEGIN { if (n > 0) printf "%.0f", (x - y) * 1024 / n }')
	r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b != "") printf "%.2f", b / a; else print "-" }')
	printf "%-56s %10s %10s %8s\n" "USS per mapping @$na / @$nb (bytes)" "${a:--}" "${b:--}" "$r"
	echo "uss_per_mapping,$na/$nb,bytes,$a,$b,$r" >> "$csv"
	echo
	echo "largest table: portgate $na, miniupnpd $nb mappings"
	[ -n "$(val "$mu" stopped 0)" ] && echo "miniupnpd stopped at $(val "$mu" stopped 0)"
	[ -n "$(val "$pg" stopped 0)" ] && echo "portgate stopped at $(val "$pg" stopped 0)"
	echo "UPnP service: portgate WANIPConnection:$(val "$pg" service_version 0)," \
	    "miniupnpd WANIPConnection:$(val "$mu" service_version 0)"
	echo
	echo "where the resident memory is, at 0 mappings (shared libraries count in RSS, not in USS):"
	cat "$RES/pg.libs" "$RES/mu.libs" 2>/dev/null
	awk -v x="$(val "$pg" uss_kb 0)" -v y="$(val "$mu" uss_kb 0)" 'BEGIN { if (x != "" && y != "")
	    printf "  USS at 0 mappings, portgate %s kB, miniupnpd %s kB (target: portgate <= miniupnpd)\n", x, y }'
	echo
	echo "targets (reported, not asserted):"
	awk -v x="$(val "$pg" add_mean 10000)" -v y="$(val "$pg" add_mean 0)" 'BEGIN { if (y > 0 && x != "")
	    printf "  portgate AddPortMapping 10k/0: %.2fx (target <= 1.3x)\n", x / y }'
	awk -v x="$(val "$pg" pcp_create_mean 10000)" -v y="$(val "$pg" pcp_create_mean 0)" 'BEGIN { if (y > 0 && x != "")
	    printf "  portgate PCP MAP create 10k/0: %.2fx (target <= 1.3x)\n", x / y }'
	awk -v x="$(val "$mu" add_mean 2000)" -v y="$(val "$pg" add_mean 2000)" 'BEGIN { if (y > 0 && x != "")
	    printf "  AddPortMapping at 2k, miniupnpd/portgate: %.1fx (target >= 50x)\n", x / y }'
	awk -v x="$(val "$pg" conn_rate 10000)" -v y="$(val "$pg" conn_rate 0)" 'BEGIN { if (y > 0 && x != "")
	    printf "  portgate new connections/s 10k vs 0: %+.1f%% (target within 10%%)\n", (x / y - 1) * 100 }'
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, kernel $(uname -r);" \
	    "$(/usr/sbin/miniupnpd --version 2>&1 | head -1); run time $(elapsed) s"
	} | tee "$RES/table.txt"
}

plot() {
	local f
	for f in portgate miniupnpd; do
		awk '$1 == "add_mean" || $1 == "fill_mean" || $1 == "pcp_create_mean" { print }' \
		    "$RES/$f.dat" > "$RES/$f.plot"
		for m in add_mean pcp_create_mean; do
			awk -v m=$m '$1 == m && $3 != "" { print $2, $3 }' "$RES/$f.dat" > "$RES/$f.$m"
		done
	done
	timeout 60 gnuplot <<-EOF || echo "bench-compare: gnuplot failed" >&2
	set terminal png size 900,560
	set output "$RES/latency.png"
	set title "Per-request latency against table size ($(nproc) cores, kernel $(uname -r))"
	set xlabel "mappings in the table"
	set ylabel "mean ms per request"
	set logscale y
	set key center right
	set grid
	plot "$RES/portgate.add_mean" using 1:2 with linespoints title "portgate AddPortMapping", \
	     "$RES/miniupnpd.add_mean" using 1:2 with linespoints title "miniupnpd AddPortMapping", \
	     "$RES/portgate.pcp_create_mean" using 1:2 with linespoints title "portgate PCP MAP", \
	     "$RES/miniupnpd.pcp_create_mean" using 1:2 with linespoints title "miniupnpd PCP MAP"
	EOF
	rm -f "$RES"/*.plot "$RES"/*.add_mean "$RES"/*.pcp_create_mean
}

main() {
	trap 'exit 130' INT TERM
	[ -z "$BENCH_NO_INSTALL" ] && install_missing
	[ -z "$BENCH_NO_BUILD" ] && build
	RES=$top_srcdir/results/bench-compare-$(date -u +%Y%m%d-%H%M%S)
	mkdir -p "$RES"
	echo "bench-compare: results in $RES"
	echo "portgate lab ($(elapsed) s)"
	( phase pg "$RES/portgate.dat" ) || echo "bench-compare: the portgate run failed" >&2
	echo "miniupnpd lab ($(elapsed) s)"
	( phase mu "$RES/miniupnpd.dat" ) || echo "bench-compare: the miniupnpd run failed" >&2
	report
	plot
	echo "bench-compare: $RES/{table.txt,results.csv,latency.png}"
}

if [ "$1" = --phase ]; then	# --phase pg|mu FILE: one lab (for debugging)
	SVC=2; phase "$2" "$3"
else
	main
fi
