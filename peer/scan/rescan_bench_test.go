package scan

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// BenchmarkRescanTree: the rescan of an unchanged tree of small files, stat
// only (every file unchanged: Prev reads a sorted list forward, as the
// peer reads its index). The tree is 50 000 empty files, 100 a directory,
// nested two levels like benchmarks/cmd/scaletree's (d000/d00/f00.bin),
// made in b.TempDir(); DARTSYNC_SCAN_BENCH_FILES sets another count, and
// DARTSYNC_SCAN_BENCH_TREE names an existing tree to rescan instead (read
// only: a cached scale tree); DARTSYNC_SCAN_BENCH_STAT sets
// Options.StatWorkers. Reports files/s.
func BenchmarkRescanTree(b *testing.B) {
	root := os.Getenv("DARTSYNC_SCAN_BENCH_TREE")
	if root == "" {
		n := 50000
		if v := os.Getenv("DARTSYNC_SCAN_BENCH_FILES"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				b.Fatal(err)
			}
		}
		root = b.TempDir()
		makeNestedTree(b, root, n)
	}
	stat := 0
	if v := os.Getenv("DARTSYNC_SCAN_BENCH_STAT"); v != "" {
		var err error
		if stat, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	prev := prevList(b, root)
	files := int64(0)
	b.ResetTimer()
	for b.Loop() {
		var last Progress
		files = 0
		err := Stream(context.Background(), root, Options{Prev: prev.seek, StatWorkers: stat, Progress: func(p Progress) { last = p }},
			func(bt Batch) error {
				for i := range bt.Entries {
					if bt.Entries[i].Manifest.Kind == manifest.KindFile {
						files++
					}
				}
				return nil
			})
		if err != nil {
			b.Fatal(err)
		}
		if last.TotalFiles != 0 {
			b.Fatalf("rescan hashed %d files", last.TotalFiles)
		}
		prev.i = 0
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// makeNestedTree writes n empty files under root, 100 a directory, in
// directories nested two levels (d000/d00/f00.bin).
func makeNestedTree(b *testing.B, root string, n int) {
	for j := 0; j*100 < n; j++ {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", j/100), fmt.Sprintf("d%02d", j%100))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range min(100, n-j*100) {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.bin", i)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// sortedPrev is a Prev over a list of files sorted in walk order, read
// forward.
type sortedPrev struct {
	list []prevFile
	i    int
}

type prevFile struct {
	path string
	st   Stat
}

// prevList lstats every regular file under root (leaving out the state
// directory) into a sortedPrev.
func prevList(b *testing.B, root string) *sortedPrev {
	p := &sortedPrev{}
	err := filepath.WalkDir(root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == manifest.StateDir {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, full)
		if err != nil {
			return err
		}
		p.list = append(p.list, prevFile{path: filepath.ToSlash(rel), st: StatOf(fi)})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	slices.SortFunc(p.list, func(x, y prevFile) int { return walkCompare(x.path, y.path) })
	return p
}

// seek is the Prev: the file's manifest (no pieces: the scan does not
// read them) and stat.
func (p *sortedPrev) seek(path string) (manifest.Manifest, Stat, bool) {
	for p.i < len(p.list) {
		switch c := walkCompare(p.list[p.i].path, path); {
		case c < 0:
			p.i++
			continue
		case c == 0:
			f := p.list[p.i]
			return manifest.Manifest{Path: f.path, Kind: manifest.KindFile, Size: f.st.Size,
				PieceSize: manifest.DefaultPieceSize}, f.st, true
		}
		break
	}
	return manifest.Manifest{}, Stat{}, false
}
