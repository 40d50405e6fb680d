# lab.sh - a lab network in namespaces, for integration tests and the demo (sourced).
#
#   host A 192.0.2.10 --+
#                       +-- br-lan 192.0.2.1 [gateway] wan0 198.51.100.1 --- 198.51.100.100 WAN peer
#   host B 192.0.2.11 --+
#
# and IPv6 (no NAT: a pinhole is what lets inbound traffic through):
#   LAN 2001:db8:1::/64 (gateway ::1, A ::10, B ::11), WAN 2001:db8:2::/64 (gateway ::1,
#   peer ::100); lab_admin_fw6 adds the admin firewall README describes.
#
# Namespaces are named after $LAB (default pg<pid>) so runs never collide;
# lab_down removes them and is installed as an EXIT trap by lab_up.
# Only documentation addresses are used; nothing leaves the namespaces.
# lab3.sh builds a three-tier lab (a carrier NAT between the gateway and the internet) on
# these helpers.

LAB=${LAB:-pg$$}
# the account lab daemons run as (lab_conf): portgate where it exists; LAB_USER= runs them as root
if [ -z "${LAB_USER+set}" ]; then
	LAB_USER=
	id portgate >/dev/null 2>&1 && LAB_USER=portgate
fi
GW=$LAB-gw
WAN=$LAB-wan
HA=$LAB-a
HB=$LAB-b
GW_LAN_IP=192.0.2.1
GW_WAN_IP=198.51.100.1
WAN_IP=198.51.100.100
A_IP=192.0.2.10
B_IP=192.0.2.11
GW_LAN_IP6=2001:db8:1::1
GW_WAN_IP6=2001:db8:2::1
WAN_IP6=2001:db8:2::100
A_IP6=2001:db8:1::10
B_IP6=2001:db8:1::11

in_gw() { ip netns exec "$GW" "$@"; }
# lab_mac NS: the MAC of a LAN host's eth0 (its veth), as `ip link` shows it in its namespace
lab_mac() { ip netns exec "$1" ip -o link show eth0 | sed -n 's|.* link/ether \([0-9a-f:]*\) .*|\1|p'; }
in_wan() { ip netns exec "$WAN" "$@"; }
in_a() { ip netns exec "$HA" "$@"; }
in_b() { ip netns exec "$HB" "$@"; }

lab_can_run() {
	[ "$(id -u)" -eq 0 ] || return 1
	command -v nft >/dev/null && command -v socat >/dev/null || return 1
	ip netns add "$LAB-probe" 2>/dev/null || return 1
	ip netns exec "$LAB-probe" nft add table ip probe 2>/dev/null
	local rc=$?
	ip netns del "$LAB-probe"
	return $rc
}

# lab_down: kill every process of the lab's namespaces (and of LAB_NS_MORE's: lab3.sh's),
# delete them
lab_down() {
	local ns pids
	for ns in "$HA" "$HB" "$WAN" "$GW" $LAB_NS_MORE; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	sleep 0.1
	for ns in "$HA" "$HB" "$WAN" "$GW" $LAB_NS_MORE; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$LAB_DIR" ] && rm -rf "$LAB_DIR"
	return 0
}

# _lan_host NS IFNAME IP IP6: a LAN host plugged into br-lan
_lan_host() {
	ip netns add "$1"
	ip link add "$2" netns "$GW" type veth peer name eth0 netns "$1"
	in_gw ip link set "$2" master br-lan up
	ip netns exec "$1" ip addr add "$3/24" dev eth0
	ip netns exec "$1" ip link set eth0 up
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" ip route add default via $GW_LAN_IP
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
	ip netns exec "$1" ip -6 addr add "$4/64" dev eth0 nodad
	ip netns exec "$1" ip -6 route add default via $GW_LAN_IP6
}

lab_up() {
	trap lab_down EXIT
	LAB_DIR=$(mktemp -d "/tmp/portgate-$LAB.XXXXXX")
	[ -n "$LAB_USER" ] && chown "$LAB_USER:" "$LAB_DIR"	# its state file's directory
	ip netns add "$GW"
	ip netns add "$WAN"
	in_gw ip link set lo up
	in_gw ip link add br-lan type bridge
	in_gw ip addr add $GW_LAN_IP/24 dev br-lan
	in_gw ip link set br-lan up
	ip link add wan0 netns "$GW" type veth peer name eth0 netns "$WAN"
	in_gw ip addr add $GW_WAN_IP/24 dev wan0
	in_gw ip link set wan0 up
	in_wan ip addr add $WAN_IP/24 dev eth0
	in_wan ip link set eth0 up
	in_wan ip link set lo up
	in_gw ip -6 addr add $GW_LAN_IP6/64 dev br-lan nodad
	in_gw ip -6 addr add $GW_WAN_IP6/64 dev wan0 nodad
	in_wan ip -6 addr add $WAN_IP6/64 dev eth0 nodad
	in_wan ip -6 route add 2001:db8:1::/64 via $GW_WAN_IP6
	_lan_host "$HA" veth-a $A_IP $A_IP6
	_lan_host "$HB" veth-b $B_IP $B_IP6
	# a router's bridge does not pass frames through IP netfilter (br_netfilter, loaded on
	# hosts running docker, sets this per namespace): with it, a routed packet back out of
	# the bridge port it came in on (a host reaching its own mapping by hairpin) is lost
	in_gw sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
	in_gw sysctl -qw net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null
	in_gw sysctl -qw net.ipv4.ip_forward=1
	in_gw sysctl -qw net.ipv6.conf.all.forwarding=1
	# neighbour discovery before the tests: a fresh lab's first IPv6 connects can miss
	in_wan ping -6 -c1 -W1 -q $GW_WAN_IP6 >/dev/null 2>&1
	in_a ping -6 -c1 -W1 -q $GW_LAN_IP6 >/dev/null 2>&1
	in_b ping -6 -c1 -W1 -q $GW_LAN_IP6 >/dev/null 2>&1
	# and ARP: the gateway learns each LAN host's MAC, as it has on a LAN that did DHCP;
	# portgated honours PCP/NAT-PMP and trigger packets only from a known (address, MAC)
	in_a ping -c1 -W1 -q $GW_LAN_IP >/dev/null 2>&1
	in_b ping -c1 -W1 -q $GW_LAN_IP >/dev/null 2>&1
	# outbound masquerade: the lab's own table, not portgate's
	in_gw nft add table ip lab
	in_gw nft add chain ip lab post '{ type nat hook postrouting priority srcnat; }'
	in_gw nft add rule ip lab post oifname wan0 masquerade
	# the WAN peer has no route to the LAN: only DNAT'ed traffic reaches it
}

