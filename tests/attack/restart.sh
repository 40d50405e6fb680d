#!/bin/bash
# restart.sh [KILL-SIGNAL] - stop the lab's portgated (SIGTERM, or the given signal) and start
# it again with the same config ($BUILD's binary), updating $LAB_DIR/pid. Needs up.sh running.
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
sig=${1:-TERM}
p=$(pg_pid); kill -$sig $p; n=50; while kill -0 $p 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n-1)); done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ip netns exec $GW setsid "$PORTGATED" -d -v -f "$LAB_DIR/pg.conf" 2>>"$LAB_DIR/daemon.log" < /dev/null &
echo $! > "$LAB_DIR/pid"
n=50; while [ $n -gt 0 ] && ! pgctl status >/dev/null 2>&1; do sleep 0.1; n=$((n-1)); done
pgctl status >/dev/null && echo "restarted: $(pg_pid)" || { echo "did not start"; tail -5 "$LAB_DIR/daemon.log"; }
