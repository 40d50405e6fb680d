#!/bin/bash
# openapi_check.sh - doc/openapi.json is the admin API's contract: held to src/admin/admin.c's
# route table (the same set of methods and paths, each with the access and body its row
# says) and to the live server in the namespace lab (tests/integ/openapi_check.py, python3's
# stdlib). Unauthenticated, every documented operation is routed and every other method or
# path is not; then every endpoint is driven with real requests from a LAN host (a forward,
# a trigger a LAN host fires, a mapping upnpc makes after finding the gateway by SSDP, IPv6
# pinholes, the diagnosis, the history, the event stream, the metrics with the bearer token,
# the panel's files) and each answer's status, Content-Type, headers and JSON body are
# checked against the file, the error answers too (401, 403, 404, 400, 405, 409, 411, 413,
# 415, 429, 503). Copies of the file with one thing wrong fail the same checks.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v python3 >/dev/null && command -v upnpc >/dev/null || skip "needs python3 and upnpc"
lab_up
SPEC=$top_srcdir/doc/openapi.json
OA=$top_srcdir/tests/integ/openapi_check.py
PORT=8088
PW='correct horse battery staple'
REC=$LAB_DIR/record
LOG=$LAB_DIR/daemon.log
conf=$LAB_DIR/pg.conf

# oa NS [OPTIONS] CMD ...: the checker in a namespace (its own cookie jar), against the LAN
# listener, with the file in $SPEC_USE (default: the repository's)
oa() { local ns=$1; shift; timeout 60 ip netns exec "$ns" python3 "$OA" --spec "${SPEC_USE:-$SPEC}" \
	--base "http://$GW_LAN_IP:$PORT" --jar "$LAB_DIR/jar-$ns" --record "$REC" --token "$TOKEN" "$@" 2>&1; }
# valid DESCRIPTION NS ARGS...: the checker finds the answers as the file says
valid() { local d=$1 out rc; shift; out=$(oa "$@"); rc=$?
	if [ $rc -eq 0 ] && ! echo "$out" | grep -q '^INVALID'; then pass "$d"; else
		fail "$d"; echo "$out" | grep -v '^\(valid\|routed\|methods\|bearer\|body\|covered\):' |
		head -20 | sed 's/^/       | /'; fi; }
# invalid DESCRIPTION NS ARGS...: with a wrong file, the checker must say INVALID
invalid() { local d=$1 out; shift; out=$(oa "$@")
	if echo "$out" | grep -q '^INVALID'; then pass "$d ($(echo "$out" | grep -m1 '^INVALID' | cut -c10-90)...)"
	else fail "$d: the checker did not notice"; echo "$out" | head -5 | sed 's/^/       | /'; fi; }
A() { oa "$HA" "$@"; }
# mutate NAME PYTHON: a copy of the file with one change (d is the document)
mutate() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2; json.dump(d, open(sys.argv[2], 'w'))" \
	"$SPEC" "$LAB_DIR/$1.json"; echo "$LAB_DIR/$1.json"; }

echo "the file"
check "doc/openapi.json is JSON" python3 -m json.tool "$SPEC"
check_out "... OpenAPI 3.0.3" '"openapi": "3.0.3"' cat "$SPEC"
out=$(python3 "$OA" --spec "$SPEC" lint 2>&1)
check_out "its schemas use only what the checker knows, and every \$ref resolves" "schemas" echo "$out"
out=$(python3 "$OA" --spec "$SPEC" routes "$top_srcdir/src/admin/admin.c" 2>&1)
if echo "$out" | grep -q INVALID; then fail "the file's operations are admin.c's routes"; echo "$out" | sed 's/^/       | /'
else pass "the file's operations are admin.c's routes, access and bodies alike ($(echo "$out" | tail -1))"; fi
sed '/admin_routes\[\] = {/a\	{ "GET", "/api/v1/secret", ADMIN_READ, 0, admin_api_status },' \
	"$top_srcdir/src/admin/admin.c" > "$LAB_DIR/admin.c"
check_out "a route added to admin.c without documenting it fails" "the server routes GET /api/v1/secret" \
	python3 "$OA" --spec "$SPEC" routes "$LAB_DIR/admin.c"

