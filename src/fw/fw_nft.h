/* fw_nft.h - nftables backend extras: the pinhole mark (the NFLOG contract is fw.h's). */
#ifndef PG_FW_NFT_H
#define PG_FW_NFT_H

/*
 * The packet mark bit an IPv6 pinhole sets on what it lets in. The admin's
 * forward chain accepts it (README):
 *   nft add rule inet filter forward meta mark and 0x00100000 == 0x00100000 accept
 */
#define FW_NFT_PIN_MARK		0x00100000u

#endif
