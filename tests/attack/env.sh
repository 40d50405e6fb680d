# env.sh - shared settings for the attack scripts (sourced). The lab is brought up by
# up.sh under the fixed name $LAB so that separate attack scripts can reach it.
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD:=build}"
: "${top_builddir:=$top_srcdir/$BUILD}"
export LAB=${LAB:-pgatk}
PORTGATED="$top_builddir/src/portgated"
PORTGATECTL="$top_builddir/src/portgatectl"
GW=$LAB-gw WAN=$LAB-wan HA=$LAB-a HB=$LAB-b
GW_LAN_IP=192.0.2.1 GW_WAN_IP=198.51.100.1 WAN_IP=198.51.100.100 A_IP=192.0.2.10 B_IP=192.0.2.11
LAB_DIR=$(cat /tmp/portgate-attack-$LAB.dir 2>/dev/null)
in_gw() { ip netns exec "$GW" "$@"; }
in_wan() { ip netns exec "$WAN" "$@"; }
in_a() { ip netns exec "$HA" "$@"; }
in_b() { ip netns exec "$HB" "$@"; }
pgctl() { "$PORTGATECTL" -s "$LAB_DIR/sock" "$@"; }
pg_pid() { cat "$LAB_DIR/pid" 2>/dev/null; }
# rss_cpu: the daemon's RSS (kB) and CPU ticks (utime+stime)
rss_cpu() { local p; p=$(pg_pid); echo "rss=$(awk '/VmRSS/{print $2}' /proc/$p/status)kB cpu=$(awk '{print $14+$15}' /proc/$p/stat)"; }
alive() { kill -0 "$(pg_pid)" 2>/dev/null; }
soap_body() { # ACTION ARGS [VERSION]
	local t="urn:schemas-upnp-org:service:WANIPConnection:${3:-2}"
	printf '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:%s xmlns:u="%s">%s</u:%s></s:Body></s:Envelope>' "$1" "$t" "$2" "$1"
}
soap() { # NS ACTION ARGS [VERSION]
	local t="urn:schemas-upnp-org:service:WANIPConnection:${4:-2}"
	timeout 5 ip netns exec "$1" curl -s -m 3 -H 'Content-Type: text/xml' \
		-H "SOAPAction: \"$t#$2\"" --data-binary "$(soap_body "$2" "$3" "${4:-2}")" \
		http://$GW_LAN_IP:5000/ctl/IPConn
}
add_args() { # EXT PROTO INPORT CLIENT LEASE [REMOTE]
	echo "<NewRemoteHost>$6</NewRemoteHost><NewExternalPort>$1</NewExternalPort><NewProtocol>$2</NewProtocol><NewInternalPort>$3</NewInternalPort><NewInternalClient>$4</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>t</NewPortMappingDescription><NewLeaseDuration>$5</NewLeaseDuration>"
}
PCPC="$top_srcdir/tests/integ/pcp_client.py"
pcp() { local ns=$1; shift; timeout 8 ip netns exec "$ns" python3 "$PCPC" $GW_LAN_IP "$@"; }
