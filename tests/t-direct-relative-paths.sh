#!/bin/sh
# Relative paths: a daemon (no -f, so it does chdir("/")) started in a
# directory with -p, PASSWORD_FILE and WORKER_SECRET_FILE relative to it
# writes its PID file there, reloads on SIGHUP with both files still
# found (a new SOCKS port appears and takes the password), and removes
# that PID file when it stops.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Hashes from openssl where it can make "$5$" ones, else a published
# vector of the SHA-crypt specification (tests/check_shacrypt.c).
if H=$(openssl passwd -5 -salt esocksrel 'rel pass' 2>/dev/null) &&
    case $H in '$5$'*) true ;; *) false ;; esac; then
	P='rel pass'
else
	H='$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'
	P='Hello world!'
fi
umask 077
printf 'alice:%s\n' "$H" >"$T/passwd"
echo relative-secret >"$T/secret"

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
SP2=$(free_port)
WP=$(free_port)
conf() {
	write_conf "$T/esocksd.conf" "SOCKS_LISTEN='$1'" \
	    "WORKER_LISTEN=127.0.0.1:$WP" AUTH=password PASSWORD_FILE=passwd \
	    WORKER_SECRET_FILE=./secret
}
conf "127.0.0.1:$SP"

(cd "$T" && "$ESOCKSD" -c esocksd.conf -p rel.pid server) \
    >"$T/start.log" 2>&1 || fail "start failed: $(cat "$T/start.log")"
wait_for "[ -s '$T/rel.pid' ]" 10 || fail "no PID file $T/rel.pid"
PID=$(cat "$T/rel.pid")
track_pid "$PID"
lib_alive "$PID" || fail "the daemon (pid $PID) is not running"

# tunnel PORT: a password tunnel through the proxy echoes.
tunnel() {
	got=$(echo "via $1" | "$SOCKSC" -x "127.0.0.1:$1" \
	    -t "127.0.0.1:$ECHO" -U "alice:$P" -w 5 2>"$T/err") ||
	    fail "tunnel through $1: $(cat "$T/err")"
	[ "$got" = "via $1" ] || fail "echo through $1 gave '$got'"
}
tunnel "$SP"

# A reload re-reads both relative files: the new port must appear.
conf "127.0.0.1:$SP 127.0.0.1:$SP2"
kill -HUP "$PID"
wait_for "lib_listening $SP2" 10 ||
    fail "no listener on $SP2 after SIGHUP: the reload failed"
tunnel "$SP2"
tunnel "$SP"

kill "$PID"
wait_for "! lib_alive $PID" 15 || fail "the daemon did not stop"
[ -e "$T/rel.pid" ] && fail "PID file $T/rel.pid left behind (size \
$(wc -c <"$T/rel.pid"))"
[ -e /rel.pid ] && fail "a PID file was written to /rel.pid"
exit 0
