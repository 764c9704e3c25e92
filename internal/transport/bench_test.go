package transport

import (
	"context"
	"crypto/tls"
	"io"
	"testing"
)

// BenchmarkTransportStream measures one stream's throughput over loopback:
// the client writes b.N chunks of 1 MiB, the server reads and discards them.
// "raised" uses this package's windows, "quic-go" quic-go's defaults
// (6 MiB stream / 15 MiB connection) for comparison.
func BenchmarkTransportStream(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  Options
	}{
		{"raised", Options{}},
		{"quic-go", Options{StreamWindow: 6 << 20, ConnWindow: 15 << 20}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchStream(b, bc.opt) })
	}
}

func benchStream(b *testing.B, opt Options) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srvID, cliID := newID(b), newID(b)
	l, err := Listen("127.0.0.1:0", srvID, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	acc := acceptAsync(ctx, l)
	cc, err := Dial(ctx, l.Addr().String(), cliID, &srvID.ID, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	r := <-acc
	if r.err != nil {
		b.Fatal(r.err)
	}
	got := make(chan readResult, 1)
	go func() {
		s, err := r.c.AcceptStream(ctx)
		if err != nil {
			got <- readResult{0, err}
			return
		}
		n, err := io.Copy(io.Discard, s)
		got <- readResult{n, err}
	}()
	s, err := cc.OpenStreamSync(ctx)
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, s, got)
}

// BenchmarkStreamThroughput compares the two Session implementations on
// loopback with default Options: one stream, the client writes b.N chunks of
// 1 MiB, the server reads and discards them.
func BenchmarkStreamThroughput(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { benchSession(b, im) })
	}
}

func benchSession(b *testing.B, im impl) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srvID, cliID := newID(b), newID(b)
	l, err := im.listen("127.0.0.1:0", srvID, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	got := make(chan readResult, 1)
	go func() {
		s, err := l.AcceptSession(ctx)
		if err != nil {
			got <- readResult{0, err}
			return
		}
		st, err := s.AcceptStream(ctx)
		if err != nil {
			got <- readResult{0, err}
			return
		}
		n, err := io.Copy(io.Discard, st)
		got <- readResult{n, err}
	}()
	cli, err := im.dial(ctx, l.Addr().String(), cliID, &srvID.ID, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.CloseWithError(0, "")
	st, err := cli.OpenStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, st, got)
}

// BenchmarkRawTLSThroughput is the reference for the tcp figure of
// BenchmarkStreamThroughput: the same transfer over one TLS 1.3 connection
// on loopback TCP with the same certificates, without yamux or framing.
func BenchmarkRawTLSThroughput(b *testing.B) {
	srvID, cliID := newID(b), newID(b)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS(srvID, Options{}))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	got := make(chan readResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- readResult{0, err}
			return
		}
		defer c.Close()
		n, err := io.Copy(io.Discard, c)
		got <- readResult{n, err}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), clientTLS(cliID, &srvID.ID, func(error) {}))
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, c, got)
}

// benchChunk is what each benchmark iteration writes.
const benchChunk = 1 << 20

// readResult is what a benchmark's reader counted, and why it stopped.
type readResult struct {
	n   int64
	err error
}

// benchWrite times b.N writes of benchChunk bytes to w, closes w and checks
// that the reader (which sends on got when it is done) read them all.
func benchWrite(b *testing.B, w io.WriteCloser, got <-chan readResult) {
	buf := make([]byte, benchChunk)
	b.SetBytes(benchChunk)
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	res := <-got
	b.StopTimer()
	if res.err != nil || res.n != int64(b.N)*benchChunk {
		b.Fatalf("server read %d bytes, %v; want %d", res.n, res.err, int64(b.N)*benchChunk)
	}
}
