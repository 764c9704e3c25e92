package decide

import (
	"context"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// file is the manifest of content at path (one piece, mtime 1).
func file(t *testing.T, path, content string) manifest.Manifest {
	t.Helper()
	m, err := manifest.BuildBytes(context.Background(), []byte(content), 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	m.Path, m.ModTime = path, 1
	return m
}

// based is m reported against base.
func based(m manifest.Manifest, base manifest.ID) manifest.Manifest {
	m.Base = base
	return m
}

// stat is a distinct stat per n.
func stat(n int64) scan.Stat { return scan.Stat{Size: n, ModTime: n, Inode: uint64(n), Ctime: n} }

// view is an index: a Lookup and its paths (sorted as given).
type view []index.Entry

func (v view) lookup(p string) (index.Entry, bool) {
	for _, e := range v {
		if e.Manifest.Path == p {
			return e, true
		}
	}
	return index.Entry{}, false
}

func (v view) paths() []string {
	out := make([]string, len(v))
	for i, e := range v {
		out[i] = e.Manifest.Path
	}
	return out
}

func set(paths ...string) func(string) bool {
	return func(p string) bool {
		for _, q := range paths {
			if p == q {
				return true
			}
		}
		return false
	}
}

func wantOf(m manifest.Manifest) index.Want { return index.Want{Manifest: m, Seq: 1} }

func paths(ws []index.Want) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Manifest.Path)
	}
	return out
}
