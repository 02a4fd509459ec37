# tests/lib-http.sh: helpers for the HTTP proxy tests, sourced after
# tests/lib.sh.
#
#   need_curl                  skip (77) without curl
#   start_origin [ADDR:PORT]   tests/thttpd in the background: ORIGIN_PORT,
#                              and each request it served in
#                              $ORIGIN_DIR/req.N (N from 1)
#   origin_request N           wait for request N and print it
#   raw_http PORT              send stdin to PORT as raw TCP, print the
#                              answer (the socksc -D relay)
#   status_of TEXT             the status code of an HTTP answer

: "${THTTPD:=$TOP_BUILDDIR/tests/thttpd}"
# curl's proxy must be the one named with -x, never one from the caller's
# environment, and no host may bypass it.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
    no_proxy NO_PROXY
LIB_NORIGIN=0

need_curl() {
	command -v curl >/dev/null 2>&1 || skip "needs curl"
}

start_origin() {
	LIB_NORIGIN=$((LIB_NORIGIN + 1))
	ORIGIN_DIR=$T/origin.$LIB_NORIGIN
	mkdir -p "$ORIGIN_DIR" || exit 99
	"$THTTPD" -l "${1:-127.0.0.1:0}" -P "$ORIGIN_DIR.port" \
	    -r "$ORIGIN_DIR" 2>"$ORIGIN_DIR.log" &
	track_pid $!
	LIB_LOGS="$LIB_LOGS $ORIGIN_DIR.log"
	wait_for "test -s '$ORIGIN_DIR.port'" 10 || fail "thttpd did not start"
	ORIGIN_PORT=$(cat "$ORIGIN_DIR.port")
}

origin_request() {
	wait_for "test -f '$ORIGIN_DIR/req.$1'" 10 ||
	    fail "the origin never recorded request $1"
	cat "$ORIGIN_DIR/req.$1"
}

raw_http() {
	"$SOCKSC" -D -t "127.0.0.1:$1" -w 10 2>"$T/raw.err"
}

status_of() {
	printf '%s\n' "$1" | sed -n '1s/^HTTP\/1\.[01] \([0-9][0-9][0-9]\) .*/\1/p' |
	    tr -d '\r'
}
