/*
 * test_admin.c - the admin server's parts: the JSON body parser, the
 * password file, sessions and the login rate limit (on a fake clock), and
 * the HTTP server on loopback with a route table of this test's own (so
 * the streaming and holding primitives are proven without a route of
 * theirs in the daemon's table).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_auth.h"
#include "admin/admin_http.h"
#include "admin/admin_json.h"
#include "conf.h"
#include "daemon.h"
#include "fw/fw_mem.h"
#include "mtable.h"
#include "log.h"
#include "testutil.h"
#include "util.h"

/* ---- the JSON body parser ---- */

static int
jparse(struct admin_json *j, const char *text, char *err, size_t errlen)
{
	return admin_json_parse(j, text, strlen(text), err, errlen);
}

#define CHECK_JSON_BAD(text, why) do { char _e[200]; tu_checks++; \
	if (jparse(&j, (text), _e, sizeof(_e)) != -1 || strstr(_e, (why)) == NULL) { \
	tu_failures++; fprintf(stderr, "%s:%d: %s: wanted an error with \"%s\", got \"%s\"\n", \
	__FILE__, __LINE__, (text), (why), _e); } } while (0)

static void
test_json(void)
{
	static struct admin_json j;
	const struct admin_json_field *f;
	char err[200], big[ADMIN_JSON_MAX + 64];
	struct evbuffer *b;
	size_t i, n;

	CHECK_EQ(jparse(&j, " { \"proto\" : \"tcp\", \"port\":8080,\"on\":true,\"off\":false ,"
	    "\"neg\":-5,\"z\":0,\"e\":\"\"}\r\n", err, sizeof(err)), 0);
	CHECK_EQ(j.n, 7);
	f = admin_json_get(&j, "proto");
	CHECK(f != NULL && f->type == ADMIN_JSON_STRING && strcmp(f->str, "tcp") == 0 && f->len == 3);
	f = admin_json_get(&j, "port");
	CHECK(f != NULL && f->type == ADMIN_JSON_INT && f->num == 8080);
	CHECK(admin_json_get(&j, "on")->type == ADMIN_JSON_BOOL && admin_json_get(&j, "on")->num == 1);
	CHECK(admin_json_get(&j, "off")->num == 0);
	CHECK(admin_json_get(&j, "neg")->num == -5);
	CHECK(admin_json_get(&j, "e")->len == 0);
	CHECK(admin_json_get(&j, "missing") == NULL);
	CHECK_EQ(jparse(&j, "{}", err, sizeof(err)), 0);
	CHECK_EQ(j.n, 0);
	/* escapes decode to UTF-8, pairs whole */
	CHECK_EQ(jparse(&j, "{\"d\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/\"}", err,
	    sizeof(err)), 0);
	CHECK_STR(admin_json_get(&j, "d")->str, "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ /");
	CHECK_EQ(jparse(&j, "{\"n\":9223372036854775807,\"m\":-9223372036854775808}", err,
	    sizeof(err)), 0);
	CHECK(admin_json_get(&j, "n")->num == INT64_MAX);
	CHECK(admin_json_get(&j, "m")->num == INT64_MIN);

	CHECK_JSON_BAD("", "a JSON object was expected");
	CHECK_JSON_BAD("[1]", "a JSON object was expected");
	CHECK_JSON_BAD("{\"a\":1", "',' or '}' was expected");
	CHECK_JSON_BAD("{\"a\":1,}", "a string was expected");
	CHECK_JSON_BAD("{\"a\":1} x", "text after the object");
	CHECK_JSON_BAD("{\"a\":1}{}", "text after the object");
	CHECK_JSON_BAD("{\"a\":1,\"a\":2}", "duplicate key 'a'");
	CHECK_JSON_BAD("{\"a\":{\"b\":1}}", "nested objects and arrays");
	CHECK_JSON_BAD("{\"a\":[1]}", "nested objects and arrays");
	CHECK_JSON_BAD("{\"a\":null}", "null is not accepted");
	CHECK_JSON_BAD("{\"a\":1.5}", "only whole numbers");
	CHECK_JSON_BAD("{\"a\":1e3}", "only whole numbers");
	CHECK_JSON_BAD("{\"a\":01}", "leading zero");
	CHECK_JSON_BAD("{\"a\":-}", "a value was expected");
	CHECK_JSON_BAD("{\"a\":tru}", "a value was expected");
	CHECK_JSON_BAD("{\"a\":9223372036854775808}", "out of range");
	CHECK_JSON_BAD("{\"a\":-9223372036854775809}", "out of range");
	CHECK_JSON_BAD("{\"a\":\"x\ny\"}", "control character");
	CHECK_JSON_BAD("{\"a\":\"x\\ny\"}", "control character");
	CHECK_JSON_BAD("{\"a\":\"\\u0000\"}", "control character");
	CHECK_JSON_BAD("{\"a\":\"\\u007f\"}", "control character");
	CHECK_JSON_BAD("{\"a\":\"\\u0085\"}", "control character");
	CHECK_JSON_BAD("{\"a\":\"\xc2\x85\"}", "control character");
	CHECK_JSON_BAD("{\"a\":\"\xff\"}", "not valid UTF-8");
	CHECK_JSON_BAD("{\"a\":\"\xc0\xaf\"}", "not valid UTF-8");
	CHECK_JSON_BAD("{\"a\":\"\\ud800\"}", "without its low one");
	CHECK_JSON_BAD("{\"a\":\"\\udc00\"}", "lone low surrogate");
	CHECK_JSON_BAD("{\"a\":\"\\x41\"}", "unknown escape");
	CHECK_JSON_BAD("{\"a\":\"\\u12\"}", "four hex digits");
	CHECK_JSON_BAD("{\"a\":\"open", "does not end");
	CHECK_JSON_BAD("{\"\":1}", "a key of 1 to 64 bytes");
	CHECK_JSON_BAD("{\"a\" 1}", "':' was expected");
	CHECK_JSON_BAD("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,"
	    "\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17}",
	    "more than 16 members");
	/* the largest body: one string filling it decodes into the store */
	n = (size_t)snprintf(big, sizeof(big), "{\"a\":\"");
	for (i = n; i < ADMIN_JSON_MAX - 2; i++)
		big[i] = 'x';
	memcpy(big + i, "\"}", 3);
	CHECK_EQ(admin_json_parse(&j, big, strlen(big), err, sizeof(err)), 0);
	CHECK_EQ(admin_json_get(&j, "a")->len, ADMIN_JSON_MAX - 2 - n);
	big[i] = 'x';
	memcpy(big + i + 1, "\"}", 3);
	CHECK_EQ(admin_json_parse(&j, big, strlen(big), err, sizeof(err)), -1);
	CHECK(strstr(err, "larger than 8192 bytes") != NULL);

	/* strings out: always JSON, whatever the bytes */
	b = evbuffer_new();
	util_json_str(b, "a\"b\\c\n\x01\xff\xe2\x80\xa8" "d", 12);
	evbuffer_add(b, "", 1);
	CHECK_STR((const char *)evbuffer_pullup(b, -1),
	    "\"a\\\"b\\\\c\\u000a\\u0001\\ufffd\\u2028d\"");
	evbuffer_free(b);
}

