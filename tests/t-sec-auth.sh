#!/bin/sh
# AUTH=password (RFC 1929) with a PASSWORD_FILE of SHA-crypt hashes: the
# right password opens a tunnel and the access line names the user; a
# wrong password, an unknown user, a client offering no authentication
# and a SOCKS4 client are all refused; SIGHUP picks up a changed file.
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

# Hashes from openssl where it can make "$5$" ones, else two published
# vectors of the SHA-crypt specification (tests/check_shacrypt.c).
if H1=$(openssl passwd -5 -salt esocksauth 'first pass' 2>/dev/null) &&
    H2=$(openssl passwd -5 -salt esocksauth 'second pass' 2>/dev/null) &&
    case $H1$H2 in '$5$'*'$5$'*) true ;; *) false ;; esac; then
	P1='first pass'
	P2='second pass'
else
	H1='$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'
	P1='Hello world!'
	H2='$5$rounds=5000$toolongsaltstrin$'
	H2=$H2'Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'
	P2='This is just a test'
fi

umask 077
printf '# test users\nalice:%s\ncarol:%s\n' "$H1" "$H2" >"$T/passwd"

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/server.pid" \
    AUTH=password "PASSWORD_FILE=$T/passwd"
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID

# socks ARGS...: run socksc against the proxy; sets out (stdout+stderr)
# and rc.
socks() {
	out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 "$@" \
	    </dev/null 2>&1)
	rc=$?
}

# Access lines of tunnels that worked.
ok_count() {
	grep -c '^access .* result=ok ' "$LOG"
}

# The right password: a tunnel, and user=alice in the access line.
got=$(echo hi-alice | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
    -U "alice:$P1" -w 10 2>"$T/err")
[ "$got" = hi-alice ] ||
    fail "alice with her password: got '$got' ($(cat "$T/err"))"
wait_log "$LOG" "access client=127\\.0\\.0\\.1:[0-9]+ user=alice \
cmd=connect dest=127\\.0\\.0\\.1:$ECHO via=direct result=ok" ||
    fail "no access line with user=alice"

# A wrong password, an unknown user, an empty password: auth fails.
socks -U "alice:$P2" -n
[ $rc -eq 3 ] && [ "$out" = auth=0x01 ] ||
    fail "alice with a wrong password: rc $rc, '$out'"
socks -U "mallory:$P1" -n
[ $rc -eq 3 ] && [ "$out" = auth=0x01 ] ||
    fail "an unknown user: rc $rc, '$out'"
socks -U "carol:" -n
[ $rc -eq 3 ] && [ "$out" = auth=0x01 ] ||
    fail "carol with an empty password: rc $rc, '$out'"
wait_log "$LOG" 'bad password for user mallory' ||
    fail "no log line for the unknown user"
[ "$(ok_count)" -eq 1 ] || fail "a refused login got a tunnel"

# Offering only "no authentication": method 0xff, nothing more.
socks -n
[ $rc -eq 3 ] && [ "$out" = method=0xff ] ||
    fail "a client without credentials: rc $rc, '$out'"
# SOCKS4 and 4a carry no password: refused (0x5b), nothing dialled.
socks -v 4 -n
[ $rc -eq 3 ] && [ "$out" = "reply=0x5b bound=0.0.0.0:0" ] ||
    fail "SOCKS4 with AUTH=password: rc $rc, '$out'"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t localhost:$ECHO -v 4a -n -w 10 2>&1)
rc=$?
[ $rc -eq 3 ] && [ "$out" = "reply=0x5b bound=0.0.0.0:0" ] ||
    fail "SOCKS4a with AUTH=password: rc $rc, '$out'"
wait_log "$LOG" 'SOCKS4 refused: AUTH=password' ||
    fail "no log line for the SOCKS4 refusal"
[ "$(ok_count)" -eq 1 ] || fail "a refused SOCKS4 client got a tunnel"

# Carol's password works before the reload ...
socks -U "carol:$P2" -n
[ $rc -eq 0 ] || fail "carol before the reload: rc $rc, '$out'"

# Reload with alice's password changed and carol removed.
printf 'alice:%s\n' "$H2" >"$T/passwd.new"
mv "$T/passwd.new" "$T/passwd"
kill -HUP $PID
wait_log "$LOG" "reloaded $T/server.conf" ||
    fail "SIGHUP did not reload"
socks -U "alice:$P2" -n
[ $rc -eq 0 ] || fail "alice's new password after reload: rc $rc, '$out'"
socks -U "alice:$P1" -n
[ $rc -eq 3 ] && [ "$out" = auth=0x01 ] ||
    fail "alice's old password still works after reload: rc $rc, '$out'"
socks -U "carol:$P2" -n
[ $rc -eq 3 ] && [ "$out" = auth=0x01 ] ||
    fail "removed user carol still works after reload: rc $rc, '$out'"

# A password file that became invalid: the old one stays in force.
printf 'alice:not-a-hash\n' >"$T/passwd"
kill -HUP $PID
wait_log "$LOG" 'reload failed, keeping the old configuration' ||
    fail "a bad password file did not fail the reload"
socks -U "alice:$P2" -n
[ $rc -eq 0 ] || fail "after a failed reload alice's password: rc $rc, '$out'"
lib_alive $PID || fail "the server died"
sec_finish
exit 0
