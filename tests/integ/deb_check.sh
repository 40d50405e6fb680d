#!/bin/bash
# deb_check.sh - the Debian package (debian/, issue 20): dpkg-buildpackage -us -uc -b builds it
# from a clean copy of the source; lintian reports no error and no warning; dpkg -i installs it
# on this machine (its account, /etc/portgate root:portgate 0750 with the configuration 0640,
# /var/lib/portgate the account's, the sandboxed unit); portgated -t accepts the packaged
# configuration; installed again over itself (an upgrade's path) it keeps a mapping in its
# state file; upgraded to a later version (the same build repacked) with a state file of the
# older format, the new daemon lists its mappings and writes it back current; dpkg --purge
# leaves nothing: no file of the package, no directory, no account.
# The machine's own portgate account (the labs') is made again afterwards if it was there.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
for c in dpkg-buildpackage dh lintian git; do
	command -v $c >/dev/null || skip "needs $c (scripts/deps.sh installs debhelper and lintian)"
done
git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1 || skip "needs a git checkout (a clean copy is made from it)"
if dpkg -s portgate >/dev/null 2>&1; then skip "a portgate package is installed already"; fi
had_user=0
id portgate >/dev/null 2>&1 && had_user=1
tmp=$(mktemp -d /tmp/portgate-deb.XXXXXX)
restore() {
	dpkg --purge portgate >/dev/null 2>&1
	if [ $had_user = 1 ] && ! id portgate >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin portgate
	fi
	rm -rf "$tmp"
}
trap restore EXIT

echo "the package, from a clean copy of the source"
mkdir "$tmp/portgate"
git -C "$top_srcdir" ls-files --cached --others --exclude-standard |
	tar -C "$top_srcdir" -cf - -T - | tar -C "$tmp/portgate" -xf -
( cd "$tmp/portgate" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b ) \
    > "$tmp/build.log" 2>&1
rc=$?
deb=$(ls "$tmp"/portgate_*_*.deb 2>/dev/null | head -1)
if [ $rc -eq 0 ] && [ -n "$deb" ]; then
	pass "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"
else
	fail "dpkg-buildpackage (exit $rc):"; tail -20 "$tmp/build.log" | sed 's/^/       | /'; finish
fi
lint=$(lintian --tag-display-limit 0 "$tmp"/portgate_*_*.changes 2>&1 | grep -E '^[EW]: ')
[ -z "$lint" ] && pass "lintian: no error, no warning" || { fail "lintian:"; echo "$lint" | sed 's/^/       | /'; }
files=$(dpkg -c "$deb" | awk '{print $6}' | sed 's|^\.||' | grep -v '/$')
for f in /usr/sbin/portgated /usr/bin/portgatectl /etc/portgate/portgated.conf \
    /lib/systemd/system/portgated.service /usr/share/man/man8/portgated.8.gz \
    /usr/share/man/man5/portgated.conf.5.gz /usr/share/man/man8/portgatectl.8.gz; do
	grep -qx "$f" <<<"$files" && pass "it ships $f" || fail "it lacks $f"
done
check_out "/etc/portgate/portgated.conf is a conffile" "/etc/portgate/portgated.conf" \
    dpkg-deb -I "$deb" conffiles

echo "dpkg -i"
out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" 2>&1); rc=$?
[ $rc -eq 0 ] && pass "dpkg -i installs it" || { fail "dpkg -i (exit $rc): $out"; finish; }
check "the portgate account exists" id portgate
check "... a system account without a shell" sh -c "getent passwd portgate | grep -q ':/usr/sbin/nologin\$'"
[ "$(stat -c '%U:%G %a' /etc/portgate)" = "root:portgate 750" ] && pass "/etc/portgate is root:portgate 0750" ||
    fail "/etc/portgate: $(stat -c '%U:%G %a' /etc/portgate)"
[ "$(stat -c '%U:%G %a' /etc/portgate/portgated.conf)" = "root:portgate 640" ] &&
    pass "its configuration is root:portgate 0640 (the daemon reads it as portgate)" ||
    fail "portgated.conf: $(stat -c '%U:%G %a' /etc/portgate/portgated.conf)"
[ "$(stat -c '%U:%G %a' /var/lib/portgate)" = "portgate:portgate 750" ] &&
    pass "/var/lib/portgate is the account's" || fail "/var/lib/portgate: $(stat -c '%U:%G %a' /var/lib/portgate)"
check_out "portgated -t -f /etc/portgate/portgated.conf passes" "configuration OK" \
    portgated -t -f /etc/portgate/portgated.conf
