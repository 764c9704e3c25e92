package transfer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/chunkstore"
)

// The chunk store's types are what the peer daemon plugs in.
var (
	_ PieceSource    = (*chunkstore.Store)(nil)
	_ Sink           = (*chunkstore.Partial)(nil)
	_ VerifiedWriter = (*chunkstore.Partial)(nil)
)

// TestFetchWithChunkstore moves a file between two real chunk stores: the
// server reads pieces from the sender's indexed folder, the fetcher writes
// them into the receiver's partial file, which is committed into its folder.
func TestFetchWithChunkstore(t *testing.T) {
	ctx := testCtx(t)
	srcRoot, dstRoot := t.TempDir(), t.TempDir()
	m, _, data := writeTestFile(t, srcRoot, 33*testPieceSize+5, testPieceSize)
	src, err := chunkstore.Open(srcRoot, t.TempDir(), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.AddFile(m); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, src, allowAll)

	dst, err := chunkstore.Open(dstRoot, t.TempDir(), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	p, err := dst.Partial(m)
	if err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, p, []Source{srv.source()})
	if err != nil {
		p.Close()
		t.Fatalf("Fetch: %v", err)
	}
	if st.Written != len(m.Pieces) || !p.Complete() {
		t.Fatalf("stats %+v, complete %v", st, p.Complete())
	}
	target := filepath.Join(dstRoot, m.Path)
	if err := p.Commit(target); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("committed file differs (err %v)", err)
	}
}
