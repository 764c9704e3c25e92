// Package manifest defines what one version of one file is in DartSync, how
// it is computed from the file's bytes, and how it is encoded.
//
// Terms:
//
//   - Piece: a byte range of a file at a fixed offset. Its length is the
//     manifest's piece size (the last piece may be shorter). A piece is
//     identified by the BLAKE3-256 hash of its bytes (an ID) and also carries a
//     32-bit rsync-style weak checksum (Weak) so a receiver can find it at any
//     offset of data it already has.
//   - Piece size: in [MinPieceSize, MaxPieceSize]; DefaultPieceSize unless the
//     tracker says otherwise. It is part of the file ID, so peers comparing
//     IDs must use the same one.
//   - Manifest: one version of one file or directory: its folder-relative path,
//     size, modification time (ns), executable bit, piece size and pieces, its
//     file ID and the file ID it replaced (Base). A deletion is a Manifest with
//     Deleted set (a tombstone), never the absence of an entry. A file is
//     at most MaxFileSize bytes in at most MaxPieces pieces (limits.go says
//     why); every builder and decoder refuses more with ErrTooLarge.
//   - File ID: BLAKE3-256 over (size, piece size, piece hashes); see FileID.
//     Directories and tombstones have IDs of their own (DirID, TombstoneID) so
//     every version of a path has exactly one ID to compare.
//   - Path: folder-relative, slash-separated and clean, at most MaxPathLen
//     bytes and each name at most MaxNameLen bytes; ValidatePath is the one
//     place that decides whether a path may be used.
//
// Building: Build (any io.Reader), BuildBytes (data in memory) and BuildFile
// (a file in a folder) read the data once, hash pieces in parallel on
// GOMAXPROCS workers with a bounded pool of piece buffers, and put the
// results in order. Memory does not grow with the file.
//
// Encoding: Marshal and Unmarshal use the protobuf schema in
// manifestpb/manifest.proto (format version FormatVersion); ToProto and
// FromProto convert for messages that embed a manifest; UnmarshalHead
// decodes everything but the piece list, for listing many manifests.
// Decoding is bounded (MaxEncodedSize, MaxFileSize, MaxPieces, MaxPathLen)
// and validated (Manifest.Validate),
// including recomputing the file ID, so a decoded Manifest can be trusted as
// far as its own consistency goes. Golden vectors are in testdata/manifest.
//
// Errors: every error wraps one of the sentinels ErrInvalid (a manifest
// breaks a rule), ErrCorrupt (bytes that do not decode to a valid
// manifest), ErrPieceSize, ErrTooLarge, ErrChanged (file changed while
// hashed), ErrNotRegular (symlink or special file) or ErrBadPath, or a
// context or I/O error; test with errors.Is.
package manifest
