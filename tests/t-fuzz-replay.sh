#!/bin/sh
# Replay the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET) through
# the replay drivers built in every configuration, so the codecs' checks
# run under make check (and under ASan with --enable-asan) even where
# libFuzzer is not available.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$(pwd)}"

status=0
for target in socks textnet conf userparam http; do
	driver="$TOP_BUILDDIR/tests/fuzz/replay_$target"
	corpus="$TOP_SRCDIR/tests/fuzz/corpus/$target"
	if [ ! -x "$driver" ]; then
		echo "FAIL: $driver not built"
		status=1
		continue
	fi
	if [ ! -d "$corpus" ]; then
		echo "FAIL: no corpus at $corpus"
		status=1
		continue
	fi
	want=$(find "$corpus" -type f ! -name '.*' | wc -l | tr -d ' ')
	if [ "$want" -eq 0 ]; then
		echo "FAIL: empty corpus $corpus"
		status=1
		continue
	fi
	out=$("$driver" "$corpus")
	rc=$?
	echo "$target: $out (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: replay_$target exited $rc"
		status=1
	elif [ "$out" != "replayed $want inputs" ]; then
		echo "FAIL: replay_$target did not run all $want files"
		status=1
	fi
done
exit $status
