package main

import (
	"log/slog"
	"time"
)

// logSink reports long work as log lines (stderr is not a terminal): one
// line per running scan and per long transfer as soon as it has run for
// progressAfter, then every interval while it runs.
type logSink struct {
	log   *slog.Logger
	every time.Duration
	last  time.Time // when lines were last written; zero: none since the last idle moment
}

func newLogSink(log *slog.Logger, every time.Duration) *logSink {
	return &logSink{log: log, every: every}
}

func (s *logSink) show(now time.Time, w longWork) {
	if w.empty() {
		s.last = time.Time{}
		return
	}
	if !s.last.IsZero() && now.Sub(s.last) < s.every {
		return
	}
	s.last = now
	for _, sc := range w.Scans {
		s.log.Info("scan progress", "folder", sc.Folder, "files", sc.Files, "bytes", sc.Bytes,
			"rate", humanBytes(sc.Rate)+"/s")
	}
	for _, t := range w.Transfers {
		s.log.Info("transfer progress", "path", t.Path, "done", t.Done, "size", t.Size,
			"rate", humanBytes(t.Rate)+"/s", "eta", etaText(t.ETA))
	}
}

func (s *logSink) done() {}
