#!/usr/bin/env bash
# DartSync against rsync on the same changes, on this machine, in one run
# (issue 5, item 4). Run from anywhere with `make bench-rsync` or
# `bash benchmarks/rsync.sh`.
#
# For each change to a SIZE_MIB random file:
#   a) 64 scattered 4 KiB overwrites (in place)
#   b) one byte inserted at 100 MiB and one byte deleted at 200 MiB
#   c) 1 MiB appended
# it measures
#   rsync:    `rsync -a -I --no-whole-file --stats` pushing the new file to an
#             rsync daemon on 127.0.0.1 whose module holds the old file;
#             bytes from rsync's --stats (the daemon receives "sent", the
#             client receives "received": the signature), seconds = client
#             wall time.
#   dartsync: a tracker and two peers on 127.0.0.1 (A and B) that both hold
#             the old file; the change is made in A's folder and the clock
#             runs until B's copy is byte-identical; bytes are the changes of
#             B's STATE/stats.json counters (bytes_received: whole pieces
#             and piece deltas received over QUIC; delta_bytes_sent: the
#             signatures B sent; every other counter that moved is printed
#             too: pieces_local/found/delta/fetched and their bytes).
# Both byte figures are application payload, without TCP/QUIC/IP headers.
# Seconds are noisy on small VMs: both tools write a whole new 256 MiB file,
# and on a VM that hands free memory back to its host, filling page cache
# with memory not used lately costs ~0.6-0.8 s per 256 MiB against ~0.1 s
# with memory just freed (measured on the 2-core dev VM), whichever tool
# runs. DartSync also fsyncs the new file before renaming it into place
# (rsync does not by default). Run the script more than once.
#
# Environment: SIZE_MIB (default 256), BASE_PORT (default 7840: tracker,
# peers +1 +2, rsync +3), BIN (dartsync binary; default bin/dartsync, built
# if missing), KEEP=1 keeps the work directory, TIMEOUT per case in seconds
# (default 300), DEBOUNCE (the peers' --debounce, default 50ms as in
# e2e_perf.sh: how long a file must be quiet before A reports it; the
# peer's own default is 1s). Without rsync (or if its daemon cannot start) the script
# prints why and exits 0. For other sizes the offsets of b) scale with
# SIZE_MIB/256 and a) stays 64 overwrites spread over the file.
set -euo pipefail
export DARTSYNC_NO_DISCOVERY=1 # loopback runs: no LAN discovery (dartsync tracker/peer --no-discovery)
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-256}
BASE_PORT=${BASE_PORT:-7840}
TIMEOUT=${TIMEOUT:-300}
DEBOUNCE=${DEBOUNCE:-50ms}
MiB=$((1 << 20))

if ! command -v rsync >/dev/null 2>&1; then
  echo "bench-rsync: rsync is not installed; skipping"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dartsync-rsync.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIN=${BIN:-bin/dartsync}
if [ ! -x "$BIN" ]; then
  echo "building dartsync"
  CGO_ENABLED=0 go build -o "$WORK/dartsync" ./cmd/dartsync
  BIN=$WORK/dartsync
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# cpu_ticks PID: CPU ticks of a process and of its reaped children
# (utime+stime+cutime+cstime from /proc; 0 where there is no /proc).
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks_to_s() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'; }

# --- the files ---------------------------------------------------------------
echo "making a ${SIZE_MIB} MiB random file"
mkdir -p "$WORK/files"
BASE=$WORK/files/base
head -c $((SIZE_MIB * MiB)) /dev/urandom >"$BASE"

# The random bytes of the changes are drawn once, so both tools sync the very
# same change.
head -c $((64 * 4096)) /dev/urandom >"$WORK/files/patch_a"
head -c "$MiB" /dev/urandom >"$WORK/files/append_c"

# change_a FILE: 64 scattered 4 KiB overwrites, in place.
change_a() {
  local k off
  for k in $(seq 0 63); do
    off=$((k * SIZE_MIB * MiB / 64 + k * 7919 + 1000))
    dd if="$WORK/files/patch_a" of="$1" bs=4096 skip="$k" count=1 \
      seek="$off" oflag=seek_bytes conv=notrunc status=none
  done
}
# change_b FILE: one byte inserted at 100 MiB and one deleted at 200 MiB (new
# offsets; scaled as SIZE_MIB/256 for other sizes), built aside and renamed
# over FILE.
change_b() {
  local ins=$((SIZE_MIB * MiB / 256 * 100)) del=$((SIZE_MIB * MiB / 256 * 200))
  {
    head -c "$ins" "$1"
    printf 'X'
    tail -c +$((ins + 1)) "$1"
  } >"$WORK/files/.b.tmp"
  {
    head -c "$del" "$WORK/files/.b.tmp"
    tail -c +$((del + 2)) "$WORK/files/.b.tmp"
  } >"$WORK/files/.b.new"
  rm -f "$WORK/files/.b.tmp"
  mv -f "$WORK/files/.b.new" "$1"
}
# change_c FILE: 1 MiB appended.
change_c() { cat "$WORK/files/append_c" >>"$1"; }

