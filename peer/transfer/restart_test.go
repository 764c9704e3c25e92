package transfer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// childEnv makes the test binary serve pieces instead of running the tests
// (see TestMain): the variable names a directory holding the identity, the
// file (file.bin) and, for a restart, the address to listen on (listen);
// the address is written to addr once serving.
const childEnv = "DARTSYNC_TRANSFER_CHILD"

// mapSource serves the pieces of one file from memory.
type mapSource map[manifest.ID][]byte

func (s mapSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	if b, ok := s[h]; ok {
		return append(buf[:0], b...), nil
	}
	return nil, errNoPiece
}

func runChildServer(dir string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child server:", err)
		os.Exit(2)
	}
	id, err := identity.LoadOrCreate(dir)
	if err != nil {
		fail(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "file.bin"))
	if err != nil {
		fail(err)
	}
	m, err := manifest.Build(context.Background(), bytes.NewReader(data), testPieceSize)
	if err != nil {
		fail(err)
	}
	src := mapSource{}
	for i, p := range m.Pieces {
		off := m.PieceOffset(i)
		src[p.Hash] = data[off : off+m.PieceLen(i)]
	}
	listen := "127.0.0.1:0"
	if b, err := os.ReadFile(filepath.Join(dir, "listen")); err == nil {
		listen = string(b)
	}
	l, err := transport.Listen(listen, id, transport.Options{})
	if err != nil {
		fail(err)
	}
	tmp := filepath.Join(dir, "addr.tmp")
	if err := os.WriteFile(tmp, []byte(l.Addr().String()), 0o600); err != nil {
		fail(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "addr")); err != nil {
		fail(err)
	}
	_ = NewServer(src, allowAll, slog.New(slog.DiscardHandler)).Serve(context.Background(), l) // until killed
	os.Exit(3)
}

// startChildServer runs a piece server in a child process on dir and
// returns it with its address.
func startChildServer(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			return cmd, string(b)
		}
		select {
		case <-exited:
			t.Fatalf("child server exited: %v", cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("child server did not start")
		}
	}
}

// TestFetcherRedialsAfterSourceKilled: the only source of a file is killed
// (SIGKILL: the fetcher is not told) and started again on its port. The
// fetcher's pooled connections (one per lane) belong to its previous run;
// the new process resets them on the first request, and the fetch dials
// again instead of dropping its only source (without the reset the requests
// would wait for the idle timeout, past the test's deadline).
func TestFetcherRedialsAfterSourceKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	ctx := testCtx(t)
	dir := t.TempDir()
	m, _, data := writeTestFile(t, dir, 8*testPieceSize, testPieceSize)
	id, err := identity.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	child, addr := startChildServer(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "listen"), []byte(addr), 0o600); err != nil {
		t.Fatal(err)
	}
	src := Source{ID: id.ID, Addr: addr}
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	if _, err := f.Fetch(ctx, m, newFileSink(t, t.TempDir(), m), []Source{src}); err != nil {
		t.Fatal(err)
	}

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, again := startChildServer(t, dir); again != addr {
		t.Fatalf("restarted on %s, want %s", again, addr)
	}
	sink := newFileSink(t, t.TempDir(), m)
	if _, err := f.Fetch(ctx, m, sink, []Source{src}); err != nil {
		t.Fatalf("fetch from the restarted source: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
}
