package chaos

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// fillDisk fills the file system of a tmpfs peer with a file next to its
// folder until it is full, and returns the file's path.
func fillDisk(pp *peerProc, n int) (string, error) {
	name := filepath.Join(pp.root, fmt.Sprintf("fill-%d", n))
	f, err := os.Create(name)
	if err != nil {
		if isNoSpace(err) {
			return name, nil
		}
		return "", fmt.Errorf("fill %s: %w", pp.name, err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			if isNoSpace(err) {
				return name, nil
			}
			return name, fmt.Errorf("fill %s: %w", pp.name, err)
		}
	}
}

// free removes the fill file, after checking that every file of the peer's
// folder holds a version's bytes (a write that failed for space left the
// old file intact, and no partial file is in place).
func (n *nemesis) free(pp *peerProc, name string) error {
	files, err := readFiles(pp.dir)
	if err == nil {
		for rel, h := range files {
			if !n.c.hist.Known(h) {
				msg := fmt.Sprintf("%s full: %s holds bytes no version had (%s)", pp.name, rel, h[:12])
				n.errs = append(n.errs, msg)
				n.c.hist.Add(Event{Who: "nemesis", Kind: "VIOLATION", Path: rel, Note: msg})
			}
		}
	}
	if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("free %s: %w", pp.name, err)
	}
	n.c.hist.Add(Event{Who: "nemesis", Kind: "disk", Path: pp.name, Note: usage(pp)})
	return nil
}

// noSpaceLines counts the log lines of the tmpfs peers that report a full
// disk (the clear error a fill should produce when the peer writes).
func noSpaceLines(c *cluster) int {
	n := 0
	for _, pp := range c.peers {
		if !pp.tmpfs {
			continue
		}
		b, _ := os.ReadFile(pp.logPath)
		n += strings.Count(string(b), "no space left on device")
	}
	return n
}

// usage describes a tmpfs peer's disk: free bytes and the bytes below
// each top directory of its root (folder, state, tmp, fill files).
func usage(pp *peerProc) string {
	var st unix.Statfs_t
	if err := unix.Statfs(pp.root, &st); err != nil {
		return err.Error()
	}
	parts := []string{fmt.Sprintf("free %d KiB", int64(st.Bavail)*st.Bsize>>10)}
	ents, _ := os.ReadDir(pp.root)
	for _, e := range ents {
		parts = append(parts, fmt.Sprintf("%s %d KiB", e.Name(), duBytes(filepath.Join(pp.root, e.Name()))>>10))
	}
	parts = append(parts, fmt.Sprintf("kept versions %d KiB", duBytes(filepath.Join(pp.dir, ".dartsync", "versions"))>>10))
	return strings.Join(parts, ", ")
}

// duBytes is the size of the files below p.
func duBytes(p string) int64 {
	var n int64
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
