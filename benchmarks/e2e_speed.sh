#!/usr/bin/env bash
# The speed a user feels, with the real binaries and DEFAULT settings (issue
# 17, part 3), each case beside its rsync reference measured in the same run:
#
#   small: 10 000 files of 4 KiB in 100 directories are copied (cp -r: open,
#          write, close, file by file) into peer A's folder; peers B and C are
#          separate processes. The clock runs from the end of the copy (the
#          last write) until every file is in place on B and on C (a peer
#          renames a complete, verified file into place, so counting names
#          counts complete files). files/s = 10 000 / seconds.
#          Reference: an rsync daemon receiving the same tree (rsync -a,
#          run once per receiver, one after the other: the time of both).
#          Also printed: CPU seconds of each process from the start of the
#          copy to the end (A, B, C, tracker), and the receivers' peak RSS
#          (VmHWM). The machine is shared and noisy: compare CPU seconds,
#          and run ROUNDS > 1 for the seconds.
#   latency: save -> synced on B, for
#          4k:    a new 4 KiB file written in place (open, write, close);
#          a:     64 scattered 4 KiB overwrites in a 256 MiB file (dd
#                 conv=notrunc, in place, 64 processes one after the other);
#          b:     one byte inserted at 100 MiB and one deleted at 200 MiB
#                 (the new file built outside the folder on the same file
#                 system and renamed over the old one).
#          The clock starts when the change is made (its last write or the
#          rename) and stops when B's file is byte-identical (seen in place
#          with the right size; the compare is outside the clock).
#          Reference: rsync run by hand for the same change (rsync -a -I
#          --no-whole-file to an rsync daemon holding the old file).
#
# Usage: bash benchmarks/e2e_speed.sh
# Environment: CASES (default "small latency"), ROUNDS (default 1), SMALL_N
# (default 10000), SIZE_MIB (default 256), BASE_PORT (default 7880: tracker,
# peers +1 +2 +3, rsync +4), BIN (default bin/dartsync, rebuilt unless
# NOBUILD=1), TIMEOUT per case in seconds (default 300), KEEP=1 keeps the work
# directory, PROFILE=DIR writes each peer's CPU profile to DIR/CASE-ROUND-P.prof,
# PEER_FLAGS adds flags to every peer (empty: the defaults). It stops and
# removes only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

export DARTSYNC_NO_DISCOVERY=1 # loopback runs: no LAN discovery (dartsync tracker/peer --no-discovery)

CASES=${CASES:-"small latency"}
ROUNDS=${ROUNDS:-1}
SMALL_N=${SMALL_N:-10000}
SIZE_MIB=${SIZE_MIB:-256}
BASE_PORT=${BASE_PORT:-7880}
TIMEOUT=${TIMEOUT:-300}
BIN=${BIN:-bin/dartsync}
MiB=$((1 << 20))

