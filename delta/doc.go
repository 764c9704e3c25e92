// Package delta moves fewer bytes by reusing data the receiver already has
// (docs/ARCHITECTURE.md §6). It works at two levels, both rsync ideas.
//
// Manifest level (receiver side, as zsync does it): Find rolls the rsync weak
// checksum (manifest.WeakSum) one byte at a time over a basis, any local file
// such as the old version of the file being pulled, looks every window up
// among the target manifest's full-length pieces, confirms a hit with BLAKE3
// and reports where each wanted piece lies in the basis. Pieces found this way
// cost no network bytes; CopyRange then copies them in the kernel.
//
// Piece level (classic rsync): for a piece that Find did not locate, the
// receiver sends a Signature of its old bytes at that place (Sign); the source
// answers with a Delta, copy and literal tokens computed from the new piece
// against that signature (Diff); the receiver rebuilds the piece from its old
// bytes (Apply), which verifies the piece's BLAKE3 hash. On any error the
// caller fetches the whole piece instead.
//
// The receiver's flow for one file (the puller's job), cheapest first:
//
//  1. pieces already in the chunk store: nothing to do;
//  2. FindKnown over the old version, skipping the KnownRanges its own
//     manifest gives (pieces the receiver has), or Find over any other
//     local basis, each call with the pieces still wanted; the matches are
//     copied to the new file with CopyMatches (one CopyRange per run of
//     consecutive pieces) or read and written like any other piece, and
//     verified (the basis may change after Find read it);
//  3. for each piece still missing, BasisRange picks the old bytes to sign;
//     the receiver sends Sign(...).MarshalBinary(), the source answers
//     Diff(signature, piece), the receiver calls Apply, which verifies the
//     piece hash; a delta costs about one block (2 KiB for 1 MiB pieces) of
//     literal per edit plus 7 bytes of signature per block;
//  4. on any error, the whole piece from an owner.
//
// Signatures and deltas travel as opaque bytes (protobuf bytes fields). A
// signature is 7 bytes per block plus a header (3.6 KiB for a 1 MiB basis
// with the default block size; never more than 12 + MaxBlocks·(4+MaxStrongLen)
// bytes); a delta from Diff is at most its piece plus MaxDeltaOverhead bytes.
// Every function here is safe for concurrent use and keeps no argument after
// it returns (only the literals of a Delta from ParseDelta alias its input).
//
// Terms:
//
//   - Basis: bytes the receiver already has and offers for reuse. For Find, an
//     io.ReaderAt of a given size, read front to back once with a sliding
//     buffer of about two pieces; for Sign and Apply, a byte slice (at most
//     MaxBasisLen bytes).
//   - Window: the bytes of the basis under the rolling checksum, as long as a
//     piece (Find) or a block (Diff).
//   - Wanted piece: a piece index of the target manifest the caller still
//     needs. Find reports a Match (piece index, basis offset) for every wanted
//     piece it locates; the other pieces are looked for too, only so that a
//     match lets the scan jump a whole window ahead instead of rolling.
//   - Adjacency: after a match at offset o the scan first tries the window at
//     o+len (as rsync's match.c prefers the next block), so data shifted by an
//     insertion or deletion costs a roll over about one piece, not a file.
//   - Block: a fixed-size slice of a signed basis (the last one may be
//     shorter). A Signature lists each block's weak checksum and strong sum
//     (the first bytes of its CRC-32C: the strong sum only has to separate
//     blocks with equal weak checksums; the piece's BLAKE3 hash is what
//     Apply trusts).
//   - Delta: the encoded token stream that rebuilds one piece: literal runs of
//     new bytes and copies of runs of basis blocks. Its header states the
//     block size, basis length and output length, so a decoder validates every
//     token against them before it touches any data.
//
// Bounds: collisions of the weak checksum are confirmed with one strong hash
// per window, compared with every candidate through a map (Find) or a chain
// capped at MaxChain entries per weak value (Diff). Strong hashes that fail
// are budgeted (a few per window length scanned), so data crafted to collide
// costs a bounded constant factor, never a quadratic scan.
//
// Encodings (version byte first, unsigned varints, no fixed 8-byte integers):
//
//	signature: 0x01 | uvarint blockSize | uvarint basisLen | byte strongLen |
//	           per block: weak uint32 little-endian, the first strongLen
//	           bytes of CRC-32C little-endian
//	delta:     0x01 | uvarint blockSize | uvarint basisLen | uvarint length |
//	           tokens until length bytes are produced, each uvarint h:
//	           h even: literal of h>>1 bytes, which follow;
//	           h odd:  copy of h>>1 blocks, then varint (zig-zag) first block
//	                   minus the block after the previous copy (0 at start).
//
// Sentinel errors: ErrBadSignature and ErrBadDelta (malformed or out-of-range
// encodings, including hostile token streams), ErrVersion (an encoding
// version this build does not know; wrapped together with one of the two
// others), ErrBasis (a delta made for a basis of another length), ErrMismatch
// (the rebuilt piece does not have the wanted hash), ErrTooLarge (an input
// beyond the limits below) and ErrBadRequest (invalid arguments to Find).
// Reading the basis fails with the reader's error wrapped, or with
// io.ErrUnexpectedEOF wrapped when the basis is shorter than its stated size.
package delta
