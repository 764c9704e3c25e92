package plan

import (
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"testing"
)

const deltaTestPiece = 64 << 10

func randomData(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// counts is a Counter that keeps the totals, named as the peer's stats.
type counts struct {
	mu sync.Mutex
	c  countValues
}

type countValues struct {
	PiecesLocal, BytesLocal                          int64
	PiecesFound, BytesFound, PiecesDelta, BytesDelta int64
	DeltaBytesSent, DeltaBytesReceived, DeltaFailed  int64
	BytesReceived, PiecesFetched                     int64
}

func (c *counts) add(f func(v *countValues)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.c)
}

func (c *counts) get() countValues {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

func (c *counts) Local(n int64) { c.add(func(v *countValues) { v.PiecesLocal++; v.BytesLocal += n }) }
func (c *counts) Found(n int64) { c.add(func(v *countValues) { v.PiecesFound++; v.BytesFound += n }) }
func (c *counts) Delta(n int64) { c.add(func(v *countValues) { v.PiecesDelta++; v.BytesDelta += n }) }
func (c *counts) DeltaFailed()  { c.add(func(v *countValues) { v.DeltaFailed++ }) }
func (c *counts) DeltaWire(sent, received int64) {
	c.add(func(v *countValues) {
		v.DeltaBytesSent += sent
		v.DeltaBytesReceived += received
		v.BytesReceived += received
	})
}
func (c *counts) Fetched(pieces int, n int64) {
	c.add(func(v *countValues) { v.PiecesFetched += int64(pieces); v.BytesReceived += n })
}

// inPlaceDeltas are the Delta steps of every missing piece of fx against
// the old bytes at the piece's own place (as Decide plans an edit in place).
func (fx *deltaFixture) inPlaceDeltas() []Step {
	var out []Step
	for _, i := range fx.part.Missing() {
		out = append(out, deltaStep(&fx.m, nil, i, int64(len(fx.old))))
	}
	return out
}
