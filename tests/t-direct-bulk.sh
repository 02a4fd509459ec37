#!/bin/sh
# Direct mode bulk transfer: 100 MiB up to a "sum" sink, 100 MiB down
# from a "source" sink, and 100 MiB both ways at once through an echo
# sink, each compared by checksum with the generator's own stream, each
# within a deadline; the access lines count every byte.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SIZE=100M
BYTES=104857600
WAIT=40

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink sum
SUM=$SINK_PORT
start_sink source:$SIZE
SOURCE=$SINK_PORT
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"
want=$("$SOCKSC" -G $SIZE -k)

# Up: the sink's checksum line is the answer.
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM -g $SIZE -w $WAIT \
    2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "upload: socksc exit $rc: $(cat "$T/err")"
[ "$got" = "$want" ] || fail "upload: sink saw '$got', want '$want'"

# Down: our checksum of what arrived.
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SOURCE -k -w $WAIT \
    </dev/null 2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "download: socksc exit $rc: $(cat "$T/err")"
[ "$got" = "$want" ] || fail "download: got '$got', want '$want'"

# Both ways at once.
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g $SIZE -k -w $WAIT \
    2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "echo: socksc exit $rc: $(cat "$T/err")"
[ "$got" = "$want" ] || fail "echo: got '$got', want '$want'"

sumline=$(printf '%s\n' "$want" | wc -c | tr -d ' ')
wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge 3 ]" 5 ||
    fail "fewer than 3 access lines"
for ud in "$SUM up=$BYTES down=$sumline" "$SOURCE up=0 down=$BYTES" \
    "$ECHO up=$BYTES down=$BYTES"; do
	set -- $ud
	grep -q "dest=127.0.0.1:$1 via=direct result=ok $2 $3 ms=" \
	    "$ESOCKSD_LOG" || fail "no access line 'dest=127.0.0.1:$*'"
done
stop_daemon
exit 0