/* ---- passwords, sessions, the rate limit ---- */

static struct fake_clock fc = { 1000000 };

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, 0600);
}

static void
test_auth(const char *dir)
{
	char pwf[256], tokf[256], hash[ADMIN_PW_HASH_MAX], err[256], old[256];
	struct pg_clock clk = tu_fake_clock(&fc);
	struct admin_auth *a = admin_auth_new(&clk);
	struct admin_session *s, *s2;
	struct in6_addr c1, c2, c3;
	struct stat st;
	unsigned retry;
	int expired, i;

	snprintf(pwf, sizeof(pwf), "%s/pw", dir);
	snprintf(tokf, sizeof(tokf), "%s/token", dir);
	CHECK_EQ(admin_pw_hash("correct horse", hash, sizeof(hash), err, sizeof(err)), 0);
	CHECK(strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$6$", 3) == 0);
	CHECK(admin_pw_check(hash, "correct horse"));
	CHECK(!admin_pw_check(hash, "correct horsE"));
	CHECK(!admin_pw_check("", "x"));
	CHECK(!admin_pw_check("!", "x"));
	CHECK_EQ(admin_pw_write(pwf, hash, err, sizeof(err)), 0);
	CHECK(stat(pwf, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(admin_ct_equal("abc", 3, "abc", 3));
	CHECK(!admin_ct_equal("abc", 3, "abd", 3));
	CHECK(!admin_ct_equal("abc", 3, "ab", 2));
	CHECK(!admin_ct_equal("abc", 3, "", 0));

	util_parse_addr("192.0.2.10", &c1);
	util_parse_addr("192.0.2.11", &c2);
	util_parse_addr("2001:db8:1::10", &c3);
	CHECK_EQ(admin_auth_login(a, &c1, "correct horse", &s, &retry), ADMIN_LOGIN_NOPASS);
	write_file(tokf, "0123456789abcdef-token\n");
	admin_auth_configure(a, pwf, tokf, 60);
	CHECK_EQ(admin_auth_idle(a), 60);

	/* five failures a minute, then 429 even for the right password; others are not held */
	for (i = 0; i < ADMIN_LOGIN_FAILS; i++)
		CHECK_EQ(admin_auth_login(a, &c1, "guess", &s, &retry), ADMIN_LOGIN_WRONG);
	CHECK_EQ(admin_auth_login(a, &c1, "correct horse", &s, &retry), ADMIN_LOGIN_LIMITED);
	CHECK(retry >= 59 && retry <= 60);
	fc.now += 30000;
	CHECK_EQ(admin_auth_login(a, &c1, "correct horse", &s, &retry), ADMIN_LOGIN_LIMITED);
	CHECK(retry >= 29 && retry <= 30);
	CHECK_EQ(admin_auth_login(a, &c2, "correct horse", &s, &retry), ADMIN_LOGIN_OK);
	fc.now += 30000;
	CHECK_EQ(admin_auth_login(a, &c1, "correct horse", &s, &retry), ADMIN_LOGIN_OK);
	CHECK(s != NULL && strlen(admin_session_id(s)) == ADMIN_ID_HEX &&
	    strlen(admin_session_csrf(s)) == ADMIN_ID_HEX);
	CHECK(strcmp(admin_session_id(s), admin_session_csrf(s)) != 0);
	/* the session, its CSRF token, its idle end */
	CHECK(admin_auth_session(a, admin_session_id(s), &expired) == s && !expired);
	CHECK(admin_auth_csrf_ok(s, admin_session_csrf(s)));
	CHECK(!admin_auth_csrf_ok(s, admin_session_id(s)));
	CHECK(!admin_auth_csrf_ok(s, NULL));
	CHECK(admin_auth_session(a, "0123456789abcdef0123456789abcdef", &expired) == NULL &&
	    !expired);
	CHECK(admin_auth_session(a, "short", &expired) == NULL);
	fc.now += 59000;
	CHECK(admin_auth_session(a, admin_session_id(s), &expired) == s);	/* used: restarts */
	fc.now += 59000;
	snprintf(old, sizeof(old), "%s", admin_session_id(s));
	CHECK(admin_auth_session(a, old, &expired) == s);
	fc.now += 60000;
	CHECK(admin_auth_session(a, old, &expired) == NULL && expired);
	CHECK(admin_auth_session(a, old, &expired) == NULL && !expired);	/* gone now */
	/* logout; a new password ends every session */
	CHECK_EQ(admin_auth_login(a, &c3, "correct horse", &s, &retry), ADMIN_LOGIN_OK);
	snprintf(old, sizeof(old), "%s", admin_session_id(s));
	admin_auth_logout(a, s);
	CHECK(admin_auth_session(a, old, &expired) == NULL);
	CHECK_EQ(admin_auth_login(a, &c3, "correct horse", &s, &retry), ADMIN_LOGIN_OK);
	CHECK_EQ(admin_auth_login(a, &c2, "correct horse", &s2, &retry), ADMIN_LOGIN_OK);
	snprintf(old, sizeof(old), "%s", admin_session_id(s));
	CHECK_EQ(admin_pw_hash("battery staple", hash, sizeof(hash), err, sizeof(err)), 0);
	CHECK_EQ(admin_pw_write(pwf, hash, err, sizeof(err)), 0);
	CHECK(admin_auth_session(a, old, &expired) == NULL);
	CHECK_EQ(admin_auth_login(a, &c3, "correct horse", &s, &retry), ADMIN_LOGIN_WRONG);
	CHECK_EQ(admin_auth_login(a, &c3, "battery staple", &s, &retry), ADMIN_LOGIN_OK);
	/* the bearer token: the file's first line, re-read when it changes */
	CHECK(admin_auth_bearer_ok(a, "0123456789abcdef-token"));
	CHECK(!admin_auth_bearer_ok(a, "0123456789abcdef-toke"));
	CHECK(!admin_auth_bearer_ok(a, ""));
	CHECK(!admin_auth_bearer_ok(a, NULL));
	write_file(tokf, "another-token-0123456789\n");
	CHECK(!admin_auth_bearer_ok(a, "0123456789abcdef-token"));
	CHECK(admin_auth_bearer_ok(a, "another-token-0123456789"));
	unlink(tokf);
	admin_auth_reload(a);
	CHECK(!admin_auth_bearer_ok(a, "another-token-0123456789"));
	/* the global budget of password checks: 20 per 10 s, whoever asks */
	fc.now += 120000;
	for (i = 0; i < ADMIN_LOGIN_GLOBAL; i++) {
		struct in6_addr c = c1;

		c.s6_addr[15] = (uint8_t)(20 + i);
		CHECK_EQ(admin_auth_login(a, &c, "nope", &s, &retry), ADMIN_LOGIN_WRONG);
	}
	CHECK_EQ(admin_auth_login(a, &c2, "battery staple", &s, &retry), ADMIN_LOGIN_LIMITED);
	CHECK(retry >= 1 && retry <= 10);
	fc.now += 10000;
	CHECK_EQ(admin_auth_login(a, &c2, "battery staple", &s, &retry), ADMIN_LOGIN_OK);
	admin_auth_free(a);
}

/* ---- the HTTP server, on loopback, with this test's routes ---- */

static struct pg_ctx ctx;
static uint16_t port;
static struct {
	struct admin_stream	*stream;
	int			 gone;
	struct admin_req	*held;
	int			 closed;
	struct event		*resume;
} t;

static void
r_hello(struct admin_req *rq)
{
	admin_reply(rq, 200, "text/plain", "hello", 5);
}

static void
r_echo(struct admin_req *rq)
{
	const struct admin_json_field *f = admin_json_get(admin_req_body(rq), "x");
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "{\"x\":");
	util_json_str(b, f != NULL && f->type == ADMIN_JSON_STRING ? f->str : "", f != NULL ?
	    f->len : 0);
	evbuffer_add_printf(b, ",\"seg\":\"%s\"}", admin_req_seg(rq, 0) ? admin_req_seg(rq, 0) :
	    "");
	admin_reply_json(rq, 201, b);
	evbuffer_free(b);
}

static void
gone_cb(void *arg)
{
	(void)arg;
	t.gone++;
	t.stream = NULL;
}

static void
r_stream(struct admin_req *rq)
{
	t.stream = admin_reply_stream(rq, "text/event-stream", gone_cb, NULL);
}

static void
held_closed(void *arg)
{
	(void)arg;
	t.closed++;
	t.held = NULL;
}

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	admin_reply(t.held, 200, "text/plain", "held", 4);
	admin_req_resume(t.held);
}

static void
r_hold(struct admin_req *rq)
{
	struct timeval tv = { 0, 50000 };

	t.held = rq;
	admin_req_suspend(rq, held_closed, NULL);
	evtimer_add(t.resume, &tv);
}

static void
r_seg(struct admin_req *rq)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%s|%s|%s", admin_req_seg(rq, 0), admin_req_seg(rq, 1),
	    admin_req_query(rq, "q") ? admin_req_query(rq, "q") : "-");

	admin_reply(rq, 200, "text/plain", buf, (size_t)n);
}

