#!/usr/bin/env bash
# Scale benchmark (issue 19's acceptance script; docs/scale.md explains every
# column): real `dartsync tracker` and `dartsync peer` processes on loopback,
# folders of N small files (1 KiB of distinct random content, ~100 files a
# directory, nested two levels above 100 000 files). Per size N:
#   1. peer A starts on the tree (state in DIR/.dartsync, the default) and
#      scans and announces it: "first scan" runs from the process start to
#      the end of the scan: once A's stats file (STATE/stats.json, rewritten
#      every 100 ms) shows a completed walk and every file and directory
#      accepted by the tracker (local_changes >= files + dirs), the folder's
#      last_scan from the status API (`dartsync status --json`) once it is no
#      longer "scanning"; A's info-level log lines are counted then;
#   2. A is stopped and restarted on the unchanged tree: "rescan" runs from
#      the restart to the end of its first scan, found the same way;
#   3. peer B starts on an empty folder and receives every file from A:
#      "recv" runs from B's start to its stats file counting min(N, 100 000)
#      files applied, "recv all" to N; B's copy is then counted;
#   4. state on disk: du -sb of each peer's state directory / N, right after
#      B has every file;
#   memory: every process's /proc/PID/status is read every 150 ms: VmHWM (the
#      kernel's own peak of resident memory, anonymous + file-backed) and the
#      largest RssAnon and RssFile seen.
# The table (markdown, one row per size) is printed at the end and written to
# OUT (default benchmarks/out/scale-DATE.md).
#
# Usage: make bench-scale SIZES="50000 200000 1000000"
#    or: bash benchmarks/scale.sh            (after make build)
# Environment:
#   SIZES       file counts (default "50000")
#   SCALE_CACHE where the trees are kept between runs, one per N (default
#               ${TMPDIR:-/tmp}/dartsync-scale-cache); peer A syncs the cached
#               tree itself (its state directory inside is removed after)
#   SCALE_WORK  parent of the work directory (tracker state, B's folder, logs;
#               default ${TMPDIR:-/tmp}); put it on the same disk as the cache
#   BASE_PORT   tracker port; peers use +1 and +2 (default 7940)
#   RECV_FILES  the "recv" column's file count (default 100000)
#   RECV_ALL    1 (default): B receives all N files; 0: B stops at RECV_FILES
#               (a shorter run at 1 000 000 files; no "recv all" figure)
#   SETTLE      1 (default): before the rescan, wait until peer A has
#               recorded the tracker's echo of its first scan (its index seq
#               still for 5 s), as a peer left running does; 0: stop A right
#               after its scan, so the rescan also catches that echo up
#   WARM        1 (default): read every file of the tree once before the run,
#               so first scans start from the page cache whatever ran before
#   MIN_RATE    files/s below which a phase is a failure (its timeout is
#               120 s + N / MIN_RATE; default 50: a loaded machine is slow)
#   KEEP        1: keep the work directory (logs, B's folder)
#   PROFILE_DIR if set, each peer writes its heap profile there at shutdown
#               (mem-A1.prof, mem-A2.prof, mem-B.prof: allocations since
#               its start and what is in use at the end), its heap profile
#               at the Go heap's peak (peak-NAME.prof) and its CPU profile
#               (cpu-NAME.prof); GODEBUG (e.g.
#               gctrace=1) reaches the processes and their logs
#   MEMSPLIT    1: also record where each peer's resident memory is, every
#               0.5 s (benchmarks/memsplit.sh: Go heap, C heap, file) in
#               split-NAME in the work directory (with KEEP=1)
#   OUT         the table's file
#   BIN         the binary (default bin/dartsync; `make build`)
# It runs as root or not; as root it raises fs.inotify.max_user_watches for
# the run when it is too low (and puts it back), else it says how.
# It stops and removes only what it started.
set -euo pipefail
export DARTSYNC_NO_DISCOVERY=1 # loopback runs: no LAN discovery
cd "$(dirname "$0")/.."

SIZES=${SIZES:-50000}
BIN=${BIN:-bin/dartsync}
BASE_PORT=${BASE_PORT:-7940}
RECV_FILES=${RECV_FILES:-100000}
RECV_ALL=${RECV_ALL:-1}
WARM=${WARM:-1}
SETTLE=${SETTLE:-1}
MIN_RATE=${MIN_RATE:-50}
SCALE_CACHE=${SCALE_CACHE:-${TMPDIR:-/tmp}/dartsync-scale-cache}
OUT=${OUT:-benchmarks/out/scale-$(date -u +%Y%m%dT%H%M%SZ).md}
PER_DIR=100   # files per leaf directory (benchmarks/cmd/scaletree -per)
FILE_SIZE=1024

