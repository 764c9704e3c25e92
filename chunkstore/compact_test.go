package chunkstore

// compactForBench flushes the memtables and compacts the whole store, so
// that its size on disk is that of its records (no log, no overwritten
// versions).
func compactForBench(s *Store) error {
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact([]byte{0}, []byte{0xff}, true)
}
