package tracker

import (
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// BenchmarkStoreApplyBatch: one FILE UPDATE of MaxBatch new files, committed.
func BenchmarkStoreApplyBatch(b *testing.B) {
	s := openTestStore(b)
	n, _, _ := s.addMember(newTestIdentity(b).ID)
	batch := make([]manifest.Manifest, MaxBatch)
	next := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = loadManifest(next)
			next++
		}
		if _, err := s.apply("", n, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*MaxBatch), "µs/change")
}
