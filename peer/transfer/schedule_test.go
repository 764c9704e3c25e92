package transfer

import (
	"context"
	"errors"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

func testItems(n int) []*item {
	items := make([]*item, n)
	for i := range items {
		items[i] = &item{hash: manifest.Hash([]byte{byte(i)}), length: 10, index: i}
	}
	return items
}

func testSources(n int) []Source {
	srcs := make([]Source, n)
	for i := range srcs {
		srcs[i].ID = identity.DeviceID{byte(i + 1)}
	}
	return srcs
}

func TestSchedulerOrderAndEndgame(t *testing.T) {
	ctx := context.Background()
	items := testItems(2)
	s := newScheduler(items, testSources(2), 2)
	a0 := s.next(ctx, 0, idle)
	a1 := s.next(ctx, 0, idle)
	if a0.it != items[0] || a1.it != items[1] {
		t.Fatalf("items not handed out in file order")
	}
	// Queue empty: source 1 duplicates the oldest outstanding item.
	d := s.next(ctx, 1, idle)
	if d == nil || d.it != items[0] {
		t.Fatalf("endgame duplicate = %v, want item 0", d)
	}
	if !s.complete(d) {
		t.Fatal("first delivery refused")
	}
	if a0.ctx.Err() == nil {
		t.Fatal("losing duplicate not cancelled")
	}
	if s.complete(a0) {
		t.Fatal("second delivery accepted")
	}
	if !s.complete(a1) {
		t.Fatal("item 1 refused")
	}
	if s.next(ctx, 0, idle) != nil || s.next(ctx, 1, idle) != nil {
		t.Fatal("work handed out after everything was done")
	}
	st, dups, remaining := s.snapshot()
	if remaining != 0 || dups != 1 || st[0].Pieces != 1 || st[1].Pieces != 1 || st[0].Duplicates != 1 {
		t.Fatalf("stats %+v dups %d remaining %d", st, dups, remaining)
	}
}

func TestSchedulerFailures(t *testing.T) {
	errBad := errors.New("bad")
	tests := []struct {
		name        string
		fail        func(s *scheduler, a *attempt)
		bad         bool // counted as a bad piece
		wantRequeue bool // the other source gets the same item
		wantSrc0    bool // source 0 still gets work
	}{
		{"cancelled", (*scheduler).retry, false, true, true},
		{"not found", (*scheduler).notFound, false, true, false},
		{"bad piece", func(s *scheduler, a *attempt) { s.badPiece(a, errBad) }, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			items := testItems(1)
			s := newScheduler(items, testSources(2), 1)
			a := s.next(ctx, 0, idle)
			tt.fail(s, a)
			if a.ctx.Err() == nil {
				t.Fatal("failed attempt's context not cancelled")
			}
			b := s.next(ctx, 1, idle)
			if (b != nil && b.it == items[0]) != tt.wantRequeue {
				t.Fatalf("requeue: got %v, want %v", b, tt.wantRequeue)
			}
			s.retry(b) // back to the queue once more
			got := s.next(ctx, 0, idle)
			if (got != nil) != tt.wantSrc0 {
				t.Fatalf("source 0 next = %v, want work %v", got, tt.wantSrc0)
			}
			st, _, _ := s.snapshot()
			if tt.bad && (st[0].BadPieces != 1 || st[0].Dropped == nil) {
				t.Fatalf("bad source not recorded: %+v", st[0])
			}
		})
	}
}

func TestSchedulerWaitsForOutstandingWork(t *testing.T) {
	ctx := context.Background()
	items := testItems(1)
	s := newScheduler(items, testSources(2), 1) // no duplicates allowed
	a := s.next(ctx, 0, idle)
	got := make(chan *attempt)
	go func() { got <- s.next(ctx, 1, idle) }()
	// Source 1 must wait: the only item is in flight and may come back.
	s.sourceFailed(a, errors.New("connection lost"))
	b := <-got
	if b == nil || b.it != items[0] {
		t.Fatalf("waiting source got %v, want the re-queued item", b)
	}
}

func TestSchedulerAllExcluded(t *testing.T) {
	ctx := context.Background()
	s := newScheduler(testItems(1), testSources(2), 2)
	a := s.next(ctx, 0, idle)
	s.notFound(a)
	b := s.next(ctx, 1, idle)
	s.notFound(b)
	if s.next(ctx, 0, idle) != nil || s.next(ctx, 1, idle) != nil {
		t.Fatal("sources without the piece still get work")
	}
	if _, _, remaining := s.snapshot(); remaining != 1 {
		t.Fatalf("remaining = %d, want 1", remaining)
	}
}

func idle() int { return 0 }

func TestSchedulerEndgameOnlyWhenIdle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	items := testItems(2)
	s := newScheduler(items, testSources(2), 2)
	s.next(ctx, 0, idle)
	b := s.next(ctx, 1, idle)
	if b.it != items[1] {
		t.Fatal("second source did not get the second item")
	}
	// Source 1 still has its own request in flight: no duplicate for it.
	got := make(chan *attempt)
	go func() { got <- s.next(ctx, 1, func() int { return 1 }) }()
	cancel()
	if a := <-got; a != nil {
		t.Fatalf("busy source got a duplicate of item %v", a.it.hash.Short())
	}
}
