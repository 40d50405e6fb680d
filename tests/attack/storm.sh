#!/bin/bash
# storm.sh - 88 GENA subscriptions (8 from each of host A's 11 addresses) to a callback that
# accepts and never answers, then from host B 150 AddPortMapping/DeletePortMapping calls while
# PCP MAP refreshes run from A, with a SIGHUP every 2 s; prints the daemon's RSS, CPU and fds.
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
in_a timeout 70 python3 "$here/silent_listener.py" 8600 60 & SL=$!
sleep 0.5
srcs="192.0.2.10 $(seq -f '192.0.2.%g' 20 29 | tr '\n' ' ')"
in_a timeout 60 python3 "$here/gena_attack.py" $GW_LAN_IP many $srcs | awk '{print $1, $NF, $(NF-1)}' | head -3
echo "subscriptions: $(pgctl status | awk '/upnp_subscriptions/{print $2}')  $(rss_cpu) fds=$(ls /proc/$(pg_pid)/fd | wc -l)"
( for i in $(seq 1 150); do soap $HB AddPortMapping "$(add_args $((9700 + i % 20)) TCP 8700 $B_IP 600)" >/dev/null
	soap $HB DeletePortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>$((9700 + (i + 7) % 20))</NewExternalPort><NewProtocol>TCP</NewProtocol>" >/dev/null; done ) & S1=$!
( for i in $(seq 1 150); do pcp $HA map --int-port $((8800 + i % 10)) --lifetime 600 --nonce d1d2d3d4d5d6d7d8d9dadbdc >/dev/null; done ) & S2=$!
for i in $(seq 1 10); do sleep 2; kill -HUP $(pg_pid); echo "t=$((i*2))s $(rss_cpu) fds=$(ls /proc/$(pg_pid)/fd | wc -l) subs=$(pgctl status | awk '/upnp_subscriptions/{print $2}')"; done
wait $S1 $S2
echo "after: $(rss_cpu) fds=$(ls /proc/$(pg_pid)/fd | wc -l) $(pgctl status | grep -E 'upnp_sub|events_sent|soap_err' | tr '\n' ' ')"
kill $SL 2>/dev/null; wait $SL 2>/dev/null
