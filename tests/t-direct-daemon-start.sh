#!/bin/sh
# Started as a daemon (no -f), esocksd exits only once the daemon runs:
# 0 with the PID file already naming a live daemon that serves, or the
# failing step's status with its reason on stderr (not only in syslog)
# and no PID file left, here for a privilege drop that fails after the
# fork and for a port that is already taken.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
PIDF=$T/esocksd.pid
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"

# A good start: the PID file names the daemon the moment we get back.
"$ESOCKSD" -c "$T/esocksd.conf" server >"$T/start.out" 2>&1
rc=$?
[ -s "$PIDF" ] && PID=$(cat "$PIDF") && track_pid "$PID"
[ $rc -eq 0 ] || fail "a good start: exit $rc: $(cat "$T/start.out")"
[ -n "$PID" ] || fail "the start returned before the PID file was written"
lib_alive "$PID" || fail "the PID file names $PID, which does not run"
got=$(echo daemon | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err") || fail "tunnel through the daemon: $(cat "$T/err")"
[ "$got" = daemon ] || fail "echo through the daemon gave '$got'"
kill "$PID"
wait_for "! lib_alive $PID" 15 || fail "the daemon did not stop"
[ -e "$PIDF" ] && fail "PID file left after the daemon stopped"

# A port in use: the start fails before the fork, on stderr, exit 1.
start_sink hold
write_conf "$T/busy.conf" "SOCKS_LISTEN=127.0.0.1:$SINK_PORT" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"
"$ESOCKSD" -c "$T/busy.conf" server >"$T/busy.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "a busy port: exit $rc, want 1: $(cat "$T/busy.out")"
grep -q "127.0.0.1:$SINK_PORT" "$T/busy.out" ||
    fail "a busy port: stderr does not say which: $(cat "$T/busy.out")"
[ -e "$PIDF" ] && fail "a busy port: PID file left behind"

# Dropping to USER fails after the fork when we are not root: setgroups
# is refused.  As root, run the start itself as nobody.
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null 2>&1 || skip "root, and no setpriv"
	id nobody >/dev/null 2>&1 || skip "root, and no user nobody"
	AS="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) \
--clear-groups"
	chmod 711 "$T"
	mkdir "$T/run" && chmod 777 "$T/run"
	chmod 644 "$T/esocksd.conf"
else
	AS=
	mkdir "$T/run"
fi
PIDF=$T/run/esocksd.pid
write_conf "$T/drop.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF" USER=root
chmod 644 "$T/drop.conf"
$AS "$ESOCKSD" -c "$T/drop.conf" server >"$T/drop.out" 2>&1
rc=$?
[ -s "$PIDF" ] && track_pid "$(cat "$PIDF")"
[ $rc -eq 1 ] || fail "a failed privilege drop: exit $rc, want 1: \
$(cat "$T/drop.out")"
grep -q '^esocksd: setgroups: ' "$T/drop.out" ||
    fail "a failed privilege drop: stderr does not say why: \
$(cat "$T/drop.out")"
[ -e "$PIDF" ] && fail "a failed privilege drop left $PIDF behind"
lib_listening "$SP" && fail "the daemon that failed still listens on $SP"
exit 0
