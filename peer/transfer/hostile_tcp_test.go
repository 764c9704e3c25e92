package transfer

import (
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// TestHostileTCPUnreadData: the oversized-frames attack over TCP, where
// yamux grants every stream its whole window (256 KiB) whether the server
// reads or not. A hostile member opens streams on two connections, more
// than its queue, each declaring the largest request frame and sending
// 256 KiB of its body, never the rest. The server answers BUSY beyond its
// budget and queue, unread, so while an honest member fetches a file the
// live heap (hostile client included) stays under the bound. (A client
// that never closes its refused streams is internal/transport's
// TestTCPAbandonedStreamsHoldNoData.)
func TestHostileTCPUnreadData(t *testing.T) {
	ctx := testCtx(t)
	m, path, data := writeTestFile(t, t.TempDir(), 64*testPieceSize, testPieceSize)
	srv := startServer(t, newFileSource(t, path, m), allowAll, withRequestTimeout(time.Minute))
	hostile := newIdentity(t)
	const conns, perConn, body, chunk = 2, 150, 256 << 10, 16 << 10
	var a answers
	var sessions []transport.Session
	for range conns {
		s, err := transport.DialTCP(ctx, srv.l.Addr().String(), hostile, &srv.id.ID, transport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
		for range perConn {
			str, err := s.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a.read(str)
			go func() { // blocks once refused; ends with the session
				if _, err := str.Write(header(MaxRequestFrame)); err != nil {
					return
				}
				buf := make([]byte, chunk)
				for sent := 0; sent < body; sent += chunk {
					if _, err := str.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}
	admitted := MaxRemoteRequestBytes / MaxRequestFrame
	want := conns*perConn - admitted
	waitFor(t, "BUSY answers", func() bool { return a.count(peerpb.Status_STATUS_BUSY) >= want })
	honestFetch(t, ctx, srv, m, data)
	checkHeap(t, "unread data over tcp")
	if n := a.count(peerpb.Status_STATUS_BUSY); n != want {
		t.Fatalf("%d BUSY answers, want %d", n, want)
	}
	for _, s := range sessions {
		s.CloseWithError(0, "")
	}
	a.wg.Wait()
}
