#!/bin/sh
# Checks the files an operator installs, as generated in the build tree:
# every shell script parses (sh -n, and dash/bash --posix when present),
# the configs are strict KEY=value files that name every key of the
# contract and that esocksd -t accepts, the man pages render without a
# warning (when groff is installed) and the systemd units pass
# systemd-analyze verify (when it is installed).  Parts whose tool is
# missing say SKIP; the test fails if any part fails.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"
: "${ESOCKSD:=$TOP_BUILDDIR/src/esocksd}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-contrib-syntax.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

status=0
fail()
{
	echo "FAIL: $*"
	status=1
}

cd "$TOP_BUILDDIR" || exit 99

scripts="contrib/esocksd-server contrib/esocksd-worker contrib/esocksd.rc"
defaults="contrib/esocksd-server.default contrib/esocksd-worker.default"
configs="etc/local.conf etc/dev.conf etc/live.conf"
units="contrib/esocksd-server.service contrib/esocksd-worker@.service"
mans="doc/esocksd.8 doc/esocksd.conf.5"

# The keys of DESIGN.md's table: the contract every shipped config and
# esocksd.conf(5) must cover.
contract_keys="SOCKS_LISTEN WORKER_LISTEN LISTEN_BACKLOG NO_WORKER
WORKER_IDLE_CLOSE WORKER_RESPONSE_TIMEOUT CLIENT_ALLOW AUTH PASSWORD_FILE HANDSHAKE_TIMEOUT
MAX_CLIENTS SERVERS WORKER_NAME PING_INTERVAL RECONNECT_INTERVAL
WORKER_MAX_SESSIONS WORKER_SECRET WORKER_SECRET_FILE MAX_CLIENTS_PER_IP
STATS_LISTEN STATS_ALLOW OPEN_PROXY CONNECT_TIMEOUT IDLE_TIMEOUT DEST_ALLOW
DEST_DENY PIDFILE USER GROUP SYSLOG_FACILITY LOG_CONNECTION LOG_SESSION
LOG_EVENT LOG_ERROR LOG_ACCESS WORKER_ALLOW WORKER_PENDING_MAX
WORKER_PENDING_PER_IP POLLER"

# 1. Every generated file exists and has no @variable@ left unsubstituted.
for f in $scripts $defaults $configs $units $mans; do
	if [ ! -f "$f" ]; then
		fail "$f was not generated"
		continue
	fi
	if grep -n '@[a-zA-Z_][a-zA-Z_0-9]*@' "$f"; then
		fail "$f: unsubstituted @variable@"
	fi
done
for f in $scripts; do
	[ -x "$f" ] || fail "$f is not executable"
done

# 2. Shell syntax: the scripts, the defaults files and the configs (which
# an init script may source).
shells=sh
command -v dash >/dev/null 2>&1 && shells="$shells dash"
command -v bash >/dev/null 2>&1 && shells="$shells bash"
for f in $scripts $defaults $configs; do
	for s in $shells; do
		if [ "$s" = bash ]; then
			bash --posix -n "$f" || fail "$f: bash --posix -n"
		else
			$s -n "$f" || fail "$f: $s -n"
		fi
	done
done
echo "shell syntax checked with: $shells"

# The LSB header must name the script it is installed as.
for r in server worker; do
	grep -q "^# Provides: *esocksd-$r\$" "contrib/esocksd-$r" ||
	    fail "contrib/esocksd-$r: LSB Provides is not esocksd-$r"
	grep -q "^ROLE=$r\$" "contrib/esocksd-$r" ||
	    fail "contrib/esocksd-$r: ROLE is not $r"
done

# 3. The configs: only comments, blank lines and strict KEY=value lines
# (no blanks around =, a bare word or one quoted string, nothing a shell
# would expand), and sourcing one in sh defines exactly those values.
bare="[^][:space:]'\"\$\`\\\\#]*"
single="'[^'\$\`\\\\]*'"
double="\"[^\"\$\`\\\\]*\""
strict="^[A-Z][A-Z0-9_]*=($bare|$single|$double)\$"
for f in $configs; do
	grep -v '^#' "$f" | grep -v '^$' | grep -Ev "$strict" >"$tmp/bad"
	if [ -s "$tmp/bad" ]; then
		fail "$f: lines not in the strict KEY=value form:"
		cat "$tmp/bad"
	fi
	# Sourced in a clean shell, SOCKS_LISTEN must come out as written.
	want=$(sed -n "s/^SOCKS_LISTEN=['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\}\$/\1/p" \
	    "$f" | tail -n 1)
	got=$(env -i sh -c '. "$1" && printf %s "$SOCKS_LISTEN"' sh "./$f")
	[ "$got" = "$want" ] ||
	    fail "$f: sourced SOCKS_LISTEN is '$got', not '$want'"
done

# 4. Keys: the man page documents every contract key, and every config
# names every documented key, set or commented out with its default.
sed -n '/^\.Sh KEYS/,/^\.Sh /p' doc/esocksd.conf.5 |
    awk '$1 == ".It" {
	for (i = 2; i < NF; i++)
		if ($i == "Ic")
			print $(i + 1)
    }' |
    sort -u >"$tmp/mankeys"
