#!/bin/sh
# CLIENT_ALLOW closes a client outside the allowed CIDRs before a byte
# is read or written, and admits one inside; a server that would be an
# open proxy (AUTH=none, CLIENT_ALLOW beyond private networks) refuses
# to start, or to reload into that, unless OPEN_PROXY=yes.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Stop every process still running, then fail on any sanitizer report
# (an --enable-asan build) in the daemons' logs.
sec_finish() {
	for _p in $LIB_PIDS; do
		lib_alive $_p && stop_pid $_p
	done
	_bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    $LIB_LOGS /dev/null)
	[ -z "$_bad" ] || fail "sanitizer report in $_bad"
}

start_sink echo
ECHO=$SINK_PORT

# One byte given by its decimal value.
byte() {
	printf "\\$(printf '%03o' "$1")"
}

# A SOCKS5 no-auth CONNECT to 127.0.0.1:PORT, then DATA, as raw bytes.
socks5_raw() {
	printf '\005\001\000\005\001\000\001\177\000\000\001'
	byte $(($1 / 256))
	byte $(($1 % 256))
	printf '%s' "$2"
}

# Run esocksd in the foreground, expecting it to exit by itself within
# 10 s; sets rc and leaves its output in FILE.  ARGS... as for esocksd.
run_exit() {
	_out=$1
	shift
	"$ESOCKSD" -f "$@" >"$_out" 2>&1 &
	_pid=$!
	track_pid $_pid
	wait_for "! lib_alive $_pid" 10 ||
	    fail "esocksd $* kept running; expected it to refuse to start"
	wait $_pid
	rc=$?
}

# --- CLIENT_ALLOW: only 127.0.0.2 may use the proxy.
SP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/server.pid" \
    CLIENT_ALLOW=127.0.0.2/32
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID

# From 127.0.0.1: closed at once, not a byte sent back (-H waits for
# the server's EOF without sending anything, up to 3 s).
out=$("$SOCKSC" -D -t 127.0.0.1:$SP -H -w 3 2>&1)
rc=$?
[ $rc -eq 0 ] ||
    fail "a client outside CLIENT_ALLOW was not closed (rc $rc: $out)"
[ -z "$out" ] || fail "a client outside CLIENT_ALLOW was sent '$out'"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 3 2>&1)
rc=$?
[ $rc -eq 4 ] ||
    fail "a SOCKS client outside CLIENT_ALLOW: rc $rc, '$out' (want 4)"
wait_log "$LOG" "refused 127\\.0\\.0\\.1:[0-9]+ on socks 127\\.0\\.0\\.1:$SP: \
not in CLIENT_ALLOW" ||
    fail "no log line for the client refused by CLIENT_ALLOW"
grep -q 'connection from 127\.0\.0\.1:' "$LOG" &&
    fail "a client outside CLIENT_ALLOW got as far as a connection"

# From 127.0.0.2 (nc can bind the source address; socksc cannot).
if command -v nc >/dev/null 2>&1 &&
    nc -h 2>&1 | grep -q -e '-s sourceaddr' &&
    nc -h 2>&1 | grep -q -e '-N'; then
	socks5_raw $ECHO allowed >"$T/req"
	nc -N -w 5 -s 127.0.0.2 127.0.0.1 $SP <"$T/req" >"$T/resp" 2>&1
	got=$(od -An -tx1 "$T/resp" | tr -d ' \n')
	case $got in
	05000500000[14]*616c6c6f776564) ;;
	*) fail "client 127.0.0.2 inside CLIENT_ALLOW got '$got'" ;;
	esac
	wait_log "$LOG" "access client=127\\.0\\.0\\.2:[0-9]+ .* \
dest=127\\.0\\.0\\.1:$ECHO via=direct result=ok" ||
	    fail "no access line for the allowed client 127.0.0.2"
else
	echo "no OpenBSD nc: the allowed-source half is not tested" >&2
fi

# Reloading into an open proxy is refused; the old rules stay.
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/server.pid" \
    CLIENT_ALLOW=0.0.0.0/0
kill -HUP $PID
wait_log "$LOG" 'reload failed, keeping the old configuration: .*OPEN_PROXY' ||
    fail "reload into an open proxy was not refused with the reason"
out=$("$SOCKSC" -D -t 127.0.0.1:$SP -H -w 3 2>&1)
rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] ||
    fail "after the refused reload 127.0.0.1 is no longer closed ($rc: $out)"
stop_pid $PID

# --- The open-proxy rule at start.
WHY='CLIENT_ALLOW admits addresses beyond private networks with AUTH=none'
for allow in 0.0.0.0/0 ::/0 '127.0.0.0/8 0.0.0.0/1'; do
	write_conf "$T/open.conf" "SOCKS_LISTEN=127.0.0.1:$(free_port)" \
	    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/open.pid" \
	    "CLIENT_ALLOW='$allow'"
	run_exit "$T/open.out" -c "$T/open.conf" server
	[ $rc -eq 2 ] ||
	    fail "CLIENT_ALLOW=$allow AUTH=none started (exit $rc): \
$(cat "$T/open.out")"
	grep -q "$WHY" "$T/open.out" && grep -q 'OPEN_PROXY=yes' "$T/open.out" ||
	    fail "CLIENT_ALLOW=$allow: the refusal does not say why: \
$(cat "$T/open.out")"
	run_exit "$T/open.out" -t -c "$T/open.conf" server
	[ $rc -eq 2 ] || fail "esocksd -t accepted CLIENT_ALLOW=$allow (exit $rc)"
done

# Private ranges are not an open proxy.
write_conf "$T/private.conf" "SOCKS_LISTEN=127.0.0.1:$(free_port)" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/private.pid" \
    "CLIENT_ALLOW='10.0.0.0/8 192.168.0.0/16 127.0.0.0/8 ::1/128'"
run_exit "$T/private.out" -t -c "$T/private.conf" server
[ $rc -eq 0 ] ||
    fail "private CLIENT_ALLOW rejected (exit $rc): $(cat "$T/private.out")"

# With AUTH=password it is not an open proxy either.
printf 'u:%s\n' '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5' \
    >"$T/passwd"
chmod 600 "$T/passwd"
write_conf "$T/auth.conf" "SOCKS_LISTEN=127.0.0.1:$(free_port)" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/auth.pid" \
    CLIENT_ALLOW=0.0.0.0/0 AUTH=password "PASSWORD_FILE=$T/passwd"
run_exit "$T/auth.out" -t -c "$T/auth.conf" server
[ $rc -eq 0 ] ||
    fail "CLIENT_ALLOW=0.0.0.0/0 with AUTH=password rejected (exit $rc): \
$(cat "$T/auth.out")"

# OPEN_PROXY=yes (in the file, or as -o) acknowledges it: it starts and
# serves (still only on loopback here).
SP2=$(free_port)
write_conf "$T/open.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/open.pid" \
    CLIENT_ALLOW=0.0.0.0/0
start_esocksd server "$T/open.conf" -o OPEN_PROXY=yes
got=$(echo open | "$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -w 10 \
    2>/dev/null)
[ "$got" = open ] || fail "OPEN_PROXY=yes server did not serve: '$got'"
stop_pid $ESOCKSD_PID
printf 'OPEN_PROXY=yes\n' >>"$T/open.conf"
run_exit "$T/open.out" -t -c "$T/open.conf" server
[ $rc -eq 0 ] ||
    fail "OPEN_PROXY=yes in the file still refused: $(cat "$T/open.out")"
sec_finish
exit 0