static const struct admin_route test_routes[] = {
	{ "GET", "/t/hello", ADMIN_OPEN, 0, r_hello },
	{ "POST", "/t/echo/*", ADMIN_OPEN, 1, r_echo },
	{ "GET", "/t/stream", ADMIN_OPEN, 0, r_stream },
	{ "GET", "/t/hold", ADMIN_OPEN, 0, r_hold },
	{ "GET", "/t/read", ADMIN_READ, 0, r_hello },
	{ "POST", "/t/write", ADMIN_SESSION, 0, r_hello },
	{ "GET", "/t/seg/*/x/*", ADMIN_OPEN, 0, r_seg },
};

/* A client connected to the server, non-blocking; -1 if it cannot. */
static int
client(int rcvbuf)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void
loop_ms(int ms)
{
	struct timespec ts = { 0, 5 * 1000000 };
	int i;

	for (i = 0; i < ms / 5; i++) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		nanosleep(&ts, NULL);
	}
}

/* Run the loop, reading fd into buf, until want is in it (or EOF, or 2 s); 1 if it is. */
static int
read_until(int fd, char *buf, size_t len, size_t *have, const char *want, int *eof)
{
	struct timespec ts = { 0, 2 * 1000000 };
	ssize_t n = -1;
	int i;

	*eof = 0;
	for (i = 0; i < 1000; i++) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		while (*have + 1 < len && (n = recv(fd, buf + *have, len - *have - 1, 0)) > 0)
			*have += (size_t)n;
		buf[*have] = '\0';
		if (n == 0)
			*eof = 1;
		if ((want != NULL && strstr(buf, want) != NULL) || *eof)
			break;
		nanosleep(&ts, NULL);
	}
	return want != NULL && strstr(buf, want) != NULL;
}

