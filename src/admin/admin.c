/*
 * admin.c - the administration server: its route table, and its life
 * cycle from the configuration (admin.h).
 *
 * admin_init makes the parts and wires them, as igd.c does for UPnP: the
 * sessions and files (admin_auth.c), the HTTP server (admin_http.c) with
 * admin_routes[] and the API's context (admin_api.c), one listener per
 * admin_listen address. Only LAN and loopback addresses are listened on:
 * the config names an address, and this is where the gateway's
 * interfaces say whose it is.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/admin_api.h"
#include "admin/admin_auth.h"
#include "admin/admin_http.h"
#include "admin/admin_live.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "netif.h"
#include "util.h"

#define ADMIN_PEM_MAX	(64 * 1024)

/*
 * Every route of the admin server, one row each (admin_http.h says what a
 * row holds): the only place a URL is given.
 */
static const struct admin_route admin_routes[] = {
	{ "POST", "/api/v1/login", ADMIN_OPEN, 1, admin_api_login },
	{ "POST", "/api/v1/logout", ADMIN_SESSION, 0, admin_api_logout },
	{ "GET", "/api/v1/session", ADMIN_SESSION, 0, admin_api_session },
	{ "GET", "/api/v1/status", ADMIN_READ, 0, admin_api_status },
	{ "GET", "/api/v1/mappings", ADMIN_READ, 0, admin_api_mappings },
	{ "DELETE", "/api/v1/mappings/*/*", ADMIN_SESSION, 0, admin_api_mapping_del },
	{ "GET", "/api/v1/pinholes", ADMIN_READ, 0, admin_api_pinholes },
	{ "DELETE", "/api/v1/pinholes/*", ADMIN_SESSION, 0, admin_api_pinhole_del },
	{ "GET", "/api/v1/forwards", ADMIN_READ, 0, admin_api_forwards },
	{ "POST", "/api/v1/forwards", ADMIN_SESSION, 1, admin_api_forward_add },
	{ "DELETE", "/api/v1/forwards/*/*", ADMIN_SESSION, 0, admin_api_forward_del },
	{ "GET", "/api/v1/triggers", ADMIN_READ, 0, admin_api_triggers },
	{ "POST", "/api/v1/triggers", ADMIN_SESSION, 1, admin_api_trigger_add },
	{ "DELETE", "/api/v1/triggers/*", ADMIN_SESSION, 0, admin_api_trigger_del },
	{ "POST", "/api/v1/triggers/*/enable", ADMIN_SESSION, 0, admin_api_trigger_enable },
	{ "POST", "/api/v1/triggers/*/disable", ADMIN_SESSION, 0, admin_api_trigger_disable },
	{ "POST", "/api/v1/flush", ADMIN_SESSION, 1, admin_api_flush },
	{ "GET", "/api/v1/events", ADMIN_READ, 0, admin_live_events },
	{ "GET", "/api/v1/history", ADMIN_READ, 0, admin_live_history },
	{ "GET", "/api/v1/check", ADMIN_READ, 0, admin_live_check },
	{ "GET", "/metrics", ADMIN_READ, 0, admin_live_metrics },
	{ "GET", "/", ADMIN_OPEN, 0, admin_live_page },
	{ "GET", "/*", ADMIN_OPEN, 0, admin_live_page },
};

struct admin {
	struct admin_auth	*auth;
	struct admin_http	*http;
	struct admin_api	 api;
	/* what the listeners were opened with: a reload that changes it opens them anew */
	struct conf_listen	 listen[CONF_MAX_ADMIN_LISTEN];
	size_t			 nlisten;
	char			*cert, *key;		/* PEM texts; NULL: plain HTTP */
};

static int
admin_is_loopback(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a) || (util_addr_is_v4(a) && a->s6_addr[12] == 127);
}

/* 0 if every admin_listen address is a LAN interface's or loopback; else -1, each one said. */
static int
admin_check_addrs(const struct pg_ctx *ctx)
{
	const struct pg_config *c = ctx->cfg;
	char a[INET6_ADDRSTRLEN], lans[160] = "";
	size_t i, n;
	int rc = 0;

	for (i = 0, n = 0; i < c->nlan; i++)
		n += (size_t)snprintf(lans + n, n < sizeof(lans) ? sizeof(lans) - n : 0, "%s%s",
		    i ? ", " : "", c->lan_interface[i]);
	for (i = 0; i < c->nadmin_listen; i++) {
		const struct conf_listen *l = &c->admin_listen[i];

		if (admin_is_loopback(&l->addr) || netif_is_lan_local(ctx->netif, &l->addr))
			continue;
		util_addr_str(&l->addr, a, sizeof(a));
		log_warnx("%s:%u: admin_listen: %s is %s, not an address of a lan_interface "
		    "(%s) nor a loopback one: the admin server listens on the LAN side only",
		    c->path, l->line, a, netif_is_own(ctx->netif, &l->addr) ?
		    "this gateway's address on another interface (the WAN?)" :
		    "no address of this gateway", lans[0] ? lans : "none configured");
		rc = -1;
	}
	return rc;
}

/* A PEM file whole (at most 64 KiB), or NULL after logging why; "" for no path. */
static char *
admin_read_pem(const char *key, const char *path)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		log_warn("admin: %s %s", key, path);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ADMIN_PEM_MAX) {
		log_warnx("admin: %s %s is not a PEM file of at most %d bytes", key, path,
		    ADMIN_PEM_MAX);
		close(fd);
		return NULL;
	}
	buf = xcalloc(1, (size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		log_warn("admin: cannot read %s %s", key, path);
		free(buf);
		return NULL;
	}
	return buf;
}

