// Command scaletree creates the trees of benchmarks/scale.sh: N files of
// distinct random content (SIZE bytes each, 1 KiB by default) in leaf
// directories of PER files (100 by default). Up to 1 000 leaf directories
// sit directly under the root (d0000/f00.bin); more are nested two levels,
// PER leaf directories under each top directory (d000/d00/f00.bin), so no
// directory ever lists more than about PER entries.
//
// The content is deterministic (file i of a tree is always the same bytes:
// a ChaCha8 stream seeded with the file's number), so two trees of the same
// N are identical and a rerun reproduces the tree exactly. The files are
// not fsynced: the tree only needs to be complete when the process exits.
//
// Usage: go run ./benchmarks/cmd/scaletree -n 50000 -dir /tmp/tree
//
// It prints one line, "files N dirs D", D counting every directory below
// the root (what a watcher of the whole tree has to watch, less the root).
//
// With -count it creates nothing: it walks an existing tree (leaving out a
// peer's state directory, .dartsync) and prints "files N dirs D" of what it
// found; -warm also reads every file once, so that the next reader finds
// them in the page cache.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// maxFlat is the number of leaf directories above which they are nested.
const maxFlat = 1000

// layout names the directories and files of a tree.
type layout struct {
	n, per, leaves int
	nested         bool
}

func newLayout(n, per int) layout {
	leaves := (n + per - 1) / per
	return layout{n: n, per: per, leaves: leaves, nested: leaves > maxFlat}
}

// leafDir is the folder-relative path of leaf directory j.
func (l layout) leafDir(j int) string {
	if !l.nested {
		return fmt.Sprintf("d%04d", j)
	}
	return filepath.Join(fmt.Sprintf("d%03d", j/l.per), fmt.Sprintf("d%02d", j%l.per))
}

// dirs counts the directories below the root.
func (l layout) dirs() int {
	if !l.nested {
		return l.leaves
	}
	return l.leaves + (l.leaves+l.per-1)/l.per
}

// filesIn is the number of files of leaf directory j.
func (l layout) filesIn(j int) int {
	return min(l.per, l.n-j*l.per)
}

func main() {
	n := flag.Int("n", 50000, "number of files")
	dir := flag.String("dir", "", "root of the tree (created; must be empty or missing)")
	per := flag.Int("per", 100, "files per leaf directory (and leaf directories per top directory when nested)")
	size := flag.Int("size", 1024, "bytes per file")
	workers := flag.Int("workers", runtime.NumCPU()*2, "directories written at the same time")
	count := flag.Bool("count", false, "count the files and directories of an existing tree instead")
	warm := flag.Bool("warm", false, "with -count: read every file once too")
	flag.Parse()
	var err error
	if *count {
		err = countTree(*dir, *warm)
	} else {
		err = run(*dir, *n, *per, *size, *workers)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scaletree:", err)
		os.Exit(1)
	}
}

func run(dir string, n, per, size, workers int) error {
	if dir == "" || n <= 0 || per <= 0 || size <= 0 || workers <= 0 {
		return errors.New("need -dir, and -n, -per, -size, -workers above 0")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create root: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return fmt.Errorf("read root: %w", err)
	} else if len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	l := newLayout(n, per)
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			for j := range jobs {
				if err := writeLeaf(dir, l, j, buf); err != nil {
					errs <- err
					for range jobs { // drain: the producer stops at the first error
					}
					return
				}
			}
		}()
	}
	var err error
feed:
	for j := range l.leaves {
		select {
		case jobs <- j:
		case err = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return err
	}
	fmt.Printf("files %d dirs %d\n", n, l.dirs())
	return nil
}

// writeLeaf creates leaf directory j and its files.
func writeLeaf(root string, l layout, j int, buf []byte) error {
	d := filepath.Join(root, l.leafDir(j))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", d, err)
	}
	var seed [32]byte
	for k := range l.filesIn(j) {
		i := j*l.per + k
		binary.LittleEndian.PutUint64(seed[:], uint64(i))
		rng := rand.NewChaCha8(seed)
		_, _ = rng.Read(buf) // never fails
		p := filepath.Join(d, fmt.Sprintf("f%02d.bin", k))
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// countTree prints the files and directories below root, leaving out
// .dartsync directories; warm reads every file to its end.
func countTree(root string, warm bool) error {
	if root == "" {
		return errors.New("need -dir")
	}
	files, dirs := 0, 0
	buf := make([]byte, 64<<10)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".dartsync":
			return filepath.SkipDir
		case d.IsDir():
			if p != root {
				dirs++
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		files++
		if warm {
			return readAll(p, buf)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	fmt.Printf("files %d dirs %d\n", files, dirs)
	return nil
}

func readAll(p string, buf []byte) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(io.Discard, f, buf); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	return nil
}
