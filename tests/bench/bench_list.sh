#!/bin/bash
# bench_list.sh - what `portgatectl list --json` costs at 20,000, 32,768 and 100,000
# mappings in the namespace lab (real nftables): the median and max of 5 runs, the text
# `list` beside it, and the daemon's peak memory (VmHWM) after them. list --json reads
# every mapping's counters from the kernel (fw_elem_dump, some 10 us a mapping) up to
# 32,768 entries, so this is the figure to watch.
# A benchmark prints figures; it asserts nothing. Without root or network namespaces it
# says why and exits 0. Only documentation addresses and the control socket are used.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
export top_builddir top_srcdir
. "$top_srcdir/tests/integ/lib.sh"
LAB=${LAB:-pgl$$}
. "$top_srcdir/tests/lab/lab.sh"
RUNS=5

echo "== portgate list benchmark =="
if ! lab_can_run; then
	echo "lab figures skipped: needs root, nft, socat and network namespaces"
	exit 0
fi
lab_up
conf=$LAB_DIR/pg.conf
lab_conf "$conf"
lab_start_daemon "$conf" || exit 1

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
# load PROTO LO HI: static forwards PROTO LO..HI -> host A, through one pipe
load() {
	seq "$2" "$3" | sed "s/.*/forward add $1 & $A_IP/" |
		timeout 300 "$PORTGATECTL" -s "$LAB_DIR/sock" - > "$LAB_DIR/load.out"
}
# figure N WHAT ARGS...: median and max ms of RUNS runs of portgatectl ARGS
figure() {
	local n=$1 what=$2 i t0 t1 ts=() lines; shift 2
	for i in $(seq $RUNS); do
		t0=$(now_ms)
		lines=$(pgctl "$@" | wc -l)
		t1=$(now_ms)
		ts+=($((t1 - t0)))
	done
	printf '  %-26s at %6d mappings: median %5d ms, max %5d ms (%d lines)\n' "$what" "$n" \
		"$(printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")" \
		"$(printf '%s\n' "${ts[@]}" | sort -n | tail -1)" "$lines"
}
hwm() { sed -n 's/^VmHWM:[[:space:]]*//p' /proc/$PG_PID/status; }

load udp 10000 29999
figure 20000 "list --json" list --json
figure 20000 "list" list
echo "  daemon peak memory: $(hwm)"
load udp 30000 42767
figure 32768 "list --json" list --json
figure 32768 "list" list
echo "  daemon peak memory: $(hwm)"
load udp 42768 59999
load tcp 10000 59999
n=$(pgctl status | sed -n 's/^mappings //p')
figure "$n" "list --json" list --json
figure "$n" "list" list
echo "  daemon peak memory: $(hwm)"
lab_stop_daemon
