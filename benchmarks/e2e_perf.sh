#!/usr/bin/env bash
# End-to-end performance of the real binaries (issue 4, closing note):
#   a) seconds from save to complete: a random file is saved into peer A's
#      folder (hard-linked in, so it appears whole at once, like an editor's
#      save-by-rename) and the clock runs until peer B's copy is in place
#      with the same size (B renames a complete, verified, fsynced file into
#      place, so the name appearing means the file is complete); content is
#      then checked with cmp outside the clock;
#   b) peak RSS (VmHWM from /proc/PID/status) of the receiving `dartsync
#      peer` process, read right after the file is complete; every case runs
#      a fresh tracker and fresh peers, so the high-water mark belongs to
#      that file size alone. VmHWM also counts file-backed pages: the
#      program's code and the mapped index databases, which grow with the
#      number of pieces recorded (~190 bytes each). "B anon" is the peak of
#      its anonymous memory alone (RssAnon: Go heap, piece buffers, stacks),
#      sampled every ~5 ms while the clock runs;
#   c) CPU seconds (user + system, whole process life) of A and of B.
# Each size in SIZES_MIB runs ROUNDS times (the machine is shared: report the
# range). A's debounce (DEBOUNCE, default 50ms) is inside the seconds.
#
# Usage: bash benchmarks/e2e_perf.sh            (from anywhere)
# Environment: SIZES_MIB (default "64 1024"), ROUNDS (default 2), BASE_PORT
# (default 7870: tracker, peers +1 +2), DEBOUNCE (default 50ms), PIECE_SIZE
# (default 1MiB), BIN (default bin/dartsync, rebuilt unless NOBUILD=1),
# TIMEOUT per case in seconds (default 120), KEEP=1 keeps the work directory,
# PROFILE=DIR writes each peer's CPU profile to DIR/SIZE-ROUND-{A,B}.prof,
# TRANSPORT (auto, quic or tcp; default auto: QUIC on loopback) is the
# --transport of the tracker and both peers.
# It stops and removes only what it started.
set -euo pipefail
export DARTSYNC_NO_DISCOVERY=1 # loopback runs: no LAN discovery (dartsync tracker/peer --no-discovery)
cd "$(dirname "$0")/.."

SIZES_MIB=${SIZES_MIB:-"64 1024"}
ROUNDS=${ROUNDS:-2}
BASE_PORT=${BASE_PORT:-7870}
DEBOUNCE=${DEBOUNCE:-50ms}
PIECE_SIZE=${PIECE_SIZE:-1MiB}
TIMEOUT=${TIMEOUT:-120}
BIN=${BIN:-bin/dartsync}
TRANSPORT=${TRANSPORT:-auto}

