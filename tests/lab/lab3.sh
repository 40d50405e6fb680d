# lab3.sh - a three-tier lab for the carrier NAT tests (issue 19), sourced after lab.sh.
#
#   host A 192.0.2.10 --+
#                       +-- br-lan 192.0.2.1 [home gateway] wan0 198.51.100.1 --+
#   host B 192.0.2.11 --+                                                       |
#                                           carrier network 198.51.100.0/24     |
#        +----------------------------------------------------------------------+
#        +-- br-cnet 198.51.100.254 [carrier NAT] wan0 203.0.113.1 --- 203.0.113.100 internet peer
#                                                                      (and .101, STUN's second)
#
# The home gateway is lab.sh's gateway ($GW, in_gw, lab_conf, lab_start_daemon, pgctl): its
# WAN is on the carrier network, its default route the carrier NAT. The carrier NAT ($CGN,
# in_cgn) masquerades the carrier network out of its wan0; its LAN side is a bridge, br-cnet,
# so a second home gateway could plug in. It runs one of:
#   - a second portgated: lab3_cgn_conf, lab3_start_cgn, lab3_stop_cgn, cgnctl (its own
#     config, state file, control socket and nft table "carrier", in its own namespace);
#   - Debian's miniupnpd (miniupnpd-nftables) with PCP: lab3_start_mu, lab3_stop_mu (it
#     needs ext_perform_stun and a STUN server on its WAN side, the internet peer, to accept
#     a documentation-range external address, as scripts/bench-compare.sh runs it).
# lab3_carrier_maps prints the carrier's mappings whichever runs, "PROTO EXT -> ADDR:PORT" a
# line; lab3_pcp sends a PCP request from the home gateway's WAN address to the carrier
# (tests/integ/pcp_client.py); lab3_who starts a "who are you" server (tests/lab/udpwho.py).
#
# IPv6, routed, no NAT (no firewall either, unless a test adds one): LAN 2001:db8:1::/64 (as
# lab.sh), carrier network 2001:db8:2::/64 (home ::1, carrier ::fe), internet 2001:db8:3::/64
# (carrier ::1, peer ::100).
#
# The internet peer has no route to the carrier network or the LAN: only what the carrier
# NAT forwards (DNAT) reaches them, and answers to the flows they started. Only documentation
# addresses carry traffic; lab_down (lab3_up's EXIT trap) kills every process of the lab's
# five namespaces (miniupnpd, which forks, included) and deletes them, tables and all.

CGN=$LAB-cgn
INET=$LAB-inet
CGN_LAN_IP=198.51.100.254
CGN_WAN_IP=203.0.113.1
INET_IP=203.0.113.100
INET_IP2=203.0.113.101
CGN_LAN_IP6=2001:db8:2::fe
CGN_WAN_IP6=2001:db8:3::1
INET_IP6=2001:db8:3::100
LAB3_CGN_TABLE=carrier

in_cgn() { ip netns exec "$CGN" "$@"; }
in_inet() { ip netns exec "$INET" "$@"; }
cgnctl() { "$PORTGATECTL" -s "$LAB_DIR/cgn.sock" "$@"; }

