#!/bin/sh
# Worker link authentication (PROTOCOL.md 2): a worker with the server's
# secret registers and carries tunnels; a wrong secret, no secret, or a
# legacy RGST is refused with the reason and the peer address logged; a
# worker never serves a server that cannot prove the secret (one with no
# secret, or a silent legacy one); a secret file readable by others is
# warned about; a non-loopback WORKER_LISTEN without a secret is too.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Stop every process still running, then fail on any sanitizer report
# (an --enable-asan build) in the daemons' logs.
sec_finish() {
	for _p in $LIB_PIDS; do
		lib_alive $_p && stop_pid $_p
	done
	_bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    $LIB_LOGS /dev/null)
	[ -z "$_bad" ] || fail "sanitizer report in $_bad"
}

SECRET=correct-horse-battery
printf '%s\n' "$SECRET" >"$T/secret"
chmod 600 "$T/secret"
printf 'not-the-secret\n' >"$T/wrong"
chmod 600 "$T/wrong"

# Lines of FILE that match the extended regex RE.
count() {
	grep -c -E -e "$2" "$1" 2>/dev/null
}

# A worker config: NAME SERVERPORT [KEY=VALUE]...
worker_conf() {
	_n=$1
	_p=$2
	shift 2
	write_conf "$T/$_n.conf" "SERVERS=127.0.0.1:$_p" "WORKER_NAME=$_n" \
	    "PIDFILE=$T/$_n.pid" RECONNECT_INTERVAL=0.5 "$@"
}

start_sink echo
ECHO=$SINK_PORT

# The server: secret from a 0600 file, no direct fallback.
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    NO_WORKER=refuse "WORKER_SECRET_FILE=$T/secret" LOG_EVENT=yes
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID
grep -q 'readable by group or others' "$SLOG" &&
    fail "warned about a 0600 secret file"

# A wrong secret: refused as bad_proof, with the peer address, and the
# worker never gets a session (the server still has no worker).
worker_conf wrongw "$WP" "WORKER_SECRET_FILE=$T/wrong"
start_esocksd worker "$T/wrongw.conf"
WRONG_LOG=$ESOCKSD_LOG
WRONG_PID=$ESOCKSD_PID
wait_log "$SLOG" 'worker link from 127\.0\.0\.1:[0-9]+ refused: bad_proof' ||
    fail "server did not log the wrong secret as bad_proof with the address"
wait_log "$WRONG_LOG" 'refused registration: bad_proof' ||
    fail "worker with the wrong secret did not log the refusal"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 5 2>&1)
rc=$?
[ $rc -eq 3 ] && [ "$out" = "reply=0x01 bound=0.0.0.0:0" ] ||
    fail "with only a refused worker, NO_WORKER=refuse gave rc $rc: $out"
grep -q 'joined the pool' "$SLOG" &&
    fail "a worker with the wrong secret joined the pool"
grep -q 'registered with server' "$WRONG_LOG" &&
    fail "the worker with the wrong secret thinks it registered"
stop_pid $WRONG_PID

# No secret at all against a server with one: refused too, as
# auth_required (the worker has none), not bad_proof (a wrong one).
worker_conf nosecret "$WP"
start_esocksd worker "$T/nosecret.conf"
NOSEC_LOG=$ESOCKSD_LOG
NOSEC_PID=$ESOCKSD_PID
wait_log "$NOSEC_LOG" 'refused registration: (bad_proof|auth_required)' ||
    fail "a worker without a secret was not refused"
wait_for "[ \$(count '$SLOG' 'refused: (bad_proof|auth_required)') -ge 2 ]" ||
    fail "server did not log the refusal of the worker without a secret"
grep -q 'refused registration: auth_required$' "$NOSEC_LOG" ||
    fail "a worker without a secret was not told auth_required"
grep -q -E 'worker link from 127\.0\.0\.1:[0-9]+ refused: auth_required$' \
    "$SLOG" || fail "server did not log the worker without a secret as auth_required"
grep -q 'joined the pool' "$SLOG" &&
    fail "a worker without a secret joined the pool"
stop_pid $NOSEC_PID

# A legacy text-net RGST: answered 403 auth_required, then closed.
out=$( { printf 'RGST 0 0 box\r\n'; sleep 2; } |
    "$SOCKSC" -D -t 127.0.0.1:$WP -w 5 | tr -d '\r')
printf '%s\n' "$out" | grep -q -E '^HELO 0 0 esp/1 [0-9a-f]{32,}$' ||
    fail "no HELO greeting on the worker port: '$out'"
printf '%s\n' "$out" | grep -q -x '403 0 0 auth_required' ||
    fail "legacy RGST with a secret set got '$out', want 403 auth_required"
wait_log "$SLOG" 'refused: auth_required' ||
    fail "server did not log the legacy RGST refusal"