if [ "${NOBUILD:-0}" != 1 ]; then
  CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/dartsync
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dartsync-e2espeed.XXXXXX")
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
pids_rsync=
cleanup() {
  stop_all
  if [ -n "$pids_rsync" ]; then kill -TERM "$pids_rsync" 2>/dev/null || true; wait "$pids_rsync" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# applied STATS: files_applied of a peer's STATE/stats.json (0 if none yet);
# bash builtins only, so polling costs the peers no CPU. The receivers write
# it every 20 ms (--debug-stats-every: observation only, no sync setting).
applied() {
  local k v n=0
  while IFS=': ,' read -r k v _; do
    [ "$k" = '"files_applied"' ] && n=$v
  done <"$1" 2>/dev/null || true
  echo "$n"
}

# --- rsync daemon (the reference) --------------------------------------------
HAVE_RSYNC=0
RS_PORT=$((BASE_PORT + 4))
start_rsync() {
  command -v rsync >/dev/null 2>&1 || { echo "rsync is not installed: no reference figures"; return; }
  mkdir -p "$WORK/rsync/dst"
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
  pids_rsync=$!
  for _ in $(seq 50); do
    rsync "rsync://127.0.0.1:$RS_PORT/" >/dev/null 2>&1 && HAVE_RSYNC=1 && return
    sleep 0.1
  done
  echo "the rsync daemon did not start (see $WORK/rsync/rsyncd.log): no reference figures"
}
start_rsync

# --- dartsync ----------------------------------------------------------------
declare -A PID
# start_net DIR CASE ROUND PEERS...: a tracker and the peers, default settings.
start_net() {
  local D=$1 c=$2 r=$3 p port i=0 prof
  shift 3
  mkdir -p "$D/state"
  "$BIN" tracker --listen "127.0.0.1:$BASE_PORT" --state "$D/state/tracker" >"$D/tracker.log" 2>&1 &
  pids+=($!)
  PID[T]=$!
  local token=$D/state/tracker/join.token
  for _ in $(seq 100); do [ -s "$token" ] && break; sleep 0.1; done
  [ -s "$token" ] || { echo "the tracker did not start; see $D/tracker.log" >&2; exit 1; }
  sleep 0.2
  kill -0 "${PID[T]}" 2>/dev/null || { echo "the tracker stopped (port $BASE_PORT taken?): $(cat "$D/tracker.log")" >&2; exit 1; }
  for p in "$@"; do
    i=$((i + 1))
    port=$((BASE_PORT + i))
    prof=()
    [ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE" && prof=(--debug-cpuprofile "$PROFILE/$c-$r-$p.prof")
    [ -n "${TRACEDIR:-}" ] && mkdir -p "$TRACEDIR" && prof+=(--debug-trace "$TRACEDIR/$c-$r-$p.trace")
    [ -n "${MEMPROFILE:-}" ] && mkdir -p "$MEMPROFILE" && prof+=(--debug-memprofile "$MEMPROFILE/$c-$r-$p.mprof")
    mkdir -p "$D/$p"
    # shellcheck disable=SC2086
    "$BIN" peer "${prof[@]}" ${PEER_FLAGS:-} --dir "$D/$p" --state "$D/state/$p" --tracker "127.0.0.1:$BASE_PORT" \
      --token-file "$token" --listen "127.0.0.1:$port" --debug-stats-every 20ms >"$D/peer$p.log" 2>&1 &
    pids+=($!)
    PID[$p]=$!
    for _ in $(seq 200); do
      grep -q "registered with tracker" "$D/peer$p.log" 2>/dev/null && break
      sleep 0.05
    done
  done
  sleep 1
}

# --- small files -------------------------------------------------------------
small_tree() {
  local dst=$1 d per=$(((SMALL_N + 99) / 100)) left=$SMALL_N n
  # Distinct random files, SMALL_N in all, spread over 100 directories.
  for d in $(seq -w 0 99); do
    n=$((left < per ? left : per))
    left=$((left - n))
    mkdir -p "$dst/d$d"
    [ "$n" -gt 0 ] && head -c $((n * 4096)) /dev/urandom | (cd "$dst/d$d" && split -a 4 -d -b 4096 --additional-suffix=.dat - f)
  done
  return 0
}

case_small() {
  local r=$1 D="$WORK/small-$1"
  [ -d "$WORK/smalltree" ] || small_tree "$WORK/smalltree"
  start_net "$D" small "$r" A B C
  local t0 t1 deadline p
  declare -A cpu0
  for p in A B C T; do cpu0[$p]=$(cpu_s "${PID[$p]}"); done
  local c0
  c0=$(now)
  cp -r "$WORK/smalltree/." "$D/A/"
  t0=$(now)
  [ "${TRACE:-0}" = 1 ] && echo "  copy took $(elapsed "$c0" "$t0") s" >&2
  deadline=$(($(date +%s) + TIMEOUT))
  local nb=0 nc=0
  while :; do
    nb=$(applied "$D/state/B/stats.json") nc=$(applied "$D/state/C/stats.json")
    [ "${TRACE:-0}" = 1 ] && echo "  $(elapsed "$t0" "$(now)") s: B $nb C $nc" >&2
    [ "$nb" -ge "$SMALL_N" ] && [ "$nc" -ge "$SMALL_N" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "small files: B has $nb, C has $nc of $SMALL_N after ${TIMEOUT}s; see $D/*.log" >&2
      KEEP=1
      exit 1
    fi
    sleep 0.02
  done
  t1=$(now)
  local hwm
  hwm="$(vm "${PID[B]}" VmHWM) $(vm "${PID[C]}" VmHWM)"
  local cpu=""
  for p in A B C T; do cpu+="$(awk -v a="$(cpu_s "${PID[$p]}")" -v a0="${cpu0[$p]}" 'BEGIN{printf "%.2f", a-a0}') "; done
  diff -r "$WORK/smalltree" "$D/B" -x .dartsync >/dev/null || { echo "small files: B differs" >&2; KEEP=1; exit 1; }
  diff -r "$WORK/smalltree" "$D/C" -x .dartsync >/dev/null || { echo "small files: C differs" >&2; KEEP=1; exit 1; }
  stop_all
  [ "${KEEP:-0}" = 1 ] || rm -rf "$D"
  local sec rs=-
  sec=$(elapsed "$t0" "$t1")
  if [ "$HAVE_RSYNC" = 1 ]; then
    sync
    local s0 s1
    s0=$(now)
    for p in B C; do
      rsync -a "$WORK/smalltree/" "rsync://127.0.0.1:$RS_PORT/bench/small$p/"
    done
    s1=$(now)
    rs=$(elapsed "$s0" "$s1")
    rm -rf "$WORK/rsync/dst/smallB" "$WORK/rsync/dst/smallC"
  fi
  awk -v n="$SMALL_N" -v s="$sec" -v rs="$rs" -v r="$r" -v cpu="$cpu" -v hwm="$hwm" 'BEGIN {
    split(cpu, c, " "); split(hwm, h, " ")
    rsr = (rs == "-") ? "-" : sprintf("%.0f", n / rs)
    printf "small   %5d %6d files %8.2f s %8.0f files/s | rsync x2 %6s s %8s files/s | cpu-s A %s B %s C %s tracker %s | VmHWM MiB B %.1f C %.1f\n", r, n, s, n / s, rs, rsr, c[1], c[2], c[3], c[4], h[1] / 1024, h[2] / 1024 }'
}

# --- latency -----------------------------------------------------------------
latency_files() {
  mkdir -p "$WORK/files"
  head -c $((SIZE_MIB * MiB)) /dev/urandom >"$WORK/files/base"
  head -c $((64 * 4096)) /dev/urandom >"$WORK/files/patch_a"
  head -c 4096 /dev/urandom >"$WORK/files/small4k"
}
# change_a FILE: 64 scattered 4 KiB overwrites, in place.
change_a() {
  local k off
  for k in $(seq 0 63); do
    off=$((k * SIZE_MIB * MiB / 64 + k * 7919 + 1000))
    dd if="$WORK/files/patch_a" of="$1" bs=4096 skip="$k" count=1 \
      seek="$off" oflag=seek_bytes conv=notrunc status=none
  done
}
# make_b FILE OUT: FILE with one byte inserted at 100 MiB and one deleted at
# 200 MiB (scaled as SIZE_MIB/256).
make_b() {
  local ins=$((SIZE_MIB * MiB / 256 * 100)) del=$((SIZE_MIB * MiB / 256 * 200))
  { head -c "$ins" "$1"; printf 'X'; tail -c +$((ins + 1)) "$1"; } >"$2.tmp"
  { head -c "$del" "$2.tmp"; tail -c +$((del + 2)) "$2.tmp"; } >"$2"
  rm -f "$2.tmp"
}

# wait_same A B [INODE]: wait until B is identical to A (with INODE: B's file
# is another one than before); SEEN is when B was seen in place.
wait_same() {
  local deadline=$(($(date +%s) + TIMEOUT)) t
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -f "$2" ] && { [ -z "${3:-}" ] || [ "$(stat -c %i "$2" 2>/dev/null)" != "$3" ]; } &&
      [ "$(stat -c %s "$1")" = "$(stat -c %s "$2" 2>/dev/null)" ] && t=$(now) && cmp -s "$1" "$2"; then
      SEEN=$t
      return 0
    fi
    sleep 0.005
  done
  return 1
}

# rsync_change C: seconds rsync takes to push the changed file of case C to
# a daemon holding the old one.
rsync_change() {
  local c=$1 src=$WORK/rsync/src
  mkdir -p "$src"
  case $c in
    4k) cp "$WORK/files/small4k" "$src/f" ;;
    a) cp "$WORK/files/base" "$src/f"; cp "$WORK/files/base" "$WORK/rsync/dst/f"; change_a "$src/f" ;;
    b) make_b "$WORK/files/base" "$src/f"; cp "$WORK/files/base" "$WORK/rsync/dst/f" ;;
  esac
  sync
  local t0 t1
  t0=$(now)
  rsync -a -I --no-whole-file "$src/f" "rsync://127.0.0.1:$RS_PORT/bench/"
  t1=$(now)
  cmp -s "$src/f" "$WORK/rsync/dst/f" || { echo "rsync case $c: files differ" >&2; exit 1; }
  rm -f "$src/f" "$WORK/rsync/dst/f"
  elapsed "$t0" "$t1"
}

