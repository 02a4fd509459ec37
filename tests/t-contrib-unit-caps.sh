#!/bin/sh
# The systemd units run esocksd as root with the capability bounding set
# of their CapabilityBoundingSet line, and ExecReload (esocksd -r) runs
# under it too.  A daemon with USER set runs as that user once started,
# and root may signal another user's process only with CAP_KILL: without
# it "systemctl reload" can never reach the daemon, and with PROCESSES
# the supervisor (root) cannot pass a reload or a stop on to its
# processes.  Played here with setpriv and the units' own line, as root
# (skipped otherwise): -r reloads a daemon running as nobody, with one
# process and with PROCESSES=2, and SIGTERM stops the second.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "not root"
command -v setpriv >/dev/null 2>&1 || skip "no setpriv"
id nobody >/dev/null 2>&1 || skip "no user nobody"

for unit in esocksd-server.service esocksd-worker@.service; do
	f=$TOP_BUILDDIR/contrib/$unit
	[ -r "$f" ] || fail "$f not generated"
	line=$(sed -n 's/^CapabilityBoundingSet=//p' "$f")
	[ -n "$line" ] || fail "no CapabilityBoundingSet in $f"
	caps=-all
	for c in $line; do
		c=$(echo "$c" | sed 's/^CAP_//' | tr 'A-Z' 'a-z')
		caps="$caps,+$c"
	done
	echo "$unit: --bounding-set $caps"
	[ -z "$CAPS" ] || [ "$CAPS" = "$caps" ] ||
	    fail "the units' capability sets differ: $CAPS and $caps"
	CAPS=$caps
done
UNIT="setpriv --bounding-set $CAPS --"
$UNIT true || skip "setpriv --bounding-set does not work here"

chmod 711 "$T"
mkdir "$T/run"
PIDF=$T/run/esocksd.pid

# run_case NAME [KEY=VALUE...]: a server as nobody under the units'
# bounding set, reloaded with -r under it, then stopped with SIGTERM.
run_case() {
	_name=$1
	shift
	SP=$(free_port)
	WP=$(free_port)
	write_conf "$T/$_name.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF" USER=nobody "$@"
	chmod 644 "$T/$_name.conf"
	$UNIT "$ESOCKSD" -f -c "$T/$_name.conf" server \
	    >"$T/$_name.log" 2>&1 &
	_pid=$!
	track_pid $_pid
	LIB_LOGS="$LIB_LOGS $T/$_name.log"
	wait_log "$T/$_name.log" 'started as server' 10 ||
	    fail "$_name: the daemon did not start"
	$UNIT "$ESOCKSD" -r -c "$T/$_name.conf" server >"$T/$_name.r" 2>&1 ||
	    fail "$_name: -r under the units' capabilities: exit $?: \
$(cat "$T/$_name.r")"
	kill -TERM $_pid
	wait_for "! lib_alive $_pid" 8 ||
	    fail "$_name: SIGTERM did not stop the daemon within 8 s"
}

run_case one
run_case two PROCESSES=2
exit 0
