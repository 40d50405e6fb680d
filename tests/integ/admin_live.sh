#!/bin/bash
# admin_live.sh - the admin server's routes beyond the control verbs, in the namespace lab:
# the panel's files (embedded, no external resources, the security headers); /metrics with
# the bearer token, checked by promtool and scraped by a real Prometheus whose PromQL answer
# is the number of UPnP mappings upnpc made; the event stream (Server-Sent Events) seeing
# those mappings come and go, and resuming by Last-Event-ID; the history; the diagnosis.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
for c in curl upnpc prometheus promtool; do
	command -v $c >/dev/null || skip "needs $c"
done
lab_up
PORT=8088
PW='correct horse battery staple'
conf=$LAB_DIR/pg.conf
lab_conf "$conf" "admin_listen = $GW_LAN_IP:$PORT" "admin_password_file = $LAB_DIR/pw" \
	"admin_metrics_token_file = $LAB_DIR/token"
echo "$PW" | "$PORTGATECTL" passwd -f "$conf" >/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$LAB_DIR/token"
chmod 600 "$LAB_DIR/token"
TOKEN=$(cat "$LAB_DIR/token")
check "portgated starts with the admin server" lab_start_daemon "$conf"
BASE=http://$GW_LAN_IP:$PORT
# cb ARGS...: curl from LAN host B (the admin's machine)
cb() { timeout 15 ip netns exec "$HB" curl -sS "$@"; }
code() { cb -o /dev/null -w '%{http_code}' "$@"; }

echo "the page"
cb -D "$LAB_DIR/h" -o "$LAB_DIR/index.html" "$BASE/"
check_out "GET / is the page, no login needed" "HTTP/1.1 200" cat "$LAB_DIR/h"
check_out "... as HTML" "Content-Type: text/html; charset=utf-8" cat "$LAB_DIR/h"
check_out "... with Content-Security-Policy default-src 'self'" "Content-Security-Policy: default-src 'self'" cat "$LAB_DIR/h"
check_out "... and X-Frame-Options: DENY" "X-Frame-Options: DENY" cat "$LAB_DIR/h"
check_out "... it is the panel" "<title>portgate</title>" cat "$LAB_DIR/index.html"
check_not "... with no inline script" grep -Eq '<script>|<script [^>]*>[^<]' "$LAB_DIR/index.html"
check_not "... and no inline style attribute" grep -q ' style=' "$LAB_DIR/index.html"
for f in app.js style.css favicon.svg; do
	check_out "GET /$f" 200 code "$BASE/$f"
done
cb -o "$LAB_DIR/app.js" "$BASE/app.js"
if grep -Eo "(https?:)?//[a-zA-Z0-9.-]+" "$LAB_DIR/index.html" "$LAB_DIR/app.js" | grep -v "//www.w3.org$" | grep -q .; then
	fail "the page names no other site (no CDN, fonts or scripts from elsewhere)"
else
	pass "the page names no other site (no CDN, fonts or scripts from elsewhere)"
fi
check_not "the script never writes markup (innerHTML, document.write)" grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' "$LAB_DIR/app.js"
check_out "an unknown file is 404" 404 code "$BASE/nope.html"
check_out "... as a JSON error" '{"error":"no such page"}' cb "$BASE/nope.html"

echo "metrics"
check_out "GET /metrics without credentials is 401" 401 code "$BASE/metrics"
check_out "... with a wrong token too" 401 code -H "Authorization: Bearer x$TOKEN" "$BASE/metrics"
cb -D "$LAB_DIR/h" -o "$LAB_DIR/m0" -H "Authorization: Bearer $TOKEN" "$BASE/metrics"
check_out "with the bearer token: 200" "HTTP/1.1 200" cat "$LAB_DIR/h"
check_out "... in the Prometheus text format" "Content-Type: text/plain; version=0.0.4" cat "$LAB_DIR/h"
check "promtool check metrics passes" sh -c "promtool check metrics < '$LAB_DIR/m0'"
check_out "the bearer token cannot write (403)" 403 code -X POST -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' -d '{"source":"upnp"}' "$BASE/api/v1/flush"

echo "events"
# a stream from B with the token, kept open while the mappings come and go
ip netns exec "$HB" timeout 20 curl -sSN -H "Authorization: Bearer $TOKEN" \
	"$BASE/api/v1/events" > "$LAB_DIR/sse" 2>&1 &
sse=$!
sleep 1
check_out "the stream starts (text/event-stream)" "retry: 2000" cat "$LAB_DIR/sse"
# -i: the lab's WAN address is a documentation one, which upnpc calls "not connected"
out=$(timeout 20 ip netns exec "$HA" upnpc -i -e "live test" -r 5101 tcp 5102 udp 5103 tcp 2>&1)
echo "$out" | grep -q "external .*:5103 TCP is redirected" && pass "upnpc (SSDP discovery) maps 3 ports" ||
	{ fail "upnpc maps 3 ports"; echo "$out" | tail -5; }
wait_for 5 grep -q '"external_port":5103' "$LAB_DIR/sse" && pass "their mapping.added events arrive on the stream" ||
	fail "no mapping.added event for 5103"
check_out "... one SSE message each: an id, then the event's JSON" 'data: {"seq":' cat "$LAB_DIR/sse"
n_added=$(grep -c '"type":"mapping.added"' "$LAB_DIR/sse")
[ "$n_added" = 3 ] && pass "three mapping.added events" || fail "$n_added mapping.added events"
last=$(grep -o '^id: [0-9]*' "$LAB_DIR/sse" | tail -2 | head -1 | cut -d' ' -f2)