lab3_up() {
	trap lab_down EXIT
	LAB_NS_MORE="$CGN $INET"
	LAB_DIR=$(mktemp -d "/tmp/portgate-$LAB.XXXXXX")
	[ -n "$LAB_USER" ] && chown "$LAB_USER:" "$LAB_DIR"	# the home daemon's state directory
	local ns
	for ns in "$GW" "$CGN" "$INET"; do
		ip netns add "$ns"
		ip netns exec "$ns" ip link set lo up
	done
	# the home LAN
	in_gw ip link add br-lan type bridge
	in_gw ip addr add $GW_LAN_IP/24 dev br-lan
	in_gw ip -6 addr add $GW_LAN_IP6/64 dev br-lan nodad
	in_gw ip link set br-lan up
	_lan_host "$HA" veth-a $A_IP $A_IP6
	_lan_host "$HB" veth-b $B_IP $B_IP6
	# the carrier network: the home gateway's wan0 on the carrier's bridge
	in_cgn ip link add br-cnet type bridge
	in_cgn ip addr add $CGN_LAN_IP/24 dev br-cnet
	in_cgn ip -6 addr add $CGN_LAN_IP6/64 dev br-cnet nodad
	in_cgn ip link set br-cnet up
	ip link add wan0 netns "$GW" type veth peer name cn-home netns "$CGN"
	in_cgn ip link set cn-home master br-cnet up
	in_gw ip addr add $GW_WAN_IP/24 dev wan0
	in_gw ip -6 addr add $GW_WAN_IP6/64 dev wan0 nodad
	in_gw ip link set wan0 up
	in_gw ip route add default via $CGN_LAN_IP
	in_gw ip -6 route add default via $CGN_LAN_IP6
	# the internet: the carrier's wan0 and the peer
	ip link add wan0 netns "$CGN" type veth peer name eth0 netns "$INET"
	in_cgn ip addr add $CGN_WAN_IP/24 dev wan0
	in_cgn ip -6 addr add $CGN_WAN_IP6/64 dev wan0 nodad
	in_cgn ip link set wan0 up
	in_cgn ip -6 route add 2001:db8:1::/64 via $GW_WAN_IP6
	in_inet ip addr add $INET_IP/24 dev eth0
	in_inet ip addr add $INET_IP2/24 dev eth0
	in_inet ip -6 addr add $INET_IP6/64 dev eth0 nodad
	in_inet ip link set eth0 up
	in_inet ip -6 route add 2001:db8:1::/64 via $CGN_WAN_IP6
	in_inet ip -6 route add 2001:db8:2::/64 via $CGN_WAN_IP6
	for ns in "$GW" "$CGN"; do
		# see lab_up: routers' bridges do not pass frames through IP netfilter
		ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
		ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
		# outbound masquerade: the lab's own table, not portgate's (nor miniupnpd's)
		ip netns exec "$ns" nft add table ip lab
		ip netns exec "$ns" nft add chain ip lab post '{ type nat hook postrouting priority srcnat; }'
		ip netns exec "$ns" nft add rule ip lab post oifname wan0 masquerade
	done
	# neighbours before the tests, as on links that have carried traffic: each gateway
	# knows its LAN hosts' (address, MAC) pairs, as PCP servers want
	in_a ping -c1 -W1 -q $GW_LAN_IP >/dev/null 2>&1
	in_b ping -c1 -W1 -q $GW_LAN_IP >/dev/null 2>&1
	in_gw ping -c1 -W1 -q $CGN_LAN_IP >/dev/null 2>&1
	in_cgn ping -c1 -W1 -q $INET_IP >/dev/null 2>&1
	in_a ping -6 -c1 -W1 -q $GW_LAN_IP6 >/dev/null 2>&1
	in_b ping -6 -c1 -W1 -q $GW_LAN_IP6 >/dev/null 2>&1
	in_gw ping -6 -c1 -W1 -q $CGN_LAN_IP6 >/dev/null 2>&1
	in_cgn ping -6 -c1 -W1 -q $INET_IP6 >/dev/null 2>&1
	return 0
}

