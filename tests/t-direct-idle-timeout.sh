#!/bin/sh
# IDLE_TIMEOUT=1: a tunnel with no byte either way is closed about a
# second after its last byte (the client sees EOF or a reset; the access
# line says result=idle), while a tunnel with a byte every half second lives on
# well past the timeout.  A client that stops reading for longer than the
# timeout, while the daemon holds bytes for it, gets either every byte or
# a reset when it reads again: never an orderly EOF after part of them.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    IDLE_TIMEOUT=1
start_sink echo
ECHO=$SINK_PORT
start_sink hold
HOLD=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# Idle tunnels to an echo and to a sink that never answers: both still
# open at 0.5 s, both closed by 3 s (EOF, exit 0, or reset, exit 4).
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -H -w 10 >/dev/null \
    2>"$T/idle1.err" &
idle1=$!
track_pid $idle1
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 10 >/dev/null \
    2>"$T/idle2.err" &
idle2=$!
track_pid $idle2
sleep 0.5
lib_alive $idle1 && lib_alive $idle2 ||
    fail "an idle tunnel closed before IDLE_TIMEOUT"
wait_for "! lib_alive $idle1 && ! lib_alive $idle2" 3 ||
    fail "idle tunnels still open 3.5 s after opening (IDLE_TIMEOUT=1)"
wait $idle1
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 4 ] ||
    fail "idle tunnel to echo: exit $rc: $(cat "$T/idle1.err")"
wait $idle2
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 4 ] ||
    fail "idle tunnel to hold: exit $rc: $(cat "$T/idle2.err")"
wait_for "[ \$(grep -c 'result=idle' '$ESOCKSD_LOG') -ge 2 ]" 2 ||
    fail "expected 2 access lines with result=idle"
for p in $ECHO $HOLD; do
	grep -E -q "dest=127.0.0.1:$p via=direct result=idle up=0 down=0 \
ms=[0-9]+ session=- tags=-\$" "$ESOCKSD_LOG" ||
	    fail "no result=idle line for port $p"
done

# A byte every 0.5 s for 2.5 s: the tunnel stays, all of it comes back.
got=$({ for i in 1 2 3 4 5; do echo $i; sleep 0.5; done; } |
    "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "active tunnel: exit $rc: $(cat "$T/err")"
[ "$(echo $got)" = "1 2 3 4 5" ] ||
    fail "a tunnel active every 0.5 s was cut: got '$(echo $got)'"

# A reader that stalls (lib.sh) longer than IDLE_TIMEOUT, then reads.
BIG=64M
start_sink "source:$BIG"
SOURCE=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
stall_start $SP $SOURCE 30
sleep 3
stall_drain $SUM 30
rc=$STALLED_RC
got=$STALLED_GOT
want=$("$SOCKSC" -G $BIG -k)
echo "stalled reader: exit $rc, received $got"
if [ $rc -eq 0 ]; then
	[ "$got" = "$want" ] || fail "a tunnel idle with bytes pending" \
	    "ended in an orderly EOF after '$got' of '$want'"
else
	[ $rc -eq 4 ] || fail "stalled reader: exit $rc:" \
	    "$(cat "$T/stalled.err")"
	wait_log "$ESOCKSD_LOG" "dest=127\.0\.0\.1:$SOURCE via=direct \
result=idle" 2 || fail "no result=idle line for the stalled tunnel"
fi
stop_daemon
exit 0
