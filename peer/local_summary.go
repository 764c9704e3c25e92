package peer

import (
	"log/slog"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// summaryEvery is the least time between two info lines of a scan in
// progress.
const summaryEvery = 5 * time.Second

// localSummary counts the local changes a scan's reports recorded, for
// its few info lines: each change is a debug line, and a scan of a large
// folder logs at most one info line per summaryEvery while it runs (walked
// entries, changes, bytes, rate) and one summary at the end, so a first
// scan of 50 000 files logs a handful of lines, not one per file.
type localSummary struct {
	files, deleted int
	bytes          int64
	first          string // the path, when there is only one

	start, last time.Time // when the scan started; the last info line (tick, done)
}

func (s *localSummary) add(m *manifest.Manifest) {
	if s.files == 0 {
		s.first = m.Path
	}
	s.files++
	if m.Deleted {
		s.deleted++
	} else {
		s.bytes += m.Size
	}
}

// tick logs the scan's progress at info level if summaryEvery has passed
// since the scan started or since its last line.
func (s *localSummary) tick(l *slog.Logger, walked int64) {
	now := time.Now()
	if s.start.IsZero() || now.Sub(s.last) < summaryEvery {
		return
	}
	s.last = now
	l.Info("local scan in progress", "walked", walked, "changes_reported", s.files, "bytes", s.bytes,
		"entries_per_s", int64(float64(walked)/now.Sub(s.start).Seconds()))
}

// done logs, at info level, the end of a scan that took long enough to log
// progress lines (entries walked and hashed, time, rate).
func (s *localSummary) done(l *slog.Logger, entries, hashed int64) {
	if s.start.IsZero() || s.last == s.start {
		return
	}
	took := time.Since(s.start)
	l.Info("local scan done", "entries", entries, "hashed", hashed, "took", took.Round(time.Millisecond),
		"entries_per_s", int64(float64(entries)/took.Seconds()))
}

// log logs the changes reported at info level, naming the path of a lone
// change.
func (s *localSummary) log(l *slog.Logger) {
	switch s.files {
	case 0:
	case 1:
		l.Info("local changes reported", "files", 1, "path", s.first, "deleted", s.deleted, "bytes", s.bytes)
	default:
		l.Info("local changes reported", "files", s.files, "deleted", s.deleted, "bytes", s.bytes)
	}
}
