package manifest

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzUnmarshal: arbitrary bytes never crash the decoder; whatever it accepts
// is valid and re-encodes canonically to a manifest equal to it. Seeded with
// the golden encodings in testdata/manifest.
func FuzzUnmarshal(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.manifest"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed encodings in %s: %v", goldenDir, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Unmarshal accepted an invalid manifest: %v", err)
		}
		enc, err := Marshal(&m)
		if err != nil {
			t.Fatalf("Marshal of a decoded manifest: %v", err)
		}
		again, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("Unmarshal of Marshal: %v", err)
		}
		if !equalManifest(&again, &m) {
			t.Fatalf("round trip changed the manifest: %+v -> %+v", m, again)
		}
		enc2, err := Marshal(&again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not canonical (%v)", err)
		}
	})
}

// FuzzValidatePath: every accepted path is relative, clean, local, free of
// NUL and backslashes, valid UTF-8, short enough (the whole path and each
// name) and outside the state directory. Seeded from testdata/fuzz/FuzzValidatePath and the golden paths.
func FuzzValidatePath(f *testing.F) {
	for _, p := range []string{"a", "a/b/c.txt", "../x", "/abs", ".dartsync/x", "a//b", "dir/naïve 日本.txt"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if err := ValidatePath(p); err != nil {
			return
		}
		switch {
		case p == "" || len(p) > MaxPathLen:
			t.Fatalf("accepted length %d", len(p))
		case !utf8.ValidString(p):
			t.Fatalf("accepted invalid UTF-8 %q", p)
		case strings.ContainsAny(p, "\x00\\"):
			t.Fatalf("accepted NUL or backslash in %q", p)
		case path.IsAbs(p) || path.Clean(p) != p:
			t.Fatalf("accepted absolute or unclean %q", p)
		case !filepath.IsLocal(filepath.FromSlash(p)) && filepath.Separator == '/':
			t.Fatalf("accepted non-local %q", p)
		}
		for _, elem := range strings.Split(p, "/") {
			if elem == "" || elem == "." || elem == ".." || len(elem) > MaxNameLen {
				t.Fatalf("accepted element %q in %q", elem, p)
			}
		}
		first, _, _ := strings.Cut(p, "/")
		if strings.EqualFold(first, StateDir) {
			t.Fatalf("accepted state directory path %q", p)
		}
		root := filepath.FromSlash("/folder")
		if j := filepath.Join(root, filepath.FromSlash(p)); !strings.HasPrefix(j, root+string(filepath.Separator)) {
			t.Fatalf("%q joins to %q, outside %q", p, j, root)
		}
	})
}
