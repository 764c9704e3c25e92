package chunkstore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCollectSkipsPartialWrittenMeanwhile: a partial whose record changes
// between the collection's look and its removal (opened, written and
// closed meanwhile) is left alone.
func TestCollectSkipsPartialWrittenMeanwhile(t *testing.T) {
	v1, _, _ := gcVersions()
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	partialWith(t, s, v1, false, 0)
	recs, err := s.partialRecords()
	if err != nil {
		t.Fatal(err)
	}
	seen := recs[v1.m.ID].raw
	if seen == nil {
		t.Fatal("no record of the partial")
	}
	partialWith(t, s, v1, false, 1) // a pull resumed it and made progress
	removed, err := s.discard(v1.m.ID, func(v []byte) bool { return bytes.Equal(v, seen) })
	if err != nil || removed {
		t.Fatalf("discard of a changed record = %v, %v; want left alone", removed, err)
	}
	p, err := s.Partial(&v1.m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Have(0) || !p.Have(1) {
		t.Errorf("partial lost pieces: missing %v", p.Missing())
	}
}

// TestProgressRecordedOnFlush: the progress time advances when pieces
// become durable, and a resume that adds nothing leaves it alone.
func TestProgressRecordedOnFlush(t *testing.T) {
	v1, _, _ := gcVersions()
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	progress := func() int64 {
		t.Helper()
		recs, err := s.partialRecords()
		if err != nil {
			t.Fatal(err)
		}
		return recs[v1.m.ID].progress
	}
	before := time.Now().UnixNano()
	partialWith(t, s, v1, false, 0)
	first := progress()
	if first < before || first > time.Now().UnixNano() {
		t.Fatalf("progress %d not the time of the flush (after %d)", first, before)
	}
	partialWith(t, s, v1, false) // resumed, nothing written
	if got := progress(); got != first {
		t.Errorf("a resume without new pieces moved progress from %d to %d", first, got)
	}
	partialWith(t, s, v1, false, 2)
	if got := progress(); got <= first {
		t.Errorf("new durable piece left progress at %d (was %d)", got, first)
	}
}

// TestCollectDuringCommits: collections that find nothing wanted run
// without pause while downloads are written and committed into the folder
// (one at a time, and as batches of single-piece files). Every open
// partial is left alone, every commit succeeds, and no committed file is
// touched.
func TestCollectDuringCommits(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	stop := make(chan struct{})
	collected := make(chan error, 1)
	go func() {
		var err error
		for {
			select {
			case <-stop:
				collected <- err
				return
			default:
			}
			if _, cerr := s.CollectPartials(CollectOptions{MaxAge: time.Nanosecond}); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	want := make(map[string][]byte)
	for i := range 20 {
		data := randomData(uint64(100+i), 3*testPieceSize+1+i)
		m := buildManifest(fmt.Sprintf("big%d", i), data, testPieceSize)
		if err := partialWith(t, s, gcVersion{data, m}, true, 0, 1, 2, 3).Commit(filepath.Join(root, m.Path)); err != nil {
			t.Fatalf("commit %s: %v", m.Path, err)
		}
		want[m.Path] = data
	}
	for k := range 5 {
		b := s.NewCommitBatch()
		var ps []*Partial
		for i := range 10 {
			data := randomData(uint64(1000+10*k+i), 100+i)
			m := buildManifest(fmt.Sprintf("small%d-%d", k, i), data, testPieceSize)
			p := partialWith(t, s, gcVersion{data, m}, true, 0)
			if err := p.SealUnsynced(); err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
			want[m.Path] = data
		}
		for i, err := range b.SyncData(ps) {
			if err != nil {
				t.Fatalf("sync %d: %v", i, err)
			}
		}
		for _, p := range ps {
			if err := b.Rename(p, filepath.Join(root, p.Manifest().Path)); err != nil {
				t.Fatal(err)
			}
		}
		if failed := b.Finish(); len(failed) != 0 {
			t.Fatal(failed)
		}
	}
	close(stop)
	if err := <-collected; err != nil {
		t.Fatalf("CollectPartials: %v", err)
	}
	for path, data := range want {
		if got, err := os.ReadFile(filepath.Join(root, path)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s after commits under collection: %v", path, err)
		}
	}
	if ids, err := s.Partials(); err != nil || len(ids) != 0 {
		t.Errorf("partials left: %v %v", ids, err)
	}
}
