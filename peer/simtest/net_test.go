package simtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/tracker"
)

// simTracker is the in-process tracker: one state directory, one address,
// stopped and started by the simulation.
type simTracker struct {
	cfg    tracker.ServerConfig
	srv    *tracker.Server
	cancel context.CancelFunc
	served chan struct{} // closed when Run returned
	runErr error         // Run's result, once served is closed
	token  tracker.Token
	addr   string
}

func newTracker(stateDir string, log *slog.Logger) *simTracker {
	return &simTracker{cfg: tracker.ServerConfig{
		Listen: "127.0.0.1:0", StateDir: stateDir, PieceSize: 16 << 10, Log: log.With("who", "tracker"),
	}}
}

func (tr *simTracker) up() bool { return tr.srv != nil }

// start opens the tracker's state and serves it. The address of the first
// start is kept for every later one (a restart listens at the same port,
// retried briefly while the old socket goes away).
func (tr *simTracker) start() error {
	var err error
	for try := 0; try < 50; try++ {
		var srv *tracker.Server
		if srv, err = tracker.New(tr.cfg); err == nil {
			ctx, cancel := context.WithCancel(context.Background())
			tr.srv, tr.cancel, tr.served = srv, cancel, make(chan struct{})
			go func(done chan struct{}) { defer close(done); tr.runErr = srv.Run(ctx) }(tr.served)
			tr.token = srv.Token()
			tr.addr = srv.Addr().String()
			tr.cfg.Listen = tr.addr
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("start tracker: %w", err)
}

// stop stops the tracker and returns Run's error (a clean stop records
// that its epoch ended cleanly).
func (tr *simTracker) stop() error {
	if tr.srv == nil {
		return nil
	}
	tr.cancel()
	<-tr.served
	tr.srv = nil
	return tr.runErr
}

// simPeer is one daemon and its folder; it outlives the daemons it runs.
type simPeer struct {
	idx   int
	name  string
	root  string
	state string
	id    *identity.Identity
	log   *slog.Logger

	d      *peer.Daemon
	cancel context.CancelFunc
	done   chan error    // Run's result
	exited chan struct{} // closed when Run returned
	marked chan struct{} // closed when the live marker ended
	err    error         // Run's result once collected
}

func (p *simPeer) running() bool { return p.d != nil }

// start runs a new daemon on p's folder and state, joining tr with its
// current token; tl records p live once its first scan completed.
func (p *simPeer) start(tr *simTracker, tl *timeline) error {
	d, err := peer.New(peer.Config{
		Root: p.root, StateDir: p.state, Identity: p.id,
		TrackerAddr: tr.addr, TrackerID: tr.token.Tracker, Secret: append([]byte(nil), tr.token.Secret[:]...),
		ListenAddr: "127.0.0.1:0", Debounce: 20 * time.Millisecond, Rescan: -1,
		Retry: 100 * time.Millisecond, FolderPoll: 200 * time.Millisecond,
		KeepVersionsSize: 1 << 30, Log: p.log,
	})
	if err != nil {
		return fmt.Errorf("%s: new: %w", p.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.d, p.cancel, p.err = d, cancel, nil
	p.done, p.exited, p.marked = make(chan error, 1), make(chan struct{}), make(chan struct{})
	go func(done chan error, exited chan struct{}) {
		done <- d.Run(ctx)
		close(exited)
	}(p.done, p.exited)
	go func(exited, marked chan struct{}) {
		defer close(marked)
		for {
			if d.Stats().ScansCompleted > 0 {
				tl.mark(p.idx, true)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-exited:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}(p.exited, p.marked)
	return nil
}

// stop cancels the daemon and waits for it; it returns Run's error.
func (p *simPeer) stop(tl *timeline) error {
	if p.d == nil {
		return nil
	}
	at := time.Now()
	p.cancel()
	<-p.marked
	err := <-p.done
	tl.markAt(p.idx, false, at)
	p.d = nil
	return err
}

// exitedWith waits up to wait for a daemon that is to stop by itself (its
// tracker changed identity) and returns Run's error.
func (p *simPeer) exitedWith(tl *timeline, wait time.Duration) (error, bool) {
	select {
	case <-p.exited:
	case <-time.After(wait):
		return nil, false
	}
	<-p.marked
	err := <-p.done
	tl.mark(p.idx, false)
	p.cancel()
	p.d = nil
	return err, true
}

// failed reports whether a running daemon stopped by itself, and why.
func (p *simPeer) failed() error {
	if p.d == nil {
		return nil
	}
	select {
	case <-p.exited:
		return fmt.Errorf("%s stopped by itself: %v", p.name, <-p.done)
	default:
		return nil
	}
}

// errIdentity tells whether err is the peer's refusal of a tracker whose
// identity is not the one it joined.
func errIdentity(err error) bool { return errors.Is(err, tracker.ErrTrackerIdentity) }

// copyTree copies the regular files and directories of src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}

// logSink collects the logs of one run in memory, written out only when
// the run fails.
type logSink struct {
	mu  sync.Mutex
	buf []byte
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	s.buf = append(s.buf, b...)
	s.mu.Unlock()
	return len(b), nil
}

func (s *logSink) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.buf...)
}
