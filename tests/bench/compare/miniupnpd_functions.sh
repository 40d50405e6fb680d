#!/bin/sh
# Stand-in for the nftables miniupnpd_functions.sh that Debian 2.3.1-1 fails to ship
# (its miniupnpd package carries the iptables one). Defaults = miniupnpd 2.3.1 nft defaults.
NFT=$(command -v nft) || { echo "Can't find nft" >&2; exit 1; }
TABLE=${TABLE:-filter}
NAT_TABLE=${NAT_TABLE:-filter}
CHAIN=${CHAIN:-miniupnpd}
PREROUTING_CHAIN=${PREROUTING_CHAIN:-prerouting_miniupnpd}
POSTROUTING_CHAIN=${POSTROUTING_CHAIN:-postrouting_miniupnpd}
