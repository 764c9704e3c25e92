package peer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// resync is the state of a re-announce (see doc.go, Re-announce): the
// registration that asked for one, the pull rounds it must stop, and the
// registration whose Registered callback ran last.
type resync struct {
	mu         sync.Mutex
	pending    *tracker.RegisterInfo // asked for a re-announce not done yet
	seenConn   uint64                // last registration whose Registered callback ran
	seen       chan struct{}         // kicked when seenConn moves
	pulling    bool                  // a pull round runs
	pullDone   chan struct{}         // kicked when a pull round ends
	cancelPull context.CancelFunc    // cancels the running pull round

	// conn, if not 0, is the registration local changes are reported on
	// (the re-announce's). Owned by the scan loop.
	conn uint64
}

func newResync() resync {
	return resync{seen: make(chan struct{}, 1), pullDone: make(chan struct{}, 1)}
}

// registering is the tracker client's Registering hook: it runs before the
// registration delivers anything. A resume records the tracker's epoch (the
// sequence numbers go on). A re-announce first forgets the epoch and every
// stored want, durably (a crash from here on re-announces again, and nothing
// the tracker sent before is applied), then stops pulling and has the scan
// loop re-announce.
func (d *Daemon) registering(info tracker.RegisterInfo) error {
	if !info.Reannounce {
		d.rs.mu.Lock()
		d.rs.pending = nil
		d.rs.mu.Unlock()
		kick(d.pullKick)
		if e := [16]byte(info.Epoch); d.idx.Epoch() != e {
			return d.idx.Update(index.Batch{Epoch: &e})
		}
		return nil
	}
	if err := d.idx.Update(index.Batch{Epoch: &[16]byte{}, ClearWants: true}); err != nil {
		return fmt.Errorf("forget the previous epoch: %w", err)
	}
	d.rs.mu.Lock()
	d.rs.pending = &info
	cancel := d.rs.cancelPull
	d.rs.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	d.mu.Lock()
	d.unannounced = nil // in the index: the re-announce covers them
	d.mu.Unlock()
	kick(d.scanKick)
	return nil
}

// registered notes that the Registered callback of registration conn ran:
// every update of an earlier registration has been handled.
func (d *Daemon) registered(conn uint64) {
	d.rs.mu.Lock()
	d.rs.seenConn = max(d.rs.seenConn, conn)
	d.rs.mu.Unlock()
	kick(d.rs.seen)
}

// pendingReannounce returns the registration waiting for a re-announce.
func (d *Daemon) pendingReannounce() (tracker.RegisterInfo, bool) {
	d.rs.mu.Lock()
	defer d.rs.mu.Unlock()
	if d.rs.pending == nil {
		return tracker.RegisterInfo{}, false
	}
	return *d.rs.pending, true
}

// beginPull starts a pull round, cancelled if a re-announce begins; it
// refuses while one is pending.
func (d *Daemon) beginPull(ctx context.Context) (context.Context, bool) {
	d.rs.mu.Lock()
	defer d.rs.mu.Unlock()
	if d.rs.pending != nil {
		return nil, false
	}
	pctx, cancel := context.WithCancel(ctx)
	d.rs.pulling, d.rs.cancelPull = true, cancel
	return pctx, true
}

func (d *Daemon) endPull() {
	d.rs.mu.Lock()
	d.rs.cancelPull()
	d.rs.pulling, d.rs.cancelPull = false, nil
	d.rs.mu.Unlock()
	kick(d.rs.pullDone)
}

