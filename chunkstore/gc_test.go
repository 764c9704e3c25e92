package chunkstore

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// gcVersion is one file version of a collection test: its bytes and
// manifest.
type gcVersion struct {
	data []byte
	m    manifest.Manifest
}

// gcVersions returns three versions of one 4-piece file: v1; v2 sharing
// pieces 0-2 with v1 (piece 3 differs); v3 sharing pieces 0-1 (2 and 3
// differ).
func gcVersions() (v1, v2, v3 gcVersion) {
	d1 := randomData(71, 4*testPieceSize)
	d2 := slices.Concat(d1[:3*testPieceSize], randomData(72, testPieceSize))
	d3 := slices.Concat(d1[:2*testPieceSize], randomData(73, 2*testPieceSize))
	mk := func(d []byte) gcVersion { return gcVersion{d, buildManifest("big.bin", d, testPieceSize)} }
	return mk(d1), mk(d2), mk(d3)
}

// partialWith writes pieces of v into its partial and closes it (they are
// durable and recorded), unless keepOpen.
func partialWith(t *testing.T, s *Store, v gcVersion, keepOpen bool, pieces ...int) *Partial {
	t.Helper()
	p, err := s.Partial(&v.m)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range pieces {
		if err := p.WritePiece(i, piece(v.data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	if keepOpen {
		if err := p.Sync(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return nil
}

// gcSetup is what one row of TestCollectPartials prepared.
type gcSetup struct {
	opt  CollectOptions
	gone []manifest.ID // partials the collection must remove (file and record)
	stay []manifest.ID // partials it must leave in place
	// after, if set, runs once the expectations are checked.
	after func(t *testing.T)
}

// collectCase is one case of TestCollectPartials.
type collectCase struct {
	name                   string
	setup                  func(t *testing.T, s *Store, root string) gcSetup
	removed, kept, skipped int
	wantErr                error
}

func TestCollectPartials(t *testing.T) {
	v1, v2, v3 := gcVersions()
	later := time.Now().Add(25 * time.Hour) // a day without progress
	wants := func(vs ...gcVersion) []manifest.Manifest {
		var ms []manifest.Manifest
		for _, v := range vs {
			ms = append(ms, v.m)
		}
		return ms
	}
	tests := []collectCase{
		{
			name: "superseded",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 2, 3) // v3's pieces 2 and 3 differ
				return gcSetup{opt: CollectOptions{Wants: wants(v3)}, gone: []manifest.ID{v1.m.ID}}
			},
			removed: 1,
		},
		{
			name: "edited away: no wants left",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1, 2, 3) // complete, never applied
				return gcSetup{gone: []manifest.ID{v1.m.ID}}
			},
			removed: 1,
		},
		{
			name: "still wanted",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1)
				return gcSetup{opt: CollectOptions{Wants: wants(v1), MaxAge: 24 * time.Hour}, stay: []manifest.ID{v1.m.ID}}
			},
		},
		{
			name: "shares pieces with a wanted version: kept until that version holds them",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1, 3)
				opt := CollectOptions{Wants: wants(v2)}
				return gcSetup{opt: opt, stay: []manifest.ID{v1.m.ID}, after: func(t *testing.T) {
					// v2's download copies what it can from v1's partial.
					p, err := s.Partial(&v2.m)
					if err != nil {
						t.Fatal(err)
					}
					if n, _, err := p.CopyLocal(context.Background()); err != nil || n != 2 {
						t.Fatalf("CopyLocal = %d, %v; want pieces 0 and 1", n, err)
					}
					if err := p.Close(); err != nil {
						t.Fatal(err)
					}
					st, err := s.CollectPartials(opt)
					if err != nil || st.Removed != 1 || st.Kept != 0 {
						t.Fatalf("second collection = %+v, %v; want v1 removed", st, err)
					}
					expectPartials(t, s, []manifest.ID{v1.m.ID}, []manifest.ID{v2.m.ID})
					if l, ok := s.Locate(v1.m.Pieces[0].Hash); !ok || l.Path != s.paths.partialPath(v2.m.ID) {
						t.Errorf("shared piece at %v %v, want in v2's partial", l, ok)
					}
				}}
			},
			kept: 1,
		},
		{
			name: "shares pieces that a complete file also has",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1)
				writeFile(t, root, "big.bin", v3.data)
				if err := s.AddFile(&v3.m); err != nil {
					t.Fatal(err)
				}
				return gcSetup{opt: CollectOptions{Wants: wants(v2)}, gone: []manifest.ID{v1.m.ID}}
			},
			removed: 1,
		},
		{
			name: "two superseded versions hold the needed pieces: the one holding more is kept",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v3, false, 0, 1)
				partialWith(t, s, v1, false, 0, 1, 2)
				return gcSetup{opt: CollectOptions{Wants: wants(v2)}, gone: []manifest.ID{v3.m.ID}, stay: []manifest.ID{v1.m.ID}}
			},
			removed: 1, kept: 1,
		},
		{
			name: "old without progress",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0)
				return gcSetup{opt: CollectOptions{Wants: wants(v1), MaxAge: 24 * time.Hour, Now: later}, gone: []manifest.ID{v1.m.ID}}
			},
			removed: 1,
		},
		{
			name: "old, but no maximum age",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0)
				return gcSetup{opt: CollectOptions{Wants: wants(v1), Now: later}, stay: []manifest.ID{v1.m.ID}}
			},
		},
		{
			name: "old sealed partial with the target's old mtime: progress is the record's, not the mtime",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				p := partialWith(t, s, v1, true, 0, 1, 2, 3)
				old := time.Now().Add(-10 * 24 * time.Hour)
				if err := os.Chtimes(p.Path(), old, old); err != nil {
					t.Fatal(err)
				}
				if err := p.Seal(); err != nil {
					t.Fatal(err)
				}
				if err := p.Close(); err != nil { // the apply found the target edited
					t.Fatal(err)
				}
				return gcSetup{opt: CollectOptions{Wants: wants(v1), MaxAge: 24 * time.Hour}, stay: []manifest.ID{v1.m.ID}}
			},
		},
		{
			name: "stalled, but holds pieces another live want needs",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1)
				return gcSetup{opt: CollectOptions{Wants: wants(v1, v3), MaxAge: 24 * time.Hour, Now: later}, stay: []manifest.ID{v1.m.ID}}
			},
			kept: 1,
		},
		{
			name: "a stalled want protects nothing",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1)
				partialWith(t, s, v2, false, 3)
				return gcSetup{opt: CollectOptions{Wants: wants(v2), MaxAge: 24 * time.Hour, Now: later}, gone: []manifest.ID{v1.m.ID, v2.m.ID}}
			},
			removed: 2,
		},
		{
			name: "open (busy)",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				p := partialWith(t, s, v1, true, 0)
				return gcSetup{stay: []manifest.ID{v1.m.ID}, after: func(t *testing.T) {
					if !p.Have(0) {
						t.Error("open partial lost its piece")
					}
					if err := p.WritePiece(1, piece(v1.data, testPieceSize, 1)); err != nil {
						t.Errorf("open partial unusable after the collection: %v", err)
					}
					p.Close()
				}}
			},
			skipped: 1,
		},
		{
			name: "partial file without a record, superseded",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				writeRaw(t, s.paths.partialPath(v1.m.ID), v1.data[:testPieceSize], time.Now())
				return gcSetup{opt: CollectOptions{Wants: wants(v2)}, gone: []manifest.ID{v1.m.ID}}
			},
			removed: 1,
		},
		{
			name: "partial file without a record, wanted, recently written",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				writeRaw(t, s.paths.partialPath(v1.m.ID), v1.data[:testPieceSize], time.Now())
				return gcSetup{opt: CollectOptions{Wants: wants(v1), MaxAge: 24 * time.Hour}, stay: []manifest.ID{v1.m.ID}}
			},
		},
		{
			name: "partial file without a record, wanted, last written two days ago",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				writeRaw(t, s.paths.partialPath(v1.m.ID), v1.data[:testPieceSize], time.Now().Add(-48*time.Hour))
				return gcSetup{opt: CollectOptions{Wants: wants(v1), MaxAge: 24 * time.Hour}, gone: []manifest.ID{v1.m.ID}}
			},
			removed: 1,
		},
		{
			name: "record without a file",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0, 1)
				if err := os.Remove(s.paths.partialPath(v1.m.ID)); err != nil {
					t.Fatal(err)
				}
				return gcSetup{opt: CollectOptions{Wants: wants(v1)}, gone: []manifest.ID{v1.m.ID}, after: func(t *testing.T) {
					if l, ok := s.Locate(v1.m.Pieces[0].Hash); ok {
						t.Errorf("location of a removed record still known: %v", l)
					}
				}}
			},
			removed: 1,
		},
		{
			name: "closed store",
			setup: func(t *testing.T, s *Store, root string) gcSetup {
				partialWith(t, s, v1, false, 0)
				s.Close()
				return gcSetup{}
			},
			wantErr: ErrClosed,
		},
	}
	for _, tt := range tests {
		for _, paged := range []bool{false, true} {
			runCollectCase(t, tt, paged)
		}
	}
}

