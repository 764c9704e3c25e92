package tracker

import (
	"testing"
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