case_latency() {
  local r=$1 D="$WORK/latency-$1" c
  [ -f "$WORK/files/base" ] || latency_files
  start_net "$D" latency "$r" A B
  # The old 256 MiB version on both peers first.
  cp "$WORK/files/base" "$D/A/.big.tmp" && mv "$D/A/.big.tmp" "$D/A/big"
  wait_same "$D/A/big" "$D/B/big" || { echo "latency: the old version did not reach B; see $D/*.log" >&2; KEEP=1; exit 1; }
  [ -f "$WORK/files/new_b" ] || make_b "$WORK/files/base" "$WORK/files/new_b"
  for c in 4k a b; do
    sleep 1.5
    sync
    local ino="" t0 t1 f
    case $c in
      4k)
        f=small
        t0=$(now)
        cp "$WORK/files/small4k" "$D/A/$f"
        ;;
      a)
        f=big
        ino=$(stat -c %i "$D/B/$f")
        change_a "$D/A/$f"
        t0=$(now)
        ;;
      b)
        f=big
        ino=$(stat -c %i "$D/B/$f")
        # Built outside the folder (same file system), renamed in: how
        # editors and downloaders save.
        cp "$WORK/files/new_b" "$D/big.new"
        sync
        t0=$(now)
        mv -f "$D/big.new" "$D/A/$f"
        ;;
    esac
    wait_same "$D/A/$f" "$D/B/$f" "$ino" || { echo "latency $c: B did not converge; see $D/*.log" >&2; KEEP=1; exit 1; }
    t1=$SEEN
    local sec rs=-
    sec=$(elapsed "$t0" "$t1")
    if [ "$HAVE_RSYNC" = 1 ]; then rs=$(rsync_change "$c"); fi
    awk -v c="$c" -v r="$r" -v s="$sec" -v rs="$rs" 'BEGIN {
      d["4k"] = "new 4 KiB file"; d["a"] = "64 x 4 KiB overwrites, " '"$SIZE_MIB"' " MiB"; d["b"] = "+1 B, -1 B, " '"$SIZE_MIB"' " MiB"
      ratio = (rs == "-" || rs == 0) ? "-" : sprintf("%.1f", s / rs)
      printf "latency %5d %-30s %8.2f s | rsync %6s s | ratio %s\n", r, d[c], s, rs, ratio }'
  done
  stop_all
  [ "${KEEP:-0}" = 1 ] || rm -rf "$D"
}

echo "dartsync e2e speed: tracker + peers on 127.0.0.1, default settings (LAN discovery off)${PEER_FLAGS:+ + $PEER_FLAGS}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
for c in $CASES; do
  for r in $(seq "$ROUNDS"); do "case_$c" "$r"; done
done
