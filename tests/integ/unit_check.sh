#!/bin/bash
# unit_check.sh - the systemd unit (contrib/portgated.service, rendered by make as it is
# installed): systemd-analyze verify finds nothing wrong with it, and its exposure score
# (systemd-analyze security --offline=true) is 2.0 or lower; the settings the least-privilege
# design rests on are there (its own account, CAP_NET_ADMIN alone, no new privileges, the
# address families it speaks). A copy made worse fails the same check.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "needs systemd-analyze"
systemd-analyze security --help 2>/dev/null | grep -q -- --offline || skip "systemd-analyze has no --offline (systemd < 250)"
make -s -C "$top_builddir" contrib/portgated.service >/dev/null || { fail "make contrib/portgated.service"; finish; }
unit=$top_builddir/contrib/portgated.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# score UNIT: the "Overall exposure level" figure, e.g. 1.5
score() { systemd-analyze security --offline=true "$1" 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }
# within FIGURE MAX: FIGURE <= MAX (one decimal)
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'; }

# verify, with ExecStart= pointing at the built daemon (verify wants the binaries)
sed "s|^\\(Exec[A-Za-z]*=\\)[^ ]*/portgated |\\1$top_builddir/src/portgated |" "$unit" > "$tmp/portgated.service"
out=$(systemd-analyze verify --man=no "$tmp/portgated.service" 2>&1)
[ -z "$out" ] && pass "systemd-analyze verify: nothing to say" || fail "systemd-analyze verify: $out"

s=$(score "$unit")
within "$s" 2.0 && pass "exposure $s (at most 2.0)" || fail "exposure '$s', above 2.0"
check "systemd-analyze security --threshold=20 passes" systemd-analyze security --offline=true \
    --threshold=20 "$unit"
for k in "User=portgate" "AmbientCapabilities=CAP_NET_ADMIN" "CapabilityBoundingSet=CAP_NET_ADMIN" \
    "NoNewPrivileges=yes" "ProtectSystem=strict" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" \
    "SystemCallFilter=@system-service" "StateDirectory=portgate" "RuntimeDirectory=portgate" "UMask=0027"; do
	check "the unit has $k" grep -qx "$k" "$unit"
done

# the check can fail: the same unit without its sandbox scores far worse
grep -v -e '^Protect' -e '^Private' -e '^Restrict' -e '^SystemCall' -e '^CapabilityBoundingSet' \
    -e '^NoNewPrivileges' -e '^User=' "$unit" > "$tmp/worse.service"
w=$(score "$tmp/worse.service")
within "$w" 2.0 && fail "a unit without its sandbox scored $w" || pass "a unit without its sandbox scores $w: the check fails it"
finish