RECV_FILES_LABEL=$RECV_FILES

# ---------------------------------------------------------------- helpers
log() { printf '[scale %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", n * 1000 / ms; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
FAILED=0
fail() {
  log "FAILED: $*"
  FAILED=1
  exit 1
}

pids=()          # dartsync processes started and not yet stopped
samplers=()      # memory samplers (background subshells)
SYSCTL_OLD=""    # fs.inotify.max_user_watches to put back at exit
CURRENT_TREE=""  # a cached tree whose .dartsync (peer A's state) is removed at exit
ENV_NOTES=()     # lines for the table's notes

# dirs_for N: directories below the root of a tree of N files (the layout of
# benchmarks/cmd/scaletree).
dirs_for() {
  local leaves=$(((($1) + PER_DIR - 1) / PER_DIR))
  if ((leaves > 1000)); then
    echo $((leaves + (leaves + PER_DIR - 1) / PER_DIR))
  else
    echo "$leaves"
  fi
}

# bgwait CMD...: runs CMD and waits for it, in the background so that a signal
# to the script is acted on at once (bash holds its traps while a
# foreground child runs); cleanup ends it.
FG_PID=""
bgwait() {
  local rc=0
  "$@" &
  FG_PID=$!
  wait "$FG_PID" || rc=$?
  FG_PID=""
  return "$rc"
}

# proc_gone PID: the process has exited (gone or a zombie not yet reaped).
proc_gone() {
  local st
  [ -r "/proc/$1/stat" ] || return 0
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$st" ] || [ "$st" = Z ]
}

# stop_pid PID NAME [GRACE_S]: SIGTERM, then SIGKILL after GRACE_S seconds
# (default 120); reaps it and forgets it.
stop_pid() {
  local pid=$1 name=$2 grace=${3:-120} i p keep=()
  if kill -TERM "$pid" 2>/dev/null; then
    for ((i = 0; i < grace * 10; i++)); do
      proc_gone "$pid" && break
      sleep 0.1
    done
    if ! proc_gone "$pid"; then
      log "$name (pid $pid) still running ${grace}s after SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

cleanup() {
  trap - EXIT INT TERM
  local pid
  if [ -n "$FG_PID" ]; then
    kill -TERM "$FG_PID" 2>/dev/null || true
    wait "$FG_PID" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do stop_pid "$pid" "dartsync" 20; done
  for pid in "${samplers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${samplers[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$CURRENT_TREE" ]; then rm -rf "$CURRENT_TREE/.dartsync"; fi
  if [ -n "$SYSCTL_OLD" ]; then
    if echo "$SYSCTL_OLD" 2>/dev/null >/proc/sys/fs/inotify/max_user_watches; then
      log "fs.inotify.max_user_watches put back to $SYSCTL_OLD"
    else
      log "could not put fs.inotify.max_user_watches back to $SYSCTL_OLD"
    fi
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    log "work directory kept: $WORK"
  elif [ "$FAILED" = 1 ]; then
    rm -rf "$WORK"/n*/b
    log "logs kept in $WORK (peer B's folder removed)"
  else
    rm -rf "$WORK"
  fi
}

# sample_loop PID OUT: every 150 ms, the process's VmHWM and the largest
# RssAnon and RssFile seen so far (KiB) into OUT as "hwm anon file", until
# the process exits. Builtins only, besides sleep.
sample_loop() {
  local pid=$1 out=$2 hwm=0 anon=0 file=0 k v h a f
  while [ -r "/proc/$pid/status" ]; do
    h=0 a=0 f=0
    while read -r k v _; do
      case $k in
        VmHWM:) h=$v ;;
        RssAnon:) a=$v ;;
        RssFile:) f=$v ;;
      esac
    done <"/proc/$pid/status" 2>/dev/null || break
    if ((h > hwm || a > anon || f > file)); then
      if ((h > hwm)); then hwm=$h; fi
      if ((a > anon)); then anon=$a; fi
      if ((f > file)); then file=$f; fi
      printf '%d %d %d\n' "$hwm" "$anon" "$file" >"$out"
    fi
    sleep 0.15
  done
}

