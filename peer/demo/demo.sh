#!/usr/bin/env bash
# DartSync demo: a tracker and four peers on localhost, folders demo/peer1..4.
# Run from the repository root (make demo). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=bin/dartsync
DEMO=demo
TRACKER_PORT=${TRACKER_PORT:-7700}
PIECE_SIZE=${PIECE_SIZE:-262144}
METRICS_PORT=${METRICS_PORT:-7710}   # peer N serves Prometheus metrics on METRICS_PORT+N
DASHBOARD=http://127.0.0.1:7080      # the tracker's dashboard (dartsync tracker --http, its default)

if [ ! -x "$BIN" ]; then
  echo "building $BIN"
  CGO_ENABLED=0 go build -o "$BIN" ./cmd/dartsync
fi
mkdir -p "$DEMO/state"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping the demo"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

"$BIN" tracker --listen "127.0.0.1:$TRACKER_PORT" --state "$DEMO/state/tracker" \
  --piece-size "$PIECE_SIZE" >"$DEMO/tracker.log" 2>&1 &
pids+=($!)

token_file="$DEMO/state/tracker/join.token"
for _ in $(seq 100); do [ -s "$token_file" ] && break; sleep 0.1; done
if [ ! -s "$token_file" ]; then
  echo "the tracker did not start; see $DEMO/tracker.log" >&2
  exit 1
fi

for i in 1 2 3 4; do
  "$BIN" peer --dir "$DEMO/peer$i" --state "$DEMO/state/peer$i" \
    --tracker "127.0.0.1:$TRACKER_PORT" --token-file "$token_file" \
    --listen "127.0.0.1:$((TRACKER_PORT + i))" --debounce 300ms --name "demo-peer$i" \
    --metrics "127.0.0.1:$((METRICS_PORT + i))" \
    >"$DEMO/peer$i.log" 2>&1 &
  pids+=($!)
done

cat <<MSG

DartSync demo is running: one tracker and four peers on this machine.

  folders:  $DEMO/peer1  $DEMO/peer2  $DEMO/peer3  $DEMO/peer4
  logs:     $DEMO/tracker.log  $DEMO/peer1.log ... $DEMO/peer4.log
  stats:    $DEMO/state/peerN/stats.json

What a peer is doing (its state, transfers, peers online, conflicts):

  $BIN status --dir $DEMO/peer1        (add --watch to follow it, --json for a script)

The tracker's dashboard (devices, folders, recent changes, conflicts):

  $DASHBOARD
  log in with the admin secret in the file $DEMO/state/tracker/admin.secret

Prometheus metrics of the tracker: $DASHBOARD/metrics (no secret needed)
Prometheus metrics of peer N: http://127.0.0.1:$((METRICS_PORT + 1))/metrics ... :$((METRICS_PORT + 4))

Drop a file into $DEMO/peer1 and watch it appear in the others, e.g.

  cp some-file $DEMO/peer1/ && ls $DEMO/peer2 $DEMO/peer3 $DEMO/peer4

Edit, rename or delete files in any of the four folders: the change reaches the
other three. Press Ctrl-C to stop.
MSG

wait
