package tracker

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// syncBuffer is a log sink tests read while clients write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.b.String(), sub)
}

// Two folders of one device on one connection (a shared Dialer): each
// folder's stream registers, gets only its folder's updates, and a stream
// the tracker refuses (a second stream of "work" on the same connection)
// ends alone: the first "work" stream and the "photos" stream go on,
// neither re-registers, and the device dialled once.
func TestFolderStreamsShareConnection(t *testing.T) {
	s := startServer(t, t.TempDir(), ServerConfig{})
	addr, tok := s.Addr().String(), s.Token()
	a, b := newTestIdentity(t), newTestIdentity(t)
	dialer := NewDialer(DialerConfig{Addr: addr, Identity: a, Tracker: tok.Tracker, Log: testLog(t)})
	t.Cleanup(func() { dialer.Close() })
	folder := func(name string) clientOpt { return func(c *ClientConfig) { c.Folder = name } }
	shared := func(c *ClientConfig) { c.Dialer = dialer }

	aWork := startClient(t, addr, tok, a, folder("work"), shared)
	aPhotos := startClient(t, addr, tok, a, folder("photos"), shared)
	bWork := startClient(t, addr, tok, b, folder("work"))
	bPhotos := startClient(t, addr, tok, b, folder("photos"))
	for _, c := range []*testClient{aWork, aPhotos, bWork, bPhotos} {
		c.registered(t)
	}

	aWork.update(t, testFile("w.txt", "work file", 1, manifest.ID{}))
	aPhotos.update(t, testFile("p.jpg", "photo", 1, manifest.ID{}))
	bWork.rec.wait(t, "w.txt at b's work", func(r *recorder) bool { _, ok := r.entry("w.txt"); return ok })
	bPhotos.rec.wait(t, "p.jpg at b's photos", func(r *recorder) bool { _, ok := r.entry("p.jpg"); return ok })

	// a refused stream on the same connection
	var logged syncBuffer
	dup := startClient(t, addr, tok, a, folder("work"), shared, func(c *ClientConfig) {
		c.Log = slog.New(slog.NewTextHandler(&logged, nil))
	})
	deadline := time.Now().Add(waitLimit)
	for !logged.contains("already registered on this connection") {
		if time.Now().After(deadline) {
			t.Fatal("the second work stream was not refused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	dup.stop(t)

	aWork.update(t, testFile("w2.txt", "after the refusal", 2, manifest.ID{}))
	aPhotos.update(t, testFile("p2.jpg", "after the refusal", 2, manifest.ID{}))
	bWork.rec.wait(t, "w2.txt at b's work", func(r *recorder) bool { _, ok := r.entry("w2.txt"); return ok })
	bPhotos.rec.wait(t, "p2.jpg at b's photos", func(r *recorder) bool { _, ok := r.entry("p2.jpg"); return ok })

	for name, c := range map[string]*testClient{"a work": aWork, "a photos": aPhotos} {
		c.rec.mu.Lock()
		regs := len(c.rec.regs)
		c.rec.mu.Unlock()
		if regs != 1 {
			t.Errorf("%s registered %d times, want once", name, regs)
		}
	}
	// no name crosses folders
	for _, tt := range []struct {
		c    *testClient
		path string
	}{{bWork, "p.jpg"}, {bWork, "p2.jpg"}, {bPhotos, "w.txt"}, {bPhotos, "w2.txt"}, {aPhotos, "w.txt"}, {aWork, "p.jpg"}} {
		tt.c.rec.mu.Lock()
		_, ok := tt.c.rec.entry(tt.path)
		tt.c.rec.mu.Unlock()
		if ok {
			t.Errorf("%s crossed folders", tt.path)
		}
	}
	dialer.mu.Lock()
	dials := dialer.dials
	dialer.mu.Unlock()
	if dials != 1 {
		t.Errorf("device a dialled the tracker %d times, want once", dials)
	}
}
