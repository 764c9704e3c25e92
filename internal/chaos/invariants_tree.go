package chaos

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dartsync/dartsync/tracker"
)

// tree maps a folder's paths (slash-separated, relative, nothing below
// .dartsync) to "dir" or the file's hash.
type tree map[string]string

// readTree reads a folder.
func readTree(dir string) (tree, error) {
	out := tree{}
	err := walkHashes(dir, true, func(rel, h string) { out[rel] = h })
	return out, err
}

// readFiles returns the regular files of a folder (not below .dartsync)
// and their hashes.
func readFiles(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := walkHashes(dir, false, func(rel, h string) { out[rel] = h })
	return out, err
}

// readVersions returns the kept versions of a folder
// (DIR/.dartsync/versions) and their hashes.
func readVersions(dir string) (map[string]string, error) {
	out := map[string]string{}
	vdir := filepath.Join(dir, ".dartsync", "versions")
	err := walkHashes(vdir, false, func(rel, h string) { out[rel] = h })
	if os.IsNotExist(err) {
		err = nil
	}
	return out, err
}

func walkHashes(dir string, dirs bool, fn func(rel, h string)) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case rel == ".dartsync":
			return filepath.SkipDir
		case d.IsDir():
			if dirs {
				fn(rel, "dir")
			}
			return nil
		case !d.Type().IsRegular():
			fn(rel, "special")
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fn(rel, Hash(b))
		return nil
	})
}

// diffTrees explains how got differs from want (empty if equal), at most
// 8 lines.
func diffTrees(got, want tree) string {
	var lines []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "missing "+p)
		} else if g != w {
			lines = append(lines, fmt.Sprintf("%s: %.12s, want %.12s", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "extra "+p)
		}
	}
	sort.Strings(lines)
	if len(lines) > 8 {
		lines = append(lines[:8], fmt.Sprintf("… %d more", len(lines)-8))
	}
	return strings.Join(lines, "; ")
}

// conflictBase splits a conflict copy's path into the path it is a copy
// of and the device (short form) whose version it holds; ok is false for
// other paths. "d/a.sync-conflict-20261203-070101-ABCDEFGH.bin" (or with a
// "-2" suffix) is a copy of "d/a.bin" from device ABCDEFGH.
func conflictBase(p string) (base, device string, ok bool) {
	base, device, _, ok = tracker.ParseConflictName(filepath.ToSlash(p))
	return base, device, ok
}
