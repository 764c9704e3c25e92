package transport

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
)

// TestTCPAbandonedStreamsHoldNoData: a client that speaks yamux directly
// (not this package: it never closes a stream and ignores stop notices)
// fills the window of many streams (256 KiB each) and the server cancels
// reading every one. The server drains them, so the data does not stay in
// yamux's buffers (which would hold streams × 256 KiB until yamux's close
// timeout of 5 minutes), and the streams stay counted against the
// client's credit while they drain.
func TestTCPAbandonedStreamsHoldNoData(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID := newID(t), newID(t)
	l, err := ListenTCP("127.0.0.1:0", srvID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	tc, err := tls.Dial("tcp", l.Addr().String(), clientTLS(cliID, &srvID.ID, func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	mux, err := yamux.Client(tc, Options{}.yamuxConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer mux.Close()
	ctl, err := mux.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(ctl, make([]byte, 1)); err != nil { // the ready byte
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, ctl) }() // credit and stop notices, ignored
	srv, err := l.AcceptSession(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const streams = 200
	window := make([]byte, maxYamuxWindow)
	window[0] = frData
	binary.BigEndian.PutUint32(window[1:], uint32(len(window)-frameHdr))
	before := heapLive()
	for range streams {
		st, err := mux.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(window); err != nil {
			t.Fatal(err)
		}
		s, err := srv.AcceptStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		s.CancelRead(1)
		s.Close()
	}
	ts := srv.(*tcpSession)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ts.mu.Lock()
		n := len(ts.streams)
		ts.mu.Unlock()
		h := heapLive()
		if h < before+(8<<20) {
			t.Logf("live heap %.1f MiB after %d abandoned streams (%.1f MiB before); %d still counted",
				float64(h)/(1<<20), streams, float64(before)/(1<<20), n)
			if n != streams {
				t.Errorf("%d streams counted, want %d: a stream that was never closed is still open", n, streams)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("live heap %.1f MiB (%.1f before): the abandoned streams' data is held", float64(h)/(1<<20), float64(before)/(1<<20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func heapLive() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
