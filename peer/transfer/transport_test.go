package transfer

import (
	"bytes"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// TestFetchOverEachTransport: the same fetch (pieces from two sources, then
// a delta) over QUIC and over TCP, with the fetcher's and the servers'
// connections reported as that transport.
func TestFetchOverEachTransport(t *testing.T) {
	for _, tc := range []struct {
		mode transport.Mode
		want string
	}{{transport.ModeQUIC, "quic"}, {transport.ModeTCP, "tcp"}, {transport.ModeAuto, "quic"}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			ctx := testCtx(t)
			m, path, data := writeTestFile(t, t.TempDir(), 20*testPieceSize+7, testPieceSize)
			a := startServer(t, newFileSource(t, path, m), allowAll)
			b := startServer(t, newFileSource(t, path, m), allowAll)
			me := newIdentity(t)
			f := newFetcher(t, me, FetchOptions{Dialer: transport.NewDialer(me, transport.Options{}, tc.mode)})
			sink := newFileSink(t, t.TempDir(), m)
			if st, err := f.Fetch(ctx, m, sink, []Source{a.source(), b.source()}); err != nil {
				t.Fatalf("Fetch: %v (stats %+v)", err, st)
			}
			if !bytes.Equal(sink.content(t), data) {
				t.Fatal("fetched file differs from the source")
			}
			piece := data[2*testPieceSize : 3*testPieceSize]
			basis := append([]byte("x"), piece...)
			got, _, err := f.FetchDelta(ctx, a.source(), m.Pieces[2].Hash, testPieceSize, basis)
			if err != nil || !bytes.Equal(got, piece) {
				t.Fatalf("FetchDelta: %v", err)
			}
			for _, n := range f.Networks(a.id.ID) {
				if n != tc.want {
					t.Errorf("fetcher's connection to a over %s, want %s", n, tc.want)
				}
			}
			if ns := a.srv.Networks(me.ID); len(ns) == 0 || slices.ContainsFunc(ns, func(n string) bool { return n != tc.want }) {
				t.Errorf("server a serves over %v, want %s", ns, tc.want)
			}
		})
	}
}

// TestFetchLargeFilesOnBulkLanes: a file of BulkMinSize or more is fetched
// on connections of the BulkDialer, a smaller one on the Dialer's.
func TestFetchLargeFilesOnBulkLanes(t *testing.T) {
	ctx := testCtx(t)
	small, spath, sdata := writeTestFile(t, t.TempDir(), 3*testPieceSize, testPieceSize)
	m, lpath, ldata := writeTestFile(t, t.TempDir(), BulkMinSize, 256<<10)
	srvS := startServer(t, newFileSource(t, spath, small), allowAll)
	srvL := startServer(t, newFileSource(t, lpath, m), allowAll)
	me := newIdentity(t)
	f := newFetcher(t, me, FetchOptions{
		Dialer:     transport.NewDialer(me, transport.Options{}, transport.ModeQUIC),
		BulkDialer: transport.NewDialer(me, transport.Options{}, transport.ModeTCP),
	})
	for _, tc := range []struct {
		name string
		m    *manifest.Manifest
		srv  *testServer
		data []byte
		want string
	}{{"small", small, srvS, sdata, "quic"}, {"large", m, srvL, ldata, "tcp"}} {
		sink := newFileSink(t, t.TempDir(), tc.m)
		if _, err := f.Fetch(ctx, tc.m, sink, []Source{tc.srv.source()}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(sink.content(t), tc.data) {
			t.Fatalf("%s: content differs", tc.name)
		}
		if ns := f.Networks(tc.srv.id.ID); len(ns) == 0 || slices.ContainsFunc(ns, func(n string) bool { return n != tc.want }) {
			t.Errorf("%s: connections over %v, want %s", tc.name, ns, tc.want)
		}
	}
}
