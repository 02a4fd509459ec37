#!/bin/sh
# esocksd -t on the shipped live.conf, as installed before the operator
# went through its "SET THIS" places, says OK but warns about both
# placeholders, whichever role it checks (one file serves both): the
# CLIENT_ALLOW of every RFC 1918 network, the WORKER_ALLOW of loopback
# and every RFC 1918 network, and SERVERS's name that never resolves.  Set, they are not mentioned.  And a role that is neither
# server nor worker is named, by -t and by a start.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

LIVE=$TOP_BUILDDIR/etc/live.conf
[ -r "$LIVE" ] || skip "$LIVE not generated"
umask 077
echo "a shared secret" >"$T/secret"
# The secret is the one file live.conf names that a test cannot have.
set -- -c "$LIVE" -o "WORKER_SECRET_FILE=$T/secret"

for role in server worker; do
	"$ESOCKSD" -t "$@" $role >"$T/$role.out" 2>&1 ||
	    fail "-t of live.conf for $role: exit $?: $(cat "$T/$role.out")"
	grep -q "configuration OK for $role" "$T/$role.out" ||
	    fail "-t for $role does not say OK: $(cat "$T/$role.out")"
	grep -q "live.conf:[0-9]*: CLIENT_ALLOW is still the shipped placeholder" \
	    "$T/$role.out" ||
	    fail "-t for $role does not warn about CLIENT_ALLOW: $(cat "$T/$role.out")"
	grep -q "live.conf:[0-9]*: SERVERS esocks-server.example:8081 is a placeholder" \
	    "$T/$role.out" ||
	    fail "-t for $role does not warn about SERVERS: $(cat "$T/$role.out")"
	grep -q "live.conf:[0-9]*: WORKER_ALLOW is still the shipped placeholder" \
	    "$T/$role.out" ||
	    fail "-t for $role does not warn about WORKER_ALLOW: $(cat "$T/$role.out")"
	"$ESOCKSD" -t "$@" -o CLIENT_ALLOW=10.20.0.0/16 \
	    -o SERVERS=192.0.2.1:8081 -o WORKER_ALLOW=10.30.0.0/16 \
	    $role >"$T/$role.set" 2>&1 ||
	    fail "-t of a set live.conf for $role: exit $?"
	grep -q "placeholder" "$T/$role.set" &&
	    fail "-t warns about a set placeholder: $(cat "$T/$role.set")"
done

# An unknown role: exit 2, named, for -t and for a start.
for opt in -t -f; do
	"$ESOCKSD" $opt "$@" serer >"$T/role.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "$opt with role serer: exit $rc, want 2"
	grep -q "unknown role 'serer'" "$T/role.out" ||
	    fail "$opt with role serer does not name it: $(cat "$T/role.out")"
	grep -q "^usage:" "$T/role.out" ||
	    fail "$opt with role serer prints no usage"
done
exit 0
