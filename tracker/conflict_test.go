package tracker

import (
	"path"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// TestConflictNameFits: every conflict name passes ValidatePath, its last
// element at most MaxNameLen bytes including a "-N" suffix; a name that must
// be shortened keeps its extension (unless the extension alone is too long)
// and is cut at a rune boundary; a name that fits is not changed.
func TestConflictNameFits(t *testing.T) {
	var dev identity.DeviceID
	dev[0] = 0x42
	mark := ".sync-conflict-" + time.Unix(0, t0).UTC().Format("20060102-150405") + "-" + dev.Short()
	cjk := strings.Repeat("日", 82) + ".txt"                     // 250 bytes of 3-byte runes and an extension
	deepDir := strings.Repeat(strings.Repeat("d", 199)+"/", 20) // 4000 bytes
	tests := []struct {
		name     string
		path     string
		n        int    // candidate number (1: no suffix)
		wantTail string // the element ends with this
		wantHead string // and starts with this
		wantSame bool   // the name is not shortened
	}{
		{"short name unchanged", "docs/a.txt", 1, mark + ".txt", "a", true},
		{"short name, suffix before the extension", "docs/a.txt", 7, mark + "-7.txt", "a", true},
		{"250-byte CJK name keeps its extension", "docs/" + cjk, 1, mark + ".txt", "日日日", false},
		{"250-byte CJK name, largest suffix", "docs/" + cjk, maxConflictTries, mark + "-" + strconv.Itoa(maxConflictTries) + ".txt", "日日日", false},
		{"250-byte CJK name without extension", strings.Repeat("語", 83) + "a", 2, mark + "-2", "語語語", false},
		{"4-byte runes", "x/" + strings.Repeat("😀", 62) + ".md", 1, mark + ".md", "😀😀", false},
		{"long extension is cut with the name", "a." + strings.Repeat("x", 240), 1, mark, "a.xxx", false},
		{"long extension, suffix", "a." + strings.Repeat("é", 120), 3, mark + "-3", "a.éé", false},
		{"extension that fits is kept", strings.Repeat("s", 200) + "." + strings.Repeat("e", 50), 1, mark + "." + strings.Repeat("e", 50), "sss", false},
		{"long dot file", "." + strings.Repeat("b", 254), 1, mark, ".bbb", false},
		{"deep directory: the whole path fits", deepDir + strings.Repeat("f", 86) + ".txt", 12, mark + "-12.txt", "fff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := manifest.ValidatePath(tt.path); err != nil {
				t.Fatalf("test path invalid: %v", err)
			}
			got := conflictName(tt.path, t0, dev, tt.n)
			if err := manifest.ValidatePath(got); err != nil {
				t.Fatalf("conflict name invalid: %v", err)
			}
			dir, elem := path.Split(got)
			if wantDir, _ := path.Split(tt.path); dir != wantDir {
				t.Errorf("directory %q, want %q", dir, wantDir)
			}
			if len(elem) > manifest.MaxNameLen || !utf8.ValidString(elem) {
				t.Errorf("element of %d bytes (valid UTF-8: %v)", len(elem), utf8.ValidString(elem))
			}
			if !strings.HasSuffix(elem, tt.wantTail) || !strings.HasPrefix(elem, tt.wantHead) {
				t.Errorf("element %q: want prefix %q and suffix %q", elem, tt.wantHead, tt.wantTail)
			}
			// What stands before the marker is a prefix of the original name.
			_, base := path.Split(tt.path)
			stem, _, _ := strings.Cut(elem, mark)
			if !strings.HasPrefix(base, stem) {
				t.Errorf("kept %q, not a prefix of %q", stem, base)
			}
			if same := len(stem) == len(strings.TrimSuffix(base, path.Ext(base))) || stem == base; same != tt.wantSame {
				t.Errorf("name kept whole: %v, want %v (%q)", same, tt.wantSame, stem)
			}
			if !tt.wantSame {
				// Shortened no more than needed: a rune (≤ 4 bytes) short of
				// the limit at most.
				limit := min(manifest.MaxNameLen, manifest.MaxPathLen-len(dir))
				if len(elem) < limit-utf8.UTFMax+1 {
					t.Errorf("element of %d bytes, limit %d: cut too much", len(elem), limit)
				}
			}
		})
	}
}

// TestApplyConflictLongName: concurrent edits of a file with a 250-byte
// CJK name get conflict copies (with -2, -3 suffixes when taken), each a
// valid path, instead of being rejected.
func TestApplyConflictLongName(t *testing.T) {
	s := openTestStore(t)
	var nums [2]uint32
	for i := range nums {
		var err error
		if nums[i], _, err = s.addMember(newTestIdentity(t).ID); err != nil {
			t.Fatal(err)
		}
	}
	p := "docs/" + strings.Repeat("日", 82) + ".txt"
	v1 := testFile(p, "one", t0, manifest.ID{})
	v2 := testFile(p, "two", t0+int64(time.Hour), v1.ID)
	if _, err := s.apply("", nums[0], reports(v1, v2)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 3 {
		loser := testFile(p, "loser "+strconv.Itoa(i), t0+int64(time.Minute), v1.ID)
		rs, err := s.apply("", nums[1], reports(loser))
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		if r.Outcome != Conflict || r.Path == p || seen[r.Path] {
			t.Fatalf("loser %d: %v at %q (err %v), want a conflict copy of its own", i, r.Outcome, r.Path, r.Err)
		}
		seen[r.Path] = true
		if err := manifest.ValidatePath(r.Path); err != nil {
			t.Fatalf("conflict copy path: %v", err)
		}
		if i > 0 && !strings.HasSuffix(r.Path, "-"+strconv.Itoa(i+1)+".txt") {
			t.Errorf("copy %d at %q, want suffix -%d", i, r.Path, i+1)
		}
		e, ok, err := s.lookup("", r.Path)
		if err != nil || !ok || e.Manifest.ID != loser.ID {
			t.Fatalf("entry at %q: %v %v %s, want %s", r.Path, ok, err, e.Manifest.ID.Short(), loser.ID.Short())
		}
	}
}