echo "a real Prometheus scrapes /metrics"
cat > "$LAB_DIR/prom.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: portgate
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: $LAB_DIR/token
    static_configs:
      - targets: ['$GW_LAN_IP:$PORT']
EOF
ip netns exec "$HB" prometheus --config.file="$LAB_DIR/prom.yml" \
	--storage.tsdb.path="$LAB_DIR/tsdb" --web.listen-address=127.0.0.1:9090 \
	> "$LAB_DIR/prom.log" 2>&1 &
prom=$!
q() { ip netns exec "$HB" curl -sS --max-time 3 -G "http://127.0.0.1:9090/api/v1/query" \
	--data-urlencode "query=$1" 2>/dev/null; }
val=
for i in $(seq 60); do
	val=$(q 'sum(portgate_mappings{source="upnp"})' | grep -o '"value":\[[0-9.]*,"[0-9]*"\]' | grep -o '"[0-9]*"\]' | tr -d '"]')
	[ -n "$val" ] && break
	sleep 0.5
done
[ "$val" = 3 ] && pass "PromQL sum(portgate_mappings{source=\"upnp\"}) is 3, the mappings upnpc made" ||
	{ fail "PromQL answered '$val' for the UPnP mappings"; tail -5 "$LAB_DIR/prom.log"; }
up=$(q 'up{job="portgate"}' | grep -o '"value":\[[0-9.]*,"[0-9]*"\]' | grep -o '"[0-9]*"\]' | tr -d '"]')
[ "$up" = 1 ] && pass "Prometheus sees the target up (the token authorized it)" || fail "up is '$up'"
kill $prom 2>/dev/null; wait $prom 2>/dev/null

echo "the stream goes on; a client resumes by Last-Event-ID"
timeout 20 ip netns exec "$HA" upnpc -i -d 5103 tcp >/dev/null 2>&1
wait_for 5 grep -q '"type":"mapping.deleted"' "$LAB_DIR/sse" && pass "the delete arrives as mapping.deleted" ||
	fail "no mapping.deleted event"
kill $sse 2>/dev/null; wait $sse 2>/dev/null
cb -N --max-time 2 -H "Authorization: Bearer $TOKEN" -H "Last-Event-ID: $last" \
	"$BASE/api/v1/events" > "$LAB_DIR/sse2" 2>/dev/null
first=$(grep -o '^id: [0-9]*' "$LAB_DIR/sse2" | head -1 | cut -d' ' -f2)
[ -n "$first" ] && [ "$first" = $((last + 1)) ] && pass "resumed after event $last: the next is $first" ||
	fail "resumed after $last with '$first'"
check_out "... and the kept events come again (the last add, the delete)" '"type":"mapping.deleted"' cat "$LAB_DIR/sse2"
check_out "the stream without credentials is 401" 401 code --max-time 2 "$BASE/api/v1/events"

echo "a stream lasts as long as the session that opened it"
cb -c "$LAB_DIR/jar" -H 'Content-Type: application/json' -d "{\"password\":\"$PW\"}" \
	"$BASE/api/v1/login" > "$LAB_DIR/login"
csrf=$(sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p' "$LAB_DIR/login")
ip netns exec "$HB" timeout 20 curl -sSN -b "$LAB_DIR/jar" "$BASE/api/v1/events" \
	> "$LAB_DIR/sse3" 2>&1 &
sse=$!
sleep 0.5
timeout 20 ip netns exec "$HA" upnpc -i -e "while logged in" -r 5104 tcp >/dev/null 2>&1
wait_for 5 grep -q '"external_port":5104' "$LAB_DIR/sse3" && pass "a session's stream gets events" ||
	fail "no event on the session's stream"
check_out "logging out" 200 code -b "$LAB_DIR/jar" -X POST -H "X-CSRF-Token: $csrf" "$BASE/api/v1/logout"
timeout 20 ip netns exec "$HA" upnpc -i -e "after logout" -r 5105 tcp >/dev/null 2>&1
if wait_for 5 sh -c "! kill -0 $sse 2>/dev/null"; then
	pass "after the logout the stream ends at the next event"
else
	fail "the stream outlived its session"; kill $sse 2>/dev/null
fi
wait $sse 2>/dev/null
check_not "... which it does not carry" grep -q '"external_port":5105' "$LAB_DIR/sse3"

echo "history and the diagnosis"
check_out "GET /api/v1/history: the samples" '"samples":[{"time":' cb -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/history"
in_a sh -c "socat -T5 TCP-LISTEN:5101,reuseaddr,fork SYSTEM:'echo up' >/dev/null 2>&1 &"
sleep 0.3
out=$(cb --max-time 15 -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/check?proto=tcp&port=5101&wait=1")
check_out "GET /api/v1/check for a mapping whose host listens: reachable" '"verdict":"reachable"' echo "$out"
out=$(cb --max-time 15 -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/check?proto=tcp&port=5999&wait=1")
check_out "... for a port nobody holds: no_mapping" '"verdict":"no_mapping"' echo "$out"
check_out "... a bad port is 400" 400 code -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/check?proto=tcp&port=0"
check_out "... with the reason" 'check needs proto=tcp or udp and port=1-65535' cb -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/check?proto=sctp&port=1"
check "the daemon is still up" pgctl status
finish
