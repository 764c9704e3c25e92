package peer

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dartsync/dartsync/manifest"
)

// TestConflictCopyOfLongName: concurrent edits of a file whose name is 250
// bytes of CJK end with both versions on both peers; the conflict copy's
// name is shortened to fit 255 bytes (it used to be refused by the tracker,
// leaving the losing version only in a partial).
func TestConflictCopyOfLongName(t *testing.T) {
	name := strings.Repeat("日", 82) + ".txt" // 250 bytes
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	pa, pb := filepath.Join(a.root, name), filepath.Join(b.root, name)
	if err := os.WriteFile(pa, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "v1 on b", fileIs(pb, []byte("v1")))
	a.stop()
	aData, bData := []byte("edit made on a (older)"), []byte("edit made on b (newer)")
	now := time.Now()
	for p, x := range map[string]struct {
		data []byte
		tm   time.Time
	}{pa: {aData, now.Add(-time.Minute)}, pb: {bData, now}} {
		if err := os.WriteFile(p, x.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, x.tm, x.tm); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "b reported its edit", func() bool { return b.d.Stats().LocalChanges >= 1 })
	a2 := n.restart(t, a)
	for _, root := range []string{a2.root, b.root} {
		waitFor(t, "winner at the name in "+root, fileIs(filepath.Join(root, name), bData))
		waitFor(t, "loser as a conflict copy in "+root, func() bool {
			ents, _ := os.ReadDir(root)
			for _, e := range ents {
				c := e.Name()
				if c == name || !strings.Contains(c, ".sync-conflict-") {
					continue
				}
				if len(c) > manifest.MaxNameLen || !utf8.ValidString(c) || !strings.HasPrefix(c, "日日日") || !strings.HasSuffix(c, ".txt") {
					t.Fatalf("conflict copy named %q (%d bytes)", c, len(c))
				}
				return fileIs(filepath.Join(root, c), aData)()
			}
			return false
		})
	}
}

// TestBadLocalNameWarnedOnceNotSynced: a local file whose name
// manifest.ValidatePath refuses (here a backslash: a name over 255 bytes,
// possible on NTFS, takes the same path but cannot be made on this file
// system) is not synced, not taken for deleted, and warned about once
// however many scans see it. A name of exactly 255 bytes syncs.
func TestBadLocalNameWarnedOnceNotSynced(t *testing.T) {
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n := newTestNet(t)
	a := n.startLogged(t.TempDir(), log)
	b := n.start(t.TempDir())
	longest := strings.Repeat("語", 85) // 255 bytes
	bad := `back\slash.txt`
	for _, f := range []string{longest, bad} {
		if err := os.WriteFile(filepath.Join(a.root, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the 255-byte name on b", fileIs(filepath.Join(b.root, longest), []byte(longest)))
	// More scans see the bad name again.
	scans := a.d.Stats().ScansCompleted
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(a.root, "more.txt"), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "another scan", func() bool { return a.d.Stats().ScansCompleted > scans })
		scans = a.d.Stats().ScansCompleted
	}
	waitFor(t, "more.txt on b", fileIs(filepath.Join(b.root, "more.txt"), []byte{2}))
	if _, err := os.Lstat(filepath.Join(b.root, bad)); err == nil {
		t.Fatal("the refused name reached b")
	}
	if _, err := os.Lstat(filepath.Join(a.root, bad)); err != nil {
		t.Fatalf("the refused name is gone from a: %v", err)
	}
	if got := strings.Count(logBuf.String(), "name not allowed"); got != 1 {
		t.Fatalf("%d warnings about the name, want 1; log:\n%s", got, logBuf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
