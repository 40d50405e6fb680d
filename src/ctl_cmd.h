/* ctl_cmd.h - control commands: a dispatch table over the table's API. */
#ifndef PG_CTL_CMD_H
#define PG_CTL_CMD_H

#include <stdint.h>

struct pg_ctx;
struct evbuffer;

struct ctl_req {
	struct pg_ctx	*ctx;
	struct evbuffer	*data;		/* "| " data lines */
	uint64_t	 id;		/* mapping added, awaiting the firewall commit */
	int		 ok;
	char		 result[512];
};

/* Run one request line (percent-encoded words) into req. */
void ctl_cmd_run(struct ctl_req *, char *line);

#endif