static void
admin_free_pems(char *cert, char *key)
{
	free(cert);
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
}

/* The TLS files of the config into *cert and *key (both NULL: none); 0, or -1 after logging. */
static int
admin_load_pems(const struct pg_config *c, char **cert, char **key)
{
	*cert = *key = NULL;
	if (c->admin_tls_cert == NULL)
		return 0;
	*cert = admin_read_pem("admin_tls_cert", c->admin_tls_cert);
	*key = admin_read_pem("admin_tls_key", c->admin_tls_key);
	if (*cert != NULL && *key != NULL)
		return 0;
	admin_free_pems(*cert, *key);
	*cert = *key = NULL;
	return -1;
}

/* A server listening on the config's addresses with these PEMs (kept by the caller). */
static struct admin_http *
admin_open(struct pg_ctx *ctx, struct admin *ad, const char *cert, const char *key)
{
	struct admin_http *h = admin_http_new(ctx, ad->auth, admin_routes,
	    PG_NELEM(admin_routes), &ad->api);
	struct admin_listen l;
	size_t i;

	for (i = 0; i < ctx->cfg->nadmin_listen; i++) {
		l.addr = ctx->cfg->admin_listen[i].addr;
		l.port = ctx->cfg->admin_listen[i].port;
		l.cert_pem = cert;
		l.key_pem = key;
		if (admin_http_listen(h, &l) == -1) {
			admin_http_free(h);
			return NULL;
		}
	}
	return h;
}

static void
admin_configure_auth(const struct pg_config *c, struct admin *ad)
{
	admin_auth_configure(ad->auth, c->admin_password_file, c->admin_metrics_token_file,
	    c->admin_session_idle);
}

static void
admin_free(struct admin *ad)
{
	if (ad == NULL)
		return;
	admin_http_free(ad->http);
	admin_auth_free(ad->auth);
	admin_free_pems(ad->cert, ad->key);
	free(ad);
}

int
admin_init(struct pg_ctx *ctx, const struct ctl_hooks *hooks)
{
	const struct pg_config *c = ctx->cfg;
	struct admin *ad;

	ctx->admin = NULL;
	if (c->nadmin_listen == 0)
		return 0;
	if (admin_check_addrs(ctx) == -1)
		return -1;
	ad = xcalloc(1, sizeof(*ad));
	ad->api.hooks = hooks;
	if (admin_load_pems(c, &ad->cert, &ad->key) == -1) {
		admin_free(ad);
		return -1;
	}
	ad->auth = admin_auth_new(&ctx->clock);
	admin_configure_auth(c, ad);
	if ((ad->http = admin_open(ctx, ad, ad->cert, ad->key)) == NULL) {
		admin_free(ad);
		return -1;
	}
	ad->api.http = ad->http;
	memcpy(ad->listen, c->admin_listen, sizeof(ad->listen));
	ad->nlisten = c->nadmin_listen;
	ctx->admin = ad;
	return 0;
}

/* 1 if the listeners as configured now differ from those open (lines aside). */
static int
admin_listen_changed(const struct admin *ad, const struct pg_config *c, const char *cert,
    const char *key)
{
	size_t i;

	if (ad->nlisten != c->nadmin_listen || (ad->cert == NULL) != (cert == NULL) ||
	    (cert != NULL && (strcmp(ad->cert, cert) != 0 || strcmp(ad->key, key) != 0)))
		return 1;
	for (i = 0; i < ad->nlisten; i++)
		if (memcmp(&ad->listen[i].addr, &c->admin_listen[i].addr, sizeof(struct in6_addr)) ||
		    ad->listen[i].port != c->admin_listen[i].port)
			return 1;
	return 0;
}

/* Open the new listeners (the old ones closed first: they may hold the same ports). */
static void
admin_reopen(struct pg_ctx *ctx, struct admin *ad, char *cert, char *key)
{
	admin_http_free(ad->http);
	ad->http = ad->api.http = NULL;
	admin_free_pems(ad->cert, ad->key);
	ad->cert = cert;
	ad->key = key;
	memcpy(ad->listen, ctx->cfg->admin_listen, sizeof(ad->listen));
	ad->nlisten = ctx->cfg->nadmin_listen;
	if ((ad->http = admin_open(ctx, ad, cert, key)) == NULL)
		log_warnx("reload: the admin server is off until its listeners can be opened "
		    "(the next reload tries again)");
	ad->api.http = ad->http;
}

void
admin_reload(struct pg_ctx *ctx, const struct ctl_hooks *hooks)
{
	struct admin *ad = ctx->admin;
	char *cert, *key;

	if (ctx->cfg->nadmin_listen == 0 || ad == NULL) {
		admin_shutdown(ctx);
		if (ctx->cfg->nadmin_listen > 0 && admin_init(ctx, hooks) == -1)
			log_warnx("reload: the admin server did not start");
		return;
	}
	admin_configure_auth(ctx->cfg, ad);
	if (admin_load_pems(ctx->cfg, &cert, &key) == -1) {
		log_warnx("reload: the TLS files are not usable; the admin server keeps its "
		    "listeners");
		return;
	}
	if (admin_check_addrs(ctx) == -1) {
		admin_free_pems(cert, key);
		log_warnx("reload: admin_listen is not usable; the admin server keeps its "
		    "listeners");
		return;
	}
	if (ad->http != NULL && !admin_listen_changed(ad, ctx->cfg, cert, key)) {
		admin_free_pems(cert, key);
		return;
	}
	admin_reopen(ctx, ad, cert, key);
}

void
admin_shutdown(struct pg_ctx *ctx)
{
	admin_free(ctx->admin);
	ctx->admin = NULL;
}
