/* fw_nft.c - the nftables backend (next issue). */
#include "config.h"

#include "fw/fw.h"
#include "log.h"

static int
fw_nft_init(struct fw *fw)
{
	(void)fw;
	log_warnx("fw_nft: the nftables backend is not built yet; use firewall = none");
	return -1;
}

static int
fw_nft_commit(struct fw *fw, const struct fw_change *c, size_t n, fw_fail_cb *cb, void *arg)
{
	(void)fw; (void)c; (void)n; (void)cb; (void)arg;
	return -1;
}

static int
fw_nft_resync(struct fw *fw, fw_iter_cb *it, void *arg)
{
	(void)fw; (void)it; (void)arg;
	return -1;
}

static void
fw_nft_shutdown(struct fw *fw)
{
	(void)fw;
}

const struct fw_ops fw_nft_ops = {
	.name = "nftables",
	.init = fw_nft_init,
	.commit = fw_nft_commit,
	.resync = fw_nft_resync,
	.shutdown = fw_nft_shutdown,
};
