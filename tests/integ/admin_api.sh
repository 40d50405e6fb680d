#!/bin/bash
# admin_api.sh - the admin HTTP API in the namespace lab: a LAN host talks to the gateway's
# LAN address (tests/integ/admin_client.py, python3's http.client). Every endpoint; wrong
# and missing credentials; CSRF; an expired session; the login rate limit; a foreign Host
# header; a client on the WAN side; a body too large; malformed JSON: each a clear JSON
# error with nothing changed (portgatectl list says). A forward added through the API
# carries the WAN peer's traffic, and deleting it refuses the peer. TLS with a self-signed
# certificate (a Secure cookie), a reload, portgatectl passwd, and admin_listen on the WAN
# address refused at start.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_can_run || skip "needs root, nft, socat and network namespaces"
command -v python3 >/dev/null && command -v openssl >/dev/null && command -v upnpc >/dev/null ||
	skip "needs python3, openssl and upnpc"
lab_up
CLIENT="$top_srcdir/tests/integ/admin_client.py"
PORT=8088
PW='correct horse battery staple'
LOG=$LAB_DIR/daemon.log
conf=$LAB_DIR/pg.conf
ADMIN_KEYS=("admin_listen = $GW_LAN_IP:$PORT" "admin_listen = 127.0.0.1:$PORT"
	"admin_listen = [$GW_LAN_IP6]:$PORT"
	"admin_password_file = $LAB_DIR/pw" "admin_metrics_token_file = $LAB_DIR/token"
	"admin_session_idle = 6")

# api NS JAR [OPTIONS] login|req ...: the client in a namespace, against the LAN listener
api() { local ns=$1 jar=$2; shift 2
	timeout 20 ip netns exec "$ns" python3 "$CLIENT" --base "${BASE:-http://$GW_LAN_IP:$PORT}" \
		--jar "$LAB_DIR/$jar" "$@" 2>&1; }
apiA() { api "$HA" jarA "$@"; }
body() { sed '1,/^$/d'; }
# what the table and the trigger set hold, without what counts down
snap() { pgctl list | awk '{ print $1, $2, $3, $4 }'; pgctl trigger list | sed 's/closes-in [0-9]*s//'; }
unchanged() { if [ "$(snap)" = "$1" ]; then pass "$2: nothing changed"; else fail "$2: the table changed"; snap | sed 's/^/       | /'; fi; }
login_a() { apiA login "$PW" | grep -q '^HTTP 200' || fail "log in from A"; }

echo "portgatectl passwd"
lab_conf "$conf" "${ADMIN_KEYS[@]}"
check_out "a short password is refused" "must be 8 to 512 bytes" sh -c "echo short | '$PORTGATECTL' passwd -f '$conf'"
check_not "... and nothing is written" test -e "$LAB_DIR/pw"
check_out "one line of stdin sets it (the file named by -f CONFIG)" "admin password written to $LAB_DIR/pw" \
	sh -c "echo '$PW' | '$PORTGATECTL' passwd -f '$conf'"
# 0600, or 0640 with the directory's group where that is another's (the daemon's account's)
want=600; [ "$(stat -c %g "$LAB_DIR")" != "$(id -g)" ] && want=640
check "the file is mode 0$want" test "$(stat -c %a "$LAB_DIR/pw")" = $want
[ $want = 640 ] && check "... of the directory's group, which the daemon's account reads" \
    test "$(stat -c %G "$LAB_DIR/pw")" = "$(stat -c %G "$LAB_DIR")"
check_out "... and holds a yescrypt hash" '$y$' cat "$LAB_DIR/pw"
lab_conf "$LAB_DIR/nopw.conf"
check_out "a config without admin_password_file says so" "sets no admin_password_file" \
	sh -c "echo '$PW' | '$PORTGATECTL' passwd -f '$LAB_DIR/nopw.conf'"
check_out "--file PATH needs no config" "admin password written to $LAB_DIR/pw2" \
	sh -c "echo 'another password' | '$PORTGATECTL' passwd --file '$LAB_DIR/pw2'"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$LAB_DIR/token"
chmod 600 "$LAB_DIR/token"
TOKEN=$(cat "$LAB_DIR/token")