check_out "... as the account too (the unit's ExecStartPre runs as it)" "configuration OK" \
    setpriv --reuid=portgate --regid=portgate --init-groups \
    /usr/sbin/portgated -t -f /etc/portgate/portgated.conf
check_out "the installed unit runs it as portgate" "User=portgate" cat /lib/systemd/system/portgated.service
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	check "its exposure is 2.0 or lower" systemd-analyze security --offline=true --threshold=20 \
	    /lib/systemd/system/portgated.service
fi
check_out "portgatectl runs" "usage" sh -c "portgatectl 2>&1"

echo "installed again over itself (an upgrade's path): the state stays"
printf 'portgate-state 2\nmap tcp 8080 8080 192.0.2.10 80 static 0 * kept %%-\nend 1\n' > /var/lib/portgate/state
chown portgate:portgate /var/lib/portgate/state
out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" 2>&1); rc=$?
[ $rc -eq 0 ] && pass "dpkg -i again" || fail "dpkg -i again (exit $rc): $out"
check_out "the state file keeps its mapping" "map tcp 8080 8080 192.0.2.10 80 static" cat /var/lib/portgate/state
echo "# the admin's edit" >> /etc/portgate/portgated.conf
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$deb" >/dev/null 2>&1
check_out "... and the admin's edit of the configuration" "# the admin's edit" cat /etc/portgate/portgated.conf

echo "upgraded to a newer version with a state file of the older format: the mappings come back"
# the same build repacked as a later version: dpkg runs the upgrade's maintainer scripts
# (prerm upgrade, postinst configure OLD) as between two releases
rm -rf "$tmp/up"
if dpkg-deb -R "$deb" "$tmp/up" && sed -i 's/^Version: .*/&+up1/' "$tmp/up/DEBIAN/control" &&
    dpkg-deb -b "$tmp/up" "$tmp/portgate_up.deb" >/dev/null 2>&1; then
	pass "a later version packed ($(sed -n 's/^Version: //p' "$tmp/up/DEBIAN/control"))"
else
	fail "dpkg-deb could not repack the package"
fi
printf 'portgate-state 1\nmap tcp 8080 8080 192.0.2.10 80 static 0 * kept %%-\n%s\nend 2\n' \
    'map udp 9000 9000 192.0.2.11 9000 upnp 0 * game %-' > /var/lib/portgate/state
chown portgate:portgate /var/lib/portgate/state
out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$tmp/portgate_up.deb" 2>&1); rc=$?
[ $rc -eq 0 ] && pass "dpkg -i of the later version upgrades" || fail "upgrade (exit $rc): $out"
check_out "... the package is the later version" "+up1" dpkg-query -W -f '${Version}' portgate
cat > "$tmp/run.conf" <<CONF
firewall = none
user = portgate
state_file = /var/lib/portgate/state
control_socket = $tmp/sock
CONF
/usr/sbin/portgated -d -f "$tmp/run.conf" > "$tmp/run.log" 2>&1 &
pg=$!
check "the upgraded portgated starts on the kept state" wait_for 10 test -S "$tmp/sock"
list=$(portgatectl -s "$tmp/sock" list 2>&1)
fails=$T_FAILS
check "... and lists the static forward of the old file" \
    grep -Eq '^tcp +8080 +192\.0\.2\.10:80 +static +never' <<<"$list"
check "... and its UPnP mapping" grep -Eq '^udp +9000 +192\.0\.2\.11:9000 +upnp ' <<<"$list"
[ $T_FAILS -eq $fails ] || echo "$list" | sed 's/^/       | /'

kill -TERM $pg; wait $pg
check_out "it writes the state back in the current format" "portgate-state 2" head -1 /var/lib/portgate/state
check_out "... with both mappings" "map udp 9000 9000 192.0.2.11 9000 upnp" cat /var/lib/portgate/state
: > /etc/portgate/admin.pw	# a file the admin made (portgatectl passwd)

echo "dpkg --purge"
out=$(dpkg --purge portgate 2>&1); rc=$?
[ $rc -eq 0 ] && pass "dpkg --purge removes it" || fail "dpkg --purge (exit $rc): $out"
left=
for f in $files; do [ -e "$f" ] && left="$left $f"; done
[ -z "$left" ] && pass "no file of the package is left" || fail "left:$left"
for d in /etc/portgate /var/lib/portgate /run/portgate; do
	check_not "$d is gone" test -e "$d"
done
check_not "the account is gone" id portgate
check_not "the group is gone" getent group portgate
check_not "dpkg knows no portgate" dpkg -s portgate
finish