# The right secret (given inline on this side): registers, tunnels flow.
worker_conf goodw "$WP" "WORKER_SECRET=$SECRET"
start_esocksd worker "$T/goodw.conf"
GOOD_LOG=$ESOCKSD_LOG
GOOD_PID=$ESOCKSD_PID
wait_log "$SLOG" 'worker goodw \(127\.0\.0\.1:[0-9]+\) joined the pool$' ||
    fail "the worker with the right secret did not join the pool"
wait_log "$GOOD_LOG" "registered with server 127\\.0\\.0\\.1:$WP as goodw\$" ||
    fail "the worker with the right secret did not register"
wait_tunnel $SP 10 || fail "no tunnel through the authenticated worker"
got=$(echo through-goodw | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
    -w 10 2>/dev/null)
[ "$got" = through-goodw ] || fail "tunnel via goodw returned '$got'"
wait_log "$SLOG" "access .*dest=127\\.0\\.0\\.1:$ECHO via=goodw result=ok" ||
    fail "no access line for the tunnel via goodw"
stop_pid $GOOD_PID
stop_pid $SPID

# Impostor servers.  One without a secret accepts anything and answers
# OK with proof "-": the worker must drop it and never serve it.
SP2=$(free_port)
WP2=$(free_port)
write_conf "$T/impostor.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$WP2" "PIDFILE=$T/impostor.pid" \
    NO_WORKER=refuse LOG_EVENT=yes
start_esocksd server "$T/impostor.conf"
ILOG=$ESOCKSD_LOG
worker_conf careful "$WP2" "WORKER_SECRET_FILE=$T/secret" \
    RECONNECT_INTERVAL=30
start_esocksd worker "$T/careful.conf"
CLOG=$ESOCKSD_LOG
CPID=$ESOCKSD_PID
wait_log "$CLOG" \
    "server 127\\.0\\.0\\.1:$WP2 failed to prove the secret; not serving it" ||
    fail "worker did not log the impostor's failure to prove the secret"
wait_log "$ILOG" 'worker careful .* left the pool' ||
    fail "the worker did not drop its link to the impostor"
grep -q 'registered with server' "$CLOG" &&
    fail "the worker registered with a server that has no secret"
out=$("$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -n -w 5 2>&1)
rc=$?
[ $rc -eq 3 ] ||
    fail "the impostor got a tunnel through the worker (rc $rc: $out)"
grep -q 'via=careful' "$ILOG" && fail "the worker served the impostor"
stop_pid $CPID

# A silent (legacy) server never sends HELO: a worker with a secret
# gives up on it after the HELO wait instead of registering.
start_sink hold
worker_conf careful2 "$SINK_PORT" "WORKER_SECRET_FILE=$T/secret" \
    RECONNECT_INTERVAL=30
start_esocksd worker "$T/careful2.conf"
C2LOG=$ESOCKSD_LOG
wait_log "$C2LOG" "server 127\\.0\\.0\\.1:$SINK_PORT sent no HELO: it cannot \
prove the secret" 8 ||
    fail "worker did not refuse a server that sent no HELO"
wait_log "$C2LOG" "link to server 127\\.0\\.0\\.1:$SINK_PORT closed" 5 ||
    fail "worker did not close its link to the silent server"

# A secret file that group or others can read: warned at start.
cp "$T/secret" "$T/exposed"
chmod 644 "$T/exposed"
worker_conf exposedw "$(free_port)" "WORKER_SECRET_FILE=$T/exposed" \
    RECONNECT_INTERVAL=30
start_esocksd worker "$T/exposedw.conf"
wait_log "$ESOCKSD_LOG" "$T/exposed is readable by group or others" 5 ||
    fail "no warning for a world-readable WORKER_SECRET_FILE"

# A non-loopback WORKER_LISTEN without a secret: warned at start.
WP3=$(free_port 0.0.0.0:0)
write_conf "$T/open.conf" "SOCKS_LISTEN=127.0.0.1:$(free_port)" \
    "WORKER_LISTEN=0.0.0.0:$WP3" "PIDFILE=$T/open.pid"
start_esocksd server "$T/open.conf"
wait_log "$ESOCKSD_LOG" \
    "WORKER_LISTEN 0\\.0\\.0\\.0:$WP3 is not loopback and no WORKER_SECRET" 5 ||
    fail "no warning for WORKER_LISTEN 0.0.0.0 without a secret"
stop_pid $ESOCKSD_PID
# ... and none with a secret, nor for a loopback one.
write_conf "$T/open2.conf" "SOCKS_LISTEN=127.0.0.1:$(free_port)" \
    "WORKER_LISTEN=0.0.0.0:$WP3" "PIDFILE=$T/open2.pid" \
    "WORKER_SECRET=$SECRET"
start_esocksd server "$T/open2.conf"
O2LOG=$ESOCKSD_LOG
stop_pid $ESOCKSD_PID
grep -q 'is not loopback' "$O2LOG" "$SLOG" &&
    fail "warned about WORKER_LISTEN though a secret is set or it is loopback"
sec_finish
exit 0
