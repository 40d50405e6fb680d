#!/bin/bash
# up.sh [SECONDS] [CONFIG-LINES...] - bring the namespace lab up as $LAB, start portgated
# ($BUILD, default build/; BUILD=build-asan for the sanitizer build) with -d -v, and keep
# it all up for SECONDS (default 1800) or until $LAB_DIR/stop exists; lab_down on exit.
# The daemon's log is $LAB_DIR/daemon.log, its pid $LAB_DIR/pid.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
. "$top_srcdir/tests/lab/lab.sh"
secs=${1:-1800}; [ $# -gt 0 ] && shift
lab_up
echo "$LAB_DIR" > /tmp/portgate-attack-$LAB.dir
trap 'lab_stop_daemon; lab_down; rm -f /tmp/portgate-attack-$LAB.dir' EXIT
# extra hosts on the LAN for many-address attacks: 192.0.2.20-.29 on host A's eth0
for i in $(seq 20 29); do in_a ip addr add 192.0.2.$i/24 dev eth0; done
in_wan ip addr add 198.51.100.101/24 dev eth0
lab_conf "$LAB_DIR/pg.conf" "max_lease = 3600" "$@"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
lab_start_daemon "$LAB_DIR/pg.conf" || exit 1
echo "$PG_PID" > "$LAB_DIR/pid"
echo "lab $LAB up, dir $LAB_DIR, daemon $PG_PID"
n=0
while [ $n -lt "$secs" ] && [ ! -e "$LAB_DIR/stop" ]; do sleep 1; n=$((n + 1)); done
