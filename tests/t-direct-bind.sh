#!/bin/sh
# Direct mode BIND, SOCKS5 and SOCKS4, driven by udpc (written from the
# RFC): the first reply names the listening address, the second the peer
# that connected, and then bytes go both ways; a peer from another
# address than the request's DST.ADDR is refused and the BIND runs out
# its BIND_TIMEOUT; a BIND nobody connects to times out (SOCKS5 0x06);
# DEST_DENY covers the peer's address; access lines say cmd=bind.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    BIND_TIMEOUT=2 "DEST_DENY=127.0.0.3"
start_esocksd server "$T/esocksd.conf"

# bind_start DST [UDPC-ARGS]: a BIND in the background; BOUND its port.
bind_start() {
	_dst=$1
	shift
	rm -f "$T/bind.err"
	"$UDPC" -x 127.0.0.1:$SP -b "$_dst" -m "from client" -w 15 "$@" \
	    >"$T/bind.out" 2>"$T/bind.err" &
	BIND_PID=$!
	track_pid $BIND_PID
	wait_for "grep -q '^bound=' '$T/bind.err'" 10 ||
	    fail "BIND $_dst: no first reply: $(cat "$T/bind.err")"
	BOUND=$(sed -n 's/^bound=//p' "$T/bind.err")
	case $BOUND in
	127.0.0.1:0|0.0.0.0:*) fail "BIND $_dst: first reply names $BOUND" ;;
	127.0.0.1:*) ;;
	*) fail "BIND $_dst: first reply names $BOUND" ;;
	esac
}

# A line each way between the client and a peer.
for v in 5 4; do
	for dst in 127.0.0.1:0 0.0.0.0:0; do
		bind_start "$dst" -v $v
		got=$(printf 'from peer' | "$SOCKSC" -D -t "$BOUND" -w 10 \
		    2>"$T/peer.err")
		[ "$got" = "from client" ] ||
		    fail "SOCKS$v BIND $dst: the peer got '$got'"
		wait $BIND_PID
		rc=$?
		[ $rc -eq 0 ] || fail "SOCKS$v BIND $dst: udpc exit $rc: $(cat "$T/bind.err")"
		[ "$(cat "$T/bind.out")" = "from peer" ] ||
		    fail "SOCKS$v BIND $dst: the client got '$(cat "$T/bind.out")'"
		grep -q '^peer=127\.0\.0\.1:[1-9]' "$T/bind.err" ||
		    fail "SOCKS$v BIND $dst: second reply $(cat "$T/bind.err")"
	done
done

# DST.ADDR 127.0.0.2: a peer from 127.0.0.1 is refused; nobody else
# comes, so the BIND times out.
bind_start 127.0.0.2:0
got=$(printf 'intruder' | "$SOCKSC" -D -t "$BOUND" -w 10 2>"$T/peer.err")
[ -z "$got" ] || fail "the wrong peer got '$got'"
wait_log "$ESOCKSD_LOG" "peer 127\.0\.0\.1:[0-9]* refused: not the address" 5 ||
    fail "no log line for the wrong peer"
wait $BIND_PID
rc=$?
[ $rc -eq 3 ] || fail "BIND with a wrong peer: udpc exit $rc"
grep -q '^reply2=0x06' "$T/bind.err" ||
    fail "BIND with a wrong peer: $(cat "$T/bind.err")"

# A peer DEST_DENY covers (127.0.0.3) is refused; the next one is taken.
bind_start 0.0.0.0:0
got=$("$UDPC" -c "$BOUND" -s 127.0.0.3 -m denied -w 10 2>"$T/peer.err")
[ -z "$got" ] || fail "the denied peer got '$got' $(cat "$T/peer.err")"
wait_log "$ESOCKSD_LOG" "peer 127\.0\.0\.3:[0-9]* refused: DEST_ALLOW/DEST_DENY" \
    5 || fail "no log line for the denied peer"
got=$("$UDPC" -c "$BOUND" -s 127.0.0.1 -m "from peer" -w 10 2>"$T/peer.err")
[ "$got" = "from client" ] || fail "the peer after the denied one got '$got'"
wait $BIND_PID || fail "BIND after a denied peer: $(cat "$T/bind.err")"

n=$(grep -c 'cmd=bind .* result=ok ' "$ESOCKSD_LOG")
[ "$n" -eq 5 ] || fail "$n cmd=bind access lines with result=ok, want 5"
grep -q 'cmd=bind dest=127.0.0.2:0 via=direct result=timeout ' \
    "$ESOCKSD_LOG" || fail "no access line for the BIND that timed out"
stop_daemon
exit 0
