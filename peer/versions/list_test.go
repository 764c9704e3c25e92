package versions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keepAt keeps the current content of rel at time at, then replaces the
// file with next (as the peer does).
func keepAt(t *testing.T, s *Store, c *clock, root, rel string, at time.Time, next string) Entry {
	t.Helper()
	c.t = at
	e, ok, err := s.Keep(rel)
	if err != nil || !ok {
		t.Fatalf("Keep(%s) = %v, %v", rel, ok, err)
	}
	tmp := write(t, root, "next.tmp", next)
	must(t, os.Rename(tmp, filepath.Join(root, filepath.FromSlash(rel))))
	return e
}

func TestListOrder(t *testing.T) {
	s, c, root := newStore(t, Options{})
	write(t, root, "b.txt", "b1")
	write(t, root, "a/z.txt", "z1")
	write(t, root, "a/y.txt", "y1")
	keepAt(t, s, c, root, "b.txt", t0.Add(2*time.Hour), "b2")
	keepAt(t, s, c, root, "b.txt", t0, "b3") // an older stamp kept later (the clock went back): listed first
	keepAt(t, s, c, root, "b.txt", t0, "b4") // same second: -2
	keepAt(t, s, c, root, "a/z.txt", t0, "z2")
	keepAt(t, s, c, root, "a/y.txt", t0.Add(time.Hour), "y2")
	// Not versions: a temporary file, a name edited by hand.
	write(t, root, ".dartsync/versions/.tmp-123", "junk")
	write(t, root, ".dartsync/versions/a/notes.txt", "junk")

	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a/y.txt@060607=y1", "a/z.txt@050607=z1", "b.txt@050607=b2", "b.txt@050607-2=b3", "b.txt@070607=b1"}},
		{"a", []string{"a/y.txt@060607=y1", "a/z.txt@050607=z1"}},
		{"a/", []string{"a/y.txt@060607=y1", "a/z.txt@050607=z1"}},
		{"b.txt", []string{"b.txt@050607=b2", "b.txt@050607-2=b3", "b.txt@070607=b1"}},
		{"b", nil},
		{"a/z", nil},
	} {
		l, err := s.List(tt.prefix)
		must(t, err)
		var got []string
		for _, e := range l {
			stamp := e.Time.Format("150405")
			if e.Seq > 0 {
				stamp += "-" + string(rune('0'+e.Seq))
			}
			got = append(got, e.Path+"@"+stamp+"="+readFile(t, e.File))
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("List(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

func TestChoose(t *testing.T) {
	s, c, root := newStore(t, Options{})
	write(t, root, "f.txt", "v1")
	keepAt(t, s, c, root, "f.txt", t0, "v2")                   // kept v1 @ t0
	keepAt(t, s, c, root, "f.txt", t0, "v3")                   // kept v2 @ t0 -2
	keepAt(t, s, c, root, "f.txt", t0.Add(time.Hour), "v4")    // kept v3 @ t0+1h
	keepAt(t, s, c, root, "f.txt", t0.Add(48*time.Hour), "v5") // kept v4 @ t0+48h
	write(t, root, "other.txt", "o1")
	keepAt(t, s, c, root, "other.txt", t0.Add(72*time.Hour), "o2")

	tests := []struct {
		path    string
		at      time.Time
		want    string
		wantErr error
	}{
		{"f.txt", time.Time{}, "v4", nil},
		{"f.txt", t0.Add(100 * time.Hour), "v4", nil},
		{"f.txt", t0.Add(48 * time.Hour), "v4", nil}, // at its time exactly
		{"f.txt", t0.Add(48*time.Hour - time.Second), "v3", nil},
		{"f.txt", t0.Add(time.Hour), "v3", nil},
		{"f.txt", t0.Add(time.Minute), "v2", nil}, // same second: the later one
		{"f.txt", t0, "v2", nil},
		{"f.txt", t0.Add(-time.Second), "", ErrNoVersion},
		{"missing.txt", time.Time{}, "", ErrNoVersion},
		{"f", time.Time{}, "", ErrNoVersion}, // no prefix match
		{"/other.txt", time.Time{}, "o1", nil},
	}
	for _, tt := range tests {
		e, err := s.Choose(tt.path, tt.at)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Choose(%q, %v) error = %v, want %v", tt.path, tt.at, err, tt.wantErr)
			continue
		}
		if err == nil && readFile(t, e.File) != tt.want {
			t.Errorf("Choose(%q, %v) = %s holding %q, want %q", tt.path, tt.at, e.File, readFile(t, e.File), tt.want)
		}
	}
}

func TestRestore(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, root string) // the path's state before the restore
		want     string                          // content at the path after
		wantKept string                          // what was there, now kept ("" = nothing)
		wantSame bool
		wantErr  bool
	}{
		{"deleted file comes back", func(t *testing.T, root string) { must(t, os.Remove(filepath.Join(root, "d", "f.txt"))) }, "v1", "", false, false},
		{"deleted directory comes back", func(t *testing.T, root string) { must(t, os.RemoveAll(filepath.Join(root, "d"))) }, "v1", "", false, false},
		{"current file is kept first", func(t *testing.T, root string) {}, "v1", "v2", false, false},
		{"same content: nothing to do", func(t *testing.T, root string) { write(t, root, "d/f.txt", "v1") }, "v1", "", true, false},
		{"a directory in the way", func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "d", "f.txt")))
			must(t, os.Mkdir(filepath.Join(root, "d", "f.txt"), 0o755))
		}, "", "", false, true},
		{"a symlinked parent", func(t *testing.T, root string) {
			must(t, os.RemoveAll(filepath.Join(root, "d")))
			must(t, os.Symlink(t.TempDir(), filepath.Join(root, "d")))
		}, "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, root := newStore(t, Options{})
			p := write(t, root, "d/f.txt", "v1")
			must(t, os.Chmod(p, 0o751))
			old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
			must(t, os.Chtimes(p, old, old))
			keepAt(t, s, c, root, "d/f.txt", t0, "v2")
			tt.setup(t, root)
			c.t = t0.Add(time.Hour)
			res, err := s.Restore("d/f.txt", time.Time{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Restore error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if res.Same != tt.wantSame || readFile(t, p) != tt.want {
				t.Fatalf("Restore = %+v; file holds %q, want %q", res, readFile(t, p), tt.want)
			}
			if tt.wantKept == "" && res.Kept.File != "" || tt.wantKept != "" && (res.Kept.File == "" || readFile(t, res.Kept.File) != tt.wantKept) {
				t.Fatalf("Restore kept %+v, want %q kept", res.Kept, tt.wantKept)
			}
			if tt.wantSame {
				return
			}
			fi, err := os.Stat(p)
			must(t, err)
			// A new local edit: mtime now (not the version's), mode kept.
			if !fi.ModTime().Equal(c.t) || fi.Mode().Perm() != 0o751 {
				t.Fatalf("restored mtime %v mode %v, want %v 0751", fi.ModTime(), fi.Mode().Perm(), c.t)
			}
			// The version stays kept, untouched.
			if readFile(t, res.From.File) != "v1" {
				t.Fatal("the kept version changed")
			}
			vi, err := os.Stat(res.From.File)
			must(t, err)
			if !vi.ModTime().Equal(old) {
				t.Fatalf("the kept version's mtime changed to %v", vi.ModTime())
			}
			// No temporary file is left.
			if ents, _ := os.ReadDir(s.dir); len(ents) != 1 {
				t.Fatalf("versions dir holds %d entries, want only d/", len(ents))
			}
		})
	}
}
