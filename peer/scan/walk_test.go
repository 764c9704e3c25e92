package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// statWorkers are the Options.StatWorkers the walk tests run with: the
// walk alone, and helpers splitting each chunk of names.
var statWorkers = []int{1, 2, 3, 8}

// listed is a scan's output in walk order: entries and skipped paths
// merged.
func listed(t *testing.T, root string, opt Options) (paths []string, res Result) {
	t.Helper()
	res, err := Scan(context.Background(), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		paths = append(paths, e.Manifest.Path)
	}
	for _, s := range res.Skipped {
		paths = append(paths, s.Path)
	}
	slices.SortStableFunc(paths, walkCompare)
	return paths, res
}

// walkDirPaths is what filepath.WalkDir lists under root (the walk this
// package replaced), the top-level state directory left out.
func walkDirPaths(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, full)
		switch rel = filepath.ToSlash(rel); {
		case rel == ".":
			return nil
		case rel == manifest.StateDir:
			return filepath.SkipDir
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWalkOrder: whatever the stat workers, the walk lists what
// filepath.WalkDir lists, in its order (walk order across directories:
// "a/x" before "a.txt", a directory right before what it holds), across
// chunks of a large directory whose subdirectories fall inside and at the
// edges of chunks, and with the lstat of each entry.
func TestWalkOrder(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		dirs  []string
	}{
		{name: "separator sorts first", files: []string{"a/x", "a.txt", "a-b/c", "a0", "a/x.d/y", "a/x-", "b"}},
		{name: "deep", files: []string{"d/e/f/g/h", "d/e/f.txt", "d/e.txt", "d/e/f/g.txt", "d.txt"}, dirs: []string{"d/e/empty"}},
		{name: "chunks", files: chunkTree(3*dirChunk + 7)},
		{name: "one chunk exactly", files: chunkTree(dirChunk)},
		{name: "fewer than a split", files: chunkTree(minSplit - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tt.files {
				write(t, root, f, nil, 0o644)
			}
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			want := walkDirPaths(t, root)
			if !slices.IsSortedFunc(want, walkCompare) {
				t.Fatalf("reference not in walk order: %q", want)
			}
			for _, w := range statWorkers {
				got, res := listed(t, root, Options{PieceSize: ps, StatWorkers: w})
				if !slices.Equal(got, want) {
					t.Errorf("StatWorkers %d: listed %d paths %q\nwant %d %q", w, len(got), got, len(want), want)
				}
				if !slices.IsSortedFunc(res.Entries, func(a, b Entry) int { return walkCompare(a.Manifest.Path, b.Manifest.Path) }) {
					t.Errorf("StatWorkers %d: entries not in walk order", w)
				}
				for _, e := range res.Entries {
					if st := statOfPath(t, filepath.Join(root, filepath.FromSlash(e.Manifest.Path))); st != e.Stat {
						t.Errorf("StatWorkers %d: %s: Stat %+v, lstat says %+v", w, e.Manifest.Path, e.Stat, st)
					}
				}
			}
		})
	}
}

// chunkTree is n names in one directory "big", every 37th a directory
// holding two files (so that directories fall at chunk edges too: 37
// divides none of the chunk sizes), plus a name after it.
func chunkTree(n int) []string {
	var out []string
	for i := range n {
		if i%37 == 0 || i == dirChunk-1 || i == dirChunk {
			out = append(out, fmt.Sprintf("big/n%04d/x", i), fmt.Sprintf("big/n%04d/y.d/z", i))
			continue
		}
		out = append(out, fmt.Sprintf("big/n%04d", i))
	}
	return append(out, "big.txt", "big0/last")
}

// TestWalkVanished: a path gone between the reading of its directory and
// its lstat (removed when the walk asks Ignore about it, which it does
// before the lstat) is not listed; a file is not skipped either (it is
// gone), a directory is skipped for the error reading it, as
// filepath.WalkDir's walk did; nothing below it is listed.
func TestWalkVanished(t *testing.T) {
	tests := []struct {
		name     string
		victim   string
		wantSkip bool
	}{
		{"file", "d/victim", false},
		{"file in a later chunk", fmt.Sprintf("big/n%04d", dirChunk+5), false},
		{"directory", "d/sub", true},
		{"directory in a later chunk", fmt.Sprintf("big/n%04d", 2*37*4), true},
	}
	for _, tt := range tests {
		for _, w := range statWorkers {
			t.Run(fmt.Sprintf("%s/%d", tt.name, w), func(t *testing.T) {
				root := t.TempDir()
				for _, f := range append(chunkTree(2*dirChunk), "d/a", "d/victim", "d/sub/x", "d/sub/y/z", "d/zz") {
					write(t, root, f, []byte("x"), 0o644)
				}
				removed := false
				ignore := func(p string, _ bool) bool {
					if p == tt.victim && !removed {
						removed = true
						if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(p))); err != nil {
							t.Error(err)
						}
					}
					return false
				}
				got, res := listed(t, root, Options{PieceSize: ps, StatWorkers: w, Ignore: ignore})
				if !removed {
					t.Fatal("the walk never asked about the victim")
				}
				want := walkDirPaths(t, root) // the tree without the victim
				if tt.wantSkip {
					want = append(want, tt.victim)
					slices.SortStableFunc(want, walkCompare)
				}
				if !slices.Equal(got, want) {
					t.Errorf("listed %q\nwant %q", got, want)
				}
				for _, s := range res.Skipped {
					if s.Path != tt.victim || !tt.wantSkip || !errors.Is(s.Err, fs.ErrNotExist) {
						t.Errorf("skipped %s (%v)", s.Path, s.Err)
					}
				}
				if res.find(tt.victim) != nil {
					t.Errorf("%s listed", tt.victim)
				}
			})
		}
	}
}

// TestWalkCancel: a scan canceled midway (by Prev, on the walk's
// goroutine, while the stat helpers have work) ends with ctx's error,
// whatever the stat workers; its goroutines are done when it returns
// (the race detector and Stream's WaitGroup see to it).
func TestWalkCancel(t *testing.T) {
	root := t.TempDir()
	for _, f := range chunkTree(2*dirChunk + 3) {
		write(t, root, f, nil, 0o644)
	}
	first, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range statWorkers {
		for _, at := range []int{1, dirChunk - 1, dirChunk + 10} {
			ctx, cancel := context.WithCancel(context.Background())
			calls := 0
			prev := func(p string) (manifest.Manifest, Stat, bool) {
				if calls++; calls == at {
					cancel()
				}
				e := first.find(p)
				if e == nil {
					return manifest.Manifest{}, Stat{}, false
				}
				return e.Manifest, e.Stat, true
			}
			err := Stream(ctx, root, Options{PieceSize: ps, StatWorkers: w, Prev: prev, Batch: 8}, func(Batch) error { return nil })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("StatWorkers %d, canceled at file %d: %v", w, at, err)
			}
			cancel()
		}
	}
}
