#!/bin/sh
# DEST_DENY, enforced by the role that dials: with DEST_DENY="127.0.0.0/8
# ::1/128" and an empty DEST_ALLOW, every spelling of a loopback address
# (127.1, 2130706433, 0177.0.0.1, 0.0.0.0, ::ffff:127.0.0.1, 6to4,
# NAT64, local-use NAT64 and SIIT forms, localhost by name) is refused
# with SOCKS5 0x02 / SOCKS4 0x5b, in direct mode and through a worker
# that carries the rule, and the destination never sees a connection.
#
# If the rules failed, some of these addresses (2002:7f00:1::1, say)
# would be dialled for real, beyond this machine.  So the script re-runs
# itself in a network namespace with only loopback when it can; where
# it cannot and the machine has a route for them, those cases are left
# out.

if [ -z "$ESOCKS_NETNS" ] && command -v unshare >/dev/null 2>&1 &&
    command -v ip >/dev/null 2>&1; then
	for _u in "unshare -n" "unshare -r -n"; do
		if $_u sh -c 'ip link set lo up' >/dev/null 2>&1; then
			ESOCKS_NETNS=1
			export ESOCKS_NETNS
			exec $_u sh -c 'ip link set lo up && exec sh "$0" "$@"' \
			    "$0" "$@"
		fi
	done
fi

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

[ -r /proc/net/tcp ] || skip "needs /proc/net/tcp to see the sink's connections"

# Can an address that only embeds 127.0.0.1 be dialled safely if a rule
# failed?  Only when no IPv6 route leaves lo (as in our own namespace).
if [ -r /proc/net/ipv6_route ] &&
    ! awk '$NF != "lo" { f = 1 } END { exit !f }' /proc/net/ipv6_route; then
	SAFE6=1
else
	SAFE6=
	echo "no private network namespace and IPv6 routes leave this" \
	    "machine: the 6to4, NAT64, SIIT and IPv4-compatible cases are" \
	    "skipped" >&2
fi

# Was there ever a TCP connection to or from PORT, other than its
# listener?  Closed ones stay visible in TIME_WAIT for a minute.
sink_touched() {
	_hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
	    $4 != "0A" && (substr($2, length($2) - 4) == p ||
	    substr($3, length($3) - 4) == p) { f = 1 }
	    END { exit !f }'
}

start_sink echo
SINK=$SINK_PORT
sink_touched $SINK && fail "the fresh sink already shows a connection"

# The cases: socksc options, then the target host.  SOCKS5 with the
# address as socksc sends it (IPv4, IPv6, or a name), names forced
# with -a, then SOCKS4 and 4a.
CASES5='127.0.0.1
-a 127.0.0.1
127.1
2130706433
0177.0.0.1
0x7f.0.0.1
127.255.255.254
0.0.0.0
-a 0.0.0.0
::ffff:127.0.0.1
-a ::ffff:127.0.0.1
::1
-a localhost'
CASES5_EMBED='2002:7f00:1::1
64:ff9b::7f00:1
64:ff9b:1::7f00:1
::ffff:0:127.0.0.1
::127.0.0.1'
CASES4='127.0.0.1
0.0.0.0'
CASES4A='127.1
2130706433
0177.0.0.1
localhost'
[ -n "$SAFE6" ] && CASES5="$CASES5
$CASES5_EMBED"
NCASES=$(printf '%s\n%s\n%s\n' "$CASES5" "$CASES4" "$CASES4A" | wc -l)

# check_denied SOCKSPORT LOG VIA: every case is refused, and logged.
check_denied() {
	_sp=$1
	_log=$2
	_via=$3
	_before=$(grep -c "^access .* via=$_via result=denied " "$_log")
	printf '%s\n' "$CASES5" | while read -r _a _h; do
		[ -z "$_h" ] && { _h=$_a; _a=; }
		case $_h in *:*) _t="[$_h]:$SINK" ;; *) _t="$_h:$SINK" ;; esac
		_out=$("$SOCKSC" -x 127.0.0.1:$_sp -t "$_t" $_a -w 10 \
		    </dev/null 2>&1)
		_rc=$?
		case $_rc:$_out in
		3:"reply=0x02 "*) ;;
		*) fail "via $_via: SOCKS5 $_a $_t gave rc $_rc '$_out'," \
		    "want 0x02 (not allowed by ruleset)" ;;
		esac
	done || exit 1
	for _v in 4 4a; do
		if [ $_v = 4 ]; then _c=$CASES4; else _c=$CASES4A; fi
		printf '%s\n' "$_c" | while read -r _h; do
			_out=$("$SOCKSC" -x 127.0.0.1:$_sp -t "$_h:$SINK" \
			    -v $_v -w 10 </dev/null 2>&1)
			_rc=$?
			case $_rc:$_out in
			3:"reply=0x5b "*) ;;
			*) fail "via $_via: SOCKS$_v $_h gave rc $_rc" \
			    "'$_out', want 0x5b" ;;
			esac
		done || exit 1
	done
	wait_for "[ \$(grep -c '^access .* via=$_via result=denied ' \
	    '$_log') -ge $((_before + NCASES)) ]" 5 ||
	    fail "via $_via: fewer than $NCASES access lines with" \
	    "result=denied"
	grep "^access .* via=$_via " "$_log" | grep -v 'result=denied ' |
	    grep . && fail "via $_via: an access line that is not denied"
	sink_touched $SINK &&
	    fail "via $_via: the sink saw a connection though all were denied"
	return 0
}

DENY="DEST_DENY='127.0.0.0/8 ::1/128'"

# --- Direct mode: the server dials, the server's rule applies.
SP=$(free_port)
write_conf "$T/direct.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/direct.pid" \
    "$DENY" DEST_ALLOW=
start_esocksd server "$T/direct.conf"
DLOG=$ESOCKSD_LOG
check_denied $SP "$DLOG" direct
grep -q 'connect to 2130706433:[0-9]* failed: denied' "$DLOG" ||
    fail "direct: no error line naming the denied destination"
stop_pid $ESOCKSD_PID

# --- Through a worker: the server has no rule, the worker has DEST_DENY.
SP2=$(free_port)
WP2=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$WP2" "PIDFILE=$T/server.pid" NO_WORKER=refuse
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP2" WORKER_NAME=guard \
    "PIDFILE=$T/worker.pid" "$DENY" DEST_ALLOW=
start_esocksd worker "$T/worker.conf"
WLOG=$ESOCKSD_LOG
wait_log "$SLOG" 'worker guard .* joined the pool' ||
    fail "the worker did not register"
check_denied $SP2 "$SLOG" guard
grep -q "session 0177\\.0\\.0\\.1:$SINK: denied" "$WLOG" ||
    fail "the worker did not log the denied session"

# The sink is reachable, and this check can see it: connect directly.
echo probe | "$SOCKSC" -D -t 127.0.0.1:$SINK -w 5 >/dev/null ||
    fail "direct connection to the sink failed"
wait_for "sink_touched $SINK" 3 ||
    fail "sink_touched cannot see a real connection: the check is blind"
sec_finish
exit 0
