package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/dartsync/dartsync/peer/localapi"
)

// Progress of `dartsync peer` on long work (see runProgress).
const (
	progressPoll  = 250 * time.Millisecond // how often the daemon's status is read
	progressAfter = 3 * time.Second        // work shorter than this shows nothing
	progressLog   = 5 * time.Second        // a progress log line this often (stderr not a terminal)
)

// statusSource is what the progress display reads: the daemon's status
// snapshot (peer.Daemon.Status). Status must be cheap and safe to call
// from another goroutine.
type statusSource interface {
	Status() localapi.Status
}

// progressSink shows long work: a live bar on a terminal, log lines
// elsewhere. show is called from one goroutine, every progressPoll; done
// once at the end (it removes a bar).
type progressSink interface {
	show(now time.Time, w longWork)
	done()
}

// longWork is the work running for at least progressAfter at one moment.
type longWork struct {
	Scans     []scanWork
	Transfers []localapi.Transfer // sorted by folder and path
}

func (w longWork) empty() bool { return len(w.Scans) == 0 && len(w.Transfers) == 0 }

// scanWork is a running scan of one folder.
type scanWork struct {
	Folder string // the folder's path
	Files  int64  // read so far
	Bytes  int64
	Rate   float64 // bytes/s since the scan began (as first seen)
	Since  time.Time
}

// transferKey names one transfer across snapshots.
type transferKey struct{ folder, path string }

// progressTracker turns successive status snapshots into the long work to
// show: it remembers when each scan and transfer was first seen.
type progressTracker struct {
	after     time.Duration
	scanSince map[string]time.Time // by folder path
	seen      map[transferKey]time.Time
}

func newProgressTracker(after time.Duration) *progressTracker {
	return &progressTracker{after: after, scanSince: map[string]time.Time{}, seen: map[transferKey]time.Time{}}
}

// update returns the scans and transfers of st that have run for at least
// the tracker's threshold at now. A transfer's start is its Started time
// when the daemon gives one, else when it was first seen; a scan's is when
// its folder was first seen scanning.
func (p *progressTracker) update(now time.Time, st localapi.Status) longWork {
	var w longWork
	scanning := map[string]bool{}
	for _, f := range st.Folders {
		if f.State != localapi.StateScanning {
			continue
		}
		scanning[f.Path] = true
		since, ok := p.scanSince[f.Path]
		if !ok {
			since = now
			p.scanSince[f.Path] = now
		}
		if now.Sub(since) < p.after {
			continue
		}
		sw := scanWork{Folder: f.Path, Files: f.ScanFiles, Bytes: f.ScanBytes, Since: since}
		if s := now.Sub(since).Seconds(); s > 0 {
			sw.Rate = float64(f.ScanBytes) / s
		}
		w.Scans = append(w.Scans, sw)
	}
	for k := range p.scanSince {
		if !scanning[k] {
			delete(p.scanSince, k)
		}
	}
	live := map[transferKey]bool{}
	for _, t := range st.Transfers {
		k := transferKey{t.Folder, t.Path}
		live[k] = true
		first, ok := p.seen[k]
		if !ok {
			first = now
			p.seen[k] = now
		}
		start := first
		if !t.Started.IsZero() && t.Started.Before(first) {
			start = t.Started
		}
		if now.Sub(start) >= p.after {
			w.Transfers = append(w.Transfers, t)
		}
	}
	for k := range p.seen {
		if !live[k] {
			delete(p.seen, k)
		}
	}
	sort.Slice(w.Scans, func(i, j int) bool { return w.Scans[i].Folder < w.Scans[j].Folder })
	sort.Slice(w.Transfers, func(i, j int) bool {
		a, b := w.Transfers[i], w.Transfers[j]
		return a.Folder < b.Folder || a.Folder == b.Folder && a.Path < b.Path
	})
	return w
}

// progressFor picks how `dartsync peer` shows long work on stderr: a live
// bar when it is a terminal (and a logger that writes above the bar),
// else progress log lines every progressLog (and log unchanged).
func progressFor(stderr *os.File, log *slog.Logger) (progressSink, *slog.Logger) {
	if term.IsTerminal(int(stderr.Fd())) {
		b := newBarSink(stderr)
		return b, slog.New(b.wrap(log.Handler()))
	}
	return newLogSink(log, progressLog), log
}

// runProgress reads src every poll and shows the long work on sink until
// ctx ends; then it calls sink.done. The caller owns the goroutine that
// runs it.
func runProgress(ctx context.Context, src statusSource, sink progressSink, poll, after time.Duration) {
	defer sink.done()
	tr := newProgressTracker(after)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			sink.show(now, tr.update(now, src.Status()))
		}
	}
}

// startProgress runs runProgress in a goroutine; the returned stop ends it
// and waits for it (the peer command calls it when the daemon has stopped).
func startProgress(ctx context.Context, src statusSource, sink progressSink) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runProgress(ctx, src, sink, progressPoll, progressAfter)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// humanBytes formats n bytes in IEC units ("1.5 MiB").
func humanBytes(n float64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%.0f B", n)
	}
	div, exp := float64(unit), 0
	for v := n / unit; v >= unit && exp < 5; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", n/div, "KMGTPE"[exp])
}

// etaText formats an ETA in seconds ("?" when unknown).
func etaText(sec float64) string {
	if sec <= 0 {
		return "?"
	}
	return (time.Duration(sec*float64(time.Second)) + time.Second/2).Truncate(time.Second).String()
}
