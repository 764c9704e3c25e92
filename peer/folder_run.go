package peer

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/peer/watch"
	"github.com/dartsync/dartsync/tracker"
)

// folderRefusedRetry is how long a folder the tracker does not share
// with this device waits before registering again (folders.go, "Paused").
const folderRefusedRetry = time.Minute

// run starts the folder's goroutines in g (Daemon.Run's errgroup): its
// tracker client, guard loop, scan loop, pull loop and versions pruner.
// A tracker refusal of the folder alone (tracker.ErrFolderNotShared)
// pauses this folder and leaves the others running, unless every folder
// of the daemon is refused (then Run ends with it: nothing is left to
// sync); a refusal of the device (a wrong token, not a member, another
// tracker) ends Run.
//
// When the folder's guard loop fails (its watcher cannot start) and the
// daemon has other folders (alone is false), the folder is stopped
// (paused until a restart, with the reason) and the others go on; a
// daemon's only folder ends Run with the error.
func (f *folder) run(ctx context.Context, g *errgroup.Group, client *tracker.Client, alone bool) {
	g.Go(func() error { return f.runClient(ctx, client) })
	changes := make(chan watch.Change) // the guard's watcher to the reporter
	g.Go(func() error {
		err := f.guard.loop(ctx, changes)
		if err == nil || ctx.Err() != nil || alone {
			return err
		}
		f.log.Error("folder stopped; the other folders go on", "folder", f.name, "err", err)
		f.guard.stop(err.Error())
		return nil
	})
	g.Go(func() error { return f.report.loop(ctx, changes) })
	g.Go(func() error { return f.pull.loop(ctx) })
	g.Go(func() error { return f.keep.loop(ctx) })
}

// runClient runs the folder's tracker client until ctx ends. While the
// tracker refuses the folder, the folder is paused with the reason and the
// client asks again every refusedRetry (a member's folders can be widened
// on the tracker); its Registered resumes the folder.
func (f *folder) runClient(ctx context.Context, client *tracker.Client) error {
	for {
		err := client.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, tracker.ErrFolderNotShared) {
			return err
		}
		if f.guard.refused(err.Error()) {
			return err
		}
		f.log.Warn("the tracker does not share this folder with this device: paused; the other folders go on",
			"folder", f.name, "retry_in", f.refusedRetry, "err", err)
		t := time.NewTimer(f.refusedRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// add adds the counters of o to s: sums, except Paused (any folder) and
// its reason (the first paused folder's).
func (s *StatsSnapshot) add(o StatsSnapshot) {
	s.BytesReceived += o.BytesReceived
	s.BytesSent += o.BytesSent
	s.BytesLocal += o.BytesLocal
	s.PiecesFetched += o.PiecesFetched
	s.PiecesLocal += o.PiecesLocal
	s.FilesApplied += o.FilesApplied
	s.FilesDeleted += o.FilesDeleted
	s.LocalChanges += o.LocalChanges
	s.Conflicts += o.Conflicts
	s.PendingWants += o.PendingWants
	s.ScansCompleted += o.ScansCompleted
	s.Reannounces += o.Reannounces
	s.Reannounced += o.Reannounced
	s.Seq += o.Seq
	if o.Paused && !s.Paused {
		s.Paused, s.PausedReason = true, o.PausedReason
	}
	s.PiecesFound += o.PiecesFound
	s.BytesFound += o.BytesFound
	s.PiecesDelta += o.PiecesDelta
	s.BytesDelta += o.BytesDelta
	s.DeltaBytesSent += o.DeltaBytesSent
	s.DeltaBytesReceived += o.DeltaBytesReceived
	s.DeltaFailed += o.DeltaFailed
}
