/* fw_nft.h - nftables backend extras: the NFLOG contract, the pinhole mark. */
#ifndef PG_FW_NFT_H
#define PG_FW_NFT_H

#include <stddef.h>
#include <stdint.h>

struct fw;

/* How often at most the kernel reports one (host, proto, port) of trigger traffic. */
#define FW_NFT_NOTIFY_MS	1000
/* NFLOG prefixes: outbound trigger traffic, new inbound connections on open ports. */
#define FW_NFT_PREFIX_OUT	"pgo"
#define FW_NFT_PREFIX_IN	"pgi"
/* NFLOG prefix: a PCP/NAT-PMP request from an address no known (address, MAC) pair covers */
#define FW_NFT_PREFIX_UNKNOWN	"pgu"
/*
 * The packet mark bit an IPv6 pinhole sets on what it lets in. The admin's
 * forward chain accepts it (README):
 *   nft add rule inet filter forward meta mark and 0x00100000 == 0x00100000 accept
 */
#define FW_NFT_PIN_MARK		0x00100000u


#endif
