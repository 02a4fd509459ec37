#!/bin/sh
# A worker that dies in the middle of a frame's body while the server is
# splicing that body off the link (mux-splice.c).  tests/tlinkpeer -c
# plays an esp/1 worker: it accepts the tunnel, sends a 40,000-byte P
# frame (read and copied: the first bulk frame of a link is), waits for
# the server's W credit for it, then sends the header of a 65,536-byte
# frame alone, 20,000 bytes of its body, and closes.  The server reads
# that header alone and splices the body as it comes, so the close
# reaches it in the middle of the body.  It must log the worker gone,
# end the tunnel as link-lost with the 60,000 bytes delivered counted
# (a server that read bodies whole would have delivered 40,000), and
# carry on: a real worker then carries a tunnel whole.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
[ -x "$TLINKPEER" ] || skip "tests/tlinkpeer not built"
NONCE=00112233445566778899aabbccddeeff

start_sink echo
ECHO=$SINK_PORT

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SPID=$ESOCKSD_PID
SLOG=$ESOCKSD_LOG

dd if=/dev/zero bs=1000 count=40 2>/dev/null >"$T/body1"
dd if=/dev/zero bs=1000 count=20 2>/dev/null >"$T/body2"
# $4 is the session id: in the S line, and in the W line after it.
cat >"$T/script" <<EOF
@expect HELO
RGST 0 0 cut esp/1 $NONCE -
@expect 100 0 0 OK
@expect SESS * * * S SOCKS 127.0.0.1 $ECHO connect
SESS 1 0 \$4 A 127.0.0.1 1
SESS 2 40000 \$4 P
@file $T/body1
@expect SESS * 0 * W
SESS 3 65536 \$4 P
@file $T/body2
@close
EOF
"$TLINKPEER" -c 127.0.0.1:$WP -s "$T/script" -T "$T/seen" 2>"$T/peer.log" &
track_pid $!
LIB_LOGS="$LIB_LOGS $T/peer.log $T/seen"
wait_log "$SLOG" "worker cut \\(.*\\) joined the pool" 10 ||
    fail "the fake worker did not join the pool"

"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -H -w 20 \
    >"$T/client.out" 2>"$T/client.err" </dev/null &
track_pid $!
wait_log "$SLOG" "worker cut \\(.*\\) left the pool" 20 ||
    fail "the server did not see the fake worker go"
wait_log "$SLOG" "^access .* via=cut result=link-lost up=0 down=60000 " 20 ||
    fail "the tunnel did not end as link-lost with 60000 bytes down"
# The credit the fake worker waited for is the first frame's.
grep -q "^SESS [0-9]* 0 [0-9]* W 40000" "$T/seen" ||
    fail "the server gave no credit for the first frame"
lib_alive "$SPID" || fail "the server died with the fake worker"

write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=real \
    "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"
wait_log "$SLOG" "worker real \\(.*\\) joined the pool" 10 ||
    fail "the real worker did not join the pool"
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 1M -k -w 20) ||
    fail "the tunnel after the cut failed"
[ "$got" = "$("$SOCKSC" -G 1M -k)" ] ||
    fail "the tunnel after the cut damaged its data: $got"
echo "cut in the middle of a spliced body: tunnel link-lost, server fine"
exit 0
