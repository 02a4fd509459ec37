#!/bin/sh
# A SIGHUP during start-up (a logrotate that races an init script) does
# not kill the daemon: it is held until the handlers are in place and
# then reloads.  The daemon is caught mid-start by a WORKER_SECRET_FILE
# that is a FIFO: it waits in reading the secret while we signal it.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

command -v mkfifo >/dev/null 2>&1 || skip "no mkfifo"
mkfifo "$T/secret" || skip "cannot make a FIFO in $T"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    "WORKER_SECRET_FILE=$T/secret"
LOG=$T/esocksd.log
LIB_LOGS="$LIB_LOGS $LOG"

# The writer opens the FIFO (which waits for the daemon to open it too),
# says so, and holds the secret back for two seconds.
{ : >"$T/opened"; sleep 2; echo early-secret; } >"$T/secret" &
track_pid $!
"$ESOCKSD" -f -c "$T/esocksd.conf" server >"$LOG" 2>&1 &
PID=$!
track_pid $PID
wait_for "[ -e '$T/opened' ]" 10 ||
    fail "the daemon never opened its WORKER_SECRET_FILE"
# It is now in start-up, reading the secret.
kill -HUP $PID
kill -USR1 $PID

# The reload it owes reads the FIFO again: feed it once more.
wait_for "lib_listening $SP" 10 ||
    fail "the daemon did not start after an early SIGHUP"
echo early-secret >"$T/secret" &
track_pid $!
wait_log "$LOG" '^reloaded ' 10 || fail "the early SIGHUP was not a reload"
wait_log "$LOG" '^counters: ' 5 || fail "the early SIGUSR1 was lost"
lib_alive $PID || fail "the daemon died"
ESOCKSD_PID=$PID
ESOCKSD_LOG=$LOG
stop_daemon
exit 0
