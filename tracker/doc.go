// Package tracker is the DartSync tracker — the always-on node that decides
// the order of changes — and the client peers use to talk to it (docs/ARCHITECTURE.md
// §3, §4, §8). The wire protocol is specified in trackerpb/tracker.proto.
//
// Terms:
//
//   - Member: a device (identified by its certificate's device ID) that once
//     proved the join token's secret. Membership is durable; afterwards the
//     certificate alone admits the device.
//   - Token: the tracker's device ID plus a random 128-bit secret, printed as
//     one string "<device ID>:<base32 secret>" (see Token).
//   - Grant: the folders a member may sync (Grant): every folder, or exactly
//     the named ones. The tracker's own token (join.token) grants every
//     folder, as does membership in a state written before grants existed;
//     an issued token (store.issueToken, `dartsync tracker token`) has the
//     same form with another secret and grants the folders it was issued
//     for, until it expires. The tracker stores only a hash of an issued
//     secret. A member learns names, owners and peers only of folders its
//     grant includes (docs/ACCESS.md): it cannot register another folder,
//     and owner lists leave out devices not granted the entry's folder.
//   - Removed device: a former member the owner removed (`dartsync tracker
//     members remove`). The tracker keeps when (access_revoke.go) and refuses
//     it from then on, unless it presents a secret made after its removal
//     (an issued token, or the tracker's own token rotated since).
//   - Rotation: `dartsync tracker token --rotate` replaces the tracker's own
//     secret (and join.token). The former secret is retired: members
//     presenting it are still admitted, a new device is refused.
//   - Peer: a member with a live session of a folder: a control stream on
//     its connection, which carries one stream per folder the device syncs
//     (a Dialer shares the connection between a device's Clients). It is
//     dropped when its stream or connection ends or it sends nothing for
//     the peer timeout; the other peers of its folder are then told (PEERS).
//     An error on one stream ends only that stream.
//   - Entry: the current state of one (folder, path): its manifest, its
//     owners (the members that reported exactly this file ID) and its
//     sequence number.
//   - Sequence number: global and strictly increasing; every change of an
//     entry (new version, new owner, conflict copy) takes the next one.
//   - Change log: sequence number -> path, holding only each path's latest
//     sequence number, so "everything since N" is one ordered scan that
//     returns each changed path once.
//   - Compare-and-set (CAS): the rules that accept, merge, split or reject a
//     reported change, in order; see store.apply, docs/ARCHITECTURE.md §3 (and FileUpdate in
//     tracker.proto). Re-created content (base = the current tombstone, or no
//     base) is a new version, even if it equals the deleted one.
//   - Ownership announcement: a change with Change.OwnershipOnly set; the
//     device has exactly that version and only asks to be its owner. It never
//     creates, changes or resurrects a version: unless it names the current
//     version it is rejected ("superseded").
//   - Epoch: one run of the tracker on its state (Epoch). A clean shutdown
//     records that the epoch ended; a peer of the current epoch, or of one
//     the state holds complete, resumes from its last sequence number. Any
//     other peer (no epoch, a state restored from a backup, lost, or after
//     a crash) re-announces first.
//   - Re-announce: a peer's whole index sent back to the tracker
//     (Client.Reannounce), applied by the re-announce rules (reannounce.go)
//     so that the newest version of each path wins and nothing is rolled
//     back; the session pushes nothing until REANNOUNCE_DONE, then
//     everything.
//   - Path history: the file IDs a path held before its current version
//     (at most maxHistory): the proof that a re-announced version is older.
//   - Path chain: the same, in order, newest first, repeats included (X,
//     deleted, X again): it orders a re-announced version and the current
//     one when each is in the other's past (content that came back).
//   - Limits: what one device, and all of them, may cost the tracker,
//     each checked before the bytes it bounds are read (limits.go):
//     connections per device and in total (members and devices not yet
//     members apart), control streams per connection, and frame budgets
//     (a large frame is admitted from its declared length or refused
//     unread). Over a limit, that connection or stream is closed with a
//     message naming it; the other devices are served.
//   - Conflict copy: the version that lost a concurrent edit, kept under
//     ConflictName(path, mtime, device), shortened to fit the name limits.
//
// The tracker commits every change to its bbolt store (state.db in the state
// directory) before it answers or pushes it; concurrent batches from several
// peers share one transaction (group commit). Its memory holds no per-file
// data: the store is the files table, and pushes copy stored manifests into
// the wire encoding without decoding them. What it keeps in memory for its
// dashboard and metrics are totals (aggregate.go: per folder, per member, the
// last changes) and the conflict index (one record per live conflict copy),
// updated by each commit, which records the totals and the conflict index in
// the state too (schema 2, aggregate_persist.go), so that opening reads them
// instead of scanning the files table; overview.go reads them, never the
// files table. The state is memory-mapped: the pages a read maps are
// released every second and whenever the reads since the last release may
// have mapped 16 MiB (release.go), so the tracker's resident set stays small
// whatever the number of files (1 000 000 files x 16 peers: about 30 MiB,
// BenchmarkTrackerScale).
//
// Lifecycle (as peer.Daemon): New(ServerConfig) opens the state and the
// listener, so Addr and Token are known before serving; Run(ctx) serves
// until ctx ends and then releases everything New opened. A Client is the
// same with NewClient and Run (it opens nothing before Run).
//
// Pushes: each session has one writer goroutine that owns the stream's
// writes. It keeps a cursor (the last sequence number sent) and, when woken
// after a commit, sends everything in the change log past the cursor. A
// slow peer therefore never makes the tracker queue messages: changes to
// the same path made while it lagged reach it once, as the current entry.
// Registration starts the cursor at the peer's last sequence number, which
// is how a reconnecting peer gets exactly what it missed; a re-announcing
// peer's writer sends no entry until REANNOUNCE_DONE, then everything.
//
// Restarts: a Client reconnects 50–100 ms after its connection ended
// (DefaultMinBackoff), doubling while dials fail. A connection nothing was
// written on for a second (ClientConfig.Probe) gets a padded keep-alive, the
// probe, so a tracker killed and restarted since resets it at once
// (stateless reset, internal/transport) instead of leaving it to its idle
// timeout.
//
// Sentinel errors (test with errors.Is):
//
//   - ErrWrongToken: the tracker refused the join secret.
//   - ErrNotMember: the device has not joined and presented no secret.
//   - ErrTrackerIdentity: the tracker's certificate is not the one pinned by
//     the token.
//   - ErrBadToken: a token string could not be parsed.
//   - ErrTrackerRunning: OpenStateAdmin found the state held by a running
//     tracker (use its admin socket).
//   - ErrProtocol: the other side broke the protocol (bad or oversized frame,
//     unexpected message).
//   - ErrTooLarge: a frame, batch or list exceeded a protocol limit.
//   - ErrNotConnected: Client.Update lost its connection before the answer;
//     the changes may or may not have been applied, and sending them again
//     is safe (a version that is already current only adds an owner).
//   - ErrFolderNotShared: the device is a member, but the folder it
//     registered is not shared with it (ERROR_FOLDER_NOT_SHARED); only that
//     folder's stream ends, and Client.Run returns it.
package tracker
