package simtest

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// opPeerStop stops a running peer, leaving at least one running.
func opPeerStop(r *run) bool {
	var running []*simPeer
	for _, p := range r.peers {
		if p.running() {
			running = append(running, p)
		}
	}
	if len(running) < 2 {
		return false
	}
	p := running[r.pick(len(running))]
	if err := p.stop(r.tl); err != nil {
		r.t.Errorf("%s: Run: %v", p.name, err)
	}
	r.logf(p.name, "peer stopped")
	return true
}

func opPeerStart(r *run) bool {
	var stopped []*simPeer
	for _, p := range r.peers {
		if !p.running() {
			stopped = append(stopped, p)
		}
	}
	if len(stopped) == 0 {
		return false
	}
	r.peerStart(stopped[r.pick(len(stopped))])
	return true
}

// peerStart starts p again with the tracker's current token (a user
// re-running it with --tracker and --token; needed after the tracker's
// state was deleted). It does not wait for p's first scan.
func (r *run) peerStart(p *simPeer) {
	if err := p.start(r.tr, r.tl); err != nil {
		r.t.Error(err)
		return
	}
	r.logf(p.name, "peer started")
}

// opTrackerStop stops the tracker cleanly and copies its state (a backup a
// later start may restore).
func opTrackerStop(r *run) bool {
	r.tl.mark(trackerWho, false)
	if err := r.tr.stop(); err != nil {
		r.t.Errorf("tracker Run: %v", err)
	}
	snap := filepath.Join(r.dir, fmt.Sprintf("backup%d", len(r.log)))
	if err := copyTree(r.tr.cfg.StateDir, snap); err != nil {
		r.t.Errorf("back up the tracker's state: %v", err)
		return false
	}
	r.snaps = append(r.snaps, snap)
	r.logf("T", "tracker stopped, state copied to %s", filepath.Base(snap))
	return true
}

func opTrackerStart(r *run) bool {
	mode := "clean"
	switch n := r.pick(100); {
	case n < 35 && len(r.snaps) > 0:
		mode = "restore"
	case n >= 35 && n < 45:
		mode = "fresh"
	}
	r.trackerStart(mode)
	return true
}

// trackerStart starts the stopped tracker: on its state as it is ("clean"),
// on a copy taken at an earlier stop ("restore"), or on no state ("fresh":
// a new identity and token; every running peer stops, refusing it, and is
// started again with the new token).
func (r *run) trackerStart(mode string) {
	state := r.tr.cfg.StateDir
	what := "tracker started on its state"
	switch mode {
	case "restore":
		snap := r.snaps[r.pick(len(r.snaps))]
		if err := os.RemoveAll(state); err != nil {
			r.t.Error(err)
			return
		}
		if err := copyTree(snap, state); err != nil {
			r.t.Errorf("restore the tracker's state: %v", err)
			return
		}
		what = "tracker started on the state copied to " + filepath.Base(snap)
	case "fresh":
		if err := os.RemoveAll(state); err != nil {
			r.t.Error(err)
			return
		}
		r.snaps = nil // backups of another identity
		what = "tracker started with its state deleted"
	}
	old := r.tr.token
	if err := r.tr.start(); err != nil {
		r.t.Error(err)
		return
	}
	r.logf("T", "%s", what)
	if r.tr.token != old {
		r.rejoin()
	}
	r.tl.mark(trackerWho, true)
}

// rejoin waits for every running peer to refuse the tracker's new identity
// and starts it again with the new token.
func (r *run) rejoin() {
	for _, p := range r.peers {
		if !p.running() {
			continue
		}
		err, ok := p.exitedWith(r.tl, 90*time.Second)
		switch {
		case !ok:
			r.t.Errorf("%s kept running against a tracker of another identity", p.name)
			return
		case !errIdentity(err):
			r.t.Errorf("%s facing a new tracker identity: %v", p.name, err)
			return
		}
		r.logf(p.name, "peer refused the new tracker identity")
		r.peerStart(p)
	}
}
