package manifest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestBuildMatchesReference(t *testing.T) {
	const ps = MinPieceSize
	for _, size := range []int64{0, 1, ps - 1, ps, ps + 1, 2 * ps, 7*ps + 13, 100 * ps, slotChunk*ps + 5} {
		data := pattern(size)
		want := refManifest(data, ps)
		for _, procs := range []int{1, 2, 4} {
			old := runtime.GOMAXPROCS(procs)
			got, err := Build(context.Background(), bytes.NewReader(data), ps)
			fromBytes, errBytes := BuildBytes(context.Background(), data, ps)
			runtime.GOMAXPROCS(old)
			if err != nil || errBytes != nil {
				t.Fatalf("size %d procs %d: %v, %v", size, procs, err, errBytes)
			}
			if !equalManifest(&got, &want) || !equalManifest(&fromBytes, &want) {
				t.Fatalf("size %d procs %d: Build %d pieces id %s, BuildBytes %d pieces id %s, want %d pieces id %s",
					size, procs, len(got.Pieces), got.ID.Short(), len(fromBytes.Pieces), fromBytes.ID.Short(), len(want.Pieces), want.ID.Short())
			}
		}
	}
}

func TestBuildShortReads(t *testing.T) {
	data := pattern(3*MinPieceSize + 77)
	want := refManifest(data, MinPieceSize)
	readers := map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(data)),
	}
	for name, r := range readers {
		got, err := Build(context.Background(), r, MinPieceSize)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: manifest differs from the reference", name)
		}
	}
}

func TestBuildSizeHint(t *testing.T) {
	// A wrong hint (the file grew or shrank since stat) still gives the
	// manifest of what was read.
	for _, tc := range []struct{ size, hint int64 }{
		{10, 10}, {10, 3}, {10, 0}, {MinPieceSize + 10, 5}, {3 * MinPieceSize, MinPieceSize - 1}, {5, 100}, {0, 0},
	} {
		data := pattern(tc.size)
		got, err := build(context.Background(), bytes.NewReader(data), MinPieceSize, tc.hint, MaxPieces)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, refManifest(data, MinPieceSize)) {
			t.Errorf("size %d hint %d: manifest differs from the reference", tc.size, tc.hint)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	readErr := errors.New("disk on fire")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		r         io.Reader
		pieceSize int64
		wantErr   error
	}{
		{"piece size too small", context.Background(), bytes.NewReader(nil), MinPieceSize - 1, ErrPieceSize},
		{"piece size too large", context.Background(), bytes.NewReader(nil), MaxPieceSize + 1, ErrPieceSize},
		{"piece size zero", context.Background(), bytes.NewReader(nil), 0, ErrPieceSize},
		{"read error first piece", context.Background(), iotest.ErrReader(readErr), MinPieceSize, readErr},
		{"read error later", context.Background(), io.MultiReader(bytes.NewReader(pattern(5*MinPieceSize)), iotest.ErrReader(readErr)), MinPieceSize, readErr},
		{"canceled", canceled, bytes.NewReader(pattern(5 * MinPieceSize)), MinPieceSize, context.Canceled},
	}
	for _, tt := range tests {
		_, err := Build(tt.ctx, tt.r, tt.pieceSize)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// cancelReader cancels its context after n reads.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
	return c.r.Read(p)
}

func TestBuildCanceledMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelReader{r: &patternReader{n: 1 << 30}, n: 10, cancel: cancel}
	if _, err := Build(ctx, r, MinPieceSize); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestBuildTooManyPieces(t *testing.T) {
	// Exactly the limit is fine; one byte more is refused. (Build's limit is
	// MaxPieces; a small one keeps the test fast.)
	const limit = 10
	if _, err := build(context.Background(), &patternReader{n: limit * MinPieceSize}, MinPieceSize, -1, limit); err != nil {
		t.Fatalf("%d pieces: %v", limit, err)
	}
	_, err := build(context.Background(), &patternReader{n: limit*MinPieceSize + 1}, MinPieceSize, -1, limit)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d pieces + 1 byte: error %v, want ErrTooLarge", limit, err)
	}
}

// zeroReader reads n zero bytes, cheaply.
type zeroReader struct{ n int64 }

func (r *zeroReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	clear(p)
	r.n -= int64(len(p))
	return len(p), nil
}

// TestBuildMemoryBounded: building a 128 MiB stream allocates a bounded
// number of piece buffers, not memory in proportion to the stream.
func TestBuildMemoryBounded(t *testing.T) {
	const ps = 1 << 20
	const size = 128 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := Build(context.Background(), &zeroReader{n: size}, ps)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pieces) != size/ps {
		t.Fatalf("%d pieces, want %d", len(m.Pieces), size/ps)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	limit := uint64(2*runtime.GOMAXPROCS(0)+1)*ps + 1<<20
	if alloc > limit {
		t.Fatalf("Build of %d MiB allocated %d bytes, want at most %d", size>>20, alloc, limit)
	}
	t.Logf("Build of %d MiB allocated %d KiB", size>>20, alloc>>10)
}

func TestBuildBytesErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		data      []byte
		pieceSize int64
		wantErr   error
	}{
		{"piece size too small", context.Background(), nil, MinPieceSize - 1, ErrPieceSize},
		{"piece size too large", context.Background(), nil, MaxPieceSize + 1, ErrPieceSize},
		{"canceled", canceled, pattern(5 * MinPieceSize), MinPieceSize, context.Canceled},
	}
	for _, tt := range tests {
		_, err := BuildBytes(tt.ctx, tt.data, tt.pieceSize)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}