echo "start (no password yet)"
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$TOKEN" > "$LAB_DIR/token"; chmod 600 "$LAB_DIR/token"
lab_conf "$conf" "admin_listen = $GW_LAN_IP:$PORT" "admin_password_file = $LAB_DIR/pw" \
	"admin_metrics_token_file = $LAB_DIR/token" "trigger = cfg tcp:7500 open tcp:7600 idle 60"
check "portgated starts with the admin server" lab_start_daemon "$conf"
wait_for 5 grep -q "admin: HTTP on $GW_LAN_IP port $PORT" "$LOG"
valid "POST /api/v1/login before portgatectl passwd: 503 as documented" "$HA" login "$PW" --expect 503
check "portgatectl passwd" sh -c "echo '$PW' | '$PORTGATECTL' passwd -f '$conf'"

echo "unauthenticated: what is routed, and what is not"
valid "every documented operation is routed (401 where it needs credentials); every other method of its path is 405 with the documented Allow; 20 undocumented paths are 404" "$HA" probe
valid "a wrong bearer token: 401" "$HA" --no-cookie --bearer nope req GET /api/v1/mappings --expect 401
valid "a cookie of no session: 401" "$HA" --no-cookie --header "Cookie: portgate_session=0123456789abcdef0123456789abcdef" req GET /api/v1/status --expect 401
valid "a Host header naming another host: 403" "$HA" --header "Host: rebind.example:$PORT" req GET /api/v1/mappings --expect 403

echo "log in"
valid "POST /api/v1/login: 200, Session, the cookie" "$HA" login "$PW" --expect 200
valid "with the session, writes without X-CSRF-Token are 403; the bearer token reads exactly the routes the file says" "$HA" security
valid "each body's members, types and required ones are the server's" "$HA" bodies

echo "the table filled by real clients"
listen $HA tcp 80 hello-a
listen $HA tcp 9000 hello-upnp
out=$(timeout 20 ip netns exec "$HA" upnpc -i -e "upnp game" -a $A_IP 9000 9000 TCP 2>&1)
check_out "upnpc (SSDP discovery) maps tcp 9000 -> A" "is redirected to internal $A_IP:9000" echo "$out"
out=$(timeout 20 ip netns exec "$HA" upnpc -i -e "upnp game" -a $A_IP 9000 9000 TCP 2>&1)
check_out "... and again: a renewal" "is redirected to internal $A_IP:9000" echo "$out"
out=$(timeout 20 ip netns exec "$HA" upnpc -6 -i -m eth0 -A "" 0 $A_IP6 8000 6 600 2>&1)
check_out "upnpc -6 opens a pinhole (WANIPv6FirewallControl, found by SSDP)" "Pinhole ID" echo "$out"
pid=$(pgctl pinhole add tcp "[$A_IP6]:8001" --remote "$WAN_IP6" --desc "v6 & more" | sed -n 's/^pinhole \([0-9]*\):.*/\1/p')
[ -n "$pid" ] && pass "portgatectl pinhole add (with a remote): pinhole $pid" || fail "pinhole add"
valid "POST /api/v1/forwards: 201" "$HA" req POST /api/v1/forwards \
	'{"proto":"tcp","external_port":8080,"internal_ip":"'$A_IP'","internal_port":80,"description":"web <img src=x onerror=alert(1)>"}' --expect 201
valid "POST /api/v1/forwards, a range with a lease: 201" "$HA" req POST /api/v1/forwards \
	'{"proto":"udp","external_port":7000,"external_port_end":7003,"internal_ip":"'$B_IP'","lease":600}' --expect 201
valid "POST /api/v1/forwards, a 2 s lease: 201" "$HA" req POST /api/v1/forwards \
	'{"proto":"udp","external_port":7100,"internal_ip":"'$B_IP'","lease":2}' --expect 201
valid "POST /api/v1/forwards on a held port: 409" "$HA" req POST /api/v1/forwards \
	'{"proto":"tcp","external_port":9000,"internal_ip":"'$B_IP'"}' --expect 409
valid "POST /api/v1/forwards with an IPv6 address: 400" "$HA" req POST /api/v1/forwards \
	'{"proto":"tcp","external_port":8090,"internal_ip":"'$A_IP6'"}' --expect 400
