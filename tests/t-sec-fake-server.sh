#!/bin/sh
# A fake server that never proves the secret gets nothing from a worker
# (PROTOCOL.md 2): a worker acts on nothing but the handshake until the
# server's 100 OK carried a valid proof.  A SESS sent before HELO, or
# after our RGST but before 100, is never dialed: the destination sees
# no connection, the link is closed with the reason logged and counted
# in link_errors, and the worker redials only after its backoff.  A
# DRAIN and a close before 100 is such a failure too, not the at-once
# redial a proven server's DRAIN earns.  The same holds for a worker
# without a secret talking to an esp/1 server (one that sent HELO); a
# legacy server (no HELO) still gets its sessions served once the worker
# has sent the legacy RGST.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$TLINKPEER" ] || skip "tests/tlinkpeer not built"
NONCE=00112233445566778899aabbccddeeff
SECRET=0123456789abcdef0123456789abcdef

# peer NAME SCRIPT: tlinkpeer serving SCRIPT; accepts logged to
# $T/NAME.accepts; sets PEER_PORT.
peer() {
	: >"$T/$1.accepts"
	"$TLINKPEER" -P "$T/$1.port" -s "$2" -A "$T/$1.accepts" \
	    2>"$T/$1.log" &
	track_pid $!
	LIB_LOGS="$LIB_LOGS $T/$1.log"
	wait_for "test -s '$T/$1.port'" 10 || fail "tlinkpeer $1 did not start"
	PEER_PORT=$(cat "$T/$1.port")
}

# accepts NAME: connections tlinkpeer NAME took so far.
accepts() {
	wc -l <"$T/$1.accepts" | tr -d ' '
}

# The destination every fake server asks for: it must never be dialed.
: >"$T/empty"
peer dest "$T/empty"
DEST=$PEER_PORT
SESS="SESS 1 0 1 S SOCKS 127.0.0.1 $DEST connect"

# worker NAME SERVERPORT [KEY=VALUE]...: a worker of that server.
worker() {
	_name=$1
	_port=$2
	shift 2
	write_conf "$T/$_name.conf" "SERVERS=127.0.0.1:$_port" \
	    "WORKER_NAME=$_name" "PIDFILE=$T/$_name.pid" RECONNECT_INTERVAL=2 \
	    "$@"
	start_esocksd worker "$T/$_name.conf"
}

# link_errors: SIGUSR1 the worker, print the link_errors of its new line.
link_errors() {
	_n=$(grep -c '^counters: ' "$ESOCKSD_LOG")
	kill -USR1 $ESOCKSD_PID
	wait_for "[ \$(grep -c '^counters: ' '$ESOCKSD_LOG') -gt $_n ]" 5 ||
	    fail "no counters line after SIGUSR1"
	sed -n 's/^counters: .* link_errors=\([0-9]*\).*/\1/p' \
	    "$ESOCKSD_LOG" | tail -n 1
}

# expect_refused NAME PORT REASON: the worker closed the link to the fake
# server at PORT for REASON, counted it, redialed after a backoff of at
# least 1.5 s (RECONNECT_INTERVAL=2 less a quarter of jitter), and the
# destination saw no connection.
expect_refused() {
	_re="link to server 127\\.0\\.0\\.1:$2 closed: $3\$"
	wait_log "$ESOCKSD_LOG" "$_re" 5 ||
	    fail "$1: the link was not closed for '$3'"
	grep -q "server 127\\.0\\.0\\.1:$2: redialling in 0 ms" \
	    "$ESOCKSD_LOG" && fail "$1: the worker redialled at once"
	wait_for "[ \$(accepts $1) -ge 2 ]" 8 ||
	    fail "$1: the worker did not dial again after its backoff"
	_gap=$(awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }' \
	    "$T/$1.accepts")
	[ "$_gap" -ge 1500 ] ||
	    fail "$1: redialled after $_gap ms, before the backoff"
	[ "$(link_errors)" -ge 1 ] || fail "$1: the closed link was not counted"
	[ "$(accepts dest)" -eq 0 ] ||
	    fail "$1: the destination was dialed $(accepts dest) times"
	lib_alive $ESOCKSD_PID || fail "$1: the worker died"
	stop_pid $ESOCKSD_PID >/dev/null
}

# 1. SESS before HELO, to a worker with a secret.
printf '%s\n' "$SESS" >"$T/early.script"
peer early "$T/early.script"
worker early $PEER_PORT "WORKER_SECRET=$SECRET"
expect_refused early $PEER_PORT 'SESS before registration'

# 2. SESS after our RGST, before any 100.
printf 'HELO 0 0 esp/1 %s\n@wait\n%s\n' $NONCE "$SESS" >"$T/unproven.script"
peer unproven "$T/unproven.script"
worker unproven $PEER_PORT "WORKER_SECRET=$SECRET"
expect_refused unproven $PEER_PORT 'SESS before registration'

# 3. DRAIN and a close after our RGST: no at-once redial.
printf 'HELO 0 0 esp/1 %s\n@wait\nDRAIN 0 0\n@close\n' $NONCE \
    >"$T/drain.script"
peer drain "$T/drain.script"
worker drain $PEER_PORT "WORKER_SECRET=$SECRET"
expect_refused drain $PEER_PORT 'DRAIN before registration'

# 4. A 100 with the wrong proof, then SESS: the proof is checked first.
printf 'HELO 0 0 esp/1 %s\n@wait\n100 0 0 OK %s\n%s\n' $NONCE \
    0000000000000000000000000000000000000000000000000000000000000000 \
    "$SESS" >"$T/forged.script"
peer forged "$T/forged.script"
worker forged $PEER_PORT "WORKER_SECRET=$SECRET"
expect_refused forged $PEER_PORT 'server proof mismatch'

# 5. PING before 100, to a worker without a secret: an esp/1 server
# owes it the 100 first all the same.
printf 'HELO 0 0 esp/1 %s\n@wait\nPING 1 0\n%s\n' $NONCE "$SESS" \
    >"$T/nosecret.script"
peer nosecret "$T/nosecret.script"
worker nosecret $PEER_PORT
expect_refused nosecret $PEER_PORT 'PING before registration'

# 6. A 403 whose reason holds a newline, from a server that proved
# nothing: the worker logs the reason escaped, never a second line that
# the server wrote.
printf 'HELO 0 0 esp/1 %s\n@wait\n403 0 0 %s\n' $NONCE \
    'x%0Aregistered%20with%20server%20forged%20as%20w' >"$T/forge.script"
peer forge "$T/forge.script"
worker forge $PEER_PORT "WORKER_SECRET=$SECRET"
expect_refused forge $PEER_PORT 'registration refused'
grep -q '^registered with server forged' "$ESOCKSD_LOG" &&
    fail "a refusing server wrote a line of the worker's log"
grep -q 'refused registration: x%0Aregistered%20with' "$ESOCKSD_LOG" ||
    fail "the refusal's reason was not logged escaped"

# 7. The control: a legacy server (no HELO) that opens a session once it
# has the worker's legacy RGST is served, so the destination above would
# have seen any dial.
printf '@wait\n%s\n' "$SESS" >"$T/legacy.script"
peer legacy "$T/legacy.script"
worker legacy $PEER_PORT
wait_log "$ESOCKSD_LOG" "registered with server 127\\.0\\.0\\.1:$PEER_PORT \
as legacy \\(legacy text-net server\\)" 5 ||
    fail "the worker did not register with the legacy server"
wait_for "[ \$(accepts dest) -eq 1 ]" 5 ||
    fail "the legacy server's session was not dialed"
stop_daemon
exit 0