echo "admin_listen on the WAN address is refused"
lab_conf "$LAB_DIR/wan.conf" "admin_listen = $GW_WAN_IP:$PORT" "admin_password_file = $LAB_DIR/pw"
out=$(timeout 20 ip netns exec "$GW" "$PORTGATED" -d -f "$LAB_DIR/wan.conf" 2>&1); rc=$?
check "portgated does not start" test $rc -ne 0
check_out "the error names the file, the line and the key" "$LAB_DIR/wan.conf:7: admin_listen: $GW_WAN_IP is this gateway's address on another interface (the WAN?), not an address of a lan_interface (br-lan)" echo "$out"
printf 'firewall = none\nadmin_listen = 0.0.0.0:8088\nadmin_password_file = /x\n' > "$LAB_DIR/any.conf"
check_out "a wildcard address is a config error (-t)" "any.conf:2: admin_listen: 0.0.0.0 is not the address of one interface" "$PORTGATED" -t -f "$LAB_DIR/any.conf"
printf 'firewall = none\nadmin_listen = 192.0.2.1:8088\n' > "$LAB_DIR/nokey.conf"
check_out "admin_listen without a password or token file is a config error" "admin_listen needs admin_password_file" "$PORTGATED" -t -f "$LAB_DIR/nokey.conf"

echo "start"
check "portgated starts with the admin server" lab_start_daemon "$conf"
check_out "it listens on the LAN address" "admin: HTTP on $GW_LAN_IP port $PORT" cat "$LOG"
check_out "... and on loopback" "admin: HTTP on 127.0.0.1 port $PORT" cat "$LOG"
check_out "... and on the LAN's IPv6 address" "admin: HTTP on [$GW_LAN_IP6] port $PORT" cat "$LOG"
listen $HA tcp 80 hello-admin
before=$(snap)

echo "no credentials, wrong credentials: 401"
for p in status mappings pinholes forwards triggers session; do
	check_out "GET /api/v1/$p without a session: 401" "HTTP 401" apiA --no-cookie req GET /api/v1/$p
done
r=$(apiA --no-cookie req GET /api/v1/status)
check_out "... a JSON error that says what to do" '{"error":"log in first (POST /api/v1/login)"}' echo "$r"
check_out "... with the security headers" "H: Content-Security-Policy: default-src 'self'" echo "$r"
check_out "... X-Frame-Options" "H: X-Frame-Options: DENY" echo "$r"
check_out "... nosniff" "H: X-Content-Type-Options: nosniff" echo "$r"
check_out "... no-store" "H: Cache-Control: no-store" echo "$r"
check_out "POST forwards without a session: 401" "HTTP 401" apiA --no-cookie req POST /api/v1/forwards \
	'{"proto":"tcp","external_port":8080,"internal_ip":"'$A_IP'"}'
check_out "a wrong password: 401" '{"error":"wrong password"}' apiA login "not the password"
check_out "a wrong bearer token: 401" '{"error":"wrong bearer token"}' apiA --bearer nope req GET /api/v1/mappings
check_out "a made-up session cookie: 401" '"no such session; log in again"' apiA --no-cookie \
	--header "Cookie: portgate_session=0123456789abcdef0123456789abcdef" req GET /api/v1/status
unchanged "$before" "the refused requests"

echo "log in"
r=$(apiA login "$PW")
check_out "the password logs in" "HTTP 200" echo "$r"
check_out "... a CSRF token in the answer" '"csrf_token":"' echo "$r"
check_out "... a session cookie: HttpOnly, SameSite=Strict, Path=/ (no Secure over plain HTTP)" \
	"; Path=/; HttpOnly; SameSite=Strict" echo "$r"
if echo "$r" | grep -q "Secure"; then fail "no Secure cookie over plain HTTP"; else pass "no Secure cookie over plain HTTP"; fi
check_out "GET /api/v1/session gives the CSRF token again" "\"csrf_token\":\"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$LAB_DIR/jarA")\"" apiA req GET /api/v1/session
r=$(apiA req GET /api/v1/status)
check_out "GET status" "HTTP 200" echo "$r"
if echo "$r" | body | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["daemon"]["firewall"] == "nftables", s["daemon"]
assert s["daemon"]["external_ip"] == "198.51.100.1"
assert isinstance(s["table"]["mappings"], int)
assert "static 0" in s["table"]["source"], s["table"]
for sec in ("daemon", "table", "trigger", "nflog", "state", "upnp", "pcp", "neigh", "admin"):
    assert sec in s, sec
assert s["admin"]["admin_sessions"] >= 1
'; then pass "... a JSON object of the status verbs' sections (numbers as numbers)"; else fail "status JSON"; fi