check_out "the WAN peer reaches A through the forward" hello-a connect $WAN tcp $GW_WAN_IP 8080
r=$(A req GET /api/v1/mappings --expect 200)
check_out "GET /api/v1/mappings matches the file" "valid: GET" echo "$r"
check_out "... and holds the UPnP mapping" '"source":"upnp"' echo "$r"
check_out "... and the forwards" '"external_port_end":7003' echo "$r"
valid "GET /api/v1/forwards" "$HA" req GET /api/v1/forwards --expect 200
r=$(A req GET /api/v1/pinholes --expect 200)
check_out "GET /api/v1/pinholes matches the file" "valid: GET" echo "$r"
check_out "... with upnpc's pinhole and the remote of portgatectl's" "\"remote\":\"$WAN_IP6/128\"" echo "$r"
valid "GET /api/v1/status" "$HA" req GET /api/v1/status --expect 200
valid "GET /api/v1/session" "$HA" req GET /api/v1/session --expect 200
valid "GET /api/v1/history" "$HA" req GET /api/v1/history --expect 200

echo "triggers: one added here, fired by a LAN host"
in_wan socat -T 2 TCP-LISTEN:6000,reuseaddr,fork SYSTEM:"echo server" >/dev/null 2>&1 &
valid "POST /api/v1/triggers: 201" "$HA" req POST /api/v1/triggers \
	'{"name":"game","trigger":"tcp:6000","open":"tcp:6001-6002,udp:6001","idle":5}' --expect 201
valid "POST /api/v1/triggers, the same name: 409" "$HA" req POST /api/v1/triggers \
	'{"name":"game","trigger":"tcp:6100","open":"tcp:6101"}' --expect 409
valid "GET /api/v1/triggers (idle: the nulls)" "$HA" req GET /api/v1/triggers --expect 200
connect $HA tcp $WAN_IP 6000 >/dev/null
wait_for 3 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' trigger list | grep -q 'game.*active'"
connect $HB tcp $WAN_IP 6000 >/dev/null
r=$(A req GET /api/v1/triggers --expect 200)
check_out "GET /api/v1/triggers while A holds it matches the file" "valid: GET" echo "$r"
check_out "... active for A" "\"holder\":\"$A_IP\"" echo "$r"
check_out "... B refused" "\"last_refused\":\"$B_IP\"" echo "$r"
valid "GET /api/v1/mappings with the trigger's mappings" "$HA" req GET /api/v1/mappings --expect 200
valid "POST /api/v1/triggers/game/disable" "$HA" req POST /api/v1/triggers/game/disable --expect 200
valid "POST /api/v1/triggers/game/enable" "$HA" req POST /api/v1/triggers/game/enable --expect 200
valid "POST /api/v1/triggers/nosuch/enable: 404" "$HA" req POST /api/v1/triggers/nosuch/enable --expect 404
valid "POST /api/v1/triggers/nosuch/disable: 404" "$HA" req POST /api/v1/triggers/nosuch/disable --expect 404
valid "DELETE /api/v1/triggers/cfg (the config's): 403" "$HA" req DELETE /api/v1/triggers/cfg --expect 403
valid "DELETE /api/v1/triggers/nosuch: 404" "$HA" req DELETE /api/v1/triggers/nosuch --expect 404

echo "the diagnosis"
valid "GET /api/v1/check of the forward (entry and kernel)" "$HA" req GET "/api/v1/check?proto=tcp&port=8080&wait=1" --expect 200
valid "GET /api/v1/check of no mapping (the nulls)" "$HA" req GET "/api/v1/check?proto=udp&port=5999" --expect 200
valid "GET /api/v1/check without a port: 400" "$HA" req GET "/api/v1/check?proto=tcp" --expect 400
valid "GET /api/v1/check?wait=0: 400" "$HA" req GET "/api/v1/check?proto=tcp&port=80&wait=0" --expect 400

echo "metrics, for a scraper with the bearer token"
r=$(A --no-cookie --bearer "$TOKEN" req GET /metrics --expect 200)
check_out "GET /metrics with the bearer token matches the file" "valid: GET" echo "$r"
check_out "... is Prometheus text" "# TYPE portgate_mappings gauge" echo "$r"
valid "GET /api/v1/mappings with the bearer token" "$HA" --no-cookie --bearer "$TOKEN" req GET /api/v1/mappings --expect 200
valid "GET /metrics without credentials: 401" "$HA" --no-cookie req GET /metrics --expect 401

