// Package chunkstore answers "where do I have the bytes of piece H?" for
// complete files in the folder and for partial downloads, and keeps partial
// downloads resumable across a crash.
//
// Terms:
//
//   - Piece hash (H): the BLAKE3-256 hash of a piece's bytes (manifest.ID).
//   - Location: a byte range (absolute path, offset, length) that held the
//     bytes of H when it was recorded. Locations are hints: ReadPiece re-hashes
//     what it reads, and a location whose bytes no longer match (the file was
//     edited, truncated or removed) is dropped and the next one is tried.
//   - Stamp: the size and modification time a complete file had when its
//     pieces were hashed (AddFile, Commit). While the file still has both,
//     ReadPieceForUpload (the uploader's read; requesters verify) skips the
//     hash, as the folder scan calls such a file unchanged.
//   - Ref: the store's small numeric name for one indexed file or partial. The
//     index maps H‖ref to the first offset of H in that file, so one hash can
//     have a location in every file that contains it.
//   - Partial: a download in progress of one file version (keyed by its file
//     ID), written at piece offsets into stateDir/partial/<file ID hex>.part.
//     Every byte is written once: Commit renames the partial onto the target
//     (same filesystem), it never copies it. A commit to a New target (the
//     caller found it absent) never replaces a file that appeared there
//     since (renameat2 RENAME_NOREPLACE, or a hard link): it fails with
//     ErrTargetExists. Whole aligned pieces are written
//     with O_DIRECT on Linux (write.go): a download is not read back and is
//     fsynced anyway, so the page cache would only cost its fill.
//   - Seal and batch: a complete single-piece partial can be sealed (mode,
//     mtime, size set, file closed) and committed with others in one
//     CommitBatch: data made durable together (SyncData), one rename each,
//     one fsync per touched directory, one database batch.
//   - Verified piece: a piece whose bytes hashed to the manifest's hash before
//     they were written. Verified pieces become durable in batches (group
//     commit): the partial file is fdatasync'ed first, then the pieces are
//     recorded in one database batch, committed synced (durable). A durable
//     piece survives a crash (SIGKILL, power loss); a verified piece that was
//     not yet durable may be lost and is fetched again.
//   - Resume: Partial on a file ID whose partial exists re-hashes every piece
//     the partial file holds. Recorded pieces that no longer match are dropped
//     (a corrupted piece is never reported present); unrecorded pieces that
//     match (written just before a crash) are kept and recorded.
//   - Progress time: when pieces of a partial last became durable (a flush,
//     or a resume that adopted pieces), kept in its record. It is not the
//     file's mtime: a sealed partial carries its target's mtime, which may
//     be years old, until its apply succeeds. A partial file without a
//     record (a crash before its first flush, a sealed single-piece file)
//     or with a record from before progress was recorded falls back to the
//     file's mtime, which every write updates (O_DIRECT ones too).
//   - Held pieces (Held): what this store can serve of one version to the
//     other downloaders of it (swarming, peer/transfer HaveRequest): the
//     durable pieces of its partial, or every piece of a partial committed
//     lately (the last 256 commits, in memory). A hint like a location.
//   - Abandoned partial: one that CollectPartials removes, file and
//     records. It is superseded (no wanted version has its file ID: a newer
//     version is wanted, or the local edit won and the want was dropped),
//     stalled (no progress for CollectOptions.MaxAge, wanted or not: the
//     download is given up and starts over when resumed) or a record
//     whose file is gone. Open partials are never touched, nor one whose
//     record changed after the collection read it.
//   - Live want and protected pieces: a live want is a wanted version whose
//     own partial is not stalled. An abandoned partial is kept while it
//     holds the only recorded location of a piece a live want needs (no
//     complete file, no partial that is not abandoned, has it): the fewest
//     such partials covering those pieces stay until the wants are applied,
//     dropped or stall. The pieces are not copied into the wanted
//     version's partial by the collection: the download of that version
//     copies every piece the store holds first (CopyLocal, the peer's
//     plan), partials included, and then holds them itself, after which the
//     next collection removes the old partial. Copying ahead would open
//     (and re-hash) the wanted version's partial outside its download, and
//     write pieces for versions that may never be applied.
//
// Persistent state is one Pebble store (internal/kvstore) in
// stateDir/chunks/, with these key spaces (one-byte prefixes; ref is
// written order-preserving: a length byte, then its big-endian bytes):
//
//   - f‖path (folder-relative) → uvarint ref: the complete file there.
//   - r‖ref → ref record: kind (file, file with a stamp, partial) ‖ name
//     (path or file ID) ‖ size ‖ piece size ‖ [stamp mtime] ‖ the first 4
//     bytes of each piece hash (enough to find the ref's piece keys; the
//     keys hold the rest).
//   - h‖H[:4]‖ref‖H[4:] → offset, length: a location. All locations of H
//     are under h‖H[:4] (a lookup skips the rare other hash there); all of
//     one ref's piece with prefix H[:4] under h‖H[:4]‖ref.
//   - p‖file ID → ref (8 bytes) ‖ bitmap of durable pieces ‖ progress time:
//     a partial. A record without the progress time (older versions) is
//     read as "unknown".
//   - m‖v: schema version; m‖s: the ref sequence (refs are never reused).
//
// A single-piece complete file costs three records, about 72 bytes on disk
// once compacted (BenchmarkAddFilesScale). A store of an older version
// (bbolt, stateDir/chunks.db: buckets pieces, refs, files, partials,
// stamps) is migrated one way at Open (migrate.go): its records are copied
// in bounded batches, the version record is written last and synced, then
// chunks.db is removed; a crash before the version record redoes the copy
// at the next open.
//
// Bounds: the heap holds no record per file or per piece of the store.
// Reads stream through iterators; a write holds what it writes (a scan's
// batch of AddFiles, a CommitBatch); CollectPartials holds the partial
// records and the pieces of abandoned partials (downloads, not files);
// Held remembers the last 256 commits. Pebble's memory is its memtables
// (256 KiB here, db.go) and block cache, fixed by configuration (kvstore;
// OpenOptions shares a cache between stores); its fixed disk cost is the
// logs, at most four of 110% of a memtable. Stored looks a manifest's
// pieces up with one iterator (a Locate each costs an iterator each).
//
// Concurrency: all methods of Store and Partial are safe for concurrent use.
// No mutex guarding state is held across disk I/O. Writes go through one
// group commit: concurrent writers are coalesced into one batch and one
// log fsync. Pebble has no read-modify-write transactions, so the group
// runs one commit (read through an indexed batch, build, commit) at a time:
// the writers are serialized there, as bbolt's writer lock serialized them
// before. Reads of several records use a snapshot.
//
// Sentinel errors: ErrNotFound, ErrBadPiece, ErrPieceIndex, ErrIncomplete,
// ErrBusy, ErrBadManifest, ErrClosed, ErrLocked, ErrTargetExists (noreplace.go);
// match them with errors.Is.
package chunkstore

import "errors"

var (
	// ErrNotFound: no valid location of the piece is known.
	ErrNotFound = errors.New("chunkstore: piece not found")
	// ErrBadPiece: the bytes given for a piece do not have its length or hash.
	ErrBadPiece = errors.New("chunkstore: bad piece")
	// ErrPieceIndex: a piece index outside the manifest's piece list.
	ErrPieceIndex = errors.New("chunkstore: piece index out of range")
	// ErrIncomplete: Commit of a partial that still misses pieces.
	ErrIncomplete = errors.New("chunkstore: partial download incomplete")
	// ErrBusy: a partial of this file ID is already open in this store.
	ErrBusy = errors.New("chunkstore: partial already open")
	// ErrBadManifest: the manifest cannot be stored (not a live file,
	// inconsistent piece list or file ID, invalid path).
	ErrBadManifest = errors.New("chunkstore: unusable manifest")
	// ErrClosed: the store or partial was closed (or committed, discarded).
	ErrClosed = errors.New("chunkstore: closed")
	// ErrLocked: the database is in use by another process (or by another
	// Store of this one).
	ErrLocked = errors.New("chunkstore: database in use by another process")
)
