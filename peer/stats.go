package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// Stats are the daemon's counters since it started.
type Stats struct {
	BytesReceived  atomic.Int64 // bytes fetched over the network: whole pieces and deltas
	BytesSent      atomic.Int64 // piece bytes read to serve other peers
	BytesLocal     atomic.Int64 // piece bytes copied from local data
	PiecesFetched  atomic.Int64
	PiecesLocal    atomic.Int64
	FilesApplied   atomic.Int64 // files written from remote versions
	FilesDeleted   atomic.Int64 // paths deleted for remote tombstones
	LocalChanges   atomic.Int64 // local changes reported to the tracker
	Conflicts      atomic.Int64 // local edits that met a concurrent remote one
	PendingWants   atomic.Int64 // wants not yet applied after the last pull
	ScansCompleted atomic.Int64
	Reannounces    atomic.Int64 // re-announces to a tracker in a new epoch completed (epoch.go)
	Reannounced    atomic.Int64 // index entries re-announced
	deltaCounters               // rolling search and piece deltas (stats_delta.go, peer/plan)
}

// StatsSnapshot is the JSON form of Stats.
type StatsSnapshot struct {
	BytesReceived  int64  `json:"bytes_received"`
	BytesSent      int64  `json:"bytes_sent"`
	BytesLocal     int64  `json:"bytes_local"`
	PiecesFetched  int64  `json:"pieces_fetched"`
	PiecesLocal    int64  `json:"pieces_local"`
	FilesApplied   int64  `json:"files_applied"`
	FilesDeleted   int64  `json:"files_deleted"`
	LocalChanges   int64  `json:"local_changes"`
	Conflicts      int64  `json:"conflicts"`
	PendingWants   int64  `json:"pending_wants"`
	ScansCompleted int64  `json:"scans_completed"`
	Reannounces    int64  `json:"reannounces"`
	Reannounced    int64  `json:"reannounced"`
	Seq            uint64 `json:"seq"`
	// Paused: the folder is missing or unmarked while its index holds
	// files, or marked by another device; nothing is scanned, reported or
	// applied (see doc.go, "Paused"). PausedReason says why, for the user.
	Paused        bool   `json:"paused"`
	PausedReason  string `json:"paused_reason,omitempty"`
	DeltaSnapshot        // rolling search and piece deltas (stats_delta.go, peer/plan)
}

// Snapshot returns the current values.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		BytesReceived:  s.BytesReceived.Load(),
		BytesSent:      s.BytesSent.Load(),
		BytesLocal:     s.BytesLocal.Load(),
		PiecesFetched:  s.PiecesFetched.Load(),
		PiecesLocal:    s.PiecesLocal.Load(),
		FilesApplied:   s.FilesApplied.Load(),
		FilesDeleted:   s.FilesDeleted.Load(),
		LocalChanges:   s.LocalChanges.Load(),
		Conflicts:      s.Conflicts.Load(),
		PendingWants:   s.PendingWants.Load(),
		ScansCompleted: s.ScansCompleted.Load(),
		Reannounces:    s.Reannounces.Load(),
		Reannounced:    s.Reannounced.Load(),
		DeltaSnapshot:  s.deltaCounters.snapshot(),
	}
}

// writeStats writes snap to path atomically (temp file + rename).
func writeStats(path string, snap StatsSnapshot) error {
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("peer: write stats: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("peer: write stats: %w", err)
	}
	return nil
}

// countingSource is the piece server's source: it reads with
// ReadPieceForUpload (the requester verifies every piece, so an unchanged
// file is not hashed again to serve it) and counts the bytes read.
type countingSource struct {
	src interface {
		ReadPieceForUpload(h manifest.ID, buf []byte) ([]byte, error)
	}
	n *atomic.Int64
}

func (c countingSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	b, err := c.src.ReadPieceForUpload(h, buf)
	if err == nil {
		c.n.Add(int64(len(b)))
	}
	return b, err
}

// statsLoop writes each folder's stats file (FolderConfig.StatsFile)
// every StatsEvery while it changes.
func (d *Daemon) statsLoop(ctx context.Context) error {
	t := time.NewTicker(d.cfg.StatsEvery)
	defer t.Stop()
	last := make([]StatsSnapshot, len(d.folders))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for i, f := range d.folders {
			if s := f.snapshot(); s != last[i] && f.statsFile != "" {
				last[i] = s
				f.writeStats(s)
			}
		}
	}
}

// writeStats writes every folder's stats file.
func (d *Daemon) writeStats() {
	for _, f := range d.folders {
		if f.statsFile != "" {
			f.writeStats(f.snapshot())
		}
	}
}

// writeStats writes the folder's stats file. A failure (a full disk) is
// warned about once per error, not at every write: it would crowd out the
// errors that matter in Status.
func (f *folder) writeStats(s StatsSnapshot) {
	err := writeStats(f.statsFile, s)
	if err == nil {
		f.statsErr.Store(nil)
		return
	}
	msg := err.Error()
	if last := f.statsErr.Swap(&msg); last != nil && *last == msg {
		f.log.Debug("stats", "err", err)
		return
	}
	f.log.Warn("stats", "err", err)
}
