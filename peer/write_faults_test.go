package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestWriteCause(t *testing.T) {
	pathErr := func(errno syscall.Errno) error { return &os.PathError{Op: "write", Path: "x", Err: errno} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no error", nil, ""},
		{"disk full, wrapped", fmt.Errorf("fetch x: write piece 3: %w", pathErr(syscall.ENOSPC)), causeDiskFull},
		{"quota", pathErr(syscall.EDQUOT), causeDiskFull},
		{"read-only file system", pathErr(syscall.EROFS), causeReadOnly},
		{"permission", pathErr(syscall.EACCES), causePermission},
		{"operation not permitted", pathErr(syscall.EPERM), causePermission},
		{"os.ErrPermission", os.ErrPermission, causePermission},
		{"nested mount", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV}, causeOtherMount},
		{"end of file", io.EOF, ""},
		{"network", errors.New("connection reset by peer"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := writeCause(tt.err); got != tt.want {
				t.Errorf("writeCause(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestWriteFaultsBackoff: a path that keeps failing waits twice as long
// after each failure, up to maxWriteBackoff; it is warned about once per
// cause; more room makes disk-full faults due at once; a success ends it.
func TestWriteFaultsBackoff(t *testing.T) {
	rec, log := newLogRecorder()
	now := time.Unix(1e9, 0)
	free := int64(1 << 20)
	w := newWriteFaults(log, 100*time.Millisecond, func() int64 { return free })
	w.now = func() time.Time { return now }
	full := &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}

	if w.failed("a", "fetch", io.ErrUnexpectedEOF) {
		t.Fatal("an error without a lasting cause was recorded")
	}
	if _, ok := w.wait(); ok || w.reason() != "" {
		t.Fatal("fault recorded for a passing error")
	}
	for i := 1; i <= 20; i++ {
		if !w.failed("a", "fetch", full) {
			t.Fatal("disk full not recorded")
		}
		if w.due("a") {
			t.Fatalf("attempt %d: due right after it failed", i)
		}
		want := min(100*time.Millisecond<<(i-1), maxWriteBackoff)
		if d, ok := w.wait(); !ok || d != want {
			t.Fatalf("attempt %d: wait %v, want %v", i, d, want)
		}
		now = now.Add(want)
		if !w.due("a") {
			t.Fatalf("attempt %d: not due after its backoff", i)
		}
	}
	if got := rec.count("cannot write: disk full"); got != 1 {
		t.Errorf("warned %d times, want once", got)
	}
	if r := w.reason(); !strings.Contains(r, "disk full") || !strings.Contains(r, "a") {
		t.Errorf("reason %q", r)
	}

	// Room: not for a few bytes, at once for more.
	w.failed("a", "fetch", full)
	free += spaceFreedMin - 1
	if w.spaceFreed() || w.due("a") {
		t.Fatal("retried for a few free bytes")
	}
	free++
	if !w.spaceFreed() || !w.due("a") {
		t.Fatal("not retried once the disk had room")
	}

	// Another cause is warned about again, and starts a new backoff.
	w.failed("a", "commit", &os.PathError{Op: "rename", Path: "x", Err: syscall.EACCES})
	if got := rec.count("cannot write: permission denied"); got != 1 || w.attempts("a") != 1 {
		t.Errorf("permission: warned %d times, attempts %d", got, w.attempts("a"))
	}
	if w.spaceFreed() {
		t.Error("a permission fault retried for room")
	}
	w.failed("b", "commit", full)
	if r := w.reason(); !strings.Contains(r, "(and 1 more)") {
		t.Errorf("reason %q does not count the other path", r)
	}
	w.retain(func(p string) bool { return p == "a" })
	if w.attempts("b") != 0 {
		t.Error("fault of a path no longer wanted kept")
	}
	w.succeeded("a")
	if _, ok := w.wait(); ok || w.reason() != "" || rec.count("written after an earlier error") != 1 {
		t.Error("success did not end the fault")
	}
}

// TestWriteFaultsRound: failed pull rounds and scans are warned about
// once per error, retried with backoff only when they failed to write, and
// at once when the disk has room.
func TestWriteFaultsRound(t *testing.T) {
	_, log := newLogRecorder()
	free := int64(0)
	w := newWriteFaults(log, time.Second, func() int64 { return free })
	full := fmt.Errorf("index: %w", syscall.ENOSPC)
	if got := w.retryAfter(full, 3); got != 4*time.Second {
		t.Errorf("third failure to write: retry after %v, want 4s", got)
	}
	if got := w.retryAfter(errors.New("tracker connection lost"), 3); got != time.Second {
		t.Errorf("third failure that is not a write: retry after %v, want Retry (1s)", got)
	}
	if !w.roundFailed("pull", full) || w.roundFailed("pull", full) {
		t.Fatal("the same round error should be new once")
	}
	if w.spaceFreed() {
		t.Fatal("no room yet")
	}
	free = 1 << 20
	if !w.spaceFreed() || w.spaceFreed() {
		t.Fatal("room should make one round run at once")
	}
	w.roundOK("pull")
	if !w.roundFailed("pull", full) {
		t.Fatal("an error after a success is new")
	}
	w.roundOK("pull")
	// A scan that failed alone is retried for room too.
	if !w.roundFailed("scan", full) || w.spaceFreed() {
		t.Fatal("a new scan error, and no more room yet")
	}
	free += spaceFreedMin
	if !w.spaceFreed() {
		t.Fatal("room should retry the failed scan")
	}
	w.roundOK("scan")
	free += spaceFreedMin
	if w.spaceFreed() {
		t.Fatal("room retried with nothing failing")
	}
}

// TestStatsWriteWarnedOnce: a stats file that cannot be written (a full
// disk) is warned about once per error, not at every write, and again
// after a write that worked.
func TestStatsWriteWarnedOnce(t *testing.T) {
	warns := &warnCount{}
	dir := t.TempDir()
	f := &folder{statsFile: filepath.Join(dir, "missing", "stats.json"), log: slog.New(warns)}
	for i := range 5 {
		f.writeStats(StatsSnapshot{FilesApplied: int64(i)})
	}
	if got := warns.n.Load(); got != 1 {
		t.Errorf("warned %d times, want once", got)
	}
	mustDo(t, os.Mkdir(filepath.Join(dir, "missing"), 0o755))
	f.writeStats(StatsSnapshot{})
	mustDo(t, os.RemoveAll(filepath.Join(dir, "missing")))
	f.writeStats(StatsSnapshot{FilesApplied: 9})
	if got := warns.n.Load(); got != 2 {
		t.Errorf("warned %d times after a write that worked, want 2", got)
	}
}

// warnCount is a slog.Handler that counts warnings and errors.
type warnCount struct{ n atomic.Int64 }

func (w *warnCount) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnCount) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		w.n.Add(1)
	}
	return nil
}
func (w *warnCount) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnCount) WithGroup(string) slog.Handler      { return w }