echo "over IPv6"
r=$(BASE="http://[$GW_LAN_IP6]:$PORT" api "$HA" jar6 login "$PW")
check_out "a LAN host logs in over IPv6 (Host [$GW_LAN_IP6]:$PORT)" "HTTP 200" echo "$r"
r=$(BASE="http://[$GW_LAN_IP6]:$PORT" api "$HA" jar6 req GET /api/v1/status)
check_out "... and reads" '"daemon":{' echo "$r"
r=$(BASE="http://[$GW_LAN_IP6]:$PORT" api "$HA" jar6 --host "$GW_LAN_IP:$PORT" req GET /api/v1/status)
check_out "... the IPv4 address is not this listener's Host" "HTTP 403" echo "$r"

echo "forwards: added through the API, it carries the WAN peer's traffic"
[ -z "$(connect $WAN tcp $GW_WAN_IP 8080)" ] && pass "before: the WAN cannot reach 8080" || fail "before: 8080 reachable"
r=$(apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":8080,"internal_ip":"'$A_IP'","internal_port":80,"description":"web <img src=x onerror=alert(1)>"}')
check_out "POST forwards: 201" "HTTP 201" echo "$r"
check_out "... the CLI's message" '{"ok":true,"message":"tcp 8080 -> 192.0.2.10:80"}' echo "$r"
check_out "portgatectl list shows it" "192.0.2.10:80" pgctl list
check_out "the WAN peer reaches A through it" hello-admin connect $WAN tcp $GW_WAN_IP 8080
login_a
check_out "GET forwards lists it" '"external_port":8080,"external_port_end":8080,"internal_ip":"192.0.2.10","internal_port":80' apiA req GET /api/v1/forwards
check_out "... its description as JSON text" '"description":"web <img src=x onerror=alert(1)>"' apiA req GET /api/v1/forwards
r=$(apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":8080,"internal_ip":"'$B_IP'"}')
cli=$(pgctl forward add tcp 8080 $B_IP 2>&1)
check_out "a conflict: 409" "HTTP 409" echo "$r"
check_out "... with the message the CLI prints" "{\"error\":\"${cli#portgatectl: }\"}" echo "$r"
r=$(apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":8085,"internal_ip":"'$A_IP':81"}')
check_out "internal_ip with a port in it: 400" "HTTP 400" echo "$r"
check_out "... saying where the port goes" "is not an IPv4 address (the port goes in internal_port)" echo "$r"
check_not "... and nothing is mapped" sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' list | grep -q ' 8085 '"
check_out "a range with a lease" '"message":"udp 7000-7003 -> 192.0.2.11:7000-7003"' apiA req POST /api/v1/forwards \
	'{"proto":"udp","external_port":7000,"external_port_end":7003,"internal_ip":"'$B_IP'","lease":600}'
check_out "... listed with its lease" '"external_port":7000,"external_port_end":7003' apiA req GET /api/v1/forwards

echo "mappings of every source"
check_out "upnpc maps 9000 -> A:9000" "is redirected to internal $A_IP:9000" \
	timeout 20 ip netns exec "$HA" upnpc -i -e "from upnp" -a $A_IP 9000 9000 TCP
login_a
r=$(apiA req GET /api/v1/mappings)
check_out "GET mappings has the UPnP mapping" '"external_port":9000,"external_port_end":9000,"internal_ip":"192.0.2.10","internal_port":9000,"internal_port_end":9000,"source":"upnp"' echo "$r"
check_out "... and the static forward" '"external_port":8080' echo "$r"
if apiA req GET /api/v1/forwards | grep -q '"source":"upnp"'; then fail "GET forwards: static ones only"; else pass "GET forwards: static ones only"; fi
check_out "DELETE forwards/tcp/9000: not a static forward, 404" '{"error":"no static mapping for tcp 9000"}' apiA req DELETE /api/v1/forwards/tcp/9000
check_out "... the UPnP mapping stays" " 9000 " pgctl list
check_out "DELETE mappings/tcp/9000 deletes any source" '{"ok":true,"message":"deleted tcp 9000"}' apiA req DELETE /api/v1/mappings/tcp/9000
if pgctl list | grep -q " 9000 "; then fail "... gone from portgatectl list"; else pass "... gone from portgatectl list"; fi
check_out "DELETE mappings/tcp/9000 again: 404" "HTTP 404" apiA req DELETE /api/v1/mappings/tcp/9000
check_out "DELETE mappings/icmp/1: 400 with the CLI's message" "{\"error\":\"bad mapping 'icmp 1' (PROTO PORT)\"}" apiA req DELETE /api/v1/mappings/icmp/1
check_out "mapping del in the CLI too" "no mapping for tcp 9000" pgctl mapping del tcp 9000

echo "pinholes"
id=$(pgctl pinhole add tcp "[$A_IP6]:8000" --desc v6 | sed -n 's/^pinhole \([0-9]*\):.*/\1/p')
check_out "GET pinholes lists it" "\"kind\":\"pinhole\",\"id\":$id," apiA req GET /api/v1/pinholes
if apiA req GET /api/v1/mappings | grep -q '"kind":"pinhole"'; then fail "GET mappings: mappings only"; else pass "GET mappings: mappings only"; fi
check_out "DELETE pinholes/$id" "\"message\":\"deleted pinhole $id\"" apiA req DELETE /api/v1/pinholes/$id
check_out "... gone" "[]" sh -c "'$PORTGATECTL' -s '$LAB_DIR/sock' list --kind pinhole --json | tr -d '\n'"

echo "triggers"
r=$(apiA req POST /api/v1/triggers '{"name":"game","trigger":"tcp:6000","open":"tcp:6001-6002,udp:6001","idle":30}')
check_out "POST triggers: 201" "HTTP 201" echo "$r"
check_out "... the CLI's message" '"message":"trigger game tcp:6000-6000 open tcp:6001-6002,udp:6001-6001 idle 30"' echo "$r"
check_out "portgatectl trigger list shows it" "game tcp:6000-6000 open" pgctl trigger list
check_out "GET triggers" '{"name":"game","trigger":"tcp:6000-6000","open":["tcp:6001-6002","udp:6001-6001"],"idle":30,"origin":"runtime","active":false' apiA req GET /api/v1/triggers
check_out "POST triggers/game/disable" '"message":"trigger game disabled"' apiA req POST /api/v1/triggers/game/disable
check_out "... portgatectl says disabled" "[runtime] disabled" pgctl trigger list
check_out "... GET triggers says enabled false" '"enabled":false' apiA req GET /api/v1/triggers
check_out "POST triggers/game/enable" '"message":"trigger game enabled"' apiA req POST /api/v1/triggers/game/enable
check_out "... idle again" "[runtime] idle" pgctl trigger list
check_out "portgatectl trigger disable / enable" "trigger game disabled" pgctl trigger disable game
pgctl trigger enable game >/dev/null
check_out "a clashing rule: 409, the CLI's message" "{\"error\":\"trigger ports of 'game2' overlap rule 'game'\"}" \
	apiA req POST /api/v1/triggers '{"name":"game2","trigger":"tcp:6000","open":"tcp:6100"}'
check_out "enable a rule that is not there: 404" '{"error":"no trigger rule named nosuch"}' apiA req POST /api/v1/triggers/nosuch/enable
check_out "DELETE triggers/game" '"message":"deleted trigger game"' apiA req DELETE /api/v1/triggers/game
if pgctl trigger list | grep -q game; then fail "... gone"; else pass "... gone"; fi

echo "flush"
check_out "upnpc maps 9001" "is redirected" timeout 20 ip netns exec "$HA" upnpc -i -e x -a $A_IP 9001 9001 UDP
login_a
check_out "POST flush {source: upnp}" '"message":"flushed 1 mappings"' apiA req POST /api/v1/flush '{"source":"upnp"}'
check_out "POST flush {source: nobody}: the CLI's message" "unknown source 'nobody'" apiA req POST /api/v1/flush '{"source":"nobody"}'
check_out "POST flush {}: source is required" "{\"error\":\"'source' is required\"}" apiA req POST /api/v1/flush '{}'
check_out "the static forward stayed" "192.0.2.10:80" pgctl list

echo "refused writes change nothing"
pgctl flush --source static >/dev/null
pgctl forward add tcp 8080 $A_IP:80 --desc web >/dev/null
login_a
before=$(snap)
F='{"proto":"tcp","external_port":8085,"internal_ip":"'$A_IP'"}'
check_out "POST without X-CSRF-Token: 403" "HTTP 403" apiA --no-csrf req POST /api/v1/forwards "$F"
check_out "... says why" "needs the session's X-CSRF-Token header" apiA --no-csrf req POST /api/v1/forwards "$F"
check_out "DELETE without X-CSRF-Token: 403" "HTTP 403" apiA --no-csrf req DELETE /api/v1/forwards/tcp/8080
check_out "a wrong X-CSRF-Token: 403" "HTTP 403" apiA --csrf 0123456789abcdef0123456789abcdef req POST /api/v1/forwards "$F"
check_out "the bearer token reads" '"external_port":8080' apiA --no-cookie --bearer "$TOKEN" req GET /api/v1/mappings
check_out "... but does not write: 403" '"the bearer token is read-only: POST /api/v1/forwards needs a session"' \
	apiA --no-cookie --bearer "$TOKEN" req POST /api/v1/forwards "$F"
check_out "... nor delete: 403" "HTTP 403" apiA --no-cookie --bearer "$TOKEN" req DELETE /api/v1/forwards/tcp/8080
check_out "a Host header naming another host: 403" '"the Host header must name this gateway' \
	apiA --host "portgate.attacker.example:$PORT" req POST /api/v1/forwards "$F"
check_out "... also for a read" "HTTP 403" apiA --host "rebind.example" req GET /api/v1/mappings
check_out "a body too large: 413" '{"error":"the body is larger than 8192 bytes"}' apiA --size 20000 req POST /api/v1/forwards x
check_out "malformed JSON: 400" '{"error":"malformed JSON body: byte 9: '"':'"' was expected"}' apiA req POST /api/v1/forwards '{"proto" "tcp"}'
check_out "... a duplicate key" "duplicate key 'proto'" apiA req POST /api/v1/forwards '{"proto":"tcp","proto":"udp","external_port":8085,"internal_ip":"'$A_IP'"}'
check_out "... a control character" "a control character in a string" apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":8085,"internal_ip":"'$A_IP'","description":"a\u000ab"}'
check_out "... not an object" "a JSON object was expected" apiA req POST /api/v1/forwards '["tcp"]'
check_out "... a body that is not JSON: 415" "HTTP 415" apiA --ctype text/plain req POST /api/v1/forwards "$F"
check_out "an unknown member: 400" "unknown member 'color'" apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":8085,"internal_ip":"'$A_IP'","color":"red"}'
check_out "a member of the wrong type: 400" "{\"error\":\"'external_port' must be a whole number\"}" apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":"8085","internal_ip":"'$A_IP'"}'
check_out "a word that looks like an option stays a word" "{\"error\":\"bad protocol '--lease' (tcp or udp)\"}" apiA req POST /api/v1/forwards '{"proto":"--lease","external_port":8085,"internal_ip":"'$A_IP'"}'
check_out "a bad description: the CLI's message" "bad description: too long" apiA req POST /api/v1/forwards '{"proto":"tcp","external_port":8085,"internal_ip":"'$A_IP'","description":"'$(printf 'x%.0s' $(seq 70))'"}'
check_out "an unknown path: 404" '{"error":"no such resource"}' apiA req GET /api/v1/nothing
check_out "a method the path does not take: 405" "HTTP 405" apiA req PUT /api/v1/forwards "$F"
unchanged "$before" "the refused writes"
check_out "the forward still carries traffic" hello-admin connect $WAN tcp $GW_WAN_IP 8080

echo "a client on the WAN side is refused, though it reaches the socket"
in_wan ip route add 192.0.2.0/24 via $GW_WAN_IP
logins=$(apiA req GET /api/v1/status | body | python3 -c 'import json,sys; print(json.load(sys.stdin)["admin"]["admin_logins"])')
r=$(api "$WAN" jarW --host "$GW_LAN_IP:$PORT" req GET /api/v1/status)
check_out "the WAN peer routed to the LAN address gets 403" "HTTP 403" echo "$r"
check_out "... a JSON error" '{"error":"the admin API answers LAN hosts only"}' echo "$r"
check_out "... even with the right password" "HTTP 403" api "$WAN" jarW --host "$GW_LAN_IP:$PORT" login "$PW"
check_out "... or the bearer token" "HTTP 403" api "$WAN" jarW --host "$GW_LAN_IP:$PORT" --bearer "$TOKEN" req GET /api/v1/mappings
login_a
check_out "... no login was made" "\"admin_logins\":$((logins + 1))," apiA req GET /api/v1/status
in_wan ip route del 192.0.2.0/24 via $GW_WAN_IP
unchanged "$before" "the WAN client"

echo "deleting the forward through the API refuses the WAN peer"
check_out "DELETE forwards/tcp/8080" '{"ok":true,"message":"deleted tcp 8080"}' apiA req DELETE /api/v1/forwards/tcp/8080
[ -z "$(connect $WAN tcp $GW_WAN_IP 8080)" ] && pass "the WAN peer cannot reach 8080 now" || fail "8080 still reachable"
if pgctl list | grep -q " 8080 "; then fail "... gone from portgatectl list"; else pass "... gone from portgatectl list"; fi

echo "sessions end: logout, idle"
r=$(apiA req POST /api/v1/logout)
check_out "POST logout" '"message":"logged out"' echo "$r"
check_out "... the cookie is cleared" "portgate_session=; Path=/; Max-Age=0" echo "$r"
check_out "... and the session is gone: 401" "HTTP 401" apiA req GET /api/v1/status
login_a
check_out "a new session works" "HTTP 200" apiA req GET /api/v1/status
sleep 7
r=$(apiA req GET /api/v1/mappings)
check_out "after 7 s idle (admin_session_idle = 6): 401" "HTTP 401" echo "$r"
check_out "... the session expired" '{"error":"the session expired; log in again"}' echo "$r"

echo "the login rate limit"
for i in 1 2 3 4 5; do
	check_out "B: wrong password $i of 5: 401" "HTTP 401" api "$HB" jarB login "guess $i"
done
r=$(api "$HB" jarB login "guess 6")
check_out "the 6th within a minute: 429" "HTTP 429" echo "$r"
check_out "... with Retry-After" "H: Retry-After: " echo "$r"
check_out "... and a JSON error" '"too many failed logins; try again in ' echo "$r"
check_out "... even the right password waits" "HTTP 429" api "$HB" jarB login "$PW"
check_out "another LAN host is not held back" "HTTP 200" apiA login "$PW"

echo "a new password ends the sessions"
check_out "portgatectl passwd" "admin password written" sh -c "echo 'a brand new password' | '$PORTGATECTL' passwd -f '$conf'"
check_out "the old session: 401" "HTTP 401" apiA req GET /api/v1/status
check_out "the old password: 401" '"wrong password"' apiA login "$PW"
check_out "the new one logs in" "HTTP 200" apiA login "a brand new password"
PW='a brand new password'

echo "TLS (a self-signed certificate, openssl), through a reload"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$GW_LAN_IP" \
	-addext "subjectAltName=IP:$GW_LAN_IP" -keyout "$LAB_DIR/key.pem" -out "$LAB_DIR/cert.pem" >/dev/null 2>&1
# the daemon reads them again at the reload, as its account: the key is the account's group's
[ -n "$LAB_USER" ] && chgrp "$LAB_USER" "$LAB_DIR/key.pem" && chmod 640 "$LAB_DIR/key.pem"
lab_conf "$conf" "${ADMIN_KEYS[@]}" "admin_tls_cert = $LAB_DIR/cert.pem" "admin_tls_key = $LAB_DIR/key.pem"
kill -HUP $PG_PID
wait_for 5 grep -q "admin: HTTPS on $GW_LAN_IP port $PORT" "$LOG"
check_out "after SIGHUP it listens with TLS" "admin: HTTPS on $GW_LAN_IP port $PORT" cat "$LOG"
r=$(BASE=https://$GW_LAN_IP:$PORT api "$HA" jarT --cafile "$LAB_DIR/cert.pem" login "$PW")
check_out "log in over HTTPS (the certificate verified)" "HTTP 200" echo "$r"
check_out "... the cookie is Secure" "; Path=/; HttpOnly; SameSite=Strict; Secure" echo "$r"
r=$(BASE=https://$GW_LAN_IP:$PORT api "$HA" jarT --cafile "$LAB_DIR/cert.pem" req GET /api/v1/status)
check_out "... and the session works over HTTPS" '"daemon":{' echo "$r"
check_not "plain HTTP to the TLS port gets no answer" sh -c "timeout 20 ip netns exec '$HA' python3 '$CLIENT' --base http://$GW_LAN_IP:$PORT req GET /api/v1/status | grep -q '^HTTP '"

kill -0 $PG_PID && pass "the daemon survived all of it" || fail "the daemon died"
lab_stop_daemon
check_no_sanitizer "$LOG"
finish
