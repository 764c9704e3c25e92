// Package plan is the peer's planner: where each piece of a wanted file
// version comes from, and the work that fills a partial download that way.
//
// Terms:
//
//   - Wanted version: the manifest a pull is building (its pieces, in file
//     order, each with a BLAKE3 hash). Missing pieces: those its partial
//     download (chunkstore.Partial) does not hold yet.
//   - Basis: the old version of the file, still at its path until the new
//     one is renamed over it, with its manifest from the peer's index. It
//     is opened as a regular file only, never through a symlink.
//   - Source of a piece, cheapest first: Store (the chunk store holds the
//     hash, in any file or partial: 0 network bytes), Found (the rolling
//     search, delta.FindKnown, found it in the basis at some offset: 0
//     network bytes), Delta (rebuilt from a piece delta against the basis
//     bytes at its place, delta.BasisRange, fetched from a source: a
//     signature sent and a delta received), Whole (fetched whole from the
//     sources, transfer.Fetcher). Twin: one entry per hash — of the
//     missing pieces with one hash and one source only the first is
//     fetched or copied; writing it fills the others (manifest.Distinct).
//   - Edited in place: a short run of changed pieces between pieces both
//     versions hold at the same index (splitInPlace). Their old bytes are at
//     their own offset, so they go to Delta at once, without a search.
//   - Plan: one Step per missing piece, decided by Decide, a pure function
//     of plain values (the wanted manifest, which hashes the chunk store
//     holds, the basis's manifest and size, what the search found). Before
//     the search ran the pieces it is to look for are planned Search; the
//     executor decides again with its result.
//   - Executor: carries a plan out through small interfaces (ChunkStore,
//     Sink, DeltaFetcher, WholeFetcher, Counter). Store copies run beside
//     the basis's work (in-place deltas beside the search, then Found
//     copies, then the search's deltas), then whole pieces of what is not
//     in the store are fetched beside the local copy; every goroutine
//     belongs to an errgroup with a limit. Every piece is verified before
//     it is written (the chunk store's ReadPiece, the Sink's WritePiece;
//     the network fetcher verifies its own). Trouble with the basis, a
//     delta or a source leaves the piece missing for the caller's Fetch;
//     deltas stop once they do not pay (deltaGiveUp). Each file's outcome
//     is logged at debug level ("pieces planned").
package plan
