package transfer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// testFolders is a Folders of named folders, each with its source and its
// peers.
type testFolders map[string]struct {
	src   PieceSource
	peers map[identity.DeviceID]bool
}

func (tf testFolders) Folder(name string) (PieceSource, Authorizer, bool) {
	f, ok := tf[name]
	if !ok {
		return nil, nil, false
	}
	return f.src, func(id identity.DeviceID) bool { return f.peers[id] }, true
}

func (tf testFolders) AnyMember(id identity.DeviceID) bool {
	for _, f := range tf {
		if f.peers[id] {
			return true
		}
	}
	return false
}

// A request names its folder: a peer of "work" only gets work's pieces,
// and a request for "photos" (even a piece work also has) or an unknown
// folder is refused FORBIDDEN on its stream while the connection goes on
// serving work; a device of no folder is refused at the connection.
func TestServerFolders(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	mw, pw, _ := writeTestFile(t, dir, 2*testPieceSize, testPieceSize)
	workPeer, photosPeer, stranger := newIdentity(t), newIdentity(t), newIdentity(t)
	work := newFileSource(t, pw, mw)
	folders := testFolders{
		"work":   {src: work, peers: map[identity.DeviceID]bool{workPeer.ID: true}},
		"photos": {src: work, peers: map[identity.DeviceID]bool{photosPeer.ID: true}},
	}
	id := newIdentity(t)
	l, err := transport.ListenNode("127.0.0.1:0", id, transport.Options{}, transport.ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := NewFolderServer(folders, testLog(t))
	go func() { done <- srv.Serve(sctx, l) }()
	t.Cleanup(func() { cancel(); <-done; l.Close() })
	ts := &testServer{id: id, l: l}
	bufs := newBufPool()
	h := mw.Pieces[0].Hash

	wc := dialServer(t, ctx, ts, workPeer)
	pc := dialServer(t, ctx, ts, photosPeer)
	tests := []struct {
		name    string
		conn    *transport.Conn
		folder  string
		hash    manifest.ID
		wantErr error
	}{
		{"work peer, work", wc, "work", h, nil},
		{"work peer, photos", wc, "photos", h, ErrForbidden},
		{"work peer, default folder", wc, "", h, ErrForbidden},
		{"work peer, unknown folder", wc, "music", h, ErrForbidden},
		{"work peer, work again after refusals", wc, "work", mw.Pieces[1].Hash, nil},
		{"photos peer, photos", pc, "photos", h, nil},
		{"photos peer, work", pc, "work", h, ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := requestPiece(ctx, tt.conn.Session(), bufs, tt.folder, tt.hash, testPieceSize, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.folder) {
					t.Fatalf("error %q does not name the folder %q", err, tt.folder)
				}
				return
			}
			if manifest.Hash(b) != tt.hash {
				t.Fatal("wrong bytes")
			}
			bufs.put(b)
		})
	}
	sc := dialServer(t, ctx, ts, stranger)
	if _, err := requestPiece(ctx, sc.Session(), bufs, "work", h, testPieceSize, 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("device of no folder: %v, want ErrForbidden", err)
	}
}

// A fetch from a source names the source's folder: the fetcher of a work
// peer gets the file through Source.Folder "work", and fails with
// ErrNoSources when it asks for it under "photos".
func TestFetchNamesFolder(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 3*testPieceSize, testPieceSize)
	me := newIdentity(t)
	folders := testFolders{"work": {src: newFileSource(t, path, m), peers: map[identity.DeviceID]bool{me.ID: true}}}
	id := newIdentity(t)
	l, err := transport.Listen("127.0.0.1:0", id, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewFolderServer(folders, testLog(t)).Serve(sctx, l) }()
	t.Cleanup(func() { cancel(); <-done; l.Close() })
	f := newFetcher(t, me, FetchOptions{})

	src := Source{ID: id.ID, Addr: l.Addr().String(), Folder: "photos"}
	if _, err := f.Fetch(ctx, m, newFileSink(t, t.TempDir(), m), []Source{src}); !errors.Is(err, ErrNoSources) {
		t.Fatalf("fetch under photos: %v, want ErrNoSources", err)
	}
	src.Folder = "work"
	sink := newFileSink(t, t.TempDir(), m)
	if _, err := f.Fetch(ctx, m, sink, []Source{src}); err != nil {
		t.Fatalf("fetch under work: %v", err)
	}
	if string(sink.content(t)) != string(data) {
		t.Fatal("fetched bytes differ")
	}
}
