#!/bin/sh
# Drives the installed LSB init script (contrib/esocksd.init.in, installed
# as esocksd-server) for real: installs the build tree into a throw-away
# DESTDIR, points a defaults file ($ESOCKSD_DEFAULTS) at a config on free
# loopback ports, and checks start, status, reload, restart, stop and the
# LSB exit codes, once with plain kill and once with start-stop-daemon
# when it is installed; a reload the daemon fails is reported as failed.  Traffic goes through the proxy in direct mode to
# a tsink echo server.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"
: "${MAKE:=make}"
: "${TSINK:=$TOP_BUILDDIR/tests/tsink}"
: "${SOCKSC:=$TOP_BUILDDIR/tests/socksc}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-initscript.XXXXXX") || exit 99
# PIDs to kill on the way out: daemons the script started, the echo server.
pids=
cleanup()
{
	for pid in $pids; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 1
	for pid in $pids; do
		kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

for t in "$TSINK" "$SOCKSC"; do
	[ -x "$t" ] || { echo "FAIL: $t not built"; exit 99; }
done

status=0
fail()
{
	echo "FAIL: $*"
	status=1
}

# 1. Install into a DESTDIR, the configured directories under it.  DESTDIR
# alone: a directory given to make would rebuild what the tree installs,
# and the tree's esocksd must come out as it went in.
[ -n "$INST_SBINDIR" ] || { echo "SKIP: run by make check"; exit 77; }
unset MAKEFLAGS MFLAGS GNUMAKEFLAGS
dest=$tmp/dest
cp -p "$TOP_BUILDDIR/src/esocksd" "$tmp/esocksd.before" || exit 99
if ! $MAKE -C "$TOP_BUILDDIR" install DESTDIR="$dest" \
    >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: make install failed"
	exit 1
fi
cmp -s "$tmp/esocksd.before" "$TOP_BUILDDIR/src/esocksd" ||
    fail "make install DESTDIR=... changed the build tree's src/esocksd"
script=$dest$INST_CONTRIBDIR/esocksd-server
daemon=$dest$INST_SBINDIR/esocksd
[ -x "$script" ] || { echo "FAIL: $script not installed"; exit 1; }
[ -x "$daemon" ] || { echo "FAIL: $daemon not installed"; exit 1; }

# 2. Free loopback ports: SOCKS, worker link, a second SOCKS port that a
# reload adds.
free_port()
{
	"$TSINK" -F
}
sport=$(free_port) && wport=$(free_port) && sport2=$(free_port) ||
    { echo "FAIL: tsink -F"; exit 99; }
n=0
while [ "$sport" = "$wport" ] || [ "$sport2" = "$sport" ] ||
    [ "$sport2" = "$wport" ]; do
	n=$((n + 1))
	[ "$n" -lt 20 ] || { echo "FAIL: no three distinct ports"; exit 99; }
	wport=$(free_port)
	sport2=$(free_port)
done

# The destination: an echo server.
"$TSINK" -l 127.0.0.1:0 -P "$tmp/echo.port" -m echo &
pids="$pids $!"
n=0
while [ ! -s "$tmp/echo.port" ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || { echo "FAIL: tsink did not start"; exit 99; }
	sleep 0.1
done
eport=$(cat "$tmp/echo.port")

mkdir "$tmp/run"
pidfile=$tmp/run/esocksd-server.pid
conf=$tmp/test.conf
write_conf()
{
	cat >"$conf" <<EOF
# throw-away config of t-initscript.sh
SOCKS_LISTEN='$1'
WORKER_LISTEN=127.0.0.1:$wport
CLIENT_ALLOW='127.0.0.0/8 ::1/128'
NO_WORKER=direct
LOG_EVENT=yes
EOF
}
write_conf "127.0.0.1:$sport"

# write_defaults MODE [CONFIG]: the init script's defaults file.
write_defaults()
{
	cat >"$tmp/defaults" <<EOF
DAEMON=$daemon
CONFIG=${2:-$conf}
PIDFILE=$pidfile
OPTIONS="-o LOG_SESSION=yes"
STOP_TIMEOUT=12
START_STOP_DAEMON=$1
EOF
}

# A daemon that does not fork would hang "start" for ever.
timeout=
command -v timeout >/dev/null 2>&1 && timeout="timeout 60"

ESOCKSD_DEFAULTS=$tmp/defaults
export ESOCKSD_DEFAULTS

# initscript ACTION: runs the installed script, output in $tmp/out (never
# through a pipe: a daemon that kept one open would hang the test), and
# returns its exit status.
initscript()
{
	$timeout "$script" "$1" >"$tmp/out" 2>&1
	rc=$?
	[ "$rc" -ne 124 ] || [ -z "$timeout" ] ||
	    echo "  $1: killed after 60 s (does the daemon not fork?)"
	sed "s/^/  $1: /" "$tmp/out"
	return $rc
}

# expect WANT ACTION: runs the script and checks its exit status.
expect()
{
	initscript "$2"
	got=$?
	[ "$got" -eq "$1" ] || fail "$2 ($mode) exited $got, wanted $1"
	return 0
}

# alive PID: the process exists and is not a zombie (PID 1 of a container
# may be slow to reap, or never reap, a daemon's exited process).
alive()
{
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -p "$1" -o stat= 2>/dev/null) in
	Z*)	return 1 ;;
	esac
	return 0
}

