#!/bin/sh
# "make install prefix=/elsewhere" after "make" rebuilds nothing: the
# files go under /elsewhere, the daemon keeps the paths it was configured
# with (GNU Coding Standards: install must not modify the build
# directory once "make all" has run).  The trap it guards against: a
# second ./configure rewrites Makefile with the same directories, so
# src/install-paths.h keeps its text and its old date; the next "make
# install prefix=/opt/esocks" then rewrote it and relinked esocksd to
# read /opt/esocks/etc/esocksd, and a later plain "make install"
# installed that binary.
#
# All of it happens in a copy of the build tree, never in the tree
# itself.  An in-tree build only: in a VPATH build (distcheck) the copy
# would lose its source directory.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"
: "${MAKE:=make}"

[ -n "$SYSCONFDIR" ] || { echo "SKIP: SYSCONFDIR comes from make check"; exit 77; }
[ "$(cd "$TOP_SRCDIR" && pwd -P)" = "$(cd "$TOP_BUILDDIR" && pwd -P)" ] ||
    { echo "SKIP: not an in-tree build"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-install-prefix.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

status=0
fail()
{
	echo "FAIL: $*"
	status=1
}

unset MAKEFLAGS MFLAGS GNUMAKEFLAGS

# The copy: everything but test logs, other build directories and git.
tree=$tmp/tree
mkdir "$tree" || exit 99
(cd "$TOP_BUILDDIR" && tar -cf - --exclude='./_build*' --exclude='./.git' \
    --exclude='*.log' --exclude='*.trs' --exclude='./esocksd-*' .) |
    (cd "$tree" && tar -xpf -) || { echo "FAIL: cannot copy the tree"; exit 99; }
cp -p "$tree/src/esocksd" "$tmp/esocksd.before" || exit 99

# mk LOG ARGS...: make ARGS in the copy, output in LOG.
mk()
{
	_log=$1
	shift
	if ! $MAKE -C "$tree" "$@" >"$_log" 2>&1; then
		cat "$_log"
		echo "FAIL: make $* failed"
		exit 1
	fi
}

# What a second ./configure with the same directories leaves: a newer
# Makefile (config.status rewrites it; the text is the same).  Then make,
# as "make check" does before the tests.
touch "$tree/Makefile"
mk "$tmp/all.log" all
cmp -s "$tmp/esocksd.before" "$tree/src/esocksd" ||
    fail "make after a touched Makefile changed src/esocksd"

# The install under another prefix, every directory given.
p=/opt/esocks
dest=$tmp/dest
mk "$tmp/install.log" install DESTDIR="$dest" prefix=$p exec_prefix=$p \
    sbindir=$p/sbin sysconfdir=$p/etc localstatedir=$p/var \
    runstatedir=$p/var/run datarootdir=$p/share datadir=$p/share \
    mandir=$p/share/man docdir=$p/share/doc/esocksd
if ! cmp -s "$tmp/esocksd.before" "$tree/src/esocksd"; then
	fail "make install prefix=$p rebuilt src/esocksd:"
	grep -E 'GEN|CC|CCLD|AR' "$tmp/install.log"
fi
grep -q -F "$p" "$tree/src/install-paths.h" &&
    fail "make install prefix=$p wrote $p into src/install-paths.h"
[ -x "$dest$p/sbin/esocksd" ] || fail "nothing installed in $dest$p/sbin"
cmp -s "$tmp/esocksd.before" "$dest$p/sbin/esocksd" ||
    fail "the installed esocksd is not the one make built"

# The installed daemon reads the configured directory, not $p.
"$dest$p/sbin/esocksd" -t -e no-such-env server >"$tmp/t.out" 2>&1
grep -q -F "$SYSCONFDIR/esocksd/no-such-env.conf" "$tmp/t.out" ||
    fail "the installed esocksd does not read $SYSCONFDIR: $(cat "$tmp/t.out")"

# A plain install afterwards installs the same daemon.
mk "$tmp/install2.log" install DESTDIR="$tmp/dest2"
cmp -s "$tmp/esocksd.before" "$tmp/dest2$INST_SBINDIR/esocksd" ||
    fail "a later plain make install installed another esocksd"

[ "$status" -eq 0 ] && echo "make install under another prefix rebuilt nothing"
exit $status
