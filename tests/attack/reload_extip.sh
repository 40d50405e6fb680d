#!/bin/bash
# reload_extip.sh - the admin changes external_ip in the config and sends SIGHUP: does the PCP
# epoch restart (RFC 6887 §8.5: clients must learn that their mappings' address changed), do
# PCP/NAT-PMP clients get an announcement, does a UPnP subscriber get ExternalIPAddress?
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
NEW=${1:-198.51.100.7}
in_a timeout 8 python3 "$PCPC" listen 6 > /tmp/reload_extip.ann &
L=$!; sleep 0.5
echo "before: $(pgctl status | grep -E 'external_ip|pcp_epoch' | tr '\n' ' ')"
sed -i '/^external_ip/d' "$LAB_DIR/pg.conf"; echo "external_ip = $NEW" >> "$LAB_DIR/pg.conf"
kill -HUP "$(pg_pid)"; sleep 1
echo "after:  $(pgctl status | grep -E 'external_ip|pcp_epoch' | tr '\n' ' ')"
echo "a PCP refresh now says: $(pcp $HA announce | cut -c1-40)"
echo "NAT-PMP public address: $(in_a timeout 5 natpmpc -g $GW_LAN_IP | grep 'Public IP')"
wait $L; echo "announcements heard on the LAN after the reload: $(grep -c . /tmp/reload_extip.ann)"
grep -E "epoch|wan:|external" "$LAB_DIR/daemon.log" | tail -3
