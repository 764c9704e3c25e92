// Package index is the peer's embedded record of what it last synced.
//
// Terms:
//
//   - Entry: for one folder-relative path, the manifest of the version the peer
//     last synced (reported to or applied from the tracker) and the Stat of the
//     file on disk when it was synced (size, mtime, inode and inode change
//     time). A file whose Stat still matches is known to be unchanged without
//     reading it. A deleted path keeps its tombstone. Entries migrated from
//     an index that did not keep the ctime read with ctime 0 (unknown): such
//     a file is hashed once and, if unchanged, recorded again with its ctime.
//   - Want: a version the tracker announced that the peer has not applied yet,
//     with the devices that own it. Wants are persisted together with the last
//     tracker sequence number, so a restart never forgets work it acknowledged.
//     WantsPage lists them as heads (no piece lists, manifest.UnmarshalHead);
//     Want decodes one whole.
//   - Seq: the highest tracker sequence number whose changes are either applied
//     or stored as wants; the peer registers with it to receive only later ones.
//   - Membership: the tracker address and device ID remembered after the first
//     successful join, so later runs need neither address nor token.
//   - Epoch: the tracker epoch Seq counts in (tracker.Epoch). It is set to
//     none before a re-announce and to the tracker's epoch once the
//     re-announce is answered, so an interrupted re-announce is redone.
//   - Heard: the highest sequence number of Epoch this peer heard of: Seq,
//     or the tracker's answer to one of its reports, whichever is higher
//     (heard.go). It is stored no later than what the answer made the peer
//     record, and sent at registration, so a tracker whose state lacks a
//     commit the peer relies on asks it to re-announce.
//   - History: per path, the file IDs its entry held before the current one
//     (at most MaxHistory, newest first, repeats included: X, deleted, X
//     again holds X twice). A re-announce sends them as the entry's
//     ancestors, so the tracker can tell an older version of the path from a
//     concurrent one, and order versions that came back.
//   - Unacked reports: per path, the versions reported to the tracker whose
//     outcome is not recorded yet (unacked.go).
//   - Walk order: paths compared component by component (ComparePaths):
//     "a/x" before "a.txt". Page and WantsPage list in this order.
//   - Counters: the number of entries (Len) and of live ones (HasLive),
//     kept in a meta record written in the same batch as the entries.
//
// Layout: one Pebble store (internal/kvstore) in stateDir/index (DirName).
// Every key starts with a one-byte prefix naming its kind of record:
//
//	'f' path → entry record (record.go: flags, mtime, size, piece size,
//	           pieces, base, Stat; not the path, which is the key, nor the
//	           file ID, which the rest determines and decoding recomputes)
//	'w' path → want head (want_record.go: file ID, seq, owners, piece
//	           count, manifest without path, ID or pieces)
//	'p' path 0x00 0x00 chunk → 1 024 pieces of the want's piece list
//	           (want_pieces.go; chunk 2 bytes big-endian): apart, so listing
//	           wants reads heads, and in small values, so Pebble's flushes
//	           never buffer a 2.25 MiB list whole
//	'u' path → unacked reports (file IDs, newest first)
//	'h' path 0x00 0x00 counter → file ID (history; counter 8 bytes
//	           big-endian, so one path's records sort oldest first)
//	'm' name → meta: schema (version, 1 byte), seq, heard, hseq (last
//	           history counter): 8 bytes big-endian; epoch (16 bytes);
//	           tracker (Membership, codec.go); count (entries, live: 8
//	           bytes big-endian each); unacked (paths with unacked
//	           reports, 8 bytes big-endian)
//
// A path in a key has every '/' encoded as 0x00: names never hold NUL, so
// byte order of the keys is walk order, and Page is one iterator from the
// encoded `after`. History keys end the path with two 0x00, which no
// encoded path holds in a row or ends with, so the history of "a" never
// holds that of "a/b". A single-piece file's entry takes about 60 bytes
// on disk after compaction (BenchmarkIndex200kSmallFiles), key included:
// Pebble prefix-compresses keys and Snappy-compresses blocks.
//
// Migration: an index of older versions is one bbolt file,
// stateDir/index.db (LegacyFileName). Open copies every bucket of it
// into the store in bounded batches, writes the schema record last, in
// one synced batch, and then removes index.db. An interrupted migration
// leaves no schema record: the next Open deletes what it wrote and starts
// again. Exists is true for either form.
//
// Bounds: nothing proportional to the number of entries stays in memory.
// Get is a point read; Page and WantsPage hold one page; the counters,
// Seq, Epoch and Heard are a few words. The store costs its memtables and
// the block cache (its own OwnCacheSize with Open, or a cache shared with
// the chunk store with OpenWith; Pebble charges the memtables to it), and
// on disk a write-ahead log preallocated to 110% of the memtable size. A
// Batch in flight is in memory while it is written. Paths and Wants hold
// whole lists and are deprecated.
//
// Writes: Stage writes its entries at once, without waiting for the disk
// (Get and the counters see them), with the history and unacked changes
// they imply; Update commits a Batch atomically in one synced Pebble
// batch, which also makes every earlier staged write durable. A crash
// before then loses staged entries, never data (see Stage).
//
// Concurrency: an Index is safe for concurrent use. Readers (Get, Page,
// WantsPage, History, Unacked, Want) read the store directly and take no
// index lock. Writers (Stage, Update) are serialized by one mutex held
// while their batch is built and committed: Pebble has no
// read-modify-write transactions, and a batch reads what it changes
// (whether a key existed, for the counters; the replaced version, for the
// history; the want a Done names; the stored Seq and Heard), through an
// indexed batch that sees the store and its own writes. bbolt serialized
// its writers the same way. Seq, Epoch and Heard are mirrored in memory
// under a read-write mutex never held across I/O.
package index
