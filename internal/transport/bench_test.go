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
	const chunk = 1 << 20
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
	type result struct {
		n   int64
		err error
	}
	got := make(chan result, 1)
	go func() {
		s, err := r.c.AcceptStream(ctx)
		if err != nil {
			got <- result{0, err}
			return
		}
		n, err := io.Copy(io.Discard, s)
		got <- result{n, err}
	}()
	s, err := cc.OpenStreamSync(ctx)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ResetTimer()
	for range b.N {
		if _, err := s.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	res := <-got
	b.StopTimer()
	if res.err != nil || res.n != int64(b.N)*chunk {
		b.Fatalf("server read %d bytes, %v; want %d", res.n, res.err, int64(b.N)*chunk)
	}
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
	const chunk = 1 << 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srvID, cliID := newID(b), newID(b)
	l, err := im.listen("127.0.0.1:0", srvID, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	type result struct {
		n   int64
		err error
	}
	got := make(chan result, 1)
	go func() {
		s, err := l.AcceptSession(ctx)
		if err != nil {
			got <- result{0, err}
			return
		}
		st, err := s.AcceptStream(ctx)
		if err != nil {
			got <- result{0, err}
			return
		}
		n, err := io.Copy(io.Discard, st)
		got <- result{n, err}
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
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ResetTimer()
	for range b.N {
		if _, err := st.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	res := <-got
	b.StopTimer()
	if res.err != nil || res.n != int64(b.N)*chunk {
		b.Fatalf("server read %d bytes, %v; want %d", res.n, res.err, int64(b.N)*chunk)
	}
}

// BenchmarkRawTLSThroughput is the reference for the tcp figure of
// BenchmarkStreamThroughput: the same transfer over one TLS 1.3 connection
// on loopback TCP with the same certificates, without yamux or framing.
func BenchmarkRawTLSThroughput(b *testing.B) {
	const chunk = 1 << 20
	srvID, cliID := newID(b), newID(b)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS(srvID, Options{}))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), clientTLS(cliID, &srvID.ID, func(error) {}))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	n := <-got
	b.StopTimer()
	if n != int64(b.N)*chunk {
		b.Fatalf("server read %d bytes, want %d", n, int64(b.N)*chunk)
	}
}
