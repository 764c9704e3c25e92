package benchmarks

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// The transfer layer between two processes, over each transport, beside
// raw TLS on TCP between two processes (issue 17: DartSync over TCP at
// least 80 % of raw TLS, over QUIC 85 % of raw quic-go, which is
// BenchmarkRawQUICProcesses). Pieces are read from the sender's chunk
// store, sent, verified and discarded: no disk write on the receiver.

// procChildEnv selects the child role of this test binary: "pieces DIR"
// (a piece server of DIR/big.bin) or "rawtls BYTES" (a raw TLS receiver
// acknowledging every BYTES bytes with one byte).
const procChildEnv = "DARTSYNC_BENCH_PROC_CHILD"

// BenchmarkTransferProcesses: a 256 MiB file fetched by this process from
// a piece server in another process (discarded after verification), over
// QUIC and over TCP. Reports MB/s and the CPU seconds per GiB of both
// processes together.
func BenchmarkTransferProcesses(b *testing.B) {
	root := b.TempDir()
	writeRandomFile(b, root, "big.bin", bigFile, 1)
	m, err := manifest.BuildFile(context.Background(), root, "big.bin", manifest.DefaultPieceSize)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []transport.Mode{transport.ModeQUIC, transport.ModeTCP} {
		b.Run(string(mode), func(b *testing.B) {
			child, line := startProcChild(b, "pieces "+root)
			f := strings.Fields(line)
			if len(f) != 2 {
				b.Fatalf("child said %q", line)
			}
			dev, err := identity.ParseDeviceID(f[1])
			if err != nil {
				b.Fatal(err)
			}
			me := newID(b)
			fe := transfer.NewFetcher(me, transfer.FetchOptions{Dialer: transport.NewDialer(me, transport.Options{}, mode)}, quietLog())
			defer fe.Close()
			src := []transfer.Source{{ID: dev, Addr: f[0]}}
			measureProcs(b, child, m.Size, func() error {
				_, err := fe.Fetch(context.Background(), &m, &discardSink{n: len(m.Pieces)}, src)
				return err
			})
		})
	}
}

// BenchmarkRawTLSProcesses: 256 MiB per iteration over one TLS 1.3
// connection on loopback TCP to another process that discards it: the
// ceiling of the tcp figure of BenchmarkTransferProcesses.
func BenchmarkRawTLSProcesses(b *testing.B) {
	child, addr := startProcChild(b, "rawtls "+strconv.Itoa(bigFile))
	c, err := tls.Dial("tcp", addr, rawTLS(b))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	ack := make([]byte, 1)
	measureProcs(b, child, bigFile, func() error {
		for sent := 0; sent < bigFile; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
		_, err := io.ReadFull(c, ack)
		return err
	})
}

// measureProcs times b.N runs of one transfer of size bytes and reports
// MB/s and the CPU of this process and child together per GiB.
func measureProcs(b *testing.B, child *exec.Cmd, size int64, run func() error) {
	b.SetBytes(size)
	b.ResetTimer()
	cpu := startCPU()
	childCPU := processCPU(child.Process.Pid)
	for range b.N {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if childEnd := processCPU(child.Process.Pid); childEnd > 0 {
		used := cpuTime() - cpu.start + childEnd - childCPU
		b.ReportMetric(used.Seconds()/(float64(size)*float64(b.N)/(1<<30)), "cpu-s/GiB")
	}
}

// startProcChild starts this binary as the child role and returns it with
// the rest of its "listening ..." line; it is stopped when the benchmark
// ends (its standard input closes).
func startProcChild(b *testing.B, role string) (*exec.Cmd, string) {
	b.Helper()
	return startChild(b, "TestTransportProcChild", procChildEnv+"="+role)
}

// TestTransportProcChild is the child process of BenchmarkTransferProcesses
// and BenchmarkRawTLSProcesses, not a test: without its environment
// variable it is skipped.
func TestTransportProcChild(t *testing.T) {
	role, arg, _ := strings.Cut(os.Getenv(procChildEnv), " ")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := func(closeFn func()) {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
			closeFn()
		}()
	}
	switch role {
	case "pieces":
		servePiecesChild(t, ctx, arg, stop)
	case "rawtls":
		rawTLSChild(t, arg, stop)
	default:
		t.Skip("the child process of BenchmarkTransferProcesses and BenchmarkRawTLSProcesses")
	}
}

func servePiecesChild(t *testing.T, ctx context.Context, root string, stop func(func())) {
	m, err := manifest.BuildFile(ctx, root, "big.bin", manifest.DefaultPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	store, err := chunkstore.Open(root, t.TempDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.AddFile(&m); err != nil {
		t.Fatal(err)
	}
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := transport.ListenNode("127.0.0.1:0", id, transfer.ListenOptions(), transport.ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	stop(func() { _ = l.Close() })
	srv := transfer.NewServer(uploadSource{store}, func(identity.DeviceID) bool { return true }, quietLog())
	fmt.Printf("listening %s %s\n", l.Addr(), id.ID)
	_ = srv.Serve(ctx, l)
}

func rawTLSChild(t *testing.T, arg string, stop func(func())) {
	per, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", rawTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	stop(func() { _ = ln.Close() })
	fmt.Printf("listening %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				if _, err := io.CopyN(io.Discard, c, per); err != nil {
					return
				}
				if _, err := c.Write([]byte{1}); err != nil {
					return
				}
			}
		}()
	}
}
