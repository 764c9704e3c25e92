package simtest

import (
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// TestConflictOf: the check recognizes the tracker's conflict names, and
// only those of the path.
func TestConflictOf(t *testing.T) {
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	for _, tc := range []struct {
		q, p string
		want bool
	}{
		{tracker.ConflictName("d0/a.txt", at, id.ID), "d0/a.txt", true},
		{tracker.ConflictName("c", at, id.ID), "c", true},
		{tracker.ConflictName("d1/sub/d.md", at, id.ID), "d1/sub/d.md", true},
		{tracker.ConflictName(tracker.ConflictName("b.dat", at, id.ID), at, id.ID), "b.dat", true},
		{tracker.ConflictName("d0/a.txt", at, id.ID), "a.txt", false},
		{tracker.ConflictName("d0/a.txt", at, id.ID), "d0/a.md", false},
		{tracker.ConflictName("d0/c", at, id.ID), "d0/a.txt", false},
		{tracker.ConflictName("d0/a.txt", at, id.ID) + "-2", "d0/a.txt", true},
		{tracker.ConflictName("c", at, id.ID) + "-12", "c", true},
		{tracker.ConflictName("d0/a.txt", at, id.ID) + "-x", "d0/a.txt", false},
		{"d0/a.txt", "d0/a.txt", false},
	} {
		if got := conflictOf(tc.q, tc.p); got != tc.want {
			t.Errorf("conflictOf(%q, %q) = %v, want %v", tc.q, tc.p, got, tc.want)
		}
	}
}
