package tracker

import (
	bolt "go.etcd.io/bbolt"
)

// Mapped pages read by the work of the tracker, not only by time. Each read
// of a page not mapped yet maps, besides it, the neighbouring pages the
// page cache holds (the kernel's fault-around, 64 KiB by default), so
// scattered reads map about 64 KiB each: 200 single-change commits mapped
// 130 MiB of a million-file state, and a peer catching up on 10 000
// scattered changes 45 MiB, well within the second between two periodic
// releases. So the pages each commit and each read of the change log may
// have mapped are counted (mappedDebt), and whoever brings the count over
// releaseDebt releases them at once.
const (
	faultAround = 64 << 10 // what one scattered read may map
	releaseDebt = 16 << 20 // mapped bytes between two releases, at most about
	// readsPerRecord is how many scattered reads one change costs: its row
	// and the change log (both commit and push), its history and chain
	// (commit).
	readsPerRecord = 4
	// readsPerCommit is what a commit reads besides its changes (meta,
	// totals, the free-page list, the trees' upper pages).
	readsPerCommit = 8
)

// mapped counts n scattered reads; if the count since the last release
// reaches releaseDebt, it releases the mapped pages (inside tx if not nil,
// else in a read transaction of its own) and starts counting again. A
// failure only costs memory: it is left to the periodic release
// (Server.release), which reports it.
func (s *store) mapped(tx *bolt.Tx, n int) {
	if s.mappedDebt.Add(int64(n)*faultAround) < releaseDebt {
		return
	}
	s.mappedDebt.Store(0) // concurrent callers: one more release at worst
	if tx != nil {
		_ = releaseMappedTx(s.db, tx)
		return
	}
	_ = s.releaseMapped()
}
