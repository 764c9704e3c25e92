package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
