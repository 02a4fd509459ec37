#!/bin/sh
# esocksd -r reports how the daemon's reload went: it checks the config,
# sends SIGHUP to the PID in the PID file and waits for the daemon's
# reload status file (PIDFILE with .pid replaced by .reload).  Exit 0
# when the daemon reloaded; 1 with the daemon's reason when it kept its
# old configuration (here: a new listen address another process holds,
# which no config check can see); 2 for a config error, with no signal
# sent; 1 when nothing runs.  The status file goes with the daemon.  A
# daemon killed with SIGKILL leaves its PID file naming a PID the system
# may hand to another process: -r signals nothing while no daemon holds
# the PID file's lock.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
CONF=$T/esocksd.conf
PIDF=$T/esocksd.pid
STATUS=$T/esocksd.reload
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" "WORKER_LISTEN=127.0.0.1:$WP" \
    "PIDFILE=$PIDF"
start_esocksd server "$CONF"
wait_for "test -s '$PIDF'" 5 || fail "no PID file"
[ "$(cat "$STATUS")" = "$ESOCKSD_PID 0 started" ] ||
    fail "status at start is '$(cat "$STATUS")'"

# 1. A good reload.
"$ESOCKSD" -r -c "$CONF" server >"$T/r1.out" 2>&1 ||
    fail "-r of a good config: exit $?: $(cat "$T/r1.out")"
grep -q "reloaded" "$T/r1.out" || fail "-r does not say reloaded"
[ "$(cat "$STATUS")" = "$ESOCKSD_PID 1 ok" ] ||
    fail "status after a reload is '$(cat "$STATUS")'"

# 2. A reload the daemon fails: the new port is held by a sink.
start_sink echo
echo "SOCKS_LISTEN='127.0.0.1:$SP 127.0.0.1:$SINK_PORT'" >>"$CONF"
"$ESOCKSD" -t -c "$CONF" server >/dev/null 2>&1 ||
    fail "-t rejects the config: the case is not what it should be"
"$ESOCKSD" -r -c "$CONF" server >"$T/r2.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "-r of a failing reload: exit $rc, want 1"
grep -q "reload failed: .*SOCKS_LISTEN: .*127.0.0.1:$SINK_PORT" "$T/r2.out" ||
    fail "-r does not give the daemon's reason: $(cat "$T/r2.out")"
grep -q "^$ESOCKSD_PID 2 failed: " "$STATUS" ||
    fail "status after a failed reload is '$(cat "$STATUS")'"
grep -q "reload failed, keeping the old configuration" "$ESOCKSD_LOG" ||
    fail "the daemon did not log the failure"

# 3. A config error: exit 2, and the daemon never sees a SIGHUP.
echo "NO_SUCH_KEY=1" >>"$CONF"
n=$(grep -c '^reloading ' "$ESOCKSD_LOG")
"$ESOCKSD" -r -c "$CONF" server >"$T/r3.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "-r of a bad config: exit $rc, want 2"
sleep 0.3
[ "$(grep -c '^reloading ' "$ESOCKSD_LOG")" -eq "$n" ] ||
    fail "-r of a bad config signalled the daemon"

# 4. After the stop: no status file, and -r says nothing runs.
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" "WORKER_LISTEN=127.0.0.1:$WP" \
    "PIDFILE=$PIDF"
stop_daemon
[ ! -e "$STATUS" ] || fail "the stop left $STATUS"
"$ESOCKSD" -r -c "$CONF" server >"$T/r4.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "-r with nothing running: exit $rc, want 1"
grep -q "not running" "$T/r4.out" ||
    fail "-r with nothing running says: $(cat "$T/r4.out")"

# 5. A daemon killed with SIGKILL leaves its PID file and status file;
# the PID in them now belongs to another process (reuse, played here by
# a shell that notes every SIGHUP).  -r must not signal it.
start_esocksd server "$CONF"
wait_for "test -s '$PIDF'" 5 || fail "no PID file at the second start"
kill -9 "$ESOCKSD_PID"
wait_for "! lib_alive $ESOCKSD_PID" 5 || fail "SIGKILL did not stop esocksd"
sh -c 'trap "echo hup >>\"$0\"" HUP; while :; do sleep 0.1; done' \
    "$T/hup" &
other=$!
track_pid $other
echo "$other" >"$PIDF"
echo "$other 0 started" >"$STATUS"
"$ESOCKSD" -r -c "$CONF" server >"$T/r5.out" 2>&1
rc=$?
sleep 0.3
[ ! -e "$T/hup" ] || fail "-r sent SIGHUP to pid $other, not an esocksd"
[ $rc -eq 1 ] || fail "-r on a stale PID file: exit $rc, want 1"
grep -q "not running" "$T/r5.out" ||
    fail "-r on a stale PID file says: $(cat "$T/r5.out")"
exit 0
