#!/bin/bash
# panel_lab.sh - the administration panel in a real browser: headless Chromium, driven by
# selenium (tests/integ/panel_browser.py) from LAN host B, logs in; a mapping upnpc adds
# from LAN host A shows within a second without a reload; its Delete button removes it and
# the WAN peer is refused; a trigger added in the form fires on A's traffic and shows A and
# the countdown; a hostile description renders as text; a forward from the form carries
# traffic; the page fits a phone's width. The lab has no network beyond its own addresses,
# so the page works without one. Screenshots go to tests/artifacts/panel/ in the build.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
for c in /usr/bin/chromium /usr/bin/chromedriver upnpc; do
	command -v $c >/dev/null || skip "needs $c (Debian's chromium, chromium-driver, miniupnpc)"
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "needs python3-selenium"
lab_up
PORT=8088
PW='correct horse battery staple'
ART=$top_builddir/tests/artifacts/panel
rm -rf "$ART"
mkdir -p "$ART"
conf=$LAB_DIR/pg.conf
# the DHCP server's leases name A (dnsmasq's format: expiry MAC IP name client-id)
echo "$(( $(date +%s) + 3600 )) $(lab_mac "$HA") $A_IP alice-laptop *" > "$LAB_DIR/leases"
lab_conf "$conf" "admin_listen = $GW_LAN_IP:$PORT" "admin_password_file = $LAB_DIR/pw" \
	"dhcp_leases = dnsmasq:$LAB_DIR/leases"
echo "$PW" | "$PORTGATECTL" passwd -f "$conf" >/dev/null
check "portgated starts with the admin server" lab_start_daemon "$conf"
in_b ip link set lo up		# chromedriver listens on B's loopback
listen $HA tcp 8000 from-A
listen $HA tcp 8001 from-A-8001
listen $HA tcp 9113 from-A-9113
in_wan socat -T 2 TCP-LISTEN:6667,reuseaddr,fork SYSTEM:"echo irc" >/dev/null 2>&1 &

ip netns exec "$HB" env BASE="http://$GW_LAN_IP:$PORT" PW="$PW" ART="$ART" LAB_DIR="$LAB_DIR" \
	NS_A="$HA" NS_WAN="$WAN" GW_LAN_IP="$GW_LAN_IP" GW_WAN_IP="$GW_WAN_IP" A_IP="$A_IP" WAN_IP="$WAN_IP" \
	HOME="$LAB_DIR" timeout 240 /usr/bin/python3 "$top_srcdir/tests/integ/panel_browser.py" \
	> "$LAB_DIR/browser.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok   "*) pass "${line#ok   }" ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	*) echo "  $line" ;;
	esac
done < "$LAB_DIR/browser.out"
[ $rc -eq 0 ] || [ "$T_FAILS" -gt 0 ] || fail "the browser run ended with status $rc"
n=$(ls "$ART"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 5 ] && pass "$n screenshots saved in $ART" || fail "only $n screenshots in $ART"
check "the daemon is still up" pgctl status
finish