# The changed files are made once, so both tools sync the very same bytes.
for c in a b c; do
  cp "$BASE" "$WORK/files/new_$c"
  "change_$c" "$WORK/files/new_$c"
done

# --- rsync -------------------------------------------------------------------
RS_PORT=$((BASE_PORT + 3))
mkdir -p "$WORK/rsync/dst" "$WORK/rsync/src"
cat >"$WORK/rsync/rsyncd.conf" <<EOF
pid file = $WORK/rsync/rsyncd.pid
log file = $WORK/rsync/rsyncd.log
use chroot = no
uid = $(id -u)
gid = $(id -g)
[bench]
  path = $WORK/rsync/dst
  read only = false
EOF
rsync --daemon --no-detach --config="$WORK/rsync/rsyncd.conf" --address=127.0.0.1 --port="$RS_PORT" &
pids+=($!)
RS_DAEMON=$!
for _ in $(seq 50); do
  rsync "rsync://127.0.0.1:$RS_PORT/" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! rsync "rsync://127.0.0.1:$RS_PORT/" >/dev/null 2>&1; then
  echo "bench-rsync: the rsync daemon did not start (see $WORK/rsync/rsyncd.log); skipping"
  exit 0
fi

declare -A RS_SENT RS_RECV RS_SEC RS_CPU
for c in a b c; do
  cp "$BASE" "$WORK/rsync/dst/file_$c"
  cp "$WORK/files/new_$c" "$WORK/rsync/src/file_$c"
  sync
  d0=$(cpu_ticks "$RS_DAEMON")
  t0=$(now)
  TIMEFORMAT='%3U %3S'
  { time rsync -a -I --no-whole-file --stats "$WORK/rsync/src/file_$c" "rsync://127.0.0.1:$RS_PORT/bench/" \
    >"$WORK/rsync/out" ; } 2>"$WORK/rsync/time"
  t1=$(now)
  out=$(cat "$WORK/rsync/out")
  cmp -s "$WORK/rsync/src/file_$c" "$WORK/rsync/dst/file_$c" || { echo "rsync case $c: files differ" >&2; exit 1; }
  sleep 0.5 # the daemon reaps its connection's process
  RS_CPU[$c]=$(awk -v d="$(ticks_to_s $(($(cpu_ticks "$RS_DAEMON") - d0)))" '{ printf "%.2f", $1 + $2 + d }' "$WORK/rsync/time")
  RS_SENT[$c]=$(sed -n 's/^Total bytes sent: *\([0-9,.]*\).*/\1/p' <<<"$out" | tr -d ',.')
  RS_RECV[$c]=$(sed -n 's/^Total bytes received: *\([0-9,.]*\).*/\1/p' <<<"$out" | tr -d ',.')
  RS_SEC[$c]=$(elapsed "$t0" "$t1")
  rm -f "$WORK/rsync/dst/file_$c" "$WORK/rsync/src/file_$c"
done

# --- dartsync ----------------------------------------------------------------
D=$WORK/dartsync
declare -A PEER_PID
mkdir -p "$D/state" "$D/A" "$D/B"
"$BIN" tracker --listen "127.0.0.1:$BASE_PORT" --state "$D/state/tracker" >"$D/tracker.log" 2>&1 &
pids+=($!)
token=$D/state/tracker/join.token
for _ in $(seq 100); do [ -s "$token" ] && break; sleep 0.1; done
[ -s "$token" ] || { echo "the tracker did not start; see $D/tracker.log" >&2; exit 1; }
for p in A B; do
  port=$((BASE_PORT + 1))
  [ "$p" = B ] && port=$((BASE_PORT + 2))
  "$BIN" peer --dir "$D/$p" --state "$D/state/$p" --tracker "127.0.0.1:$BASE_PORT" \
    --token-file "$token" --listen "127.0.0.1:$port" --debounce "$DEBOUNCE" --debug-stats-every 100ms \
    >"$D/peer$p.log" 2>&1 &
  pids+=($!)
  PEER_PID[$p]=$!
done

# counters FILE: "key value" lines of every numeric counter.
counters() { sed -n 's/^ *"\([a-z_]*\)": *\([0-9][0-9]*\),*$/\1 \2/p' "$1" 2>/dev/null; }
# wait_same A B [INODE]: wait until both files exist and are identical. With
# INODE (B's inode before the change), B is compared only once its file is
# another one: peer B renames each new version into place, and comparing
# 256 MiB twice every 50 ms while B works (case b's first difference is at
# 100 MiB) would keep a core of this 2-core machine busy and slow B down.
# SEEN is set to the time B's file was seen in place (new inode, same size)
# before the compare that found them identical (the compare itself, up to
# 0.2 s for two 256 MiB files, is the script's work, not B's).
wait_same() {
  local deadline=$(($(date +%s) + TIMEOUT)) t
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -f "$2" ] && { [ -z "${3:-}" ] || [ "$(stat -c %i "$2" 2>/dev/null)" != "$3" ]; } &&
      [ "$(stat -c %s "$1")" = "$(stat -c %s "$2" 2>/dev/null)" ] && t=$(now) && cmp -s "$1" "$2"; then
      SEEN=$t
      return 0
    fi
    sleep 0.02
  done
  return 1
}