// runCollectCase runs one case of TestCollectPartials, with the wants as a
// slice or (paged) walked by EachWant.
func runCollectCase(t *testing.T, tt collectCase, paged bool) {
	name := tt.name
	if paged {
		name += " (EachWant)"
	}
	t.Run(name, func(t *testing.T) {
		root := t.TempDir()
		s := openStore(t, root)
		defer s.Close()
		su := tt.setup(t, s, root)
		if paged {
			ws := su.opt.Wants
			su.opt.Wants = nil
			su.opt.EachWant = func(yield func(*manifest.Manifest) bool) error {
				for i := range ws {
					m := ws[i] // a copy: yield must not keep it
					if !yield(&m) {
						break
					}
				}
				return nil
			}
		}
		var wantBytes int64
		for _, id := range su.gone {
			if fi, err := os.Stat(s.paths.partialPath(id)); err == nil {
				wantBytes += diskUsage(fi)
			}
		}
		st, err := s.CollectPartials(su.opt)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Fatalf("CollectPartials = %v, want %v", err, tt.wantErr)
		}
		if err != nil {
			return
		}
		want := CollectStats{Removed: tt.removed, Bytes: wantBytes, Kept: tt.kept, Skipped: tt.skipped}
		if st != want {
			t.Errorf("CollectPartials = %+v, want %+v", st, want)
		}
		expectPartials(t, s, su.gone, su.stay)
		for _, id := range su.stay {
			if _, err := os.Stat(s.paths.partialPath(id)); err != nil {
				t.Errorf("kept partial %s: %v", id.Short(), err)
			}
		}
		if su.after != nil {
			su.after(t)
		}
	})
}

// expectPartials checks that the partials gone are removed (no file, no
// record) and those in stay are still listed.
func expectPartials(t *testing.T, s *Store, gone, stay []manifest.ID) {
	t.Helper()
	ids, err := s.Partials()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range gone {
		if slices.Contains(ids, id) {
			t.Errorf("partial %s not removed", id.Short())
		}
		if _, err := os.Stat(s.paths.partialPath(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("file of partial %s: %v, want it removed", id.Short(), err)
		}
	}
	for _, id := range stay {
		if !slices.Contains(ids, id) {
			t.Errorf("partial %s removed, want it kept", id.Short())
		}
	}
}

// writeRaw writes data at path with modification time mtime (a partial
// file left without a record, e.g. by a crash before its first flush).
func writeRaw(t *testing.T, path string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}
