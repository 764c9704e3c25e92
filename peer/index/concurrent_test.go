package index

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
)

// TestConcurrentWritersAndReaders: stagers, updaters and readers at once
// (run with -race); at the end the counters equal the entries.
func TestConcurrentWritersAndReaders(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				p := fmt.Sprintf("g%d/%03d", g, i%40)
				e := Entry{Manifest: fileManifest(p, fmt.Sprint(i))}
				if g%2 == 0 {
					x.Stage(e)
					continue
				}
				w := Want{Manifest: fileManifest(p+".w", fmt.Sprint(i)), Owners: []identity.DeviceID{{1}}, Seq: uint64(i)}
				b := Batch{Put: []Entry{e}, Wants: []Want{w}, Seq: uint64(i), Reported: []Reported{{p, e.Manifest.ID}}}
				if i%7 == 0 {
					b.Delete = []string{fmt.Sprintf("g%d/%03d", g-1, i%40)}
					b.DoneWants = []Done{{Path: p + ".w"}}
				}
				if err := x.Update(b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			x.Get("g0/001")
			if _, err := x.Page("g1", 10); err != nil {
				t.Error(err)
				return
			}
			if _, err := x.WantsPage("", 10); err != nil {
				t.Error(err)
				return
			}
			if _, err := x.History("g0/002"); err != nil {
				t.Error(err)
				return
			}
			_ = x.Len() + int(x.Heard())
			runtime.Gosched()
		}
	}()
	wg.Wait()
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for after := ""; ; {
		page, err := x.Page(after, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		n += len(page)
		after = page[len(page)-1].Manifest.Path
	}
	if n != x.Len() || !x.HasLive() {
		t.Fatalf("%d entries, Len %d", n, x.Len())
	}
}

// TestHeapFlatInEntries: the heap with 200 000 entries indexed is within
// a few MiB of the heap with 1 000 (nothing per entry stays in memory).
func TestHeapFlatInEntries(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("200 000 entries: not with -short or the race detector")
	}
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	loadSmall(t, x, 1000)
	compactAll(t, x)
	small := heap()
	loadSmall(t, x, 200_000)
	compactAll(t, x)
	large := heap()
	const bound = 8 << 20
	if large > small+bound {
		t.Fatalf("heap %d MiB with 200 000 entries, %d MiB with 1 000: more than %d MiB apart", large>>20, small>>20, bound>>20)
	}
	t.Logf("heap in use: %.1f MiB with 1 000 entries, %.1f MiB with 200 000", float64(small)/(1<<20), float64(large)/(1<<20))
}

// TestUseAfterClose: a second Close does nothing; calls after Close fail
// or find nothing instead of panicking.
func TestUseAfterClose(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	x.Stage(Entry{Manifest: fileManifest("f", "f")})
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	x.Stage(Entry{Manifest: fileManifest("g", "g")})
	if _, ok := x.Get("f"); ok {
		t.Error("Get after Close found an entry")
	}
	if err := x.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if _, err := x.Page("", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Page after Close = %v", err)
	}
	if _, err := x.WantsPage("", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("WantsPage after Close = %v", err)
	}
	if _, err := x.History("f"); !errors.Is(err, ErrClosed) {
		t.Errorf("History after Close = %v", err)
	}
}
