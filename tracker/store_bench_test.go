package tracker

import (
	"fmt"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// BenchmarkStoreApplyBatch: one FILE UPDATE of MaxBatch new files, committed.
func BenchmarkStoreApplyBatch(b *testing.B) {
	s := openTestStore(b)
	n, _, _ := s.addMember(newTestIdentity(b).ID)
	batch := make([]Change, MaxBatch)
	next := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = Change{New: loadManifest(next)}
			next++
		}
		if _, err := s.apply("", n, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*MaxBatch), "µs/change")
}

// BenchmarkStoreApplyEdits: one FILE UPDATE of MaxBatch edits of existing
// files, committed (each replaced version joins its path's history).
func BenchmarkStoreApplyEdits(b *testing.B) {
	s := openTestStore(b)
	n, _, _ := s.addMember(newTestIdentity(b).ID)
	cur := make([]manifest.Manifest, MaxBatch)
	batch := make([]Change, MaxBatch)
	for i := range cur {
		cur[i] = testFile(fmt.Sprintf("dir/file-%04d", i), "v0", t0, manifest.ID{})
		batch[i] = Change{New: cur[i]}
	}
	if _, err := s.apply("", n, batch); err != nil {
		b.Fatal(err)
	}
	round := 0
	for b.Loop() {
		round++
		for i := range batch {
			v := testFile(cur[i].Path, fmt.Sprint("v", round), t0+int64(round), cur[i].ID)
			batch[i], cur[i] = Change{New: v}, v
		}
		if _, err := s.apply("", n, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*MaxBatch), "µs/change")
}
