/* main.c - portgated: arguments, configuration, the event loop. */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "priv.h"

static void
usage(void)
{
	fprintf(stderr, "usage: portgated -f FILE [-d] [-v] [-t]\n"
	    "  -f FILE  configuration file\n"
	    "  -d       stay in the foreground, log to stderr\n"
	    "  -v       more verbose (repeat for more)\n"
	    "  -t       check the configuration and exit\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct pg_ctx ctx;
	const char *file = NULL;
	int ch, foreground = 0, verbose = 0, check = 0;

	while ((ch = getopt(argc, argv, "f:dvt")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 't':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (file == NULL || optind != argc)
		usage();
	log_init(1, verbose);
	memset(&ctx, 0, sizeof(ctx));
	if ((ctx.cfg = conf_load(file, conf_err_log, NULL)) == NULL) {
		if (check)
			fprintf(stderr, "configuration has errors\n");
		return 1;
	}
	if (check) {
		struct priv_account acct;
		char why[256];

		if (priv_lookup(ctx.cfg, &acct, why, sizeof(why)) == -1) {	/* the account too */
			fprintf(stderr, "%s\nconfiguration has errors\n", why);
			conf_free(ctx.cfg);
			return 1;
		}
		printf("configuration OK\n");
		conf_free(ctx.cfg);
		return 0;
	}
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, verbose);
	}
	if ((ctx.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (pg_start(&ctx) == -1) {
		pg_stop(&ctx);
		fatalx("start-up failed");
	}
	event_base_dispatch(ctx.base);
	pg_stop(&ctx);
	conf_free(ctx.cfg);
	event_base_free(ctx.base);
	return 0;
}
