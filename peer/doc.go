// Package peer is the DartSync peer daemon (docs/ARCHITECTURE.md §5): it
// keeps its folders in sync with the other devices through a tracker. The
// folder rules (names, state, identity, pause, added and removed folders)
// are in folders.go and docs/FOLDERS.md; everything below is per folder.
//
// Parts (folder.go wires them; the Daemon owns their goroutines):
//
//   - folderGuard (folder_state.go): may the folder be synced now (marker,
//     pause); its loop owns the watcher.
//   - reporter (local.go, epoch.go): folder -> tracker: scan loop, local
//     diff, report, record, re-announce.
//   - handler (handler.go): the tracker client's callbacks: registrations,
//     updates stored as wants (through heldWrites, indexwrite.go).
//   - puller (pull.go, round.go): wants -> disk: pull rounds, fetch,
//     moves, deletions, flush (index, then ownership).
//   - applier (apply*.go, move.go, clash.go, dirdelete.go): each write of
//     a pull, checked right before it happens.
//   - planner (planner.go): where each piece comes from (peer/plan).
//   - versionKeeper (versions.go): the versions remote changes replace.
//   - syncState (state.go): the little state they share (paths being
//     applied or reported, ownership not announced, live peers, piece
//     size), under one mutex never held across I/O.
//
// The decisions (local diff, what to record, moves, the order of wants,
// what a deletion or a new version may do to the disk) are pure functions
// in peer/decide.
//
// Terms:
//
//   - Folder: a directory being synced (FolderConfig.Root) and its name on
//     the tracker (FolderConfig.Name). Every path the daemon
//     handles is folder-relative and passes manifest.ValidatePath.
//   - Index: what the peer last synced, per path (peer/index). A file whose
//     stat (size, mtime, inode and inode change time) matches its index
//     entry is unchanged; a file that differs is hashed, and if its content
//     differs it is a local edit, to be reported with base = the index's
//     file ID (a chmod or a new hard link only moves the change time: the
//     file is hashed once and restaged, nothing is reported).
//   - Local scan: peer/scan over the folder with the index as Prev, then a
//     diff against the index that yields `base -> new` changes, reported to
//     the tracker in batches. The watcher (peer/watch) decides when to scan.
//   - Want: a version the tracker announced (an Updates entry) that differs
//     from the index; stored in the index until applied.
//   - Held write: tracker updates (and wants to forget) whose index write
//     failed (disk full) stay in memory and are written with the next
//     write or the pull loop's retry; the index's Seq never passes an
//     update not stored, and no pull runs while anything is held
//     (indexwrite.go). An update for a path being applied is held until
//     its apply ends, and no apply begins on a path whose want is being
//     replaced: a version renamed into place is always its path's stored
//     want or its index entry.
//   - Puller: turns wants into files: directories first, then new paths,
//     then updates of existing paths, then deletions, so a renamed file's
//     pieces are still on disk when its new path is built (decide.Wants).
//     A round reads the wants a page at a time (index.WantsPage, walk
//     order), one walk per phase (pull_pages.go), as heads (no piece
//     lists), and decodes a file's manifest whole only when it moves or
//     fetches that file (pull_whole.go), so memory follows a page and the
//     files in flight, not the number of wants or the sizes they claim.
//     It logs one info line every few seconds while files arrive and one
//     when it ends (pull_progress.go); per-file lines are at debug level.
//     Each piece is planned (peer/plan, through the planner): copied from
//     the chunk store when any local file or partial has it, or found by
//     the rolling search in the old version of the file (zero network
//     bytes), else rebuilt from a delta against the old bytes or fetched
//     whole from every live owner at once
//     (peer/transfer).
//   - Apply: a complete partial is committed over the target only if the
//     target still matches the index (else it is a local edit: reported, and
//     the tracker decides the conflict), with mtime and exec bit set, then
//     staged in the index before anything else can see the new file, and the
//     tracker is told this peer owns the version. Single-piece files are
//     applied in batches (apply_batch.go): their data is made durable
//     together, each target is checked right before its own rename, each
//     touched directory is fsynced once, then the batch is staged and
//     announced.
//   - Conflict copy first (conflict_pending.go): an update or a deletion of
//     a synced file whose version is still wanted under a conflict name of
//     its path, and not built yet, is retried until a round has built that
//     copy from the file.
//   - GC boost (gc_boost.go): while a pull phase applies 64 or more
//     single-piece files, the garbage collector's target is raised
//     (Config.SmallFilesGC) within a soft memory limit (what the runtime
//     held plus max(16 MiB, a quarter)), then put back.
//   - Move: a new path whose version is exactly a local, unchanged file that
//     a tombstone of the same pull deletes is renamed there (a remote rename
//     costs neither network nor disk bytes).
//   - Clash: a file here, a directory of the same name elsewhere. The
//     tracker keeps the directory under the name and the file under its
//     conflict name, owned by the devices that have the file. Before a
//     directory replaces a synced file, the file is set aside (renamed) to a
//     path this pull wants its version at, so its bytes are never removed
//     while this peer may be their only owner (clash.go).
//   - Folder tombstone: a deleted directory that still holds synced,
//     unchanged contents waits (its want stays) until their own tombstones
//     have emptied it; one that holds local files not synced yet is kept,
//     and a scan reports them (dirdelete.go).
//   - Recovery: at start, before the tracker client runs, a path whose disk
//     state is exactly its stored want (a crash fell between a rename and
//     its index write) is recorded as that want applied, never reported as
//     a local edit (recover.go).
//   - Versions: before a remote change replaces or deletes a file, the old
//     file is kept in DIR/.dartsync/versions (peer/versions): hard-linked
//     there right before the new version is renamed over it (readyTarget,
//     so the path never goes missing), or moved there for a deletion or a
//     file a directory replaces (removeKept). A file that cannot be kept
//     is not replaced (retried); a move keeps nothing (nothing is lost);
//     the peer's own local edits keep nothing. Versions are never synced or
//     served (the scanner, watcher and chunk store never see the state
//     directory), are pruned in the background by age and size
//     (Config.KeepVersions, KeepVersionsSize, KeepVersionsPercent), and
//     `dartsync restore` puts one back as a new local edit.
//   - Ownership: after applying, the peer tells the tracker it owns the
//     version (an ownership announcement: tracker.Change.OwnershipOnly), so
//     other peers fetch from it too; a version superseded meanwhile is not
//     announced, and one the tracker deleted or replaced before the
//     announcement arrives is rejected by the tracker, never restored.
//   - Phantom (phantom.go): a wanted file version whose only owner is this
//     peer, which cannot build it from local data and never synced
//     anything at its path: it replaced the version by a local edit before
//     anyone fetched it, and a conflict then moved the version, owners and
//     all, to a conflict name. No device has it, so the peer reports its
//     deletion (a tombstone with the version as base) and every peer's
//     want for it settles as a deletion.
//   - Partial GC: between pull rounds (after a round that changed the set
//     of wanted file versions, and periodically) the pull loop removes
//     abandoned partial downloads (chunkstore.CollectPartials, gc.go):
//     superseded ones (no want has their file ID: a newer version is
//     wanted, or the local edit won and the want was dropped) and stalled
//     ones (no piece made durable for Config.PartialMaxAge, a day by
//     default). Pieces of an abandoned partial that a live want still
//     needs are not lost: while no other file or partial holds them, the
//     partial stays, and the want's own download copies them first (peer/plan:
//     the chunk store includes partials); the next collection removes it.
//     Nothing the puller opened is open then; the collection's reads and
//     deletes hold no lock.
//   - Re-announce: when the tracker answers a registration with
//     Reannounce (its state is new, restored from a backup, or did not shut
//     down cleanly: a new tracker.Epoch it does not hold complete), the peer
//     obeys nothing it was sent before. Its Registering hook forgets the
//     index's epoch and every stored want, durably, and stops the pull
//     loop; the scan loop, once every update of an earlier registration
//     was handled, drops those still held unstored and the wants they
//     made, then sends every index entry (live versions and
//     tombstones, each with its base and the path's history as ancestors)
//     with Client.Reannounce, reports the local changes a scan finds on the
//     same registration, records the tracker's epoch with sequence number
//     0, and ends the re-announce; the tracker then sends everything, and
//     the pull loop resumes. A version the tracker holds newer comes back
//     as an ordinary want; one of ours that lost a conflict is copied to its
//     conflict name first (epoch.go). A crash or lost connection before the
//     epoch is recorded re-announces again.
//   - Re-created content: a path deleted (the index holds its tombstone) and
//     created again is reported with the tombstone as base; the tracker takes
//     it as a new version even if it equals the deleted one.
//   - Rejection: a local version the tracker refused is not reported again
//     while the path's index entry and the tracker's sequence number stay
//     the same (rejected.go); any change of either, or a restart, lets it be
//     reported again.
//   - Refused name: a local file or directory whose name ValidatePath
//     refuses (longer than manifest.MaxNameLen bytes, a backslash, invalid
//     UTF-8) is skipped by the scan, never taken for deleted, and warned
//     about once (names.go).
//   - Ignored path: one the folder's ignore rules name (peer/ignore: the
//     defaults unless Config.NoDefaultIgnores, then DIR/.dartsyncignore;
//     ignore.go). It is never scanned, reported, fetched, overwritten or
//     deleted by a pull; its wants stay stored. The reporter reloads the
//     rules before every scan and when the watcher names the ignore file:
//     a path that becomes ignored stops syncing (no deletion is reported),
//     one that becomes un-ignored is scanned and pulled. Ignored
//     directories are not watched (a change of the rules starts a new
//     watcher). A remotely deleted directory that holds ignored files is
//     kept.
//   - Spelling: the names a path's directories list (spelling.go). On a
//     case-insensitive or normalization-insensitive file system a path
//     resolves under any spelling, so presence is decided by the listing: a
//     synced path listed only under another spelling that no synced path has
//     was renamed (foo -> Foo: a tombstone and a new path).
//   - Name clash: two synced paths that are one local file (a and A, or NFC
//     and NFD forms of one name). The peer keeps the one it has; the want of
//     the other is parked (case_twin.go): stored, not applied, neither pending
//     nor an edit (no retry loop, no rescan), logged once naming both paths,
//     and applied by a later pull once the clash is gone.
//   - Safe path: every write or delete happens below the folder through real
//     directories only; a symlink in a parent component refuses the write.
//   - Folder marker: DIR/.dartsync/folder (peer/marker) names the tracker
//     folder, this device and the absolute state directory. A folder whose
//     index holds no live entry (a first start) is created if missing and
//     marked; a folder marked by this device is synced (at start, a stale
//     state directory or folder name in the marker is rewritten).
//   - Paused: the folder is missing or lacks its marker while its index
//     holds files (a disk or share not mounted, the folder moved away), or
//     it is marked by another device (two peers never sync one folder).
//     Absence is not deletion: nothing is scanned, reported or applied, and
//     nothing (marker, partials, temporary files, parent directories) is
//     created in the folder. The peer logs why once, stays registered,
//     keeps serving the pieces it can and stores announced versions as
//     wants. The marker is checked every Config.FolderPoll, when the
//     watcher sees the root or DIR/.dartsync change, before every scan,
//     after its walk and after its diff (the disk may go, and come back,
//     during a scan: a deletion is reported only if the marker was found
//     after the walk and after the diff, with no pause seen and no new
//     mount of the folder since the scan began), before every pull and
//     right before each write of a pull (one lstat of the marker). When the marker is back the folder resumes: a
//     new watcher, a full scan, then a pull. At start only, an unmarked
//     folder that is provably the one indexed is marked instead (a folder
//     synced before markers existed, or whose marker was deleted by hand):
//     its index lives in it, or an indexed file is there unchanged (same
//     size, mtime and inode, which an empty mount point or another disk
//     cannot have). Stats report Paused and PausedReason.
//   - State inside the folder (the default, DIR/.dartsync): a folder that is
//     missing has no index either. Without a token to join (and, without
//     LAN discovery, a tracker address), New fails with ErrNoTracker and creates nothing; with them, it is a first
//     start (a new, empty member). Keep the state outside a removable disk
//     (--state) so a peer started while it is not mounted pauses instead.
//   - Write fault (write_faults.go): a want whose write failed for a
//     lasting cause: the disk is full (ENOSPC, EDQUOT), the path may not
//     be written (EACCES, EPERM, EROFS), or it is on another mount inside
//     the folder (EXDEV). It is warned about once per path and cause, not
//     retried at every round but after a backoff doubling from
//     Config.Retry up to two minutes, and at once when the file system has
//     room again (disk full: the pull loop checks every Config.FolderPoll).
//     While any lasts, the folder's Status state is "error" with the
//     reason; other wants go on, and the peer keeps serving. A download
//     starts only if the rest of its version fits beside what the
//     downloads under way still need (roomBook); the old file stays until
//     a complete version is renamed over it. A failing pull round or scan
//     (an index write on a full disk) is retried with the same backoff and
//     warned about once. The stores refuse a commit on a disk without room
//     for it (kvstore.Store.Room: Pebble cannot survive a failed log
//     write), and a peer whose stores cannot be opened for lack of room
//     waits for it (open_wait.go). A local path the scan cannot read is warned about
//     once per cause (names.go), never taken for deleted; a changed target
//     that cannot be read is a fault too (its edit could never be
//     reported: apply_fault.go), not a rescan at every round.
//   - Tracker address (discover.go): the one given (Config.TrackerAddr) or
//     remembered (the index's membership), else, with Config.LANDiscovery,
//     found on the LAN (internal/discovery): trackerResolver answers the
//     tracker Dialer before each dial. It looks on the LAN when no address
//     is known, when a dial at the known one failed (a query, answered at
//     once by the tracker; the known address is tried again after
//     lookAgain), briefly before the first dial of a run and before each
//     redial of a tracker heard on the LAN (lookAtStart: a tracker that
//     moved while the device was off or while it restarted), and takes an
//     address the tracker announced since (it restarted elsewhere). The dial pins the tracker's device ID, so an
//     announcement can change where the peer dials, never whom it joins; a
//     wrong identity at any address stops the peer (ErrTrackerIdentity) as
//     before, it is not a reason to look elsewhere. The address of each
//     registration is remembered (handler.Registered).
//   - Stats: counters of bytes and pieces moved, written to Config.StatsFile.
//   - Metrics: the Prometheus view of the same counters (peer/metrics,
//     metrics.go): a registry per Daemon, read from Stats at each scrape,
//     plus fetch latencies and pieces served (peer/transfer's observers)
//     and warnings and errors logged. MetricsHandler serves it; Run serves
//     it at /metrics on Config.MetricsAddr when that is set.
//   - Status (status*.go): Daemon.Status, the snapshot the local control
//     API serves (peer/localapi, docs/API.md): per folder (folderList) its
//     state, counts from the index (status_census.go, cached), and what it
//     does now (folderLive in syncState, status_live.go: small lock-cheap
//     hooks in the reporter, puller and applier; each fetch counts the bytes
//     written to its partial, status_transfer.go); the peers the tracker's
//     live lists showed; the last warnings and errors logged (errorRing,
//     status_errors.go). Run serves the API on STATE/control.sock (api.go)
//     and the parts publish events on its bus.
//   - Bandwidth limits (limits.go): Config.Bandwidth, held by the daemon's
//     bandwidth.Limiter (peer/bandwidth): the piece bytes its server sends
//     and its fetcher receives wait on one token bucket per direction,
//     shared by all transfers; the tracker connection never does.
//     SetLimits changes them while the daemon runs (the local API's
//     POST /v1/limits).
//
// Sentinel errors: ErrUnsafePath (a path would leave the folder),
// ErrNoTracker (no index and no tracker to join).
package peer