# peak PID OUT: "hwm anon file" (KiB) of a running process: its sampler's
# maxima, with VmHWM read again now.
peak() {
  local h=0 a=0 f=0 k v now_h=0
  if [ -s "$2" ]; then read -r h a f <"$2"; fi
  while read -r k v _; do [ "$k" = VmHWM: ] && now_h=$v; done <"/proc/$1/status" 2>/dev/null || true
  if ((now_h > h)); then h=$now_h; fi
  echo "$h $a $f"
}

mem_cell() { # "hwm anon file" KiB -> "HWM / anon / file" MiB
  local h a f
  read -r h a f <<<"$1"
  echo "$(mib "$h") / $(mib "$a") / $(mib "$f")"
}

# cpu_ms PID: user + system CPU time of a process so far, in ms.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# stats_get STATS KEY: a counter of a peer's stats file (-1: no file yet).
stats_get() {
  local s re="\"$2\": ([0-9]+)"
  [ -r "$1" ] || { echo -1; return; }
  s=$(<"$1") || { echo -1; return; }
  if [[ $s =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo -1; fi
}

# status_field DIR KEY: a number from `dartsync status --json` of the folder
# (the first folder's; -1 if the peer does not answer).
status_field() {
  local s re="\"$2\":([0-9]+)"
  s=$("$BIN" status --dir "$1" --json 2>/dev/null) || { echo -1; return; }
  if [[ $s =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo -1; fi
}

# status_str DIR KEY: the first string field KEY of `dartsync status --json`
# (the folder's, for state and last_scan); empty if the peer does not answer.
status_str() {
  local s re="\"$2\":\"([^\"]*)\""
  s=$("$BIN" status --dir "$1" --json 2>/dev/null) || return 0
  if [[ $s =~ $re ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# scan_end NAME PID LOG DIR T0 TSTATS: once the stats file shows a scan's
# counters complete (at TSTATS), the scan still writes its index; the scan
# ends when the folder leaves the "scanning" state, at the time the status
# API gives as last_scan. Sets SCAN_END (ms) and SCAN_HOW. Without an
# answer from the API for 10 s, TSTATS.
scan_end() {
  local name=$1 pid=$2 logf=$3 dir=$4 t0=$5 tstats=$6 st ls t quiet=0
  while :; do
    died "$name" "$pid" "$logf"
    st=$(status_str "$dir" state) t=$(now_ms)
    if [ -n "$st" ] && [ "$st" != scanning ]; then
      ls=$(status_str "$dir" last_scan)
      if [ -n "$ls" ] && SCAN_END=$(date -d "$ls" +%s%3N 2>/dev/null) && ((SCAN_END >= t0)); then
        SCAN_HOW="status API: last_scan, the scan's end as the peer recorded it, $(secs $((SCAN_END - tstats))) s after the script saw the stats counters complete"
        return 0
      fi
    fi
    if [ -z "$st" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    if ((quiet >= 30)); then
      SCAN_END=$tstats SCAN_HOW="stats counters only (no answer from the status API: the scan's last index writes are not included)"
      return 0
    fi
    if ((t - t0 > tmo * 1000)); then
      fail "$name: the scan's counters were complete, but the folder was still '$st' ${tmo}s after the start; see $logf"
    fi
    sleep 0.3
  done
}

info_lines() { grep -cE 'level=INFO|"level":"INFO"' "$1" || true; }
level_lines() { grep -cE "level=$2|\"level\":\"$2\"" "$1" || true; }

port_free() {
  command -v ss >/dev/null || return 0
  [ -z "$(ss -Hlnu "sport = :$1" 2>/dev/null)$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]
}

# died NAME PID LOG: fails the run when the process has exited.
died() {
  if proc_gone "$2"; then
    log "$1 exited; the end of its log ($3):"
    tail -n 20 "$3" >&2 || true
    fail "$1 exited during the run"
  fi
}

# ---------------------------------------------------------- environment
check_env() {
  [ -x "$BIN" ] || fail "$BIN not found: run 'make build' first (make bench-scale builds it)"
  command -v go >/dev/null || fail "go not found: it builds the tree helper (benchmarks/cmd/scaletree)"
  local maxn=0 n d need watches instances inuse
  for n in $SIZES; do
    if [[ $n =~ ^[0-9]+$ ]] && ((n > maxn)); then maxn=$n; fi
  done
  d=$(dirs_for "$maxn")
  ENV_NOTES+=("binary: $("$BIN" version 2>/dev/null | head -n 1) ($BIN, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ', work tree modified')); $(go version | cut -d' ' -f3) builds the tree helper")
  ENV_NOTES+=("$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), load average at start $(cut -d' ' -f1-3 /proc/loadavg), user $(id -un)")
  # inotify: each peer watches every directory twice (the watcher and its
  # completion hints, peer/watch); two peers run at once.
  watches=$(cat /proc/sys/fs/inotify/max_user_watches)
  instances=$(cat /proc/sys/fs/inotify/max_user_instances)
  # watches held now by the processes this user can see (the limit is per
  # user; as root this counts every user's)
  inuse=$( (grep -h '^inotify wd' /proc/[0-9]*/fdinfo/* 2>/dev/null || true) | wc -l)
  need=$((4 * (d + 1)))
  if ((watches >= need + inuse)); then
    ENV_NOTES+=("inotify: max_user_watches $watches; this run needs $need (2 peers x 2 watches x $((d + 1)) directories at $maxn files), $inuse in use on the machine: enough")
  elif [ "$(id -u)" = 0 ] && echo $((need + inuse + 65536)) 2>/dev/null >/proc/sys/fs/inotify/max_user_watches; then
    SYSCTL_OLD=$watches
    ENV_NOTES+=("inotify: max_user_watches was $watches, below the $need this run needs (+ $inuse in use): raised to $((need + inuse + 65536)) for the run (as root: sysctl fs.inotify.max_user_watches; put back at exit)")
  else
    ENV_NOTES+=("inotify: max_user_watches $watches is below the $need this run needs (+ $inuse in use)$([ "$(id -u)" = 0 ] && echo ', and could not be raised'): the peers fall back to periodic full scans (a 'watch limit reached' warning in their logs), which changes the figures. Raise it and run again: sudo sysctl fs.inotify.max_user_watches=$((need + inuse + 65536))")
  fi
  ENV_NOTES+=("inotify: max_user_instances $instances (the run uses 4)")
  local note
  for note in "${ENV_NOTES[@]}"; do log "$note"; done
}

build_tree_tool() {
  TREE_TOOL=$WORK/scaletree
  CGO_ENABLED=0 go build -o "$TREE_TOOL" ./benchmarks/cmd/scaletree || fail "go build ./benchmarks/cmd/scaletree"
}

# disk_check N D CACHED: fails (and says why) when the disks cannot hold the
# run of size N: the tree (unless cached), B's copy of it, and the two peers'
# state (3 KiB a file: today's ~1.4 KB with room).
disk_check() {
  local n=$1 d=$2 cached=$3 bs per_file tree copy state need_c need_w av_c av_w ia_c
  bs=$(stat -f -c %S "$SCALE_CACHE")
  per_file=$(((FILE_SIZE + bs - 1) / bs * bs))
  tree=$((n * per_file + d * bs))
  copy=$tree
  state=$((n * 1536))
  need_c=$((state + (cached ? 0 : tree)))
  need_w=$((copy + state))
  av_c=$(df -B1 --output=avail "$SCALE_CACHE" | tail -n 1 | tr -d ' ')
  av_w=$(df -B1 --output=avail "$WORK" | tail -n 1 | tr -d ' ')
  ia_c=$(df --output=iavail "$SCALE_CACHE" | tail -n 1 | tr -d ' ')
  local gib='{ printf "%.1f GiB", $1 / 1073741824 }'
  if [ "$(stat -c %d "$SCALE_CACHE")" = "$(stat -c %d "$WORK")" ]; then
    need_c=$((need_c + need_w)) need_w=0
  fi
  log "disk at $n files: $(echo $((need_c + need_w)) | awk "$gib") needed ($(echo "$tree" | awk "$gib") per copy of the tree in $bs-byte blocks, tree $([ "$cached" = 1 ] && echo cached || echo "to create"), + B's copy + state), $(echo "$av_c" | awk "$gib") free in $SCALE_CACHE$([ "$need_w" = 0 ] || echo ", $(echo "$av_w" | awk "$gib") in $WORK")"
  if ((need_c > av_c)) || ((need_w > av_w)); then
    SKIP_REASON="not enough disk: $(echo $((need_c + need_w)) | awk "$gib") needed, $(echo "$av_c" | awk "$gib") free (set SCALE_CACHE / SCALE_WORK to a larger disk)"
    return 1
  fi
  if [[ $ia_c =~ ^[0-9]+$ ]] && ((ia_c > 0 && ia_c < 2 * (n + d) + 1000)); then
    SKIP_REASON="not enough inodes: $((2 * (n + d))) needed, $ia_c free"
    return 1
  fi
}

# ensure_tree N D: the cached tree of N files, created if missing or
# incomplete; TREE is its path.
ensure_tree() {
  local n=$1 d=$2 stamp t0 warm=()
  TREE=$SCALE_CACHE/tree-$n
  stamp="files $n dirs $d per $PER_DIR size $FILE_SIZE layout 1"
  if [ "$WARM" = 1 ]; then warm=(-warm); fi
  bgwait rm -rf "$TREE/.dartsync" # an interrupted run's peer state
  if [ -d "$TREE" ] && [ "$(cat "$TREE.ok" 2>/dev/null)" = "$stamp" ]; then
    log "tree of $n files: checking $TREE$([ "$WARM" = 1 ] && echo ', reading every file once (page cache)')"
    bgwait "$TREE_TOOL" -count "${warm[@]}" -dir "$TREE" >"$WORK/count" || fail "reading the tree $TREE"
    if [ "$(cat "$WORK/count")" = "files $n dirs $d" ]; then
      log "tree of $n files: reusing $TREE"
      return 0
    fi
    log "tree $TREE holds $(cat "$WORK/count"), not $n files in $d directories: creating it again"
  fi
  bgwait rm -rf "$TREE" "$TREE.ok"
  log "creating $n files of $FILE_SIZE bytes in $d directories under $TREE"
  t0=$(now_ms)
  bgwait "$TREE_TOOL" -n "$n" -per "$PER_DIR" -size "$FILE_SIZE" -dir "$TREE" >/dev/null || fail "creating the tree of $n files"
  bgwait sync -f "$TREE" || bgwait sync
  echo "$stamp" >"$TREE.ok"
  log "tree created in $(secs $(($(now_ms) - t0))) s"
  if [ "$WARM" = 1 ]; then
    bgwait "$TREE_TOOL" -count -warm -dir "$TREE" >"$WORK/count" || fail "reading the tree $TREE"
  fi
}

# ------------------------------------------------------------- one size
start_sampler() {
  sample_loop "$1" "$2" &
  samplers+=($!)
}

# start_peer NAME DIR PORT LOG: starts a peer (state in DIR/.dartsync, the
# default) and its sampler; PEER_PID is its pid.
start_peer() {
  local prof=()
  if [ -n "${PROFILE_DIR:-}" ]; then
    prof=(--debug-memprofile "$PROFILE_DIR/mem-$1.prof" --debug-memprofile-peak "$PROFILE_DIR/peak-$1.prof"
      --debug-cpuprofile "$PROFILE_DIR/cpu-$1.prof")
  fi
  "$BIN" peer --dir "$2" --tracker "127.0.0.1:$BASE_PORT" --token-file "$TOKEN" \
    --listen "127.0.0.1:$3" --name "scale-$1" --debug-stats-every 100ms "${prof[@]}" >"$4" 2>&1 &
  PEER_PID=$!
  pids+=("$PEER_PID")
  start_sampler "$PEER_PID" "$W/mem-$1"
  if [ "${MEMSPLIT:-0}" = 1 ]; then
    bash benchmarks/memsplit.sh "$PEER_PID" >"$W/split-$1" 2>/dev/null &
    samplers+=($!)
  fi
}

# leaf_file I N: the folder-relative path of file I of a tree of N files.
leaf_file() {
  local i=$1 leaves=$((($2 + PER_DIR - 1) / PER_DIR)) j=$(($1 / PER_DIR))
  if ((leaves > 1000)); then
    printf 'd%03d/d%02d/f%02d.bin' $((j / PER_DIR)) $((j % PER_DIR)) $((i % PER_DIR))
  else
    printf 'd%04d/f%02d.bin' "$j" $((i % PER_DIR))
  fi
}

run_size() {
  local n=$1 d cached=0 tmo p t0 t sc lc last_lc=-1 last_t how
  W=$WORK/n$n
  d=$(dirs_for "$n")
  if [ -d "$SCALE_CACHE/tree-$n" ] && [ -f "$SCALE_CACHE/tree-$n.ok" ]; then cached=1; fi
  mkdir -p "$W"
  SKIP_REASON=""
  if ! disk_check "$n" "$d" "$cached"; then
    log "size $n skipped: $SKIP_REASON"
    ROWS+=("| $n | $d | skipped: $SKIP_REASON |")
    return 0
  fi
  ensure_tree "$n" "$d"
  CURRENT_TREE=$TREE
  local A=$TREE SA=$TREE/.dartsync/stats.json
  tmo=$((120 + n / MIN_RATE))
  for p in $BASE_PORT $((BASE_PORT + 1)) $((BASE_PORT + 2)); do
    port_free "$p" || fail "port $p (UDP or TCP) is in use: set BASE_PORT to a free range of 3 ports"
  done
  local load0 load1
  load0=$(cut -d' ' -f1 /proc/loadavg)
  log "size $n: $d directories, load $load0, phase timeout ${tmo}s"

  "$BIN" tracker --listen "127.0.0.1:$BASE_PORT" --state "$W/tracker" --http off >"$W/tracker.log" 2>&1 &
  local TR=$!
  pids+=("$TR")
  start_sampler "$TR" "$W/mem-tracker"
  TOKEN=$W/tracker/join.token
  for _ in $(seq 300); do
    [ -s "$TOKEN" ] && break
    died tracker "$TR" "$W/tracker.log"
    sleep 0.1
  done
  [ -s "$TOKEN" ] || fail "the tracker wrote no join token in 30 s; see $W/tracker.log"

  # 1. First scan and announce of peer A.
  t0=$(now_ms)
  start_peer A1 "$A" $((BASE_PORT + 1)) "$W/a-first.log"
  local A1=$PEER_PID
  last_t=$t0
  while :; do
    died "peer A (first scan)" "$A1" "$W/a-first.log"
    sc=$(stats_get "$SA" scans_completed) lc=$(stats_get "$SA" local_changes) t=$(now_ms)
    if ((lc != last_lc)); then last_lc=$lc last_t=$t; fi
    if ((sc >= 1 && lc >= n + d)); then
      how="stats.json: scans_completed >= 1 and local_changes = $lc (files + directories)"
      break
    fi
    # A peer that would not count directories among its local changes:
    # the count stopped at N or more for 3 s and the tracker lists N files.
    if ((sc >= 1 && lc >= n && t - last_t > 3000)) && [ "$(status_field "$A" files)" = "$n" ]; then
      t=$last_t how="stats.json: local_changes = $lc, unchanged for 3 s, and dartsync status: the tracker lists $n files (time of the last change)"
      break
    fi
    if ((t - t0 > tmo * 1000)); then
      fail "peer A: first scan and announce of $n files not complete after ${tmo}s (stats: scans_completed=$sc local_changes=$lc, $((n + d)) expected); see $W/a-first.log"
    fi
    sleep 0.1
  done
  scan_end "peer A (first scan)" "$A1" "$W/a-first.log" "$A" "$t0" "$t"
  how="$how; end: $SCAN_HOW"
  local scan_ms=$((SCAN_END - t0)) a_info a1_mem a1_cpu
  a_info=$(info_lines "$W/a-first.log")
  a1_mem=$(peak "$A1" "$W/mem-A1")
  a1_cpu=$(cpu_ms "$A1")
  log "first scan: $(secs $scan_ms) s, $a_info info lines, VmHWM/anon/file $(mem_cell "$a1_mem") MiB ($how)"
  # Settle: the tracker sends every accepted change back to all peers,
  # the announcing one too, which records it in its index (seq). A peer
  # left running does that right after its scan; the rescan below is of
  # a settled peer, so wait until A's index seq has not moved for 5 s.
  local settle_ms=0
  if [ "$SETTLE" = 1 ]; then
    local seq last_seq=-1 seq_t
    t=$(now_ms) seq_t=$t
    while :; do
      died "peer A (settling)" "$A1" "$W/a-first.log"
      seq=$(stats_get "$SA" seq) t=$(now_ms)
      if ((seq != last_seq)); then last_seq=$seq seq_t=$t; fi
      if ((t - seq_t >= 5000)); then break; fi
      if ((t - SCAN_END > tmo * 1000)); then
        fail "peer A: index seq still moving ${tmo}s after its first scan (seq $seq); see $W/a-first.log"
      fi
      sleep 0.2
    done
    settle_ms=$((seq_t - SCAN_END))
    log "settled: A recorded the tracker's echo of its scan (seq $last_seq) $(secs $settle_ms) s after the scan's end; VmHWM/anon/file since its start $(mem_cell "$(peak "$A1" "$W/mem-A1")") MiB"
  fi
  stop_pid "$A1" "peer A"

  # 2. Rescan of the unchanged tree: A restarted.
  local rescan_how=""
  rm -f "$SA"
  t0=$(now_ms)
  start_peer A2 "$A" $((BASE_PORT + 1)) "$W/a-rescan.log"
  local A2=$PEER_PID
  while :; do
    died "peer A (rescan)" "$A2" "$W/a-rescan.log"
    sc=$(stats_get "$SA" scans_completed) t=$(now_ms)
    if ((sc >= 1)); then
      scan_end "peer A (rescan)" "$A2" "$W/a-rescan.log" "$A" "$t0" "$t"
      t=$SCAN_END rescan_how=$SCAN_HOW
      break
    fi
    if ((t - t0 > tmo * 1000)); then
      fail "peer A: no completed scan ${tmo}s after its restart (stats.json scans_completed=$sc); see $W/a-rescan.log"
    fi
    sleep 0.1
  done
  local rescan_ms=$((t - t0)) a2_mem a2_cpu a2_lc
  a2_mem=$(peak "$A2" "$W/mem-A2")
  a2_cpu=$(cpu_ms "$A2")
  a2_lc=$(stats_get "$SA" local_changes)
  log "rescan: $(secs $rescan_ms) s, VmHWM/anon/file $(mem_cell "$a2_mem") MiB"

  # 3. A new peer B receives every file.
  local B=$W/b SB=$W/b/.dartsync/stats.json k fa t_k=0
  k=$((n < RECV_FILES ? n : RECV_FILES))
  t0=$(now_ms)
  start_peer B "$B" $((BASE_PORT + 2)) "$W/b.log"
  local BP=$PEER_PID
  while :; do
    died "peer B" "$BP" "$W/b.log"
    died "peer A (serving)" "$A2" "$W/a-rescan.log"
    fa=$(stats_get "$SB" files_applied) t=$(now_ms)
    if ((t_k == 0 && fa >= k)); then t_k=$t; fi
    if ((fa >= n)); then break; fi
    if [ "$RECV_ALL" = 0 ] && ((t_k > 0)); then break; fi
    if ((t - t0 > tmo * 1000)); then
      fail "peer B: $fa of $n files applied after ${tmo}s; see $W/b.log"
    fi
    sleep 0.1
  done
  local recv_k_ms=$((t_k - t0)) recv_ms=$((t - t0)) b_cpu a_serve_cpu recv_all_cell st_b_cell
  b_cpu=$(cpu_ms "$BP")
  a_serve_cpu=$(($(cpu_ms "$A2") - a2_cpu))
  recv_all_cell="$(secs $recv_ms) | $(rate "$n" "$recv_ms")"
  if ((fa < n)); then recv_all_cell="– | –"; fi
  # B has written every file; its index records them in batches: the state
  # is measured once B says it is idle (no wants left), at most 60 s later.
  local b_idle="not reached in 60 s" wants tries=200
  if ((fa < n)); then b_idle="not waited for (RECV_ALL=0)" tries=0; fi
  for ((i = 0; i < tries; i++)); do
    died "peer B" "$BP" "$W/b.log"
    if [ "$(status_str "$B" state)" = idle ] && wants=$(status_field "$B" wants) && [ "$wants" = 0 ]; then
      b_idle="$(secs $(($(now_ms) - t))) s after its last file"
      break
    fi
    sleep 0.3
  done
  # 4. State on disk right after B has every file; memory; logs.
  local st_a st_b b_mem a2_serve tr_mem b_info
  st_a=$(du -sb "$A/.dartsync" | cut -f1)
  st_b=$(du -sb "$B/.dartsync" | cut -f1)
  b_mem=$(peak "$BP" "$W/mem-B")
  a2_serve=$(peak "$A2" "$W/mem-A2")
  tr_mem=$(peak "$TR" "$W/mem-tracker")
  b_info=$(info_lines "$W/b.log")
  load1=$(cut -d' ' -f1 /proc/loadavg)
  log "receive: $(secs $recv_k_ms) s to $k files, $(secs $recv_ms) s to $fa of $n; B VmHWM/anon/file $(mem_cell "$b_mem") MiB; state $((st_a / n)) and $((st_b / n)) B/file"

  # B's copy, outside the clocks: every file there, a sample byte for byte.
  local got i f bad=0
  bgwait "$TREE_TOOL" -count -dir "$B" >"$W/count-b" || fail "counting peer B's files"
  got=$(cut -d' ' -f2 "$W/count-b")
  ((got >= fa)) || fail "peer B has $got files, but its stats count $fa applied; see $W/b.log"
  if ((fa >= n)); then
    st_b_cell=$((st_b / n))
  else
    st_b_cell="$((st_b / n)) (B stopped at $fa files, RECV_ALL=0)"
  fi
  local sample=()
  if ((fa >= n)); then
    for _ in $(seq 50); do sample+=("$(leaf_file $(((RANDOM * 32768 + RANDOM) % n)) "$n")"); done
  else # RECV_ALL=0: B holds a part of the tree
    mapfile -t sample < <(cd "$B" && find . -path ./.dartsync -prune -o -type f -print | head -n 50)
  fi
  for f in "${sample[@]}"; do
    cmp -s "$A/$f" "$B/$f" || { log "peer B's $f differs from A's"; bad=1; }
  done
  [ "$bad" = 0 ] || fail "peer B's copy differs from A's tree"

  stop_pid "$BP" "peer B"
  stop_pid "$A2" "peer A"
  stop_pid "$TR" "tracker"
  local warns
  warns="A: $(level_lines "$W/a-first.log" WARN)+$(level_lines "$W/a-rescan.log" WARN) warnings, $(level_lines "$W/a-first.log" ERROR)+$(level_lines "$W/a-rescan.log" ERROR) errors; B: $(level_lines "$W/b.log" WARN) warnings, $(level_lines "$W/b.log" ERROR) errors; tracker: $(level_lines "$W/tracker.log" WARN) warnings, $(level_lines "$W/tracker.log" ERROR) errors"
  ROW_NOTES+=("$n files: first scan observed by $how; $(if [ "$SETTLE" = 1 ]; then echo "A settled (recorded the tracker's echo) $(secs $settle_ms) s after its scan, then restarted"; else echo "A restarted right after its scan (SETTLE=0: the rescan includes the echo's catch-up)"; fi); rescan end by $rescan_how, it reported $a2_lc local changes (0 expected); B idle $b_idle; log lines $warns")
  bgwait rm -rf "$A/.dartsync" "$B"
  CURRENT_TREE=""
  ROWS+=("| $n | $d | $(secs $scan_ms) | $(rate "$n" "$scan_ms") | $(secs "$a1_cpu") | $a_info | $(mem_cell "$a1_mem") | $(secs $rescan_ms) | $(rate "$n" "$rescan_ms") | $(secs "$a2_cpu") | $(mem_cell "$a2_mem") | $(secs $recv_k_ms) | $recv_all_cell | $(secs "$b_cpu") / $(secs "$a_serve_cpu") | $(mem_cell "$b_mem") | $b_info | $(mem_cell "$a2_serve") | $((st_a / n)) | $st_b_cell | $(mem_cell "$tr_mem") | $load0 → $load1 |")
}

# ----------------------------------------------------------------- table
print_table() {
  {
    echo "# DartSync scale benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Command: SIZES=\"$SIZES\" bash benchmarks/scale.sh (docs/scale.md explains the columns)."
    echo "Tracker and two peers on 127.0.0.1, files of $FILE_SIZE bytes, $PER_DIR a directory; memory in MiB as VmHWM / max RssAnon / max RssFile; \"recv $RECV_FILES_LABEL\" is the time to min(N, $RECV_FILES_LABEL) files."
    echo
    echo "| files | dirs | first scan s | first scan files/s | first scan cpu s | A info lines (first scan) | A mem, first scan | rescan s | rescan files/s | rescan cpu s | A mem, rescan | recv $RECV_FILES_LABEL s | recv all s | recv files/s | recv cpu s, B / A | B mem | B info lines | A mem, end (rescan + serving) | A state B/file | B state B/file | tracker mem | load 1 min |"
    echo "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---|---:|---:|---|---|"
    local r
    for r in "${ROWS[@]}"; do echo "$r"; done
    echo
    echo "Environment:"
    for r in "${ENV_NOTES[@]}"; do echo "- $r"; done
    for r in "${ROW_NOTES[@]}"; do echo "- $r"; done
    echo "- load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  } | tee "$OUT"
  log "table written to $OUT"
}

ROWS=()
ROW_NOTES=()
mkdir -p "$SCALE_CACHE" "$(dirname "$OUT")"
WORK=$(mktemp -d "${SCALE_WORK:-${TMPDIR:-/tmp}}/dartsync-scale.XXXXXX")
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
check_env
build_tree_tool
for n in $SIZES; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || fail "SIZES: '$n' is not a file count"
  run_size "$n"
done
print_table
