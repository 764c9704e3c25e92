package simtest

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
)

// startPair starts a tracker and two live peers, a and b, in t.TempDir(),
// stopped by t's cleanup (peers first). DARTSYNC_SIM_LOG set: debug logs on
// stderr.
func startPair(t *testing.T) (tr *simTracker, tl *timeline, a, b *simPeer) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("DARTSYNC_SIM_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	dir := t.TempDir()
	tl = newTimeline()
	tr = newTracker(filepath.Join(dir, "tracker"), log)
	must(t, tr.start())
	t.Cleanup(func() { _ = tr.stop() })
	var ps []*simPeer
	for i, name := range []string{"a", "b"} {
		p := &simPeer{idx: i, name: name, root: filepath.Join(dir, name), state: filepath.Join(dir, name+"-state"), log: log.With("who", name)}
		id, err := identity.LoadOrCreate(p.state)
		must(t, err)
		p.id = id
		must(t, p.start(tr, tl))
		waitFor(t, name+" live", func() bool { return p.d.Stats().ScansCompleted > 0 })
		t.Cleanup(func() { _ = p.stop(tl) })
		ps = append(ps, p)
	}
	return tr, tl, ps[0], ps[1]
}
