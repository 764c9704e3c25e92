package peer

import (
	"fmt"
	"testing"
	"time"

	"github.com/dartsync/dartsync/tracker"
)

// TestHeldUpdatesBounded: while an index write is under way, the tracker's
// updates are held only up to maxHeldUpdates; the next delivery waits for
// the write (so the tracker is held back, not the peer's memory), and every
// update is stored in the end.
func TestHeldUpdatesBounded(t *testing.T) {
	d := applyFixture(t)
	fw := &failingWriter{x: d.idx, gate: make(chan struct{})}
	d.writes.w = fw
	h := d.handler

	batch := func(from, n int) []tracker.Entry {
		es := make([]tracker.Entry, n)
		for i := range es {
			p := fmt.Sprintf("f%06d", from+i)
			es[i] = entry(t, p, p, uint64(from+i+1))
		}
		return es
	}
	first := make(chan struct{})
	go func() { h.Updates(batch(0, 1)); close(first) }() // its write waits at the gate
	deadline := time.Now().Add(10 * time.Second)
	for !d.writes.isBusy() {
		if time.Now().After(deadline) {
			t.Fatal("the first write never started")
		}
		time.Sleep(time.Millisecond)
	}
	// Fill the held updates to the bound: these return at once.
	h.Updates(batch(1, maxHeldUpdates))
	if got := d.writes.count(); got != maxHeldUpdates {
		t.Fatalf("held %d updates, want %d", got, maxHeldUpdates)
	}
	// One more delivery must wait for the write under way.
	third := make(chan struct{})
	go func() { h.Updates(batch(1+maxHeldUpdates, 10)); close(third) }()
	select {
	case <-third:
		t.Fatalf("a delivery over the bound returned while the write was under way (held %d)", d.writes.count())
	case <-time.After(200 * time.Millisecond):
	}
	close(fw.gate) // every write from now on proceeds
	<-first
	<-third
	if err := d.writes.storeAll(); err != nil {
		t.Fatal(err)
	}
	n := 1 + maxHeldUpdates + 10
	if got := d.idx.Seq(); got != uint64(n) {
		t.Errorf("Seq = %d, want %d", got, n)
	}
	for _, i := range []int{0, maxHeldUpdates, n - 1} {
		if _, ok := d.idx.WantID(fmt.Sprintf("f%06d", i)); !ok {
			t.Errorf("want f%06d not stored", i)
		}
	}
}
