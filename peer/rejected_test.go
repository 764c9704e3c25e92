package peer

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// TestRejectionHoldsOnlyWhileNothingMoves: a version the tracker refused is
// not reported again while the path's index entry and the tracker's
// sequence stay as they were; any change of either (or of the version on
// disk) makes it reportable again, so a path flipping between versions (git
// checkout A, B, A, B) never stays unreported.
func TestRejectionHoldsOnlyWhileNothingMoves(t *testing.T) {
	version := func(data string) manifest.Manifest {
		m, err := manifest.BuildBytes(context.Background(), []byte(data), manifest.MinPieceSize)
		if err != nil {
			t.Fatal(err)
		}
		m.Path = "p"
		return m
	}
	x, y := version("version x"), version("version y")
	tomb := manifest.NewTombstone("p", manifest.KindFile, x.ID, 2)

	tests := []struct {
		name  string
		move  func(t *testing.T, d *folder) // after the rejection
		again manifest.Manifest             // what the next diff finds
		want  bool                          // still rejected
	}{
		{name: "nothing moved", move: func(*testing.T, *folder) {}, again: withBase(x, tomb.ID), want: true},
		{name: "another version on disk", move: func(*testing.T, *folder) {}, again: withBase(y, tomb.ID), want: false},
		{name: "index entry moved on", move: func(t *testing.T, d *folder) {
			d.idx.Stage(index.Entry{Manifest: withBase(y, tomb.ID)})
		}, again: withBase(x, y.ID), want: false},
		{name: "tracker announced a change", move: func(t *testing.T, d *folder) {
			if err := d.idx.Update(index.Batch{Seq: d.idx.Seq() + 1}); err != nil {
				t.Fatal(err)
			}
		}, again: withBase(x, tomb.ID), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := idleDaemon(t)
			d.idx.Stage(index.Entry{Manifest: tomb})
			d.state.noteRejected(new(withBase(x, tomb.ID)), d.idx.Seq())
			tt.move(t, d)
			if got := d.state.stillRejected(new(tt.again), d.idx.Seq()); got != tt.want {
				t.Fatalf("stillRejected = %v, want %v", got, tt.want)
			}
			if !tt.want {
				// Forgotten: back to exactly the first circumstances, the
				// version is reported again (once more, at worst).
				if d.state.stillRejected(new(withBase(x, tomb.ID)), d.idx.Seq()) {
					t.Fatal("a rejection that stopped applying came back")
				}
			}
		})
	}
}

func withBase(m manifest.Manifest, base manifest.ID) manifest.Manifest {
	m.Base = base
	return m
}

// idleDaemon is the folder of a Daemon with real stores that is not running.
func idleDaemon(t *testing.T) *folder {
	t.Helper()
	n := newTestNet(t)
	state := filepath.Join(t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Root: t.TempDir(), StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.closeStores)
	return d.folders[0]
}
