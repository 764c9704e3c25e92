package bandwidth

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
)

// quicPair returns the two ends of a real QUIC session on loopback.
func quicPair(t testing.TB) (cli, srv transport.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cliID, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	srvID, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := transport.Listen("127.0.0.1:0", srvID, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	acc := make(chan transport.Session, 1)
	go func() {
		s, err := l.Sessions().AcceptSession(ctx)
		if err != nil {
			t.Error(err)
		}
		acc <- s
	}()
	c, err := transport.Dial(ctx, l.Addr().String(), cliID, &srvID.ID, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cli = c.Session()
	t.Cleanup(func() { cli.CloseWithError(0, "") })
	srv = <-acc
	if srv == nil {
		t.FailNow()
	}
	t.Cleanup(func() { srv.CloseWithError(0, "") })
	return cli, srv
}

// serveBytes answers every stream srv accepts with n bytes (written in one
// Write, like a piece server's chunk), then closes it.
func serveBytes(t *testing.T, srv transport.Session, n int) {
	data := make([]byte, n)
	go func() {
		for {
			st, err := srv.AcceptStream(context.Background())
			if err != nil {
				return
			}
			go func() {
				_, _ = io.Copy(io.Discard, st)
				if _, err := st.Write(data); err != nil {
					st.CancelWrite(1)
					return
				}
				_ = st.Close()
			}()
		}
	}()
}

// fetch opens a stream, ends its write side and reads the answer.
func fetch(ctx context.Context, cli transport.Session) (int64, error) {
	st, err := cli.OpenStream(ctx)
	if err != nil {
		return 0, err
	}
	if err := st.Close(); err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, st)
}

func TestStreamSendLimitOverQUIC(t *testing.T) {
	const rate, n = 2 << 20, 1 << 20
	l, err := New(Limits{Send: rate})
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := quicPair(t)
	serveBytes(t, l.Session(srv, Send), n)
	start := time.Now()
	got, err := fetch(context.Background(), cli)
	if err != nil || got != n {
		t.Fatalf("fetch: %d bytes, %v", got, err)
	}
	min := time.Duration(float64(n-burst(rate)) / rate * float64(time.Second))
	if el := time.Since(start); el < min*9/10 {
		t.Fatalf("%d bytes sent at %d B/s in %v, want at least %v", n, rate, el, min)
	}
}

func TestStreamRecvLimitSharedByStreams(t *testing.T) {
	const rate, n, streams = 4 << 20, 512 << 10, 4
	l, err := New(Limits{Recv: rate})
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := quicPair(t)
	serveBytes(t, srv, n)
	lcli := l.Session(cli, Recv)
	start := time.Now()
	errs := make(chan error, streams)
	for range streams {
		go func() {
			got, err := fetch(context.Background(), lcli)
			if err == nil && got != n {
				err = io.ErrUnexpectedEOF
			}
			errs <- err
		}()
	}
	for range streams {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	total := streams * n
	min := time.Duration(float64(total-burst(rate)) / rate * float64(time.Second))
	if el := time.Since(start); el < min*9/10 {
		t.Fatalf("%d bytes received at %d B/s in %v, want at least %v", total, rate, el, min)
	}
}

// TestStreamWaitMovesDeadline: a write deadline far shorter than the limit
// makes the transfer take does not fail it: waits move it.
func TestStreamWaitMovesDeadline(t *testing.T) {
	const rate, n = 256 << 10, 256 << 10
	l, err := New(Limits{Send: rate})
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := quicPair(t)
	done := make(chan error, 1)
	go func() {
		st, err := srv.AcceptStream(context.Background())
		if err != nil {
			done <- err
			return
		}
		ls := l.Stream(context.Background(), st, Send, netip.Addr{})
		_ = ls.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := ls.Write(make([]byte, n)); err != nil {
			done <- err
			return
		}
		done <- ls.Close()
	}()
	st, err := cli.OpenStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, st)
	if err != nil || got != n {
		t.Fatalf("read %d bytes, %v", got, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("limited write with a short deadline: %v", err)
	}
}

// TestStreamCancelEndsWait: cancelling a limited stream's direction ends
// its wait at once (ErrStopped), however much debt the bucket has.
func TestStreamCancelEndsWait(t *testing.T) {
	l, err := New(Limits{Send: MinRate})
	if err != nil {
		t.Fatal(err)
	}
	for range 150 { // 10 minutes of debt
		l.buckets[Send].reserve(time.Now(), Chunk)
	}
	cli, srv := quicPair(t)
	st, err := cli.OpenStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ls := l.Stream(context.Background(), st, Send, netip.Addr{})
	_ = srv
	done := make(chan error, 1)
	go func() {
		_, err := ls.Write(make([]byte, Chunk))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ls.CancelWrite(1)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("write of a cancelled stream succeeded")
		}
	case <-time.After(time.Minute):
		t.Fatal("write still waiting a minute after CancelWrite")
	}
}

// TestLANUnlimitedLoopback: loopback is a local subnet; with LANUnlimited
// a stream to 127.0.0.1 never waits, without it it does.
func TestLANUnlimitedLoopback(t *testing.T) {
	l, err := New(Limits{Send: MinRate, LANUnlimited: true})
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := quicPair(t)
	serveBytes(t, l.Session(srv, Send), 4<<20) // 8 minutes at MinRate
	got, err := fetch(context.Background(), cli)
	if err != nil || got != 4<<20 {
		t.Fatalf("fetch: %d bytes, %v", got, err)
	}
	if err := l.Set(Limits{Send: MinRate}); err != nil {
		t.Fatal(err)
	}
	if !l.limited(Send, AddrOf(srv.RemoteAddr())) {
		t.Fatal("loopback exempt without LANUnlimited")
	}
}
