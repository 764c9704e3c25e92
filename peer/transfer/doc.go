// Package transfer moves piece data between DartSync peers (docs/ARCHITECTURE.md §5): the
// peer-to-peer protocol (peer/peerpb), the piece server (uploader) and the
// multi-source fetcher (the network half of the puller).
//
// Terms:
//
//   - Piece: a byte range of a file, named only by the BLAKE3-256 hash of its
//     bytes (manifest.Piece). Requests name pieces by hash and expected
//     length, never by path; a server can serve nothing but content its
//     PieceSource holds and has verified.
//   - Request stream: one bidirectional QUIC stream per request (see
//     peer/peerpb/peer.proto). Streams are cheap in QUIC, independent of one
//     another (no head-of-line blocking between pieces), and a request is
//     cancelled by resetting its stream.
//   - Delta request: a piece asked for as an rsync delta against bytes the
//     requester already has (package delta): signature in, delta out; the
//     requester rebuilds and verifies the piece (Fetcher.FetchDelta). Any
//     failure means: fetch the whole piece.
//   - Source: a peer that owns the wanted file version: its device ID and
//     address. Connections to sources are pinned to the device ID.
//   - Partial holder (swarming, swarm_*.go; docs/PROTOCOL.md "Swarming"): a
//     source that may hold only some pieces of the version, being a
//     downloader of it too (Source.Partial). A fetch asks it every HavePoll
//     which pieces it holds (HaveRequest: a bitfield of what its partial
//     download holds durably, HaveSource on the server side) and requests
//     only those; a swarming fetch syncs its own sink as often (Syncer) so
//     that what it received is servable. Holding is a hint: pieces are
//     verified as from any source, and a holder that sends a bad one is
//     dropped.
//   - Rarest first: in a fetch with partial holders the waiting items are
//     shuffled once and each source takes, among the next few it may
//     serve, the item the fewest holders have; an owner takes this
//     downloader's stripe first and, once holders have pieces, at most
//     swarmOwnerWindow requests at a time (swarm_sched.go).
//   - Window: the requests a fetcher keeps in flight to one source, bounded
//     both in count (FetchOptions.Window) and bytes (FetchOptions.WindowBytes),
//     so the pipe to every source stays full without unbounded memory.
//   - Work item: one distinct piece hash still missing from a file, with every
//     index of the file that holds it; identical pieces are fetched once and
//     written to each index.
//   - Endgame: once no work item is waiting, a source with a free window slot
//     duplicates the oldest outstanding item of another source; the first
//     verified copy wins and the other request is cancelled.
//   - Dropped source: a source that sent a bad piece, broke the protocol, lost
//     its connection or timed out is used no more for this file; its
//     outstanding items go back to the queue.
//   - Member: a device the Authorizer accepts (the tracker's member list).
//     A server answers nobody else, and Server.CloseNonMembers closes the
//     connections of devices that stopped being members (the peer calls it
//     on every new peer list: a removed member is cut off at once).
//   - Remote limits: what one member may cost the server, each checked
//     before the bytes it bounds are read (server_limits.go): its
//     connections (MaxRemoteConns), its open request streams
//     (DefaultRemoteQueue), the request bytes it has in hand
//     (MaxRemoteRequestBytes; all members: MaxServerRequestBytes), the
//     time to send a request, and the piece bytes buffered for it. Over a
//     limit, that stream is answered BUSY or that connection closed; the
//     other members are served.
//   - Bandwidth limit: a peer/bandwidth.Limiter shared by the server
//     (WithBandwidth: its piece data waits on the send limit) and the
//     fetcher (FetchOptions.Bandwidth: what it receives waits on the
//     receive limit), bandwidth.go; the waits are fair between streams.
//   - Observer: who is told about pieces as they move, for metrics
//     (observe.go): FetchOptions.Observe for every piece a fetcher used,
//     with its latency; WithServed for every response a server sent. They
//     must not block. Fetcher.Load and Server.Remotes tell the work in hand.
//
// Lifecycle: a Server is long-running in the same shape as tracker.Server
// and peer.Daemon (NewServer, then Serve(ctx, l) until ctx ends, which
// closes every connection it accepted and waits for their goroutines); it
// is handed its listener, which the caller owns and closes. A Fetcher is not
// long-running: it is a resource (a connection pool and buffers) used by
// Fetch calls, released by Close.
//
// Sentinel errors (compare with errors.Is): ErrNotFound, ErrBusy,
// ErrForbidden, ErrBadRequest (answers of a remote server), ErrProtocol (a
// remote broke the protocol), ErrBadPiece (data whose hash does not match),
// ErrNoSources (a fetch ran out of usable sources), ErrClosed (the Fetcher
// or Server was closed), ErrSignatureTooLarge (a delta basis too large to
// sign within the protocol's limit).
package transfer