# The PID in the PID file, if the process lives; else empty.
live_pid()
{
	[ -s "$pidfile" ] || return 1
	read -r lp <"$pidfile"
	alive "$lp" || return 1
	echo "$lp"
}

# serves PORT: one round trip through the proxy on PORT to the echo
# server.
serves()
{
	out=$(printf 'through the proxy\n' |
	    "$SOCKSC" -x "127.0.0.1:$1" -t "127.0.0.1:$eport" -w 10 \
	    2>"$tmp/socksc.err")
	if [ "$out" != "through the proxy" ]; then
		cat "$tmp/socksc.err"
		return 1
	fi
	return 0
}

# serves_soon PORT: as serves, retried for up to 5 s (a reload is
# asynchronous).
serves_soon()
{
	n=0
	while ! serves "$1" >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -lt 50 ] || { serves "$1"; return 1; }
		sleep 0.1
	done
	return 0
}

# gone PID: waits up to 15 s for PID to exit.
gone()
{
	n=0
	while alive "$1"; do
		n=$((n + 1))
		[ "$n" -lt 150 ] || return 1
		sleep 0.1
	done
	return 0
}

# 3. The whole life cycle, for each way of sending signals.
modes=no
command -v start-stop-daemon >/dev/null 2>&1 && modes="no auto"
for mode in $modes; do
	echo "== START_STOP_DAEMON=$mode"
	write_conf "127.0.0.1:$sport"
	write_defaults "$mode"

	expect 3 status
	expect 0 stop			# stopping a stopped service is success
	expect 7 reload			# nothing to reload

	expect 0 start
	pid=$(live_pid) || { fail "start ($mode): no live PID in $pidfile"; continue; }
	pids="$pids $pid"
	echo "  daemon pid $pid"
	expect 0 status
	serves "$sport" || fail "start ($mode): no echo through port $sport"

	# start again: still the same process.
	expect 0 start
	[ "$(live_pid)" = "$pid" ] || fail "second start ($mode) changed the pid"

	# reload: same process, the old listener kept, the new one served.
	write_conf "127.0.0.1:$sport 127.0.0.1:$sport2"
	expect 0 reload
	sleep 0.5
	[ "$(live_pid)" = "$pid" ] ||
	    fail "reload ($mode): pid $pid is gone (SIGHUP not handled)"
	serves_soon "$sport2" ||
	    fail "reload ($mode): new listener $sport2 not served"
	serves "$sport" ||
	    fail "reload ($mode): old listener $sport no longer served"
	expect 0 status

	# A reload the daemon itself fails (the config is good, but the
	# echo server holds the new port): exit 1, saying why, and the
	# daemon keeps its old listeners.
	write_conf "127.0.0.1:$sport 127.0.0.1:$sport2 127.0.0.1:$eport"
	expect 1 reload
	grep -q "reload failed: .*127.0.0.1:$eport.*in use" "$tmp/out" ||
	    fail "failed reload ($mode) does not say why"
	grep -q "reload failed, the old configuration stays" "$tmp/out" ||
	    fail "failed reload ($mode) does not say the old config stays"
	[ "$(live_pid)" = "$pid" ] || fail "failed reload ($mode) hurt the daemon"
	serves "$sport2" || fail "failed reload ($mode): $sport2 no longer served"
	write_conf "127.0.0.1:$sport 127.0.0.1:$sport2"
	expect 0 reload

	# force-reload with a broken config: refused, the daemon untouched.
	printf 'NO_SUCH_KEY=1\n' >"$tmp/bad.conf"
	write_defaults "$mode" "$tmp/bad.conf"
	expect 6 force-reload
	expect 6 configtest
	write_defaults "$mode"
	[ "$(live_pid)" = "$pid" ] || fail "bad reload ($mode) hurt the daemon"
	serves "$sport" || fail "bad reload ($mode): no longer served"

	# restart: a new process that serves.
	expect 0 restart
	newpid=$(live_pid) || { fail "restart ($mode): no live PID"; continue; }
	pids="$pids $newpid"
	[ "$newpid" != "$pid" ] || fail "restart ($mode) kept pid $pid"
	gone "$pid" || fail "restart ($mode): old pid $pid still runs"
	serves "$sport" || fail "restart ($mode): no echo through port $sport"
	pid=$newpid

	# stop: the process is gone, and so is the PID file.
	expect 0 stop
	gone "$pid" || fail "stop ($mode): pid $pid still runs"
	[ ! -e "$pidfile" ] || fail "stop ($mode) left $pidfile"
	expect 3 status

	# A daemon that died leaves its PID file: status 1, then start
	# copes with the stale file.
	expect 0 start
	pid=$(live_pid) || { fail "start after stop ($mode): no live PID"; continue; }
	pids="$pids $pid"
	kill -KILL "$pid"
	gone "$pid" || fail "pid $pid survives SIGKILL"
	[ -e "$pidfile" ] || fail "SIGKILL removed $pidfile?"
	expect 1 status
	expect 0 start
	pid=$(live_pid) ||
	    { fail "start over a stale PID file ($mode): no live PID"; continue; }
	pids="$pids $pid"
	serves "$sport" || fail "start over a stale PID file ($mode): no echo"
	expect 0 stop
	gone "$pid" || fail "final stop ($mode): pid $pid still runs"
	expect 3 status

	# A clean stop by a daemon that dropped privileges leaves an empty
	# PID file (it cannot unlink it): that is "not running", status 3,
	# and neither stop nor start trips over it.
	: >"$pidfile"
	expect 3 status
	expect 0 stop
	: >"$pidfile"
	expect 0 start
	pid=$(live_pid) ||
	    { fail "start over an empty PID file ($mode): no live PID"; continue; }
	pids="$pids $pid"
	expect 0 stop
	gone "$pid" || fail "stop after empty PID file ($mode): $pid runs"

	# A config error at start is LSB 6, and nothing runs.
	write_defaults "$mode" "$tmp/bad.conf"
	expect 6 start
	expect 3 status
	write_defaults "$mode"
