#!/bin/sh
# The access log: one line per finished request with exactly the fields
# of DESIGN.md in order,
#   access client=ADDR:PORT user=- cmd=connect dest=HOST:PORT via=direct
#   result=ok|REASON up=BYTES down=BYTES ms=DURATION session=- tags=-
# with up/down counting the payload each way (early data included, the
# handshake not), ms the tunnel's life, client the address that
# connected.  LOG_ACCESS=no silences it and nothing else.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
start_sink discard
DISCARD=$SINK_PORT
start_sink source:5000
SOURCE=$SINK_PORT
start_sink echo
ECHO=$SINK_PORT
CLOSED=$(free_port)

# traffic: the same six requests for each daemon.
traffic() {
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$DISCARD -g 1000 -w 5 \
	    >/dev/null 2>"$T/err" || fail "discard: $(cat "$T/err")"
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SOURCE -k -w 5 \
	    </dev/null >/dev/null 2>"$T/err" || fail "source: $(cat "$T/err")"
	echo rest | "$SOCKSC" -x 127.0.0.1:$SP -t localhost:$ECHO -c \
	    -e early -w 5 >/dev/null 2>"$T/err" || fail "echo: $(cat "$T/err")"
	echo four | "$SOCKSC" -x 127.0.0.1:$SP -t localhost:$ECHO -v 4a \
	    -w 5 >/dev/null 2>"$T/err" || fail "SOCKS4a: $(cat "$T/err")"
	# Open for at least 1 s: its input ends 1 s after the echo came.
	rm -f "$T/go" "$T/slow.out"
	{
		echo slow
		_i=0
		while [ ! -e "$T/go" ] && [ $_i -lt 100 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	} | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 15 \
	    >"$T/slow.out" 2>"$T/err" &
	_slow=$!
	track_pid $_slow
	wait_for "grep -q slow '$T/slow.out'" 5 || fail "slow echo: no echo"
	sleep 1
	: >"$T/go"
	wait_for "! lib_alive $_slow" 5 || fail "slow echo did not end"
	wait $_slow || fail "slow echo: $(cat "$T/err")"
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$CLOSED -n -w 5 2>/dev/null
	[ $? -eq 3 ] || fail "connect to a closed port was not refused"
}

# 1. LOG_ACCESS default (yes).
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_esocksd server "$T/esocksd.conf"
traffic
wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge 6 ]" 5 ||
    fail "fewer than 6 access lines"
grep '^access ' "$ESOCKSD_LOG" >"$T/access"
[ "$(wc -l <"$T/access")" -eq 6 ] ||
    fail "$(wc -l <"$T/access") access lines for 6 requests"
A='^access client=127\.0\.0\.1:[0-9]+ user=- cmd=connect dest='
Z=' ms=[0-9]+ session=- tags=-$'
i=0
for want in "127\.0\.0\.1:$DISCARD via=direct result=ok up=1000 down=11" \
    "127\.0\.0\.1:$SOURCE via=direct result=ok up=0 down=5000" \
    "localhost:$ECHO via=direct result=ok up=10 down=10" \
    "localhost:$ECHO via=direct result=ok up=5 down=5" \
    "127\.0\.0\.1:$ECHO via=direct result=ok up=5 down=5" \
    "127\.0\.0\.1:$CLOSED via=direct result=refused up=0 down=0"; do
	i=$((i + 1))
	line=$(sed -n "${i}p" "$T/access")
	printf '%s\n' "$line" | grep -E -q "$A$want$Z" ||
	    fail "access line $i: '$line', want '$A$want$Z'"
	# The client field is the address that connected.
	client=${line#access client=}
	client=${client%% *}
	grep -q "^connection from $client\$" "$ESOCKSD_LOG" ||
	    fail "access line $i: no 'connection from $client'"
done
ms=$(sed -n 5p "$T/access")
ms=${ms##*ms=}
ms=${ms%% *}
[ "$ms" -ge 1000 ] && [ "$ms" -lt 5000 ] ||
    fail "a tunnel open for 1 s logged ms=$ms"
stop_daemon

# 2. LOG_ACCESS=no: the same traffic, no access line, other lines stay.
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" LOG_ACCESS=no
start_esocksd server "$T/esocksd.conf"
traffic
kill -USR1 $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" 'counters: .* tunnels=0 tunnels_total=5 ' 5 ||
    fail "no counters line showing 5 finished tunnels"
grep -q 'access' "$ESOCKSD_LOG" && fail "LOG_ACCESS=no still logs: \
$(grep access "$ESOCKSD_LOG" | head -n 1)"
n=$(grep -c '^connection from ' "$ESOCKSD_LOG")
[ "$n" -eq 6 ] || fail "LOG_ACCESS=no: $n 'connection from' lines, want 6"
stop_daemon
exit 0