echo "the panel's files"
valid "GET /" "$HA" --no-cookie req GET / --expect 200
for f in $(sed -n 's/^ADMIN_WEB = //p' "$top_srcdir/Makefile.am"); do	# every embedded file
	valid "GET /${f#web/}" "$HA" --no-cookie req GET "/${f#web/}" --expect 200
done
valid "GET /nosuch.html: 404" "$HA" --no-cookie req GET /nosuch.html --expect 404

echo "bad requests"
F='{"proto":"tcp","external_port":8085,"internal_ip":"'$A_IP'"}'
valid "POST without X-CSRF-Token: 403" "$HA" --no-csrf req POST /api/v1/forwards "$F" --expect 403
valid "malformed JSON: 400" "$HA" req POST /api/v1/forwards '{"proto" "tcp"}' --expect 400
valid "a body too large: 413" "$HA" --size 20000 req POST /api/v1/forwards x --expect 413
valid "a body that is not JSON: 415" "$HA" --ctype text/plain req POST /api/v1/forwards "$F" --expect 415
valid "a body without Content-Length: 411" "$HA" --chunked req POST /api/v1/forwards "$F" --expect 411
valid "DELETE /api/v1/mappings/icmp/1: 400" "$HA" req DELETE /api/v1/mappings/icmp/1 --expect 400
valid "DELETE /api/v1/mappings/udp/7001 (inside a range): 400" "$HA" req DELETE /api/v1/mappings/udp/7001 --expect 400
valid "DELETE /api/v1/forwards/tcp/9000 (UPnP's): 404" "$HA" req DELETE /api/v1/forwards/tcp/9000 --expect 404
valid "DELETE /api/v1/pinholes/abc: 400" "$HA" req DELETE /api/v1/pinholes/abc --expect 400
valid "POST /api/v1/flush {source: nobody}: 400" "$HA" req POST /api/v1/flush '{"source":"nobody"}' --expect 400
for i in 1 2 3 4 5; do
	valid "B: wrong password $i of 5: 401" "$HB" login "guess $i" --expect 401
done
valid "... the 6th within a minute: 429 with Retry-After" "$HB" login "guess 6" --expect 429
valid "... the right password too" "$HB" login "$PW" --expect 429

echo "events: replayed from the start, and live"
in_gw nft delete table ip portgate
wait_for 5 sh -c "ip netns exec $GW nft list table ip portgate >/dev/null 2>&1"
wan_moves() { "$PORTGATECTL" -s "$LAB_DIR/sock" metrics | awk '/^portgate_external_address_changes_total/ { print $2 }'; }
m=$(wan_moves)
in_gw ip addr del $GW_WAN_IP/24 dev wan0
wan_moved() { [ "$(wan_moves)" != "$m" ]; }
wait_for 5 wan_moved	# to none (wan.changed with new null), then back
in_gw ip addr add $GW_WAN_IP/24 dev wan0
# by now the 2 s forward has expired; the trigger closes after 5 s idle, if disable did not
wait_for 8 sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' trigger list | grep -q 'game.*idle'"
n=$("$PORTGATECTL" -s "$LAB_DIR/sock" metrics | awk '/^portgate_events_total/ { n += $2 } END { print n + 0 }')
[ "$n" -ge 12 ] && pass "portgate_events_total: $n events posted" || fail "portgate_events_total: '$n'"
r=$(A events --since 1 --count $((n - 1)) --wait 10 --out "$LAB_DIR/events.json")
got=$(echo "$r" | sed -n 's/^valid: \([0-9]*\) events.*/\1/p')
[ "${got:-0}" -ge $((n - 1)) ] && pass "GET /api/v1/events?since=1: the kept events after the first ($got), each as the file says" ||
	{ fail "GET /api/v1/events?since=1: $((n - 1)) events wanted"; echo "$r" | head -5 | sed 's/^/       | /'; }
types=$(echo "$r" | sed -n 's/^valid: [0-9]* events (\(.*\)), last id.*/\1/p')
for t in mapping.added/mapping mapping.added/pinhole mapping.renewed/mapping mapping.deleted/mapping \
	mapping.expired/mapping trigger.activated/- trigger.refused/- trigger.closed/- request.refused/- \
	firewall.repaired/- wan.changed/-; do
	case " $types " in *" $t "*) pass "... among them $t" ;; *) fail "... no $t among them: $types" ;; esac