/* One request on a new connection; the answer (static buffer) as far as it came in 2 s. */
static const char *
request(const char *req)
{
	static char buf[16384];
	size_t have = 0;
	int fd = client(0), eof;

	buf[0] = '\0';
	if (fd == -1)
		return buf;
	if (send(fd, req, strlen(req), 0) != (ssize_t)strlen(req)) {
		close(fd);
		return buf;
	}
	read_until(fd, buf, sizeof(buf), &have, NULL, &eof);
	close(fd);
	return buf;
}

#define CHECK_HAS(hay, needle) do { const char *_h = (hay); tu_checks++; \
	if (strstr(_h, (needle)) == NULL) { tu_failures++; fprintf(stderr, \
	"%s:%d: \"%s\" not in:\n%s\n", __FILE__, __LINE__, (needle), _h); } } while (0)

static void
test_http_routes(void)
{
	char req[512];
	const char *r;

	r = request("GET /t/hello HTTP/1.0\r\n\r\n");
	CHECK_HAS(r, "HTTP/1.1 200");
	CHECK_HAS(r, "\r\n\r\nhello");
	CHECK_HAS(r, "Content-Security-Policy: default-src 'self'\r\n");
	CHECK_HAS(r, "X-Frame-Options: DENY\r\n");
	CHECK_HAS(r, "X-Content-Type-Options: nosniff\r\n");
	CHECK_HAS(r, "Cache-Control: no-store\r\n");
	r = request("GET /t/hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	CHECK_HAS(r, "HTTP/1.1 200");
	snprintf(req, sizeof(req), "GET /t/hello HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
	    "Connection: close\r\n\r\n", port);
	CHECK_HAS(request(req), "HTTP/1.1 200");
	/* DNS rebinding: any other name, or an address not the listener's, is refused */
	r = request("GET /t/hello HTTP/1.1\r\nHost: attacker.example\r\n\r\n");
	CHECK_HAS(r, "HTTP/1.1 403");
	CHECK_HAS(r, "{\"error\":\"the Host header must name this gateway's address");
	CHECK_HAS(request("GET /t/hello HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n"), "HTTP/1.1 403");
	CHECK_HAS(request("GET /t/hello HTTP/1.1\r\nHost: [::1]\r\n\r\n"), "HTTP/1.1 403");
	CHECK_HAS(request("GET /t/hello HTTP/1.1\r\n\r\n"), "HTTP/1.1 4");	/* MHD: 400 */
	CHECK_HAS(request("GET /t/hello HTTP/1.1\r\nHost: localhost:99x\r\n\r\n"), "HTTP/1.1 403");
	/* routes */
	r = request("GET /t/nothing HTTP/1.0\r\n\r\n");
	CHECK_HAS(r, "HTTP/1.1 404");
	CHECK_HAS(r, "{\"error\":\"no such resource\"}");
	r = request("DELETE /t/hello HTTP/1.0\r\n\r\n");
	CHECK_HAS(r, "HTTP/1.1 405");
	CHECK_HAS(r, "Allow: GET\r\n");
	CHECK_HAS(request("HEAD /t/hello HTTP/1.0\r\n\r\n"), "HTTP/1.1 200");
	CHECK_HAS(request("GET /t/seg/a%20b/x/c?q=1 HTTP/1.0\r\n\r\n"), "\r\n\r\na b|c|1");
	CHECK_HAS(request("GET /t/seg/a/x/ HTTP/1.0\r\n\r\n"), "HTTP/1.1 404");
	CHECK_HAS(request("GET /t/seg/a/x/c/d HTTP/1.0\r\n\r\n"), "HTTP/1.1 404");
	CHECK_HAS(request("GET /t/seg/a%0a/x/c HTTP/1.0\r\n\r\n"), "HTTP/1.1 400");
	/* bodies */
	r = request("POST /t/echo/s1 HTTP/1.0\r\nContent-Type: application/json\r\n"
	    "Content-Length: 14\r\n\r\n{\"x\":\"\\u00e9\"}");
	CHECK_HAS(r, "HTTP/1.1 201");
	CHECK_HAS(r, "{\"x\":\"\xc3\xa9\",\"seg\":\"s1\"}");
	r = request("POST /t/echo/s1 HTTP/1.0\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 2\r\n\r\n{}");
	CHECK_HAS(r, "HTTP/1.1 415");
	r = request("POST /t/echo/s1 HTTP/1.0\r\nContent-Type: application/json\r\n"
	    "Content-Length: 9000\r\n\r\n{}");
	CHECK_HAS(r, "HTTP/1.1 413");
	CHECK_HAS(r, "{\"error\":\"the body is larger than 8192 bytes\"}");
	r = request("POST /t/echo/s1 HTTP/1.0\r\nContent-Type: application/json\r\n\r\n{}");
	CHECK_HAS(r, "HTTP/1.1 411");
	r = request("POST /t/echo/s1 HTTP/1.0\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 8\r\n\r\n{\"x\":1,}");
	CHECK_HAS(r, "HTTP/1.1 400");
	CHECK_HAS(r, "{\"error\":\"malformed JSON body: byte 7: a string was expected\"}");
	/* who asks */
	r = request("GET /t/read HTTP/1.0\r\n\r\n");
	CHECK_HAS(r, "HTTP/1.1 401");
	CHECK_HAS(r, "WWW-Authenticate: Bearer");
	CHECK_HAS(request("GET /t/read HTTP/1.0\r\nAuthorization: Bearer nope\r\n\r\n"),
	    "HTTP/1.1 401");
	CHECK_HAS(request("GET /t/read HTTP/1.0\r\nCookie: " ADMIN_COOKIE "=abc\r\n\r\n"),
	    "no such session");
	CHECK_HAS(request("POST /t/write HTTP/1.0\r\n\r\n"), "HTTP/1.1 401");
}

/* A held answer goes when it is resumed; a client gone before that closes it too. */
static void
test_http_hold(void)
{
	char buf[4096];
	size_t have = 0;
	int fd, eof;

	t.closed = 0;
	fd = client(0);
	send(fd, "GET /t/hold HTTP/1.1\r\nHost: localhost\r\n\r\n", 41, 0);
	loop_ms(20);
	CHECK(t.held != NULL);
	CHECK(read_until(fd, buf, sizeof(buf), &have, "\r\n\r\nheld", &eof));
	CHECK_EQ(t.closed, 1);
	/* the connection stays for the next request */
	have = 0;
	send(fd, "GET /t/hello HTTP/1.1\r\nHost: localhost\r\n\r\n", 42, 0);
	CHECK(read_until(fd, buf, sizeof(buf), &have, "\r\n\r\nhello", &eof));
	close(fd);
}

/* A stream: bytes as they are written; the client leaving; a client that never reads. */
static void
test_http_stream(void)
{
	char buf[65536], chunk[65536];
	size_t have = 0;
	int fd, eof, i, rc = 0;

	/* written bytes arrive; the client closes: gone */
	t.gone = 0;
	fd = client(0);
	send(fd, "GET /t/stream HTTP/1.1\r\nHost: localhost\r\n\r\n", 43, 0);
	loop_ms(30);
	CHECK(t.stream != NULL);
	if (t.stream == NULL)
		return;
	CHECK_EQ(admin_stream_write(t.stream, "data: one\n\n", 11), 0);
	CHECK(read_until(fd, buf, sizeof(buf), &have, "data: one\n\n", &eof));
	CHECK(strstr(buf, "Content-Type: text/event-stream\r\n") != NULL);
	CHECK(strstr(buf, "X-Frame-Options: DENY\r\n") != NULL);
	loop_ms(30);	/* idle: the connection is suspended, its socket watched */
	CHECK_EQ(admin_stream_write(t.stream, "data: two\n\n", 11), 0);
	CHECK(read_until(fd, buf, sizeof(buf), &have, "data: two\n\n", &eof));
	loop_ms(30);
	close(fd);
	for (i = 0; i < 100 && t.gone == 0; i++)
		loop_ms(10);
	CHECK_EQ(t.gone, 1);
	CHECK(t.stream == NULL);

	/* the server ends it: what was written goes, then the chunked stream's end */
	t.gone = 0;
	have = 0;
	fd = client(0);
	send(fd, "GET /t/stream HTTP/1.1\r\nHost: localhost\r\n\r\n", 43, 0);
	loop_ms(30);
	CHECK(t.stream != NULL);
	if (t.stream != NULL) {
		admin_stream_write(t.stream, "data: last\n\n", 12);
		admin_stream_end(t.stream);
		CHECK_EQ(admin_stream_write(t.stream, "x", 1), -1);
	}
	CHECK(read_until(fd, buf, sizeof(buf), &have, "data: last\n\n\r\n0\r\n\r\n", &eof));
	for (i = 0; i < 100 && t.gone == 0; i++)
		loop_ms(10);
	CHECK_EQ(t.gone, 1);
	close(fd);

	/* a client that never reads: once ADMIN_STREAM_MAX bytes wait, it is dropped */
	t.gone = 0;
	fd = client(4096);
	send(fd, "GET /t/stream HTTP/1.1\r\nHost: localhost\r\n\r\n", 43, 0);
	loop_ms(30);
	CHECK(t.stream != NULL);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 1000 && t.stream != NULL && rc == 0; i++) {
		rc = admin_stream_write(t.stream, chunk, sizeof(chunk));
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	}
	CHECK_EQ(rc, -1);
	CHECK(i < 1000);
	for (i = 0; i < 100 && t.gone == 0; i++)
		loop_ms(10);
	CHECK_EQ(t.gone, 1);
	close(fd);

	/* the server stopping ends a stream too: its gone callback runs */
	t.gone = 0;
	fd = client(0);
	send(fd, "GET /t/stream HTTP/1.1\r\nHost: localhost\r\n\r\n", 43, 0);
	loop_ms(30);
	CHECK(t.stream != NULL);
	close(fd);	/* (closed after the server stops, below) */
}

