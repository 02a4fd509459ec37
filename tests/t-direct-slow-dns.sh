#!/bin/sh
# A host name that takes long to resolve delays no other tunnel, and
# CONNECT_TIMEOUT bounds the lookup.  There is no DNS server to slow down
# here, so the test makes one: in a private user, network and mount
# namespace (unshare -rnm, Linux) /etc/resolv.conf is replaced by one
# naming 127.0.0.1 over TCP (use-vc), where a "hold" sink accepts the
# query and never answers, so getaddrinfo blocks until the sink goes.
# Skipped where such namespaces cannot be made.
if [ -z "$ESOCKS_SLOWDNS_NS" ]; then
	if ! command -v unshare >/dev/null 2>&1 ||
	    ! unshare -rnm true >/dev/null 2>&1; then
		echo "SKIP: cannot make a user+network+mount namespace" >&2
		exit 77
	fi
	ESOCKS_SLOWDNS_NS=1
	export ESOCKS_SLOWDNS_NS
	exec unshare -rnm sh "$0" "$@"
fi
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# The namespace's loopback, and a resolver that hangs.
ip link set lo up 2>/dev/null || skip "cannot bring up lo (ip link)"
command -v getent >/dev/null 2>&1 || skip "no getent to check the resolver"
printf 'nameserver 127.0.0.1\noptions use-vc timeout:2 attempts:1\n' \
    >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf 2>/dev/null ||
    skip "cannot bind-mount over /etc/resolv.conf"
start_sink hold 127.0.0.1:53
DNS_PID=$SINK_PID
getent hosts probe.example >/dev/null 2>&1 &
probe=$!
track_pid $probe
sleep 1
if ! lib_alive $probe; then
	skip "name lookups here do not use /etc/resolv.conf's server (nscd?)"
fi
kill $probe

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    CONNECT_TIMEOUT=3
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# Two names whose lookups hang.
for i in 1 2; do
	"$SOCKSC" -x 127.0.0.1:$SP -t slow$i.example:80 -n -w 10 \
	    2>"$T/slow$i.err" &
	eval "slow$i=\$!"
	track_pid $!
done
wait_for "[ \$(grep -c 'connection from' '$ESOCKSD_LOG') -ge 2 ]" 5 ||
    fail "the slow clients did not connect"
sleep 0.3

# Meanwhile tunnels by number and by name (a lookup in another thread)
# come and go; the slow ones are still waiting when they are done.
for h in 127.0.0.1 localhost 127.0.0.1 localhost localhost; do
	got=$(echo "to $h" | "$SOCKSC" -x 127.0.0.1:$SP -t $h:$ECHO -w 2 \
	    2>"$T/err")
	rc=$?
	[ $rc -eq 0 ] && [ "$got" = "to $h" ] ||
	    fail "tunnel to $h while a lookup hangs: exit $rc, '$got': \
$(cat "$T/err")"
done
lib_alive $slow1 && lib_alive $slow2 ||
    fail "a slow lookup ended before the other tunnels were done"

# CONNECT_TIMEOUT covers the lookup: both are refused about 3 s after
# they asked, although getaddrinfo still hangs.
for i in 1 2; do
	eval "p=\$slow$i"
	wait_for "! lib_alive $p" 5 ||
	    fail "slow$i.example not answered within CONNECT_TIMEOUT"
	wait $p
	rc=$?
	line=$(grep '^reply=' "$T/slow$i.err")
	case $rc:${line%% *} in
	3:reply=0x06|3:reply=0x04) ;;
	*) fail "slow$i.example: exit $rc, '$(cat "$T/slow$i.err")'" ;;
	esac
done
grep -q 'dest=slow1.example:80 via=direct result=timeout' "$ESOCKSD_LOG" ||
    fail "no access line with result=timeout for slow1.example"

# Now the lookups finish (the server hangs up): their answers arrive for
# requests that are long gone, and must be dropped quietly.
kill $DNS_PID
sleep 1
lib_alive $ESOCKSD_PID || fail "esocksd died when the late lookups ended"
got=$(echo after | "$SOCKSC" -x 127.0.0.1:$SP -t localhost:$ECHO -w 5 \
    2>"$T/err") || fail "tunnel after the late lookups: $(cat "$T/err")"
[ "$got" = after ] || fail "echo after the late lookups returned '$got'"
stop_daemon
exit 0
