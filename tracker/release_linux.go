//go:build linux

package tracker

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped drops the database's memory-mapped pages from the process
// (madvise MADV_DONTNEED on the read-only shared file mapping). The pages
// stay in the kernel's page cache and the next access maps them again
// without I/O, so this costs a few minor faults; what it buys is that the
// tracker's resident set reflects the pages it is using now, not every page
// it ever read. It runs inside a read transaction, which keeps bbolt from
// remapping meanwhile.
func (s *store) releaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error { return releaseMappedTx(s.db, tx) })
}

// releaseMappedTx is releaseMapped inside tx (read or write: bbolt writes
// through the file, never the mapping, and remaps only while committing).
func releaseMappedTx(db *bolt.DB, tx *bolt.Tx) error {
	n := tx.Size()
	if n <= 0 {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, db.Info().Data, uintptr(n), unix.MADV_DONTNEED); errno != 0 {
		return fmt.Errorf("tracker: release mapped state pages: %w", errno)
	}
	return nil
}
