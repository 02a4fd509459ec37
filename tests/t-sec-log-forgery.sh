#!/bin/sh
# Strings from the wire cannot forge log lines or fields.  A SOCKS5
# domain or SOCKS4a host with a space or a newline is refused (host
# unreachable, 0x04; SOCKS4a 0x5b) without a lookup, and the error line
# gives the reason, not the name.  RFC 1929 user names, which may hold
# any byte, are logged percent-encoded: in the "bad password" line and
# in the access line's user= field.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# A published SHA-crypt vector (tests/check_shacrypt.c).
H='$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'
P='Hello world!'
NL='
'

umask 077
printf 'two words:%s\n' "$H" >"$T/passwd"
start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
write_conf "$T/noauth.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/noauth.pid"
start_esocksd server "$T/noauth.conf"

# 1. Forged host names, SOCKS5 and SOCKS4a.
forged="evil result=ok up=999${NL}access client=1.2.3.4:5 user=root"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t "$forged:$ECHO" -a -n -w 5 2>&1)
rc=$?
[ $rc -eq 3 ] && [ "$out" = "reply=0x04 bound=0.0.0.0:0" ] ||
    fail "SOCKS5 forged domain: rc $rc, '$out'"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t "$forged:$ECHO" -v 4a -n -w 5 2>&1)
rc=$?
[ $rc -eq 3 ] && [ "$out" = "reply=0x5b bound=0.0.0.0:0" ] ||
    fail "SOCKS4a forged host: rc $rc, '$out'"
wait_log "$ESOCKSD_LOG" 'SOCKS4a host name with a space' 5 ||
    fail "no log line for the SOCKS4a host"
grep -q 'SOCKS5 host name with a space' "$ESOCKSD_LOG" ||
    fail "no log line for the SOCKS5 domain"
grep -E -q 'evil|client=1\.2\.3\.4|up=999' "$ESOCKSD_LOG" &&
    fail "the forged name reached the log"
stop_daemon

# 2. User names: a forged one and a real one with a space.
write_conf "$T/auth.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/auth.pid" \
    AUTH=password "PASSWORD_FILE=$T/passwd"
start_esocksd server "$T/auth.conf"
user="x${NL}bad password for user root"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -U "$user:nope" -n \
    -w 5 2>&1)
rc=$?
[ $rc -eq 3 ] && [ "$out" = auth=0x01 ] ||
    fail "forged user name: rc $rc, '$out'"
wait_log "$ESOCKSD_LOG" \
    'bad password for user x%0Abad%20password%20for%20user%20root$' 5 ||
    fail "the bad user name is not logged escaped"
[ "$(grep -c '^bad password' "$ESOCKSD_LOG")" -eq 0 ] ||
    fail "a forged 'bad password' line in the log"
got=$(echo hi | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
    -U "two words:$P" -w 10 2>"$T/err")
[ "$got" = hi ] || fail "user 'two words': '$got' ($(cat "$T/err"))"
wait_log "$ESOCKSD_LOG" '^access client=[^ ]+ user=two%20words cmd=connect ' \
    5 || fail "user= is not escaped in the access line"
stop_daemon
exit 0
