/*
 * import_mu.h - miniupnpd's configuration and lease file, read for portgate
 * (portgatectl import-miniupnpd): a leaf that parses text and says what it
 * made of each line; the caller prints the configuration and loads the
 * leases. Whatever it cannot translate it names, file and line.
 */
#ifndef PG_IMPORT_MU_H
#define PG_IMPORT_MU_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mt_vocab.h"

/* One lease of miniupnpd's lease file, as portgate takes it. */
struct imu_lease {
	uint8_t		 proto;		/* MT_TCP, MT_UDP */
	uint16_t	 ext_port, int_port;
	struct in6_addr	 int_addr;	/* v4-mapped */
	uint32_t	 lease_s;	/* seconds left; 0: permanent */
	char		 desc[MT_DESC_MAX];
	unsigned	 line;
};

struct imu_hooks {
	/* a line of the portgated.conf made (no newline) */
	void	(*line)(void *arg, const char *text);
	/* something not translated, or wrong: FILE:LINE: msg */
	void	(*warn)(void *arg, const char *file, unsigned line, const char *msg);
	/* listening_ip=ADDR[/LEN]: the interface holding addr; 0, or -1 if none does */
	int	(*ifname)(void *arg, const struct in6_addr *addr, char *name, size_t len);
	/* a lease still running */
	void	(*lease)(void *arg, const struct imu_lease *);
	void	*arg;
};

/*
 * Translate miniupnpd.conf text (file name for messages) into portgated.conf
 * lines; how many lines could not be translated.
 */
unsigned imu_conf(const char *file, const char *text, size_t len, const struct imu_hooks *);
/*
 * The leases of a miniupnpd lease file, at wall time now: each running one
 * to h->lease (expired ones are said and skipped); how many lines were bad.
 * Lines are PROTO:EXTPORT:ADDR:PORT:TIMESTAMP:DESC (TIMESTAMP the lease's end
 * in seconds since 1970, or what is left of it where miniupnpd was built
 * with LEASEFILE_USE_REMAINING_TIME; 0: no end; DESC may hold ':'), or, as
 * before timestamps, PROTO:EXTPORT:ADDR:PORT:DESC.
 */
unsigned imu_leases(const char *file, const char *text, size_t len, time_t now,
    const struct imu_hooks *);

#endif
