/*
 * pcpc_tool.c - the upstream PCP client (pcp_client.c) on its own, for the
 * lab tests: run in the gateway's namespace against a PCP server on the WAN
 * side (root not needed; real sockets, the real loop and clock):
 *
 *   pcpc_tool LOCAL SERVER probe
 *   pcpc_tool LOCAL SERVER map PROTO PORT LIFETIME [EXT_PORT [pf]] [hold SECONDS]
 *
 * prints what the client tells: "server up", "server none", and for a map
 * "granted ADDR:PORT lifetime N", "refused RESULT" or "lost"; with hold,
 * it keeps the mapping that long (renewing it), then drops it and prints
 * "deleted" once the server has answered the delete. Requests are given up
 * after 5 s. Exits 0 when it got an answer, 1 when none came.
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "pcp/pcp_client.h"
#include "util.h"

struct tool {
	struct event_base	*base;
	struct pcpc		*c;
	struct pcpc_map		*m;
	int			 answered;
	int			 hold;		/* seconds; -1: none */
	int			 dropped;
	struct event		*timer;
};

static void
tool_done(struct tool *t)
{
	event_base_loopexit(t->base, NULL);
}

static void
tool_event(void *arg, struct pcpc *c, enum pcpc_event ev)
{
	struct tool *t = arg;

	(void)c;
	if (ev == PCPC_EV_UP || ev == PCPC_EV_NONE || ev == PCPC_EV_LOST) {
		printf("server %s\n", ev == PCPC_EV_UP ? "up" : ev == PCPC_EV_NONE ? "none" :
		    "lost");
		fflush(stdout);
	}
	if (t->m == NULL && ev != PCPC_EV_EXT_ADDR) {
		t->answered = ev == PCPC_EV_UP;
		tool_done(t);
	}
}

/* hold is over: delete, and wait (5 s at most) for its answer */
static void
tool_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct tool *t = arg;
	struct timeval tv = { 0, 100000 };

	(void)fd;
	(void)ev;
	if (!t->dropped) {
		pcpc_map_drop(t->c, t->m);
		t->dropped = 1;
	} else if (pcpc_count(t->c) == 0) {
		printf("deleted\n");
		tool_done(t);
		return;
	}
	evtimer_add(t->timer, &tv);
}

static void
tool_map(void *arg, struct pcpc_map *m, const struct pcpc_info *info)
{
	struct tool *t = arg;
	char a[INET6_ADDRSTRLEN];
	struct timeval tv = { t->hold, 0 };

	(void)m;
	switch (info->state) {
	case PCPC_GRANTED:
		printf("granted %s:%u lifetime %u\n", util_addr_str(&info->ext_addr, a, sizeof(a)),
		    info->ext_port, info->lifetime);
		break;
	case PCPC_REFUSED:
		printf("refused %s\n", pcp_wire_result_name(info->result));
		break;
	case PCPC_LOST:
		printf("lost\n");
		break;
	case PCPC_PENDING:
		return;
	}
	fflush(stdout);
	if (t->answered)
		return;			/* a renewal */
	t->answered = info->state != PCPC_LOST;
	if (info->state == PCPC_GRANTED && t->hold >= 0)
		evtimer_add(t->timer, &tv);
	else
		tool_done(t);
}

static int
tool_req(int argc, char **argv, struct pcpc_req *r, int *hold)
{
	unsigned long v;
	int proto, i;

	memset(r, 0, sizeof(*r));
	*hold = -1;
	if (argc < 3)
		return -1;
	proto = strcmp(argv[0], "tcp") == 0 ? 6 : strcmp(argv[0], "udp") == 0 ? 17 : -1;
	if (proto < 0 || util_parse_uint(argv[1], 1, 65535, &v) == -1)
		return -1;
	r->proto = (uint8_t)proto;
	r->internal_port = (uint16_t)v;
	if (util_parse_uint(argv[2], 1, 86400, &v) == -1)
		return -1;
	r->lifetime = (uint32_t)v;
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "pf") == 0)
			r->flags |= PCPC_F_PREFER_FAILURE;
		else if (strcmp(argv[i], "hold") == 0 && i + 1 < argc &&
		    util_parse_uint(argv[i + 1], 0, 3600, &v) == 0) {
			*hold = (int)v;
			i++;
		} else if (util_parse_uint(argv[i], 1, 65535, &v) == 0)
			r->ext_port = (uint16_t)v;
		else
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct pcpc_params p;
	struct pcpc_req r;
	struct tool t;
	enum pcpc_err err;
	struct timeval limit = { 30, 0 };

	log_init(1, getenv("PCPC_DEBUG") != NULL ? 1 : -1);
	memset(&t, 0, sizeof(t));
	memset(&p, 0, sizeof(p));
	if (argc < 4 || util_parse_addr(argv[1], &p.local) == -1 ||
	    util_parse_addr(argv[2], &p.server[0]) == -1 || (strcmp(argv[3], "probe") != 0 &&
	    (strcmp(argv[3], "map") != 0 || tool_req(argc - 4, argv + 4, &r, &t.hold) == -1))) {
		fprintf(stderr, "usage: pcpc_tool LOCAL SERVER probe\n"
		    "       pcpc_tool LOCAL SERVER map PROTO PORT LIFETIME [EXT_PORT [pf]] "
		    "[hold SECONDS]\n");
		return 2;
	}
	p.nserver = 1;
	p.max_mappings = 4;
	p.max_wait_ms = 5000;
	p.clock = &pg_clock_mono;
	p.event = tool_event;
	p.event_arg = &t;
	if ((t.base = event_base_new()) == NULL || (t.c = pcpc_new(t.base, &p)) == NULL ||
	    (t.timer = evtimer_new(t.base, tool_tick, &t)) == NULL)
		return 2;
	if (strcmp(argv[3], "probe") == 0)
		pcpc_probe(t.c);
	else if ((t.m = pcpc_map_add(t.c, &r, tool_map, &t, &err)) == NULL) {
		fprintf(stderr, "pcpc_tool: %s\n", pcpc_err_name(err));
		return 2;
	}
	if (t.hold > 0)
		limit.tv_sec += t.hold;
	event_base_loopexit(t.base, &limit);
	event_base_dispatch(t.base);
	event_free(t.timer);
	pcpc_free(t.c);
	event_base_free(t.base);
	return t.answered ? 0 : 1;
}