done

# 4. The case of the field report: the daemon runs as nobody and its
# secret is root's alone.  Root's config test passes; the daemon's own
# reload cannot read the secret, and reload must say so.  Root only.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mode=nobody
	echo "== USER=nobody, secret readable by root only"
	chmod 755 "$tmp"
	umask 077
	echo "the shared secret" >"$tmp/secret"
	umask 022
	write_conf "127.0.0.1:$sport"
	printf 'USER=nobody\nWORKER_SECRET_FILE=%s\n' "$tmp/secret" >>"$conf"
	chmod 644 "$conf"
	write_defaults no
	expect 0 start
	if pid=$(live_pid); then
		pids="$pids $pid"
		expect 1 reload
		grep -q "reload failed: .*$tmp/secret" "$tmp/out" ||
		    fail "the reload as nobody does not name the secret"
		[ "$(live_pid)" = "$pid" ] || fail "failed reload hurt the daemon"
		serves "$sport" || fail "no longer served after the failed reload"
		expect 0 stop
	else
		fail "start as nobody: no live PID in $pidfile"
	fi
fi

expect 2 no-such-action
# One list of actions, with no blank inside it.
actions='start|stop|restart|try-restart|reload|force-reload|status|configtest'
grep -q "^usage: [^ ]* $actions\$" "$tmp/out" ||
    fail "the usage line is not 'usage: SCRIPT $actions'"

[ "$status" -eq 0 ] && echo "init script behaves"
exit $status
