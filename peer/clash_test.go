package peer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileDirectoryClashKeepsBoth: a file on one device and a directory of
// the same name on another. The tracker keeps the directory under the name
// and records the file under its conflict name, owned by the device that
// made it, which must build that copy from its own file before the
// directory replaces it: whichever report the tracker saw first, both
// peers end with the directory and its content under the name and the
// file's bytes under the conflict name.
func TestFileDirectoryClashKeepsBoth(t *testing.T) {
	tests := []struct {
		name      string
		fileFirst bool // the file's report is accepted, then the directory wins the clash
	}{
		{"file accepted first, then the directory wins", true},
		{"directory first, then the file's report conflicts", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNet(t)
			f := n.start(t.TempDir())  // makes the file "x"
			dp := n.start(t.TempDir()) // makes the directory "x"

			fileData := bytes.Repeat([]byte("the only copy of this file "), 3000) // several pieces
			inside := []byte("inside the directory")
			writeFile := func() {
				t.Helper()
				if err := os.WriteFile(filepath.Join(f.root, "x"), fileData, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			makeDir := func() {
				t.Helper()
				if err := os.MkdirAll(filepath.Join(dp.root, "x"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dp.root, "x", "inside"), inside, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.fileFirst {
				dp.stop()
				writeFile()
				waitFor(t, "the file reported", func() bool { return f.d.Stats().LocalChanges >= 1 })
				makeDir()
				dp = n.restart(t, dp)
			} else {
				f.stop()
				makeDir()
				waitFor(t, "the directory reported", func() bool { return dp.d.Stats().LocalChanges >= 2 })
				writeFile()
				f = n.restart(t, f)
			}
			for _, root := range []string{f.root, dp.root} {
				waitFor(t, "directory content in "+root, fileIs(filepath.Join(root, "x", "inside"), inside))
				waitFor(t, "the file as its conflict copy in "+root, func() bool {
					return conflictCopy(root, "x.sync-conflict-", fileData) != ""
				})
			}
		})
	}
}

// conflictCopy returns the name of a file in root whose name starts with
// prefix and which holds data ("" if none).
func conflictCopy(root, prefix string, data []byte) string {
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && fileIs(filepath.Join(root, e.Name()), data)() {
			return e.Name()
		}
	}
	return ""
}
