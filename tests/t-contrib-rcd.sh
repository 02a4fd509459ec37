#!/bin/sh
# Runs the generated FreeBSD rc.d script (contrib/esocksd.rc) on Linux
# against a stand-in for /etc/rc.subr and a stand-in daemon that records
# its arguments, and checks what it would run: the variables it reads
# follow its name, so a copy renamed esocksd_worker is enabled, configured
# and given a PID file of its own beside the original; configtest keeps
# the -o options of the flags; a failed config test stops a start; reload
# runs esocksd -r and fails with it.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-contrib-rcd.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

status=0
fail()
{
	echo "FAIL: $*"
	status=1
}

rc=$TOP_BUILDDIR/contrib/esocksd.rc
[ -f "$rc" ] || { echo "FAIL: $rc not generated"; exit 99; }
# The run and config directories the build put in the scripts.
lsb=$TOP_BUILDDIR/contrib/esocksd-server
rundir=$(sed -n 's|^PIDFILE=\(.*\)/esocksd-server\.pid$|\1|p' "$lsb")
confdir=$(sed -n 's|^DEFAULTS=.*:-\(.*\)/default/\$NAME}$|\1|p' "$lsb")
[ -n "$rundir" ] && [ -n "$confdir" ] ||
    { echo "FAIL: no PIDFILE or DEFAULTS in $lsb"; exit 99; }

# The stand-in daemon: appends its arguments, one call a line, to
# $tmp/calls; a config test (-t) with BAD=1 among its arguments fails
# as esocksd does on a bad config.
cat >"$tmp/esocksd" <<'EOS'
#!/bin/sh
echo "$*" >>"$FAKE_CALLS"
case " $* " in
*" -t "*BAD=1*)	echo "BAD=1: unknown key" >&2; exit 2 ;;
*" -r "*NOLOAD=1*)	echo "reload failed: the daemon said no" >&2; exit 1 ;;
esac
exit 0
EOS
chmod +x "$tmp/esocksd"
FAKE_CALLS=$tmp/calls
export FAKE_CALLS

# The stand-in rc.subr: just what the script uses, done as FreeBSD's does
# it (${name}_program replaces command, rc_flags comes from
# ${name}_flags, a precmd that fails stops the command).  "show" prints
# what the script set up.
cat >"$tmp/rc.subr" <<'EOS'
load_rc_config()
{
	. "$RCD_CONF"
}
checkyesno()
{
	eval "_v=\${$1}"
	case $_v in
	[Yy][Ee][Ss]|[Tt][Rr][Uu][Ee]|[Oo][Nn]|1)	return 0 ;;
	esac
	return 1
}
run_rc_command()
{
	eval "_p=\${${name}_program}"
	command=${_p:-$command}
	eval "rc_flags=\${${name}_flags}"
	case $1 in
	show)
		echo "rcvar=$rcvar"
		checkyesno "$rcvar" && echo enabled=yes || echo enabled=no
		echo "pidfile=$pidfile"
		echo "start=$command $rc_flags $command_args"
		echo "required_files=$required_files" ;;
	configtest)
		$configtest_cmd ;;
	reload)
		${reload_precmd:-:} || return 1
		if [ -n "$reload_cmd" ]; then
			$reload_cmd
		else
			echo "kill -$sig_reload" >>"$FAKE_CALLS"
		fi ;;
	start)
		checkyesno "$rcvar" || return 0
		$start_precmd || return 1
		$command $rc_flags $command_args ;;
	esac
}
EOS

# The script as installed, reading the stand-in rc.subr, and a copy
# renamed as the comment in the script says.
sed "s|^\. /etc/rc\.subr\$|. $tmp/rc.subr|" "$rc" >"$tmp/esocksd.rc"
grep -q "^\. $tmp/rc\.subr\$" "$tmp/esocksd.rc" ||
    { echo "FAIL: no '. /etc/rc.subr' line in $rc"; exit 1; }
sed -e 's/^name=esocksd$/name=esocksd_worker/' \
    -e 's/^# PROVIDE: esocksd$/# PROVIDE: esocksd_worker/' \
    "$tmp/esocksd.rc" >"$tmp/esocksd_worker.rc"
grep -q '^name=esocksd_worker$' "$tmp/esocksd_worker.rc" ||
    { echo "FAIL: no 'name=esocksd' line in $rc"; exit 1; }

# rcd SCRIPT ACTION: runs SCRIPT with ACTION and the rc.conf in
# $tmp/rc.conf, output in $tmp/out; returns the script's status.
rcd()
{
	RCD_CONF=$tmp/rc.conf sh "$tmp/$1" "$2" >"$tmp/out" 2>&1
}