# lab_admin_fw6: the gateway's own firewall as most routers have it (forward policy drop,
# established/related and LAN-to-WAN accepted) plus the rule README tells the admin to add
# for pinholes. Without a pinhole, nothing from the WAN reaches a LAN host over IPv6.
lab_admin_fw6() {
	in_gw nft -f - <<-'FW'
	table inet filter {
		chain forward {
			type filter hook forward priority filter; policy drop;
			ct state established,related accept
			iifname "br-lan" accept
		}
	}
	FW
	# README's lines, literally
	in_gw nft add rule inet filter forward ct status dnat accept
	in_gw nft add rule inet filter forward meta mark and 0x00100000 == 0x00100000 accept
}

# lab_conf FILE [extra lines...]: a portgated config for the lab gateway. The daemon runs
# as LAB_USER (default portgate, where the account exists: scripts/test.sh makes it), as the
# package runs it, unless the extra lines name a user themselves or LAB_USER is empty.
lab_conf() {
	local f=$1 l own=; shift
	for l in "$@"; do case "$l" in "user ="*|"user="*) own=1 ;; esac; done
	{
		echo "wan_interface = wan0"
		echo "lan_interface = br-lan"
		echo "firewall = nftables"
		echo "state_file = $LAB_DIR/state"
		echo "control_socket = $LAB_DIR/sock"
		echo "nft_table = portgate"
		for l in "$@"; do echo "$l"; done
		[ -z "$own" ] && [ -n "$LAB_USER" ] && echo "user = $LAB_USER"
	} > "$f"
	return 0
}

# lab_start_daemon CONF: start portgated in the gateway; sets PG_PID
lab_start_daemon() {
	ip netns exec "$GW" "$PORTGATED" -d -v -f "$1" 2>>"$LAB_DIR/daemon.log" &
	PG_PID=$!
	local n=50
	while [ $n -gt 0 ]; do
		"$PORTGATECTL" -s "$LAB_DIR/sock" status >/dev/null 2>&1 && return 0
		kill -0 $PG_PID 2>/dev/null || break
		sleep 0.1; n=$((n - 1))
	done
	echo "portgated did not start:"; tail -20 "$LAB_DIR/daemon.log"
	return 1
}

lab_stop_daemon() {
	[ -n "$PG_PID" ] || return 0
	kill -TERM "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=
}

pgctl() { "$PORTGATECTL" -s "$LAB_DIR/sock" "$@"; }

# _listen FAMILY NS PROTO PORT REPLY: a one-line server answering REPLY, in the background;
# FAMILY is "" (IPv4) or 6
_listen() {
	local fam=$1 ns=$2 proto=$3 port=$4 reply=$5
	# the child reads the client's line before it answers: a child that exits first makes
	# socat's write to it fail (EPIPE), and socat may then drop the answer
	local child="bash -c 'read -r -t 1 _; echo $reply'"
	if [ "$proto" = tcp ]; then
		ip netns exec "$ns" socat -T 5 TCP$fam-LISTEN:$port,reuseaddr,fork SYSTEM:"$child" &
	else
		ip netns exec "$ns" socat -T 5 UDP$fam-RECVFROM:$port,reuseaddr,fork SYSTEM:"$child" &
	fi
	# until the socket is bound (a loaded machine starts socat slowly), at most 3 s
	local n=30 flag=-Hltn
	[ "$proto" = udp ] && flag=-Hlun
	while [ $n -gt 0 ] && ! ip netns exec "$ns" ss $flag "sport = :$port" | grep -q .; do
		sleep 0.1; n=$((n - 1))
	done
}

# listen NS PROTO PORT REPLY: on IPv4; listen6: the same on IPv6 ([::]:PORT)
listen() { _listen "" "$@"; }
listen6() { _listen 6 "$@"; }

# _connect FAMILY NS PROTO HOSTPART PORT [BINDOPT]: print what the server answers (empty if
# unreachable)
_connect() {
	local fam=$1 ns=$2 proto=$3 host=$4 port=$5 bind=$6
	if [ "$proto" = tcp ]; then
		echo hi | timeout 3 ip netns exec "$ns" socat -T 1 - TCP$fam:$host:$port,connect-timeout=1$bind 2>/dev/null
	else
		echo hi | timeout 3 ip netns exec "$ns" socat -T 1 - UDP$fam:$host:$port$bind 2>/dev/null
	fi
}

# connect NS PROTO HOST PORT: to an IPv4 address
connect() { _connect "" "$1" "$2" "$3" "$4"; }
# connect6 NS PROTO ADDR6 PORT [SRC6]: to an IPv6 address (from SRC6 if given)
connect6() { _connect 6 "$1" "$2" "[$3]" "$4" "${5:+,bind=[$5]}"; }