# lab3_cgn_conf FILE [extra lines...]: the carrier portgated's config (PCP on, UPnP off)
lab3_cgn_conf() {
	local f=$1; shift
	{
		echo "wan_interface = wan0"
		echo "lan_interface = br-cnet"
		echo "firewall = nftables"
		echo "state_file = $LAB_DIR/cgn.state"
		echo "control_socket = $LAB_DIR/cgn.sock"
		echo "nft_table = $LAB3_CGN_TABLE"
		echo "upnp = no"
		echo "pcp = yes"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}

# lab3_start_cgn CONF: start the carrier portgated; sets CGN_PID
lab3_start_cgn() {
	# not in_cgn: a function in the background is a subshell, and $! would be its pid
	ip netns exec "$CGN" "$PORTGATED" -d -v -f "$1" 2>>"$LAB_DIR/cgn.log" &
	CGN_PID=$!
	local n=50
	while [ $n -gt 0 ]; do
		cgnctl status >/dev/null 2>&1 && return 0
		kill -0 $CGN_PID 2>/dev/null || break
		sleep 0.1; n=$((n - 1))
	done
	echo "the carrier portgated did not start:"; tail -20 "$LAB_DIR/cgn.log"
	return 1
}

lab3_stop_cgn() {
	[ -n "$CGN_PID" ] || return 0
	kill -TERM "$CGN_PID" 2>/dev/null
	wait "$CGN_PID" 2>/dev/null
	CGN_PID=
}

# lab3_mu_conf FILE [extra lines...]: miniupnpd as a carrier NAT: PCP and NAT-PMP on the
# carrier network (Debian's 2.3.1 calls the switch enable_natpmp; later releases
# enable_pcp_pmp), no UPnP, its external address checked by STUN against the internet peer
lab3_mu_conf() {
	local f=$1; shift
	cat > "$f" <<-EOF
	ext_ifname=wan0
	listening_ip=br-cnet
	enable_upnp=no
	enable_natpmp=yes
	secure_mode=yes
	system_uptime=no
	uuid=3b9d6a4e-1c2f-4e0a-9d53-2f6b1c0a7e02
	clean_ruleset_interval=0
	allow 1024-65535 198.51.100.0/24 1024-65535
	deny 0-65535 0.0.0.0/0 0-65535
	ext_perform_stun=yes
	ext_stun_host=$INET_IP
	ext_stun_port=3478
	EOF
	for l in "$@"; do echo "$l" >> "$f"; done
}

# lab3_start_mu [extra conf lines...]: the STUN server on the internet peer, miniupnpd's
# nftables chains (its scripts, tests/bench/compare/), then miniupnpd, until its PCP
# socket is bound; sets MU_PID. 1 if it does not come up.
lab3_start_mu() {
	local cmp=$top_srcdir/tests/bench/compare n
	[ -x /usr/sbin/miniupnpd ] || { echo "no /usr/sbin/miniupnpd (miniupnpd-nftables)"; return 1; }
	in_cgn sh "$cmp/nft_init.sh" >/dev/null || return 1
	# its forward chain drops by default: let the carrier network out, and the answers in
	in_cgn nft insert rule inet filter forward iifname br-cnet accept
	in_cgn nft insert rule inet filter forward ct state established,related accept
	in_inet timeout 120 python3 "$cmp/stun_server.py" --a $INET_IP --b $INET_IP2 \
	    --max-seconds 110 --max-requests 200 >>"$LAB_DIR/stun.log" 2>&1 &
	n=30
	while [ $n -gt 0 ] && [ "$(in_inet ss -Hlun 'sport >= :3478 and sport <= :3479' | wc -l)" -lt 4 ]; do
		sleep 0.1; n=$((n - 1))
	done
	lab3_mu_conf "$LAB_DIR/mu.conf" "$@"
	rm -f "$LAB_DIR/mu.pid"
	# without /dev/log miniupnpd writes each log line to /dev/console: /dev/null instead,
	# in its own mount namespace (bench-compare.sh does the same)
	in_cgn unshare -m --propagation private sh -c "mount --bind /dev/null /dev/console &&
	    exec /usr/sbin/miniupnpd -f $LAB_DIR/mu.conf -P $LAB_DIR/mu.pid" >>"$LAB_DIR/mu.log" 2>&1
	n=50
	while [ $n -gt 0 ]; do
		[ -s "$LAB_DIR/mu.pid" ] && in_cgn ss -Hlun 'sport = :5351' | grep -q . && break
		sleep 0.1; n=$((n - 1))
	done
	[ $n -gt 0 ] || { echo "miniupnpd did not start:"; tail -20 "$LAB_DIR/mu.log"; return 1; }
	MU_PID=$(cat "$LAB_DIR/mu.pid")
}

# lab3_stop_mu: miniupnpd ends (it removes its rules), then its chains go too
lab3_stop_mu() {
	[ -n "$MU_PID" ] || return 0
	kill -TERM "$MU_PID" 2>/dev/null
	local n=50
	while [ $n -gt 0 ] && kill -0 "$MU_PID" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
	kill -9 "$MU_PID" 2>/dev/null
	MU_PID=
	in_cgn nft delete table inet filter 2>/dev/null
	return 0
}

# lab3_carrier_maps: the carrier's inbound mappings, "PROTO EXTPORT[-END] -> ADDR:PORT" a line,
# from the carrier portgated's list or miniupnpd's DNAT rules, whichever runs
lab3_carrier_maps() {
	if [ -n "$CGN_PID" ]; then
		cgnctl list --json 2>/dev/null | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    e, f = m["external_port"], m["external_port_end"]
    print("%s %s -> %s:%s" % (m["proto"], e if e == f else "%d-%d" % (e, f), m["internal_ip"],
                              m["internal_port"]))'
	elif [ -n "$MU_PID" ]; then
		# iif "wan0" @nh,72,8 0x6 th dport 9080 dnat ip to 198.51.100.1:8080
		in_cgn nft list chain inet filter prerouting_miniupnpd 2>/dev/null | awk '
		    /dnat ip to/ { p = ""; e = ""; t = ""
			for (i = 1; i < NF; i++) {
				if ($i == "@nh,72,8") p = $(i + 1) == "0x6" ? "tcp" : $(i + 1) == "0x11" ? "udp" : $(i + 1)
				if ($i == "dport") e = $(i + 1)
				if ($i == "to") t = $(i + 1)
			}
			print p, e, "->", t }'
	fi
}

# lab3_pcp ARGS...: tests/integ/pcp_client.py from the home gateway's WAN address to the
# carrier's PCP server (pcp_client.py's own arguments: map --int-port P ...)
lab3_pcp() {
	timeout 8 ip netns exec "$GW" python3 "$top_srcdir/tests/integ/pcp_client.py" $CGN_LAN_IP "$@"
}

# lab3_who NS PROTO PORT SECONDS: a server answering "seen IP:PORT" (its peer as it sees
# it) to every datagram or connection, for SECONDS, in the background, until it is bound
lab3_who() {
	local ns=$1 proto=$2 port=$3 secs=$4 n=30 flag=-Hltn
	ip netns exec "$ns" python3 "$top_srcdir/tests/lab/udpwho.py" serve "$proto" "$port" "$secs" &
	[ "$proto" = udp ] && flag=-Hlun
	while [ $n -gt 0 ] && ! ip netns exec "$ns" ss $flag "sport = :$port" | grep -q .; do
		sleep 0.1; n=$((n - 1))
	done
}