declare -A DS_RECV DS_SIG DS_SEC DS_MORE DS_CPU
for c in a b c; do
  f=file_$c
  # The old version first, on both peers.
  cp "$BASE" "$D/A/.$f.tmp" && mv "$D/A/.$f.tmp" "$D/A/$f"
  if ! wait_same "$D/A/$f" "$D/B/$f"; then
    echo "dartsync: the old version of $f did not reach peer B in ${TIMEOUT}s; see $D/*.log" >&2
    exit 1
  fi
  sleep 1 # let B's counters settle
  # As before each rsync case: no earlier dirty data (this script writes
  # GiBs) is left to be written back while B fsyncs the new version (ext4
  # makes an fsync wait for it), which rsync, which does not fsync, never
  # pays.
  sync
  before=$(counters "$D/state/B/stats.json")
  # The change, made the way the change functions make it (b renames a new
  # file over the old one; a and c write in place).
  ino=$(stat -c %i "$D/B/$f")
  cpu0=$(($(cpu_ticks "${PEER_PID[A]}") + $(cpu_ticks "${PEER_PID[B]}")))
  "change_$c" "$D/A/$f"
  t0=$(now)
  if ! wait_same "$D/A/$f" "$D/B/$f" "$ino"; then
    echo "dartsync: case $c did not converge in ${TIMEOUT}s; see $D/*.log" >&2
    exit 1
  fi
  t1=$SEEN
  DS_CPU[$c]=$(ticks_to_s $(($(cpu_ticks "${PEER_PID[A]}") + $(cpu_ticks "${PEER_PID[B]}") - cpu0)))
  # Checked after the clock stops (a 256 MiB compare inside the window would
  # compete with the peers for the CPU); A's file is not touched meanwhile.
  cmp -s "$D/A/$f" "$WORK/files/new_$c" || { echo "case $c: peer A's file is not the changed file" >&2; exit 1; }
  sleep 0.5
  after=$(counters "$D/state/B/stats.json")
  DS_SEC[$c]=$(elapsed "$t0" "$t1")
  DS_RECV[$c]=$(join <(sort <<<"$before") <(sort <<<"$after") | awk '$1 == "bytes_received" { print $3 - $2 }')
  DS_RECV[$c]=${DS_RECV[$c]:-?}
  DS_SIG[$c]=$(join <(sort <<<"$before") <(sort <<<"$after") | awk '$1 == "delta_bytes_sent" { print $3 - $2 }')
  DS_SIG[$c]=${DS_SIG[$c]:-0}
  DS_MORE[$c]=$(join <(sort <<<"$before") <(sort <<<"$after") | awk '$3 != $2 && $1 != "seq" { printf "%s+%d ", $1, $3 - $2 }')
done

# --- report ------------------------------------------------------------------
desc() {
  case $1 in
    a) echo "a) 64 x 4 KiB overwrites" ;;
    b) echo "b) +1 B at 100 MiB, -1 B at 200 MiB" ;;
    c) echo "c) 1 MiB appended" ;;
  esac
}
echo
echo "DartSync vs rsync $(rsync --version | head -1 | awk '{print $3}'), ${SIZE_MIB} MiB file, loopback, $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-36s %12s %11s %7s %7s | %15s %11s %7s %7s %6s\n' "change" "rsync recv B" "rsync sig B" "rsync s" "cpu s" "dartsync recv B" "ds sig B" "s" "cpu s" "ratio"
for c in a b c; do
  ratio=$(awk -v d="${DS_RECV[$c]}" -v r="${RS_SENT[$c]}" 'BEGIN { if (r > 0) printf "%.2f", d / r; else print "-" }')
  printf '%-36s %12s %11s %7s %7s | %15s %11s %7s %7s %6s\n' "$(desc $c)" "${RS_SENT[$c]}" "${RS_RECV[$c]}" "${RS_SEC[$c]}" \
    "${RS_CPU[$c]}" "${DS_RECV[$c]}" "${DS_SIG[$c]}" "${DS_SEC[$c]}" "${DS_CPU[$c]}" "$ratio"
done
echo
echo "rsync recv B: bytes the receiving daemon got (client 'Total bytes sent'); rsync sig B: bytes it sent"
echo "(signature and acknowledgements). dartsync recv B: change of peer B's bytes_received (whole pieces"
echo "and piece deltas); ds sig B: the piece-delta signatures B sent (delta_bytes_sent)."
echo "s: wall seconds; cpu s: rsync client + daemon, dartsync peers A + B (the time the change took"
echo "on A's side to be noticed, debounced by $DEBOUNCE, is inside dartsync's seconds)."
echo "ratio: dartsync recv / rsync recv (the goal is <= 0.5). Other counters that moved on B:"
for c in a b c; do
  echo "  $(desc $c): ${DS_MORE[$c]:-none}"
done
