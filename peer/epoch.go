package peer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// resync is the state of a re-announce (see doc.go, Re-announce): the
// registration that asked for one, the pull rounds it must stop, and the
// registration whose Registered callback ran last. The handler starts a
// re-announce, the reporter runs it, the puller asks it before each round.
type resync struct {
	mu         sync.Mutex
	pending    *tracker.RegisterInfo // asked for a re-announce not done yet
	seenConn   uint64                // last registration whose Registered callback ran
	seen       chan struct{}         // kicked when seenConn moves
	pulling    bool                  // a pull round runs
	pullDone   chan struct{}         // kicked when a pull round ends
	cancelPull context.CancelFunc    // cancels the running pull round
}

func newResync() *resync {
	return &resync{seen: make(chan struct{}, 1), pullDone: make(chan struct{}, 1)}
}

// resume notes a registration that needs no re-announce.
func (rs *resync) resume() {
	rs.mu.Lock()
	rs.pending = nil
	rs.mu.Unlock()
}

// startReannounce notes that registration info asks for a re-announce, and
// cancels the running pull round.
func (rs *resync) startReannounce(info tracker.RegisterInfo) {
	rs.mu.Lock()
	rs.pending = &info
	cancel := rs.cancelPull
	rs.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// finish ends the re-announce of registration conn (if still pending).
func (rs *resync) finish(conn uint64) {
	rs.mu.Lock()
	if rs.pending != nil && rs.pending.Conn == conn {
		rs.pending = nil
	}
	rs.mu.Unlock()
}

// registered notes that the Registered callback of registration conn ran:
// every update of an earlier registration has been handled.
func (rs *resync) registered(conn uint64) {
	rs.mu.Lock()
	rs.seenConn = max(rs.seenConn, conn)
	rs.mu.Unlock()
	kick(rs.seen)
}

// pendingReannounce returns the registration waiting for a re-announce.
func (rs *resync) pendingReannounce() (tracker.RegisterInfo, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.pending == nil {
		return tracker.RegisterInfo{}, false
	}
	return *rs.pending, true
}

// beginPull starts a pull round, cancelled if a re-announce begins; it
// refuses while one is pending.
func (rs *resync) beginPull(ctx context.Context) (context.Context, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.pending != nil {
		return nil, false
	}
	pctx, cancel := context.WithCancel(ctx)
	rs.pulling, rs.cancelPull = true, cancel
	return pctx, true
}

func (rs *resync) endPull() {
	rs.mu.Lock()
	rs.cancelPull()
	rs.pulling, rs.cancelPull = false, nil
	rs.mu.Unlock()
	kick(rs.pullDone)
}

// waitRegistered waits until the Registered callback of registration conn
// ran; false if a newer registration replaced it first or ctx ended.
func (rs *resync) waitRegistered(ctx context.Context, conn uint64) bool {
	for {
		rs.mu.Lock()
		seen, cur := rs.seenConn, rs.pending
		rs.mu.Unlock()
		if cur == nil || cur.Conn != conn {
			return false
		}
		if seen >= conn {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-rs.seen:
		}
	}
}

// waitPullIdle waits until no pull round runs (none starts while a
// re-announce is pending).
func (rs *resync) waitPullIdle(ctx context.Context) error {
	for {
		rs.mu.Lock()
		busy := rs.pulling
		rs.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-rs.pullDone:
		}
	}
}

// reannounce sends the tracker this peer's whole index (live versions and
// tombstones, each with the base it was synced with and the versions the
// path held before), then the local changes a scan finds, all on
// registration info.Conn; then it records the tracker's epoch and ends the
// re-announce, after which the tracker sends everything. It applies nothing
// meanwhile.
func (r *reporter) reannounce(ctx context.Context, info tracker.RegisterInfo) error {
	if !r.rs.waitRegistered(ctx, info.Conn) {
		return nil // a newer registration replaced it (or ctx ended)
	}
	// Every update of an earlier registration has been handled: forget what
	// they stored or hold, and wait for the pull round they may have started.
	r.writes.dropUpdates()
	if err := r.idx.Update(index.Batch{ClearWants: true}); err != nil {
		return err
	}
	if err := r.rs.waitPullIdle(ctx); err != nil {
		return err
	}
	if !r.guard.check() {
		return errFolderPaused // its resume kicks a scan, which re-announces then
	}
	total := r.idx.Len() // a count the index keeps, not a walk
	level := slog.LevelInfo
	if total == 0 {
		level = slog.LevelDebug // a new device: nothing to re-announce
	}
	r.log.Log(ctx, level, fmt.Sprintf("tracker epoch changed (its state is new, restored from a backup, or it did not shut down cleanly): re-announcing %d files", total),
		"tracker_epoch", info.Epoch)
	t, err := r.reannounceIndex(ctx, info.Conn)
	if err != nil {
		return err
	}

	// Changes made here while the tracker was away, against the index the
	// tracker now knows.
	r.conn = info.Conn
	err = r.scan(ctx)
	r.conn = 0
	if err != nil {
		return fmt.Errorf("re-announce: local changes: %w", err)
	}
	e := [16]byte(info.Epoch)
	// The new epoch's Heard starts with what this re-announce was answered.
	if err := r.idx.Update(index.Batch{Epoch: &e, ResetSeq: true, Heard: r.reannounceHeard}); err != nil {
		return err
	}
	if err := r.client.ReannounceDone(ctx, info.Conn); err != nil {
		return fmt.Errorf("re-announce: %w", err)
	}
	r.rs.finish(info.Conn)
	r.stats.Reannounces.Add(1)
	r.log.Log(ctx, level, fmt.Sprintf("re-announce done: accepted %d, already current %d, outdated %d, conflicts %d, rejected %d",
		t.accepted, t.owner, t.outdated, t.conflict, t.rejected))
	kick(r.pullKick)
	return nil
}