# want SCRIPT LINE: "show" of SCRIPT prints LINE.
want()
{
	rcd "$1" show
	grep -qxF "$2" "$tmp/out" && return 0
	fail "$1 show: no line '$2' in:"
	sed 's/^/	/' "$tmp/out"
}

# 1. The script under its own name.
cat >"$tmp/rc.conf" <<EOC
esocksd_enable=YES
esocksd_program=$tmp/esocksd
esocksd_flags="-d -o LOG_SESSION=yes -oIDLE_TIMEOUT=5"
EOC
want esocksd.rc rcvar=esocksd_enable
want esocksd.rc enabled=yes
want esocksd.rc "pidfile=$rundir/esocksd-server.pid"
want esocksd.rc "start=$tmp/esocksd -d -o LOG_SESSION=yes -oIDLE_TIMEOUT=5"\
" -e live -p $rundir/esocksd-server.pid server"

# configtest passes the -o options on, and nothing else of the flags.
: >"$FAKE_CALLS"
rcd esocksd.rc configtest || fail "configtest failed: $(cat "$tmp/out")"
echo "-t -e live -o LOG_SESSION=yes -oIDLE_TIMEOUT=5 server" >"$tmp/want"
cmp -s "$tmp/want" "$FAKE_CALLS" ||
    fail "configtest ran '$(cat "$FAKE_CALLS")', not '$(cat "$tmp/want")'"

# 2. A copy renamed esocksd_worker beside it: its own variables, role and
# PID file; the original keeps its own.
cat >"$tmp/rc.conf" <<EOC
esocksd_enable=YES
esocksd_env=dev
esocksd_program=$tmp/esocksd
esocksd_worker_enable=YES
esocksd_worker_env=eu
esocksd_worker_program=$tmp/esocksd
EOC
want esocksd_worker.rc rcvar=esocksd_worker_enable
want esocksd_worker.rc enabled=yes
want esocksd_worker.rc "pidfile=$rundir/esocksd_worker.pid"
want esocksd_worker.rc \
    "start=$tmp/esocksd  -e eu -p $rundir/esocksd_worker.pid worker"
want esocksd_worker.rc "required_files=$confdir/esocksd/eu.conf"
want esocksd.rc \
    "start=$tmp/esocksd  -e dev -p $rundir/esocksd-server.pid server"
# Disabling the copy leaves the original enabled.
sed -i 's/^esocksd_worker_enable=YES$/esocksd_worker_enable=NO/' \
    "$tmp/rc.conf"
want esocksd_worker.rc enabled=no
want esocksd.rc enabled=yes
# A copy may still be told its role and PID file.
printf '%s\n' esocksd_worker_role=server \
    "esocksd_worker_pidfile=$tmp/second.pid" >>"$tmp/rc.conf"
want esocksd_worker.rc "start=$tmp/esocksd  -e eu -p $tmp/second.pid server"

# 3. A config test that fails stops "start": the daemon is not run.
cat >"$tmp/rc.conf" <<EOC
esocksd_enable=YES
esocksd_program=$tmp/esocksd
esocksd_flags="-o BAD=1"
EOC
: >"$FAKE_CALLS"
if rcd esocksd.rc start; then
	fail "start succeeded although the config test failed"
fi
echo "-t -e live -o BAD=1 server" >"$tmp/want"
cmp -s "$tmp/want" "$FAKE_CALLS" ||
    fail "start with a bad config ran: $(cat "$FAKE_CALLS")"

# 4. reload runs esocksd -r with the PID file and the -o options, and
# fails when it does (the daemon kept its old configuration).
cat >"$tmp/rc.conf" <<EOC
esocksd_enable=YES
esocksd_program=$tmp/esocksd
esocksd_flags="-d -o LOG_SESSION=yes"
EOC
: >"$FAKE_CALLS"
rcd esocksd.rc reload || fail "reload failed: $(cat "$tmp/out")"
echo "-r -e live -p $rundir/esocksd-server.pid -o LOG_SESSION=yes server" \
    >"$tmp/want"
cmp -s "$tmp/want" "$FAKE_CALLS" ||
    fail "reload ran '$(cat "$FAKE_CALLS")', not '$(cat "$tmp/want")'"
echo 'esocksd_flags="-o NOLOAD=1"' >>"$tmp/rc.conf"
if rcd esocksd.rc reload; then
	fail "reload succeeded although esocksd -r failed"
fi
grep -q "the daemon said no" "$tmp/out" ||
    fail "reload does not pass on why: $(cat "$tmp/out")"

[ "$status" -eq 0 ] && echo "rc.d script behaves, under its name and as a copy"
exit $status
