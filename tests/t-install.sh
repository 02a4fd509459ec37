#!/bin/sh
# Installs the build tree into a throw-away DESTDIR and checks the install
# rules of contrib/ops.am: every file lands where it should with the right
# mode, and the PID files' directory exists; a second install keeps a
# config the operator edited and puts the shipped one beside it as
# .sample; uninstall removes everything else, our directories included,
# and leaves the edited config.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"
: "${MAKE:=make}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

status=0
fail()
{
	echo "FAIL: $*"
	status=1
}

# A sub-make of its own: no jobserver or command-line variables from the
# make that runs the test suite.
unset MAKEFLAGS MFLAGS GNUMAKEFLAGS

dest=$tmp/dest
p=/opt/esocks
# Every directory is given so that a tree configured with, say,
# --sysconfdir=/etc still installs under $p (and under $dest in any case).
dirs="prefix=$p exec_prefix=$p bindir=$p/bin sbindir=$p/sbin
sysconfdir=$p/etc localstatedir=$p/var runstatedir=$p/var/run
datarootdir=$p/share datadir=$p/share mandir=$p/share/man
docdir=$p/share/doc/esocksd"

# run_make TARGET LOG: make TARGET into $dest, output in LOG.
run_make()
{
	# $dirs is split into words on purpose.
	# shellcheck disable=SC2086
	if ! $MAKE -C "$TOP_BUILDDIR" "$1" DESTDIR="$dest" $dirs >"$2" 2>&1
	then
		cat "$2"
		echo "FAIL: make $1 failed"
		exit 1
	fi
}

d=$dest$p
conf=$d/etc/esocksd
contrib=$d/share/esocksd/contrib

# 1. A fresh install.
run_make install "$tmp/install1.log"
for f in "$d/sbin/esocksd" "$contrib/esocksd-server" \
    "$contrib/esocksd-worker" "$contrib/esocksd.rc"; do
	[ -f "$f" ] && [ -x "$f" ] || fail "$f missing or not executable"
done
for f in "$conf/local.conf" "$conf/dev.conf" "$conf/live.conf" \
    "$contrib/esocksd-server.default" "$contrib/esocksd-worker.default" \
    "$contrib/esocksd-server.service" "$contrib/esocksd-worker@.service" \
    "$d/share/man/man8/esocksd.8" "$d/share/man/man5/esocksd.conf.5" \
    "$d/share/doc/esocksd/operations.md"; do
	[ -f "$f" ] || fail "$f missing"
done
for c in local dev live; do
	cmp -s "$TOP_BUILDDIR/etc/$c.conf" "$conf/$c.conf" ||
	    fail "$conf/$c.conf differs from the shipped etc/$c.conf"
done
# The PID files' directory: nothing else makes $p/var/run, and without it
# the daemon cannot start.
[ -d "$d/var/run" ] || fail "install did not create the run dir $p/var/run"
if ls "$conf"/*.sample >/dev/null 2>&1; then
	fail "a fresh install made .sample files: $(ls "$conf")"
fi
# Nothing outside the prefix: no /etc/init.d or systemd directory.
find "$dest" -type f | sed "s|^$dest||" | grep -v "^$p/" >"$tmp/outside"
if [ -s "$tmp/outside" ]; then
	fail "installed outside $p:"
	cat "$tmp/outside"
fi

# 2. The operator edits live.conf; reinstalling must keep the edit, put
# the shipped version beside it and say so, and leave the others alone.
printf 'CLIENT_ALLOW=192.0.2.0/24\n' >>"$conf/live.conf"
cp "$conf/live.conf" "$tmp/live.edited"
run_make install "$tmp/install2.log"
cmp -s "$tmp/live.edited" "$conf/live.conf" ||
    fail "reinstall overwrote the edited live.conf"
cmp -s "$TOP_BUILDDIR/etc/live.conf" "$conf/live.conf.sample" ||
    fail "reinstall did not put the shipped live.conf in live.conf.sample"
grep -q "note: kept your edited .*live.conf" "$tmp/install2.log" ||
    fail "reinstall did not tell about the kept live.conf"
for c in local dev; do
	cmp -s "$TOP_BUILDDIR/etc/$c.conf" "$conf/$c.conf" ||
	    fail "reinstall changed the unedited $c.conf"
	[ ! -e "$conf/$c.conf.sample" ] ||
	    fail "reinstall made $c.conf.sample for an unedited $c.conf"
done

# A third time changes nothing more.
run_make install "$tmp/install3.log"
cmp -s "$tmp/live.edited" "$conf/live.conf" ||
    fail "third install overwrote the edited live.conf"

# 3. Uninstall removes everything but the edited config.
run_make uninstall "$tmp/uninstall.log"
find "$dest" -type f | sed "s|^$dest||" >"$tmp/left"
echo "$p/etc/esocksd/live.conf" >"$tmp/want"
if ! cmp -s "$tmp/want" "$tmp/left"; then
	fail "after uninstall, files left other than the edited live.conf:"
	cat "$tmp/left"
fi
cmp -s "$tmp/live.edited" "$conf/live.conf" ||
    fail "uninstall changed the edited live.conf"
# Nor any directory of ours but the one holding that config.
find "$dest" -path '*esocksd*' | sed "s|^$dest||" | sort >"$tmp/left"
printf '%s\n' "$p/etc/esocksd" "$p/etc/esocksd/live.conf" >"$tmp/want"
if ! cmp -s "$tmp/want" "$tmp/left"; then
	fail "after uninstall, esocksd paths left other than the edited" \
	    "live.conf and its directory:"
	cat "$tmp/left"
fi
# The run dir may be a shared one (/run): uninstall leaves it.
[ -d "$d/var/run" ] || fail "no run dir $p/var/run after uninstall"
grep -q "note: kept your edited .*live.conf" "$tmp/uninstall.log" ||
    fail "uninstall did not tell about the kept live.conf"

[ "$status" -eq 0 ] && echo "install, reinstall and uninstall behave"
exit $status
