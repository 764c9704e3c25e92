// Package manifest defines what one version of one file is in DartSync.
//
// Terms:
//
//   - Piece: a byte range of a file at a fixed offset. Its length is the
//     manifest's piece size (the last piece may be shorter). A piece is
//     identified by the BLAKE3-256 hash of its bytes (an ID) and also carries a
//     32-bit rsync-style weak checksum (Weak) so a receiver can find it at any
//     offset of data it already has.
//   - Manifest: one version of one file or directory: its folder-relative path,
//     size, modification time (ns), executable bit, piece size and pieces, its
//     file ID and the file ID it replaced (Base). A deletion is a Manifest with
//     Deleted set (a tombstone), never the absence of an entry.
//   - File ID: BLAKE3-256 over (size, piece size, piece hashes); see FileID.
//     Directories and tombstones have IDs of their own (DirID, TombstoneID) so
//     every version of a path has exactly one ID to compare.
//   - Path: folder-relative, slash-separated and clean; ValidatePath is the one
//     place that decides whether a path may be used.
package manifest
