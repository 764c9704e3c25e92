#!/usr/bin/env bash
# pi-check: the linux/arm64 tracker binary, run under qemu-aarch64 on
# loopback, answers a client: a native test (TestExternalTracker) joins with
# the token, registers, reports a file and sees it pushed back. Then SIGTERM
# must stop the tracker cleanly (exit 0). Skips (exit 0) when qemu-aarch64 is
# not installed (Debian/Ubuntu: apt-get install qemu-user).
set -euo pipefail
export DARTSYNC_NO_DISCOVERY=1 # loopback: no LAN discovery
cd "$(dirname "$0")/.."

QEMU=${QEMU:-qemu-aarch64}
if ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "pi-check: SKIPPED: $QEMU not found (install the qemu-user package)"
	exit 0
fi

work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "pi-check: building linux/arm64 tracker"
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -o "$work/dartsync-arm64" ./cmd/dartsync

port=$((20000 + RANDOM % 20000))
echo "pi-check: starting it under $QEMU on 127.0.0.1:$port"
"$QEMU" "$work/dartsync-arm64" tracker --listen "127.0.0.1:$port" --state "$work/state" \
	--interval 1s --peer-timeout 10s >"$work/tracker.log" 2>&1 &
pid=$!

for _ in $(seq 1 600); do
	[ -s "$work/state/join.token" ] && grep -q "tracker serving" "$work/tracker.log" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "pi-check: FAILED: tracker exited early:"; cat "$work/tracker.log"; exit 1
	fi
	sleep 0.1
done
[ -s "$work/state/join.token" ] || { echo "pi-check: FAILED: no join token after 60s"; cat "$work/tracker.log"; exit 1; }

echo "pi-check: native client registers with it"
if ! DARTSYNC_EXTERNAL_TRACKER="127.0.0.1:$port" DARTSYNC_EXTERNAL_TOKEN_FILE="$work/state/join.token" \
	go test -count=1 -run '^TestExternalTracker$' -v ./tracker; then
	echo "pi-check: FAILED; tracker log:"; cat "$work/tracker.log"; exit 1
fi

echo "pi-check: SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if [ "$status" -ne 0 ]; then
	echo "pi-check: FAILED: tracker exited with $status after SIGTERM"; cat "$work/tracker.log"; exit 1
fi
grep -q "new member joined" "$work/tracker.log" || { echo "pi-check: FAILED: tracker did not log the join"; cat "$work/tracker.log"; exit 1; }
echo "pi-check: OK (linux/arm64 tracker under $QEMU served a client and shut down cleanly)"
