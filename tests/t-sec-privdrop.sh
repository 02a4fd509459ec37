#!/bin/sh
# USER/GROUP: started as root with a port below 1024, the daemon binds it,
# then runs as the unprivileged user with no supplementary groups and no
# way back to root, and still serves; at exit it empties the PID file it
# may no longer remove.  A user that does not exist is a config error:
# exit 2 naming the file and line, before anything is bound.  Skipped
# (77) when not root.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges"
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

# A privileged port that is free: try a few from a range tests rarely use.
LOWPORT=
for p in 980 981 982 983 984 985 986 987 988 989; do
	if ! grep -q ":$(printf '%04X' $p) " /proc/net/tcp 2>/dev/null; then
		LOWPORT=$p
		break
	fi
done
[ -n "$LOWPORT" ] || skip "no free port below 1024"

WP=$(free_port)
chmod 755 "$T"
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$LOWPORT" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    "USER=nobody"
start_sink echo
start_esocksd server "$T/esocksd.conf"

status=/proc/$ESOCKSD_PID/status
wait_for "grep -q '^Uid:[[:space:]]*$NOBODY_UID[[:space:]]' $status" 5 ||
    fail "daemon did not switch to uid $NOBODY_UID: $(grep '^Uid' $status)"
grep -E -q "^Uid:[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID" \
    "$status" || fail "not every uid dropped: $(grep '^Uid' $status)"
grep -E -q "^Gid:[[:space:]]+$NOBODY_GID[[:space:]]+$NOBODY_GID[[:space:]]+$NOBODY_GID" \
    "$status" || fail "not every gid dropped: $(grep '^Gid' $status)"
groups=$(sed -n 's/^Groups:[[:space:]]*//p' "$status" | tr -d ' \t')
[ -z "$groups" ] || [ "$groups" = "$NOBODY_GID" ] ||
    fail "supplementary groups kept: $groups"

got=$(printf 'hello' | "$SOCKSC" -x 127.0.0.1:$LOWPORT \
    -t 127.0.0.1:$SINK_PORT -w 5 2>"$T/err") ||
    fail "tunnel after dropping privileges: $(cat "$T/err")"
[ "$got" = hello ] || fail "echo through the low port gave '$got'"

stop_pid "$ESOCKSD_PID" || fail "daemon did not stop cleanly"
# As nobody it cannot unlink in root's $T: an empty file means stopped.
[ -s "$T/esocksd.pid" ] &&
    fail "PID file still names $(cat "$T/esocksd.pid") after the stop"

# An unknown user: start-up fails as a config error, naming the line.
write_conf "$T/bad.conf" "SOCKS_LISTEN=127.0.0.1:$(free_port)" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/bad.pid" \
    "USER=no-such-user-esocksd"
"$ESOCKSD" -f -c "$T/bad.conf" server >"$T/bad.log" 2>&1 &
pid=$!
track_pid $pid
wait_for "! lib_alive $pid" 5 || fail "daemon with an unknown USER kept running"
wait $pid
rc=$?
[ $rc -eq 2 ] || fail "unknown USER: exit $rc, want 2"
grep -q "bad.conf:4: USER no-such-user-esocksd: no such user" "$T/bad.log" ||
    fail "unknown USER: message does not name the line and user: \
$(cat "$T/bad.log")"
grep -q 'listening on' "$T/bad.log" && fail "unknown USER: bound first"
[ -e "$T/bad.pid" ] && fail "unknown USER: left a PID file"
exit 0
