package chunkstore

import (
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/manifest"
)

// TestSingleFileRecords: a single-piece complete file costs three records
// (file, ref, piece) and each says no more than it must: the path twice
// (the file key, the ref record), the hash once in full (the piece key)
// and a 4-byte prefix.
func TestSingleFileRecords(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	m := buildManifest("photos/0001/IMG_000123.jpg", randomData(5, 1024), manifest.DefaultPieceSize)
	m.ModTime = 1_735_689_600_123_456_789
	if err := s.AddFile(&m); err != nil {
		t.Fatal(err)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var records, bytes int
	for ok := it.First(); ok; ok = it.Next() {
		if it.Key()[0] == prefixMeta {
			continue
		}
		records++
		bytes += len(it.Key()) + len(it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	// f‖path → ref: 1+26+1; r‖ref → kind, path, size, piece size, mtime,
	// prefix: 3 + 1+1+26+2+3+9+4; h‖H‖ref → location: 1+32+2 + 3.
	const want = 28 + 49 + 38
	if records != 3 || bytes > want {
		t.Errorf("one single-piece file: %d records of %d bytes, want 3 of at most %d", records, bytes, want)
	}
}

// TestCompactOnDisk: 20 000 single-piece files take at most 100 bytes each
// in the store's tables once compacted (BenchmarkAddFilesScale measures
// 200 000).
func TestCompactOnDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20 000 records")
	}
	const files = 20 * scaleBatch
	s := openStore(t, t.TempDir())
	defer s.Close()
	for k := range files / scaleBatch {
		if err := s.AddFiles(scaleManifests(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := compactForBench(s); err != nil {
		t.Fatal(err)
	}
	if per := s.db.Metrics().Total().Size / files; per > 100 {
		t.Errorf("%d bytes of tables per file, want at most 100", per)
	}
}