// reannounce sends the tracker this peer's whole index (live versions and
// tombstones, each with the base it was synced with and the versions the
// path held before), then the local changes a scan finds, all on
// registration info.Conn; then it records the tracker's epoch and ends the
// re-announce, after which the tracker sends everything. It applies nothing
// meanwhile.
func (d *Daemon) reannounce(ctx context.Context, info tracker.RegisterInfo) error {
	if !d.waitRegistered(ctx, info.Conn) {
		return nil // a newer registration replaced it (or ctx ended)
	}
	// Every update of an earlier registration has been handled: forget what
	// they stored or hold, and wait for the pull round they may have started.
	d.dropHeldUpdates()
	if err := d.idx.Update(index.Batch{ClearWants: true}); err != nil {
		return err
	}
	if err := d.waitPullIdle(ctx); err != nil {
		return err
	}
	if !d.checkFolder() {
		return errFolderPaused // its resume kicks a scan, which re-announces then
	}
	paths := d.idx.Paths()
	changes := make([]tracker.Change, 0, len(paths))
	for _, p := range paths {
		e, ok := d.idx.Get(p)
		if !ok {
			continue
		}
		anc, err := d.idx.History(p)
		if err != nil {
			return err
		}
		anc = slices.DeleteFunc(anc, func(id manifest.ID) bool { return id == e.Manifest.ID })
		changes = append(changes, tracker.Change{New: e.Manifest, Ancestors: anc})
	}
	level := slog.LevelInfo
	if len(changes) == 0 {
		level = slog.LevelDebug // a new device: nothing to re-announce
	}
	d.log.Log(ctx, level, fmt.Sprintf("tracker epoch changed (its state is new, restored from a backup, or it did not shut down cleanly): re-announcing %d files", len(changes)),
		"tracker_epoch", info.Epoch)
	res, err := d.client.Reannounce(ctx, info.Conn, changes)
	if err != nil {
		return fmt.Errorf("re-announce: %w", err)
	}
	t := d.recordReannounce(changes, res)
	d.stats.Reannounced.Add(int64(len(changes)))

	// Changes made here while the tracker was away, against the index the
	// tracker now knows.
	d.rs.conn = info.Conn
	err = d.localScan(ctx)
	d.rs.conn = 0
	if err != nil {
		return fmt.Errorf("re-announce: local changes: %w", err)
	}
	e := [16]byte(info.Epoch)
	if err := d.idx.Update(index.Batch{Epoch: &e, ResetSeq: true}); err != nil {
		return err
	}
	if err := d.client.ReannounceDone(ctx, info.Conn); err != nil {
		return fmt.Errorf("re-announce: %w", err)
	}
	d.rs.mu.Lock()
	if d.rs.pending != nil && d.rs.pending.Conn == info.Conn {
		d.rs.pending = nil
	}
	d.rs.mu.Unlock()
	d.stats.Reannounces.Add(1)
	d.log.Log(ctx, level, fmt.Sprintf("re-announce done: accepted %d, already current %d, outdated %d, conflicts %d, rejected %d",
		t.accepted, t.owner, t.outdated, t.conflict, t.rejected))
	kick(d.pullKick)
	return nil
}

// reannounceTally counts a re-announce's outcomes.
type reannounceTally struct{ accepted, owner, outdated, conflict, rejected int }

// recordReannounce acts on the outcomes of re-announced index entries. The
// index already holds each; what the tracker has instead arrives as an
// update once the re-announce is done. Only a version that lost a conflict
// needs work now: its copy is made before the winner can replace it.
func (d *Daemon) recordReannounce(changes []tracker.Change, res []tracker.Result) reannounceTally {
	var t reannounceTally
	for i, r := range res {
		m := changes[i].New
		switch r.Outcome {
		case tracker.Accepted:
			t.accepted++
		case tracker.Owner:
			t.owner++
		case tracker.Outdated:
			t.outdated++
			d.log.Debug("re-announce: the tracker has a newer version", "path", m.Path)
		case tracker.Conflict:
			t.conflict++
			d.stats.Conflicts.Add(1)
			if r.Path != "" && r.Path != m.Path && m.Kind == manifest.KindFile && !m.Deleted {
				e, _ := d.idx.Get(m.Path)
				st, err := d.keepConflictCopy(&m, r.Path, e.Stat)
				if err != nil {
					// Changed since it was synced: the scan reports the edit.
					d.log.Warn("keep conflict copy", "path", m.Path, "copy", r.Path, "err", err)
				} else {
					e.Stat = st // a hard link changed only the ctime
					d.idx.Stage(e)
					kick(d.scanKick)
				}
			}
			d.log.Warn("conflict", "path", m.Path, "our_copy", r.Path)
		default:
			t.rejected++
			d.log.Info("re-announce: not accepted", "path", m.Path, "outcome", r.Outcome.String(), "err", r.Err)
		}
	}
	return t
}

// dropHeldUpdates forgets the tracker updates held unstored (a failed
// index write, indexwrite.go), after the writer under way: they came before
// the re-announce, which replaces them.
func (d *Daemon) dropHeldUpdates() {
	h := &d.held
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.busy {
		if h.idle == nil {
			h.idle = sync.NewCond(&h.mu)
		}
		h.idle.Wait()
	}
	h.updates, h.capped = nil, 0
}

// waitRegistered waits until the Registered callback of registration conn
// ran; false if a newer registration replaced it first or ctx ended.
func (d *Daemon) waitRegistered(ctx context.Context, conn uint64) bool {
	for {
		d.rs.mu.Lock()
		seen, cur := d.rs.seenConn, d.rs.pending
		d.rs.mu.Unlock()
		if cur == nil || cur.Conn != conn {
			return false
		}
		if seen >= conn {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-d.rs.seen:
		}
	}
}

// waitPullIdle waits until no pull round runs (none starts while a
// re-announce is pending).
func (d *Daemon) waitPullIdle(ctx context.Context) error {
	for {
		d.rs.mu.Lock()
		busy := d.rs.pulling
		d.rs.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.rs.pullDone:
		}
	}
}

// update reports changes to the tracker: on the registration of a running
// re-announce, if there is one.
func (d *Daemon) update(ctx context.Context, req []tracker.Change) ([]tracker.Result, error) {
	if d.rs.conn != 0 {
		return d.client.UpdateOn(ctx, d.rs.conn, req)
	}
	return d.client.Update(ctx, req)
}
