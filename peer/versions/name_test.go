package versions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func TestVersionName(t *testing.T) {
	tests := []struct {
		base string
		at   time.Time
		seq  int
		want string
	}{
		{"report.pdf", t0, 0, "report~20250304-050607.pdf"},
		{"report.pdf", t0, 2, "report~20250304-050607-2.pdf"},
		{"report.pdf", t0.Add(999 * time.Millisecond), 0, "report~20250304-050607.pdf"},
		{"report.pdf", t0.In(time.FixedZone("x", 3600)), 0, "report~20250304-050607.pdf"},
		{"a.tar.gz", t0, 0, "a.tar~20250304-050607.gz"},
		{".bashrc", t0, 0, ".bashrc~20250304-050607"},
		{"Makefile", t0, 13, "Makefile~20250304-050607-13"},
		{"x~20240101-000000.txt", t0, 0, "x~20240101-000000~20250304-050607.txt"},
		{"name.txt~", t0, 0, "name~20250304-050607.txt~"},
		{"trailing.", t0, 0, "trailing~20250304-050607."},
	}
	for _, tt := range tests {
		got := versionName(tt.base, tt.at, tt.seq)
		if got != tt.want {
			t.Errorf("versionName(%q, %v, %d) = %q, want %q", tt.base, tt.at, tt.seq, got, tt.want)
		}
		base, at, seq, ok := parseName(got)
		wantSeq := tt.seq
		if !ok || base != tt.base || !at.Equal(tt.at.Truncate(time.Second)) || seq != wantSeq {
			t.Errorf("parseName(%q) = %q, %v, %d, %v; want %q, %v, %d", got, base, at, seq, ok, tt.base, tt.at, wantSeq)
		}
	}
}

func TestParseNameRefuses(t *testing.T) {
	for _, name := range []string{
		"",
		"report.pdf",
		".tmp-12345",
		"~20250304-050607",        // no base name
		"a~20250304-050607x",      // junk after the stamp
		"a~20250304-050607-1.txt", // the first version has no -1
		"a~20250304-050607-02",    // not canonical
		"a~20250304-050607-",      // no number
		"a~20250230-050607.txt",   // no such day
		"a~2025030-050607.txt",    // short stamp
		"a.txt~20250304-050607",   // the stamp goes before the extension
	} {
		if base, at, seq, ok := parseName(name); ok {
			t.Errorf("parseName(%q) = %q, %v, %d, true; want false", name, base, at, seq)
		}
	}
}

func TestLongNames(t *testing.T) {
	cjk := strings.Repeat("日", 82) + ".txt" // 250 bytes
	tests := []struct {
		base string
		seq  int
		want string // fileName
		long bool
	}{
		{strings.Repeat("a", 229) + ".txt", 0, strings.Repeat("a", 229) + "~20250304-050607.txt", false}, // 233 bytes: fits with any -N
		{strings.Repeat("a", 230) + ".txt", 0, "~20250304-050607.txt", true},
		{cjk, 2, "~20250304-050607-2.txt", true},
		{"x." + strings.Repeat("e", 250), 0, "~20250304-050607", true}, // the extension alone is too long
	}
	for _, tt := range tests {
		if got := longName(tt.base); got != tt.long {
			t.Errorf("longName(%d bytes) = %v", len(tt.base), got)
		}
		name := fileName(tt.base, t0, tt.seq)
		if name != tt.want || len(name) > manifest.MaxNameLen {
			t.Errorf("fileName(%d bytes, %d) = %q, want %q", len(tt.base), tt.seq, name, tt.want)
		}
		if tt.long {
			at, seq, ok := parseSelfName(name, tt.base)
			if !ok || !at.Equal(t0) || seq != tt.seq {
				t.Errorf("parseSelfName(%q) = %v, %d, %v", name, at, seq, ok)
			}
			if _, _, _, ok := parseName(name); ok {
				t.Errorf("parseName accepts the self name %q", name)
			}
			if _, _, _, ok := parseName(versionName(tt.base, t0, 0)); ok {
				t.Errorf("parseName accepts a normal name for a long base")
			}
		}
	}
	if _, _, ok := parseSelfName("~20250304-050607.txt", "short.txt"); ok {
		t.Error("parseSelfName accepts a self name for a short base")
	}
}

// FuzzParseName: parseName never panics, and whatever it accepts is exactly
// what versionName writes; versionName's output always parses back.
func FuzzParseName(f *testing.F) {
	f.Add("report~20250304-050607.pdf", "report.pdf", int64(1741064767), 0)
	f.Add("a~20250304-050607-2", "a.tar.gz", int64(0), 2)
	f.Add("x.a~20240101-120000", "x.a~20240101-120000", int64(1735689600), 7)
	f.Add("~20250304-050607.txt", strings.Repeat("日", 82)+".txt", int64(1741064767), 3)
	f.Fuzz(func(t *testing.T, name, base string, secs int64, seq int) {
		if b, at, n, ok := parseName(name); ok {
			if got := fileName(b, at, n); got != name {
				t.Fatalf("parseName(%q) = %q, %v, %d; versionName gives %q", name, b, at, n, got)
			}
		}
		if base == "" || secs < 0 || secs > 253402300799 || seq < 0 || seq > maxSeq || filepath.Base(base) != base {
			return
		}
		at := time.Unix(secs, 0).UTC()
		if seq == 1 {
			seq = 0
		}
		name = fileName(base, at, seq)
		if len(name) > manifest.MaxNameLen && len(base) <= manifest.MaxNameLen {
			t.Fatalf("fileName(%d bytes) is %d bytes", len(base), len(name))
		}
		if longName(base) {
			gotAt, n, ok := parseSelfName(name, base)
			if !ok || !gotAt.Equal(at) || n != seq {
				t.Fatalf("parseSelfName(%q, %q) = %v, %d, %v", name, base, gotAt, n, ok)
			}
			return
		}
		b, gotAt, n, ok := parseName(name)
		if !ok || b != base || !gotAt.Equal(at) || n != seq {
			t.Fatalf("parseName(fileName(%q, %v, %d) = %q) = %q, %v, %d, %v", base, at, seq, name, b, gotAt, n, ok)
		}
	})
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, root, rel, data string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}
