package plan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// fakeWhole is a WholeFetcher that serves pieces from a table of true
// bytes and records, per call, the indexes the sink missed.
type fakeWhole struct {
	mu     sync.Mutex
	pieces map[manifest.ID][]byte
	asked  [][]int
}

func (f *fakeWhole) Fetch(_ context.Context, m *manifest.Manifest, sink transfer.Sink, _ []transfer.Source) (transfer.FetchStats, error) {
	missing := sink.Missing()
	f.mu.Lock()
	f.asked = append(f.asked, slices.Clone(missing))
	f.mu.Unlock()
	var st transfer.FetchStats
	for _, i := range missing {
		data, ok := f.pieces[m.Pieces[i].Hash]
		if !ok {
			return st, transfer.ErrNotFound
		}
		if err := sink.WritePiece(i, data); err != nil {
			return st, err
		}
		st.Pieces++
		st.Written++
		st.Bytes += int64(len(data))
	}
	return st, nil
}

// TestLocalFetchesNewPiecesBesideCopy: a file that grew by a piece is
// rebuilt from the chunk store, and the new piece is fetched inside Local,
// beside that copy, not left for the caller's Fetch afterwards.
func TestLocalFetchesNewPiecesBesideCopy(t *testing.T) {
	root := t.TempDir()
	store, err := chunkstore.Open(root, filepath.Join(root, ".dartsync"), testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	old := randomData(t, 8*deltaTestPiece)
	if err := os.WriteFile(filepath.Join(root, "grow.bin"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	om, err := manifest.BuildBytes(context.Background(), old, deltaTestPiece)
	if err != nil {
		t.Fatal(err)
	}
	om.Path = "grow.bin"
	if err := store.AddFile(&om); err != nil {
		t.Fatal(err)
	}
	nw := slices.Concat(old, randomData(t, deltaTestPiece+100))
	m, err := manifest.BuildBytes(context.Background(), nw, deltaTestPiece)
	if err != nil {
		t.Fatal(err)
	}
	m.Path = "grow.bin"
	part, err := store.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	whole := &fakeWhole{pieces: map[manifest.ID][]byte{}}
	for i := range m.Pieces {
		off := m.PieceOffset(i)
		whole.pieces[m.Pieces[i].Hash] = nw[off : off+m.PieceLen(i)]
	}
	st := &counts{}
	e := &Executor{Store: store, Whole: whole, Count: st, Log: testLog()}
	src := []transfer.Source{{ID: identity.DeviceID{1}, Addr: "127.0.0.1:1"}}
	if err := e.Local(context.Background(), Job{Manifest: &m, Sources: src}, part); err != nil {
		t.Fatal(err)
	}
	if left := part.Missing(); len(left) != 0 {
		t.Fatalf("Local left %v to fetch; want the new pieces fetched beside the copy", left)
	}
	if len(whole.asked) != 1 || !slices.Equal(whole.asked[0], []int{8, 9}) {
		t.Errorf("whole fetches asked %v; want one fetch of [8 9]", whole.asked)
	}
	if c := st.get(); c.PiecesLocal != 8 || c.PiecesFetched != 2 || c.BytesReceived != deltaTestPiece+100 {
		t.Errorf("counted %+v; want 8 local, 2 fetched, %d bytes", c, deltaTestPiece+100)
	}
}
