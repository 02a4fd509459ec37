#!/bin/sh
# A real client chooses its exit (issue 11): curl
# --socks5-hostname 'alice-tag-eu-session-x:PASSWORD@127.0.0.1:PORT'
# under AUTH=password reaches an HTTP page through the worker tagged eu,
# never the one tagged us; the account is BASE (alice), and the access
# line names the session and the worker's tags.  Skipped without curl or
# an openssl that makes SHA-crypt hashes.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
command -v curl >/dev/null 2>&1 || skip "no curl"
H=$(openssl passwd -5 -salt esocksexits PASSWORD 2>/dev/null) &&
    case $H in '$5$'*) true ;; *) false ;; esac ||
    skip "no openssl that makes \$5\$ hashes"
umask 077
printf 'alice:%s\n' "$H" >"$T/passwd"

SP=$(free_port)
WP=$(free_port)
HP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$HP" \
    AUTH=password "PASSWORD_FILE=$T/passwd" "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
for w in weu:eu wus:us; do
	write_conf "$T/${w%:*}.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=${w%:*}" "WORKER_TAGS=${w#*:}" \
	    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/${w%:*}.pid"
	start_esocksd worker "$T/${w%:*}.conf"
done
for name in weu wus; do
	wait_log "$SRV_LOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

# The stats page is the HTTP destination: reached through a worker.
i=0
while [ $i -lt 5 ]; do
	curl -sS --max-time 10 -o "$T/page" \
	    --socks5-hostname "alice-tag-eu-session-x:PASSWORD@127.0.0.1:$SP" \
	    "http://127.0.0.1:$HP/status" 2>"$T/curl.err" ||
	    fail "curl through alice-tag-eu-session-x: $(cat "$T/curl.err")"
	grep -q 'workers registered' "$T/page" ||
	    fail "curl got no status page: $(cat "$T/page")"
	i=$((i + 1))
done
wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge 5 ]" 5 ||
    fail "fewer than 5 access lines"
n=$(grep -c "^access .* user=alice-tag-eu-session-x .* via=weu .* \
session=x tags=eu$" "$SRV_LOG")
[ "$n" -eq 5 ] || fail "$n of 5 curl tunnels via weu with session=x tags=eu: \
$(grep '^access' "$SRV_LOG")"

# The password is the account's: a wrong one is refused.
curl -sS --max-time 10 -o /dev/null \
    --socks5-hostname "alice-tag-eu:wrong@127.0.0.1:$SP" \
    "http://127.0.0.1:$HP/status" 2>/dev/null &&
    fail "a wrong password was accepted"
wait_log "$SRV_LOG" "bad password for user alice-tag-eu" 5 ||
    fail "no log line for the wrong password"
# Stop everything; no sanitizer report (an --enable-asan build) allowed.
for p in $LIB_PIDS; do
	lib_alive "$p" && stop_pid "$p" >/dev/null
done
bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
    $LIB_LOGS /dev/null)
[ -z "$bad" ] || fail "sanitizer report in $bad"
exit 0
