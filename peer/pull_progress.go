package peer

import (
	"time"
)

// progressEvery is how often a pull round that is receiving files logs
// one summary line (per-file lines are at debug level).
const progressEvery = 5 * time.Second

// progress logs, every progressEvery while a pull round runs and files
// arrive or go, one info line with what the round has done so far (files
// received and deleted, bytes, rate). It returns the function that stops
// it; the round's final line is logSynced's.
func (p *puller) progress(before StatsSnapshot, began time.Time) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		last := before
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			s := p.stats.Snapshot()
			if s.FilesApplied == last.FilesApplied && s.FilesDeleted == last.FilesDeleted {
				continue
			}
			last = s
			files := s.FilesApplied - before.FilesApplied
			p.log.Info("receiving from peers",
				"files", files, "deleted", s.FilesDeleted-before.FilesDeleted,
				"bytes_received", s.BytesReceived-before.BytesReceived, "bytes_local", s.BytesLocal-before.BytesLocal,
				"files_per_s", perSecond(files, time.Since(began)))
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// logSynced logs the round's one final info line, if it applied or
// deleted anything.
func (p *puller) logSynced(before StatsSnapshot, began time.Time, pending int) {
	after := p.stats.Snapshot()
	if after.FilesApplied == before.FilesApplied && after.FilesDeleted == before.FilesDeleted {
		return
	}
	took := time.Since(began)
	files := after.FilesApplied - before.FilesApplied
	p.log.Info("synced from peers",
		"files", files, "deleted", after.FilesDeleted-before.FilesDeleted,
		"bytes_received", after.BytesReceived-before.BytesReceived, "bytes_local", after.BytesLocal-before.BytesLocal,
		"pending", pending, "took", took.Round(time.Millisecond), "files_per_s", perSecond(files, took))
}

// perSecond is n per d, rounded to a whole number.
func perSecond(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n)/d.Seconds() + 0.5)
}
