#!/bin/sh
# The binary looks for its files where this build's Makefile says: -e ENV
# reads $(sysconfdir)/esocksd/ENV.conf.  After "./configure --prefix=OTHER"
# and make, a binary still holding the old prefix fails here.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -n "$SYSCONFDIR" ] || skip "SYSCONFDIR comes from make check"

ENVNAME=no-such-env-$$
"$ESOCKSD" -t -e "$ENVNAME" server >"$T/t.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "-e $ENVNAME: exit $rc, want 2: $(cat "$T/t.out")"
grep -q -F "$SYSCONFDIR/esocksd/$ENVNAME.conf" "$T/t.out" ||
    fail "-e does not read from $SYSCONFDIR: $(cat "$T/t.out")"
exit 0
