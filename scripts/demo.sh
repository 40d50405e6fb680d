#!/bin/bash
# demo.sh - build portgated and show it working: a forward added with
# portgatectl, listed, and its lease expiring (firewall = none: no root needed).
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
dir=$(mktemp -d /tmp/portgate-demo.XXXXXX)
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
printf 'firewall = none\nstate_file = %s/state\ncontrol_socket = %s/sock\n' "$dir" "$dir" > "$dir/pg.conf"
src/portgated -d -f "$dir/pg.conf" & pid=$!
for i in $(seq 50); do [ -S "$dir/sock" ] && break; sleep 0.1; done
ctl() { echo "\$ portgatectl $*"; src/portgatectl -s "$dir/sock" "$@"; }
ctl forward add tcp 8080 192.0.2.10:80 --desc "web server"
ctl forward add udp 27000-27030 192.0.2.11 --lease 3 --desc game
ctl list
ctl status
echo "(waiting 4 s for the game lease to end)"; sleep 4
ctl list
