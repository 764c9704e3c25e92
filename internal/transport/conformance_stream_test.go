package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestSessionCloseWithErrorReachesPeer(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		// A stream in flight on the client dies with the session too.
		st, err := p.cli.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := p.srv.CloseWithError(42, "go away"); err != nil {
			t.Fatal(err)
		}
		_, err = p.cli.AcceptStream(ctx)
		ae, ok := AsApplicationError(err)
		if !ok || ae.Code != 42 || ae.Reason != "go away" || !ae.Remote {
			t.Fatalf("client AcceptStream: %v (%+v), want remote code 42 %q", err, ae, "go away")
		}
		<-p.cli.Context().Done()
		if ae, ok := AsApplicationError(context.Cause(p.cli.Context())); !ok || ae.Code != 42 || !ae.Remote {
			t.Fatalf("client context cause: %v", context.Cause(p.cli.Context()))
		}
		if ae, ok := AsApplicationError(context.Cause(p.srv.Context())); !ok || ae.Code != 42 || ae.Remote {
			t.Fatalf("server context cause: %v", context.Cause(p.srv.Context()))
		}
		_, err = st.Read(make([]byte, 1))
		if ae, ok := AsApplicationError(err); !ok || ae.Code != 42 {
			t.Fatalf("client stream Read after close: %v", err)
		}
		if _, err := p.cli.OpenStream(ctx); err == nil {
			t.Fatal("OpenStream on a closed session succeeded")
		}
	})
}

// streamPair opens a stream from the client and accepts it on the server
// (the first write makes it known to the server).
func streamPair(ctx context.Context, t *testing.T, p pair) (cli, srv Stream) {
	t.Helper()
	cli, err := p.cli.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Write([]byte("req")); err != nil {
		t.Fatal(err)
	}
	srv, err = p.srv.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != "req" {
		t.Fatalf("server read %q, %v", buf, err)
	}
	return cli, srv
}

func TestStreamCancelWriteReachesReader(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		cli, srv := streamPair(ctx, t, p)
		cli.Close()
		if _, err := srv.Write(make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		srv.CancelWrite(7)
		_, err := io.ReadAll(cli)
		se, ok := AsStreamError(err)
		if !ok || se.Code != 7 || !se.Remote {
			t.Fatalf("reader: %v (%+v), want remote stream error 7", err, se)
		}
		_, err = srv.Write([]byte("more"))
		if se, ok := AsStreamError(err); !ok || se.Code != 7 || se.Remote {
			t.Fatalf("write after CancelWrite: %v, want local stream error 7", err)
		}
	})
}

func TestStreamCancelReadStopsWriter(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		cli, srv := streamPair(ctx, t, p)
		cli.Close()
		cli.CancelRead(9)
		if _, err := cli.Read(make([]byte, 1)); err == nil {
			t.Fatal("Read after CancelRead succeeded")
		} else if se, ok := AsStreamError(err); !ok || se.Code != 9 || se.Remote {
			t.Fatalf("Read after CancelRead: %v, want local stream error 9", err)
		}
		// The writer learns of it after at most a window of data.
		buf := make([]byte, 64<<10)
		var err error
		for i := 0; i < 10000 && err == nil; i++ {
			_, err = srv.Write(buf)
		}
		se, ok := AsStreamError(err)
		if !ok || se.Code != 9 || !se.Remote {
			t.Fatalf("writer: %v, want remote stream error 9", err)
		}
	})
}

func TestStreamCancelReadUnblocksRead(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		cli, _ := streamPair(ctx, t, p)
		errc := make(chan error, 1)
		go func() {
			_, err := cli.Read(make([]byte, 10))
			errc <- err
		}()
		time.Sleep(20 * time.Millisecond) // let Read block (the test passes either way)
		cli.CancelRead(3)
		err := <-errc
		if se, ok := AsStreamError(err); !ok || se.Code != 3 || se.Remote {
			t.Fatalf("blocked Read: %v, want local stream error 3", err)
		}
	})
}

