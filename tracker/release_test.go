package tracker

import (
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestMappedReleasesByWork: the reads counted since the last release reach
// releaseDebt and the next count releases (the debt starts again), inside
// a transaction or not; commits and pushes count their reads.
func TestMappedReleasesByWork(t *testing.T) {
	s := openTestStore(t)
	per := int(releaseDebt / faultAround)
	s.mapped(nil, per-1)
	if d := s.mappedDebt.Load(); d != int64(per-1)*faultAround {
		t.Fatalf("debt %d after %d reads", d, per-1)
	}
	s.mapped(nil, 1)
	if d := s.mappedDebt.Load(); d != 0 {
		t.Fatalf("debt %d after reaching releaseDebt, want 0 (released)", d)
	}
	_, nums := addTestMembers(t, s, 1)
	if _, err := s.apply("", nums[0], reports(testFile("a", "a", t0, manifest.ID{}))); err != nil {
		t.Fatal(err)
	}
	afterCommit := s.mappedDebt.Load()
	if afterCommit != (readsPerCommit+readsPerRecord)*faultAround {
		t.Fatalf("debt %d after a commit of one change", afterCommit)
	}
	if es, _, err := s.since("", 0, 10, 1<<20); err != nil || len(es) != 1 {
		t.Fatal(es, err)
	}
	if s.mappedDebt.Load() <= afterCommit {
		t.Fatal("a read of the change log counted nothing")
	}
	s.mappedDebt.Store(releaseDebt - faultAround)
	if _, _, err := s.since("", 0, 10, 1<<20); err != nil {
		t.Fatal(err)
	}
	if d := s.mappedDebt.Load(); d != 0 {
		t.Fatalf("debt %d after a read over the limit, want 0 (released inside its transaction)", d)
	}
}
