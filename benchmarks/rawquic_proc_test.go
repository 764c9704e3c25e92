package benchmarks

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/quic-go/quic-go"
)

// rawChildEnv selects TestRawQUICReceiverProcess as the receiving process
// of BenchmarkRawQUICProcesses.
const rawChildEnv = "DARTSYNC_BENCH_RAWQUIC_RECEIVER"

// BenchmarkRawQUICProcesses is BenchmarkRawQUIC with the receiver in
// another process (this test binary, started again), as two peers are: the
// ceiling of a transfer between two `dartsync peer` processes on the same
// machine (benchmarks/e2e_perf.sh), which also pays for two Go runtimes
// scheduling on the same cores. It reports MB/s and the CPU seconds per GiB
// of both processes together (cpu-s/GiB; Linux only).
func BenchmarkRawQUICProcesses(b *testing.B) {
	for _, conns := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("%dconns", conns), func(b *testing.B) { benchRawQUICProcesses(b, conns, 256<<20) })
	}
}

func benchRawQUICProcesses(b *testing.B, nconn, total int) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	child, addr := startRawReceiver(b)
	link := dialRaw(b, ctx, addr, rawTLS(b), nconn)
	b.SetBytes(int64(total))
	b.ResetTimer()
	cpu := startCPU()
	childCPU := processCPU(child.Process.Pid)
	for range b.N {
		if err := link.send(total); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Without /proc the receiver's share is unknown: no CPU figure then.
	if childEnd := processCPU(child.Process.Pid); childEnd > 0 {
		used := cpuTime() - cpu.start + childEnd - childCPU
		b.ReportMetric(used.Seconds()/(float64(total)*float64(b.N)/(1<<30)), "cpu-s/GiB")
	}
}

// startRawReceiver starts the receiving process and returns it with the
// address it listens on; it is stopped when the benchmark ends.
func startRawReceiver(b *testing.B) (*exec.Cmd, string) {
	b.Helper()
	return startChild(b, "TestRawQUICReceiverProcess", rawChildEnv+"=1")
}

// TestRawQUICReceiverProcess is the receiving process of
// BenchmarkRawQUICProcesses, not a test: without its environment variable
// it is skipped. It prints the address it listens on and serves until its
// standard input closes.
func TestRawQUICReceiverProcess(t *testing.T) {
	if os.Getenv(rawChildEnv) != "1" {
		t.Skip("the receiving process of BenchmarkRawQUICProcesses")
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", rawTLS(t), rawQUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
		_ = ln.Close()
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	serveRaw(ctx, ln)
}