if [ "${NOBUILD:-0}" != 1 ]; then
  CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/dartsync
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dartsync-e2eperf.XXXXXX")
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# run_case SIZE_MIB ROUND: writes "seconds hwm_kib_B anon_kib_B hwm_kib_A
# cpu_s_A cpu_s_B" to
# $WORK/result (it runs in this shell, so cleanup knows every process).
run_case() {
  local size=$1 round=$2 D="$WORK/case-$1-$2"
  mkdir -p "$D/state" "$D/A" "$D/B" "$D/src"
  # The file is made before anything runs, outside the folders, on the same
  # file system (hard link).
  head -c $((size << 20)) /dev/urandom >"$D/src/file.bin"
  "$BIN" tracker --listen "127.0.0.1:$BASE_PORT" --state "$D/state/tracker" --transport "$TRANSPORT" \
    --piece-size "$PIECE_SIZE" >"$D/tracker.log" 2>&1 &
  pids+=($!)
  local token=$D/state/tracker/join.token p port
  for _ in $(seq 100); do [ -s "$token" ] && break; sleep 0.1; done
  [ -s "$token" ] || { echo "the tracker did not start; see $D/tracker.log" >&2; exit 1; }
  declare -A pid
  for p in A B; do
    port=$((BASE_PORT + 1)); [ "$p" = B ] && port=$((BASE_PORT + 2))
    prof=()
    [ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE" && prof=(--debug-cpuprofile "$PROFILE/$size-$round-$p.prof")
    "$BIN" peer "${prof[@]}" --dir "$D/$p" --state "$D/state/$p" --tracker "127.0.0.1:$BASE_PORT" \
      --token-file "$token" --listen "127.0.0.1:$port" --debounce "$DEBOUNCE" --debug-stats-every 100ms --transport "$TRANSPORT" \
      >"$D/peer$p.log" 2>&1 &
    pids+=($!)
    pid[$p]=$!
    # Each peer is registered before the next starts, so no registration
    # falls inside a measurement.
    for _ in $(seq 200); do
      grep -q "registered with tracker" "$D/peer$p.log" 2>/dev/null && break
      sleep 0.05
    done
  done
  sleep 1
  local want=$((size << 20)) t0 t1 deadline
  t0=$(now)
  ln "$D/src/file.bin" "$D/A/file.bin"
  deadline=$(($(date +%s) + TIMEOUT))
  local anonB=0 k v
  while [ "$(stat -c %s "$D/B/file.bin" 2>/dev/null || echo -1)" != "$want" ]; do
    # Builtins only: sampling must not add processes to the measurement.
    while read -r k v _; do
      [ "$k" = RssAnon: ] && [ "$v" -gt "$anonB" ] && anonB=$v
    done <"/proc/${pid[B]}/status"
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "size $size MiB round $round: no complete copy on B after ${TIMEOUT}s; see $D/*.log" >&2
      KEEP=1
      exit 1
    fi
    sleep 0.005
  done
  t1=$(now)
  local hwmB hwmA cpuA cpuB
  hwmB=$(vm "${pid[B]}" VmHWM) hwmA=$(vm "${pid[A]}" VmHWM)
  cpuA=$(cpu_s "${pid[A]}") cpuB=$(cpu_s "${pid[B]}")
  cmp -s "$D/src/file.bin" "$D/B/file.bin" || { echo "size $size MiB: B's copy differs" >&2; exit 1; }
  stop_all
  rm -rf "$D"
  awk -v a="$t0" -v b="$t1" -v h="$hwmB" -v r="$anonB" -v ha="$hwmA" -v ca="$cpuA" -v cb="$cpuB" \
    'BEGIN { printf "%.2f %d %d %d %s %s\n", b - a, h, r, ha, ca, cb }' >"$WORK/result"
}

# rsync_case SIZE_MIB ROUND: the reference beside each DartSync round: an
# rsync daemon on 127.0.0.1 receives a new random file of the same size into
# an empty module (`rsync -a --whole-file`: a full copy, no delta, no
# checksum of the whole file, no encryption, no fsync); the clock covers the
# client's whole run. The file is made first, outside the clock.
rsync_case() {
  local size=$1 round=$2 D="$WORK/rsync-$1-$2" port=$((BASE_PORT + 3)) dpid t0 t1
  mkdir -p "$D/m" "$D/src"
  printf 'use chroot = no\n[m]\npath = %s/m\nread only = no\n' "$D" >"$D/rsyncd.conf"
  [ "$(id -u)" = 0 ] && printf 'uid = root\ngid = root\n' | cat - "$D/rsyncd.conf" >"$D/c" && mv "$D/c" "$D/rsyncd.conf"
  rsync --daemon --no-detach --config="$D/rsyncd.conf" --port="$port" --address=127.0.0.1 --log-file="$D/d.log" &
  dpid=$!
  pids+=("$dpid")
  head -c $((size << 20)) /dev/urandom >"$D/src/file.bin"
  for _ in $(seq 50); do rsync "rsync://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
  t0=$(now)
  rsync -a --whole-file "$D/src/file.bin" "rsync://127.0.0.1:$port/m/"
  t1=$(now)
  cmp -s "$D/src/file.bin" "$D/m/file.bin" || { echo "rsync: the copy differs" >&2; exit 1; }
  stop_all
  rm -rf "$D"
  awk -v s="$size" -v r="$round" -v a="$t0" -v b="$t1" 'BEGIN {
    printf "%5d MiB %5d %9.2f %8.0f   (rsync daemon full copy, the reference)\n", s, r, b - a, s * 1048576 / (b - a) / 1e6 }'
}

RSYNC=${RSYNC:-1}
if [ "$RSYNC" = 1 ] && ! command -v rsync >/dev/null; then
  echo "rsync not found: the reference rows are left out (RSYNC=0)" >&2
  RSYNC=0
fi

echo "dartsync e2e: tracker + 2 peers on 127.0.0.1, piece size $PIECE_SIZE, debounce $DEBOUNCE, transport $TRANSPORT, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%8s %5s %9s %8s %12s %12s %12s %8s %8s\n' "size" "round" "seconds" "MB/s" "B VmHWM MiB" "B anon MiB" "A VmHWM MiB" "A cpu-s" "B cpu-s"
for size in $SIZES_MIB; do
  for round in $(seq "$ROUNDS"); do
    run_case "$size" "$round"
    read -r sec hwm rss hwma cpua cpub <"$WORK/result"
    awk -v s="$size" -v r="$round" -v sec="$sec" -v h="$hwm" -v rs="$rss" -v ha="$hwma" -v ca="$cpua" -v cb="$cpub" 'BEGIN {
      printf "%5d MiB %5d %9.2f %8.0f %12.1f %12.1f %12.1f %8.2f %8.2f\n", s, r, sec, s * 1048576 / sec / 1e6, h / 1024, rs / 1024, ha / 1024, ca, cb }'
    [ "$RSYNC" = 1 ] && rsync_case "$size" "$round"
  done
done
