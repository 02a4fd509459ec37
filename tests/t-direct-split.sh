#!/bin/sh
# Direct mode: a handshake split at every byte (socksc -s), and greeting,
# request and early data coalesced in one write (socksc -c -e), give the
# same tunnel as a plain handshake, for SOCKS5, 4 and 4a; early data
# sent before the reply is neither lost nor reordered (the echo sink
# returns it first) and counts in the access line's up bytes.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

EARLY=early-data:
N=0
# run HOST VERSION SOCKSC-ARGS...: early data then "tail" come back.
run() {
	_h=$1
	_v=$2
	shift 2
	_what="SOCKS$_v to $_h${1:+ ($*)}"
	_got=$(echo tail | "$SOCKSC" -x 127.0.0.1:$SP -t "$_h:$ECHO" \
	    -v "$_v" -e "$EARLY" -w 10 "$@" 2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "$_what: socksc exit $_rc: $(cat "$T/err")"
	[ "$_got" = "${EARLY}tail" ] ||
	    fail "$_what: echo returned '$_got', want '${EARLY}tail'"
	N=$((N + 1))
}

for hv in '127.0.0.1 5' 'localhost 5' '127.0.0.1 4' 'localhost 4a'; do
	set -- $hv
	run "$1" "$2"			# request, then early data at once
	run "$1" "$2" -s 2		# each handshake byte its own write
	run "$1" "$2" -c		# everything in one write
	run "$1" "$2" -c -s 1		# no waiting, and every byte alone
done

# Every tunnel: up = early data + "tail\n", the same down.
len=$((${#EARLY} + 5))
wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge $N ]" 5 ||
    fail "fewer than $N access lines"
n=$(grep -c "^access .* result=ok up=$len down=$len ms=" "$ESOCKSD_LOG")
[ "$n" -eq "$N" ] ||
    fail "$n of $N access lines say result=ok up=$len down=$len"
stop_daemon
exit 0
