# benchlib.sh: what bench.sh and scale.sh share; sourced, not run.

# drain_time_wait: wait, up to 70 s, until fewer than 500 TCP sockets are
# in TIME_WAIT.  Dante binds each outgoing socket to its external
# address before it connects, so every one of its tunnels takes a port
# of the ephemeral range (28,232 by Linux's default) for itself, and
# bind() refuses any port that a socket from the same address, even a
# closed one in TIME_WAIT, still holds.  A benchmark's own churn of
# tens of thousands of connections a few seconds before would leave it
# no ports; so Dante is measured after the churn is gone, and what
# follows Dante after its own is.
drain_time_wait() {
	command -v ss >/dev/null 2>&1 || { sleep 61; return; }
	_dtw=0
	while [ "$(ss -tan state time-wait | wc -l)" -gt 500 ] &&
	    [ $_dtw -lt 70 ]; do
		sleep 1
		_dtw=$((_dtw + 1))
	done
}

# start_dante DANTED DIR PORT: Dante on 127.0.0.1:PORT, no authentication,
# its config, log and PID file in DIR, in the background (its PID in $!).
start_dante() {
	cat >"$2/dante.conf" <<-EOF
	logoutput: $2/dante.log
	internal: 127.0.0.1 port = $3
	external: 127.0.0.1
	socksmethod: none
	clientmethod: none
	user.privileged: root
	user.unprivileged: nobody
	client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
	socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
	EOF
	"$1" -f "$2/dante.conf" -p "$2/dante.pid" &
}