// reannouncePage is how many index entries a re-announce sends at once.
const reannouncePage = index.DefaultPage

// reannounceTally counts a re-announce's outcomes.
type reannounceTally struct{ accepted, owner, outdated, conflict, rejected int }

func (t *reannounceTally) add(u reannounceTally) {
	t.accepted += u.accepted
	t.owner += u.owner
	t.outdated += u.outdated
	t.conflict += u.conflict
	t.rejected += u.rejected
}

// reannounceIndex sends the tracker every index entry (live versions and
// tombstones, each with its history) on registration conn, a page of the
// index at a time (index.Index.Page, reannouncePage entries: one page's
// changes and answers in memory), and acts on each page's answers before
// it reads the next.
func (r *reporter) reannounceIndex(ctx context.Context, conn uint64) (reannounceTally, error) {
	var t reannounceTally
	r.reannounceHeard = 0
	n := reannouncePage
	after := ""
	for {
		page, err := r.idx.Page(after, n)
		if err != nil {
			return t, err
		}
		changes := make([]tracker.Change, 0, len(page))
		for _, e := range page {
			anc, err := r.idx.History(e.Manifest.Path)
			if err != nil {
				return t, err
			}
			// anc keeps repeats, e's own ID too (X, deleted, X again): the
			// tracker orders the versions of a path by them.
			changes = append(changes, tracker.Change{New: e.Manifest, Ancestors: anc})
		}
		if len(changes) > 0 {
			res, err := r.client.Reannounce(ctx, conn, changes)
			r.reannounceHeard = max(r.reannounceHeard, hear(r.idx, res))
			if err != nil {
				return t, fmt.Errorf("re-announce: %w", err)
			}
			t.add(r.recordReannounce(changes, res))
			r.stats.Reannounced.Add(int64(len(changes)))
		}
		if len(page) < n {
			return t, nil
		}
		after = page[len(page)-1].Manifest.Path
	}
}

// recordReannounce acts on the outcomes of re-announced index entries. The
// index already holds each; what the tracker has instead arrives as an
// update once the re-announce is done. Only a version that lost a conflict
// needs work now: its copy is made before the winner can replace it.
func (r *reporter) recordReannounce(changes []tracker.Change, res []tracker.Result) reannounceTally {
	var t reannounceTally
	for i, x := range res {
		m := changes[i].New
		switch x.Outcome {
		case tracker.Accepted:
			t.accepted++
		case tracker.Owner:
			t.owner++
		case tracker.Outdated:
			t.outdated++
			r.log.Debug("re-announce: the tracker has a newer version", "path", m.Path)
		case tracker.Conflict:
			t.conflict++
			r.stats.Conflicts.Add(1)
			if x.Path != "" && x.Path != m.Path && m.Kind == manifest.KindFile && !m.Deleted {
				e, _ := r.idx.Get(m.Path)
				st, err := r.keepConflictCopy(&m, x.Path, e.Stat)
				if err != nil {
					// Changed since it was synced: the scan reports the edit.
					r.log.Warn("keep conflict copy", "path", m.Path, "copy", x.Path, "err", err)
				} else {
					e.Stat = st // a hard link changed only the ctime
					r.idx.Stage(e)
					kick(r.scanKick)
				}
			}
			r.log.Warn("conflict", "path", m.Path, "our_copy", x.Path)
		default:
			t.rejected++
			r.log.Info("re-announce: not accepted", "path", m.Path, "outcome", x.Outcome.String(), "err", x.Err)
		}
	}
	return t
}

// update reports changes to the tracker: on the registration of a running
// re-announce, if there is one.
func (r *reporter) update(ctx context.Context, req []tracker.Change) ([]tracker.Result, error) {
	var res []tracker.Result
	var err error
	if r.conn != 0 {
		res, err = r.client.UpdateOn(ctx, r.conn, req)
	} else {
		res, err = r.client.Update(ctx, req)
	}
	top := hear(r.idx, res)
	if r.conn != 0 {
		r.reannounceHeard = max(r.reannounceHeard, top)
	}
	return res, err
}

// hear notes the highest sequence number in res (index.Index.Hear): called
// as soon as the results arrive, before anything records what they mean.
// It returns that number.
func hear(idx *index.Index, res []tracker.Result) uint64 {
	var top uint64
	for _, x := range res {
		top = max(top, x.Seq)
	}
	if top > 0 {
		idx.Hear(top)
	}
	return top
}
