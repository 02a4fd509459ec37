#!/bin/sh
# Direct mode half-close: a client that shuts down its write side still
# gets the answer the destination sends after that EOF (sum and discard
# sinks answer only at EOF), and a client that half-closes at once still
# receives a whole download; every such tunnel ends with result=ok.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink sum
SUM=$SINK_PORT
start_sink discard
DISCARD=$SINK_PORT
start_sink source:20M
SOURCE=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# A few bytes, then EOF: the sum sink's answer comes back after it.
want=$(printf hello | "$SOCKSC" -D -t 127.0.0.1:$SUM -w 10)
got=$(printf hello | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM -w 10 \
    2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "sum: socksc exit $rc: $(cat "$T/err")"
case $want in
"bytes=5 sum="*) ;;
*) fail "the sum sink answered '$want' without the proxy" ;;
esac
[ "$got" = "$want" ] || fail "sum through the proxy: '$got', want '$want'"
sumdown=$((${#want} + 1))

# 20 MiB, then EOF: the discard sink counts them all, then answers.
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$DISCARD -g 20M -w 20 \
    2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "discard: socksc exit $rc: $(cat "$T/err")"
[ "$got" = bytes=20971520 ] || fail "discard answered '$got'"

# EOF first, before any byte arrives: the whole download still comes.
want=$("$SOCKSC" -G 20M -k)
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SOURCE -k -w 20 \
    </dev/null 2>"$T/err")
rc=$?
[ $rc -eq 0 ] || fail "source: socksc exit $rc: $(cat "$T/err")"
[ "$got" = "$want" ] || fail "source after half-close: '$got', want '$want'"

wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge 3 ]" 5 ||
    fail "fewer than 3 access lines"
n=$(grep -c '^access .* result=ok ' "$ESOCKSD_LOG")
[ "$n" -eq 3 ] || fail "$n of 3 half-closed tunnels ended with result=ok"
grep -q "dest=127.0.0.1:$SUM via=direct result=ok up=5 down=$sumdown " \
    "$ESOCKSD_LOG" || fail "no access line up=5 down=$sumdown for the sum"
stop_daemon
exit 0
