package peer

import (
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/localapi"
)

// liveTransfer is one file version being built (puller.fetch): its bytes
// in place count up as pieces are written to its partial download.
type liveTransfer struct {
	path    string
	size    int64
	started time.Time
	base    int64        // bytes in place when it began (a resumed partial)
	done    atomic.Int64 // bytes in place now
	sources atomic.Int64 // peers it is fetched from
}

// beginTransfer registers the build of m into part; endTransfer must follow.
func (l *folderLive) beginTransfer(m *manifest.Manifest, part *chunkstore.Partial) *liveTransfer {
	var missing int64
	for _, i := range part.Missing() {
		missing += m.PieceLen(i)
	}
	t := &liveTransfer{path: m.Path, size: m.Size, started: time.Now(), base: max(m.Size-missing, 0)}
	t.done.Store(t.base)
	l.mu.Lock()
	if l.transfers == nil {
		l.transfers = map[*liveTransfer]struct{}{}
	}
	l.transfers[t] = struct{}{}
	l.mu.Unlock()
	l.publish(localapi.Event{Type: localapi.EventTransfer, Path: m.Path, State: "started", Count: m.Size})
	return t
}

// endTransfer removes t; complete says whether the version was built.
func (l *folderLive) endTransfer(t *liveTransfer, complete bool) {
	l.mu.Lock()
	delete(l.transfers, t)
	l.mu.Unlock()
	state := "finished"
	if !complete {
		state = "stopped"
	}
	l.publish(localapi.Event{Type: localapi.EventTransfer, Path: t.path, State: state, Count: t.done.Load()})
}

// transfersNow returns the transfers running at now.
func (l *folderLive) transfersNow(folder string, now time.Time) []localapi.Transfer {
	l.mu.Lock()
	ts := make([]*liveTransfer, 0, len(l.transfers))
	for t := range l.transfers {
		ts = append(ts, t)
	}
	l.mu.Unlock()
	out := make([]localapi.Transfer, 0, len(ts))
	for _, t := range ts {
		done := min(t.done.Load(), t.size)
		x := localapi.Transfer{Folder: folder, Path: t.path, Size: t.size, Done: done,
			Sources: int(t.sources.Load()), Started: t.started.UTC()}
		if s := now.Sub(t.started).Seconds(); s > 0 && done > t.base {
			x.Rate = float64(done-t.base) / s
			x.ETA = float64(t.size-done) / x.Rate
		}
		out = append(out, x)
	}
	return out
}

// sink returns part as the plan executor and the fetcher fill it,
// counting the bytes written into t.
func (t *liveTransfer) sink(part *chunkstore.Partial) *countingSink {
	return &countingSink{Partial: part, t: t}
}

// countingSink is a partial download that counts what is written to it.
type countingSink struct {
	*chunkstore.Partial
	t *liveTransfer
}

func (s *countingSink) WritePiece(i int, data []byte) error {
	err := s.Partial.WritePiece(i, data)
	if err == nil {
		s.t.done.Add(int64(len(data)))
	}
	return err
}

func (s *countingSink) WriteVerifiedPiece(i int, data []byte) error {
	err := s.Partial.WriteVerifiedPiece(i, data)
	if err == nil {
		s.t.done.Add(int64(len(data)))
	}
	return err
}
