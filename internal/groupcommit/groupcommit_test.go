package groupcommit

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a commit function that records its batches and can be held
// (blocked) to let requests queue behind a running commit.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	hold    chan struct{} // when non-nil, the first commit waits on it
	started chan struct{} // closed when the first commit began
	fail    func(batch []int) error
}

func (r *recorder) commit(batch []int) error {
	r.mu.Lock()
	hold, started := r.hold, r.started
	r.hold = nil
	r.batches = append(r.batches, slices.Clone(batch))
	r.mu.Unlock()
	if hold != nil {
		close(started)
		<-hold
	}
	if r.fail != nil {
		return r.fail(batch)
	}
	return nil
}

func (r *recorder) got() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// queued waits until n requests wait in g's queue.
func queued(t *testing.T, g *Group[int], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		l := len(g.queue)
		g.mu.Unlock()
		if l == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d requests, want %d", l, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// holdFirst starts request 0 and returns once its commit runs and blocks;
// then starts the requests reqs one by one, in order, each queued before the
// next. release lets the commits go on; wait returns each request's error.
func holdFirst(t *testing.T, g *Group[int], r *recorder, reqs []int) (release func(), wait func() map[int]error) {
	t.Helper()
	r.hold, r.started = make(chan struct{}), make(chan struct{})
	hold := r.hold
	var mu sync.Mutex
	errs := map[int]error{}
	var wg sync.WaitGroup
	do := func(v int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.Do(v)
			mu.Lock()
			errs[v] = err
			mu.Unlock()
		}()
	}
	do(0)
	<-r.started
	for i, v := range reqs {
		do(v)
		queued(t, g, i+1)
	}
	return func() { close(hold) }, func() map[int]error { wg.Wait(); return errs }
}

func TestBatchesQueueInOrderWithinBound(t *testing.T) {
	tests := []struct {
		name      string
		opt       Options[int]
		reqs      []int
		wantAfter [][]int // batches after the held first one, [0]
	}{
		{"unbounded: one batch", Options[int]{}, []int{1, 2, 3, 4}, [][]int{{1, 2, 3, 4}}},
		{"bound by count", Options[int]{MaxWeight: 2}, []int{1, 2, 3, 4, 5}, [][]int{{1, 2}, {3, 4}, {5}}},
		{"bound by weight", Options[int]{MaxWeight: 5, Weight: func(v int) int { return v }}, []int{1, 2, 3, 4}, [][]int{{1, 2}, {3}, {4}}},
		{"heavy leader alone", Options[int]{MaxWeight: 5, Weight: func(v int) int { return v }}, []int{9, 1, 2}, [][]int{{9}, {1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			g := New(r.commit, tt.opt)
			release, wait := holdFirst(t, g, r, tt.reqs)
			release()
			for v, err := range wait() {
				if err != nil {
					t.Errorf("request %d: %v", v, err)
				}
			}
			want := append([][]int{{0}}, tt.wantAfter...)
			if got := r.got(); !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("batches %v, want %v", got, want)
			}
		})
	}
}

func TestErrorPerCaller(t *testing.T) {
	errBad := errors.New("bad request")
	errDisk := errors.New("disk full")
	tests := []struct {
		name     string
		fail     func(batch []int) error
		wantErr  map[int]error
		wantRuns [][]int
	}{
		{
			name: "one request fails: the others commit alone",
			fail: func(batch []int) error {
				if i := slices.Index(batch, 2); i >= 0 {
					return &CallError{Index: i, Err: errBad}
				}
				return nil
			},
			wantErr:  map[int]error{0: nil, 1: nil, 2: errBad, 3: nil},
			wantRuns: [][]int{{0}, {1, 2, 3}, {1}, {2}, {3}},
		},
		{
			name: "the commit fails: every caller of the batch gets it",
			fail: func(batch []int) error {
				if len(batch) > 1 {
					return errDisk
				}
				return nil
			},
			wantErr:  map[int]error{0: nil, 1: errDisk, 2: errDisk, 3: errDisk},
			wantRuns: [][]int{{0}, {1, 2, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{fail: tt.fail}
			g := New(r.commit, Options[int]{})
			release, wait := holdFirst(t, g, r, []int{1, 2, 3})
			release()
			errs := wait()
			for v, want := range tt.wantErr {
				if got := errs[v]; got != want { // the error itself, not a wrapper
					t.Errorf("request %d: error %v, want %v", v, got, want)
				}
			}
			if got := r.got(); !slices.EqualFunc(got, tt.wantRuns, slices.Equal) {
				t.Fatalf("commits %v, want %v", got, tt.wantRuns)
			}
		})
	}
}

func TestLoneCallerErrorUnwrapped(t *testing.T) {
	errBad := errors.New("bad")
	g := New(func(batch []int) error { return &CallError{Index: 0, Err: errBad} }, Options[int]{})
	if err := g.Do(1); err != errBad {
		t.Fatalf("Do = %v, want %v", err, errBad)
	}
}

// TestConcurrentEveryRequestOnce runs many writers at once: every request is
// committed exactly once, one commit at a time, each writer's requests in
// its own order, and commits are shared.
func TestConcurrentEveryRequestOnce(t *testing.T) {
	const writers, each = 16, 200
	var (
		mu      sync.Mutex
		seen    = map[int]int{}
		order   []int
		commits int
		running bool
	)
	commit := func(batch []int) error {
		mu.Lock()
		if running {
			mu.Unlock()
			return errors.New("two commits at once")
		}
		running = true
		commits++
		for _, v := range batch {
			seen[v]++
			order = append(order, v)
		}
		mu.Unlock()
		time.Sleep(50 * time.Microsecond) // the fsync
		mu.Lock()
		running = false
		mu.Unlock()
		return nil
	}
	g := New(commit, Options[int]{MaxWeight: 32})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := g.Do(w*each + i); err != nil {
					errs <- fmt.Errorf("writer %d request %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != writers*each {
		t.Fatalf("%d requests committed, want %d", len(seen), writers*each)
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("request %d committed %d times", v, n)
		}
	}
	last := make([]int, writers)
	for i := range last {
		last[i] = -1
	}
	for _, v := range order {
		w := v / each
		if v%each <= last[w] {
			t.Fatalf("writer %d: request %d committed after %d", w, v%each, last[w])
		}
		last[w] = v % each
	}
	if commits >= writers*each {
		t.Errorf("%d commits for %d requests: nothing was shared", commits, writers*each)
	}
}
