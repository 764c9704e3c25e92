// Package kvstore opens the embedded ordered key-value stores that hold a
// peer's state (the index and the chunk store), with memory bounded by
// configuration instead of by the number of keys.
//
// Terms:
//
//   - Store: a Pebble database (an LSM tree: a write-ahead log, an
//     in-memory memtable, and sorted, compressed table files) in its own
//     directory. Pebble reads table files with pread through a block cache
//     of fixed size; nothing is memory-mapped, so a store of a million keys
//     costs the process the cache and the memtables, not the store's size.
//     (bbolt, used before, maps the whole file: every page a full scan
//     touched counted in the resident set.)
//   - Key space: a store holds several kinds of record, each under its own
//     one-byte key prefix (the buckets of the older bbolt files); packages
//     declare their prefixes where they use them.
//   - Cache: the block cache. Stores opened with the same Options.Cache share
//     it, so a peer's two stores per folder cost one cache.
//   - Reserve: a file of ReserveName in each store's directory, of four
//     memtables, made when the disk has ample room (reserve.go). Pebble
//     treats a failed write of its log or manifest as fatal (it panics: it
//     cannot know what reached the disk), so a full disk must never reach
//     it. The store's writes go through vfs.OnDiskFull: the first ENOSPC
//     deletes the reserve and the write is retried into the room it
//     leaves.
//   - Room: Store.Room, which a writer calls before every commit. With the
//     reserve there it is an atomic load; without it (used up, or never
//     made on a small disk) it checks that the disk has room for a new
//     log, refuses with ErrNoRoom (an ENOSPC) otherwise, and makes the
//     reserve again once the disk has ample room.
//   - Sync: a batch committed with Sync is durable (the log is fsynced)
//     before Commit returns; NoSync batches reach the log, and are lost by a
//     power failure but not by a process crash.
//
// Bounds: per store at most MemTableStopWrites memtables of MemTableSize
// bytes, plus the shared cache; the write-ahead log is bounded by the
// memtable size (a flush starts a new one).
//
// Concurrency: a *pebble.DB is safe for concurrent use. Pebble has no
// read-modify-write transactions; a package that needs one serializes its
// writers itself and reads through an indexed batch.
//
// Opening a store writes too (what its log holds goes to a table): on a
// full disk without a reserve, Open fails with an error wrapping
// syscall.ENOSPC, and the caller may wait for room.
//
// Sentinel errors: ErrLocked, ErrNoRoom.
package kvstore
