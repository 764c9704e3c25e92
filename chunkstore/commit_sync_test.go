package chunkstore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSyncData: partials sealed without a sync are made durable by the
// batch (one syncfs for syncFSMin or more, else an fsync each) before they
// can be renamed; one closed meanwhile is reported and not synced.
func TestSyncData(t *testing.T) {
	for _, n := range []int{1, syncFSMin - 1, syncFSMin, 2 * syncFSMin} {
		t.Run(fmt.Sprint(n, " partials"), func(t *testing.T) {
			root := t.TempDir()
			s := openStore(t, root)
			defer s.Close()
			var ps []*Partial
			var datas [][]byte
			for i := range n + 1 {
				data := randomData(uint64(100+i), 1000+i)
				m := buildManifest(fmt.Sprintf("f%d.bin", i), data, testPieceSize)
				p := fillPartial(t, s, &m, data)
				if err := p.SealUnsynced(); err != nil {
					t.Fatal(err)
				}
				ps, datas = append(ps, p), append(datas, data)
			}
			b := s.NewCommitBatch()
			if err := b.Rename(ps[0], filepath.Join(root, "f0.bin")); err == nil {
				t.Fatal("Rename of a partial whose data is not synced succeeded")
			}
			// The last one is closed before the sync: reported, stays resumable.
			if err := ps[n].Close(); err != nil {
				t.Fatal(err)
			}
			errs := b.SyncData(ps)
			for i, err := range errs {
				if (i == n) != (err != nil) {
					t.Errorf("partial %d: SyncData error %v", i, err)
				}
			}
			for i, p := range ps[:n] {
				if err := b.Rename(p, filepath.Join(root, fmt.Sprintf("f%d.bin", i))); err != nil {
					t.Fatal(err)
				}
			}
			if bad := b.Finish(); len(bad) != 0 {
				t.Fatalf("Finish: %v", bad)
			}
			for i := range n {
				if got, err := os.ReadFile(filepath.Join(root, fmt.Sprintf("f%d.bin", i))); err != nil || !bytes.Equal(got, datas[i]) {
					t.Errorf("f%d.bin: not committed (err %v)", i, err)
				}
			}
			// Closed unsynced: nothing recorded, but the resume finds it whole.
			m := buildManifest(fmt.Sprintf("f%d.bin", n), datas[n], testPieceSize)
			if _, ok := s.Locate(m.Pieces[0].Hash); ok {
				t.Error("a piece never synced was recorded")
			}
			p, err := s.Partial(&m)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if !p.Complete() {
				t.Errorf("resumed unsynced partial misses %v", p.Missing())
			}
		})
	}
}

// TestCommitSyncsUnsyncedSeal: Commit of a partial sealed without a sync
// syncs it first.
func TestCommitSyncsUnsyncedSeal(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(21, 3*testPieceSize)
	m := buildManifest("f.bin", data, testPieceSize)
	p := fillPartial(t, s, &m, data)
	if err := p.SealUnsynced(); err != nil {
		t.Fatal(err)
	}
	p.flushMu.Lock()
	synced := p.synced
	p.flushMu.Unlock()
	if synced {
		t.Fatal("SealUnsynced synced")
	}
	if err := p.Commit(filepath.Join(root, "f.bin")); err != nil {
		t.Fatal(err)
	}
	if !p.synced {
		t.Error("Commit did not sync the data")
	}
	if got, _ := os.ReadFile(filepath.Join(root, "f.bin")); !bytes.Equal(got, data) {
		t.Error("committed file differs")
	}
}
