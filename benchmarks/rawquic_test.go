package benchmarks

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/internal/transport"
)

const rawALPN = "dartsync-bench/raw"

// rawTLS returns a self-signed Ed25519 TLS config for both ends.
func rawTLS(b testing.TB) *tls.Config {
	b.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		b.Fatal(err)
	}
	return &tls.Config{
		Certificates:       []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}},
		NextProtos:         []string{rawALPN},
		InsecureSkipVerify: true, // benchmark only: both ends are this process
		MinVersion:         tls.VersionTLS13,
	}
}

// rawQUICConfig uses the flow-control windows of internal/transport, so the
// raw figure is the ceiling of the same QUIC settings.
func rawQUICConfig() *quic.Config {
	return &quic.Config{
		InitialStreamReceiveWindow:     transport.DefaultStreamWindow / 2,
		MaxStreamReceiveWindow:         transport.DefaultStreamWindow,
		InitialConnectionReceiveWindow: transport.DefaultConnWindow / 2,
		MaxConnectionReceiveWindow:     transport.DefaultConnWindow,
		MaxIdleTimeout:                 30 * time.Second,
	}
}

// BenchmarkRawQUIC sends 256 MiB over loopback per iteration with plain
// quic-go: on one stream of one connection, and split over 4 connections.
func BenchmarkRawQUIC(b *testing.B) {
	for _, conns := range []int{1, 4} {
		name := "1stream"
		if conns > 1 {
			name = "4conns"
		}
		b.Run(name, func(b *testing.B) { benchRawQUIC(b, conns, 256<<20) })
	}
}

func benchRawQUIC(b *testing.B, nconn int, total int) {
	link := newRawLink(b, nconn)
	b.SetBytes(int64(total))
	b.ResetTimer()
	cpu := startCPU()
	for range b.N {
		if err := link.send(total); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu.report(b, int64(total)*int64(b.N))
}

// rawLink is a plain quic-go server and nconn client connections to it on
// loopback; closed when the benchmark ends.
type rawLink struct {
	ctx   context.Context
	conns []*quic.Conn
}

func newRawLink(b *testing.B, nconn int) *rawLink {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tlsConf := rawTLS(b)
	ln, err := quic.ListenAddr("127.0.0.1:0", tlsConf, rawQUICConfig())
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	var srv sync.WaitGroup
	b.Cleanup(func() {
		cancel()
		_ = ln.Close()
		srv.Wait()
	})
	srv.Add(1)
	go func() {
		defer srv.Done()
		serveRaw(ctx, ln)
	}()
	return dialRaw(b, ctx, ln.Addr().String(), tlsConf, nconn)
}

// dialRaw connects nconn times to the raw receiver at addr; the connections
// close when the benchmark ends.
func dialRaw(b *testing.B, ctx context.Context, addr string, tlsConf *tls.Config, nconn int) *rawLink {
	b.Helper()
	link := &rawLink{ctx: ctx, conns: make([]*quic.Conn, nconn)}
	for i := range link.conns {
		c, err := quic.DialAddr(ctx, addr, tlsConf, rawQUICConfig())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.CloseWithError(0, "") })
		link.conns[i] = c
	}
	return link
}

// serveRaw is the receiving end of a raw link: every accepted stream is
// read to its end and answered with one byte, so the sender knows all data
// arrived. It returns when ln is closed or ctx ends, after every connection
// it accepted has ended.
func serveRaw(ctx context.Context, ln *quic.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.CloseWithError(0, "")
			buf := make([]byte, 1<<20)
			for {
				s, err := c.AcceptStream(ctx)
				if err != nil {
					return
				}
				for {
					if _, err := s.Read(buf); err != nil {
						break
					}
				}
				_, _ = s.Write([]byte{1})
				_ = s.Close()
			}
		}()
	}
}

// send moves total bytes, split evenly over the connections, one stream
// each, and returns once the server confirmed every byte.
func (l *rawLink) send(total int) error {
	per := total / len(l.conns)
	buf := make([]byte, 1<<20)
	var g errgroup.Group
	for _, c := range l.conns {
		g.Go(func() error {
			s, err := c.OpenStreamSync(l.ctx)
			if err != nil {
				return err
			}
			for sent := 0; sent < per; sent += len(buf) {
				if _, err := s.Write(buf[:min(len(buf), per-sent)]); err != nil {
					return err
				}
			}
			_ = s.Close()
			var one [1]byte
			if _, err := io.ReadFull(s, one[:]); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// rawMeter measures raw QUIC on one stream between the iterations of a
// benchmark (untimed), so that the ceiling a sync is compared with comes
// from the same seconds: on a shared machine raw QUIC alone moves by 1.5x
// from one minute to the next.
type rawMeter struct {
	link  *rawLink
	total int
	bytes int64
	took  time.Duration
}

// newRawMeter opens the raw link; each measure sends total bytes.
func newRawMeter(b *testing.B, total int) *rawMeter {
	b.Helper()
	return &rawMeter{link: newRawLink(b, 1), total: total}
}

// measure sends total bytes once on raw QUIC and adds them to the tally.
func (m *rawMeter) measure(b *testing.B) {
	b.Helper()
	start := time.Now()
	if err := m.link.send(m.total); err != nil {
		b.Fatal(err)
	}
	m.took += time.Since(start)
	m.bytes += int64(m.total)
}

// report adds rawMB/s (all raw sends together) and %ofRaw: moved bytes in
// took against that rate.
func (m *rawMeter) report(b *testing.B, moved int64, took time.Duration) {
	raw := float64(m.bytes) / m.took.Seconds()
	b.ReportMetric(raw/1e6, "rawMB/s")
	b.ReportMetric(100*float64(moved)/took.Seconds()/raw, "%ofRaw")
}