func TestStreamReadDeadline(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		cli, srv := streamPair(ctx, t, p)
		cli.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := cli.Read(make([]byte, 1))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read past deadline: %v, want a timeout", err)
		}
		// The stream survives an expired deadline.
		cli.SetReadDeadline(time.Time{})
		if _, err := srv.Write([]byte("late")); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		got, err := io.ReadAll(cli)
		if err != nil || string(got) != "late" {
			t.Fatalf("read after deadline reset: %q, %v", got, err)
		}
	})
}

func TestStreamWriteDeadlineWhenPeerDoesNotRead(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{StreamWindow: 512 << 10, ConnWindow: 1 << 20})
		_, srv := streamPair(ctx, t, p)
		srv.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 64<<10)
		var err error
		for i := 0; i < 1000 && err == nil; i++ { // at most 64 MB: far above the windows
			_, err = srv.Write(buf)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Write to a reader that does not read: %v, want a timeout", err)
		}
	})
}

func TestSessionListenerCloseEndsSessions(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		acc := make(chan error, 1)
		go func() {
			_, err := p.l.AcceptSession(ctx)
			acc <- err
		}()
		if err := p.l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-acc; !errors.Is(err, ErrClosed) {
			t.Fatalf("AcceptSession after Close: %v, want ErrClosed", err)
		}
		<-p.cli.Context().Done()
		if ae, ok := AsApplicationError(context.Cause(p.cli.Context())); !ok || ae.Code != 0 || !ae.Remote {
			t.Fatalf("client cause: %v, want remote application error 0", context.Cause(p.cli.Context()))
		}
		if _, err := p.l.DialSession(ctx, "127.0.0.1:1", nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("DialSession after Close: %v, want ErrClosed", err)
		}
	})
}

func TestSessionAcceptHonoursContext(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		p := newPair(t, im, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 2)
		go func() {
			_, err := p.l.AcceptSession(ctx)
			errc <- err
		}()
		go func() {
			_, err := p.cli.AcceptStream(ctx)
			errc <- err
		}()
		cancel()
		for range 2 {
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("accept after cancel: %v, want context.Canceled", err)
			}
		}
	})
}

func TestSessionStreamLimit(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		const limit = 4
		p := newPair(t, im, Options{MaxIncomingStreams: limit})
		var open []Stream
		for range limit {
			st, err := p.cli.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write([]byte("q")); err != nil {
				t.Fatal(err)
			}
			open = append(open, st)
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := p.cli.OpenStream(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stream beyond the limit: %v, want to wait until the context ends", err)
		}
		// Finishing one stream on both sides lets the next one open.
		srv, err := p.srv.AcceptStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		if _, err := io.ReadFull(srv, one[:]); err != nil {
			t.Fatal(err)
		}
		for _, st := range open {
			st.Close()
		}
		if _, err := io.ReadAll(srv); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		for _, st := range open {
			st.CancelRead(0)
		}
		if _, err := p.cli.OpenStream(ctx); err != nil {
			t.Fatalf("stream after one finished: %v", err)
		}
	})
}

// TestStreamWriteResumesAfterDeadline: what Write reported as written when
// its deadline expired is delivered once, in order, when writing resumes.
func TestStreamWriteResumesAfterDeadline(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{StreamWindow: 512 << 10, ConnWindow: 1 << 20})
		cli, srv := streamPair(ctx, t, p)
		pattern := func(off, n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte((off + i) % 251)
			}
			return b
		}
		total := 0
		srv.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			var n int
			n, err = srv.Write(pattern(total, 100_000))
			total += n
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("write: %v, want a timeout", err)
		}
		got := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(cli)
			got <- b
		}()
		srv.SetWriteDeadline(time.Time{})
		n, err := srv.Write(pattern(total, 70_000))
		if err != nil {
			t.Fatal(err)
		}
		total += n
		srv.Close()
		b := <-got
		if len(b) != total {
			t.Fatalf("reader got %d bytes, writer reported %d", len(b), total)
		}
		for i := range b {
			if b[i] != byte(i%251) {
				t.Fatalf("byte %d is %d, want %d", i, b[i], i%251)
			}
		}
	})
}