static void
test_http(const char *dir)
{
	static const char conf[] = "firewall = none\nstate_file = /tmp/x\n";
	struct pg_clock clk = tu_fake_clock(&fc);
	struct admin_auth *auth;
	struct admin_http *h;
	struct admin_listen l;
	char tokf[256];

	(void)dir;
	memset(&ctx, 0, sizeof(ctx));
	if (tu_lab_ctx(&ctx, conf, pg_clock_mono, NULL) == NULL) {
		CHECK(0);
		return;
	}
	ctx.base = event_base_new();
	t.resume = evtimer_new(ctx.base, resume_cb, NULL);
	auth = admin_auth_new(&clk);
	snprintf(tokf, sizeof(tokf), "%s/token2", dir);
	write_file(tokf, "0123456789abcdef\n");
	admin_auth_configure(auth, NULL, tokf, 60);
	h = admin_http_new(&ctx, auth, test_routes, PG_NELEM(test_routes), NULL);
	memset(&l, 0, sizeof(l));
	util_parse_addr("127.0.0.1", &l.addr);
	for (port = (uint16_t)(30000 + getpid() % 20000); port < 65000; port += 97) {
		l.port = port;
		if (admin_http_listen(h, &l) == 0)
			break;
	}
	test_http_routes();
	CHECK_HAS(request("GET /t/read HTTP/1.0\r\nAuthorization: Bearer 0123456789abcdef\r\n\r\n"),
	    "HTTP/1.1 200");
	test_http_hold();
	test_http_stream();
	admin_http_free(h);
	CHECK_EQ(t.gone, 1);
	admin_auth_free(auth);
	event_free(t.resume);
	event_base_free(ctx.base);
	tu_lab_ctx_free(&ctx);
}