for k in $contract_keys; do
	grep -qx "$k" "$tmp/mankeys" ||
	    fail "doc/esocksd.conf.5 does not document $k"
done
for f in $configs; do
	for k in $(cat "$tmp/mankeys"); do
		grep -Eq "^#?$k=" "$f" || fail "$f does not mention $k"
	done
	# And nothing in a config that the manual does not know.
	for k in $(sed -n 's/^#\{0,1\}\([A-Z][A-Z0-9_]*\)=.*/\1/p' "$f" |
	    sort -u); do
		grep -qx "$k" "$tmp/mankeys" ||
		    fail "$f: key $k is not in esocksd.conf(5)"
	done
done
echo "keys documented: $(wc -l <"$tmp/mankeys" | tr -d ' ')"

# The live config must keep the promises of its comments.
grep -q "^SOCKS_LISTEN='0.0.0.0:1080 \[::\]:1080'\$" etc/live.conf ||
    fail "live.conf: SOCKS_LISTEN is not every address"
for net in 127.0.0.0/8 ::1/128 0.0.0.0/8 10.0.0.0/8 172.16.0.0/12 \
    192.168.0.0/16 169.254.0.0/16 fe80::/10 100.64.0.0/10 fc00::/7 \
    224.0.0.0/4 ff00::/8; do
	grep "^DEST_DENY=" etc/live.conf | grep -q "[' ]$net[' ]" ||
	    fail "live.conf: DEST_DENY lacks $net"
done
grep -Eq '^POLLER=(epoll|kqueue|poll)$' etc/live.conf ||
    fail "live.conf: POLLER is not the scalable backend"
grep -q '^WORKER_SECRET_FILE=.*/esocksd/worker.secret$' etc/live.conf ||
    fail "live.conf: no WORKER_SECRET_FILE"
grep -q '^WORKER_SECRET_FILE=.*/esocksd/dev.secret$' etc/dev.conf ||
    fail "dev.conf: no WORKER_SECRET_FILE"
if grep -q '^WORKER_SECRET' etc/local.conf; then
	fail "local.conf sets a secret"
fi
if grep -v '^#' etc/local.conf | grep -E '_LISTEN=' |
    grep -v '127\.0\.0\.1:' >/dev/null; then
	fail "local.conf listens beyond loopback"
fi

# 5. The daemon accepts the shipped configs (-t), with the secret file
# pointed at a throw-away one.
if "$ESOCKSD" -V >/dev/null 2>&1; then
	printf '%s\n' 0123456789abcdef0123456789abcdef >"$tmp/secret"
	chmod 0600 "$tmp/secret"
	for f in $configs; do
		b=$(basename "$f")
		sed "s|^WORKER_SECRET_FILE=.*|WORKER_SECRET_FILE=$tmp/secret|" \
		    "$f" >"$tmp/$b"
		for role in server worker; do
			if ! "$ESOCKSD" -t -c "$tmp/$b" "$role" >"$tmp/out" 2>&1
			then
				fail "esocksd -t rejects $f as $role:"
				cat "$tmp/out"
			fi
		done
	done
	# And -t must be able to say no, or the check above proves nothing.
	printf 'NO_SUCH_KEY=1\n' >"$tmp/bad.conf"
	"$ESOCKSD" -t -c "$tmp/bad.conf" server >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] ||
	    fail "esocksd -t exits $rc, not 2, on an unknown key"
else
	fail "$ESOCKSD -V does not run"
fi

# 6. Man pages render without a warning.
if command -v groff >/dev/null 2>&1; then
	for m in $mans; do
		# All warnings but "break": a long --prefix makes a path
		# that cannot be hyphenated, which is no fault of the page.
		groff -mandoc -ww -Wbreak -z "$m" >"$tmp/out" 2>&1
		if [ -s "$tmp/out" ]; then
			fail "$m: groff warns:"
			cat "$tmp/out"
		fi
	done
	echo "man pages checked with groff"
else
	echo "SKIP: groff not installed, man pages not checked"
fi

# 7. systemd units.  verify wants ExecStart's binary to exist, so check
# copies that point at the one just built; it reports problems on
# stderr while still exiting 0, so any output is a failure.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/units"
	bin=$(sed -n 's|^ExecStart=\([^ ]*\) .*|\1|p' \
	    contrib/esocksd-server.service)
	for u in $units; do
		sed "s|$bin|$TOP_BUILDDIR/src/esocksd|g" "$u" \
		    >"$tmp/units/$(basename "$u")"
	done
	for u in esocksd-server.service esocksd-worker@live.service; do
		(cd "$tmp/units" &&
		    systemd-analyze --man=no verify "$u") >"$tmp/out" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ]; then
			fail "systemd-analyze verify $u (exit $rc):"
			cat "$tmp/out"
		fi
	done
	echo "systemd units checked with systemd-analyze"
else
	echo "SKIP: systemd-analyze not installed, units not verified"
fi

exit $status
