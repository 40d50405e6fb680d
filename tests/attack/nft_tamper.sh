#!/bin/bash
# nft_tamper.sh - a PCP mapping with FILTER 198.51.100.100/32; then flush filt_allow, delete
# the filter_pre rule, flush the ruleset: after each, the table must be repaired (the
# listed peer reaches the mapping, 198.51.100.101 does not). Needs up.sh running.
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
N=b1b2b3b4b5b6b7b8b9babbbc
ip netns exec $HA socat -T 5 TCP-LISTEN:8310,reuseaddr,fork SYSTEM:"echo hello-filter" & L=$!
trap 'kill $L 2>/dev/null' EXIT
sleep 0.5
pcp $HA map --int-port 8310 --ext-port 9310 --nonce $N --filter 198.51.100.100/32
try() { # label
	local a b
	a=$(echo | timeout 3 ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9310,connect-timeout=1,bind=198.51.100.100 2>/dev/null)
	b=$(echo | timeout 3 ip netns exec $WAN socat -T 1 - TCP:$GW_WAN_IP:9310,connect-timeout=1,bind=198.51.100.101 2>/dev/null)
	echo "$1: .100 -> '${a}'  .101 -> '${b}'"
}
try "before"
in_gw nft flush set ip portgate filt_allow; sleep 0.5; try "after flush filt_allow + 0.5s"
h=$(in_gw nft -a list chain ip portgate filter_pre | awk '/drop/{print $NF}')
in_gw nft delete rule ip portgate filter_pre handle $h; sleep 0.5; try "after delete filter_pre rule + 0.5s"
in_gw nft flush set ip portgate filt_ports; sleep 0.5; try "after flush filt_ports + 0.5s"
in_gw nft flush ruleset; in_gw nft add table ip lab; in_gw nft add chain ip lab post '{ type nat hook postrouting priority srcnat; }'; in_gw nft add rule ip lab post oifname wan0 masquerade
sleep 0.5; try "after flush ruleset + 0.5s"
in_gw nft add element ip portgate filt_allow "{ tcp . 9310 . 198.51.100.101 . 0-65535 }"; sleep 0.5; try "after adding .101 to filt_allow + 0.5s"
grep -c "changed by someone else" $LAB_DIR/daemon.log
