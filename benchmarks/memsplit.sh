#!/usr/bin/env bash
# memsplit.sh PID [INTERVAL_S]: prints, every INTERVAL_S seconds (default
# 0.5) until the process exits, where the resident memory of a dartsync
# process is, from /proc/PID/smaps, in MiB:
#
#   t_s      seconds since the first sample
#   rss      all resident pages (anonymous + file-backed)
#   goheap   the Go heap arenas: anonymous mappings below the 0x7f...
#            region (0xc000000000 on older Go, a random base since Go
#            1.26); goroutine stacks are in it too
#   cheap    anonymous mappings at 0x7f...: glibc's thread arenas (64 MiB
#            reserved each) and large mallocs, where the store's block
#            cache and memtables live with cgo, and the Go runtime's own
#            metadata (a few MiB), plus glibc's [heap]
#   anon     other anonymous memory ([stack], [vdso] and such)
#   file     file-backed pages (the binary's text and data)
#   hwm      VmHWM, the kernel's high-water mark so far
#
# One line per sample; the last line is the sample with the largest rss.
# For measuring where a peak is, beside benchmarks/scale.sh (which samples
# only the totals).
set -euo pipefail
pid=$1
every=${2:-0.5}
t0=$(date +%s%N)
best=""
bestrss=0
printf '%8s %7s %7s %7s %7s %7s %7s\n' t_s rss goheap cheap anon file hwm
while [ -r "/proc/$pid/smaps" ]; do
  line=$(awk -v t0="$t0" -v now="$(date +%s%N)" '
    /^[0-9a-f]+-[0-9a-f]+ / {
      split($1, a, "-"); start = a[1]; name = $6
      len = length(start)
      if (name ~ /^\//) kind = "file"
      else if (name == "[heap]") kind = "cheap"
      else if (name ~ /^\[/) kind = "anon"
      else if (len == 12 && substr(start, 1, 2) == "7f") kind = "cheap"
      else kind = "goheap"
      next
    }
    $1 == "Rss:" { r[kind] += $2; total += $2 }
    END {
      printf "%8.1f %7.1f %7.1f %7.1f %7.1f %7.1f", (now - t0) / 1e9, total / 1024, r["goheap"] / 1024, r["cheap"] / 1024, r["anon"] / 1024, r["file"] / 1024
    }' "/proc/$pid/smaps" 2>/dev/null) || break
  hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null) || break
  [ -n "$line" ] || break
  echo "$line $(printf '%7s' "$hwm")"
  rss=$(echo "$line" | awk '{ printf "%d", $2 * 10 }')
  if ((rss > bestrss)); then bestrss=$rss best="$line $(printf '%7s' "$hwm")"; fi
  sleep "$every"
done
echo "peak: $best"
