#!/bin/sh
# Installs the build tree into a throw-away DESTDIR and checks the install
# rules of contrib/ops.am: every file lands where it should with the right
# mode, and the PID files' directory exists; a second install keeps a
# config the operator edited and puts the shipped one beside it as
# .sample; uninstall removes everything else, our directories included,
# and leaves the edited config.  DESTDIR is the only variable given to
# make: the directories are the configured ones, so nothing is rebuilt,
# and the build tree's esocksd must come out byte for byte as it went in
# (a test must never change what the build installs).

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"
: "${MAKE:=make}"

# The configured directories, from make check (contrib/ops.am).
[ -n "$INST_SBINDIR" ] || { echo "SKIP: run by make check"; exit 77; }

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
built=$TOP_BUILDDIR/src/esocksd
cp -p "$built" "$tmp/esocksd.before" || exit 99

# run_make TARGET LOG: make TARGET into $dest, output in LOG.
run_make()
{
	if ! $MAKE -C "$TOP_BUILDDIR" "$1" DESTDIR="$dest" >"$2" 2>&1
	then
		cat "$2"
		echo "FAIL: make $1 failed"
		exit 1
	fi
	cmp -s "$tmp/esocksd.before" "$built" ||
	    fail "make $1 DESTDIR=... changed the build tree's $built"
}

conf=$dest$INST_CONFDIR
contrib=$dest$INST_CONTRIBDIR
doc=$dest$INST_DOCDIR

# 1. A fresh install.
run_make install "$tmp/install1.log"
for f in "$dest$INST_SBINDIR/esocksd" "$contrib/esocksd-server" \
    "$contrib/esocksd-worker" "$contrib/esocksd.rc"; do
	[ -f "$f" ] && [ -x "$f" ] || fail "$f missing or not executable"
done
for f in "$conf/local.conf" "$conf/dev.conf" "$conf/live.conf" \
    "$contrib/esocksd-server.default" "$contrib/esocksd-worker.default" \
    "$contrib/esocksd-server.service" "$contrib/esocksd-worker@.service" \
    "$dest$INST_MAN8DIR/esocksd.8" "$dest$INST_MAN5DIR/esocksd.conf.5" \
    "$doc/operations.md" "$doc/README.md" "$doc/LICENSE"; do
	[ -f "$f" ] || fail "$f missing"
done
for c in local dev live; do
	cmp -s "$TOP_BUILDDIR/etc/$c.conf" "$conf/$c.conf" ||
	    fail "$conf/$c.conf differs from the shipped etc/$c.conf"
done
cmp -s "$built" "$dest$INST_SBINDIR/esocksd" ||
    fail "the installed esocksd is not the build tree's"
# The PID files' directory: under the default prefix nothing else makes
# /usr/local/var/run, and without it the daemon cannot start.
[ -d "$dest$INST_RUNSTATEDIR" ] ||
    fail "install did not create the run dir $INST_RUNSTATEDIR"
if ls "$conf"/*.sample >/dev/null 2>&1; then
	fail "a fresh install made .sample files: $(ls "$conf")"
fi
# Nothing outside our directories: no /etc/init.d or systemd directory.
find "$dest" -type f | sed "s|^$dest||" | grep -v \
    -e "^$INST_SBINDIR/esocksd\$" -e "^$INST_CONFDIR/" \
    -e "^$INST_PKGDATADIR/" -e "^$INST_DOCDIR/" \
    -e "^$INST_MAN5DIR/esocksd\.conf\.5\$" \
    -e "^$INST_MAN8DIR/esocksd\.8\$" >"$tmp/outside"
if [ -s "$tmp/outside" ]; then
	fail "installed outside esocksd's directories:"
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
echo "$INST_CONFDIR/live.conf" >"$tmp/want"
if ! cmp -s "$tmp/want" "$tmp/left"; then
	fail "after uninstall, files left other than the edited live.conf:"
	cat "$tmp/left"
fi
cmp -s "$tmp/live.edited" "$conf/live.conf" ||
    fail "uninstall changed the edited live.conf"
# Nor any directory of ours but the one holding that config.
for d in "$INST_PKGDATADIR" "$INST_DOCDIR"; do
	[ ! -e "$dest$d" ] || fail "uninstall left $d: $(ls -R "$dest$d")"
done
(cd "$dest$INST_CONFDIR" && find . | sort) >"$tmp/left"
printf '%s\n' . ./live.conf >"$tmp/want"
if ! cmp -s "$tmp/want" "$tmp/left"; then
	fail "after uninstall, $INST_CONFDIR holds more than the edited" \
	    "live.conf:"
	cat "$tmp/left"
fi
# The run dir may be a shared one (/run): uninstall leaves it.
[ -d "$dest$INST_RUNSTATEDIR" ] ||
    fail "no run dir $INST_RUNSTATEDIR after uninstall"
grep -q "note: kept your edited .*live.conf" "$tmp/uninstall.log" ||
    fail "uninstall did not tell about the kept live.conf"

[ "$status" -eq 0 ] && echo "install, reinstall and uninstall behave"
exit $status
