#!/bin/bash
# peer_attack.sh - PCP PEER pins and remote filters against the running lab (up.sh, ideally with
# "pcp_rate_limit = 0" "pcp_allow_third_party = yes"). Each case prints what the client was told
# and what the kernel / the WAN peer shows. Bounded: every client call has a timeout.
#  1. two LAN hosts pin the same remote endpoint from the same internal port: both told SUCCESS
#     with the same external port; the second host's flow is then dropped (conntrack clash).
#  2. external_ip set to an address the WAN interface does not have (double NAT): pins SNAT to
#     it and the pinned flow never gets an answer; an unpinned flow works.
#  3. external_ip changes with a pin in place: the pin's kernel element follows (fixed in 01180d4).
#  4. FILTERs that overlap (a /32 inside a /24, a duplicate): SUCCESS (NETWORK_FAILURE and the
#     mapping lost before 01180d4).
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
in_gw nft list table ip lab >/dev/null 2>&1 || { in_gw nft add table ip lab;
	in_gw nft add chain ip lab post '{ type nat hook postrouting priority srcnat; }';
	in_gw nft add rule ip lab post oifname wan0 masquerade; }
pgctl flush >/dev/null
in_wan timeout 60 socat -T 5 TCP-LISTEN:7000,reuseaddr,fork SYSTEM:'read -r _; echo port=$SOCAT_PEERPORT' 2>/dev/null &
sleep 1
sp=$((30000 + RANDOM % 20000))	# fresh ports: a conntrack entry of an earlier run would decide
try() { (echo hi; sleep ${3:-0}) | timeout 5 ip netns exec $1 socat -T 2 - TCP:$WAN_IP:7000,sourceport=$2,connect-timeout=2 2>/dev/null || echo "no answer"; }
echo "1. A and B pin :$sp -> $WAN_IP:7000"
echo "   A told: $(pcp $HA peer --int-port $sp --peer $WAN_IP:7000 --nonce 0101010101010101010101ff | grep -o 'result=[A-Z_]*\|ext=[0-9.:]*' | tr '\n' ' ')"
echo "   B told: $(pcp $HB peer --int-port $sp --peer $WAN_IP:7000 --nonce 0202020202020202020202ff | grep -o 'result=[A-Z_]*\|ext=[0-9.:]*' | tr '\n' ' ')"
try $HA $sp 3 | sed 's/^/   A flow: /' & sleep 0.5
echo "   B flow: $(try $HB $sp)"; wait %2 2>/dev/null
echo "2. external_ip = 198.51.100.7 (not on wan0)"
sed -i '/^external_ip/d' "$LAB_DIR/pg.conf"; echo "external_ip = 198.51.100.7" >> "$LAB_DIR/pg.conf"
kill -HUP "$(pg_pid)"; sleep 1.5
echo "   pin told: $(pcp $HA peer --int-port $((sp + 1)) --peer $WAN_IP:7000 | grep -o 'result=[A-Z_]*\|ext=[0-9.:]*' | tr '\n' ' ')"
echo "   pinned flow: $(try $HA $((sp + 1)))   unpinned flow: $(try $HA $((sp + 2)))"
echo "3. the pin of case 1 after the move: $(in_gw nft list map ip portgate peer_snat | grep -o "192.0.2.10 . tcp . $sp . [0-9.]* . 7000 [^:]*: [0-9.]*" | sed 's/timeout.*:/->/')"
sed -i '/^external_ip/d' "$LAB_DIR/pg.conf"; kill -HUP "$(pg_pid)"; sleep 1.5
echo "   and back: $(in_gw nft list map ip portgate peer_snat | grep -o "192.0.2.10 . tcp . $sp . [0-9.]* . 7000 [^:]*: [0-9.]*" | sed 's/timeout.*:/->/')"
N=0a0a0a0a0a0a0a0a0a0a0a0a
echo "4. FILTER 198.51.100.0/24 + 198.51.100.100/32: $(pcp $HA map --int-port 8100 --ext-port 9400 --nonce $N --filter 198.51.100.0/24 --filter 198.51.100.100/32 --lifetime 300 | grep -o 'result=[A-Z_]*')"
echo "   the same FILTER twice:  $(pcp $HA map --int-port 8100 --ext-port 9400 --nonce $N --filter 198.51.100.100 --filter 198.51.100.100 --lifetime 300 | grep -o 'result=[A-Z_]*')"
echo "   list: $(pgctl list | grep 9400 || echo 'mapping gone')"
echo "   filt_allow: $(in_gw nft list set ip portgate filt_allow | grep -o 'tcp . 9400 . [0-9./]* . [0-9-]*' | tr '\n' ' ')"
kill %1 2>/dev/null; wait 2>/dev/null
alive && echo "daemon alive" || echo "DAEMON DEAD"