done
last=$(tail -1 "$LAB_DIR/events.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
A events --header "Last-Event-ID: $last" --count 2 --wait 10 > "$LAB_DIR/live.out" 2>&1 &
LIVE=$!
sleep 1
valid "DELETE /api/v1/mappings/tcp/9000 (UPnP's)" "$HA" req DELETE /api/v1/mappings/tcp/9000 --expect 200
valid "DELETE /api/v1/pinholes/$pid" "$HA" req DELETE /api/v1/pinholes/$pid --expect 200
wait $LIVE
check_out "... a stream resumed by Last-Event-ID sees them live, as the file says" "valid: 2 events (mapping.deleted/mapping mapping.deleted/pinhole)" cat "$LAB_DIR/live.out"
valid "DELETE /api/v1/mappings/tcp/9000 again: 404" "$HA" req DELETE /api/v1/mappings/tcp/9000 --expect 404
valid "DELETE /api/v1/pinholes/$pid again: 404" "$HA" req DELETE /api/v1/pinholes/$pid --expect 404
valid "DELETE /api/v1/forwards/tcp/8080" "$HA" req DELETE /api/v1/forwards/tcp/8080 --expect 200
valid "DELETE /api/v1/triggers/game" "$HA" req DELETE /api/v1/triggers/game --expect 200
valid "POST /api/v1/flush {source: static}" "$HA" req POST /api/v1/flush '{"source":"static"}' --expect 200
valid "POST /api/v1/flush {source: all}" "$HA" req POST /api/v1/flush '{"source":"all"}' --expect 200
valid "POST /api/v1/logout" "$HA" req POST /api/v1/logout --expect 200
valid "... then the session is 401" "$HA" req GET /api/v1/session --expect 401

echo "coverage"
valid "every operation was answered with success, and each error status was seen" "$HA" coverage \
	400 401 403 404 405 409 411 413 415 429 503

echo "a file that is wrong fails"
valid "log in again" "$HA" login "$PW" --expect 200
pgctl forward add tcp 8080 $A_IP:80 >/dev/null
SPEC_USE=$(mutate m1 'p = d["components"]["schemas"]["Mapping"]; p["properties"]["int_port"] = p["properties"].pop("internal_port"); p["required"][p["required"].index("internal_port")] = "int_port"') \
	invalid "Mapping's internal_port renamed" "$HA" req GET /api/v1/mappings --expect 200
SPEC_USE=$(mutate m2 'd["components"]["schemas"]["Session"]["properties"]["idle_timeout"]["type"] = "string"') \
	invalid "Session's idle_timeout a string" "$HA" req GET /api/v1/session --expect 200
SPEC_USE=$(mutate m3 'd["components"]["schemas"]["Trigger"]["properties"]["holder"].pop("nullable")') \
	invalid "Trigger's holder not nullable" "$HA" req GET /api/v1/triggers --expect 200
SPEC_USE=$(mutate m4 'd["components"]["schemas"]["MappingEvent"]["properties"].pop("expires_in"); d["components"]["schemas"]["MappingEvent"]["required"].remove("expires_in")') \
	invalid "MappingEvent without expires_in" "$HA" events --since 1 --count 3 --wait 5
SPEC_USE=$(mutate m5 'd["paths"]["/api/v1/forwards"]["post"]["responses"].pop("409")') \
	invalid "POST /api/v1/forwards without its 409" "$HA" req POST /api/v1/forwards \
	'{"proto":"tcp","external_port":8080,"internal_ip":"'$B_IP'"}' --expect 409
SPEC_USE=$(mutate m6 'd["components"]["schemas"]["ForwardAdd"]["properties"].pop("lease")') \
	invalid "ForwardAdd without lease" "$HA" bodies
SPEC_USE=$(mutate m7 'd["paths"]["/api/v1/triggers"].pop("post")') \
	invalid "POST /api/v1/triggers left out" "$HA" probe
out=$(python3 "$OA" --spec "$(mutate m8 'd["paths"].pop("/api/v1/history")')" routes "$top_srcdir/src/admin/admin.c" 2>&1)
check_out "GET /api/v1/history left out: the route table check says so" "the server routes GET /api/v1/history" echo "$out"

kill -0 $PG_PID && pass "the daemon survived all of it" || fail "the daemon died"
lab_stop_daemon
check_no_sanitizer "$LOG"
finish