/* The value of "NAME": "..." or of a header line "Name: VALUE" in an answer (static buffer). */
static const char *
answer_field(const char *ans, const char *key, const char *end)
{
	static char v[256];
	const char *p = strstr(ans, key);
	size_t n;

	v[0] = '\0';
	if (p == NULL)
		return v;
	p += strlen(key);
	n = strcspn(p, end);
	snprintf(v, sizeof(v), "%.*s", (int)(n < sizeof(v) ? n : sizeof(v) - 1), p);
	return v;
}

/*
 * The daemon's own admin server (admin.c's routes) on loopback, on the
 * in-memory firewall: a forward's answer waits for the turn's commit, and
 * a refusal by the firewall is the answer, in the CLI's words.
 */
static void
test_api(const char *dir)
{
	char conf[1024], pwf[256], hash[ADMIN_PW_HASH_MAX], err[256], req[1024], cookie[128];
	char csrf[64];
	const char *r;
	int started = -1;

	snprintf(pwf, sizeof(pwf), "%s/api.pw", dir);
	CHECK_EQ(admin_pw_hash("the api password", hash, sizeof(hash), err, sizeof(err)), 0);
	CHECK_EQ(admin_pw_write(pwf, hash, err, sizeof(err)), 0);
	for (port = (uint16_t)(30000 + (getpid() + 7) % 20000); port < 65000; port += 89) {
		snprintf(conf, sizeof(conf), "firewall = none\nstate_file = %s/api.state\n"
		    "control_socket = %s/api.sock\nadmin_listen = 127.0.0.1:%u\n"
		    "admin_password_file = %s\n", dir, dir, port, pwf);
		memset(&ctx, 0, sizeof(ctx));
		ctx.cfg = conf_parse("api.conf", conf, strlen(conf), NULL, NULL);
		ctx.base = event_base_new();
		if ((started = pg_start(&ctx)) == 0)
			break;
		pg_stop(&ctx);
		conf_free(ctx.cfg);
		event_base_free(ctx.base);
	}
	CHECK_EQ(started, 0);
	if (started != 0)
		return;
	r = request("POST /api/v1/login HTTP/1.0\r\nContent-Type: application/json\r\n"
	    "Content-Length: 31\r\n\r\n{\"password\":\"the api password\"}");
	CHECK_HAS(r, "HTTP/1.1 200");
	snprintf(cookie, sizeof(cookie), "%s", answer_field(r, "Set-Cookie: ", ";"));
	snprintf(csrf, sizeof(csrf), "%s", answer_field(r, "\"csrf_token\":\"", "\""));
	CHECK(strlen(csrf) == ADMIN_ID_HEX);
	fw_mem_inject_failure(ctx.fw, MT_TCP, 8090, EPERM);
	snprintf(req, sizeof(req), "POST /api/v1/forwards HTTP/1.0\r\nCookie: %s\r\n"
	    "X-CSRF-Token: %s\r\nContent-Type: application/json\r\nContent-Length: 68\r\n\r\n"
	    "{\"proto\":\"tcp\",\"external_port\":8090,\"internal_ip\":\"192.0.2.10\"}     ",
	    cookie, csrf);
	r = request(req);
	CHECK_HAS(r, "HTTP/1.1 500");
	CHECK_HAS(r, "{\"error\":\"firewall refused tcp 8090: Operation not permitted\"}");
	CHECK(mtable_lookup_ext(ctx.mt, MT_TCP, 8090) == NULL);	/* rolled back */
	req[strlen(req) - 34] = '1';	/* 8091 */
	r = request(req);
	CHECK_HAS(r, "HTTP/1.1 201");
	CHECK_HAS(r, "{\"ok\":true,\"message\":\"tcp 8091 -> 192.0.2.10:8091\"}");
	CHECK(mtable_lookup_ext(ctx.mt, MT_TCP, 8091) != NULL);
	CHECK_EQ(fw_mem_count(ctx.fw), 1);
	snprintf(req, sizeof(req), "GET /api/v1/forwards HTTP/1.0\r\nCookie: %s\r\n\r\n", cookie);
	CHECK_HAS(request(req), "[{\"proto\":\"tcp\",\"external_port\":8091,");
	pg_stop(&ctx);
	conf_free(ctx.cfg);
	event_base_free(ctx.base);
}

int
main(void)
{
	const char *dir = tu_tmpdir();

	log_setverbose(-2);
	test_json();
	test_auth(dir);
	test_http(dir);
	test_api(dir);
	return tu_done("test_admin");
}
