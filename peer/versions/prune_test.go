package versions

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestPrune(t *testing.T) {
	day := 24 * time.Hour
	// Versions of 100 bytes kept at these ages (days before now).
	ages := map[string]time.Duration{"a/old.txt": 40 * day, "a/b/older.txt": 31 * day, "mid.txt": 10 * day, "new.txt": day, "newest.txt": 0}
	tests := []struct {
		name     string
		opt      Options
		want     []string // paths of the versions left
		wantDirs []string // directories left under versions/
	}{
		{"by age, default 30 days", Options{}, []string{"mid.txt", "new.txt", "newest.txt"}, nil},
		{"by age, 5 days", Options{MaxAge: 5 * day}, []string{"new.txt", "newest.txt"}, nil},
		{"by size, oldest first", Options{MaxAge: 100 * day, MaxBytes: 250}, []string{"new.txt", "newest.txt"}, nil},
		{"by size, exactly the cap", Options{MaxAge: 100 * day, MaxBytes: 300}, []string{"mid.txt", "new.txt", "newest.txt"}, nil},
		{"both", Options{MaxAge: 35 * day, MaxBytes: 1000}, []string{"a/b/older.txt", "mid.txt", "new.txt", "newest.txt"}, []string{"a", "a/b"}},
		{"nothing fits", Options{MaxBytes: 50}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, root := newStore(t, tt.opt)
			now := t0.Add(100 * day)
			for p, age := range ages {
				write(t, root, p, strings.Repeat("x", 100))
				c.t = now.Add(-age)
				if _, ok, err := s.Keep(p); !ok || err != nil {
					t.Fatal(ok, err)
				}
			}
			// A temporary file left by a crash an hour and more ago goes;
			// a fresh one (a copy under way) stays.
			stale := write(t, root, ".dartsync/versions/.tmp-1", "x")
			must(t, os.Chtimes(stale, now.Add(-2*time.Hour), now.Add(-2*time.Hour)))
			fresh := write(t, root, ".dartsync/versions/.tmp-2", "x")
			must(t, os.Chtimes(fresh, now.Add(-time.Minute), now.Add(-time.Minute)))

			res, err := s.Prune(now)
			must(t, err)
			l, err := s.List("")
			must(t, err)
			var got []string
			for _, e := range l {
				got = append(got, e.Path)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("left %v, want %v", got, tt.want)
			}
			if res.Kept != len(tt.want) || res.Removed != len(ages)-len(tt.want) || res.Bytes != int64(100*len(tt.want)) || res.Freed != int64(100*res.Removed) {
				t.Fatalf("Prune = %+v", res)
			}
			var dirs []string
			_ = filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && p != s.dir {
					dirs = append(dirs, relDir(s.dir, p))
				}
				return nil
			})
			sort.Strings(dirs)
			if strings.Join(dirs, " ") != strings.Join(tt.wantDirs, " ") {
				t.Fatalf("directories left %v, want %v", dirs, tt.wantDirs)
			}
			if _, err := os.Stat(stale); err == nil {
				t.Fatal("stale temporary file not removed")
			}
			if _, err := os.Stat(fresh); err != nil {
				t.Fatal("fresh temporary file removed")
			}
		})
	}
}

func TestCapDefaultsToPercentOfFileSystem(t *testing.T) {
	s, _, root := newStore(t, Options{})
	total, err := fsSize(root)
	must(t, err)
	if total == 0 {
		t.Fatal("file system size 0")
	}
	got, err := s.Cap()
	must(t, err)
	if want := int64(float64(total) * 0.10); got != want {
		t.Fatalf("Cap = %d, want 10%% of %d = %d", got, total, want)
	}
	s2 := Open(root, Options{MaxPercent: 1})
	if got, _ := s2.Cap(); got != int64(float64(total)*0.01) {
		t.Fatalf("Cap at 1%% = %d", got)
	}
	s3 := Open(root, Options{MaxBytes: 12345, MaxPercent: 1})
	if got, _ := s3.Cap(); got != 12345 {
		t.Fatalf("Cap with MaxBytes = %d", got)
	}
}

func TestPruneEmpty(t *testing.T) {
	s, _, _ := newStore(t, Options{})
	res, err := s.Prune(t0)
	if err != nil || res.Kept != 0 || res.Removed != 0 {
		t.Fatalf("Prune of nothing = %+v, %v", res, err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("Prune created the versions directory: %v", err)
	}
}
