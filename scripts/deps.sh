#!/bin/bash
# deps.sh - install what building and testing portgate needs on Debian 12 (as root).
set -e
PKGS="build-essential autoconf automake pkg-config libevent-dev libmicrohttpd-dev
libxml2-dev libnftnl-dev libmnl-dev nftables iproute2 socat python3 procps mandoc
miniupnpc python3-miniupnpc gupnp-tools gir1.2-gupnp-1.6 python3-gi curl natpmpc iputils-ping conntrack
chromium chromium-driver python3-selenium
prometheus
miniupnpd-nftables
debhelper lintian"
# (miniupnpd-nftables: the carrier NAT of tests/integ/carrier_lab.sh; the binary and its nft
# scripts only, no service: nothing starts on the host. debhelper, lintian: the package,
# tests/integ/deb_check.sh)
missing=()
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >/dev/null ||
	{ apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
